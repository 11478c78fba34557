/**
 * Edge geometry: an SVG path's `d` and, beside it, the same curve sampled
 * as a polyline with its cumulative length, so a notification's dot can be
 * placed at any fraction of the way without asking the DOM
 * (getPointAtLength) every frame. Pure: no DOM.
 */

export interface Pt {
  x: number;
  y: number;
}

export class PathGeom {
  /** Total length, px. */
  readonly length: number;

  constructor(
    readonly d: string,
    /** x0, y0, x1, y1, … (plain arrays: thousands of small typed arrays per layout would cost more in GC than they save). */
    private readonly pts: readonly number[],
    /** Cumulative length at each point. */
    private readonly cum: readonly number[],
  ) {
    this.length = cum.length === 0 ? 0 : cum[cum.length - 1]!;
  }

  /** The largest x the path reaches. */
  get maxX(): number {
    let m = -Infinity;
    for (let i = 0; i < this.pts.length; i += 2) m = Math.max(m, this.pts[i]!);
    return m;
  }

  get start(): Pt {
    return { x: this.pts[0] ?? 0, y: this.pts[1] ?? 0 };
  }

  get end(): Pt {
    const n = this.pts.length;
    return { x: this.pts[n - 2] ?? 0, y: this.pts[n - 1] ?? 0 };
  }

  /** The point at fraction `t` (0..1) of the length, written into `out` (no allocation on the hot path). */
  at(t: number, out: Pt): Pt {
    const n = this.cum.length;
    if (n === 0) {
      out.x = 0;
      out.y = 0;
      return out;
    }
    const want = Math.min(1, Math.max(0, t)) * this.length;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cum[mid]! < want) lo = mid + 1;
      else hi = mid;
    }
    if (lo === 0) {
      out.x = this.pts[0]!;
      out.y = this.pts[1]!;
      return out;
    }
    const a = this.cum[lo - 1]!;
    const seg = this.cum[lo]! - a;
    const f = seg === 0 ? 0 : (want - a) / seg;
    out.x = this.pts[2 * (lo - 1)]! + (this.pts[2 * lo]! - this.pts[2 * (lo - 1)]!) * f;
    out.y = this.pts[2 * (lo - 1) + 1]! + (this.pts[2 * lo + 1]! - this.pts[2 * (lo - 1) + 1]!) * f;
    return out;
  }
}

const r1 = (n: number): string => String(Math.round(n * 10) / 10);

/** Builds a path from lines and curves, sampling the curves as it goes. */
export class PathBuilder {
  private d: string[] = [];
  private pts: number[] = [];
  private x = 0;
  private y = 0;

  moveTo(p: Pt): this {
    this.d.push(`M${r1(p.x)} ${r1(p.y)}`);
    this.point(p.x, p.y);
    return this;
  }

  lineTo(p: Pt): this {
    this.d.push(`L${r1(p.x)} ${r1(p.y)}`);
    this.point(p.x, p.y);
    return this;
  }

  quadTo(c: Pt, p: Pt, samples = 6): this {
    const { x: x0, y: y0 } = this;
    this.d.push(`Q${r1(c.x)} ${r1(c.y)} ${r1(p.x)} ${r1(p.y)}`);
    for (let i = 1; i <= samples; i++) {
      const t = i / samples;
      const u = 1 - t;
      this.point(u * u * x0 + 2 * u * t * c.x + t * t * p.x, u * u * y0 + 2 * u * t * c.y + t * t * p.y);
    }
    return this;
  }

  cubicTo(c1: Pt, c2: Pt, p: Pt, samples = 20): this {
    const { x: x0, y: y0 } = this;
    this.d.push(`C${r1(c1.x)} ${r1(c1.y)} ${r1(c2.x)} ${r1(c2.y)} ${r1(p.x)} ${r1(p.y)}`);
    for (let i = 1; i <= samples; i++) {
      const t = i / samples;
      const u = 1 - t;
      const a = u * u * u;
      const b = 3 * u * u * t;
      const c = 3 * u * t * t;
      const e = t * t * t;
      this.point(a * x0 + b * c1.x + c * c2.x + e * p.x, a * y0 + b * c1.y + c * c2.y + e * p.y);
    }
    return this;
  }

  build(): PathGeom {
    const pts = this.pts;
    const n = pts.length / 2;
    const cum: number[] = n === 0 ? [] : [0];
    for (let i = 1; i < n; i++) cum.push(cum[i - 1]! + Math.hypot(pts[2 * i]! - pts[2 * i - 2]!, pts[2 * i + 1]! - pts[2 * i - 1]!));
    return new PathGeom(this.d.join(''), pts, cum);
  }

  private point(x: number, y: number): void {
    this.pts.push(x, y);
    this.x = x;
    this.y = y;
  }
}

/** A polyline through `points` with its corners rounded (radius shrinks on short legs). */
export function orthogonal(points: readonly Pt[], radius = 8): PathGeom {
  const b = new PathBuilder();
  const pts = points.filter((p, i) => i === 0 || p.x !== points[i - 1]!.x || p.y !== points[i - 1]!.y);
  if (pts.length === 0) return b.build();
  b.moveTo(pts[0]!);
  for (let i = 1; i < pts.length - 1; i++) {
    const prev = pts[i - 1]!;
    const c = pts[i]!;
    const next = pts[i + 1]!;
    const lin = Math.hypot(c.x - prev.x, c.y - prev.y);
    const lout = Math.hypot(next.x - c.x, next.y - c.y);
    const r = Math.min(radius, lin / 2, lout / 2);
    if (r <= 0.5) {
      b.lineTo(c);
      continue;
    }
    b.lineTo({ x: c.x - ((c.x - prev.x) / lin) * r, y: c.y - ((c.y - prev.y) / lin) * r });
    b.quadTo(c, { x: c.x + ((next.x - c.x) / lout) * r, y: c.y + ((next.y - c.y) / lout) * r });
  }
  if (pts.length > 1) b.lineTo(pts[pts.length - 1]!);
  return b.build();
}

/** An S-curve from `a` (leaving rightwards) to `b` (arriving from the left). */
export function sCurve(a: Pt, b: Pt): PathGeom {
  const dx = Math.max(24, (b.x - a.x) / 2);
  return new PathBuilder()
    .moveTo(a)
    .cubicTo({ x: a.x + dx, y: a.y }, { x: b.x - dx, y: b.y }, b)
    .build();
}
