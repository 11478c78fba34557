/**
 * A session's trace as it is made: the machine's own record chunks (kept,
 * not copied), each record's cause (trace_cause.ts) beside them, and how far
 * the stream to the UI has got. Batches for the UI are the packed columns of
 * contract/trace_batch.ts.
 */
import { decodeRecord, TRACE_CHUNK, TK, TraceChunk, type TraceBatch, type TraceRecord } from '../../core/sim/trace.js';
import { TraceCauses } from '../../scenario/trace_cause.js';
import { packTraceColumns, type TraceColumns } from '../../contract/trace_batch.js';
import { toBase64 } from './base64.js';
import type { TraceBatchMessage } from '../../contract/session.js';

/** Record kinds by number, as TraceBatchMessage.kind indexes them (SessionInfo.traceKinds). */
export const TRACE_KINDS: readonly string[] = Object.keys(TK);

/** Records between copies of the cause rule's state kept for truncation. */
const RULE_COPY_EVERY = 1 << 16;

export class TraceLog {
  private readonly chunks: TraceChunk[] = [];
  private readonly causes: Int32Array[] = [];
  private rule = new TraceCauses();
  /** The rule as it stood before record `seq`, every RULE_COPY_EVERY records: truncate() goes on from one. */
  private readonly ruleCopies: { seq: number; rule: TraceCauses }[] = [{ seq: 0, rule: new TraceCauses() }];
  /** Records kept so far (seq 0 .. count-1). */
  count = 0;
  /** Records handed to the stream so far. */
  streamed = 0;
  /** Set when the UI must drop records from this seq on before the next batch (after a step back). */
  private truncateAt: number | undefined;
  /** Kinds of the records since the last look (bit i: kind i), for deciding what else to send. */
  kindsSeen = 0;

  /** Subscribe this to the machine's trace (RunOptions.onMachine). */
  readonly subscriber = (b: TraceBatch): void => {
    const c = b.chunk;
    const k = Math.floor(c.firstSeq / TRACE_CHUNK);
    if (this.chunks[k] !== c) {
      this.chunks[k] = c;
      this.causes[k] = new Int32Array(TRACE_CHUNK);
    }
    const causes = this.causes[k]!;
    for (let i = b.start; i < b.end; i++) {
      if (((c.firstSeq + i) & (RULE_COPY_EVERY - 1)) === 0 && c.firstSeq + i > 0) this.ruleCopies.push({ seq: c.firstSeq + i, rule: this.rule.copy() });
      causes[i] = this.rule.next(c, i);
      this.kindsSeen |= 1 << c.kind[i]!;
    }
    this.count = c.firstSeq + b.end;
  };

  /**
   * Keeps only records 0 .. count-1: the machine was executed again to a
   * position whose trace ends there (records before it are the same: the
   * machine is deterministic), and goes on from resumePoint(). The stream
   * tells the UI to drop what it holds beyond.
   */
  truncate(count: number): void {
    if (count > this.count) throw new RangeError(`truncate: the log holds ${this.count} records, asked to keep ${count}`);
    const streamed = this.streamed;
    this.count = count;
    this.chunks.length = this.causes.length = Math.ceil(count / TRACE_CHUNK);
    this.continueStream(streamed);
    while (this.ruleCopies.length > 1 && this.ruleCopies.at(-1)!.seq > count) this.ruleCopies.pop();
    const from = this.ruleCopies.at(-1)!;
    this.rule = from.rule.copy();
    for (let seq = from.seq; seq < count; seq++) {
      const c = this.chunks[Math.floor(seq / TRACE_CHUNK)]!;
      this.rule.next(c, seq - c.firstSeq);
    }
  }

  /** Where a machine resuming this log writes its next record (Trace.resumeInto): the last chunk, or a new one. */
  resumePoint(): { chunk: TraceChunk; length: number } {
    if (this.count % TRACE_CHUNK === 0) return { chunk: new TraceChunk(this.count), length: 0 };
    const c = this.chunks[Math.floor(this.count / TRACE_CHUNK)]!;
    return { chunk: c, length: this.count - c.firstSeq };
  }

  /**
   * This log replaces one whose stream had reached `streamedBefore` (the
   * machine was re-run to a position): the UI keeps the records both have
   * (they are the same: the machine is deterministic) and drops the rest.
   */
  continueStream(streamedBefore: number): void {
    this.streamed = Math.min(streamedBefore, this.count);
    if (streamedBefore > this.count) this.truncateAt = this.count;
  }

  /** The next batch for the UI, at most `max` records (undefined when there is nothing to say). */
  takeBatch(max: number): TraceBatchMessage | undefined {
    const first = this.streamed;
    const count = Math.max(0, Math.min(this.count - first, max));
    if (count === 0 && this.truncateAt === undefined) return undefined;
    const msg: TraceBatchMessage = { first, count, columns: toBase64(packTraceColumns(this.columns(first, count), count)) };
    if (this.truncateAt !== undefined) msg.truncate = this.truncateAt;
    this.truncateAt = undefined;
    this.streamed = first + count;
    return msg;
  }

  /** Records [first, first+count) as columns. */
  columns(first: number, count: number): TraceColumns {
    const cols: TraceColumns = {
      t: new Float64Array(count),
      dom: new Int32Array(count),
      vcpu: new Int32Array(count),
      port: new Int32Array(count),
      x0: new Int32Array(count),
      cause: new Int32Array(count),
      kind: new Uint8Array(count),
    };
    let o = 0;
    while (o < count) {
      const seq = first + o;
      const k = Math.floor(seq / TRACE_CHUNK);
      const c = this.chunks[k]!;
      const from = seq - c.firstSeq;
      const n = Math.min(count - o, TRACE_CHUNK - from);
      cols.t.set(c.t.subarray(from, from + n), o);
      cols.dom.set(c.dom.subarray(from, from + n), o);
      cols.vcpu.set(c.vcpu.subarray(from, from + n), o);
      cols.port.set(c.port.subarray(from, from + n), o);
      cols.x0.set(c.x0.subarray(from, from + n), o);
      cols.cause.set(this.causes[k]!.subarray(from, from + n), o);
      cols.kind.set(c.kind.subarray(from, from + n), o);
      o += n;
    }
    return cols;
  }

  /** Record `seq`, decoded; undefined outside 0..count-1. */
  record(seq: number): TraceRecord | undefined {
    if (!Number.isInteger(seq) || seq < 0 || seq >= this.count) return undefined;
    const k = Math.floor(seq / TRACE_CHUNK);
    return decodeRecord(this.chunks[k]!, seq - this.chunks[k]!.firstSeq);
  }

  /** Record `seq`'s kind number (TRACE_KINDS), without decoding it; -1 outside 0..count-1. */
  kind(seq: number): number {
    if (!Number.isInteger(seq) || seq < 0 || seq >= this.count) return -1;
    return this.chunks[Math.floor(seq / TRACE_CHUNK)]!.kind[seq % TRACE_CHUNK]!;
  }

  cause(seq: number): number {
    if (!Number.isInteger(seq) || seq < 0 || seq >= this.count) return -1;
    return this.causes[Math.floor(seq / TRACE_CHUNK)]![seq % TRACE_CHUNK]!;
  }

  /** The kept records as batches, in order (for exports). */
  *batches(): IterableIterator<TraceBatch> {
    for (const c of this.chunks) {
      const end = Math.min(c.length, this.count - c.firstSeq);
      if (end > 0) yield { chunk: c, start: 0, end };
    }
  }
}
