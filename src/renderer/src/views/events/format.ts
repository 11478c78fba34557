/**
 * The event list's pure logic: how times and domains are written in its
 * columns, which field a cell stands for, how a filter grows from a field
 * ("add to filter", "exclude"), the applied-filter history, the detail
 * pane's rows for a record, and the scroll arithmetic of a list too tall
 * for the browser to lay out in full. No DOM here (test/renderer tests it).
 */
import { DOMID_NAMES } from '../../../../core/abi/domid.js';
import { lookupField, parseFilter, type FilterXen } from '../../../../core/sim/filter.js';

// ---------------------------------------------------------------------------
// Columns

/**
 * Virtual time for the Time column: in the unit that keeps the number
 * short, to the nanosecond (the clock's resolution: records a few ns apart
 * must not look simultaneous), so times in one unit line up.
 */
export function formatTime(ns: number): string {
  if (!Number.isFinite(ns)) return '';
  if (ns < 1000) return `${ns} ns`;
  if (ns < 1e6) return `${(ns / 1e3).toFixed(3)} µs`;
  if (ns < 1e9) return `${(ns / 1e6).toFixed(6)} ms`;
  return `${(ns / 1e9).toFixed(9)} s`;
}

/** The exact time, for tooltips: "1,000,500 ns". */
export function exactTime(ns: number): string {
  return `${Math.round(ns).toLocaleString('en-US')} ns`;
}

const RESERVED_DOMIDS: ReadonlyMap<number, string> = new Map(Object.entries(DOMID_NAMES).map(([name, id]) => [id, name]));

/** A domain as the Domain column writes it: its name when the topology knows it, else "dom N"; -1 (no domain) is empty. */
export function domainLabel(dom: number, names: ReadonlyMap<number, string>): string {
  if (dom < 0) return '';
  return names.get(dom) ?? RESERVED_DOMIDS.get(dom) ?? `dom ${dom}`;
}

/** The record kinds the list colours (SessionInfo.traceKinds names them). */
export const KIND_LABELS: Readonly<Record<string, string>> = {
  hypercall: 'hypercall',
  bit: 'bit',
  upcall: 'upcall',
  handler: 'handler',
  port: 'port',
  raise: 'raise',
  grant_entry: 'grant',
  ring: 'ring',
  domain: 'domain',
  note: 'note',
  ctrl_msg: 'ctrl_msg',
  xs_msg: 'xs_msg',
  cons: 'cons',
  fault: 'fault',
};

/** What each kind of record is (the filter language's own words), for the Kind column's tooltip. */
export const KIND_DOCS: ReadonlyMap<string, string> = (() => {
  const r = lookupField('kind');
  return new Map(r.ok ? (r.spec.names?.list('4') ?? []).map((i) => [i.label, i.detail]) : []);
})();

export type ColumnId = 'seq' | 'time' | 'dom' | 'vcpu' | 'kind' | 'summary';

export interface Column {
  id: ColumnId;
  title: string;
  /** Default width, px (the summary takes the rest). */
  width: number;
  align: 'left' | 'right';
  tooltip: string;
}

export const COLUMNS: readonly Column[] = [
  { id: 'seq', title: 'No.', width: 80, align: 'right', tooltip: 'Record number (seq), from 0' },
  { id: 'time', title: 'Time', width: 124, align: 'right', tooltip: 'Virtual time of the record' },
  { id: 'dom', title: 'Domain', width: 96, align: 'left', tooltip: 'The domain it happened in; a hypercall’s caller' },
  { id: 'vcpu', title: 'vCPU', width: 44, align: 'right', tooltip: 'The vCPU' },
  { id: 'kind', title: 'Kind', width: 84, align: 'left', tooltip: 'The record’s kind' },
  { id: 'summary', title: 'Summary', width: 0, align: 'left', tooltip: 'What happened' },
];

/** The field a right-click on a summary cell filters by: the one the kind is mostly told apart by. */
const SUMMARY_FIELD: Readonly<Record<string, string>> = {
  hypercall: 'op',
  bit: 'field',
  upcall: 'vcpu',
  handler: 'port',
  port: 'state',
  raise: 'port',
  grant_entry: 'ref',
  ring: 'ring',
  domain: 'event',
  note: 'text',
  ctrl_msg: 'type',
  xs_msg: 'type',
  cons: 'dir',
  fault: 'fault',
};

