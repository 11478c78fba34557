/**
 * Draws the timeline on one canvas, in device pixels (devicePixelRatio-aware):
 * the lanes' backgrounds and, where a lane holds more records in view than
 * its width can show one by one, density bars (records per pixel column,
 * stacked by mark, log-scaled) written straight into an ImageData; then, with
 * the 2D context, the marks of the sparse lanes (one path per kind of mark),
 * the notification arrows (thinned when there are too many), the time axis,
 * the lane names, the selection and the live edge. Nothing here allocates
 * per record; the buffers are kept from frame to frame.
 */
import { axisTicks, type Ticks } from './axis.js';
import type { LaneLayout, LaneRow } from './lanes.js';
import { type IndexColumns, type LaneRecords, type TimelineIndex } from './lod.js';
import { MARK, MARK_COUNT } from './marks.js';
import type { Palette } from './palette.js';
import type { Viewport } from './viewport.js';

/** Left column (lane names) and top band (the axis), CSS px. */
export const GUTTER = 118;
export const AXIS_H = 20;
/**
 * Most arrows drawn in a frame: one per ARROW_PX of the plot's width (zoomed out, thousands of
 * notifications would only veil the lanes); more are thinned (every k-th).
 */
export const ARROW_PX = 8;
const MIN_ARROWS = 64;
/** A lane draws its records one by one when it has at most max(MIN_GLYPHS, width / GLYPH_PX) in view. */
const GLYPH_PX = 3;
const MIN_GLYPHS = 64;

/** Bottom to top in a density bar. */
const STACK = [MARK.state, MARK.hypercall, MARK.send, MARK.raise, MARK.upcall, MARK.handler, MARK.console, MARK.message, MARK.lifecycle, MARK.fault];
/** Drawing order of marks (later on top). */
const GLYPH_ORDER = STACK;
/** Per mark, its place in the drawing order (higher: on top). */
export const DRAW_RANK = (() => {
  const r = new Uint8Array(MARK_COUNT);
  GLYPH_ORDER.forEach((m, i) => (r[m] = i));
  return r;
})();

export interface Frame {
  cols: IndexColumns;
  index: TimelineIndex;
  vp: Viewport;
  layout: LaneLayout;
  scrollY: number;
  /** Bit m set: mark m is hidden. */
  hidden: number;
  arrows: boolean;
  selected: number;
  hover: number;
  /** The live edge (the session's clock), or NaN. */
  edge: number;
  /** Collect the drawn arrows' coordinates (the test hook). */
  collectFlows: boolean;
}

import type { DrawnFlow } from './debug.js';

export type { DrawnFlow };

export interface FrameResult {
  /** Per lane key: how it was drawn. */
  modes: Map<number, 'marks' | 'density'>;
  recordsInView: number;
  flowsInView: number;
  flowsDrawn: number;
  /** 1: every arrow in view drawn; k: one in k. */
  arrowStride: number;
  flows: DrawnFlow[];
  ms: number;
}

export class TimelineCanvas {
  readonly canvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D;
  cssW = 0;
  cssH = 0;
  dpr = 1;
  private image: ImageData | undefined;
  private img32 = new Uint32Array(0);
  /** Per density row, counts per (device column, mark). */
  private pool: Uint32Array[] = [];
  private totals = new Uint32Array(0);
  private stamp = new Uint32Array(0);
  private stampNow = 0;
  private glyphs: Float32Array[] = Array.from({ length: MARK_COUNT }, () => new Float32Array(512));
  private glyphN = new Int32Array(MARK_COUNT);
  private flowBuf: Int32Array = new Int32Array(1024);
  private flowSeen = new Uint32Array(16384);
  private flowStamp = 0;
  private readonly labelWidths = new Map<string, number>();

  constructor(canvas: HTMLCanvasElement) {
    this.canvas = canvas;
    const ctx = canvas.getContext('2d', { alpha: false, willReadFrequently: true });
    if (ctx === null) throw new Error('this browser gives no 2D canvas');
    this.ctx = ctx;
  }

