/** Byte helpers the core needs without platform globals (no TextEncoder in pure ES). */

/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array {
  const out: number[] = [];
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return Uint8Array.from(out);
}

/** Writes a NUL-terminated string into a fixed field of `max` bytes, zero-filling the rest. */
export function writeCString(page: Uint8Array, offset: number, text: string, max: number): void {
  const bytes = utf8(text);
  const n = Math.min(bytes.length, max - 1);
  page.set(bytes.subarray(0, n), offset);
  page.fill(0, offset + n, offset + max);
}

/** Reads a NUL-terminated ASCII string from a fixed field. */
export function readCString(page: Uint8Array, offset: number, max: number): string {
  let s = '';
  for (let i = 0; i < max; i++) {
    const b = page[offset + i]!;
    if (b === 0) break;
    s += String.fromCharCode(b);
  }
  return s;
}
