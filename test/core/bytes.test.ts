// utf8 (src/core/util/bytes.ts) encodes as the platform's TextEncoder does: ASCII on its fast
// path, and text with non-ASCII characters anywhere (after an ASCII run, or first) byte for byte.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { utf8, utf8Decode } from '../../src/core/util/bytes.js';

describe('utf8', () => {
  it('encodes any text as TextEncoder does, and utf8Decode reads it back', () => {
    const enc = new TextEncoder();
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'grapheme-ascii' }), fc.string({ unit: 'binary' }), fc.tuple(fc.string({ unit: 'grapheme-ascii' }), fc.string({ unit: 'grapheme' })).map(([a, b]) => a + b)), (text) => {
        expect(Array.from(utf8(text))).toEqual(Array.from(enc.encode(text)));
        if (!/[\uD800-\uDFFF]/.test(text)) expect(utf8Decode(utf8(text))).toBe(text);
      }),
    );
    expect(Array.from(utf8('ab\u00e9'))).toEqual([0x61, 0x62, 0xc3, 0xa9]);
  });
});