/** The filter field a list cell stands for ("Filter by this value" on a cell). */
export function cellField(column: ColumnId, kind: string): string {
  switch (column) {
    case 'seq':
      return 'seq';
    case 'time':
      return 't';
    case 'dom':
      return 'dom';
    case 'vcpu':
      return 'vcpu';
    case 'kind':
      return 'kind';
    case 'summary':
      return SUMMARY_FIELD[kind] ?? 'kind';
  }
}

// ---------------------------------------------------------------------------
// Filters built from a field

export type ComposeMode = 'replace' | 'and' | 'exclude';

/** `!(x)` for a clause; `!path` (the field is absent) negates to `path`. */
function negate(clause: string): string {
  if (/^![A-Za-z_][\w.]*$/.test(clause)) return clause.slice(1);
  return clause.startsWith('(') && clause.endsWith(')') && balanced(clause.slice(1, -1)) ? `!${clause}` : `!(${clause})`;
}

/** True when the parentheses of `s` balance without going below zero (outside quotes and regexes it is close enough). */
function balanced(s: string): boolean {
  let depth = 0;
  for (const c of s) {
    if (c === '(') depth++;
    else if (c === ')' && --depth < 0) return false;
  }
  return depth === 0;
}

/**
 * The filter after "Filter by this value" (replace), "Add to filter (and)"
 * or "Exclude (and not)" with `clause` (from fieldFilter). The current
 * filter is kept as written, in parentheses when it has a top-level `||`
 * (so the new clause binds to all of it).
 */
export function composeFilter(current: string, clause: string, mode: ComposeMode, xen: FilterXen): string {
  const part = mode === 'exclude' ? negate(clause) : clause;
  const cur = current.trim();
  if (mode === 'replace' || cur === '') return part;
  const parsed = parseFilter(cur, { xen });
  const wrap = parsed.ok && parsed.filter.expr.type === 'or';
  return `${wrap ? `(${cur})` : cur} && ${part}`;
}

/** True when `path` is a field a filter can name (the detail pane's summary and cause are not). */
export function isFilterField(path: string): boolean {
  return lookupField(path).ok;
}

// ---------------------------------------------------------------------------
// History of applied filters

export const HISTORY_MAX = 20;

/** The history with `text` applied: most recent first, once each, at most HISTORY_MAX; '' is not kept. */
export function pushHistory(history: readonly string[], text: string): string[] {
  const t = text.trim();
  if (t === '') return [...history];
  return [t, ...history.filter((h) => h !== t)].slice(0, HISTORY_MAX);
}

/** A stored history read back: strings only, trimmed, at most HISTORY_MAX (anything else in storage is ignored). */
export function readHistory(raw: string | null): string[] {
  if (raw === null) return [];
  try {
    const v = JSON.parse(raw) as unknown;
    if (!Array.isArray(v)) return [];
    return v.filter((x): x is string => typeof x === 'string' && x.trim() !== '').slice(0, HISTORY_MAX);
  } catch {
    return [];
  }
}

// ---------------------------------------------------------------------------
// The detail pane

export interface DetailRow {
  /** The field's path in the filter language ("args.remote_dom"), or its key for fields a filter cannot name. */
  path: string;
  key: string;
  depth: number;
  /** The value as shown; '' for an object (its members follow). */
  text: string;
  /** The raw value (copied by "Copy value": objects as JSON). */
  value: unknown;
  object: boolean;
}

/** The order the detail pane lists a record's fields in: identity first, then the rest as the record has them. */
const FIRST = ['seq', 't', 'kind', 'dom', 'vcpu'];
/** Fields shown elsewhere in the pane (its heading and the cause link). */
const HIDDEN = new Set(['summary', 'cause']);

/** Every field of a record as rows of a tree: objects (args, out, idx) followed by their members, one level deeper. */
export function detailRows(record: Readonly<Record<string, unknown>>): DetailRow[] {
  const rows: DetailRow[] = [];
  const keys = [...FIRST.filter((k) => k in record), ...Object.keys(record).filter((k) => !FIRST.includes(k) && !HIDDEN.has(k))];
  const add = (key: string, path: string, value: unknown, depth: number): void => {
    if (value !== null && typeof value === 'object') {
      rows.push({ path, key, depth, text: Array.isArray(value) ? `[${value.length}]` : '', value, object: true });
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) add(k, `${path}.${k}`, v, depth + 1);
    } else {
      rows.push({ path, key, depth, text: valueText(key, value), value, object: false });
    }
  };
  for (const k of keys) add(k, k, record[k], 0);
  return rows;
}

