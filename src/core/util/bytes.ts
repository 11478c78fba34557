/** Byte helpers the core needs without platform globals (no TextEncoder in pure ES). */

/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array {
  // ASCII (most console output) straight into the result: a guest may print megabytes a second.
  const ascii = new Uint8Array(text.length);
  let i = 0;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) break;
    ascii[i] = c;
  }
  if (i === text.length) return ascii;
  const out: number[] = Array.from(ascii.subarray(0, i));
  text = text.slice(i);
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

/** Text from UTF-8 bytes; a malformed sequence becomes U+FFFD. */
export function utf8Decode(bytes: Uint8Array): string {
  let s = '';
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    // Continuation bytes after the lead byte: 0, 1, 2 or 3; -1 for a byte that cannot lead.
    const need = b < 0x80 ? 0 : b >= 0xc2 && b < 0xe0 ? 1 : b >= 0xe0 && b < 0xf0 ? 2 : b >= 0xf0 && b < 0xf5 ? 3 : -1;
    let c = need <= 0 ? b : b & (0x3f >> need);
    let k = 1;
    for (; k <= need; k++) {
      const x = bytes[i + k];
      if (x === undefined || (x & 0xc0) !== 0x80) break;
      c = (c << 6) | (x & 0x3f);
    }
    if (need < 0 || k <= need) {
      s += '\ufffd';
      i++;
      continue;
    }
    s += String.fromCodePoint(c);
    i += need + 1;
  }
  return s;
}
