/**
 * The timeline's index over the trace columns, built as records arrive and
 * cut back when the session steps back; nothing here rescans the trace.
 *
 * Per lane, the lane's records (their seqs, in time order, since records
 * come in time order) and, over that list, counts per mark at power-of-four
 * resolutions: level L holds one node per 16·4^L consecutive lane records.
 * The nodes are fixed by record count, not by time, so the index costs a
 * bounded 4 + ~3 bytes a record however sparse or bursty the times are
 * (time buckets at power-of-two widths would need a node per occupied
 * bucket per level: a sparse trace fills every fine level with singletons).
 * A node's time span is read from the trace's own t column (its first and
 * last record), so a node that falls inside one pixel column is counted
 * whole; one that straddles columns is split into its children, down to
 * single records. Aggregating a lane over W pixel columns therefore costs
 * about W·(a few nodes) however many records the range holds.
 *
 * Beside the lanes, the flows: every upcall or handler record whose `cause`
 * is set (the send or raise that made its port pending), in seq order.
 */
import type { TraceColumns } from '../../../../contract/trace_batch.js';
import { laneOf, MARK_COUNT, markOf, type KindTable } from './marks.js';

/** Level 0 nodes hold 2^4 lane records; each level up, 4 times as many. */
const BASE_SHIFT = 4;
const LEVEL_SHIFT = 2;
/** Levels 0..10: nodes of 16 up to 16·4^10 (16M) records. */
export const LEVELS = 11;

export function levelShift(level: number): number {
  return BASE_SHIFT + LEVEL_SHIFT * level;
}

/** The trace columns the index reads. */
export type IndexColumns = Pick<TraceColumns, 't' | 'dom' | 'vcpu' | 'x0' | 'cause' | 'kind'>;

function grow<T extends Int32Array | Uint32Array>(a: T, need: number, make: (n: number) => T): T {
  if (need <= a.length) return a;
  const b = make(Math.max(need, a.length * 2));
  b.set(a);
  return b;
}