  /** Sizes the canvas to its box (CSS px) at the device's pixel ratio; true when it changed. */
  resize(cssW: number, cssH: number, dpr: number): boolean {
    const w = Math.max(1, Math.round(cssW * dpr));
    const h = Math.max(1, Math.round(cssH * dpr));
    if (w === this.canvas.width && h === this.canvas.height && dpr === this.dpr) return false;
    this.cssW = cssW;
    this.cssH = cssH;
    this.dpr = dpr;
    this.canvas.width = w;
    this.canvas.height = h;
    this.image = undefined;
    return true;
  }

  get plotW(): number {
    return Math.max(1, this.cssW - GUTTER);
  }

  get plotH(): number {
    return Math.max(1, this.cssH - AXIS_H);
  }

  draw(f: Frame, pal: Palette): FrameResult {
    const start = performance.now();
    const { ctx, dpr } = this;
    const res: FrameResult = { modes: new Map(), recordsInView: 0, flowsInView: 0, flowsDrawn: 0, arrowStride: 1, flows: [], ms: 0 };
    const pdx = Math.round(GUTTER * dpr);
    const pdy = Math.round(AXIS_H * dpr);
    const pW = Math.max(1, this.canvas.width - pdx);
    const pH = Math.max(1, this.canvas.height - pdy);
    if (this.image === undefined || this.image.width !== pW || this.image.height !== pH) {
      this.image = ctx.createImageData(pW, pH);
      this.img32 = new Uint32Array(this.image.data.buffer);
      this.totals = new Uint32Array(pW);
    }
    const { vp, layout, scrollY, cols, index } = f;
    const t = cols.t;
    const plotH = this.plotH;
    const rows = layout.rows.filter((r) => r.y + r.h > scrollY && r.y < scrollY + plotH);

    // ---- the image: lane backgrounds and density bars
    const img = this.img32;
    img.fill(pal.bg32);
    const glyphRows: { row: LaneRow; lane: LaneRecords; a: number; b: number }[] = [];
    const densityRows: { row: LaneRow; counts: Uint32Array }[] = [];
    const markAt = (seq: number): number => index.markAt(cols, seq);
    const glyphLimit = Math.max(MIN_GLYPHS, this.plotW / GLYPH_PX);
    for (const row of rows) {
      const top = Math.max(0, Math.round((row.y - scrollY) * dpr));
      const bottom = Math.min(pH, Math.round((row.y + row.h - scrollY) * dpr));
      if (row.band % 2 === 1) img.fill(pal.stripe32, top * pW, bottom * pW);
      const lane = index.lanes.get(row.key);
      if (lane === undefined || lane.n === 0) continue;
      const [a, b] = lane.range(t, vp.t0, vp.t1);
      res.recordsInView += b - a;
      if (b === a) continue;
      if (b - a <= glyphLimit) {
        glyphRows.push({ row, lane, a, b });
        res.modes.set(row.key, 'marks');
      } else {
        const k = densityRows.length;
        let counts = this.pool[k];
        if (counts === undefined || counts.length !== pW * MARK_COUNT) counts = this.pool[k] = new Uint32Array(pW * MARK_COUNT);
        else counts.fill(0);
        lane.accumulate(t, a, b, vp.t0, vp.span / pW, pW, counts, markAt, vp.span / pW / 4);
        densityRows.push({ row, counts });
        res.modes.set(row.key, 'density');
      }
    }
    this.drawDensity(densityRows, f, pal, pW, pH);
    ctx.putImageData(this.image, pdx, pdy);

    // ---- vector layers, in CSS px
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.font = pal.font;
    const ticks = this.ticks(f);
    ctx.save();
    ctx.beginPath();
    ctx.rect(GUTTER, AXIS_H, this.plotW, plotH);
    ctx.clip();
    this.drawGrid(f, pal, ticks);
    this.drawEdge(f, pal);
    this.drawGlyphs(glyphRows, f, pal);
    if (f.arrows) this.drawFlows(f, pal, res);
    this.drawFocus(f, pal);
    ctx.restore();
    this.drawGutter(rows, f, pal);
    this.drawAxis(f, pal, ticks);
    this.drawScrollbar(f, pal);
    res.ms = performance.now() - start;
    return res;
  }

