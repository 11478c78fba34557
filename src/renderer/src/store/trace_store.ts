/**
 * The trace as the UI holds it: the streamed columns (contract/trace_batch.ts)
 * appended into growing typed arrays, truncated when the session steps back.
 * The timeline and event list read these columns; `records` may lag the
 * session's count while batches are on their way.
 */
import type { TraceBatchMessage } from '../../../contract/session.js';
import { fromBase64, unpackTraceColumns, type TraceColumns } from '../../../contract/trace_batch.js';

type ColumnName = keyof TraceColumns;

/** The browser's own base64 decoder where it has one (Uint8Array.fromBase64: twice as fast on a 20,000-record batch). */
const nativeFromBase64 = (Uint8Array as unknown as { fromBase64?: (text: string) => Uint8Array }).fromBase64;

function decodeBatch(text: string): Uint8Array {
  if (nativeFromBase64 !== undefined) {
    try {
      return nativeFromBase64(text);
    } catch {
      // fall through: the contract's decoder says what is wrong with it
    }
  }
  return fromBase64(text);
}

export class TraceStore {
  count = 0;
  private cap = 0;
  cols: TraceColumns = { t: new Float64Array(0), dom: new Int32Array(0), vcpu: new Int32Array(0), port: new Int32Array(0), x0: new Int32Array(0), cause: new Int32Array(0), kind: new Uint8Array(0) };

  private readonly cutListeners = new Set<(count: number) => void>();

  /**
   * Calls `fn` whenever held records are dropped — the session stepped back (a batch's
   * `truncate`) or started over — with the count kept, before records that replace them are
   * appended: an index over the columns (the timeline's) cuts itself back too.
   */
  onCut(fn: (count: number) => void): () => void {
    this.cutListeners.add(fn);
    return () => void this.cutListeners.delete(fn);
  }

  clear(): void {
    this.count = 0;
    for (const fn of this.cutListeners) fn(0);
  }

  /**
   * The seq from which records were dropped by the last batch applied (a step back), or undefined.
   * Records from there on may differ from those dropped (input typed after the step back).
   */
  truncatedAt: number | undefined;

  /** Applies a batch; false when it does not follow on from what is held (the caller re-syncs). */
  apply(b: TraceBatchMessage): boolean {
    this.truncatedAt = undefined;
    if (b.truncate !== undefined && b.truncate < this.count) {
      this.count = this.truncatedAt = b.truncate;
      for (const fn of this.cutListeners) fn(b.truncate);
    }
    if (b.first > this.count) return false;
    // Records already held (sent again after a reconnect) are the same: only the rest is added.
    const skip = this.count - b.first;
    if (b.count <= skip) return true;
    const c = unpackTraceColumns(decodeBatch(b.columns), b.count);
    const add = b.count - skip;
    this.reserve(this.count + add);
    for (const k of Object.keys(c) as ColumnName[]) (this.cols[k] as Float64Array).set((c[k] as Float64Array).subarray(skip), this.count);
    this.count += add;
    return true;
  }

  private reserve(n: number): void {
    if (n <= this.cap) return;
    const cap = Math.max(n, this.cap * 2, 4096);
    const grow = <T extends Float64Array | Int32Array | Uint8Array>(old: T, make: (buffer: ArrayBuffer, n: number) => T, bytes: number): T => {
      const buffer = old.buffer as ArrayBuffer & { resizable?: boolean; maxByteLength?: number; resize?: (n: number) => void };
      // In place when the buffer can grow: no copy of what is held (a million records are
      // 33 MB, whose copy was a 90–150 ms frame), only the new pages.
      if (buffer.resizable === true && cap * bytes <= buffer.maxByteLength!) {
        buffer.resize!(cap * bytes);
        return make(buffer, cap);
      }
      const a = make(resizableBuffer(cap * bytes, Math.max(cap, RESERVED_RECORDS) * bytes), cap);
      a.set(old.subarray(0, this.count));
      return a;
    };
    this.cols = {
      t: grow(this.cols.t, (b, n) => new Float64Array(b, 0, n), 8),
      dom: grow(this.cols.dom, (b, n) => new Int32Array(b, 0, n), 4),
      vcpu: grow(this.cols.vcpu, (b, n) => new Int32Array(b, 0, n), 4),
      port: grow(this.cols.port, (b, n) => new Int32Array(b, 0, n), 4),
      x0: grow(this.cols.x0, (b, n) => new Int32Array(b, 0, n), 4),
      cause: grow(this.cols.cause, (b, n) => new Int32Array(b, 0, n), 4),
      kind: grow(this.cols.kind, (b, n) => new Uint8Array(b, 0, n), 1),
    };
    this.cap = cap;
  }
}

/**
 * Records a column's buffer reserves room for: past the host's limit on a session's trace
 * (4,000,000, session.ts's TRACE_KEEP_MAX). Address space only; pages are taken as written.
 */
const RESERVED_RECORDS = 1 << 23;

/** ES2024's constructor form (typings here stop at ES2023). */
const ResizableArrayBuffer = ArrayBuffer as unknown as new (bytes: number, options: { maxByteLength: number }) => ArrayBuffer;

/** An ArrayBuffer of `bytes` that can grow in place up to `max` (a plain one where that is not supported). */
function resizableBuffer(bytes: number, max: number): ArrayBuffer {
  try {
    return new ResizableArrayBuffer(bytes, { maxByteLength: max });
  } catch {
    return new ArrayBuffer(bytes);
  }
}
