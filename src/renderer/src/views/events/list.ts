/**
 * The event list's grid: a header and a scroller in which only the rows in
 * view exist (a pool of row elements, moved and refilled as the list
 * scrolls), so a million records scroll like ten. Rows come from a
 * RowSource; the list draws at most once per animation frame and only
 * touches a row whose content changed. Keyboard: arrows, PageUp/PageDown,
 * Home/End; End follows new records, scrolling away stops following.
 */
import { h } from '../../util/dom.js';
import { COLUMNS, domainLabel, exactTime, formatTime, KIND_DOCS, KIND_LABELS, ScrollModel, type ColumnId } from './format.js';

export const ROW_HEIGHT = 20;

/** One row's content, filled in place (no object per row per frame). */
export interface RowData {
  seq: number;
  t: number;
  dom: number;
  vcpu: number;
  kind: string;
  /** Undefined while its page is on its way. */
  summary: string | undefined;
}

export interface RowSource {
  /** Rows in the list (matching the filter). */
  count(): number;
  /** Fills `out` with row i; false when the row is not here yet. */
  fill(i: number, out: RowData): boolean;
  /** Domain names by domid (the topology's). */
  domainNames(): ReadonlyMap<number, string>;
  /** Told which rows are in view, so their pages are fetched. */
  visible(first: number, end: number): void;
}

export interface ListEvents {
  /** A row was chosen (click or keys); `index` in the list. */
  select(index: number): void;
  /** Right-click (or the context-menu key) on a cell of a row. */
  contextMenu(index: number, column: ColumnId, x: number, y: number): void;
  /** Following new records turned on or off (by scrolling, End, Home). */
  follow(on: boolean): void;
  /** Ctrl+C on the list. */
  copy(index: number): void;
}

interface PoolRow {
  el: HTMLElement;
  cells: Record<ColumnId, HTMLElement>;
  domId: HTMLElement;
  domName: HTMLElement;
  /** What it shows now, to skip rows that did not change. */
  index: number;
  seq: number;
  loaded: boolean;
  selected: boolean;
  epoch: number;
}

const WIDTHS_KEY = 'xenlab.events.columns.v1';

function loadWidths(): Record<ColumnId, number> {
  const w = Object.fromEntries(COLUMNS.map((c) => [c.id, c.width])) as Record<ColumnId, number>;
  try {
    const saved = JSON.parse(localStorage.getItem(WIDTHS_KEY) ?? '{}') as Record<string, unknown>;
    for (const c of COLUMNS) {
      const v = saved[c.id];
      if (c.id !== 'summary' && typeof v === 'number' && v >= 28 && v <= 600) w[c.id] = v;
    }
  } catch {
    // defaults
  }
  return w;
}

export class EventList {
  readonly el: HTMLElement;
  readonly scroller: HTMLElement;
  private readonly head: HTMLElement;
  private readonly layer: HTMLElement;
  private readonly sizer: HTMLElement;
  private readonly model = new ScrollModel(ROW_HEIGHT);
  private readonly pool: PoolRow[] = [];
  private readonly data: RowData = { seq: 0, t: 0, dom: -1, vcpu: -1, kind: '', summary: undefined };
  private readonly widths = loadWidths();
  private frame = 0;
  private shown = false;
  /** The scrollTop the list set itself (its scroll event is not the user's). */
  private ownScrollTop = -1;
  private lastScrollTop = 0;
  /** Bumped to redraw every row (names or selection rules changed). */
  private epoch = 0;
  /** The user is scrolling (wheel, a drag on the scrollbar, keys): only then does a scroll change following. */
  private userScrollUntil = 0;
  private pointerDown = false;

  /** The selected row's index, or -1. */
  selected = -1;
  /** The selected record's seq (a row showing it is highlighted even when its index is not known yet). */
  selectedSeq = -1;
  follow = true;