  private drawDensity(rows: { row: LaneRow; counts: Uint32Array }[], f: Frame, pal: Palette, pW: number, pH: number): void {
    if (rows.length === 0) return;
    const { dpr } = this;
    const shown: number[] = STACK.filter((m) => (f.hidden & (1 << m)) === 0);
    let max = 1;
    for (const { counts } of rows) {
      for (let x = 0; x < pW; x++) {
        let n = 0;
        for (const m of shown) n += counts[x * MARK_COUNT + m]!;
        if (n > max) max = n;
      }
    }
    const logMax = Math.log2(1 + max);
    const img = this.img32;
    const colors = pal.marks32;
    for (const { row, counts } of rows) {
      const pad = Math.max(1, Math.round(2 * dpr));
      const top = Math.round((row.y - f.scrollY) * dpr) + pad;
      const bottom = Math.round((row.y + row.h - f.scrollY) * dpr) - pad; // exclusive
      const full = bottom - top;
      if (full <= 0) continue;
      const minBar = Math.max(2, Math.round(full * 0.3));
      for (let x = 0; x < pW; x++) {
        const base = x * MARK_COUNT;
        let n = 0;
        for (const m of shown) n += counts[base + m]!;
        if (n === 0) continue;
        const h = Math.min(full, Math.max(minBar, Math.round((full * Math.log2(1 + n)) / logMax)));
        // Segments in STACK order, each its share of h, at least one pixel when present.
        let y = bottom;
        let left = h;
        for (let i = 0; i < shown.length && left > 0; i++) {
          const m = shown[i]!;
          const c = counts[base + m]!;
          if (c === 0) continue;
          let seg = Math.max(1, Math.round((h * c) / n));
          if (seg > left) seg = left;
          left -= seg;
          const color = colors[m]!;
          for (let k = 0; k < seg; k++) {
            y--;
            if (y >= 0 && y < pH) img[y * pW + x] = color;
          }
        }
      }
    }
  }

  private drawGrid(f: Frame, pal: Palette, ticks: Ticks): void {
    const { ctx } = this;
    ctx.strokeStyle = pal.grid;
    ctx.lineWidth = 1;
    ctx.beginPath();
    for (const tt of ticks.times) {
      const x = Math.round(GUTTER + f.vp.x(tt)) + 0.5;
      ctx.moveTo(x, AXIS_H);
      ctx.lineTo(x, this.cssH);
    }
    ctx.stroke();
  }

  private drawEdge(f: Frame, pal: Palette): void {
    if (!Number.isFinite(f.edge)) return;
    const x = GUTTER + f.vp.x(f.edge);
    if (x < GUTTER || x > this.cssW) return;
    const { ctx } = this;
    ctx.strokeStyle = pal.edge;
    ctx.setLineDash([3, 3]);
    ctx.beginPath();
    ctx.moveTo(Math.round(x) + 0.5, AXIS_H);
    ctx.lineTo(Math.round(x) + 0.5, this.cssH);
    ctx.stroke();
    ctx.setLineDash([]);
  }

