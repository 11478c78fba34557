/**
 * The guest console driver (reference 6.8, 7.3; console.c at 2.0.0) and
 * end-to-end properties of the whole control interface: with a guest and xend
 * stepped by a small scheduler in any order, every console byte arrives once
 * and in order in both directions, and every request's response carries its id.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CMSG_BLKIF_FE,
  CMSG_CONSOLE,
  CMSG_SHUTDOWN,
  CTRL_MSG_ID_NONE,
  ctrlMsg,
  readCtrlMsg,
  txSlotOffset,
  type CtrlMsg,
} from '../../src/core/abi/ctrl_if.js';
import { WBUF_SIZE } from '../../src/core/guest/xencons.js';
import type { ShutdownReason } from '../../src/core/tools/xend.js';
import { DOM, bytesOf, consoleRig, textOf } from './ctrl_if_rig.js';

/** The messages on tx_ring from index `from` to tx_req_prod. */
function txMessages(r: ReturnType<typeof consoleRig>, from = 0): CtrlMsg[] {
  const out: CtrlMsg[] = [];
  for (let i = from; i !== r.shared.txReqProd; i = (i + 1) >>> 0) out.push(readCtrlMsg(r.page, txSlotOffset(i)));
  return out;
}

describe('xencons: output', () => {
  it('flush cuts min(pending, 60, bytes to the wrap) chunks as CMSG_CONSOLE_DATA with no callback (id 0xFF)', () => {
    const r = consoleRig();
    expect(r.cons.ttyWrite(new Uint8Array(150).fill(0x62))).toBe(150);
    const msgs = txMessages(r);
    expect(msgs.map((m) => m.length)).toEqual([60, 60, 30]);
    for (const m of msgs) expect([m.type, m.subtype, m.id]).toEqual([CMSG_CONSOLE, 0, CTRL_MSG_ID_NONE]);
    expect(r.cons.pending()).toBe(0);
  });

  it('a chunk never crosses the end of wbuf', () => {
    const r = consoleRig();
    r.cons.wc = r.cons.wp = WBUF_SIZE - 25;
    r.cons.ttyWrite(new Uint8Array(100).fill(1));
    expect(txMessages(r).map((m) => m.length)).toEqual([25, 60, 15]);
  });

  it('the free-running wbuf indexes wrap at 2^32 without losing a byte', () => {
    const r = consoleRig();
    r.cons.wc = r.cons.wp = 0xffffffff - 30;
    const text = 'abcdefghij'.repeat(20);
    r.cons.ttyWrite(bytesOf(text));
    r.settle();
    expect(textOf(r.output)).toBe(text);
    expect(r.cons.wc).toBe(r.cons.wp);
  });

  it('kernel writes put a \\r after each \\n; tty writes do not', () => {
    const r = consoleRig();
    r.cons.kernelWrite(bytesOf('a\nb\n'));
    r.cons.ttyWrite(bytesOf('c\nd'));
    r.settle();
    expect(textOf(r.output)).toBe('a\n\rb\n\rc\nd');
  });

  it('kernel writes stop at 4095 pending and drop the rest; a \\n at 4094 still gets its \\r (4096)', () => {
    const r = consoleRig();
    // Nothing is answered, so after 8 messages (480 bytes) the ring is full and wbuf fills.
    expect(r.cons.kernelWrite(new Uint8Array(5000).fill(0x61))).toBe(4095);
    expect(r.cons.kernelDropped).toBe(905);
    expect(r.cons.pending()).toBe(4095 - 480);
    const r2 = consoleRig();
    // With the ring already full every byte stays in wbuf.
    for (let i = 0; i < 8; i++) r2.guest.sendMessageNoblock(ctrlMsg(CMSG_BLKIF_FE, 32, 0));
    const line = new Uint8Array(4095).fill(0x61);
    line[4094] = 0x0a;
    expect(r2.cons.kernelWrite(line)).toBe(4095);
    expect(r2.cons.pending()).toBe(WBUF_SIZE);
    expect(r2.cons.writeRoom()).toBe(0);
  });

  it('tty writes take what fits and say how many (back-pressure); nothing is dropped', () => {
    const r = consoleRig();
    for (let i = 0; i < 8; i++) r.guest.sendMessageNoblock(ctrlMsg(CMSG_BLKIF_FE, 32, 0));
    expect(r.cons.ttyWrite(new Uint8Array(3000).fill(1))).toBe(3000);
    expect(r.cons.ttyWrite(new Uint8Array(3000).fill(2))).toBe(1096);
    expect(r.cons.ttyWrite(Uint8Array.of(3))).toBe(0);
    expect(r.cons.writeRoom()).toBe(0);
    r.settle();
    expect(r.output).toHaveLength(4096);
    expect(r.output.slice(2999, 3001)).toEqual([1, 2]);
  });

  it('writes to tty indexes other than 0 are swallowed and reported as written', () => {
    const r = consoleRig();
    expect(r.cons.ttyWrite(bytesOf('noise'), 3)).toBe(5);
    expect(r.cons.pending()).toBe(0);
    expect(r.shared.txReqProd).toBe(0);
  });

  it('on -EAGAIN the bytes stay in wbuf, the flush task is queued, and it resumes by itself when a slot frees', () => {
    const r = consoleRig();
    r.cons.ttyWrite(new Uint8Array(600).fill(7)); // 8 messages go out, 120 bytes wait
    expect(r.shared.txReqProd).toBe(8);
    expect(r.cons.pending()).toBe(120);
    r.xendNotify(); // xend answers all 8
    r.guestIrq(); // the tx tasklet frees the ring and runs the flush task
    expect(r.shared.txReqProd).toBe(10);
    expect(r.cons.pending()).toBe(0);
    r.settle();
    expect(r.output).toHaveLength(600);
  });

  it('an XON/XOFF character goes out first, as its own 1-byte message', () => {
    const r = consoleRig();
    for (let i = 0; i < 8; i++) r.guest.sendMessageNoblock(ctrlMsg(CMSG_BLKIF_FE, 32, 0));
    r.cons.ttyWrite(bytesOf('data'));
    r.cons.sendXChar(0x13);
    r.settle();
    expect(textOf(r.output)).toBe('\x13data');
  });
});

