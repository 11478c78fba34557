/**
 * Trace filters: a small language over decoded trace records, like
 * Wireshark's display filters (`dom==1 && port==5 && op==send`). Used by the
 * event list (checked as you type, with completion) and by scenario
 * expectations. docs/filter.md describes the language.
 *
 *  - parseFilter(text) checks a filter (filter_syntax.ts);
 *  - compileFilter(filter) makes it a predicate (closures, no allocation per record);
 *  - filterCompletions(text, caret) lists what may be typed at the caret;
 *  - fieldFilter(record, path) writes the filter for "records with this field's value".
 */
import { ERRNO_NAMES } from '../abi/errno.js';
import { HYPERCALL_OWN_FIELDS, fieldsUnder, lookupField, type FieldSpec, type FilterItem, type FilterXen } from './filter_fields.js';
import { isBareWord, positionAtEnd, resolveName, type CompareOp, type Filter, type FilterError, type FilterExpr, type FilterOptions, type FilterPosition } from './filter_syntax.js';
import type { TraceRecord } from './trace.js';

export { FILTER_FIELDS, lookupField, type FieldSpec, type FilterItem, type FilterXen } from './filter_fields.js';
export { parseFilter, printFilter, type CompareOp, type Filter, type FilterError, type FilterExpr, type FilterOptions, type FilterValue, type ParseResult } from './filter_syntax.js';

export type RecordPredicate = (r: TraceRecord) => boolean;
type Getter = (r: TraceRecord) => unknown;
type Fields = Record<string, unknown>;

// ---------------------------------------------------------------------------
// Reading a field

/** "-EINVAL" → -22, "0" → 0: a hypercall record's ret as a number. */
const RET_BY_NAME: ReadonlyMap<string, number> = new Map(Object.entries(ERRNO_NAMES).map(([v, n]) => [`-${n}`, -Number(v)]));
function retNumber(ret: string): number {
  return RET_BY_NAME.get(ret) ?? Number(ret);
}

/** A hypercall's port: the one it acts on (args.port, Xen 2.0's args.local_port) or the one it made (out.port, out.local_port). */
function hypercallPort(args: Fields, out: Fields | undefined): unknown {
  return args.port ?? args.local_port ?? out?.port ?? out?.local_port;
}

/**
 * Reads a field path. A hypercall record reads a field it does not have from
 * its args, then its out. `numeric`: ret as a number (for comparisons) rather
 * than as the record writes it ("-EINVAL", for ~).
 */
function getter(path: string, numeric: boolean): Getter {
  const segs = path.split('.');
  const first = segs[0]!;
  let get: Getter;
  if (first === 'ret' && numeric) get = (r) => (r.kind === 'hypercall' ? retNumber(r.ret) : undefined);
  else if (HYPERCALL_OWN_FIELDS.has(first)) get = (r) => (r as unknown as Fields)[first];
  else if (first === 'port') get = (r) => (r.kind === 'hypercall' ? hypercallPort(r.args, r.out) : (r as unknown as Fields).port);
  else get = (r) => (r.kind === 'hypercall' ? (r.args[first] ?? r.out?.[first]) : (r as unknown as Fields)[first]);
  for (let i = 1; i < segs.length; i++) {
    const outer = get;
    const seg = segs[i]!;
    get = (r) => {
      const v = outer(r);
      return v !== null && typeof v === 'object' ? (v as Fields)[seg] : undefined;
    };
  }
  return get;
}

// ---------------------------------------------------------------------------
// Compiling

/** The predicate a parsed filter stands for. Compile once, call per record: nothing is allocated per call. */
export function compileFilter(filter: Filter): RecordPredicate {
  return compile(filter.expr, filter.xen);
}