  private drawGlyphs(rows: { row: LaneRow; lane: LaneRecords; a: number; b: number }[], f: Frame, pal: Palette): void {
    if (rows.length === 0) return;
    const { ctx } = this;
    const { vp, cols, index } = f;
    const t = cols.t;
    const w = Math.ceil(this.plotW) + 2;
    if (this.stamp.length < w * MARK_COUNT) this.stamp = new Uint32Array(w * MARK_COUNT);
    this.glyphN.fill(0);
    const yOf: number[] = [];
    for (const { row, lane, a, b } of rows) {
      const stampNow = ++this.stampNow;
      const yc = AXIS_H + row.y - f.scrollY + row.h / 2;
      for (let i = a; i < b; i++) {
        const s = lane.seqs[i]!;
        const m = index.markAt(cols, s);
        if ((f.hidden & (1 << m)) !== 0) continue;
        const x = vp.x(t[s]!);
        const px = Math.round(x) + 1;
        const at = (px < 0 ? 0 : px >= w ? w - 1 : px) * MARK_COUNT + m;
        if (this.stamp[at] === stampNow) continue;
        this.stamp[at] = stampNow;
        this.pushGlyph(m, GUTTER + x, yc);
      }
      yOf.push(yc);
    }
    for (const m of GLYPH_ORDER) {
      const n = this.glyphN[m]!;
      if (n === 0) continue;
      const g = this.glyphs[m]!;
      ctx.fillStyle = pal.marks[m]!;
      ctx.strokeStyle = pal.marks[m]!;
      ctx.beginPath();
      for (let i = 0; i < n; i += 2) glyphPath(ctx, m, g[i]!, g[i + 1]!);
      if (m === MARK.fault) {
        ctx.lineWidth = 2;
        ctx.stroke();
        ctx.lineWidth = 1;
      } else ctx.fill();
    }
  }

  private pushGlyph(m: number, x: number, y: number): void {
    let g = this.glyphs[m]!;
    const n = this.glyphN[m]!;
    if (n + 2 > g.length) {
      const b = new Float32Array(g.length * 2);
      b.set(g);
      g = this.glyphs[m] = b;
    }
    g[n] = x;
    g[n + 1] = y;
    this.glyphN[m] = n + 2;
  }

  private drawFlows(f: Frame, pal: Palette, res: FrameResult): void {
    const { ctx } = this;
    const { vp, cols, index, layout } = f;
    const flows = index.flows;
    const t = cols.t;
    const [lo, hi, late, lateN] = flows.inView(cols, vp.t0, vp.t1, this.flowBuf);
    this.flowBuf = late;
    const n = hi - lo + lateN;
    res.flowsInView = n;
    if (n === 0) return;
    const most = Math.max(MIN_ARROWS, Math.floor(this.plotW / ARROW_PX));
    const stride = n > most ? Math.ceil(n / most) : 1;
    res.arrowStride = stride;
    const stamp = ++this.flowStamp;
    const seen = this.flowSeen;
    const mask = seen.length - 1;
    const heads: number[] = [];
    const paths = [new Path2D(), new Path2D()]; // from a send (or other hypercall), from a raise
    for (let i = 0; i < n; i += stride) {
      const effect = flows.seqs[i < hi - lo ? lo + i : late[i - (hi - lo)]!]!;
      const cause = cols.cause[effect]!;
      const rowT = layout.byKey.get(index.laneAt(cols, effect));
      const rowS = layout.byKey.get(index.laneAt(cols, cause));
      if (rowT === undefined || rowS === undefined) continue;
      const x0 = GUTTER + vp.x(t[cause]!);
      const x1 = GUTTER + vp.x(t[effect]!);
      const y0 = AXIS_H + rowS.y - f.scrollY + rowS.h / 2;
      const y1 = AXIS_H + rowT.y - f.scrollY + rowT.h / 2;
      if (Math.abs(x1 - x0) < 0.5 && y0 === y1) continue; // a loopback in one instant: no room for an arrow
      // One arrow per pixel path: an upcall and the handler it ran, or many flows in one column, draw once.
      const h = (Math.imul(Math.round(x0) * 73856093 ^ Math.round(x1) * 19349663, 1) ^ Math.imul(rowS.y * 83492791 ^ rowT.y, 1)) & mask;
      if (seen[h] === stamp) continue;
      seen[h] = stamp;
      const p = paths[index.markAt(cols, cause) === MARK.raise ? 1 : 0]!;
      arrowPath(p, x0, y0, x1, y1);
      heads.push(x0, y0, x1, y1, index.markAt(cols, cause) === MARK.raise ? 1 : 0);
      res.flowsDrawn++;
      if (f.collectFlows && res.flows.length < 5000) res.flows.push({ cause, effect, x0, y0, x1, y1 });
    }
    ctx.lineWidth = 1.25;
    const colors = [pal.marks[MARK.send]!, pal.marks[MARK.raise]!];
    ctx.globalAlpha = stride > 1 ? 0.5 : 0.8;
    for (let k = 0; k < 2; k++) {
      ctx.strokeStyle = colors[k]!;
      ctx.stroke(paths[k]!);
    }
    for (let k = 0; k < 2; k++) {
      ctx.fillStyle = colors[k]!;
      ctx.beginPath();
      for (let i = 0; i < heads.length; i += 5) if (heads[i + 4] === k) arrowHead(ctx, heads[i]!, heads[i + 1]!, heads[i + 2]!, heads[i + 3]!);
      ctx.fill();
    }
    ctx.globalAlpha = 1;
    ctx.lineWidth = 1;
  }