// ---------------------------------------------------------------------------
// Properties: a scheduler that interleaves guest and controller steps

type Cmd =
  | { k: 'tty'; data: Uint8Array }
  | { k: 'kernel'; data: Uint8Array }
  | { k: 'guestIrq' }
  | { k: 'xendNotify' }
  | { k: 'input'; data: Uint8Array }
  | { k: 'shutdown'; reason: ShutdownReason }
  | { k: 'request'; cookie: number };

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ k: fc.constant('tty' as const), data: fc.uint8Array({ maxLength: 700, size: 'max' }) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('kernel' as const), data: fc.uint8Array({ maxLength: 200, size: 'max' }) }) },
  { weight: 5, arbitrary: fc.constant({ k: 'guestIrq' as const }) },
  { weight: 5, arbitrary: fc.constant({ k: 'xendNotify' as const }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('input' as const), data: fc.uint8Array({ maxLength: 200, size: 'max' }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('shutdown' as const), reason: fc.constantFrom<ShutdownReason>('poweroff', 'reboot', 'suspend', 'halt') }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('request' as const), cookie: fc.nat(1_000_000) }) },
);

/** kcons_write's effect on the stream, given what was pending before the call. */
function kernelModel(data: Uint8Array, pendingBefore: number): number[] {
  const out: number[] = [];
  let p = pendingBefore;
  for (const b of data) {
    if (p >= WBUF_SIZE - 1) break;
    out.push(b);
    p++;
    if (b === 0x0a) {
      out.push(0x0d);
      p++;
    }
  }
  return out;
}

/** Equal byte streams; on a mismatch, reports the lengths and a short window at the first difference (a full diff of big arrays makes shrinking crawl). */
function expectSameBytes(actual: readonly number[], expected: readonly number[], what: string): void {
  let i = 0;
  while (i < actual.length && i < expected.length && actual[i] === expected[i]) i++;
  if (i === actual.length && i === expected.length) return;
  expect({ what, length: actual.length, at: i, window: actual.slice(i, i + 16) }).toEqual({ what, length: expected.length, at: i, window: expected.slice(i, i + 16) });
}

function cookieBytes(c: number): Uint8Array {
  return Uint8Array.of(c & 0xff, (c >>> 8) & 0xff, (c >>> 16) & 0xff, (c >>> 24) & 0xff);
}

