// The host's native base64 (src/host/lab/base64.ts, for the stream) writes exactly what the
// contract's pure codec writes, and the UI's decoder reads it back.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromBase64, toBase64 as contractToBase64 } from '../../src/contract/trace_batch.js';
import { toBase64 } from '../../src/host/lab/base64.js';

describe("the stream's base64", () => {
  it("is the contract's base64, for any bytes and any view into a buffer", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), fc.nat(16), (bytes, cut) => {
        const view = bytes.subarray(Math.min(cut, bytes.length));
        expect(toBase64(view)).toBe(contractToBase64(view));
        expect(Array.from(fromBase64(toBase64(view)))).toEqual(Array.from(view));
      }),
    );
  });
});
