/**
 * A bit array drawn on a canvas, `cols` bits a row (a machine word: 64 on
 * x86-64, 32 on Xen 2.0), with the bit number of each row's first bit on
 * the left and the column on top. Set bits are filled, bits that flipped
 * since the previous refresh are ringed, the selected port is outlined.
 * Tall grids (a FIFO array of 131,072 ports) scroll inside a fixed height
 * and only the rows in sight are drawn.
 */
import { h } from '../../util/dom.js';
import { bitAt, type DecodedGrid } from './model.js';

const HEADER = 13;
const MAX_VISIBLE_ROWS = 32;

export interface GridDrawOptions {
  cols: number;
  /** Rows shown (the rest of the grid is clear and hidden until "show all"). */
  rows: number;
  /** Bits that flipped since the previous refresh. */
  changed: ReadonlySet<number> | undefined;
  /** A bit to outline: the selected port (port grids), the selected port's selector word, … */
  selected: number | undefined;
}

export interface GridEvents {
  hover(bit: number | undefined, e: MouseEvent): void;
  /** A click (or Enter) on a bit. */
  pick(bit: number): void;
  /** A double click: show the bit's byte in the hex view. */
  reveal(bit: number): void;
  /** Arrow keys from the bit `from` by `delta` (the view moves its selection). */
  move(from: number, delta: number): void;
}

export class BitGridCanvas {
  readonly el: HTMLElement;
  readonly canvas = h('canvas', { class: 'xi-grid-canvas' });
  private readonly spacer = h('div', { class: 'xi-grid-spacer' });
  private grid: DecodedGrid | undefined;
  private opts: GridDrawOptions = { cols: 64, rows: 0, changed: undefined, selected: undefined };
  private cell = 8;
  private axis = 30;
  private firstRow = 0;
  /** How far the first drawn row is scrolled above the header (px). */
  private frac = 0;
  private visibleRows = 0;

  constructor(
    label: string,
    tone: string,
    private readonly events: GridEvents,
  ) {
    this.el = h('div', { class: 'xi-grid-scroll', tabindex: '0', 'data-tone': tone, role: 'img', 'aria-label': label }, this.spacer);
    this.spacer.append(this.canvas);
    this.el.addEventListener('scroll', () => this.draw());
    this.canvas.addEventListener('mousemove', (e) => this.events.hover(this.bitAtPoint(e), e));
    this.canvas.addEventListener('mouseleave', (e) => this.events.hover(undefined, e));
    this.canvas.addEventListener('click', (e) => {
      const b = this.bitAtPoint(e);
      if (b !== undefined) this.events.pick(b);
    });
    this.canvas.addEventListener('dblclick', (e) => {
      const b = this.bitAtPoint(e);
      if (b !== undefined) this.events.reveal(b);
    });
    this.el.addEventListener('keydown', (e) => this.key(e));
  }

  set(grid: DecodedGrid, opts: GridDrawOptions): void {
    this.grid = grid;
    this.opts = opts;
    this.layout();
    this.draw();
  }

  /** The container's width changed: cells are sized again. */
  layout(): void {
    const { cols, rows } = this.opts;
    const width = this.el.clientWidth || this.el.parentElement?.clientWidth || 400;
    const digits = String(Math.max(0, (rows - 1) * cols)).length;
    this.axis = 8 + digits * 6.5;
    this.cell = Math.max(6, Math.min(16, Math.floor((width - this.axis - 4) / cols)));
    this.visibleRows = Math.min(rows, MAX_VISIBLE_ROWS);
    const total = HEADER + rows * this.cell;
    this.spacer.style.height = `${total}px`;
    this.spacer.style.width = `${Math.ceil(this.axis + cols * this.cell)}px`;
    this.el.style.height = `${HEADER + this.visibleRows * this.cell + (rows > this.visibleRows ? 0 : 1)}px`;
    this.el.classList.toggle('xi-grid-scrolls', rows > this.visibleRows);
  }

  /** Where a bit's cell is, in CSS pixels from the canvas's top left (for tests and tooltips); undefined when out of sight. */
  cellRect(bit: number): { x: number; y: number; size: number } | undefined {
    const row = Math.floor(bit / this.opts.cols) - this.firstRow;
    if (row < 0 || row > this.visibleRows) return undefined;
    const y = HEADER + row * this.cell - this.frac;
    if (y < HEADER || y + this.cell > HEADER + this.visibleRows * this.cell + 1) return undefined;
    return { x: this.axis + (bit % this.opts.cols) * this.cell, y, size: this.cell };
  }

  /** Scrolls a bit's row into sight. */
  reveal(bit: number): void {
    const row = Math.floor(bit / this.opts.cols);
    if (row < this.firstRow || row >= this.firstRow + this.visibleRows) this.el.scrollTop = Math.max(0, (row - 2) * this.cell);
  }