function compile(e: FilterExpr, xen: FilterXen): RecordPredicate {
  switch (e.type) {
    case 'all':
      return () => true;
    case 'and': {
      const a = compile(e.left, xen);
      const b = compile(e.right, xen);
      return (r) => a(r) && b(r);
    }
    case 'or': {
      const a = compile(e.left, xen);
      const b = compile(e.right, xen);
      return (r) => a(r) || b(r);
    }
    case 'not': {
      const a = compile(e.expr, xen);
      return (r) => !a(r);
    }
    case 'present': {
      const get = getter(e.field, true);
      return (r) => {
        const v = get(r);
        return v !== undefined && v !== null && v !== 0 && v !== '' && v !== false;
      };
    }
    case 'compare':
      return compileCompare(e.field, e.op, e.value, xen);
    case 'contains':
      return compileRegExp(e.field, new RegExp(e.text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'), 'i'));
    case 'matches':
      return compileRegExp(e.field, new RegExp(e.pattern, e.flags));
  }
}

function spec(path: string): FieldSpec {
  const r = lookupField(path);
  if (!r.ok) throw new Error(`filter: ${r.message} (parse the filter with parseFilter first)`);
  return r.spec;
}

function compileCompare(path: string, op: CompareOp, value: Extract<FilterExpr, { type: 'compare' }>['value'], xen: FilterXen): RecordPredicate {
  const s = spec(path);
  let x: number | string;
  let get: Getter;
  if (value.type === 'number') {
    x = value.value;
    get = getter(path, true);
  } else {
    const r = resolveName(s, value, xen);
    if (r === undefined) throw new Error(`filter: '${path}' has no value named ${JSON.stringify(value)} (parse the filter with parseFilter first)`);
    x = r;
    // type==XS_READ compares type_name.
    get = s.nameField !== undefined && typeof r === 'string' ? getter(s.nameField, true) : getter(path, true);
  }
  switch (op) {
    case '==':
      return (r) => get(r) === x;
    case '!=':
      return (r) => get(r) !== x;
    case '<':
      return (r) => {
        const v = get(r);
        return typeof v === 'number' && v < (x as number);
      };
    case '<=':
      return (r) => {
        const v = get(r);
        return typeof v === 'number' && v <= (x as number);
      };
    case '>':
      return (r) => {
        const v = get(r);
        return typeof v === 'number' && v > (x as number);
      };
    case '>=':
      return (r) => {
        const v = get(r);
        return typeof v === 'number' && v >= (x as number);
      };
  }
}

function compileRegExp(path: string, re: RegExp): RecordPredicate {
  const get = getter(path, false);
  return (r) => {
    const v = get(r);
    return typeof v === 'string' ? re.test(v) : typeof v === 'number' && re.test(String(v));
  };
}

// ---------------------------------------------------------------------------
// Filter by a field's value ("right-click → filter by this field")

/**
 * The filter that selects records whose field at `path` ("port", "args.remote_dom",
 * "out.status") has the value it has in `record`: `port==5`, `op==send`,
 * `ret==-EINVAL`, `virq==VIRQ_TIMER`, `text=="a b"`. An object gives each of its
 * members (`(args.dom==DOMID_SELF && args.port==1)`); a field the record lacks
 * gives `!path`. The result always parses (with the same `xen`) and matches `record`.
 */
export function fieldFilter(record: TraceRecord, path: string, opts: FilterOptions = {}): string {
  const s = spec(path);
  const xen = opts.xen ?? '4';
  const v = getter(path, false)(record);
  if (v === undefined || v === null) return `!${path}`;
  if (typeof v === 'object') {
    const parts: string[] = [];
    for (const [k, member] of Object.entries(v as Fields)) {
      const sub = `${path}.${k}`;
      if (member !== undefined && member !== null && lookupField(sub).ok) parts.push(fieldFilter(record, sub, opts));
    }
    if (parts.length === 0) return path;
    return parts.length === 1 ? parts[0]! : `(${parts.join(' && ')})`;
  }
  if (typeof v === 'number') return `${path}==${numberText(s, v, record, xen)}`;
  const text = String(v);
  if (path === 'ret') return `ret==${RET_BY_NAME.has(text) ? text : String(retNumber(text))}`;
  return `${path}==${isBareWord(text) ? text : JSON.stringify(text)}`;
}

/** A number as its Xen name where the field has one (VIRQ_TIMER, DOMID_SELF, XS_READ), else in decimal. */
function numberText(s: FieldSpec, n: number, record: TraceRecord, xen: FilterXen): string {
  if (s.names === undefined) return String(n);
  if (s.nameField !== undefined) {
    const name = (record as unknown as Fields)[s.nameField];
    return typeof name === 'string' && s.names.resolve(name, xen) !== undefined ? name : String(n);
  }
  const named = s.names.list(xen).find((i) => s.names!.resolve(i.label, xen) === n);
  return named === undefined ? String(n) : named.label;
}

// ---------------------------------------------------------------------------
// Completion

export interface FilterCompletions {
  /** Offset where the completed text starts: an item replaces text[from, caret). */
  from: number;
  items: FilterItem[];
}

const OP_ITEMS: Readonly<Record<string, string>> = {
  '==': 'equals',
  '!=': 'differs, or the record lacks the field',
  '<': 'less than',
  '<=': 'at most',
  '>': 'greater than',
  '>=': 'at least',
  '~': 'contains text (any case), or matches a /regex/',
};
const LOGICAL_ITEMS: readonly FilterItem[] = [
  { label: '&&', detail: 'and' },
  { label: '||', detail: 'or' },
];
const CLOSE_ITEM: FilterItem = { label: ')', detail: "close '('" };
/** Operators typed in full; '=', '&' and '|' are still being typed. */
const WHOLE_OPERATORS = new Set(['==', '!=', '<', '<=', '>', '>=', '~', '&&', '||', '!']);

/**
 * What may be typed at `caret` in `text`: fields where a field goes (members
 * after "args."), operators after a field, the field's named values after an
 * operator (ops, kinds, port states, VIRQ names, errno names ...), '&&' and
 * '||' after a condition. Items that start with the text being typed come
 * first, then those that contain it.
 */
export function filterCompletions(text: string, caret: number, opts: FilterOptions = {}): FilterCompletions {
  const xen = opts.xen ?? '4';
  caret = Math.max(0, Math.min(caret, text.length));
  const before = text.slice(0, caret);
  const word = /[A-Za-z0-9_.-]*$/.exec(before)![0];
  const sym = word === '' ? /[=!<>&|~]*$/.exec(before)![0] : '';
  // An operator typed in full may still be the start of another ('!' of '!=' after a field).
  let typing = sym !== '' && WHOLE_OPERATORS.has(sym) ? '' : word || sym;
  let at = positionAtEnd(text.slice(0, caret - typing.length), xen);
  if (at === undefined && typing === '' && sym !== '') at = positionAtEnd(text.slice(0, caret - (typing = sym).length), xen);
  const from = caret - typing.length;
  if (at === undefined) return { from: caret, items: [] };
  if (at.want === 'field' && typing.includes('.')) {
    const dot = typing.lastIndexOf('.');
    const parent = typing.slice(0, dot);
    return { from: from + dot + 1, items: rank(fieldsUnder(parent).map(fieldItem), typing.slice(dot + 1)) };
  }
  return { from, items: rank(itemsAt(at, xen), typing) };
}

function fieldItem(f: FieldSpec): FilterItem {
  return { label: f.path.slice(f.path.lastIndexOf('.') + 1), detail: f.doc };
}

function itemsAt(at: FilterPosition, xen: FilterXen): FilterItem[] {
  switch (at.want) {
    case 'field':
      return fieldsUnder('').map(fieldItem);
    case 'operator': {
      const t = at.spec.type;
      const ops = t === 'object' ? [] : t === 'text' ? ['==', '!=', '~'] : t === 'number' ? ['==', '!=', '<', '<=', '>', '>='] : Object.keys(OP_ITEMS);
      return [...ops.map((label) => ({ label, detail: OP_ITEMS[label]! })), ...LOGICAL_ITEMS];
    }
    case 'value':
      return [...(at.spec.names?.list(xen) ?? [])];
    case 'text':
      return [];
    case 'logical':
      return at.depth > 0 ? [...LOGICAL_ITEMS, CLOSE_ITEM] : [...LOGICAL_ITEMS];
  }
}

function rank(all: readonly FilterItem[], typing: string): FilterItem[] {
  if (typing === '') return [...all];
  const t = typing.toLowerCase();
  const starts = all.filter((i) => i.label.toLowerCase().startsWith(t));
  // A word typed may be the middle of a name (TIMER in VIRQ_TIMER); an operator typed is its start.
  if (!/\w/.test(t)) return starts;
  const contains = all.filter((i) => !i.label.toLowerCase().startsWith(t) && i.label.toLowerCase().includes(t));
  return [...starts, ...contains];
}

// ---------------------------------------------------------------------------
// Messages

/**
 * A parse error for people: the filter on one line, and under it carets
 * beneath the offending text followed by the message.
 *
 *   dom==1 && prot==5
 *             ^^^^ unknown field 'prot' — did you mean 'port'?
 */
export function formatFilterError(text: string, error: FilterError): string {
  const shown = text.replace(/\s/g, ' ');
  const start = Math.min(error.start, shown.length);
  const width = Math.max(1, Math.min(error.end, shown.length) - start);
  return `${shown}\n${' '.repeat(start)}${'^'.repeat(width)} ${error.message}`;
}