function run(cmds: Cmd[], start: number | undefined, wbufStart: number): void {
  const r = consoleRig(start);
  r.cons.wc = r.cons.wp = wbufStart;
  const expectedOut: number[] = [];
  const expectedIn: number[] = [];
  const problems: string[] = [];
  r.guest.registerReceiver(CMSG_SHUTDOWN, (m) => r.guest.sendResponse(m)); // reboot.c answers at once
  const shutdowns = new Map<number, number>(); // id → subtype
  const shutdownAnswers: number[] = [];
  const requests: number[] = [];
  const answered: number[] = [];
  const onGuestResponse = (m: CtrlMsg, cookie: number) => {
    if (m.type !== CMSG_BLKIF_FE || m.subtype !== 32) problems.push(`response ${m.type}/${m.subtype} to a 2/32 request`);
    const c = m.msg[0]! | (m.msg[1]! << 8) | (m.msg[2]! << 16) | (m.msg[3]! * 2 ** 24);
    if (c !== cookie) problems.push(`callback for cookie ${cookie} got the response to ${c}`);
    answered.push(cookie);
  };
  for (const c of cmds) {
    switch (c.k) {
      case 'tty': {
        const n = r.cons.ttyWrite(c.data);
        expectedOut.push(...c.data.subarray(0, n));
        break;
      }
      case 'kernel':
        expectedOut.push(...kernelModel(c.data, r.cons.pending()));
        r.cons.kernelWrite(c.data);
        break;
      case 'guestIrq':
        r.guestIrq();
        break;
      case 'xendNotify':
        r.xendNotify();
        break;
      case 'input':
        expectedIn.push(...c.data.subarray(0, r.xend.consoleInput(DOM, c.data)));
        break;
      case 'shutdown': {
        const id = r.xend.shutdown(DOM, c.reason, (m) => {
          if (m.id !== id || m.type !== CMSG_SHUTDOWN || m.subtype !== shutdowns.get(id)) problems.push(`shutdown ${id} answered by ${m.type}/${m.subtype} id ${m.id}`);
          shutdownAnswers.push(id);
        });
        shutdowns.set(id, c.reason === 'halt' ? 0 : ['poweroff', 'reboot', 'suspend'].indexOf(c.reason));
        break;
      }
      case 'request':
        requests.push(c.cookie);
        r.guest.sendMessageBlock(ctrlMsg(CMSG_BLKIF_FE, 32, 0, cookieBytes(c.cookie)), onGuestResponse, c.cookie);
        break;
    }
  }
  r.settle();
  expect(problems).toEqual([]);
  expect(r.cons.pending()).toBe(0);
  expectSameBytes(r.output, expectedOut, 'console output');
  expectSameBytes(r.input, expectedIn, 'console input');
  expect([...shutdownAnswers].sort((a, b) => a - b)).toEqual([...shutdowns.keys()].sort((a, b) => a - b));
  expect(r.dc.domain.awaiting()).toEqual([]);
  // A blocked sender can be overtaken by a later one that finds room (the fast path does not queue behind sleepers).
  expect([...answered].sort((a, b) => a - b)).toEqual([...requests].sort((a, b) => a - b));
  expect(r.guest.idsInFlight()).toEqual([]);
  expect(r.guest.log).toEqual([]);
  expect(r.xend.log.filter((e) => !['no-device', 'console', 'domain'].includes(e.kind))).toEqual([]);
  // Everything consumed on both rings.
  expect([r.shared.txReqProd, r.shared.txRespProd, r.guest.txRespCons]).toEqual(Array(3).fill(r.shared.txReqProd));
  expect([r.shared.rxReqProd, r.shared.rxRespProd, r.dc.port.rxRespCons]).toEqual(Array(3).fill(r.shared.rxReqProd));
}

/** Shrinking long command lists of byte arrays can take minutes: stop after 20 s and report the counterexample so far. */
const LIMITS = { interruptAfterTimeLimit: 20_000, markInterruptAsFailure: true } as const;

describe('properties (guest and xend stepped in any order)', () => {
  it('console output and input arrive once, in order; shutdown and guest-request responses carry their ids', () => {
    fc.assert(
      fc.property(
        fc.array(cmdArb, { maxLength: 80, size: 'max' }),
        fc.constantFrom<number | undefined>(undefined, 0xfffffff8, 0xfffffffd),
        fc.constantFrom(0, WBUF_SIZE - 7, 0xffffffff - 100),
        (cmds, start, wbufStart) => run(cmds, start, wbufStart),
      ),
      { numRuns: 150, ...LIMITS },
    );
  });

  it('tty output alone: whatever the write sizes, the stream is exactly the bytes the writes accepted', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.uint8Array({ maxLength: 5000, size: 'max' }), fc.constant('step' as const)), { maxLength: 60, size: 'max' }),
        (steps) => {
          const r = consoleRig(0xfffffffa);
          const expected: number[] = [];
          let flip = false;
          for (const s of steps) {
            if (s === 'step') {
              flip = !flip;
              if (flip) r.xendNotify();
              else r.guestIrq();
            } else {
              expected.push(...s.subarray(0, r.cons.ttyWrite(s)));
            }
          }
          r.settle();
          expectSameBytes(r.output, expected, 'console output');
          expect(r.cons.kernelDropped).toBe(0);
        },
      ),
      { numRuns: 100, ...LIMITS },
    );
  });

  it('console input alone: cut into ≤ 60-byte id-0 requests and delivered in order, whatever the interleaving', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.uint8Array({ maxLength: 1500, size: 'max' }), fc.constantFrom('guest' as const, 'xend' as const)), { maxLength: 60, size: 'max' }),
        (steps) => {
          const r = consoleRig(0xfffffff9);
          const expected: number[] = [];
          for (const s of steps) {
            if (s === 'guest') r.guestIrq();
            else if (s === 'xend') r.xendNotify();
            else expected.push(...s.subarray(0, r.xend.consoleInput(DOM, s)));
          }
          r.settle();
          expectSameBytes(r.input, expected, 'console input');
          expect(r.dc.console.wbuf.empty()).toBe(true);
        },
      ),
      { numRuns: 100, ...LIMITS },
    );
  });
});