/** First i in [lo, hi) with t[seqs[i]] >= time (hi when none). */
export function lowerBound(t: Float64Array, seqs: Int32Array, lo: number, hi: number, time: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (t[seqs[mid]!]! < time) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First i in [lo, hi) with t[seqs[i]] > time (hi when none). */
export function upperBound(t: Float64Array, seqs: Int32Array, lo: number, hi: number, time: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (t[seqs[mid]!]! <= time) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** One lane's records and its counts per mark at each level. */
export class LaneRecords {
  n = 0;
  seqs = new Int32Array(64);
  /**
   * counts[L][node * MARK_COUNT + mark]. Level 0 counts every record; the levels above count the
   * records of whole level-0 nodes only (a node's counts go up when its last record comes):
   * only whole nodes are ever read, and adding a record to 11 levels was most of the ingest.
   */
  readonly counts: Uint32Array[] = Array.from({ length: LEVELS }, () => new Uint32Array(MARK_COUNT * 4));

  constructor(readonly key: number) {}

  push(seq: number, mark: number): void {
    const i = this.n;
    if (i === this.seqs.length) this.seqs = grow(this.seqs, i + 1, (n) => new Int32Array(n));
    this.seqs[i] = seq;
    const at = (i >>> BASE_SHIFT) * MARK_COUNT + mark;
    let c = this.counts[0]!;
    if (at >= c.length) c = this.counts[0] = grow(c, at + 1, (n) => new Uint32Array(n));
    c[at]!++;
    this.n = i + 1;
    if (((i + 1) & ((1 << BASE_SHIFT) - 1)) === 0) this.rollUp(i >>> BASE_SHIFT, 1);
  }

  /** Adds level-0 node `node0`'s counts, times `sign`, to the node above it at every level. */
  private rollUp(node0: number, sign: 1 | -1): void {
    const c0 = this.counts[0]!;
    const from = node0 * MARK_COUNT;
    const first = node0 << BASE_SHIFT;
    for (let l = 1; l < LEVELS; l++) {
      const base = (first >>> levelShift(l)) * MARK_COUNT;
      let c = this.counts[l]!;
      if (base + MARK_COUNT > c.length) c = this.counts[l] = grow(c, base + MARK_COUNT, (n) => new Uint32Array(n));
      for (let m = 0; m < MARK_COUNT; m++) {
        const v = c0[from + m]!;
        if (v !== 0) c[base + m] = c[base + m]! + sign * v;
      }
    }
  }

  /** Keeps the first `keep` lane records; `markAt(seq)` gives a kept record's mark (to recount a partial node). */
  cut(keep: number, markAt: (seq: number) => number): void {
    if (keep >= this.n) return;
    const last = this.n - 1;
    for (let l = 0; l < LEVELS; l++) {
      const sh = levelShift(l);
      const node = keep >>> sh;
      let c = this.counts[l]!;
      // A level above 0 may not reach `node` yet (it grows as level-0 nodes fill): it must here.
      if ((node + 1) * MARK_COUNT > c.length) c = this.counts[l] = grow(c, (node + 1) * MARK_COUNT, (n) => new Uint32Array(n));
      c.fill(0, node * MARK_COUNT, ((last >>> sh) + 1) * MARK_COUNT);
      if (keep & ((1 << sh) - 1)) {
        // The node `keep` falls in keeps part of its records: count them again.
        if (l === 0) {
          for (let i = node << sh; i < keep; i++) c[node * MARK_COUNT + markAt(this.seqs[i]!)]!++;
        } else {
          const below = this.counts[l - 1]!;
          for (let ch = node * 4; ch < node * 4 + 4; ch++) for (let m = 0; m < MARK_COUNT; m++) c[node * MARK_COUNT + m]! += below[ch * MARK_COUNT + m] ?? 0;
        }
      }
    }
    this.n = keep;
    // The levels above were counted from level 0 with the kept part of `keep`'s level-0 node in
    // them; that node is not whole, so (as push has it) they leave it out until it is.
    if ((keep & ((1 << BASE_SHIFT) - 1)) !== 0) this.rollUp(keep >>> BASE_SHIFT, -1);
  }

  /** Lane records with t in [from, to): [a, b) of this.seqs. */
  range(t: Float64Array, from: number, to: number): [number, number] {
    const a = lowerBound(t, this.seqs, 0, this.n, from);
    return [a, lowerBound(t, this.seqs, a, this.n, to)];
  }

  /**
   * Adds the lane records [a, b) to `out[col * MARK_COUNT + mark]`, where a record's column
   * is floor((t - t0) / nsPerCol) clamped to [0, cols): whole nodes where a node's records
   * share a column, single records where they do not. With `slack` > 0, a node whose records
   * all lie within `slack` ns of each other counts whole in its first record's column even
   * when it straddles a boundary (records moved by less than `slack`: invisible at a quarter
   * column, and it spares reading records one by one at every column's edges).
   */
  accumulate(t: Float64Array, a: number, b: number, t0: number, nsPerCol: number, cols: number, out: Uint32Array, markAt: (seq: number) => number, slack = 0): void {
    const seqs = this.seqs;
    const scale = 1 / nsPerCol;
    const last = cols - 1;
    let i = a;
    next: while (i < b) {
      const first = t[seqs[i]!]!;
      let c0 = Math.floor((first - t0) * scale);
      c0 = c0 < 0 ? 0 : c0 > last ? last : c0;
      // The highest level whose node can start at i: i's trailing zero bits say how aligned it is.
      const tz = i === 0 ? 31 : 31 - Math.clz32(i & -i);
      for (let l = Math.min(LEVELS - 1, (tz - BASE_SHIFT) >> 1); l >= 0; l--) {
        const sh = levelShift(l);
        const size = 1 << sh;
        if (i + size > b) continue;
        const end = t[seqs[i + size - 1]!]!;
        let c1 = Math.floor((end - t0) * scale);
        c1 = c1 < 0 ? 0 : c1 > last ? last : c1;
        if (c0 !== c1 && end - first > slack) continue;
        const src = this.counts[l]!;
        const from = (i >>> sh) * MARK_COUNT;
        const to = c0 * MARK_COUNT;
        for (let m = 0; m < MARK_COUNT; m++) out[to + m]! += src[from + m]!;
        i += size;
        continue next;
      }
      out[c0 * MARK_COUNT + markAt(seqs[i]!)]!++;
      i++;
    }
  }
}

/** Notification flows: records (upcalls, handlers) with a cause, in seq order. */
export class FlowIndex {
  n = 0;
  seqs = new Int32Array(64);
  /** The longest time from a cause to its effect so far, ns (flows are found by their effect's time). */
  maxLatency = 0;

  push(seq: number, latency: number): void {
    if (this.n === this.seqs.length) this.seqs = grow(this.seqs, this.n + 1, (n) => new Int32Array(n));
    this.seqs[this.n++] = seq;
    if (latency > this.maxLatency) this.maxLatency = latency;
  }

  /** Drops flows whose effect is at seq >= count. */
  cut(count: number): void {
    let lo = 0;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.seqs[mid]! < count) lo = mid + 1;
      else hi = mid;
    }
    this.n = lo;
  }

  /**
   * Flows whose arrow crosses [t0, t1] (cause at or before t1, effect at or after t0): those
   * whose effect is in [t0, t1], indexes [lo, hi) of this.seqs (found by binary search, so a
   * million flows in view cost nothing to count), and those after hi whose effect is later but
   * whose cause is in time, written to `late` (grown as needed). Returns [lo, hi, late, lateCount].
   */
  inView(c: IndexColumns, t0: number, t1: number, late: Int32Array): [number, number, Int32Array, number] {
    const t = c.t;
    const lo = lowerBound(t, this.seqs, 0, this.n, t0);
    const hi = upperBound(t, this.seqs, lo, this.n, t1);
    const stop = t1 + this.maxLatency;
    let k = 0;
    for (let i = hi; i < this.n; i++) {
      const s = this.seqs[i]!;
      if (t[s]! > stop) break;
      if (t[c.cause[s]!]! > t1) continue;
      if (k === late.length) late = grow(late, k + 1, (n) => new Int32Array(n));
      late[k++] = i;
    }
    return [lo, hi, late, k];
  }

  /** inView as one list of indexes into this.seqs (for tests). */
  visible(c: IndexColumns, t0: number, t1: number): number[] {
    const [lo, hi, late, k] = this.inView(c, t0, t1, new Int32Array(16));
    const out: number[] = [];
    for (let i = lo; i < hi; i++) out.push(i);
    for (let i = 0; i < k; i++) out.push(late[i]!);
    return out;
  }
}

