/**
 * A hash of the trace, computed from its columns as records are delivered
 * (never from their JSON), so hashing a million records costs a few tens of
 * milliseconds. Records are hashed in blocks of `blockSize`; each block has
 * its own 64-bit hash, and the trace's hash folds the block hashes and the
 * record count. Two runs that differ are told apart block by block, so the
 * first differing record is found by decoding one block, not the whole run.
 *
 * What a record's hash covers: t (its float64 value), kind, dom, vcpu, port,
 * x0, x1, x2, and its extra object as JSON.stringify writes it (key order as
 * inserted: the same text the JSONL trace shows). Two traces with the same
 * hash decode to the same JSON Lines.
 *
 * The hash is two independent 32-bit lanes of a MurmurHash3-style mix (not
 * cryptographic): it tells a replay that diverged from its recording, not a
 * forgery from the real thing.
 */
import { decodeRecord, type TraceBatch, type TraceChunk, type TraceRecord, type TraceSubscriber } from './trace.js';

/** Records per hash block. */
export const HASH_BLOCK = 4096;

/** A trace's hash: record count, the hash of every block (the last one may be partial), and their fold. */
export interface TraceDigest {
  readonly records: number;
  /** 16 lowercase hex digits. */
  readonly hash: string;
  readonly block: number;
  /** One per block of `block` records, in order; the last covers the remainder. */
  readonly blocks: readonly string[];
}

/** A run of records of one chunk: [start, end). */
export interface BlockSegment {
  readonly chunk: TraceChunk;
  readonly start: number;
  readonly end: number;
}

/** Called when a block is complete (or, from `finish`, the last partial block). */
export type BlockListener = (index: number, hash: string, segments: readonly BlockSegment[]) => void;

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;
const D1 = 0x85ebca6b;
const D2 = 0xc2b2ae35;
const SEED_A = 0x9747b28c;
const SEED_B = 0x3c6ef372;

/** Float64 bits, for the rare time that is not a whole number of ns (little-endian, so every platform agrees). */
const F64 = new DataView(new ArrayBuffer(8));

/** The hash state of one block: two lanes. */
class Lanes {
  a = SEED_A;
  b = SEED_B;
  n = 0;

  reset(): void {
    this.a = SEED_A;
    this.b = SEED_B;
    this.n = 0;
  }

