/* Timeline steps in the page, timed from the call to the paint (perf/scenarios.py, bench_browser).

   Called by Playwright's page.evaluate with [dates, gap, mapId]: for each date, window.frontline.setIndex
   (as a slider move does), then wait for the map element's data-painted=DATE and one animation frame.
   Returns {ms, fetch, lost}: the step times, the part of each spent waiting for /data/
   responses (0 when the browser had them), and the dates never painted within 10 s. */
async ([dates, gap, mapId]) => {
  const fl = window.frontline, el = document.getElementById(mapId);
  const raf = () => new Promise(r => requestAnimationFrame(() => r()));
  const sleep = ms => new Promise(r => setTimeout(r, ms));
  const out = [], fetch = [], lost = [];
  performance.setResourceTimingBufferSize(100000);
  for (const d of dates) {
    if (fl.state.date === d) continue;
    performance.clearResourceTimings();
    const done = new Promise(resolve => {
      const mo = new MutationObserver(() => {
        if (el.getAttribute('data-painted') === d) { mo.disconnect(); resolve(true); }
      });
      mo.observe(el, {attributes: true, attributeFilter: ['data-painted']});
      setTimeout(() => { mo.disconnect(); resolve(false); }, 10000);
    });
    const t0 = performance.now();
    fl.setIndex(fl.dayIndex(d), true);
    const ok = await done;
    await raf();
    if (ok) {
      out.push(performance.now() - t0);
      // The part spent waiting for /data/ responses (0 when the browser had them cached).
      const ends = performance.getEntriesByType('resource')
        .filter(e => e.name.indexOf('/data/') >= 0 && e.startTime >= t0).map(e => e.responseEnd - t0);
      fetch.push(ends.length ? Math.max(...ends) : 0);
    } else lost.push(d);
    await sleep(gap);
  }
  return {ms: out, fetch: fetch, lost: lost};
}