/** The whole index: lanes by key, flows, and how many records it holds. */
export class TimelineIndex {
  readonly lanes = new Map<number, LaneRecords>();
  readonly flows = new FlowIndex();
  /** Records indexed (seq 0 .. count-1). */
  count = 0;
  /** Bumped when a lane is added (the lane layout is made again). */
  lanesVersion = 0;
  private last: LaneRecords | undefined;

  constructor(public kinds: KindTable) {}

  markAt(c: IndexColumns, seq: number): number {
    return markOf(this.kinds, c.kind[seq]!, c.x0[seq]!);
  }

  laneAt(c: IndexColumns, seq: number): number {
    return laneOf(this.kinds, c.kind[seq]!, c.dom[seq]!, c.vcpu[seq]!);
  }

  /** Indexes records [count, to) of the columns. */
  ingest(c: IndexColumns, to: number): void {
    const k = this.kinds;
    const { t, dom, vcpu, x0, cause, kind } = c;
    let last = this.last;
    for (let s = this.count; s < to; s++) {
      const kd = kind[s]!;
      const key = laneOf(k, kd, dom[s]!, vcpu[s]!);
      if (last === undefined || last.key !== key) {
        last = this.lanes.get(key);
        if (last === undefined) {
          last = new LaneRecords(key);
          this.lanes.set(key, last);
          this.lanesVersion++;
        }
      }
      last.push(s, markOf(k, kd, x0[s]!));
      const from = cause[s]!;
      if (from >= 0 && from < s && (kd === k.upcall || kd === k.handler)) this.flows.push(s, t[s]! - t[from]!);
    }
    this.last = last;
    if (to > this.count) this.count = to;
  }

  /** Keeps records [0, count): the session stepped back. */
  cut(c: IndexColumns, count: number): void {
    if (count >= this.count) return;
    const markAt = (seq: number): number => this.markAt(c, seq);
    for (const [key, lane] of this.lanes) {
      let lo = 0;
      let hi = lane.n;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (lane.seqs[mid]! < count) lo = mid + 1;
        else hi = mid;
      }
      lane.cut(lo, markAt);
      if (lane.n === 0) {
        this.lanes.delete(key);
        this.lanesVersion++;
      }
    }
    this.flows.cut(count);
    this.count = count;
    this.last = undefined;
  }

  reset(kinds: KindTable): void {
    this.kinds = kinds;
    this.lanes.clear();
    this.flows.n = 0;
    this.flows.maxLatency = 0;
    this.count = 0;
    this.last = undefined;
    this.lanesVersion++;
  }
}
