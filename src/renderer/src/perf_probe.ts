/**
 * A hook for measuring the page while a session streams (the e2e
 * responsiveness check now; the full frame-time benchmark later): with
 * `perf=1` in the page's address, the longest gap between animation frames
 * and the long tasks are recorded in window.__xenlabPerf.
 */
export interface PerfProbe {
  frames: number;
  maxFrameGapMs: number;
  /** Frames that took longer than 50 ms. */
  slowFrames: number;
  longTasks: number;
  reset(): void;
}

declare global {
  interface Window {
    __xenlabPerf?: PerfProbe;
  }
}

export function startPerfProbe(): void {
  if (new URLSearchParams(location.search).get('perf') !== '1') return;
  const p: PerfProbe = {
    frames: 0,
    maxFrameGapMs: 0,
    slowFrames: 0,
    longTasks: 0,
    reset() {
      this.frames = 0;
      this.maxFrameGapMs = 0;
      this.slowFrames = 0;
      this.longTasks = 0;
      last = performance.now();
    },
  };
  window.__xenlabPerf = p;
  let last = performance.now();
  const tick = (t: number): void => {
    const gap = t - last;
    last = t;
    p.frames++;
    if (gap > p.maxFrameGapMs) p.maxFrameGapMs = gap;
    if (gap > 50) p.slowFrames++;
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  try {
    new PerformanceObserver((list) => (p.longTasks += list.getEntries().length)).observe({ type: 'longtask', buffered: false });
  } catch {
    // no long task timing here
  }
}
