/**
 * The event list's detail pane: the selected record with every field —
 * args, out and idx opened out as a tree —, its summary, and the record it
 * follows from (a link). Right-click (or the context-menu key) on a field
 * offers to filter by it; the view builds that menu.
 */
import { h } from '../../util/dom.js';
import { detailRows, domainLabel, KIND_LABELS, type DetailRow } from './format.js';

export interface DetailEvents {
  fieldMenu(row: DetailRow, x: number, y: number, from: HTMLElement): void;
  /** The cause link: that record is the selection now. */
  selectSeq(seq: number): void;
}

export class DetailPane {
  readonly el: HTMLElement;
  private readonly head: HTMLElement;
  private readonly tree: HTMLElement;
  private readonly empty: HTMLElement;
  private rows: DetailRow[] = [];
  private collapsed = new Set<string>();
  /** The record shown (with its summary and cause when the host sent them). */
  record: Readonly<Record<string, unknown>> | undefined;

  constructor(
    private readonly on: DetailEvents,
    private readonly names: () => ReadonlyMap<number, string>,
  ) {
    this.head = h('div', { class: 'xl-ev-dhead' });
    this.tree = h('div', { class: 'xl-ev-dtree', role: 'tree', 'aria-label': 'Fields of the record', tabindex: '0' });
    this.empty = h('div', { class: 'xl-empty' }, 'Select a record to see every field. Right-click a field to filter by it.');
    this.el = h('div', { class: 'xl-ev-detail', role: 'region', 'aria-label': 'Record details', 'data-testid': 'event-detail' }, this.head, this.tree, this.empty);
    this.tree.addEventListener('contextmenu', (e) => {
      const at = this.rowOf(e.target);
      if (at === undefined) return;
      e.preventDefault();
      this.focusRow(at.el);
      this.on.fieldMenu(at.row, e.clientX, e.clientY, at.el);
    });
    this.tree.addEventListener('click', (e) => {
      const at = this.rowOf(e.target);
      if (at === undefined) return;
      this.focusRow(at.el);
      if (at.row.object && (e.target as Element).closest('.xl-ev-twisty') !== null) this.toggle(at.row.path);
    });
    this.tree.addEventListener('keydown', (e) => this.onKey(e));
    this.tree.addEventListener('focus', () => {
      const first = this.tree.querySelector<HTMLElement>('.xl-ev-field');
      if (first !== null && !this.tree.contains(document.activeElement) && document.activeElement === this.tree) this.focusRow(first);
    });
    this.show(undefined, '');
  }

  /** Shows a record, or (undefined) `note` — why there is none. */
  show(record: Readonly<Record<string, unknown>> | undefined, note: string): void {
    this.record = record;
    this.empty.hidden = record !== undefined;
    this.head.hidden = record === undefined;
    this.tree.hidden = record === undefined;
    if (record === undefined) {
      this.empty.textContent = note || 'Select a record to see every field. Right-click a field to filter by it.';
      this.tree.replaceChildren();
      this.rows = [];
      return;
    }
    const kind = String(record.kind ?? '');
    const seq = Number(record.seq);
    const dom = typeof record.dom === 'number' ? record.dom : -1;
    const cause = typeof record.cause === 'number' ? record.cause : undefined;
    const causeLink = cause === undefined ? undefined : h('button', { class: 'xl-ev-link', title: 'Select the record this one follows from (the send or raise that made its port pending)', 'data-testid': 'event-cause' }, `follows from record ${cause.toLocaleString('en-US')}`);
    causeLink?.addEventListener('click', () => this.on.selectSeq(cause!));
    this.head.replaceChildren(
      h(
        'div',
        { class: 'xl-ev-dtitle', 'data-kind': kind },
        h('span', { class: 'xl-ev-dkind' }, KIND_LABELS[kind] ?? kind),
        h('span', { class: 'xl-ev-dseq' }, `record ${seq.toLocaleString('en-US')}`),
        dom < 0 ? undefined : h('span', { class: 'xl-ev-ddom' }, `${domainLabel(dom, this.names())} (${dom})`),
        causeLink,
      ),
      ...(typeof record.summary === 'string' ? [h('div', { class: 'xl-ev-dsummary', title: record.summary }, record.summary)] : []),
    );
    this.rows = detailRows(record);
    this.renderTree();
  }