  /** Where a record is drawn (CSS px in the canvas), or undefined when its lane has no row. */
  position(f: Frame, seq: number): { x: number; y: number; row: LaneRow } | undefined {
    if (seq < 0 || seq >= f.index.count) return undefined;
    const row = f.layout.byKey.get(f.index.laneAt(f.cols, seq));
    if (row === undefined) return undefined;
    return { x: GUTTER + f.vp.x(f.cols.t[seq]!), y: AXIS_H + row.y - f.scrollY + row.h / 2, row };
  }

  private drawFocus(f: Frame, pal: Palette): void {
    const { ctx } = this;
    const ring = (seq: number, color: string, width: number, line: boolean): void => {
      const p = this.position(f, seq);
      if (p === undefined) return;
      ctx.strokeStyle = color;
      if (line) {
        ctx.globalAlpha = 0.5;
        ctx.beginPath();
        ctx.moveTo(Math.round(p.x) + 0.5, AXIS_H);
        ctx.lineTo(Math.round(p.x) + 0.5, this.cssH);
        ctx.stroke();
        ctx.globalAlpha = 1;
      }
      ctx.lineWidth = width;
      ctx.beginPath();
      ctx.arc(p.x, p.y, 7, 0, Math.PI * 2);
      ctx.stroke();
      ctx.lineWidth = 1;
    };
    if (f.hover >= 0 && f.hover !== f.selected) ring(f.hover, pal.hover, 1.5, false);
    if (f.selected >= 0) {
      ring(f.selected, pal.selection, 2, true);
      // The selected record's own notification: from its cause, or to its effects.
      const { cols, index } = f;
      const links: [number, number][] = [];
      const cause = cols.cause[f.selected]!;
      if (cause >= 0 && cause < index.count) links.push([cause, f.selected]);
      const flows = index.flows;
      const ts = cols.t[f.selected]!;
      let lo = 0;
      let hi = flows.n;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (cols.t[flows.seqs[mid]!]! < ts) lo = mid + 1;
        else hi = mid;
      }
      for (let i = lo; i < flows.n && links.length < 64; i++) {
        const e = flows.seqs[i]!;
        if (cols.t[e]! > ts + flows.maxLatency) break;
        if (cols.cause[e] === f.selected) links.push([f.selected, e]);
      }
      ctx.strokeStyle = pal.selection;
      ctx.fillStyle = pal.selection;
      ctx.lineWidth = 2;
      for (const [a, b] of links) {
        const pa = this.position(f, a);
        const pb = this.position(f, b);
        if (pa === undefined || pb === undefined) continue;
        const p = new Path2D();
        arrowPath(p, pa.x, pa.y, pb.x, pb.y);
        ctx.stroke(p);
        ctx.beginPath();
        arrowHead(ctx, pa.x, pa.y, pb.x, pb.y);
        ctx.fill();
      }
      ctx.lineWidth = 1;
    }
  }

  private ticks(f: Frame): Ticks {
    return axisTicks(f.vp.t0, f.vp.t1, this.plotW, (s) => this.measure(s));
  }

  private measure(label: string): number {
    let w = this.labelWidths.get(label);
    if (w === undefined) {
      w = this.ctx.measureText(label).width;
      if (this.labelWidths.size > 4000) this.labelWidths.clear();
      this.labelWidths.set(label, w);
    }
    return w;
  }

  private drawAxis(f: Frame, pal: Palette, ticks: Ticks): void {
    const { ctx } = this;
    ctx.font = pal.font;
    ctx.fillStyle = pal.axis;
    ctx.fillRect(0, 0, this.cssW, AXIS_H);
    ctx.strokeStyle = pal.separator;
    ctx.beginPath();
    ctx.moveTo(0, AXIS_H - 0.5);
    ctx.lineTo(this.cssW, AXIS_H - 0.5);
    ctx.stroke();
    ctx.save();
    ctx.beginPath();
    ctx.rect(GUTTER, 0, this.plotW, AXIS_H);
    ctx.clip();
    ctx.fillStyle = pal.textDim;
    ctx.textBaseline = 'middle';
    ctx.strokeStyle = pal.textDim;
    ctx.beginPath();
    ticks.times.forEach((tt, i) => {
      const x = Math.round(GUTTER + f.vp.x(tt)) + 0.5;
      ctx.moveTo(x, AXIS_H - 5);
      ctx.lineTo(x, AXIS_H);
      ctx.fillText(ticks.labels[i]!, x + 3, AXIS_H / 2 - 1);
    });
    ctx.stroke();
    ctx.restore();
    if (ticks.baseLabel !== undefined) {
      // Zoomed far in at a late time the ticks are offsets: their base, over the lane names.
      ctx.fillStyle = pal.text;
      ctx.textBaseline = 'middle';
      ctx.fillText(fitText(ctx, `${ticks.baseLabel} +`, GUTTER - 12), 8, AXIS_H / 2 - 1);
    }
  }

  private drawGutter(rows: LaneRow[], f: Frame, pal: Palette): void {
    const { ctx } = this;
    ctx.fillStyle = pal.gutter;
    ctx.fillRect(0, AXIS_H, GUTTER, this.plotH);
    ctx.save();
    ctx.beginPath();
    ctx.rect(0, AXIS_H, this.cssW, this.plotH);
    ctx.clip();
    ctx.textBaseline = 'middle';
    ctx.strokeStyle = pal.separator;
    ctx.beginPath();
    for (const row of rows) {
      const y = AXIS_H + row.y - f.scrollY;
      if (row.role !== 'vcpu') {
        ctx.moveTo(0, Math.round(y) + 0.5);
        ctx.lineTo(this.cssW, Math.round(y) + 0.5);
      }
    }
    ctx.stroke();
    for (const row of rows) {
      const y = AXIS_H + row.y - f.scrollY + row.h / 2;
      const indent = row.role === 'vcpu' ? 20 : 8;
      ctx.font = row.role === 'vcpu' ? pal.font : `600 ${pal.font}`;
      ctx.fillStyle = row.role === 'vcpu' ? pal.textDim : pal.text;
      ctx.fillText(fitText(ctx, row.label, GUTTER - indent - 6), indent, y);
    }
    ctx.strokeStyle = pal.separator;
    ctx.beginPath();
    ctx.moveTo(GUTTER - 0.5, 0);
    ctx.lineTo(GUTTER - 0.5, this.cssH);
    ctx.stroke();
    ctx.restore();
  }

  private drawScrollbar(f: Frame, pal: Palette): void {
    const total = f.layout.height;
    const view = this.plotH;
    if (total <= view) return;
    const { ctx } = this;
    const h = Math.max(16, (view * view) / total);
    const y = AXIS_H + (f.scrollY / (total - view)) * (view - h);
    ctx.fillStyle = pal.textDim;
    ctx.globalAlpha = 0.35;
    ctx.fillRect(this.cssW - 6, y, 4, h);
    ctx.globalAlpha = 1;
  }
}