  constructor(
    private readonly source: RowSource,
    private readonly on: ListEvents,
  ) {
    this.head = h('div', { class: 'xl-ev-head', role: 'row' });
    for (const c of COLUMNS) {
      const cell = h('div', { class: `xl-ev-hc xl-ev-${c.align}`, role: 'columnheader', title: c.tooltip, 'data-col': c.id }, c.title);
      if (c.id !== 'summary') cell.append(this.resizer(c.id));
      this.head.append(cell);
    }
    this.sizer = h('div', { class: 'xl-ev-sizer' });
    this.layer = h('div', { class: 'xl-ev-layer', role: 'presentation' });
    this.scroller = h('div', { class: 'xl-ev-scroll', tabindex: '0', role: 'grid', 'aria-label': 'Trace records', 'aria-multiselectable': 'false', 'aria-colcount': String(COLUMNS.length), 'data-testid': 'event-rows' }, this.layer, this.sizer);
    this.el = h('div', { class: 'xl-ev-list' }, this.head, this.scroller);
    this.applyWidths();
    this.scroller.addEventListener('scroll', () => this.onScroll(), { passive: true });
    // A scroll the browser makes itself (the list got shorter) is not the user scrolling away.
    const intent = (): void => void (this.userScrollUntil = performance.now() + 250);
    this.scroller.addEventListener('wheel', intent, { passive: true });
    this.scroller.addEventListener('keydown', intent);
    this.scroller.addEventListener('pointerdown', () => (this.pointerDown = true));
    window.addEventListener('pointerup', () => {
      if (this.pointerDown) intent();
      this.pointerDown = false;
    });
    this.scroller.addEventListener('pointerdown', (e) => this.onPointer(e));
    this.scroller.addEventListener('contextmenu', (e) => this.onContextMenu(e));
    this.scroller.addEventListener('keydown', (e) => this.onKey(e));
  }

  // ---- what the view tells the list

  setShown(shown: boolean): void {
    this.shown = shown;
    if (shown) this.measure();
  }

  /** The container changed size. */
  measure(): void {
    const hgt = this.scroller.clientHeight;
    if (hgt === this.model.viewHeight && this.pool.length > 0) return this.invalidate();
    this.model.viewHeight = hgt;
    const need = Math.ceil(hgt / ROW_HEIGHT) + 1;
    while (this.pool.length < need) this.pool.push(this.makeRow());
    while (this.pool.length > need) this.pool.pop()!.el.remove();
    this.invalidate(true);
  }

