// ESLint for the browser code in assets/ (vendored Leaflet excluded):
//   npm ci && npx eslint assets --ignore-pattern assets/vendor
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
];
