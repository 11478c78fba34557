/**
 * Recordings: a run kept so it can be repeated and checked. A recording holds
 * the scenario (its text and file name), the seed, every external input of a
 * live session with its virtual time, and the trace's hash (per block of
 * records, see src/core/sim/trace_hash.ts). When the trace is not too long it
 * also keeps the records themselves, compactly, so a replay that diverges can
 * show the recorded record next to the replayed one.
 *
 * The document is JSON (docs/recordings.md):
 *
 *   { "format": "xenlab-recording", "version": 1,
 *     "file": "scenarios/plan9-boot.yaml", "scenario": "<its text>", "seed": 1,
 *     "inputs": [ { "t": 15000000, "kind": "advance" },
 *                 { "t": 15000000, "kind": "type", "domid": 1, "text": "local\r" } ],
 *     "trace": { "records": 1234, "hash": "<16 hex>", "block": 4096, "blocks": ["<16 hex>", ...],
 *                "data": "<base64>", "extras": [ ... ] } }
 *
 * The loader checks every field and reports problems as the scenario checker
 * does (file:line:col, path, expected, found): a corrupt or hand-edited file
 * never crashes anything. No Node.js here: the host reads and writes files.
 */
import { TK, TRACE_CHUNK, TraceChunk, decodeRecord, type Trace, type TraceBatch, type TraceRecord } from '../core/sim/trace.js';
import { HASH_BLOCK, RecordIndex, TraceHasher, foldDigest, hashSegments, sameRecord, type BlockSegment, type TraceDigest } from '../core/sim/trace_hash.js';
import { utf8, utf8Decode } from '../core/util/bytes.js';
import { ScenarioInputError, type Problem } from './errors.js';
import { LiveError, startLive, type LiveInput } from './live.js';
import type { Scenario } from './model.js';
import { runScenario, type RunOptions, type RunResult } from './runner.js';
import { loadScenario } from './stepform.js';

export const RECORDING_FORMAT = 'xenlab-recording';
export const RECORDING_VERSION = 1;

/** Records a recording keeps by default (about 9 bytes each); a longer trace is kept as hashes only. */
export const KEEP_RECORDS_MAX = 1_000_000;

/** An input as a recording holds it: an advance of the clock to `t`, or bytes typed at `t`. */
export type RecordedInput = LiveInput;

export interface RecordedTrace extends TraceDigest {
  /** The records themselves, when kept (see encodeColumns). */
  readonly kept?: { readonly data: Uint8Array; readonly extras: readonly unknown[] };
}

export interface Recording {
  readonly format: typeof RECORDING_FORMAT;
  readonly version: typeof RECORDING_VERSION;
  /** The scenario's file name as it was given (problems in its text point there). */
  readonly file: string;
  /** The scenario's text. */
  readonly scenario: string;
  readonly seed: number;
  readonly inputs: readonly RecordedInput[];
  readonly trace: RecordedTrace;
}

/** A recording that cannot be used: every problem found, each with where, expected and found. */
export class RecordingError extends ScenarioInputError {
  constructor(problems: Problem[]) {
    super(problems);
    this.name = 'RecordingError';
  }
}

// ---------------------------------------------------------------------------
// Recording a run

/**
 * Keeps records compactly as they are delivered: per record a byte of kind
 * and flags, the time as a delta from the previous record's, the six integer
 * columns as zigzag varints, and the extra object as an index into a table of
 * distinct extras.
 */
class ColumnEncoder {
  private buf = new Uint8Array(1 << 16);
  private len = 0;
  private prevT = 0;
  private readonly extraIds = new Map<string, number>();
  readonly extras: string[] = [];
  count = 0;

  constructor(private readonly max: number) {}

  /** False once more than `max` records came: the encoder has let go of its data. */
  get ok(): boolean {
    return this.count <= this.max;
  }