/** Cuts a label to `width` px with an ellipsis. */
function fitText(ctx: CanvasRenderingContext2D, s: string, width: number): string {
  if (ctx.measureText(s).width <= width) return s;
  let lo = 0;
  let hi = s.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (ctx.measureText(`${s.slice(0, mid)}…`).width <= width) lo = mid;
    else hi = mid - 1;
  }
  return `${s.slice(0, lo)}…`;
}

/** Adds a mark's shape at (x, y) to the current path. */
function glyphPath(ctx: CanvasRenderingContext2D, m: number, x: number, y: number): void {
  switch (m) {
    case MARK.send:
      ctx.moveTo(x, y - 5);
      ctx.lineTo(x + 4, y);
      ctx.lineTo(x, y + 5);
      ctx.lineTo(x - 4, y);
      ctx.closePath();
      break;
    case MARK.hypercall:
      ctx.rect(x - 1, y - 5, 2, 10);
      break;
    case MARK.upcall:
      ctx.moveTo(x - 4, y - 4);
      ctx.lineTo(x + 4, y - 4);
      ctx.lineTo(x, y + 4);
      ctx.closePath();
      break;
    case MARK.handler:
      ctx.moveTo(x + 3.5, y);
      ctx.arc(x, y, 3.5, 0, Math.PI * 2);
      break;
    case MARK.raise:
      ctx.moveTo(x - 4, y + 4);
      ctx.lineTo(x + 4, y + 4);
      ctx.lineTo(x, y - 4);
      ctx.closePath();
      break;
    case MARK.console:
      ctx.rect(x - 3, y - 3, 6, 6);
      break;
    case MARK.message:
      ctx.rect(x - 4, y - 2, 8, 4);
      break;
    case MARK.fault:
      ctx.moveTo(x - 4, y - 4);
      ctx.lineTo(x + 4, y + 4);
      ctx.moveTo(x + 4, y - 4);
      ctx.lineTo(x - 4, y + 4);
      break;
    case MARK.lifecycle:
      ctx.rect(x - 1, y - 7, 2, 14);
      ctx.rect(x + 1, y - 7, 5, 4);
      break;
    default:
      ctx.rect(x - 0.5, y + 3, 1, 5);
  }
}

