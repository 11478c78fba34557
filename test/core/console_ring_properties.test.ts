/**
 * Property tests for the console ring: whatever the write sizes, the start
 * of the indexes, the order in which events are taken, the buffer limit and
 * how the output is read, every byte the guest writes arrives exactly once
 * and in order; so does every byte typed at the console.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { XenconsIndexes } from '../../src/core/abi/console_ring.js';
import { XenconsRing } from '../../src/core/guest/xencons_ring.js';
import { Xenconsoled } from '../../src/core/tools/xenconsoled.js';

const TWO32 = 2 ** 32;
const startArb = fc.oneof(fc.constant(0), fc.integer({ min: TWO32 - 5000, max: TWO32 - 1 }), fc.integer({ min: 0, max: TWO32 - 1 }));

/** One step of the world: the guest writes, the daemon takes its event, the guest takes its event, a reader reads, someone types. */
type Step =
  | { k: 'write'; len: number }
  | { k: 'daemon' }
  | { k: 'guest' }
  | { k: 'read'; max: number }
  | { k: 'type'; len: number };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ k: fc.constant('write' as const), len: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 5000 })) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('daemon' as const) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('guest' as const) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('read' as const), max: fc.integer({ min: 1, max: 6000 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('type' as const), len: fc.integer({ min: 0, max: 1500 }) }) },
);

describe('console ring, any interleaving', () => {
  it('every output byte and every input byte arrives once, in order', () => {
    fc.assert(
      fc.property(startArb, fc.constantFrom(0, 0, 1, 2048, 5000), fc.array(stepArb, { maxLength: 60 }), (start, bufferMax, steps) => {
        const page = new Uint8Array(4096);
        const idx = new XenconsIndexes(page);
        idx.inCons = idx.inProd = idx.outCons = idx.outProd = start;
        const pending = { toDaemon: false, toGuest: false };
        const received: number[] = [];
        const guest = new XenconsRing(page, () => (pending.toDaemon = true), (b) => received.push(...b));
        const con = new Xenconsoled({ bufferMax }).attach(1, page, () => (pending.toGuest = true));
        const written: number[] = [];
        const typed: number[] = [];
        const read: number[] = [];
        let seq = 0;
        const next = (): number => seq++ % 256;
        for (const s of steps) {
          if (s.k === 'write') {
            const b = Uint8Array.from({ length: s.len }, next);
            written.push(...b);
            guest.write(b);
          } else if (s.k === 'daemon' && pending.toDaemon) {
            pending.toDaemon = false;
            con.onNotify();
          } else if (s.k === 'guest' && pending.toGuest) {
            pending.toGuest = false;
            guest.onNotify();
          } else if (s.k === 'read') {
            read.push(...con.take(s.max));
          } else if (s.k === 'type') {
            const b = Uint8Array.from({ length: s.len }, next);
            typed.push(...b);
            con.type(b);
          }
          // Never more on a ring than it holds.
          expect((idx.outProd - idx.outCons) >>> 0).toBeLessThanOrEqual(2048);
          expect((idx.inProd - idx.inCons) >>> 0).toBeLessThanOrEqual(1024);
        }
        // Let everything drain: deliver events, read the output.
        for (let i = 0; i < 10_000 && (pending.toDaemon || pending.toGuest || con.unread() > 0 || guest.pending() > 0); i++) {
          read.push(...con.take());
          if (pending.toDaemon) {
            pending.toDaemon = false;
            con.onNotify();
          }
          if (pending.toGuest) {
            pending.toGuest = false;
            guest.onNotify();
          }
        }
        read.push(...con.take());
        expect(read).toEqual(written);
        expect(received).toEqual(typed);
        expect(guest.error).toBeUndefined();
        expect(con.stats.badIndexes).toBe(0);
      }),
      { numRuns: 300 },
    );
  });
});
