// The timeline's index (src/renderer/src/views/timeline/lod.ts): per lane, counts per pixel column
// equal a brute-force count whatever the zoom, the bursts (many records at one time) or the batch
// sizes; cutting back after a step back leaves the index a fresh one would be; flows in view are
// exactly those whose arrow crosses the range; and memory stays a few bytes a record.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TRACE_KINDS } from '../../src/host/lab/trace_log.js';
import { XEN2_OP_CODE_BASE as HOST_XEN2_BASE } from '../../src/core/hv/hypercall_xen2.js';
import { EVTCHNOP } from '../../src/core/abi/evtchn.js';
import { LaneRecords, LEVELS, TimelineIndex, type IndexColumns } from '../../src/renderer/src/views/timeline/lod.js';
import { kindTable, laneKey, laneOf, MARK, MARK_COUNT, markOf, XEN2_OP_CODE_BASE, XEN_LANE } from '../../src/renderer/src/views/timeline/marks.js';

const K = kindTable(TRACE_KINDS);
const kind = (name: string): number => TRACE_KINDS.indexOf(name);

interface Rec {
  dt: number;
  dom: number;
  vcpu: number;
  kind: number;
  x0: number;
  causeBack: number;
}

/** Columns for records given as time steps (0 = the same instant: a burst) and the rest. */
function columns(recs: Rec[]): IndexColumns {
  const n = recs.length;
  const c: IndexColumns = { t: new Float64Array(n), dom: new Int32Array(n), vcpu: new Int32Array(n), x0: new Int32Array(n), cause: new Int32Array(n), kind: new Uint8Array(n) };
  let t = 0;
  recs.forEach((r, i) => {
    t += r.dt;
    c.t[i] = t;
    c.dom[i] = r.dom;
    c.vcpu[i] = r.vcpu;
    c.kind[i] = r.kind;
    c.x0[i] = r.x0;
    c.cause[i] = r.causeBack > 0 && r.causeBack <= i ? i - r.causeBack : -1;
  });
  return c;
}

const recArb = fc.record({
  dt: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1000, max: 5_000_000 })),
  // Few lanes, so lanes hold whole nodes of 16 and 64 records.
  dom: fc.integer({ min: -1, max: 1 }),
  vcpu: fc.integer({ min: -1, max: 0 }),
  kind: fc.integer({ min: 0, max: TRACE_KINDS.length - 1 }),
  x0: fc.oneof(fc.constant(EVTCHNOP.send), fc.constant(404), fc.integer({ min: 0, max: 500 })),
  causeBack: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 40 })),
});

/** Counts per (column, mark) of a lane's records in [t0, t1), by looking at every record. */
function bruteCounts(c: IndexColumns, n: number, key: number, t0: number, t1: number, cols: number): Uint32Array {
  const out = new Uint32Array(cols * MARK_COUNT);
  const per = (t1 - t0) / cols;
  for (let s = 0; s < n; s++) {
    if (laneOf(K, c.kind[s]!, c.dom[s]!, c.vcpu[s]!) !== key) continue;
    const t = c.t[s]!;
    if (t < t0 || t >= t1) continue;
    const col = Math.min(cols - 1, Math.max(0, Math.floor((t - t0) / per)));
    out[col * MARK_COUNT + markOf(K, c.kind[s]!, c.x0[s]!)]!++;
  }
  return out;
}

function indexCounts(ix: TimelineIndex, c: IndexColumns, key: number, t0: number, t1: number, cols: number): Uint32Array {
  const out = new Uint32Array(cols * MARK_COUNT);
  const lane = ix.lanes.get(key);
  if (lane === undefined) return out;
  const [a, b] = lane.range(c.t, t0, t1);
  lane.accumulate(c.t, a, b, t0, (t1 - t0) / cols, cols, out, (s) => ix.markAt(c, s));
  return out;
}

function build(c: IndexColumns, n: number, batch = n): TimelineIndex {
  const ix = new TimelineIndex(K);
  for (let at = 0; at < n; ) {
    at = Math.min(n, at + Math.max(1, batch));
    ix.ingest(c, at);
  }
  return ix;
}

