/**
 * What the explain panel (and the inspector, for frames only the trace
 * names) reads of a run's trace: the machine's own record chunks, searched
 * newest first on their columns, decoding only the records it cites.
 *
 * The lab's TraceLog (count + batches()) fits TraceLookback as it is; a
 * TraceStore subscribed from the machine's start fits through
 * traceStoreLookback.
 */
import { decodeRecord, type TraceBatch, type TraceChunk, type TraceRecord, type TraceStore } from '../../core/sim/trace.js';

export interface TraceLookback {
  /** Records kept: seqs 0 .. count-1. */
  readonly count: number;
  /** The chunks holding those records, oldest first, each with how far it is filled (`end`). */
  batches(): Iterable<TraceBatch>;
}

/** A TraceStore (subscribed before the machine made any record) as a TraceLookback. */
export function traceStoreLookback(store: TraceStore): TraceLookback {
  return {
    get count() {
      return store.count;
    },
    *batches() {
      for (const c of store.chunks) {
        const end = Math.min(c.length, store.count - c.firstSeq);
        if (end > 0) yield { chunk: c, start: 0, end };
      }
    },
  };
}

/** A test of one record on its columns (kind, dom, vcpu, port, x0, x1, x2), without decoding it. */
export type RecordTest = (c: TraceChunk, i: number) => boolean;

function chunksOf(trace: TraceLookback): TraceBatch[] {
  const out: TraceBatch[] = [];
  for (const b of trace.batches()) out.push(b);
  return out;
}

/**
 * The newest record with seq in [from, count) passing each test, in one pass
 * from the newest record back: seqs[k] for tests[k], -1 when none passes.
 */
export function findLastEach(trace: TraceLookback, tests: readonly RecordTest[], from = 0): number[] {
  const found = tests.map(() => -1);
  let left = tests.length;
  const chunks = chunksOf(trace);
  for (let k = chunks.length - 1; k >= 0 && left > 0; k--) {
    const { chunk, end } = chunks[k]!;
    const last = Math.min(end, trace.count - chunk.firstSeq) - 1;
    const first = Math.max(0, from - chunk.firstSeq);
    for (let i = last; i >= first && left > 0; i--) {
      for (let t = 0; t < tests.length; t++) {
        if (found[t] === -1 && tests[t]!(chunk, i)) {
          found[t] = chunk.firstSeq + i;
          left--;
        }
      }
    }
    if (chunk.firstSeq <= from) break;
  }
  return found;
}

/** The newest record with seq in [from, count) passing `test`, or -1. */
export function findLast(trace: TraceLookback, test: RecordTest, from = 0): number {
  return findLastEach(trace, [test], from)[0]!;
}

/** The seqs of the newest `n` records passing `test`, newest first. */
export function findLastN(trace: TraceLookback, test: RecordTest, n: number): number[] {
  const out: number[] = [];
  const chunks = chunksOf(trace);
  for (let k = chunks.length - 1; k >= 0 && out.length < n; k--) {
    const { chunk, end } = chunks[k]!;
    for (let i = Math.min(end, trace.count - chunk.firstSeq) - 1; i >= 0 && out.length < n; i--) if (test(chunk, i)) out.push(chunk.firstSeq + i);
  }
  return out;
}

/** Record `seq`, decoded; undefined when the trace does not hold it. */
export function recordAt(trace: TraceLookback, seq: number): TraceRecord | undefined {
  if (!Number.isInteger(seq) || seq < 0 || seq >= trace.count) return undefined;
  for (const { chunk, end } of trace.batches()) {
    if (seq >= chunk.firstSeq && seq < chunk.firstSeq + end) return decodeRecord(chunk, seq - chunk.firstSeq);
  }
  return undefined;
}