  batch(b: TraceBatch): void {
    if (!this.ok) return;
    this.count += b.end - b.start;
    if (!this.ok) {
      this.buf = new Uint8Array(0);
      this.extraIds.clear();
      this.extras.length = 0;
      return;
    }
    const c = b.chunk;
    for (let i = b.start; i < b.end; i++) {
      this.room(64);
      const t = c.t[i]!;
      const dt = t - this.prevT;
      const extra = c.extra[i];
      const rawT = !(dt >= 0 && Number.isSafeInteger(dt));
      this.buf[this.len++] = c.kind[i]! | (extra === undefined ? 0 : 0x80) | (rawT ? 0x40 : 0);
      if (rawT) {
        new DataView(this.buf.buffer, this.buf.byteOffset + this.len, 8).setFloat64(0, t, true);
        this.len += 8;
      } else this.uint(dt);
      this.prevT = t;
      this.int(c.dom[i]!);
      this.int(c.vcpu[i]!);
      this.int(c.port[i]!);
      this.int(c.x0[i]!);
      this.int(c.x1[i]!);
      this.int(c.x2[i]!);
      if (extra !== undefined) {
        const s = JSON.stringify(extra);
        let id = this.extraIds.get(s);
        if (id === undefined) {
          id = this.extras.length;
          this.extras.push(s);
          this.extraIds.set(s, id);
        }
        this.uint(id);
      }
    }
  }

  bytes(): Uint8Array {
    return this.buf.slice(0, this.len);
  }

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    bigger.set(this.buf.subarray(0, this.len));
    this.buf = bigger;
  }

  private uint(v: number): void {
    while (v >= 0x80) {
      this.buf[this.len++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.len++] = v;
  }

  /** An int32 as a zigzag varint. */
  private int(v: number): void {
    this.uint(((v << 1) ^ (v >> 31)) >>> 0);
  }
}

const KIND_COUNT = Object.keys(TK).length;

/** The chunks encoded by ColumnEncoder, or a message saying why the data is unusable. */
export function decodeColumns(data: Uint8Array, extras: readonly unknown[], records: number, firstSeq = 0): TraceChunk[] | string {
  const chunks: TraceChunk[] = [];
  let c: TraceChunk | undefined;
  let p = 0;
  let t = 0;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const uint = (): number => {
    let v = 0;
    let scale = 1;
    for (let k = 0; k < 8; k++) {
      if (p >= data.length) throw new RangeError('the data ends in the middle of a record');
      const b = data[p++]!;
      v += (b & 0x7f) * scale;
      if (b < 0x80) return v;
      scale *= 0x80;
    }
    throw new RangeError(`a number at byte ${p} is too long`);
  };
  const int = (): number => {
    const z = uint();
    if (z > 0xffffffff) throw new RangeError(`a number at byte ${p} is out of range`);
    return (z >>> 1) ^ -(z & 1);
  };
  try {
    for (let r = 0; r < records; r++) {
      if (c === undefined || c.length === TRACE_CHUNK) {
        c = new TraceChunk(firstSeq + r);
        chunks.push(c);
      }
      if (p >= data.length) return `the data holds ${r} records, not ${records}`;
      const head = data[p++]!;
      const kind = head & 0x3f;
      if (kind >= KIND_COUNT) return `record ${r} has kind ${kind}, and there are ${KIND_COUNT} kinds`;
      if (head & 0x40) {
        if (p + 8 > data.length) return 'the data ends in the middle of a record';
        t = view.getFloat64(p, true);
        p += 8;
      } else t += uint();
      const i = c.length++;
      c.t[i] = t;
      c.kind[i] = kind;
      c.dom[i] = int();
      c.vcpu[i] = int();
      c.port[i] = int();
      c.x0[i] = int();
      c.x1[i] = int();
      c.x2[i] = int();
      if (head & 0x80) {
        const id = uint();
        const e = extras[id];
        if (e === null || typeof e !== 'object') return `record ${r} refers to extras[${id}], which ${id < extras.length ? 'is not an object' : 'does not exist'}`;
        c.extra[i] = e;
      }
    }
  } catch (e) {
    return e instanceof RangeError ? e.message : String(e);
  }
  if (p !== data.length) return `${data.length - p} bytes are left over after ${records} records`;
  return chunks;
}

/**
 * Watches a run and makes its recording: subscribe `subscriber` to the
 * machine's trace before it runs (RunOptions.onMachine), then `finish` with
 * the seed used and the live session's inputs (none for a plain run).
 */
