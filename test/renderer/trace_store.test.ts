// The UI's copy of the trace: batches appended in order, truncated after a step back, records
// sent again after a reconnect kept once, a gap reported so the UI re-syncs.
import { describe, expect, it } from 'vitest';
import { packTraceColumns, toBase64 } from '../../src/contract/trace_batch.js';
import { TraceStore } from '../../src/renderer/src/store/trace_store.js';

function batch(first: number, count: number, truncate?: number) {
  const n = (f: (i: number) => number) => Int32Array.from({ length: count }, (_, i) => f(first + i));
  const cols = { t: Float64Array.from({ length: count }, (_, i) => (first + i) * 10), dom: n((s) => s % 3), vcpu: n(() => 0), port: n((s) => s), x0: n(() => 1), cause: n((s) => s - 1), kind: Uint8Array.from({ length: count }, (_, i) => (first + i) % 13) };
  return { first, count, columns: toBase64(packTraceColumns(cols, count)), ...(truncate === undefined ? {} : { truncate }) };
}

describe('the UI trace store', () => {
  it('appends batches, truncates after a step back, and keeps records sent twice once', () => {
    const s = new TraceStore();
    expect(s.apply(batch(0, 5000))).toBe(true);
    expect(s.apply(batch(5000, 10))).toBe(true);
    expect(s.count).toBe(5010);
    expect(s.cols.port[5009]).toBe(5009);
    expect(s.apply(batch(4000, 0, 4000))).toBe(true);
    expect(s.count).toBe(4000);
    expect(s.apply(batch(3990, 20))).toBe(true);
    expect(s.count).toBe(4010);
    expect(Array.from(s.cols.t.subarray(3998, 4002))).toEqual([39980, 39990, 40000, 40010]);
    expect(s.cols.cause[4009]).toBe(4008);
  });

  it('reports a gap', () => {
    const s = new TraceStore();
    s.apply(batch(0, 10));
    expect(s.apply(batch(20, 5))).toBe(false);
    expect(s.count).toBe(10);
  });

  it('grows its columns in place, keeping every record (no copy of what is held: a frame-long stall at a million)', () => {
    const s = new TraceStore();
    s.apply(batch(0, 3000));
    const buffers = Object.values(s.cols).map((c: ArrayLike<number> & { buffer: ArrayBufferLike }) => c.buffer);
    for (let first = 3000; first < 40_000; first += 3000) expect(s.apply(batch(first, 3000))).toBe(true);
    expect(s.count).toBe(42_000);
    expect(s.cols.t.length).toBeGreaterThanOrEqual(42_000);
    Object.values(s.cols).forEach((c: { buffer: ArrayBufferLike }, i) => expect(c.buffer).toBe(buffers[i]));
    for (const seq of [0, 2999, 3000, 4095, 4096, 8191, 8192, 41_999]) {
      expect(s.cols.t[seq]).toBe(seq * 10);
      expect(s.cols.port[seq]).toBe(seq);
      expect(s.cols.kind[seq]).toBe(seq % 13);
    }
  });
});