  /** Rows changed (new records, a page arrived, the filter): redraw on the next frame. */
  invalidate(all = false): void {
    if (all) this.epoch++;
    if (this.frame !== 0 || !this.shown) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  setFollow(on: boolean): void {
    if (this.follow === on) return;
    this.follow = on;
    this.on.follow(on);
    if (on) this.invalidate();
  }

  /** Selects row `index` (with its seq when known) and scrolls it into view: `center` for a record chosen elsewhere. */
  select(index: number, seq: number, how: 'reveal' | 'center' | 'none' = 'reveal'): void {
    this.selected = index;
    this.selectedSeq = seq;
    if (index >= 0 && how !== 'none') {
      this.syncTotal();
      if (how === 'center') this.model.center(index);
      else this.model.reveal(index);
      this.setFollow(this.model.atEnd() && index === this.model.total - 1);
      this.applyScroll();
    }
    this.invalidate(true);
  }

  focus(): void {
    this.scroller.focus({ preventScroll: true });
  }

  /** Scrolls to the top (a new filter). */
  top(): void {
    this.model.virtualTop = 0;
    this.applyScroll();
    this.invalidate();
  }

  // ---- drawing

  private makeRow(): PoolRow {
    const cells = {} as Record<ColumnId, HTMLElement>;
    const el = h('div', { class: 'xl-ev-row', role: 'row', id: `xl-ev-row-${this.pool.length}` });
    for (const c of COLUMNS) {
      const cell = h('span', { class: `xl-ev-c xl-ev-${c.align}`, role: 'gridcell', 'data-col': c.id });
      cells[c.id] = cell;
      el.append(cell);
    }
    const domId = h('span', { class: 'xl-ev-domid' });
    const domName = h('span', { class: 'xl-ev-domname' });
    cells.dom.append(domId, domName);
    el.hidden = true;
    this.layer.append(el);
    return { el, cells, domId, domName, index: -1, seq: -1, loaded: false, selected: false, epoch: -1 };
  }

  private syncTotal(): void {
    const total = this.source.count();
    if (total !== this.model.total) {
      this.model.total = total;
      this.sizer.style.height = `${this.model.scrollHeight}px`;
      this.scroller.setAttribute('aria-rowcount', String(total + 1));
    }
  }

  /** Moves the scroller to the model's place (without reading it back: no layout forced for nothing). */
  private applyScroll(): void {
    const top = this.model.scrollTopFor();
    if (top === this.lastScrollTop) return;
    this.scroller.scrollTop = top;
    // Its scroll event is ours, not the user's.
    this.ownScrollTop = top;
    this.lastScrollTop = top;
  }

  /** What drawing costs (the e2e figures): frames drawn, the longest and the total time in render, ms. */
  readonly stats = { frames: 0, maxMs: 0, totalMs: 0 };

  private render(): void {
    const t0 = performance.now();
    this.draw();
    const ms = performance.now() - t0;
    this.stats.frames++;
    this.stats.totalMs += ms;
    if (ms > this.stats.maxMs) this.stats.maxMs = ms;
  }

  private draw(): void {
    this.syncTotal();
    if (this.follow) this.model.virtualTop = this.model.maxVirtualTop;
    this.model.clamp();
    this.applyScroll();
    const { first, end, offset } = this.model.visible();
    this.source.visible(first, end);
    const names = this.source.domainNames();
    for (let k = 0; k < this.pool.length; k++) {
      const row = this.pool[k]!;
      const i = first + k;
      if (i >= end) {
        if (!row.el.hidden) row.el.hidden = true;
        row.index = -1;
        continue;
      }
      row.el.style.transform = `translateY(${k * ROW_HEIGHT - offset}px)`;
      if (row.el.hidden) row.el.hidden = false;
      this.fillRow(row, i, names);
    }
    // Assistive technology follows the selected row while the focus stays on the grid.
    const sel = this.pool.find((r) => r.selected && r.index >= 0);
    if (sel === undefined) this.scroller.removeAttribute('aria-activedescendant');
    else if (this.scroller.getAttribute('aria-activedescendant') !== sel.el.id) this.scroller.setAttribute('aria-activedescendant', sel.el.id);
  }

  private fillRow(row: PoolRow, i: number, names: ReadonlyMap<number, string>): void {
    const d = this.data;
    const known = this.source.fill(i, d);
    const loaded = known && d.summary !== undefined;
    const seq = known ? d.seq : -1;
    const selected = i === this.selected || (seq >= 0 && seq === this.selectedSeq);
    if (row.index === i && row.seq === seq && row.loaded === loaded && row.selected === selected && row.epoch === this.epoch) return;
    row.index = i;
    row.seq = seq;
    row.loaded = loaded;
    row.selected = selected;
    row.epoch = this.epoch;
    row.el.setAttribute('aria-rowindex', String(i + 2));
    row.el.classList.toggle('xl-ev-odd', i % 2 === 1);
    row.el.classList.toggle('xl-ev-sel', selected);
    row.el.setAttribute('aria-selected', String(selected));
    const c = row.cells;
    if (!known) {
      row.el.removeAttribute('data-kind');
      c.seq.textContent = '';
      c.time.textContent = '';
      row.domId.textContent = '';
      row.domName.textContent = '';
      c.vcpu.textContent = '';
      c.kind.textContent = '';
      c.summary.textContent = '…';
      c.summary.classList.add('xl-ev-pending');
      c.summary.title = '';
      return;
    }
    row.el.dataset.kind = d.kind;
    c.seq.textContent = String(d.seq);
    c.time.textContent = formatTime(d.t);
    c.time.title = exactTime(d.t);
    row.domId.textContent = d.dom < 0 ? '' : String(d.dom);
    const name = domainLabel(d.dom, names);
    row.domName.textContent = name === `dom ${d.dom}` ? '' : name;
    c.dom.title = d.dom < 0 ? '' : `domain ${d.dom}${name === '' ? '' : ` (${name})`}`;
    c.vcpu.textContent = d.vcpu < 0 ? '' : String(d.vcpu);
    c.kind.textContent = KIND_LABELS[d.kind] ?? d.kind;
    c.kind.title = KIND_DOCS.get(d.kind) ?? '';
    c.summary.textContent = d.summary ?? '…';
    c.summary.classList.toggle('xl-ev-pending', d.summary === undefined);
    c.summary.title = d.summary ?? '';
  }

  // ---- input

  private onScroll(): void {
    const now = this.scroller.scrollTop;
    if (now === this.ownScrollTop) {
      this.ownScrollTop = -1;
      this.lastScrollTop = now;
      return;
    }
    this.ownScrollTop = -1;
    this.syncTotal();
    this.model.scrolled(this.lastScrollTop, now);
    this.lastScrollTop = now;
    if (this.pointerDown || performance.now() < this.userScrollUntil) this.setFollow(this.model.atEnd());
    this.invalidate();
  }

  private rowAt(target: EventTarget | null): { index: number; column: ColumnId } | undefined {
    const el = target instanceof Element ? target : null;
    const rowEl = el?.closest('.xl-ev-row');
    const row = this.pool.find((r) => r.el === rowEl);
    if (row === undefined || row.index < 0) return undefined;
    const col = (el?.closest('[data-col]') as HTMLElement | null)?.dataset.col as ColumnId | undefined;
    return { index: row.index, column: col ?? 'summary' };
  }

  private onPointer(e: PointerEvent): void {
    if (e.button !== 0 && e.button !== 2) return;
    const at = this.rowAt(e.target);
    if (at === undefined) return;
    this.focus();
    // Choosing a row to look at stops following (unless it is the newest).
    if (at.index < this.model.total - 1) this.setFollow(false);
    if (at.index !== this.selected) this.on.select(at.index);
  }

  private onContextMenu(e: MouseEvent): void {
    const at = this.rowAt(e.target);
    if (at === undefined) return;
    e.preventDefault();
    this.on.contextMenu(at.index, at.column, e.clientX, e.clientY);
  }

  private onKey(e: KeyboardEvent): void {
    const total = this.model.total;
    if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'c' && !e.shiftKey) {
      if (this.selected >= 0) {
        e.preventDefault();
        this.on.copy(this.selected);
      }
      return;
    }
    if (e.key === 'ContextMenu' && this.selected >= 0) {
      e.preventDefault();
      const row = this.pool.find((r) => r.index === this.selected);
      const r = (row?.cells.summary ?? this.scroller).getBoundingClientRect();
      this.on.contextMenu(this.selected, 'summary', r.left + 24, r.top + ROW_HEIGHT);
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey || total === 0) return;
    const cur = this.selected < 0 ? -1 : this.selected;
    let next: number;
    switch (e.key) {
      case 'ArrowDown':
        next = cur + 1;
        break;
      case 'ArrowUp':
        next = cur < 0 ? total - 1 : cur - 1;
        break;
      case 'PageDown':
        next = cur + this.model.pageRows;
        break;
      case 'PageUp':
        next = cur - this.model.pageRows;
        break;
      case 'Home':
        next = 0;
        break;
      case 'End':
        next = total - 1;
        break;
      default:
        return;
    }
    e.preventDefault();
    next = Math.max(0, Math.min(total - 1, next));
    this.selected = next;
    this.selectedSeq = -1;
    this.model.reveal(next);
    this.setFollow(e.key === 'End' || (this.follow && next === total - 1));
    this.applyScroll();
    this.invalidate();
    this.on.select(next);
  }

  // ---- columns

  private applyWidths(): void {
    const cols = COLUMNS.map((c) => (c.id === 'summary' ? 'minmax(0, 1fr)' : `${this.widths[c.id]}px`)).join(' ');
    this.el.style.setProperty('--ev-cols', cols);
  }

  private resizer(id: ColumnId): HTMLElement {
    const grip = h('span', { class: 'xl-ev-grip', title: 'Drag to resize the column', 'aria-hidden': 'true' });
    grip.addEventListener('pointerdown', (down) => {
      down.preventDefault();
      down.stopPropagation();
      grip.setPointerCapture(down.pointerId);
      const x0 = down.clientX;
      const w0 = this.widths[id];
      const move = (e: PointerEvent): void => {
        this.widths[id] = Math.max(28, Math.min(600, Math.round(w0 + e.clientX - x0)));
        this.applyWidths();
      };
      const up = (): void => {
        grip.removeEventListener('pointermove', move);
        grip.removeEventListener('pointerup', up);
        try {
          localStorage.setItem(WIDTHS_KEY, JSON.stringify(this.widths));
        } catch {
          // not remembered
        }
      };
      grip.addEventListener('pointermove', move);
      grip.addEventListener('pointerup', up);
    });
    return grip;
  }
}