export class Recorder {
  private readonly hasher = new TraceHasher(HASH_BLOCK);
  private readonly keeper: ColumnEncoder;

  constructor(
    readonly file: string,
    readonly text: string,
    opts: { keep?: number } = {},
  ) {
    this.keeper = new ColumnEncoder(opts.keep ?? KEEP_RECORDS_MAX);
  }

  readonly subscriber = (b: TraceBatch): void => {
    this.hasher.batch(b);
    this.keeper.batch(b);
  };

  /** Subscribes to a machine's trace (call from RunOptions.onMachine); returns a function that stops it. */
  attach(trace: Trace): () => void {
    return trace.subscribe(this.subscriber);
  }

  get records(): number {
    return this.hasher.count;
  }

  finish(seed: number, inputs: readonly LiveInput[] = []): Recording {
    const d = this.hasher.digest();
    const trace: RecordedTrace = this.keeper.ok
      ? { ...d, kept: { data: this.keeper.bytes(), extras: this.keeper.extras.map((s) => JSON.parse(s) as unknown) } }
      : d;
    return { format: RECORDING_FORMAT, version: RECORDING_VERSION, file: this.file, scenario: this.text, seed, inputs: inputs.map(copyInput), trace };
  }
}

function copyInput(i: LiveInput): RecordedInput {
  const at = i.position === undefined ? {} : { position: i.position };
  return i.kind === 'type' ? { kind: 'type', t: i.t, domid: i.domid, bytes: i.bytes.slice(), ...at } : { kind: 'advance', t: i.t, ...at };
}

/** Runs a scenario (no live part) and records it. */
export function recordRun(file: string, text: string, opts: { seed?: number; keep?: number } = {}): { result: RunResult; recording: Recording } {
  const sc = loadScenario(file, text);
  const rec = new Recorder(file, text, opts.keep === undefined ? {} : { keep: opts.keep });
  const result = runScenario(sc, { ...(opts.seed === undefined ? {} : { seed: opts.seed }), onMachine: (hv) => void rec.attach(hv.trace) });
  return { result, recording: rec.finish(result.hv.seed) };
}

// ---------------------------------------------------------------------------
// The JSON document

/** The recording as its JSON document (2-space indented; one input, block hash or extra per line). */
export function recordingToJson(r: Recording): string {
  const t = r.trace;
  const head = JSON.stringify({ format: r.format, version: r.version, file: r.file, scenario: r.scenario, seed: r.seed }, null, 2).slice(0, -2);
  const trace = [`"records": ${t.records}`, `"hash": "${t.hash}"`, `"block": ${t.block}`, `"blocks": ${list(t.blocks.map((h) => `"${h}"`), '    ')}`];
  if (t.kept !== undefined) {
    trace.push(`"data": "${base64Encode(t.kept.data)}"`);
    trace.push(`"extras": ${list(t.kept.extras.map((e) => JSON.stringify(e)), '    ')}`);
  }
  const inputs = list(r.inputs.map((i) => JSON.stringify(inputToJson(i))), '  ');
  return `${head},\n  "inputs": ${inputs},\n  "trace": {\n    ${trace.join(',\n    ')}\n  }\n}\n`;
}

/** A JSON list, one item per line, at `indent`. */
function list(items: string[], indent: string): string {
  return items.length === 0 ? '[]' : `[\n${indent}  ${items.join(`,\n${indent}  `)}\n${indent}]`;
}

function inputToJson(i: RecordedInput): Record<string, unknown> {
  const at = i.position === undefined ? {} : { position: i.position };
  if (i.kind === 'advance') return { t: i.t, kind: 'advance', ...at };
  const text = utf8Decode(i.bytes);
  return sameBytes(utf8(text), i.bytes) ? { t: i.t, kind: 'type', domid: i.domid, text, ...at } : { t: i.t, kind: 'type', domid: i.domid, base64: base64Encode(i.bytes), ...at };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Reads a recording's JSON (`doc`: the text already parsed, if it was);
 * throws RecordingError listing every problem (never anything else for bad input).
 */
export function parseRecording(file: string, text: string, doc?: unknown): Recording {
  if (doc === undefined) doc = parseJson(file, text);
  const v = new Validator(file, text);
  const rec = v.recording(doc);
  if (v.problems.length > 0 || rec === undefined) throw new RecordingError(v.problems);
  return rec;
}

/** Whether parsed JSON claims to be a recording (it has a "format" key): then parseRecording says what is wrong with it. */
export function looksLikeRecording(doc: unknown): boolean {
  return isObject(doc) && 'format' in doc;
}

function parseJson(file: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const at = /position (\d+)/.exec(msg);
    const pos = lineCol(text, at === null ? 0 : Number(at[1]));
    throw new RecordingError([
      { file, ...pos, path: '', message: `this is not JSON (${msg.replace(/ in JSON at position \d+.*$/, '')})`, hint: 'a recording is the JSON file that xenlab run --record writes' },
    ]);
  }
}