/** A field's value as the detail pane writes it: times with their unit, flags in hex, text quoted. */
function valueText(key: string, v: unknown): string {
  // Names as they are (send, evtchn_pending); text with spaces or escapes quoted, as a filter writes it.
  if (typeof v === 'string') return /^[\w.\-/:@]+$/.test(v) ? v : JSON.stringify(v);
  if (typeof v === 'number') {
    if (key === 't' || key === 'until' || key === 'delay') return formatTime(v);
    if (key === 'flags') return `0x${v.toString(16)}  (${v})`;
    return String(v);
  }
  return String(v);
}

/** "Copy value": text as it is, numbers in decimal, objects as JSON. */
export function copyText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v !== null && typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

// ---------------------------------------------------------------------------
// Scrolling a list taller than the browser lays out

/** The tallest scroll area the list makes; beyond it, the scrollbar is scaled (Chromium stops near 33.5 million px). */
export const MAX_SCROLL_PX = 8_000_000;

/**
 * The list's scroll geometry: `virtualTop` is the offset in the full list
 * (rows × rowHeight), the source of truth; the scroller's own scrollTop is
 * that offset scaled into at most MAX_SCROLL_PX.
 */
export class ScrollModel {
  total = 0;
  viewHeight = 0;
  virtualTop = 0;

  constructor(readonly rowHeight: number) {}

  get fullHeight(): number {
    return this.total * this.rowHeight;
  }
  /** The height of the scroller's content. */
  get scrollHeight(): number {
    return Math.min(this.fullHeight, MAX_SCROLL_PX);
  }
  get maxVirtualTop(): number {
    return Math.max(0, this.fullHeight - this.viewHeight);
  }
  private get maxScrollTop(): number {
    return Math.max(0, this.scrollHeight - this.viewHeight);
  }

  /** Keeps virtualTop inside the list. */
  clamp(): void {
    this.virtualTop = Math.max(0, Math.min(this.virtualTop, this.maxVirtualTop));
  }

  /** The scroller's scrollTop for virtualTop. */
  scrollTopFor(): number {
    const mv = this.maxVirtualTop;
    return mv === 0 ? 0 : Math.round((this.virtualTop / mv) * this.maxScrollTop);
  }

  /**
   * The user scrolled the scroller from `prev` to `now`: a small move (wheel,
   * keys) moves the list by as many pixels, so scrolling stays row by row
   * even when scaled; a jump (dragging the scrollbar) goes to the same
   * proportion of the list.
   */
  scrolled(prev: number, now: number): void {
    const ms = this.maxScrollTop;
    if (this.scrollHeight === this.fullHeight) this.virtualTop = now;
    else if (Math.abs(now - prev) <= this.viewHeight * 2 && now > 0 && now < ms) this.virtualTop += now - prev;
    else this.virtualTop = ms === 0 ? 0 : (now / ms) * this.maxVirtualTop;
    this.clamp();
  }

  /** The rows [first, end) that show (some only partly), and how far the first is scrolled past its top. */
  visible(): { first: number; end: number; offset: number } {
    const first = Math.floor(this.virtualTop / this.rowHeight);
    const offset = this.virtualTop - first * this.rowHeight;
    const end = Math.min(this.total, first + Math.ceil((this.viewHeight + offset) / this.rowHeight));
    return { first, end, offset };
  }

  /** Scrolls as little as needed for row `i` to show in full. */
  reveal(i: number): void {
    const top = i * this.rowHeight;
    if (top < this.virtualTop) this.virtualTop = top;
    else if (top + this.rowHeight > this.virtualTop + this.viewHeight) this.virtualTop = top + this.rowHeight - this.viewHeight;
    this.clamp();
  }

  /** Puts row `i` in the middle of the view (a record selected elsewhere). */
  center(i: number): void {
    this.virtualTop = i * this.rowHeight - (this.viewHeight - this.rowHeight) / 2;
    this.clamp();
  }

  atEnd(): boolean {
    return this.virtualTop >= this.maxVirtualTop - 1;
  }

  /** Rows that fit in the view in full (PageUp/PageDown move by this many). */
  get pageRows(): number {
    return Math.max(1, Math.floor(this.viewHeight / this.rowHeight) - 1);
  }
}

// ---------------------------------------------------------------------------
// A filter error's suggestion

/** The name a filter error suggests ("— did you mean 'port'?"), and the text with it in place of the error's range. */
export function suggestionFix(text: string, error: { start: number; end: number; message: string }): { name: string; text: string } | undefined {
  const m = /did you mean '([^']+)'\?/.exec(error.message);
  if (m === null || error.end <= error.start) return undefined;
  return { name: m[1]!, text: text.slice(0, error.start) + m[1]! + text.slice(error.end) };
}