  word(w: number): void {
    let k = Math.imul(w, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    let a = this.a ^ k;
    a = (a << 13) | (a >>> 19);
    this.a = (Math.imul(a, 5) + 0xe6546b64) | 0;
    let j = Math.imul(w, D1);
    j = (j << 17) | (j >>> 15);
    j = Math.imul(j, D2);
    let b = this.b ^ j;
    b = (b << 11) | (b >>> 21);
    this.b = (Math.imul(b, 9) + 0x52dce729) | 0;
  }

  /** Hash of what was mixed in so far, without changing the state. */
  hex(): string {
    return hex32(fmix(this.a ^ this.n)) + hex32(fmix(this.b ^ Math.imul(this.n, 0x27d4eb2d)));
  }
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function hex32(x: number): string {
  return (x >>> 0).toString(16).padStart(8, '0');
}

/** Mixes record i of a chunk into `l`. */
function mixRecord(l: Lanes, c: TraceChunk, i: number): void {
  const t = c.t[i]!;
  const hi = Math.floor(t / 4294967296);
  const lo = t - hi * 4294967296;
  if (lo === lo >>> 0 && hi === (hi | 0)) {
    l.word(lo | 0);
    l.word(hi);
  } else {
    F64.setFloat64(0, t, true);
    l.word(F64.getInt32(0, true) ^ 0x5bd1e995);
    l.word(F64.getInt32(4, true) ^ 0x7fedcba9);
  }
  l.word(c.kind[i]! | (c.extra[i] === undefined ? 0 : 0x100));
  l.word(c.dom[i]!);
  l.word(c.vcpu[i]!);
  l.word(c.port[i]!);
  l.word(c.x0[i]!);
  l.word(c.x1[i]!);
  l.word(c.x2[i]!);
  const e = c.extra[i];
  if (e !== undefined) {
    const s = JSON.stringify(e);
    const n = s.length;
    l.word(n);
    let k = 0;
    for (; k + 1 < n; k += 2) l.word(s.charCodeAt(k) | (s.charCodeAt(k + 1) << 16));
    if (k < n) l.word(s.charCodeAt(k));
  }
  l.n++;
}

/** Fold of the block hashes and the count: the trace's hash (a digest's `hash` is this of its blocks). */
export function foldDigest(blocks: readonly string[], records: number, blockSize: number): string {
  const l = new Lanes();
  l.word(records % 4294967296 | 0);
  l.word(Math.floor(records / 4294967296) | 0);
  l.word(blockSize);
  for (const h of blocks) for (let k = 0; k < 16; k += 8) l.word(parseInt(h.slice(k, k + 8), 16) | 0);
  return l.hex();
}

/**
 * Hashes every record delivered to `subscriber`. Subscribe it before the
 * machine runs (RunOptions.onMachine) so the hash covers the whole trace.
 */
export class TraceHasher {
  /** Hashes of the complete blocks so far. */
  readonly blocks: string[] = [];
  count = 0;
  /** The seq of the first record hashed, once there is one. */
  firstSeq: number | undefined;
  private readonly lanes = new Lanes();
  private segments: BlockSegment[] = [];
  private finished = false;

  readonly subscriber: TraceSubscriber = (b) => this.batch(b);

  /**
   * @param blockSize records per block
   * @param onBlock told of each block as it completes, with the chunk runs that hold it
   *   (kept only when a listener is given; a chunk stays valid, so the block can be decoded later)
   */
  constructor(
    readonly blockSize = HASH_BLOCK,
    private readonly onBlock?: BlockListener,
  ) {
    if (!Number.isInteger(blockSize) || blockSize < 1) throw new RangeError(`block size must be a whole number >= 1, found ${blockSize}`);
  }

  batch(b: TraceBatch): void {
    if (this.finished) throw new Error('TraceHasher: records arrived after finish()');
    const c = b.chunk;
    const l = this.lanes;
    const size = this.blockSize;
    if (this.firstSeq === undefined && b.end > b.start) this.firstSeq = c.firstSeq + b.start;
    let i = b.start;
    while (i < b.end) {
      const stop = Math.min(b.end, i + (size - l.n));
      const from = i;
      for (; i < stop; i++) mixRecord(l, c, i);
      if (this.onBlock !== undefined) this.segments.push({ chunk: c, start: from, end: stop });
      if (l.n === size) this.closeBlock();
    }
    this.count += b.end - b.start;
  }

  private closeBlock(): void {
    const h = this.lanes.hex();
    this.blocks.push(h);
    this.lanes.reset();
    if (this.onBlock !== undefined) {
      const segs = this.segments;
      this.segments = [];
      this.onBlock(this.blocks.length - 1, h, segs);
    }
  }

  /** The digest of everything hashed so far (the last block may be partial). */
  digest(): TraceDigest {
    const blocks = this.lanes.n > 0 ? [...this.blocks, this.lanes.hex()] : [...this.blocks];
    return { records: this.count, hash: foldDigest(blocks, this.count, this.blockSize), block: this.blockSize, blocks };
  }

  /** Ends hashing: reports the partial last block to the listener, if any, and returns the digest. */
  finish(): TraceDigest {
    const d = this.digest();
    if (!this.finished && this.lanes.n > 0 && this.onBlock !== undefined) {
      const segs = this.segments;
      this.segments = [];
      this.onBlock(this.blocks.length, d.blocks.at(-1)!, segs);
    }
    this.finished = true;
    return d;
  }
}

/** The hash of a trace given as chunk runs (e.g. a TraceStore's chunks): a digest as TraceHasher would give. */
export function hashSegments(segments: Iterable<BlockSegment>, blockSize = HASH_BLOCK): TraceDigest {
  const h = new TraceHasher(blockSize);
  for (const s of segments) h.batch(s);
  return h.digest();
}

/** Whether record i of chunk a and record j of chunk b hash alike (every column, and the extra's JSON). */
export function sameRecord(a: TraceChunk, i: number, b: TraceChunk, j: number): boolean {
  if (
    !Object.is(a.t[i], b.t[j]) ||
    a.kind[i] !== b.kind[j] ||
    a.dom[i] !== b.dom[j] ||
    a.vcpu[i] !== b.vcpu[j] ||
    a.port[i] !== b.port[j] ||
    a.x0[i] !== b.x0[j] ||
    a.x1[i] !== b.x1[j] ||
    a.x2[i] !== b.x2[j]
  )
    return false;
  const ea = a.extra[i];
  const eb = b.extra[j];
  if (ea === undefined || eb === undefined) return ea === eb;
  return JSON.stringify(ea) === JSON.stringify(eb);
}

/** The index of the first block whose hash differs, or where one digest has a block the other lacks; undefined when they agree. */
export function firstDifferentBlock(a: TraceDigest, b: TraceDigest): number | undefined {
  if (a.block !== b.block) throw new RangeError(`digests of different block sizes (${a.block}, ${b.block}) cannot be compared block by block`);
  const n = Math.min(a.blocks.length, b.blocks.length);
  for (let k = 0; k < n; k++) if (a.blocks[k] !== b.blocks[k]) return k;
  // Every common block agrees (so the common records do): one trace goes on where the other ended.
  return a.blocks.length !== b.blocks.length ? n : undefined;
}

/** Where two traces first differ: the record's seq and each side's record there (undefined where a trace has ended). */
export interface Divergence {
  readonly seq: number;
  /** The index of the block that holds it. */
  readonly block: number;
  readonly a: TraceRecord | undefined;
  readonly b: TraceRecord | undefined;
}

/** Random access to records by their index from the first record a trace holds. */
export class RecordIndex {
  private readonly segs: BlockSegment[] = [];
  private readonly starts: number[] = [];
  readonly count: number;

  constructor(segments: Iterable<BlockSegment>) {
    let n = 0;
    for (const s of segments) {
      if (s.end <= s.start) continue;
      this.segs.push(s);
      this.starts.push(n);
      n += s.end - s.start;
    }
    this.count = n;
  }

  /** The chunk and row of the record at index k (0 <= k < count). */
  at(k: number): { chunk: TraceChunk; i: number } {
    let lo = 0;
    let hi = this.segs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= k) lo = mid;
      else hi = mid - 1;
    }
    const s = this.segs[lo]!;
    return { chunk: s.chunk, i: s.start + (k - this.starts[lo]!) };
  }
}