type Path = (string | number)[];

const HEX16 = /^[0-9a-f]{16}$/;

class Validator {
  readonly problems: Problem[] = [];
  constructor(
    private readonly file: string,
    private readonly text: string,
  ) {}

  problem(path: Path, message: string, hint?: string): void {
    const pos = locate(this.text, path);
    const p: Problem = { file: this.file, ...pos, path: pathText(path), message };
    if (hint !== undefined) p.hint = hint;
    this.problems.push(p);
  }

  /** `expected …, found …` for a value of the wrong shape. */
  wrong(path: Path, expected: string, found: unknown): void {
    this.problem(path, `expected ${expected}, found ${describe(found)}`);
  }

  field(obj: Record<string, unknown>, path: Path, key: string): unknown {
    if (!(key in obj)) {
      this.problem(path, `"${key}" is missing`);
      return undefined;
    }
    return obj[key];
  }

  str(obj: Record<string, unknown>, path: Path, key: string): string | undefined {
    const x = this.field(obj, path, key);
    if (x === undefined) return undefined;
    if (typeof x !== 'string') {
      this.wrong([...path, key], 'a string', x);
      return undefined;
    }
    return x;
  }

  int(obj: Record<string, unknown>, path: Path, key: string, min: number, max: number): number | undefined {
    const x = this.field(obj, path, key);
    if (x === undefined) return undefined;
    if (typeof x !== 'number' || !Number.isInteger(x) || x < min || x > max) {
      this.wrong([...path, key], `a whole number from ${min} to ${max}`, x);
      return undefined;
    }
    return x;
  }

  recording(doc: unknown): Recording | undefined {
    if (!isObject(doc)) {
      this.wrong([], 'a JSON object (a XenLab recording)', doc);
      return undefined;
    }
    if (doc.format !== RECORDING_FORMAT) {
      if (!('format' in doc)) this.problem([], `"format" is missing: this is not a XenLab recording`, 'a recording starts {"format": "xenlab-recording", "version": 1, ...}');
      else this.problem(['format'], `expected "${RECORDING_FORMAT}", found ${describe(doc.format)}: this is not a XenLab recording`);
      return undefined;
    }
    if (doc.version !== RECORDING_VERSION) {
      const found = doc.version;
      if (!('version' in doc)) this.problem([], '"version" is missing');
      else if (typeof found === 'number' && Number.isInteger(found) && found > RECORDING_VERSION)
        this.problem(['version'], `version ${found} is newer than this xenlab reads (version ${RECORDING_VERSION})`, 'replay it with the xenlab that made it, or a newer one');
      else this.wrong(['version'], String(RECORDING_VERSION), found);
      return undefined;
    }
    const file = this.str(doc, [], 'file');
    const scenario = this.str(doc, [], 'scenario');
    const seed = this.int(doc, [], 'seed', 0, 0xffffffff);
    const inputs = this.inputs(this.field(doc, [], 'inputs'));
    const trace = this.trace(this.field(doc, [], 'trace'));
    if (file === undefined || scenario === undefined || seed === undefined || inputs === undefined || trace === undefined) return undefined;
    return { format: RECORDING_FORMAT, version: RECORDING_VERSION, file, scenario, seed, inputs, trace };
  }

