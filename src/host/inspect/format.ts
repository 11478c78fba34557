/**
 * How the inspector writes values: hex for addresses and machine words,
 * decimal for counts, flag names for flag words, text for strings, and port
 * sets summarised ("ports 1, 5 set"). Reads are little-endian, as x86 lays
 * the pages out.
 */

/** Unsigned little-endian integer of `size` bytes (1, 2, 4 or 8) at `offset`; 8-byte values as bigint. */
export function readUint(bytes: Uint8Array, offset: number, size: number): number | bigint {
  if (size === 8) {
    const lo = readU32(bytes, offset);
    const hi = readU32(bytes, offset + 4);
    return (BigInt(hi) << 32n) | BigInt(lo);
  }
  if (size === 4) return readU32(bytes, offset);
  if (size === 2) return bytes[offset]! | (bytes[offset + 1]! << 8);
  return bytes[offset]!;
}

export function readU32(bytes: Uint8Array, offset: number): number {
  return (bytes[offset]! | (bytes[offset + 1]! << 8) | (bytes[offset + 2]! << 16) | (bytes[offset + 3]! << 24)) >>> 0;
}

export function readU16(bytes: Uint8Array, offset: number): number {
  return bytes[offset]! | (bytes[offset + 1]! << 8);
}

/** "0x1f" (or padded to `digits` hex digits). */
export function hex(value: number | bigint, digits = 0): string {
  const v = typeof value === 'bigint' ? value : BigInt(value < 0 ? value >>> 0 : Math.trunc(value));
  return `0x${v.toString(16).padStart(digits, '0')}`;
}

export function dec(value: number | bigint): string {
  return value.toString();
}

/** A NUL-terminated string from `size` bytes at `offset`, one character per byte. */
export function cString(bytes: Uint8Array, offset: number, size: number): string {
  let s = '';
  for (let i = 0; i < size; i++) {
    const c = bytes[offset + i]!;
    if (c === 0) break;
    s += String.fromCharCode(c);
  }
  return s;
}

/** The bytes of a NUL-terminated string of at most `size` bytes at `offset`, quoted as quoteBytes does. */
export function quoteCString(bytes: Uint8Array, offset: number, size: number): string {
  let end = offset;
  while (end < offset + size && bytes[end] !== 0) end++;
  return quoteBytes(bytes.subarray(offset, end));
}

/** A quoted string with control bytes escaped: what a byte ring holds, as a person reads it. */
export function quoteBytes(bytes: Uint8Array | readonly number[]): string {
  let s = '';
  for (const c of bytes) {
    if (c === 0x0a) s += '\\n';
    else if (c === 0x0d) s += '\\r';
    else if (c === 0x09) s += '\\t';
    else if (c === 0x00) s += '\\0';
    else if (c === 0x22) s += '\\"';
    else if (c === 0x5c) s += '\\\\';
    else if (c < 0x20 || c >= 0x7f) s += `\\x${c.toString(16).padStart(2, '0')}`;
    else s += String.fromCharCode(c);
  }
  return `"${s}"`;
}

/** Names of the bits of `value` from a table; unknown bits as hex; "0" when none. */
export function flagNames(value: number, names: readonly (readonly [number, string])[]): string {
  if (value === 0) return '0';
  const out: string[] = [];
  let rest = value >>> 0;
  for (const [bit, name] of names) {
    if ((rest & bit) === bit && bit !== 0) {
      out.push(name);
      rest = (rest & ~bit) >>> 0;
    }
  }
  if (rest !== 0) out.push(hex(rest));
  return out.join(' | ');
}

/** Most items a port summary lists before it only counts. */
const SUMMARY_ITEMS = 16;

/**
 * "ports 1, 5, 8–11 set (7)" over bit array `bits` of `nbits` bits at byte
 * `offset` (bit i is byte i >> 3, bit i & 7); "none set" when empty. Runs of
 * three or more are ranges; a long list is cut after 16 items.
 */
export function summariseBits(bytes: Uint8Array, offset: number, nbits: number, what = 'ports'): string {
  const items: string[] = [];
  let count = 0;
  let runStart = -1;
  let runEnd = -1;
  const flush = (): void => {
    if (runStart < 0) return;
    if (items.length < SUMMARY_ITEMS) {
      if (runEnd - runStart >= 2) items.push(`${runStart}–${runEnd}`);
      else {
        items.push(String(runStart));
        if (runEnd !== runStart) items.push(String(runEnd));
      }
    } else if (items.length === SUMMARY_ITEMS) items.push('…');
    runStart = -1;
  };
  for (let byte = 0; byte < nbits >> 3; byte++) {
    const b = bytes[offset + byte]!;
    if (b === 0) {
      flush();
      continue;
    }
    for (let k = 0; k < 8; k++) {
      const i = (byte << 3) | k;
      if ((b >> k) & 1) {
        count++;
        if (runStart >= 0 && runEnd === i - 1) runEnd = i;
        else {
          flush();
          runStart = runEnd = i;
        }
      } else flush();
    }
  }
  flush();
  if (count === 0) return 'none set';
  return `${what} ${items.join(', ')} set${count > 1 ? ` (${count})` : ''}`;
}

/** The set bit positions of a 32-bit value, lowest first. */
export function setBits32(value: number): number[] {
  const out: number[] = [];
  for (let m = value >>> 0; m !== 0; m &= m - 1) out.push(31 - Math.clz32(m & -m));
  return out;
}

/** "0x0000000000000021 (words 0, 5)": a selector as a machine word of `bits` bits. */
export function selectorValue(lo: number, hi: number, bits: 32 | 64): string {
  const words = [...setBits32(lo), ...(bits === 64 ? setBits32(hi).map((b) => b + 32) : [])];
  const word = bits === 64 ? hex((BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0), 16) : hex(lo >>> 0, 8);
  return words.length === 0 ? word : `${word} (word${words.length > 1 ? 's' : ''} ${words.join(', ')})`;
}

/** "12,000,000 ns". */
export function ns(value: number | bigint): string {
  return `${BigInt(value).toLocaleString('en-US')} ns`;
}

/** Standard base64 of `bytes`, as contract/trace_batch.ts's toBase64 writes it (Node's encoder: the host runs in Node). */
export function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
