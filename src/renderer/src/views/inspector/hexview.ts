/**
 * One page as annotated hex — offset | 16 bytes | ASCII — beside the list
 * of its fields (name, offset, size, value). Hovering a byte shows the field
 * it belongs to with its value and doc and outlines the field's bytes;
 * clicking a byte or a field selects the field. Only the rows in sight
 * exist in the DOM (a fixed pool of row elements refilled on scroll), so a
 * 4 KiB page and 128 FIFO event-array pages cost the same. Bytes that
 * changed since the previous refresh are marked. The selection, the scroll
 * position and the page shown survive refreshes.
 */
import type { FieldAnnotation } from '../../../../contract/inspect.js';
import { h, icon } from '../../util/dom.js';
import { asciiOf, HEX_ROW, hex2, hexDump, hexRows, offsetLabel, type DecodedPage } from './model.js';
import type { Tooltip } from './tooltip.js';

const ROW_H = 18;
const MAX_ROWS = 16;

interface RowEls {
  row: HTMLElement;
  off: HTMLElement;
  bytes: HTMLElement[];
  chars: HTMLElement[];
}

export interface HexEvents {
  /** The page chosen in the picker changed (the view remembers it). */
  pageChosen(name: string): void;
  copied(what: string): void;
  copyFailed(): void;
}

export class HexView {
  readonly el: HTMLElement;
  private readonly picker = h('select', { class: 'xl-select xi-page-picker', 'aria-label': 'Page', 'data-testid': 'inspector-page' });
  private readonly meta = h('span', { class: 'xi-page-meta' });
  private readonly goto = h('input', { class: 'xl-input xi-goto', type: 'text', placeholder: 'Go to 0x…', 'aria-label': 'Go to offset (hex with 0x, or decimal)', spellcheck: 'false' });
  private readonly scroller = h('div', { class: 'xi-hex-scroll', tabindex: '0', role: 'region', 'aria-label': 'Page bytes (hex)' });
  private readonly spacer = h('div', { class: 'xi-hex-spacer' });
  private readonly rowsEl = h('div', { class: 'xi-hex-rows' });
  private readonly filter = h('input', { class: 'xl-input xi-field-filter', type: 'search', placeholder: 'Filter fields', 'aria-label': 'Filter fields', spellcheck: 'false' });
  private readonly fieldBody = h('tbody');
  private readonly fieldScroll = h('div', { class: 'xi-fields-scroll' });
  private readonly fieldCount = h('span', { class: 'xi-field-count' });
  private pool: RowEls[] = [];
  private page: DecodedPage | undefined;
  private changed: Uint8Array | null = null;
  private changedFields: ReadonlySet<string> = new Set();
  /** Page offsets to mark (the selected port's bits in this page). */
  private marks: ReadonlySet<number> = new Set();
  private hovered = -1;
  private selected = -1;
  private fieldRows: HTMLTableRowElement[] = [];
  private fieldNames = '';
  private frame = 0;
  private pageNames = '';