  inputs(x: unknown): RecordedInput[] | undefined {
    if (x === undefined) return undefined;
    if (!Array.isArray(x)) {
      this.wrong(['inputs'], 'a list of inputs', x);
      return undefined;
    }
    const out: RecordedInput[] = [];
    let ok = true;
    let prevT = 0;
    let prevPosition = 0;
    x.forEach((e: unknown, n) => {
      const path: Path = ['inputs', n];
      if (!isObject(e)) {
        this.wrong(path, 'an input: {"t": ns, "kind": "advance"} or {"t": ns, "kind": "type", "domid": N, "text": "..."}', e);
        ok = false;
        return;
      }
      const t = this.field(e, path, 't');
      if (t !== undefined && (typeof t !== 'number' || !Number.isFinite(t) || t < 0 || t > Number.MAX_SAFE_INTEGER)) {
        this.wrong([...path, 't'], `a virtual time in ns (a number from 0 to ${Number.MAX_SAFE_INTEGER})`, t);
        ok = false;
        return;
      }
      if (typeof t === 'number' && t < prevT) {
        this.problem([...path, 't'], `inputs go forward in time: ${t} ns comes after an input at ${prevT} ns`);
        ok = false;
      }
      if (typeof t === 'number') prevT = Math.max(prevT, t);
      const kind = this.field(e, path, 'kind');
      if (kind === undefined || t === undefined) {
        ok = false;
        return;
      }
      // The execution's position when the input came (units taken): optional, files before it have none.
      let at: { position?: number } = {};
      if ('position' in e) {
        const position = this.int(e, path, 'position', 0, Number.MAX_SAFE_INTEGER);
        if (position === undefined) {
          ok = false;
          return;
        }
        if (position < prevPosition) {
          this.problem([...path, 'position'], `inputs go forward: position ${position} comes after an input at position ${prevPosition}`);
          ok = false;
        }
        prevPosition = Math.max(prevPosition, position);
        at = { position };
      }
      if (kind === 'advance') {
        out.push({ kind: 'advance', t: t as number, ...at });
        return;
      }
      if (kind !== 'type') {
        this.wrong([...path, 'kind'], '"advance" or "type"', kind);
        ok = false;
        return;
      }
      const domid = this.int(e, path, 'domid', 0, 0x7fef);
      let bytes: Uint8Array | undefined;
      if ('text' in e && 'base64' in e) this.problem(path, 'give "text" or "base64", not both');
      else if ('text' in e) {
        if (typeof e.text === 'string') bytes = utf8(e.text);
        else this.wrong([...path, 'text'], 'a string', e.text);
      } else if ('base64' in e) {
        const b = typeof e.base64 === 'string' ? base64Decode(e.base64) : undefined;
        if (b === undefined) this.wrong([...path, 'base64'], 'bytes in base64', e.base64);
        bytes = b;
      } else this.problem(path, 'a "type" input needs "text" (or "base64") with the bytes typed');
      if (domid === undefined || bytes === undefined) {
        ok = false;
        return;
      }
      out.push({ kind: 'type', t: t as number, domid, bytes, ...at });
    });
    return ok ? out : undefined;
  }

