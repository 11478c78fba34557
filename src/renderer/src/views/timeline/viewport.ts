/**
 * The visible time range and how it moves: zoom about a point, pan by
 * pixels, fit a range, and follow the live edge while the session runs.
 *
 * Following: `auto` (a new session) shows the whole trace until it spans
 * more than AUTO_SPAN, then keeps the last AUTO_SPAN in view (`edge`);
 * `all` keeps fitting the whole trace (after Zoom to fit); `edge` keeps the
 * user's zoom with the newest time at the right; `off` (the user panned
 * away) stays put.
 */

export type Follow = 'auto' | 'all' | 'edge' | 'off';

/** The narrowest and widest views, ns across the plot. */
export const MIN_SPAN = 10;
export const MAX_SPAN = 1e16;
/** A new session's view: the whole trace until it is longer than this (ns), then the last this much. */
export const AUTO_SPAN = 100e6;
/** Room kept right of the live edge, as a share of the span. */
const EDGE_ROOM = 0.03;

export class Viewport {
  t0 = 0;
  span = 1e6;
  /** The plot's width, px. */
  width = 1;
  follow: Follow = 'auto';

  get t1(): number {
    return this.t0 + this.span;
  }

  get nsPerPx(): number {
    return this.span / this.width;
  }

  /** x (px from the plot's left) of a time. */
  x(t: number): number {
    return ((t - this.t0) / this.span) * this.width;
  }

  time(x: number): number {
    return this.t0 + (x / this.width) * this.span;
  }

  /** Zooms by `factor` (< 1 in, > 1 out) keeping the time under x where it is. */
  zoomAt(factor: number, x: number): void {
    const at = this.time(x);
    this.span = clampSpan(this.span * factor);
    this.t0 = at - (x / this.width) * this.span;
  }

  /** Moves the view by `dx` px (positive: later times come into view). */
  pan(dx: number): void {
    this.t0 += dx * this.nsPerPx;
  }

  /** Shows [from, to] with a little room either side. */
  fit(from: number, to: number): void {
    const len = Math.max(to - from, 0);
    this.span = clampSpan(Math.max(len * 1.06, 1000));
    this.t0 = len === 0 ? from - this.span / 2 : from - len * 0.03;
  }

  /** Shows `t` at the middle, keeping the zoom. */
  center(t: number): void {
    this.t0 = t - this.span / 2;
  }

  /**
   * Keeps some of [start, end] (the trace) in view: the view may not go more than 5% of its
   * width before the trace's start, nor leave it all behind.
   */
  clamp(start: number, end: number): void {
    const room = this.span * 0.05;
    if (this.t0 > end - room) this.t0 = end - room;
    if (this.t0 < start - room) this.t0 = start - room;
  }

  /** Applies the follow mode for a trace that spans [start, edge] now. */
  track(start: number, edge: number): void {
    switch (this.follow) {
      case 'auto':
        if (edge - start <= AUTO_SPAN) this.fit(start, edge);
        else {
          this.follow = 'edge';
          this.span = AUTO_SPAN;
          this.keepEdge(edge);
        }
        break;
      case 'all':
        this.fit(start, edge);
        break;
      case 'edge':
        this.keepEdge(edge);
        break;
      case 'off':
        break;
    }
  }

  private keepEdge(edge: number): void {
    this.t0 = edge - this.span * (1 - EDGE_ROOM);
  }
}

function clampSpan(s: number): number {
  return Math.min(MAX_SPAN, Math.max(MIN_SPAN, s));
}
