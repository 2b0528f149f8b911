/* Playback in the page at a set speed (perf/scenarios.py, bench_browser).

   Called by Playwright's page.evaluate with [startIdx, n, speed, mapId, panelId]: shows day startIdx,
   plays n days at `speed` days/s, and returns the days painted and when (window.frontline.paintLog)
   beside the days it passed, so skipped days can be counted; with panelId (the window summary,
   whose title ends with its day: "… → YYYY-MM-DD (…"), the days the side panel showed too. */
async ([startIdx, n, speed, mapId, panelId]) => {
  const fl = window.frontline, el = document.getElementById(mapId);
  const panel = panelId ? document.getElementById(panelId) : null, panels = [];
  const mo = panel && new MutationObserver(() => {
    const m = /→ (\d{4}-\d{2}-\d{2})/.exec(panel.textContent || "");
    if (m && panels[panels.length - 1] !== m[1]) panels.push(m[1]);
  });
  if (mo) mo.observe(panel, {subtree: true, childList: true, characterData: true});
  const sleep = ms => new Promise(r => setTimeout(r, ms));
  const start = fl.meta.days[startIdx];
  if (fl.state.date !== start) {
    fl.setIndex(startIdx, false);
    for (let i = 0; i < 500 && el.getAttribute('data-painted') !== start; i++) await sleep(20);
  }
  await sleep(300);
  fl.setSpeed(speed);
  const t0 = performance.now();
  const endIdx = Math.min(fl.meta.days.length - 1, startIdx + n);
  fl.play();
  const deadline = t0 + Math.max(15000, n * 1000 / speed * 4);
  while (performance.now() < deadline && fl.dayIndex(fl.state.date) < endIdx) await sleep(20);
  for (let i = 0; i < 100 && el.getAttribute('data-painted') !== fl.state.date; i++) await sleep(10);
  fl.pause();
  await sleep(500);  // the last day's panels
  if (mo) mo.disconnect();
  const reached = fl.dayIndex(fl.state.date);
  const log = fl.paintLog.filter(p => p.t >= t0);
  return {start: startIdx, reached: reached, painted: log.map(p => p.date), t: log.map(p => p.t - t0),
          expected: fl.meta.days.slice(startIdx + 1, reached + 1), panels: panels};
}