  trace(x: unknown): RecordedTrace | undefined {
    const path: Path = ['trace'];
    if (x === undefined) return undefined;
    if (!isObject(x)) {
      this.wrong(path, 'an object with records, hash, block and blocks', x);
      return undefined;
    }
    const records = this.int(x, path, 'records', 0, Number.MAX_SAFE_INTEGER);
    const hash = this.str(x, path, 'hash');
    if (hash !== undefined && !HEX16.test(hash)) this.wrong([...path, 'hash'], '16 hex digits', hash);
    const block = this.int(x, path, 'block', 1, 1 << 24);
    const blocksRaw = this.field(x, path, 'blocks');
    let blocks: string[] | undefined;
    if (blocksRaw !== undefined) {
      if (!Array.isArray(blocksRaw)) this.wrong([...path, 'blocks'], 'a list of block hashes', blocksRaw);
      else {
        blocks = [];
        for (let k = 0; k < blocksRaw.length; k++) {
          const h: unknown = blocksRaw[k];
          if (typeof h === 'string' && HEX16.test(h)) blocks.push(h);
          else {
            this.wrong([...path, 'blocks', k], 'a block hash (16 hex digits)', h);
            blocks = undefined;
            break;
          }
        }
      }
    }
    if (records === undefined || hash === undefined || !HEX16.test(hash) || block === undefined || blocks === undefined) return undefined;
    const want = Math.ceil(records / block);
    if (blocks.length !== want) {
      this.problem([...path, 'blocks'], `expected ${want} block hash${want === 1 ? '' : 'es'} for ${records} records in blocks of ${block}, found ${blocks.length}`);
      return undefined;
    }
    if (foldDigest(blocks, records, block) !== hash) {
      this.problem([...path, 'hash'], 'the trace hash does not match the block hashes (the recording was edited?)');
      return undefined;
    }
    const digest: TraceDigest = { records, hash, block, blocks };
    if (!('data' in x) && !('extras' in x)) return digest;
    if (!('data' in x) || !('extras' in x)) {
      this.problem(path, `"${'data' in x ? 'extras' : 'data'}" is missing: "data" and "extras" (the kept records) come together`);
      return undefined;
    }
    const data = typeof x.data === 'string' ? base64Decode(x.data) : undefined;
    if (data === undefined) {
      this.wrong([...path, 'data'], 'the records in base64', typeof x.data === 'string' ? `${x.data.length} characters that are not base64` : x.data);
      return undefined;
    }
    if (!Array.isArray(x.extras)) {
      this.wrong([...path, 'extras'], 'a list of objects', x.extras);
      return undefined;
    }
    return { ...digest, kept: { data, extras: x.extras as unknown[] } };
  }
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function describe(x: unknown): string {
  if (x === undefined) return 'nothing';
  if (x === null) return 'null';
  if (Array.isArray(x)) return `a list of ${x.length}`;
  if (typeof x === 'object') return 'an object';
  if (typeof x === 'string') return x.length > 40 ? `a string of ${x.length} characters` : JSON.stringify(x);
  return String(x as number | boolean);
}

function pathText(path: Path): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s === '' ? p : `.${p}`;
  return s;
}

function lineCol(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let start = 0;
  const end = Math.min(offset, text.length);
  for (let i = text.indexOf('\n'); i >= 0 && i < end; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, col: end - start + 1 };
}

/**
 * Where the value at `path` starts in a JSON text (its key's parent when the
 * key is missing): a small scanner, used only to point at problems.
 */
function locate(text: string, path: Path): { line: number; col: number } {
  let p = 0;
  const ws = () => {
    while (p < text.length && (text[p] === ' ' || text[p] === '\n' || text[p] === '\r' || text[p] === '\t')) p++;
  };
  const skipString = () => {
    p++;
    while (p < text.length && text[p] !== '"') p += text[p] === '\\' ? 2 : 1;
    p++;
  };
  const readString = (): string => {
    const s = p;
    skipString();
    try {
      return JSON.parse(text.slice(s, p)) as string;
    } catch {
      return '';
    }
  };
  const skipValue = (): void => {
    ws();
    const ch = text[p];
    if (ch === '"') return skipString();
    if (ch === '{' || ch === '[') {
      const close = ch === '{' ? '}' : ']';
      p++;
      ws();
      if (text[p] === close) {
        p++;
        return;
      }
      for (;;) {
        if (ch === '{') {
          ws();
          skipString();
          ws();
          p++; // ':'
        }
        skipValue();
        ws();
        if (text[p] === ',') p++;
        else {
          p++;
          return;
        }
      }
    }
    while (p < text.length && !',}] \n\r\t'.includes(text[p]!)) p++;
  };
  ws();
  let at = p;
  for (const step of path) {
    ws();
    const ch = text[p];
    let found = false;
    if (ch === '{' && typeof step === 'string') {
      p++;
      ws();
      while (p < text.length && text[p] !== '}') {
        ws();
        const key = readString();
        ws();
        p++; // ':'
        ws();
        if (key === step) {
          found = true;
          break;
        }
        skipValue();
        ws();
        if (text[p] === ',') p++;
        ws();
      }
    } else if (ch === '[' && typeof step === 'number') {
      p++;
      for (let k = 0; k <= step; k++) {
        ws();
        if (text[p] === ']') break;
        if (k === step) {
          found = true;
          break;
        }
        skipValue();
        ws();
        if (text[p] === ',') p++;
      }
    }
    if (!found) break;
    ws();
    at = p;
  }
  return lineCol(text, at);
}

