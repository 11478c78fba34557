/**
 * YAML text to a tree of nodes that remember where they came from, so every
 * later check can point at file:line:col.
 *
 * The tree is built from js-yaml's event stream (document, mapping, sequence,
 * scalar, alias, pop — each with its source offsets), and plain scalars are
 * resolved with YAML 1.2's core schema, as the editor's YAML language server
 * does. js-yaml's event parser is about ten times faster than composing a
 * full `yaml` Document, which keeps a 10,000-step scenario well under the
 * editor's keystroke budget (bench: `npm run bench -- --only=load`).
 */
import { EVENT_ID, getScalarValue, parseEvents, YAMLException, type Event, type ScalarEvent } from 'js-yaml';
import { ScenarioInputError, type Pos, type Problem } from './errors.js';

export interface YScalar {
  readonly kind: 'scalar';
  /** Source offset of the node (its quote for a quoted scalar); -1 for an empty value. */
  readonly start: number;
  readonly value: unknown;
  /** Written in quotes: its text starts one character after `start`. */
  readonly quoted: boolean;
}
export interface YMap {
  readonly kind: 'map';
  readonly start: number;
  /** `keyText`: the key as the checker reads it (a scalar's value as a string). */
  readonly pairs: { key: YNode; keyText: string; value: YNode | null }[];
}
export interface YSeq {
  readonly kind: 'seq';
  readonly start: number;
  readonly items: (YNode | null)[];
}
export type YNode = YScalar | YMap | YSeq;

