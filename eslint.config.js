// ESLint for the browser code: assets/ (vendored Leaflet excluded) and the benchmark's in-page
// code perf/js/. Run by `./dev lint` (or: npm ci && npx eslint assets perf/js).
const js = require("@eslint/js");
const globals = require("globals");

module.exports = [
  { ignores: ["assets/vendor/**", "node_modules/**"] },
  js.configs.recommended,
  {
    files: ["assets/**/*.js"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "script",
      globals: { ...globals.browser, L: "readonly" },
    },
    rules: {
      "no-unused-vars": ["error", { args: "none" }],
      eqeqeq: ["error", "always"],
      "no-var": "off",
    },
  },
  {
    // Each file is one function expression that Playwright's page.evaluate runs in the page.
    files: ["perf/js/*.js"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "script",
      globals: globals.browser,
    },
    rules: {
      "no-unused-vars": ["error", { args: "none" }],
      eqeqeq: ["error", "always"],
    },
  },
];