// ---------------------------------------------------------------------------
// Replaying

/** Where a replay first differs from its recording. */
export interface ReplayDivergence {
  /** The first record that differs (or, when `exact` is false, the first record of the block that does). */
  readonly seq: number;
  readonly block: number;
  /** The recorded run's record there (undefined when its trace ended there, or its records were not kept). */
  readonly recorded: TraceRecord | undefined;
  /** The replay's record there (undefined when its trace ended there). */
  readonly replayed: TraceRecord | undefined;
  /** False when only the block is known (the recording kept hashes only); `why` says so. */
  readonly exact: boolean;
  readonly why?: string;
}

export interface ReplayResult {
  /** True when the replay's trace hash (and record count) match the recording's. */
  readonly ok: boolean;
  readonly recorded: TraceDigest;
  readonly replayed: TraceDigest;
  readonly divergence?: ReplayDivergence;
  /** Inputs the replay could not apply (a console gone, for instance), each with its index and why. */
  readonly inputProblems: readonly string[];
  /** The steps' outcome in the replay. */
  readonly result: RunResult;
  readonly scenario: Scenario;
}

export interface ReplayOptions {
  /** Also called with each batch of the replay's trace, as it comes (an exporter, say). */
  onBatch?: (b: TraceBatch) => void;
}

/**
 * Runs a recording again: its scenario with its seed, then its inputs at
 * their virtual times, hashing the trace and comparing block by block.
 * Throws ScenarioInputError when the scenario no longer loads.
 */
export function replay(rec: Recording, opts: ReplayOptions = {}): ReplayResult {
  const sc = loadScenario(rec.file, rec.scenario);
  const want = rec.trace;
  let mismatch: { k: number; segs: readonly BlockSegment[] } | undefined;
  const hasher = new TraceHasher(want.block, (k, h, segs) => {
    if (mismatch === undefined && want.blocks[k] !== h) mismatch = { k, segs };
  });
  const runOpts: RunOptions = {
    seed: rec.seed,
    onMachine: (hv) => {
      hv.trace.subscribe(hasher.subscriber);
      if (opts.onBatch !== undefined) hv.trace.subscribe(opts.onBatch);
    },
  };
  const inputProblems: string[] = [];
  let result: RunResult;
  if (rec.inputs.length === 0) result = runScenario(sc, runOpts);
  else {
    const s = startLive(sc, runOpts);
    result = s.result;
    rec.inputs.forEach((inp, n) => {
      const late = inp.t < s.now;
      if (inp.kind === 'advance') {
        if (late) inputProblems.push(`inputs[${n}]: advance to ${inp.t} ns, but the clock was already at ${s.now} ns`);
        s.advance(late ? 0 : inp.t - s.now);
        return;
      }
      if (late) inputProblems.push(`inputs[${n}]: typed at ${inp.t} ns, but the clock was already at ${s.now} ns; typed then`);
      else if (inp.t > s.now) s.advance(inp.t - s.now);
      try {
        s.type(inp.domid, inp.bytes);
      } catch (e) {
        if (!(e instanceof LiveError)) throw e;
        inputProblems.push(`inputs[${n}]: typing at domain ${inp.domid} failed: ${e.message}`);
      }
    });
    s.close();
  }
  const replayed = hasher.finish();
  const ok = replayed.hash === want.hash && replayed.records === want.records;
  const base = { ok, recorded: { records: want.records, hash: want.hash, block: want.block, blocks: want.blocks }, replayed, inputProblems, result, scenario: sc };
  if (ok) return base;
  const divergence = locateDivergence(rec, replayed, mismatch, hasher.firstSeq ?? 0);
  return divergence === undefined ? base : { ...base, divergence };
}