/**
 * Where two traces (as chunk runs, both from their first record) first
 * differ: block hashes narrow it to one block, then that block is compared
 * record by record. Undefined when they are the same.
 */
export function findDivergence(a: Iterable<BlockSegment>, b: Iterable<BlockSegment>, blockSize = HASH_BLOCK): Divergence | undefined {
  const sa = [...a];
  const sb = [...b];
  const k = firstDifferentBlock(hashSegments(sa, blockSize), hashSegments(sb, blockSize));
  if (k === undefined) return undefined;
  return divergenceInBlock(new RecordIndex(sa), new RecordIndex(sb), k, blockSize);
}

/** The first record of block k where two indexed traces differ (or where one ends); undefined if none does. */
export function divergenceInBlock(a: RecordIndex, b: RecordIndex, k: number, blockSize = HASH_BLOCK): Divergence | undefined {
  const from = k * blockSize;
  const to = (k + 1) * blockSize;
  for (let r = from; r < to; r++) {
    const inA = r < a.count;
    const inB = r < b.count;
    if (!inA && !inB) return undefined;
    const ra = inA ? a.at(r) : undefined;
    const rb = inB ? b.at(r) : undefined;
    if (ra !== undefined && rb !== undefined && sameRecord(ra.chunk, ra.i, rb.chunk, rb.i)) continue;
    const seqOf = (x: { chunk: TraceChunk; i: number } | undefined) => (x === undefined ? undefined : x.chunk.firstSeq + x.i);
    return {
      seq: seqOf(ra) ?? seqOf(rb)!,
      block: k,
      a: ra === undefined ? undefined : decodeRecord(ra.chunk, ra.i),
      b: rb === undefined ? undefined : decodeRecord(rb.chunk, rb.i),
    };
  }
  return undefined;
}