  draw(): void {
    const g = this.grid;
    if (g === undefined) return;
    const { cols, rows, changed, selected } = this.opts;
    const top = Math.min(this.el.scrollTop, (rows - this.visibleRows) * this.cell);
    this.firstRow = Math.max(0, Math.floor(top / this.cell));
    this.frac = Math.max(0, top - this.firstRow * this.cell);
    const cssW = Math.ceil(this.axis + cols * this.cell) + 1;
    const cssH = HEADER + this.visibleRows * this.cell + 1;
    const dpr = window.devicePixelRatio || 1;
    const c = this.canvas;
    if (c.width !== Math.round(cssW * dpr) || c.height !== Math.round(cssH * dpr)) {
      c.width = Math.round(cssW * dpr);
      c.height = Math.round(cssH * dpr);
      c.style.width = `${cssW}px`;
      c.style.height = `${cssH}px`;
    }
    c.style.transform = `translateY(${this.firstRow * this.cell + this.frac}px)`;
    // What the tests (and a curious user in devtools) can read: the geometry drawn.
    c.dataset.cell = String(this.cell);
    c.dataset.axis = String(this.axis);
    c.dataset.header = String(HEADER);
    c.dataset.cols = String(cols);
    c.dataset.firstRow = String(this.firstRow);
    if (selected === undefined) delete c.dataset.selected;
    else c.dataset.selected = String(selected);
    const ctx = c.getContext('2d');
    if (ctx === null) return;
    const css = getComputedStyle(this.el);
    const color = (name: string, dflt: string): string => css.getPropertyValue(name).trim() || dflt;
    const off = color('--xi-cell-off', '#333');
    const on = color('--xi-cell-on', '#3794ff');
    const flip = color('--xi-changed', '#ffb000');
    const sel = color('--xi-selected', '#fff');
    const axisInk = color('--fg-faint', '#888');
    const none = color('--xi-cell-none', 'transparent');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, cssW, cssH);
    ctx.font = `9px ${color('--mono', 'monospace')}`;
    ctx.fillStyle = axisInk;
    ctx.textBaseline = 'alphabetic';
    ctx.textAlign = 'center';
    const every = this.cell >= 12 ? 4 : 8;
    for (let col = 0; col < cols; col += every) ctx.fillText(String(col), this.axis + col * this.cell + this.cell / 2, HEADER - 3);
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    const labelEvery = this.cell >= 9 ? 1 : 2;
    const inset = this.cell >= 8 ? 1 : 0.5;
    const len = g.view.length;
    ctx.save();
    ctx.beginPath();
    ctx.rect(0, HEADER, cssW, cssH - HEADER);
    ctx.clip();
    const drawn = Math.min(rows - this.firstRow, this.visibleRows + (this.frac > 0 ? 1 : 0));
    for (let r = 0; r < drawn; r++) {
      const row = this.firstRow + r;
      const y = HEADER + r * this.cell - this.frac;
      if (row % labelEvery === 0) {
        ctx.fillStyle = axisInk;
        ctx.fillText(String(row * cols), this.axis - 4, y + this.cell / 2 + 0.5);
      }
      for (let col = 0; col < cols; col++) {
        const bit = row * cols + col;
        const x = this.axis + col * this.cell;
        ctx.fillStyle = bit >= len ? none : bitAt(g.bits, bit) ? on : off;
        ctx.fillRect(x + inset, y + inset, this.cell - 2 * inset, this.cell - 2 * inset);
      }
    }
    ctx.restore();
    const ring = (bit: number, style: string, width: number): void => {
      const r = this.cellRect(bit);
      if (r === undefined || bit >= len) return;
      ctx.strokeStyle = style;
      ctx.lineWidth = width;
      ctx.strokeRect(r.x + width / 2, r.y + width / 2, r.size - width, r.size - width);
    };
    if (changed !== undefined) for (const bit of changed) ring(bit, flip, Math.min(2, this.cell / 4));
    if (selected !== undefined && selected < len) ring(selected, sel, 1.5);
  }

  private bitAtPoint(e: MouseEvent): number | undefined {
    const r = this.canvas.getBoundingClientRect();
    const x = e.clientX - r.left - this.axis;
    const y = e.clientY - r.top - HEADER;
    if (x < 0 || y < 0) return undefined;
    const col = Math.floor(x / this.cell);
    const row = this.firstRow + Math.floor((y + this.frac) / this.cell);
    if (col >= this.opts.cols || row >= this.opts.rows) return undefined;
    const bit = row * this.opts.cols + col;
    return this.grid !== undefined && bit < this.grid.view.length ? bit : undefined;
  }

  private key(e: KeyboardEvent): void {
    const from = this.opts.selected ?? 0;
    const deltas: Record<string, number> = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -this.opts.cols, ArrowDown: this.opts.cols };
    const d = deltas[e.key];
    if (d !== undefined) {
      e.preventDefault();
      this.events.move(from, d);
    } else if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      this.events.reveal(from);
    }
  }
}
