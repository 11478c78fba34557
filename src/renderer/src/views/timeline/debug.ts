/**
 * The shapes of the timeline's test hook (`window.__xenlabTimeline` with
 * debug=1 in the page's address), apart from the view so that end-to-end
 * tests and the UI benchmark, which have no DOM types, can import them.
 */

/** An arrow drawn from a cause to its effect, in page coordinates. */
export interface DrawnFlow {
  cause: number;
  effect: number;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** What the timeline computed and drew last. */
export interface TimelineState {
  t0: number;
  t1: number;
  follow: string;
  records: number;
  lanes: { key: number; role: string; dom: number; vcpu: number; label: string; records: number; mode: string }[];
  selected: number;
  recordsInView: number;
  flowsInView: number;
  flowsDrawn: number;
  frames: number;
  drawMsMax: number;
  drawMsMean: number;
  scrollY: number;
  plot: { x: number; y: number; width: number; height: number };
}