  private renderTree(): void {
    const names = this.names();
    const out: HTMLElement[] = [];
    let hiddenBelow = -1;
    for (const [i, r] of this.rows.entries()) {
      if (hiddenBelow >= 0 && r.depth > hiddenBelow) continue;
      hiddenBelow = -1;
      const open = !this.collapsed.has(r.path);
      if (r.object && !open) hiddenBelow = r.depth;
      const value = r.path === 'dom' || r.path.endsWith('.dom') || r.path === 'remote_dom' || r.path.endsWith('.remote_dom') ? domValue(r.value, names) : r.text;
      out.push(
        h(
          'div',
          {
            class: `xl-ev-field${r.object ? ' xl-ev-object' : ''}`,
            role: 'treeitem',
            'aria-level': String(r.depth + 1),
            'aria-expanded': r.object ? String(open) : undefined,
            tabindex: '-1',
            'data-i': String(i),
            'data-path': r.path,
            style: `--depth: ${r.depth}`,
            title: 'Right-click: filter by this field',
          },
          h('span', { class: 'xl-ev-twisty' }, r.object ? (open ? '▾' : '▸') : ''),
          h('span', { class: 'xl-ev-fkey' }, r.key),
          h('span', { class: 'xl-ev-fval' }, value),
        ),
      );
    }
    this.tree.replaceChildren(...out);
  }

  private rowOf(target: EventTarget | null): { row: DetailRow; el: HTMLElement } | undefined {
    const el = target instanceof Element ? target.closest<HTMLElement>('.xl-ev-field') : null;
    const row = el === null ? undefined : this.rows[Number(el.dataset.i)];
    return row === undefined || el === null ? undefined : { row, el };
  }

  private focusRow(el: HTMLElement): void {
    for (const r of this.tree.querySelectorAll<HTMLElement>('.xl-ev-field[tabindex="0"]')) r.tabIndex = -1;
    el.tabIndex = 0;
    el.focus({ preventScroll: false });
  }

  private toggle(path: string): void {
    if (this.collapsed.has(path)) this.collapsed.delete(path);
    else this.collapsed.add(path);
    this.renderTree();
    const el = this.tree.querySelector<HTMLElement>(`.xl-ev-field[data-path="${CSS.escape(path)}"]`);
    if (el !== null) this.focusRow(el);
  }

  private onKey(e: KeyboardEvent): void {
    const cur = (document.activeElement as Element | null)?.closest<HTMLElement>('.xl-ev-field');
    const all = [...this.tree.querySelectorAll<HTMLElement>('.xl-ev-field')];
    const i = cur === null || cur === undefined ? -1 : all.indexOf(cur);
    const go = (j: number): void => {
      const el = all[Math.max(0, Math.min(all.length - 1, j))];
      if (el !== undefined) {
        e.preventDefault();
        this.focusRow(el);
      }
    };
    const row = cur === null || cur === undefined ? undefined : this.rows[Number(cur.dataset.i)];
    switch (e.key) {
      case 'ArrowDown':
        return go(i + 1);
      case 'ArrowUp':
        return go(i - 1);
      case 'Home':
        return go(0);
      case 'End':
        return go(all.length - 1);
      case 'ArrowRight':
      case 'ArrowLeft':
        if (row?.object === true && this.collapsed.has(row.path) === (e.key === 'ArrowRight')) {
          e.preventDefault();
          this.toggle(row.path);
        }
        return;
      case 'ContextMenu':
        if (row !== undefined && cur !== null && cur !== undefined) {
          e.preventDefault();
          const r = cur.getBoundingClientRect();
          this.on.fieldMenu(row, r.left + 40, r.bottom, cur);
        }
        return;
    }
  }
}

function domValue(v: unknown, names: ReadonlyMap<number, string>): string {
  if (typeof v !== 'number') return String(v);
  const label = domainLabel(v, names);
  return label === `dom ${v}` || label === '' ? String(v) : `${v}  (${label})`;
}