  constructor(
    private readonly tip: Tooltip,
    private readonly events: HexEvents,
  ) {
    const copyBtn = h('button', { class: 'xl-icon-button', title: 'Copy as a hex dump: the selected field, or the whole page (Ctrl+C)', 'aria-label': 'Copy as hex dump', 'data-testid': 'inspector-copy' }, icon('copy'));
    copyBtn.addEventListener('click', () => this.copy());
    this.spacer.append(this.rowsEl);
    this.scroller.append(this.spacer);
    const table = h('table', { class: 'xi-fields', 'aria-label': 'Fields' }, h('thead', {}, h('tr', {}, h('th', {}, 'offset'), h('th', {}, 'field'), h('th', {}, 'size'), h('th', {}, 'value'))), this.fieldBody);
    this.fieldScroll.append(table);
    this.el = h(
      'div',
      { class: 'xi-hex' },
      h('div', { class: 'xi-hex-bar' }, this.picker, this.meta, h('span', { class: 'xi-spacer' }), this.goto, copyBtn),
      this.scroller,
      h('div', { class: 'xi-fields-bar' }, this.filter, this.fieldCount),
      this.fieldScroll,
    );
    this.picker.addEventListener('change', () => this.events.pageChosen(this.picker.value));
    this.scroller.addEventListener('scroll', () => this.schedule());
    this.rowsEl.addEventListener('mousemove', (e) => this.hover(e));
    this.rowsEl.addEventListener('mouseleave', () => {
      this.tip.hide();
      this.setHover(-1);
    });
    this.rowsEl.addEventListener('click', (e) => {
      const o = this.offsetOf(e.target);
      if (o === undefined || this.page === undefined) return;
      const f = this.page.fieldAt[o - this.page.view.base] ?? -1;
      if (f >= 0) this.selectField(f, false);
    });
    this.scroller.addEventListener('keydown', (e) => {
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'c' && (getSelection()?.toString() ?? '') === '') {
        e.preventDefault();
        this.copy();
      }
    });
    this.filter.addEventListener('input', () => this.applyFilter());
    this.goto.addEventListener('keydown', (e) => {
      if (e.key !== 'Enter') return;
      e.preventDefault();
      this.goTo(this.goto.value);
    });
    this.fieldBody.addEventListener('click', (e) => {
      const tr = (e.target as HTMLElement).closest('tr');
      if (tr !== null) this.selectField(Number(tr.dataset.field), true);
    });
    this.fieldBody.addEventListener('keydown', (e) => {
      const tr = (e.target as HTMLElement).closest('tr');
      if (tr === null) return;
      if (e.key === 'Enter') this.selectField(Number(tr.dataset.field), true);
      else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        let next = e.key === 'ArrowDown' ? tr.nextElementSibling : tr.previousElementSibling;
        while (next instanceof HTMLElement && next.hidden) next = e.key === 'ArrowDown' ? next.nextElementSibling : next.previousElementSibling;
        if (next instanceof HTMLElement) next.focus();
      }
    });
  }

  get pageName(): string | undefined {
    return this.page?.view.name;
  }

  /** The pages to choose from, and the one shown (its bytes, what changed, the fields whose value changed). */
  set(pages: readonly DecodedPage[], page: DecodedPage, changed: Uint8Array | null, changedFields: ReadonlySet<string>, marks: ReadonlySet<number>): void {
    const names = pages.map((p) => p.view.name).join('\n');
    if (names !== this.pageNames) {
      this.pageNames = names;
      this.picker.replaceChildren(...pages.map((p) => h('option', { value: p.view.name }, p.view.name)));
    }
    this.picker.value = page.view.name;
    const samePage = this.page?.view.name === page.view.name && this.page.view.base === page.view.base && this.page.bytes.length === page.bytes.length;
    const prevField = this.selected >= 0 ? this.page?.view.fields[this.selected]?.name : undefined;
    this.page = page;
    this.changed = changed;
    this.changedFields = changedFields;
    this.marks = marks;
    const v = page.view;
    const where = [v.gfn === undefined ? undefined : `gfn ${v.gfn}`, v.mfn === undefined ? undefined : `mfn 0x${v.mfn.toString(16)}`].filter((x) => x !== undefined).join(' · ');
    this.meta.textContent = `${where === '' ? '' : `${where} · `}${page.bytes.length} bytes${v.base === 0 ? '' : ` from 0x${v.base.toString(16)}`}`;
    this.meta.title = v.gfn === undefined && v.mfn !== undefined ? 'Xen’s page (no guest frame): its machine frame' : 'Where the page is: guest frame (gfn) and machine frame (mfn)';
    const { count } = hexRows(v.base, page.bytes.length);
    this.spacer.style.height = `${count * ROW_H}px`;
    if (!samePage) {
      // A new page: its own height (the user may drag it taller; refreshes keep that).
      this.scroller.style.height = `${Math.min(count, MAX_ROWS) * ROW_H + 2}px`;
      this.scroller.scrollTop = 0;
      this.hovered = -1;
    }
    // Keep the selected field (by name) across refreshes of the same page.
    this.selected = samePage && prevField !== undefined ? v.fields.findIndex((f) => f.name === prevField) : -1;
    this.renderFields();
    this.schedule();
  }

  /** Scrolls to a page offset (and flashes its row). */
  reveal(offset: number): void {
    if (this.page === undefined) return;
    const { first } = hexRows(this.page.view.base, this.page.bytes.length);
    const row = Math.floor((offset - first) / HEX_ROW);
    const top = row * ROW_H;
    const h = this.scroller.clientHeight;
    if (top < this.scroller.scrollTop || top + ROW_H > this.scroller.scrollTop + h) this.scroller.scrollTop = Math.max(0, top - Math.floor(h / 3));
    this.schedule();
  }

  /** Rows in sight are drawn again (next frame). */
  schedule(): void {
    if (this.frame !== 0) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.renderRows();
    });
  }

  /** Draws now (a refresh the tests wait for, a resize). */
  flush(): void {
    if (this.frame !== 0) cancelAnimationFrame(this.frame);
    this.frame = 0;
    this.renderRows();
  }

  private ensurePool(n: number): void {
    while (this.pool.length < n) {
      const off = h('span', { class: 'xi-ho' });
      const bytes: HTMLElement[] = [];
      const chars: HTMLElement[] = [];
      const hexPart = h('span', { class: 'xi-hbs' });
      const ascPart = h('span', { class: 'xi-has' });
      for (let k = 0; k < HEX_ROW; k++) {
        const b = h('span', { class: 'xi-hb' });
        bytes.push(b);
        hexPart.append(b);
        const c = h('span', { class: 'xi-ha' });
        chars.push(c);
        ascPart.append(c);
      }
      const row = h('div', { class: 'xi-hr' }, off, hexPart, ascPart);
      this.rowsEl.append(row);
      this.pool.push({ row, off, bytes, chars });
    }
  }

  private renderRows(): void {
    const p = this.page;
    if (p === undefined) return;
    const base = p.view.base;
    const len = p.bytes.length;
    const { first, count } = hexRows(base, len);
    const top = Math.floor(this.scroller.scrollTop / ROW_H);
    const n = Math.min(count - top, Math.ceil((this.scroller.clientHeight || MAX_ROWS * ROW_H) / ROW_H) + 1);
    this.ensurePool(Math.max(0, n));
    this.rowsEl.style.transform = `translateY(${top * ROW_H}px)`;
    const hov = this.hovered >= 0 ? p.view.fields[this.hovered] : undefined;
    const sel = this.selected >= 0 ? p.view.fields[this.selected] : undefined;
    const inside = (f: FieldAnnotation | undefined, o: number): boolean => f !== undefined && o >= f.offset && o < f.offset + f.size;
    for (let r = 0; r < this.pool.length; r++) {
      const els = this.pool[r]!;
      if (r >= n) {
        els.row.hidden = true;
        continue;
      }
      els.row.hidden = false;
      const rowOff = first + (top + r) * HEX_ROW;
      els.off.textContent = offsetLabel(rowOff);
      for (let k = 0; k < HEX_ROW; k++) {
        const o = rowOff + k;
        const i = o - base;
        const b = els.bytes[k]!;
        const c = els.chars[k]!;
        if (i < 0 || i >= len) {
          b.textContent = '  ';
          c.textContent = ' ';
          b.className = k === 8 ? 'xi-hb xi-mid xi-out' : 'xi-hb xi-out';
          c.className = 'xi-ha xi-out';
          delete b.dataset.o;
          delete c.dataset.o;
          continue;
        }
        const v = p.bytes[i]!;
        const f = p.fieldAt[i]!;
        let cls = f < 0 ? ' xi-nofield' : f % 2 === 0 ? ' xi-f0' : ' xi-f1';
        if (v === 0) cls += ' xi-zero';
        if (this.changed !== null && this.changed[i] === 1) cls += ' xi-chg';
        if (inside(sel, o)) cls += ' xi-sel';
        if (inside(hov, o)) cls += ' xi-hov';
        if (this.marks.has(o)) cls += ' xi-mark';
        if (f >= 0 && (o === p.view.fields[f]!.offset || i === 0)) cls += ' xi-fstart';
        b.textContent = hex2(v);
        b.className = `xi-hb${k === 8 ? ' xi-mid' : ''}${cls}`;
        b.dataset.o = String(o);
        c.textContent = asciiOf(v);
        c.className = `xi-ha${cls}`;
        c.dataset.o = String(o);
      }
    }
  }

  private offsetOf(t: EventTarget | null): number | undefined {
    if (!(t instanceof HTMLElement) || t.dataset.o === undefined) return undefined;
    return Number(t.dataset.o);
  }

  private hover(e: MouseEvent): void {
    const o = this.offsetOf(e.target);
    const p = this.page;
    if (o === undefined || p === undefined) {
      this.tip.hide();
      this.setHover(-1);
      return;
    }
    const i = o - p.view.base;
    const fi = p.fieldAt[i] ?? -1;
    this.setHover(fi);
    const v = p.bytes[i]!;
    const byteLine = `byte 0x${o.toString(16)} (${o}) = 0x${hex2(v)}${v >= 0x20 && v < 0x7f ? ` '${asciiOf(v)}'` : ''}${this.changed?.[i] === 1 ? ' · changed' : ''}`;
    if (fi < 0) {
      this.tip.show([{ text: 'not in a named field', kind: 'title' }, { text: byteLine, kind: 'dim' }], e.clientX, e.clientY);
      return;
    }
    const f = p.view.fields[fi]!;
    this.tip.show(
      [
        { text: f.name, kind: 'title' },
        { text: f.value, kind: 'mono' },
        ...(f.doc === undefined ? [] : [{ text: f.doc }]),
        { text: `offset 0x${f.offset.toString(16)} (${f.offset}) · ${f.size} byte${f.size === 1 ? '' : 's'} · ${byteLine}`, kind: 'dim' as const },
      ],
      e.clientX,
      e.clientY,
    );
  }

  private setHover(fi: number): void {
    if (fi === this.hovered) return;
    this.hovered = fi;
    this.renderRows();
  }

  private renderFields(): void {
    const p = this.page!;
    const names = `${p.view.name}\n${p.view.fields.map((f) => f.name).join('\n')}`;
    if (names !== this.fieldNames) {
      this.fieldNames = names;
      this.fieldRows = p.view.fields.map((f, i) =>
        h(
          'tr',
          { 'data-field': String(i), tabindex: '0', title: f.doc ?? '' },
          h('td', { class: 'xi-fo' }, `0x${offsetLabel(f.offset)}`),
          h('td', { class: 'xi-fn' }, f.name),
          h('td', { class: 'xi-fs' }, String(f.size)),
          h('td', { class: 'xi-fv' }, f.value),
        ),
      );
      this.fieldBody.replaceChildren(...this.fieldRows);
      this.applyFilter();
    }
    p.view.fields.forEach((f, i) => {
      const tr = this.fieldRows[i]!;
      const cell = tr.lastElementChild as HTMLElement;
      if (cell.textContent !== f.value) cell.textContent = f.value;
      tr.classList.toggle('xi-chg', this.changedFields.has(`${p.view.name}\u0000${f.name}`));
      tr.setAttribute('aria-selected', String(i === this.selected));
    });
  }

  private applyFilter(): void {
    const q = this.filter.value.trim().toLowerCase();
    let shown = 0;
    const fields = this.page?.view.fields ?? [];
    this.fieldRows.forEach((tr, i) => {
      const f = fields[i];
      const ok = q === '' || (f !== undefined && (f.name.toLowerCase().includes(q) || f.value.toLowerCase().includes(q)));
      tr.hidden = !ok;
      if (ok) shown++;
    });
    this.fieldCount.textContent = q === '' ? `${fields.length} field${fields.length === 1 ? '' : 's'}` : `${shown} of ${fields.length}`;
  }

  private selectField(i: number, scrollHex: boolean): void {
    const p = this.page;
    if (p === undefined || p.view.fields[i] === undefined) return;
    this.selected = this.selected === i && !scrollHex ? -1 : i;
    this.fieldRows.forEach((tr, k) => tr.setAttribute('aria-selected', String(k === this.selected)));
    if (this.selected >= 0) {
      if (scrollHex) this.reveal(p.view.fields[i]!.offset);
      else this.showFieldRow(i);
    }
    this.schedule();
  }

  /** Scrolls the field list (only it, not the view around it) to a field's row. */
  private showFieldRow(i: number): void {
    const tr = this.fieldRows[i];
    if (tr === undefined || tr.hidden) return;
    const box = this.fieldScroll;
    const head = tr.parentElement?.previousElementSibling?.getBoundingClientRect().height ?? 0;
    const top = tr.offsetTop;
    if (top - head < box.scrollTop) box.scrollTop = top - head;
    else if (top + tr.offsetHeight > box.scrollTop + box.clientHeight) box.scrollTop = top + tr.offsetHeight - box.clientHeight;
  }

  /** Goes to a page offset typed as 0x800 or 2048: scrolls there and selects the field it is in. */
  private goTo(text: string): void {
    const p = this.page;
    const t = text.trim();
    const o = /^0x[0-9a-f]+$/i.test(t) ? parseInt(t.slice(2), 16) : /^[0-9]+$/.test(t) ? Number(t) : NaN;
    const ok = p !== undefined && Number.isFinite(o) && o >= p.view.base && o < p.view.base + p.bytes.length;
    this.goto.classList.toggle('xl-not-found', !ok);
    if (!ok) return;
    const f = p.fieldAt[o - p.view.base] ?? -1;
    if (f >= 0) {
      this.selected = f;
      this.fieldRows.forEach((tr, k) => tr.setAttribute('aria-selected', String(k === f)));
      this.showFieldRow(f);
    }
    this.reveal(o);
  }

  /** A hex dump of the selected field, or of the whole page, to the clipboard. */
  copy(): void {
    const p = this.page;
    if (p === undefined) return;
    const f = this.selected >= 0 ? p.view.fields[this.selected] : undefined;
    const text = f === undefined ? hexDump(p.bytes, p.view.base) : hexDump(p.bytes, p.view.base, f.offset, f.offset + f.size);
    const what = f === undefined ? `${p.view.name} (${p.bytes.length} bytes)` : `${f.name} (${f.size} bytes)`;
    navigator.clipboard.writeText(`${f === undefined ? p.view.name : `${p.view.name}: ${f.name} = ${f.value}`}\n${text}\n`).then(
      () => this.events.copied(what),
      () => this.events.copyFailed(),
    );
  }
}
