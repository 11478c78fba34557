/**
 * The binary layout of a streamed trace batch (TraceBatchMessage.columns) and
 * its codec, shared by the host (encode) and the UI (decode). Columns, each
 * `count` long, little-endian, one after another:
 *   t      f64  virtual time, ns
 *   dom    i32  domain id (-1: none)
 *   vcpu   i32  vCPU (-1: none)
 *   port   i32  port (-1: none)
 *   x0     i32  the kind's first number (a hypercall's op code, a bit record's field, ...)
 *   cause  i32  seq of the record this one follows from (-1: none): an upcall or
 *               handler points at the send hypercall (or raise) that made its
 *               port pending — the timeline draws it as a flow arrow.
 *   kind   u8   index into SessionInfo.traceKinds
 */

export const TRACE_BATCH_COLUMNS = ['t', 'dom', 'vcpu', 'port', 'x0', 'cause', 'kind'] as const;

export interface TraceColumns {
  t: Float64Array;
  dom: Int32Array;
  vcpu: Int32Array;
  port: Int32Array;
  x0: Int32Array;
  cause: Int32Array;
  kind: Uint8Array;
}

/** Bytes per record in the packed form. */
export const TRACE_BATCH_RECORD_BYTES = 8 + 4 * 5 + 1;

export function traceBatchBytes(count: number): number {
  return count * TRACE_BATCH_RECORD_BYTES;
}

/** Typed arrays read and write in the machine's byte order; the batch is little-endian. */
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/** Packs `count` records' columns (each array at least `count` long) into bytes. */
export function packTraceColumns(c: TraceColumns, count: number): Uint8Array {
  const out = new Uint8Array(traceBatchBytes(count));
  if (LITTLE_ENDIAN) {
    // The machine's order is the batch's: each column is one copy.
    const cols = traceColumnViews(out, count);
    for (const k of TRACE_BATCH_COLUMNS) cols[k].set(c[k].subarray(0, count) as never);
    return out;
  }
  const view = new DataView(out.buffer);
  let o = 0;
  for (let i = 0; i < count; i++, o += 8) view.setFloat64(o, c.t[i]!, true);
  for (const col of [c.dom, c.vcpu, c.port, c.x0, c.cause]) {
    for (let i = 0; i < count; i++, o += 4) view.setInt32(o, col[i]!, true);
  }
  out.set(c.kind.subarray(0, count), o);
  return out;
}

function checkSize(bytes: Uint8Array, count: number): void {
  if (bytes.length !== traceBatchBytes(count)) {
    throw new RangeError(`a trace batch of ${count} records has ${traceBatchBytes(count)} bytes, found ${bytes.length}`);
  }
}

/** Columns laid over a batch's bytes in place (their offsets are multiples of 8 and 4, as the views need). */
function traceColumnViews(bytes: Uint8Array, count: number): TraceColumns {
  const b = bytes.buffer;
  let o = bytes.byteOffset;
  const t = new Float64Array(b, o, count);
  o += 8 * count;
  const int = (): Int32Array => {
    const a = new Int32Array(b, o, count);
    o += 4 * count;
    return a;
  };
  return { t, dom: int(), vcpu: int(), port: int(), x0: int(), cause: int(), kind: new Uint8Array(b, o, count) };
}

/**
 * The columns of bytes made by packTraceColumns: views over `bytes` itself where the machine is
 * little-endian and the bytes start 8-aligned (no copy), otherwise copies read byte by byte.
 * Throws RangeError when the size does not match `count`.
 */
export function unpackTraceColumns(bytes: Uint8Array, count: number): TraceColumns {
  checkSize(bytes, count);
  if (LITTLE_ENDIAN && bytes.byteOffset % 8 === 0) return traceColumnViews(bytes, count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const t = new Float64Array(count);
  let o = 0;
  for (let i = 0; i < count; i++, o += 8) t[i] = view.getFloat64(o, true);
  const ints: Int32Array[] = [];
  for (let k = 0; k < 5; k++) {
    const col = new Int32Array(count);
    for (let i = 0; i < count; i++, o += 4) col[i] = view.getInt32(o, true);
    ints.push(col);
  }
  const kind = bytes.slice(o, o + count);
  return { t, dom: ints[0]!, vcpu: ints[1]!, port: ints[2]!, x0: ints[3]!, cause: ints[4]!, kind };
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = (() => {
  const a = new Int16Array(128).fill(-1);
  for (let i = 0; i < B64.length; i++) a[B64.charCodeAt(i)] = i;
  return a;
})();

/** Standard base64 (RFC 4648, with padding), without Node's Buffer or the DOM's btoa. */
export function toBase64(bytes: Uint8Array): string {
  const parts: string[] = [];
  let line = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    line += B64[n >>> 18]! + B64[(n >>> 12) & 63]! + B64[(n >>> 6) & 63]! + B64[n & 63]!;
    if (line.length >= 8192) {
      parts.push(line);
      line = '';
    }
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    line += B64[n >>> 18]! + B64[(n >>> 12) & 63]! + '==';
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    line += B64[n >>> 18]! + B64[(n >>> 12) & 63]! + B64[(n >>> 6) & 63]! + '=';
  }
  parts.push(line);
  return parts.join('');
}

/** Decodes standard base64; throws RangeError on a character outside the alphabet or a bad length. */
export function fromBase64(text: string): Uint8Array {
  if (text.length % 4 !== 0) throw new RangeError(`base64 text must be a multiple of 4 characters long, found ${text.length}`);
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((text.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    let n = 0;
    for (let k = 0; k < 4; k++) {
      const c = text.charCodeAt(i + k);
      if (c === 61 /* = */ && i + k >= text.length - pad) {
        n <<= 6;
        continue;
      }
      const v = c < 128 ? B64_INDEX[c]! : -1;
      if (v < 0) throw new RangeError(`base64: unexpected character ${JSON.stringify(text[i + k])} at ${i + k}`);
      n = (n << 6) | v;
    }
    if (o < out.length) out[o++] = (n >>> 16) & 255;
    if (o < out.length) out[o++] = (n >>> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
  }
  return out;
}