describe('the timeline index', () => {
  it('counts records per pixel column and mark exactly as a brute-force count does, at any zoom', () => {
    fc.assert(
      fc.property(
        fc.array(recArb, { minLength: 1, maxLength: 1500, size: 'max' }),
        fc.integer({ min: 1, max: 400 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 1, max: 700 }),
        (recs, cols, a, b, batch) => {
          const c = columns(recs);
          const n = recs.length;
          const ix = build(c, n, batch);
          const end = c.t[n - 1]! + 1;
          const t0 = Math.min(a, b) * end;
          const t1 = Math.max(t0 + 1, Math.max(a, b) * end);
          for (const key of ix.lanes.keys()) expect(Array.from(indexCounts(ix, c, key, t0, t1, cols))).toEqual(Array.from(bruteCounts(c, n, key, t0, t1, cols)));
          expect([...ix.lanes.values()].reduce((k, l) => k + l.n, 0)).toBe(n);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('with slack, moves a record at most `slack` ns earlier: every count lands in the column of a time within slack of the record', () => {
    fc.assert(
      fc.property(fc.array(recArb, { minLength: 1, maxLength: 1500, size: 'max' }), fc.integer({ min: 1, max: 300 }), fc.double({ min: 0, max: 2, noNaN: true }), (recs, cols, k) => {
        const c = columns(recs);
        const n = recs.length;
        const ix = build(c, n);
        const t1 = c.t[n - 1]! + 1;
        const per = t1 / cols;
        const slack = per * k;
        for (const [key, lane] of ix.lanes) {
          const out = new Uint32Array(cols * MARK_COUNT);
          lane.accumulate(c.t, 0, lane.n, 0, per, cols, out, (s) => ix.markAt(c, s), slack);
          const times = Array.from(lane.seqs.subarray(0, lane.n)).map((s) => c.t[s]!);
          let prefix = 0;
          for (let col = 0; col < cols; col++) {
            for (let m = 0; m < MARK_COUNT; m++) prefix += out[col * MARK_COUNT + m]!;
            const end = (col + 1) * per;
            // Records before the column's end are counted in it or earlier; none later than end + slack is.
            expect(prefix, `lane ${key} column ${col}`).toBeGreaterThanOrEqual(times.filter((x) => Math.min(cols - 1, Math.floor(x / per)) <= col).length);
            expect(prefix).toBeLessThanOrEqual(times.filter((x) => x < end + slack).length);
          }
          expect(prefix).toBe(lane.n);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('uses whole nodes where records share a column: a million-record lane over 1,000 columns reads a few thousand nodes', () => {
    const n = 1_000_000;
    const c: IndexColumns = { t: new Float64Array(n), dom: new Int32Array(n), vcpu: new Int32Array(n), x0: new Int32Array(n), cause: new Int32Array(n).fill(-1), kind: new Uint8Array(n).fill(kind('bit')) };
    for (let i = 0; i < n; i++) c.t[i] = Math.floor(i / 7) * 100; // bursts of 7 records every 100 ns
    const ix = build(c, n, 20_000);
    const lane = ix.lanes.get(laneKey(0, 0))!;
    let reads = 0;
    const out = new Uint32Array(1000 * MARK_COUNT);
    lane.accumulate(c.t, 0, lane.n, 0, c.t[n - 1]! / 999.9, 1000, out, (s) => (reads++, ix.markAt(c, s)));
    expect(out.reduce((a, b) => a + b, 0)).toBe(n);
    // Records read one by one: only where a level-0 node (16 records) straddles a column boundary.
    expect(reads).toBeLessThan(1000 * 16);
  });

  it('cut back (a step back) and grown again, it is the index a fresh build would be', () => {
    fc.assert(
      fc.property(fc.array(recArb, { minLength: 2, maxLength: 1200, size: 'max' }), fc.array(recArb, { minLength: 0, maxLength: 600, size: 'max' }), fc.double({ min: 0, max: 1, noNaN: true }), (first, second, at) => {
        const keep = Math.floor(at * first.length);
        const ix = build(columns(first), first.length, 97);
        // The session went back to `keep` records, then ran on differently.
        const after = columns([...first.slice(0, keep), ...second]);
        ix.cut(after, keep);
        expect(ix.count).toBe(keep);
        ix.ingest(after, keep + second.length);
        const fresh = build(after, keep + second.length);
        expect([...ix.lanes.keys()].sort()).toEqual([...fresh.lanes.keys()].sort());
        for (const [key, lane] of fresh.lanes) {
          const mine = ix.lanes.get(key)!;
          expect(mine.n).toBe(lane.n);
          expect(Array.from(mine.seqs.subarray(0, mine.n))).toEqual(Array.from(lane.seqs.subarray(0, lane.n)));
          for (let l = 0; l < LEVELS; l++) {
            const used = ((lane.n - 1) >>> (4 + 2 * l)) + 1;
            expect(Array.from(mine.counts[l]!.subarray(0, used * MARK_COUNT)), `level ${l} of lane ${key}`).toEqual(Array.from(lane.counts[l]!.subarray(0, used * MARK_COUNT)));
          }
        }
        expect(Array.from(ix.flows.seqs.subarray(0, ix.flows.n))).toEqual(Array.from(fresh.flows.seqs.subarray(0, fresh.flows.n)));
      }),
      { numRuns: 120 },
    );
  });

  it('finds the flows whose arrow crosses the range: cause at or before its end, effect at or after its start', () => {
    fc.assert(
      fc.property(fc.array(recArb, { minLength: 1, maxLength: 800, size: 'max' }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (recs, a, b) => {
        const c = columns(recs);
        const n = recs.length;
        const ix = build(c, n, 50);
        const end = c.t[n - 1]! + 1;
        const t0 = Math.min(a, b) * end;
        const t1 = Math.max(a, b) * end;
        const got = ix.flows.visible(c, t0, t1).map((i) => ix.flows.seqs[i]!);
        const want: number[] = [];
        for (let s = 0; s < n; s++) {
          const from = c.cause[s]!;
          if (from < 0 || (c.kind[s] !== kind('upcall') && c.kind[s] !== kind('handler'))) continue;
          if (c.t[from]! <= t1 && c.t[s]! >= t0) want.push(s);
        }
        expect(got).toEqual(want);
      }),
      { numRuns: 150 },
    );
  });

  it('costs a few bytes a record: the lane list and about 1/12 of a node per record', () => {
    const lane = new LaneRecords(laneKey(1, 0));
    for (let i = 0; i < 1_000_000; i++) lane.push(i, i % MARK_COUNT);
    const bytes = lane.seqs.byteLength + lane.counts.reduce((a, c) => a + c.byteLength, 0);
    // 4 bytes of seq, and 10 counts of 4 bytes per 16·(1 + 1/4 + ...) records: ~3.3 bytes; doubling growth leaves slack.
    expect(bytes / 1_000_000).toBeLessThan(16);
  });
});

describe('the timeline marks and lanes', () => {
  it('tells a send from other hypercalls by its op code, in both Xen versions', () => {
    expect(XEN2_OP_CODE_BASE).toBe(HOST_XEN2_BASE);
    expect(markOf(K, kind('hypercall'), EVTCHNOP.send)).toBe(MARK.send);
    expect(markOf(K, kind('hypercall'), HOST_XEN2_BASE + 4)).toBe(MARK.send);
    expect(markOf(K, kind('hypercall'), EVTCHNOP.alloc_unbound)).toBe(MARK.hypercall);
    expect(markOf(K, kind('upcall'), 0)).toBe(MARK.upcall);
    expect(markOf(K, kind('handler'), 0)).toBe(MARK.handler);
    expect(markOf(K, kind('raise'), 0)).toBe(MARK.raise);
    expect(markOf(K, kind('cons'), 3)).toBe(MARK.console);
    expect(markOf(K, kind('ctrl_msg'), 0)).toBe(MARK.message);
    expect(markOf(K, kind('xs_msg'), 0)).toBe(MARK.message);
    expect(markOf(K, kind('fault'), 0)).toBe(MARK.fault);
    expect(markOf(K, kind('domain'), 0)).toBe(MARK.lifecycle);
    for (const k of ['bit', 'port', 'grant_entry', 'ring', 'note']) expect(markOf(K, kind(k), 0)).toBe(MARK.state);
  });

  it("puts a record in its vCPU's lane only where the vcpu column is a vCPU; raises in Xen's", () => {
    expect(laneOf(K, kind('hypercall'), 2, 1)).toBe(laneKey(2, 1));
    expect(laneOf(K, kind('bit'), 2, -1)).toBe(laneKey(2, -1));
    // cons, xs_msg and grant_entry keep a direction or a writer in the vcpu column.
    expect(laneOf(K, kind('cons'), 2, 1)).toBe(laneKey(2, -1));
    expect(laneOf(K, kind('xs_msg'), 0, 1)).toBe(laneKey(0, -1));
    expect(laneOf(K, kind('grant_entry'), 1, 1)).toBe(laneKey(1, -1));
    expect(laneOf(K, kind('raise'), 1, 0)).toBe(XEN_LANE);
    expect(laneOf(K, kind('note'), -1, -1)).toBe(XEN_LANE);
  });
});