/** Offsets to 1-based lines and columns. */
export class LineIndex {
  private readonly starts: number[] = [0];
  constructor(text: string) {
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.starts.push(i + 1);
  }
  linePos(offset: number): Pos {
    const s = this.starts;
    let lo = 0;
    let hi = s.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (s[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - s[lo]! + 1 };
  }
}

export interface Source {
  readonly file: string;
  readonly root: YNode | null;
  readonly lines: LineIndex;
  /** Every position read from it names the file (a solution's steps, spliced into an exercise). */
  readonly stampFile?: boolean;
}

/** Parses YAML, turning syntax errors into positioned problems. */
export function parseYaml(file: string, text: string, opts: { stampFile?: boolean } = {}): Source {
  const lines = new LineIndex(text);
  let events: Event[];
  try {
    events = parseEvents(text, { filename: file });
  } catch (e) {
    if (!(e instanceof YAMLException)) throw e;
    const mark = (e as { mark?: { line: number; column: number } }).mark;
    const reason = (e as { reason?: string }).reason ?? e.message;
    throw new ScenarioInputError([{ file, line: (mark?.line ?? 0) + 1, col: (mark?.column ?? 0) + 1, path: '', message: reason, hint: 'YAML syntax' }]);
  }
  const problems: Problem[] = [];
  const root = new TreeBuilder(text, events, (offset, message) => {
    const at = lines.linePos(Math.max(0, offset));
    problems.push({ file, line: at.line, col: at.col, path: '', message, hint: 'YAML syntax' });
  }).build();
  if (problems.length > 0) throw new ScenarioInputError(problems);
  return opts.stampFile === true ? { file, root, lines, stampFile: true } : { file, root, lines };
}

function keyText(key: YNode): string {
  if (key.kind === 'scalar') return String(key.value);
  if (key.kind === 'map') return '[object Object]';
  return key.items.map((n) => (n?.kind === 'scalar' ? String(n.value) : '?')).join(',');
}

const PLAIN = 1;
const SINGLE_QUOTED = 2;
const DOUBLE_QUOTED = 3;

/** YAML 1.2 core schema: what a plain scalar means (null, bool, int, float, else a string). */
export function resolvePlain(s: string): unknown {
  // Most scalars are words (keys, op and domain names): a first letter that no null, bool or
  // number starts with decides at once.
  const c = s.charCodeAt(0);
  const lower = c | 0x20;
  if (lower >= 0x61 && lower <= 0x7a && lower !== 0x6e && lower !== 0x74 && lower !== 0x66) return s; // not n, t, f
  if (s === '' || s === '~' || s === 'null' || s === 'Null' || s === 'NULL') return null;
  if (s === 'true' || s === 'True' || s === 'TRUE') return true;
  if (s === 'false' || s === 'False' || s === 'FALSE') return false;
  if (/^[-+]?[0-9]+$/.test(s)) return Number(s);
  if (/^0o[0-7]+$/.test(s)) return parseInt(s.slice(2), 8);
  if (/^0x[0-9a-fA-F]+$/.test(s)) return parseInt(s.slice(2), 16);
  if (/^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/.test(s)) return Number(s);
  if (/^[-+]?\.(inf|Inf|INF)$/.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
  if (s === '.nan' || s === '.NaN' || s === '.NAN') return NaN;
  return s;
}

/** Mappings up to this many keys are checked for repeats by a scan. */
const SCAN_KEYS = 16;

/** Turns the flat event stream into nodes; one document only; keys unique within a mapping. */
class TreeBuilder {
  private i = 0;
  private readonly anchors = new Map<string, YNode>();
  constructor(
    private readonly text: string,
    private readonly events: Event[],
    private readonly problem: (offset: number, message: string) => void,
  ) {}

  build(): YNode | null {
    const ev = this.events;
    let root: YNode | null = null;
    let docs = 0;
    while (this.i < ev.length) {
      const e = ev[this.i++]!;
      if (e.type !== EVENT_ID.DOCUMENT) continue;
      docs++;
      if (docs === 2) this.problem(this.nextOffset(), 'a scenario file holds one YAML document; found a second one (remove the "---" line, or split the file)');
      const node = this.i < ev.length && ev[this.i]!.type !== EVENT_ID.POP ? this.node() : null;
      if (docs === 1) root = node;
      this.i++; // the document's pop
    }
    return root;
  }

  private nextOffset(): number {
    const e = this.events[this.i];
    if (e === undefined) return this.text.length;
    return 'start' in e ? e.start : 'valueStart' in e ? e.valueStart : 0;
  }

  private slice(start: number, end: number): string {
    return start < 0 ? '' : this.text.slice(start, end);
  }

  /** The next node; null for an empty value (`key:` with nothing after it, `{ key }`), which has no position either. */
  private node(): YNode | null {
    const e = this.events[this.i++]!;
    switch (e.type) {
      case EVENT_ID.SCALAR:
        if (e.valueStart < 0 && e.tagStart < 0 && e.anchorStart < 0) return null;
        return this.anchor(e, this.scalar(e));
      case EVENT_ID.MAPPING: {
        const map: YMap = { kind: 'map', start: e.anchorStart >= 0 ? Math.min(e.anchorStart, e.start) : e.start, pairs: [] };
        const pairs = map.pairs;
        // Most mappings are small: a scan finds a repeated key without a set per mapping; a large
        // one gets a set, so a huge mapping is not checked in quadratic time.
        let seen: Set<string> | undefined;
        while (this.events[this.i]!.type !== EVENT_ID.POP) {
          const key: YNode = this.node() ?? { kind: 'scalar', start: -1, value: null, quoted: false };
          const value = this.node();
          const k = keyText(key);
          if (key.kind === 'scalar') {
            if (seen === undefined && pairs.length >= SCAN_KEYS) seen = new Set(pairs.filter((p) => p.key.kind === 'scalar').map((p) => p.keyText));
            if (seen !== undefined ? seen.has(k) : pairs.some((p) => p.keyText === k && p.key.kind === 'scalar')) {
              this.problem(key.start, `map keys must be unique: "${k}" appears twice in this mapping`);
            }
            seen?.add(k);
          }
          pairs.push({ key, keyText: k, value });
        }
        this.i++;
        return this.anchor(e, map);
      }
      case EVENT_ID.SEQUENCE: {
        const seq: YSeq = { kind: 'seq', start: e.start, items: [] };
        while (this.events[this.i]!.type !== EVENT_ID.POP) seq.items.push(this.node());
        this.i++;
        return this.anchor(e, seq);
      }
      case EVENT_ID.ALIAS: {
        const name = this.slice(e.anchorStart, e.anchorEnd);
        const target = this.anchors.get(name);
        if (target === undefined) {
          this.problem(e.anchorStart, `unknown alias "*${name}": no "&${name}" before it`);
          return { kind: 'scalar', start: e.anchorStart, value: null, quoted: false };
        }
        return target;
      }
      default:
        this.problem(this.nextOffset(), 'unexpected YAML structure');
        return { kind: 'scalar', start: -1, value: null, quoted: false };
    }
  }

  private anchor<T extends YNode>(e: { anchorStart: number; anchorEnd: number }, node: T): T {
    if (e.anchorStart >= 0) this.anchors.set(this.slice(e.anchorStart, e.anchorEnd), node);
    return node;
  }

  private scalar(e: ScalarEvent): YScalar {
    const raw = e.valueStart < 0 ? '' : getScalarValue(this.text, e);
    const quoted = e.style === SINGLE_QUOTED || e.style === DOUBLE_QUOTED;
    const start = e.valueStart < 0 ? -1 : quoted ? e.valueStart - 1 : e.valueStart;
    let value: unknown = e.style === PLAIN ? resolvePlain(raw) : raw;
    if (e.tagStart >= 0) {
      const tag = this.slice(e.tagStart, e.tagEnd);
      if (tag === '!!str') value = raw;
      else if (tag === '!!int' || tag === '!!float') value = Number(raw);
      else if (tag === '!!bool') value = resolvePlain(raw);
      else if (tag === '!!null') value = null;
      else this.problem(e.tagStart, `unsupported tag ${tag} (scenarios use plain values; !!str, !!int, !!float, !!bool and !!null are understood)`);
    }
    return { kind: 'scalar', start, value, quoted };
  }
}

/** A node of the document with its path; the vocabulary the checker reads with. */
export class Cursor {
  constructor(
    readonly src: Source,
    readonly node: YNode | null,
    readonly path: string,
    /** Where to point when the node itself is missing: its key's or parent's offset, or a position. */
    private readonly fallback: number | Pos = -1,
  ) {}

  pos(): Pos {
    const start = this.node?.start ?? -1;
    if (start >= 0) return this.stamp(this.src.lines.linePos(start));
    if (typeof this.fallback !== 'number') return this.stamp(this.fallback);
    return this.stamp(this.fallback >= 0 ? this.src.lines.linePos(this.fallback) : { line: 1, col: 1 });
  }

  /** A position as this source gives it: with its file when the source says so. */
  stamp(p: Pos): Pos {
    return this.src.stampFile === true && p.file === undefined ? { ...p, file: this.src.file } : p;
  }

  /** The offset pos() points at, or -1 for the start of the file. */
  private offset(): number {
    const start = this.node?.start ?? -1;
    return start >= 0 ? start : typeof this.fallback === 'number' ? this.fallback : -1;
  }

  get exists(): boolean {
    return this.node !== null && !(this.node.kind === 'scalar' && this.node.value === null);
  }

  isMap(): boolean {
    return this.node?.kind === 'map';
  }

  isSeq(): boolean {
    return this.node?.kind === 'seq';
  }

  /**
   * Where character `offset` of a one-line scalar's text is: past its opening
   * quote when it is quoted (escapes before it are not counted).
   */
  posInText(offset: number): Pos {
    const p = this.pos();
    const n = this.node;
    const quoted = n?.kind === 'scalar' && n.quoted;
    return { ...p, col: p.col + offset + (quoted ? 1 : 0) };
  }

  /** The scalar's value, or undefined when this is not a scalar. */
  scalar(): unknown {
    return this.node?.kind === 'scalar' ? this.node.value : undefined;
  }

  /** What the node is, for "found ..." in messages. */
  describe(): string {
    if (this.node === null) return 'nothing';
    if (this.node.kind === 'map') return 'a mapping';
    if (this.node.kind === 'seq') return 'a list';
    const v = this.scalar();
    if (v === null) return 'nothing';
    if (typeof v === 'string') return `"${v.length > 40 ? `${v.slice(0, 40)}…` : v}"`;
    return String(v);
  }

  /** The entries of a mapping, in order, with the position of each key. */
  entries(): { key: string; keyPos: Pos; value: Cursor }[] {
    if (this.node?.kind !== 'map') return [];
    return this.node.pairs.map((pair) => {
      const at = pair.key.start >= 0 ? pair.key.start : this.offset();
      return { key: pair.keyText, keyPos: at >= 0 ? this.stamp(this.src.lines.linePos(at)) : this.pos(), value: new Cursor(this.src, pair.value, this.child(pair.keyText), at) };
    });
  }

  /** The keys of a mapping, in order (nothing allocated per key: for checks that find nothing wrong). */
  keyNames(): string[] {
    return this.node?.kind === 'map' ? this.node.pairs.map((p) => p.keyText) : [];
  }

  get(key: string): Cursor {
    if (this.node?.kind === 'map') {
      for (const pair of this.node.pairs) {
        if (pair.keyText === key) return new Cursor(this.src, pair.value, this.child(key), pair.key.start >= 0 ? pair.key.start : this.offset());
      }
    }
    return new Cursor(this.src, null, this.child(key), this.offset());
  }

  has(key: string): boolean {
    return this.node?.kind === 'map' && this.node.pairs.some((p) => p.keyText === key);
  }

  items(): Cursor[] {
    if (this.node?.kind !== 'seq') return [];
    const at = this.offset();
    return this.node.items.map((n, i) => new Cursor(this.src, n, `${this.path}[${i}]`, at));
  }

  private child(key: string): string {
    return this.path === '' ? key : `${this.path}.${key}`;
  }
}