function locateDivergence(rec: Recording, replayed: TraceDigest, mismatch: { k: number; segs: readonly BlockSegment[] } | undefined, firstSeq: number): ReplayDivergence | undefined {
  const want = rec.trace;
  const B = want.block;
  // Every block the replay made matched: the recording goes on where the replay ended.
  const k = mismatch?.k ?? replayed.blocks.length;
  const mine = new RecordIndex(mismatch?.segs ?? []);
  const from = k * B;
  let theirs: RecordIndex | undefined;
  let why: string | undefined;
  if (want.kept === undefined) why = `the recording keeps only the hashes of its ${want.records} records (its trace was too long to keep), so the first differing record of block ${k} (records ${firstSeq + from} to ${firstSeq + Math.min(from + B, Math.max(want.records, replayed.records)) - 1}) cannot be named`;
  else {
    const chunks = decodeColumns(want.kept.data, want.kept.extras, want.records, firstSeq);
    if (typeof chunks === 'string') why = `the recording's kept records cannot be read (${chunks}), so the first differing record of block ${k} cannot be named`;
    else {
      const segs = chunks.map((c) => ({ chunk: c, start: 0, end: c.length }));
      if (hashSegments(segs, B).hash !== want.hash) why = `the recording's kept records do not match its hash (edited?), so the first differing record of block ${k} cannot be named`;
      else theirs = new RecordIndex(segs);
    }
  }
  if (theirs === undefined) {
    const first = mine.count > 0 ? mine.at(0) : undefined;
    return { seq: firstSeq + from, block: k, recorded: undefined, replayed: first === undefined ? undefined : decodeRecord(first.chunk, first.i), exact: false, why: why! };
  }
  for (let r = 0; r < B; r++) {
    const inMine = r < mine.count;
    const inTheirs = from + r < theirs.count;
    if (!inMine && !inTheirs) break;
    const a = inMine ? mine.at(r) : undefined;
    const b = inTheirs ? theirs.at(from + r) : undefined;
    if (a !== undefined && b !== undefined && sameRecord(a.chunk, a.i, b.chunk, b.i)) continue;
    return {
      seq: firstSeq + from + r,
      block: k,
      recorded: b === undefined ? undefined : decodeRecord(b.chunk, b.i),
      replayed: a === undefined ? undefined : decodeRecord(a.chunk, a.i),
      exact: true,
    };
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// base64 (RFC 4648, with padding), without platform helpers

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = (() => {
  const t = new Int16Array(128).fill(-1);
  for (let i = 0; i < 64; i++) t[B64.charCodeAt(i)] = i;
  return t;
})();

export function base64Encode(bytes: Uint8Array): string {
  const parts: string[] = [];
  const STEP = 3 * 8192;
  for (let s = 0; s < bytes.length; s += STEP) {
    const end = Math.min(bytes.length, s + STEP);
    let out = '';
    for (let i = s; i < end; i += 3) {
      const a = bytes[i]!;
      const b = i + 1 < end ? bytes[i + 1]! : 0;
      const c = i + 2 < end ? bytes[i + 2]! : 0;
      out += B64[a >> 2]! + B64[((a & 3) << 4) | (b >> 4)]! + (i + 1 < end ? B64[((b & 15) << 2) | (c >> 6)]! : '=') + (i + 2 < end ? B64[c & 63]! : '=');
    }
    parts.push(out);
  }
  return parts.join('');
}

/** The bytes, or undefined when the text is not padded base64. */
export function base64Decode(text: string): Uint8Array | undefined {
  if (text.length % 4 !== 0) return undefined;
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((text.length / 4) * 3 - pad);
  const full = text.length - (pad > 0 ? 4 : 0);
  let o = 0;
  const at = (i: number): number => {
    const ch = text.charCodeAt(i);
    return ch < 128 ? B64_INDEX[ch]! : -1;
  };
  for (let i = 0; i < full; i += 4) {
    const a = at(i);
    const b = at(i + 1);
    const c = at(i + 2);
    const d = at(i + 3);
    if ((a | b | c | d) < 0) return undefined;
    const n = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = n >> 16;
    out[o++] = (n >> 8) & 0xff;
    out[o++] = n & 0xff;
  }
  if (pad > 0) {
    const a = at(full);
    const b = at(full + 1);
    const c = pad === 1 ? at(full + 2) : 0;
    if ((a | b | c) < 0) return undefined;
    const n = (a << 18) | (b << 12) | (c << 6);
    out[o] = n >> 16;
    if (pad === 1) out[o + 1] = (n >> 8) & 0xff;
  }
  return out;
}