/** An arrow's shaft from (x0, y0) to (x1, y1): a curve leaving and arriving level, or a line when they are close in x. */
function arrowPath(p: Path2D, x0: number, y0: number, x1: number, y1: number): void {
  p.moveTo(x0, y0);
  if (Math.abs(x1 - x0) < 12) p.lineTo(x1, y1);
  else {
    const mx = (x0 + x1) / 2;
    p.bezierCurveTo(mx, y0, mx, y1, x1, y1);
  }
}

function arrowHead(ctx: CanvasRenderingContext2D, x0: number, y0: number, x1: number, y1: number): void {
  const [dx, dy] = Math.abs(x1 - x0) < 12 ? [x1 - x0, y1 - y0] : [1, 0];
  const len = Math.hypot(dx, dy) || 1;
  const ux = dx / len;
  const uy = dy / len;
  const back = 6;
  const wide = 3.5;
  // Stop short of the mark's centre so the head sits at its edge.
  const tx = x1 - ux * 4;
  const ty = y1 - uy * 4;
  ctx.moveTo(tx, ty);
  ctx.lineTo(tx - ux * back - uy * wide, ty - uy * back + ux * wide);
  ctx.lineTo(tx - ux * back + uy * wide, ty - uy * back - ux * wide);
  ctx.closePath();
}
