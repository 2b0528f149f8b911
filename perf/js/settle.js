/* Steps until the whole page settles: the last DOM mutation after an input (perf/scenarios.py).

   Called by Playwright's page.evaluate with [steps, mapId, quiet, gap]; `steps` is a list of
   {key: "ArrowLeft"} (a key pressed on the page, as a reader steps the dashboard's timeline) or
   {set: [id, props]} (dash_clientside.set_props, as a reader types a date into the baseline's box
   and presses Enter). For each: a MutationObserver on the whole document (children, attributes,
   text) notes the time of every change; the step has settled when `quiet` ms pass without one,
   no request made with fetch (Dash's callbacks, the map's and the panels' data) is in flight and
   Dash shows no pending callback.
   Returns {page, map, lost}: per step, ms from the input to the last change anywhere, and to the
   last change inside the element mapId (null when there is no such element: the baseline), and the steps
   with no change within 10 s. */
async ([steps, mapId, quiet, gap]) => {
  const sleep = ms => new Promise(r => setTimeout(r, ms));
  if (!window.__settleFetches) {  // count the requests in flight
    window.__settleFetches = {n: 0};
    const orig = window.fetch;
    window.fetch = function () {
      window.__settleFetches.n++;
      const done = () => { window.__settleFetches.n--; };
      const p = orig.apply(this, arguments);
      p.then(done, done);
      return p;
    };
  }
  const busy = () => window.__settleFetches.n > 0 || !!document.querySelector("._dash-loading-callback");
  const mapEl = mapId ? document.getElementById(mapId) : null;
  const page = [], map = [], lost = [];
  for (let k = 0; k < steps.length; k++) {
    const s = steps[k];
    let last = null, lastMap = null;
    const mo = new MutationObserver(records => {
      const t = performance.now();
      last = t;
      if (mapEl && records.some(r => mapEl.contains(r.target))) lastMap = t;
    });
    mo.observe(document.documentElement, {subtree: true, childList: true, attributes: true, characterData: true});
    const t0 = performance.now();
    if (s.key) {
      const target = document.activeElement && document.activeElement !== document.body ? document.activeElement : document.body;
      target.dispatchEvent(new KeyboardEvent("keydown", {key: s.key, code: s.key, bubbles: true, cancelable: true}));
    } else {
      window.dash_clientside.set_props(s.set[0], s.set[1]);
    }
    // Settled: `quiet` ms without a change (at most 10 s).
    while (performance.now() - t0 < 10000) {
      await sleep(20);
      if (last !== null && performance.now() - last >= quiet && !busy()) break;
    }
    mo.disconnect();
    if (last === null) { lost.push(k); continue; }
    page.push(last - t0);
    map.push(lastMap === null ? null : lastMap - t0);
    await sleep(gap);
  }
  return {page: page, map: map, lost: lost};
}
