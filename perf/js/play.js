/* Playback in the page at a set speed (perf/scenarios.py, bench_browser).

   Called by Playwright's page.evaluate with [startIdx, n, speed, mapId]: shows day startIdx, plays
   n days at `speed` days/s, and returns the days painted and when (window.frontline.paintLog)
   beside the days it passed, so skipped days can be counted. */
async ([startIdx, n, speed, mapId]) => {
  const fl = window.frontline, el = document.getElementById(mapId);
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
  const reached = fl.dayIndex(fl.state.date);
  const log = fl.paintLog.filter(p => p.t >= t0);
  return {start: startIdx, reached: reached, painted: log.map(p => p.date), t: log.map(p => p.t - t0),
          expected: fl.meta.days.slice(startIdx + 1, reached + 1)};
}
