import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromBase64, packTraceColumns, toBase64, traceBatchBytes, unpackTraceColumns, type TraceColumns } from '../../src/contract/trace_batch.js';

describe('base64 in the contract', () => {
  it('agrees with Node for any bytes, both ways', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const ours = toBase64(bytes);
        expect(ours).toBe(Buffer.from(bytes).toString('base64'));
        expect(fromBase64(ours)).toEqual(bytes);
      }),
    );
  });

  it('refuses text outside the alphabet and bad lengths, saying where', () => {
    expect(() => fromBase64('abc')).toThrow(/multiple of 4/);
    expect(() => fromBase64('ab!d')).toThrow(/"!" at 2/);
  });
});

describe('trace batch columns', () => {
  it('round-trip every column exactly', () => {
    const int = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
    const rec = fc.record({ t: fc.double({ noNaN: true }), dom: int, vcpu: int, port: int, x0: int, cause: int, kind: fc.integer({ min: 0, max: 255 }) });
    fc.assert(
      fc.property(fc.array(rec, { maxLength: 50 }), (rows) => {
        const n = rows.length;
        const c: TraceColumns = {
          t: Float64Array.from(rows, (r) => r.t),
          dom: Int32Array.from(rows, (r) => r.dom),
          vcpu: Int32Array.from(rows, (r) => r.vcpu),
          port: Int32Array.from(rows, (r) => r.port),
          x0: Int32Array.from(rows, (r) => r.x0),
          cause: Int32Array.from(rows, (r) => r.cause),
          kind: Uint8Array.from(rows, (r) => r.kind),
        };
        const bytes = packTraceColumns(c, n);
        expect(bytes.length).toBe(traceBatchBytes(n));
        expect(unpackTraceColumns(fromBase64(toBase64(bytes)), n)).toEqual(c);
      }),
    );
  });

  it('lays out the columns one after another, little-endian (the bytes the host sends)', () => {
    const c: TraceColumns = { t: Float64Array.of(1.5, -2), dom: Int32Array.of(1, -1), vcpu: Int32Array.of(0, 3), port: Int32Array.of(5, 0x01020304), x0: Int32Array.of(7, 8), cause: Int32Array.of(-1, 0), kind: Uint8Array.of(9, 255) };
    const hex = Buffer.from(packTraceColumns(c, 2)).toString('hex');
    expect(hex).toBe(
      '000000000000f83f' + '00000000000000c0' + // t: 1.5, -2
        '01000000' + 'ffffffff' + // dom
        '00000000' + '03000000' + // vcpu
        '05000000' + '04030201' + // port
        '07000000' + '08000000' + // x0
        'ffffffff' + '00000000' + // cause
        '09ff', // kind
    );
    // Bytes that do not start 8-aligned are read byte by byte, to the same columns.
    const shifted = new Uint8Array(4 + traceBatchBytes(2));
    shifted.set(packTraceColumns(c, 2), 4);
    expect(unpackTraceColumns(shifted.subarray(4), 2)).toEqual(c);
  });

  it('refuses a batch whose size does not match its count', () => {
    expect(() => unpackTraceColumns(new Uint8Array(10), 1)).toThrow(/1 records has 29 bytes, found 10/);
  });
});
