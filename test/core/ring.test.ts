/**
 * Split-driver rings as xen/include/public/io/ring.h (reference section 9):
 * sizing, SHARED_RING_INIT, the push-and-check-notify decision with 32-bit
 * index wrap-around, the final check before sleeping, and the overflow-safe
 * count of unconsumed requests.
 */
import { describe, expect, it } from 'vitest';
import { BackRing, FrontRing, needsNotify, ringSize, SharedRing } from '../../src/core/guest/ring.js';

const TWO32 = 2 ** 32;

function page(): Uint8Array {
  return new Uint8Array(4096);
}

function u32(p: Uint8Array, at: number): number {
  return new DataView(p.buffer).getUint32(at, true);
}

/** A front/back pair on one page with `entry`-byte slots. */
function pair(entry = 64) {
  const pg = page();
  const front = FrontRing.create(pg, entry);
  const back = BackRing.attach(pg, entry);
  return { pg, front, back };
}

/** Moves both ends and the shared indexes to `start`, as *_RING_ATTACH would after a long run. */
function startAt(front: FrontRing, back: BackRing, start: number): void {
  const s = start >>> 0;
  front.reqProdPvt = s;
  front.rspCons = s;
  back.reqCons = s;
  back.rspProdPvt = s;
  front.sring.reqProd = s;
  front.sring.rspProd = s;
  front.sring.reqEvent = (s + 1) >>> 0;
  front.sring.rspEvent = (s + 1) >>> 0;
}

describe('__RING_SIZE', () => {
  it('rounds the slots after the 64-byte header down to a power of two: 112 -> 32, 64 -> 32, 12 -> 256, 8 -> 256', () => {
    expect(ringSize(112)).toBe(32); // blkif on x86-64: 36 fit
    expect(ringSize(64)).toBe(32); // 63 fit
    expect(ringSize(12)).toBe(256); // netif tx: 336 fit
    expect(ringSize(8)).toBe(256); // 504 fit
    expect(ringSize(4032)).toBe(1);
    expect(ringSize(4033)).toBe(0);
  });

  it('a ring end refuses an entry that does not fit the page', () => {
    expect(() => FrontRing.create(page(), 5000)).toThrow(RangeError);
  });
});

describe('SHARED_RING_INIT / FRONT_RING_INIT', () => {
  it('zeroes the header, sets req_event = rsp_event = 1, and starts the private indexes at 0', () => {
    const pg = page().fill(0xee);
    const front = FrontRing.create(pg, 112);
    expect([u32(pg, 0), u32(pg, 4), u32(pg, 8), u32(pg, 12)]).toEqual([0, 1, 0, 1]);
    for (let i = 16; i < 64; i++) expect(pg[i]).toBe(0);
    expect(pg[64]).toBe(0xee); // slots are not touched
    expect(front.size).toBe(32);
    expect([front.reqProdPvt, front.rspCons]).toEqual([0, 0]);
    expect(front.freeRequests()).toBe(32);
  });

  it('SharedRing reads and writes the header fields at offsets 0, 4, 8, 12 (little-endian)', () => {
    const pg = page();
    const s = new SharedRing(pg);
    s.reqProd = 0x01020304;
    s.reqEvent = 5;
    s.rspProd = 0xffffffff;
    s.rspEvent = 7;
    expect(Array.from(pg.subarray(0, 4))).toEqual([4, 3, 2, 1]);
    expect([u32(pg, 4), u32(pg, 8), u32(pg, 12)]).toEqual([5, 0xffffffff, 7]);
  });
});

describe('the notify decision (RING_PUSH_*_AND_CHECK_NOTIFY)', () => {
  it('notify iff the event index lies in (old, new] modulo 2^32', () => {
    expect(needsNotify(1, 0, 1)).toBe(true);
    expect(needsNotify(5, 0, 5)).toBe(true);
    expect(needsNotify(5, 0, 3)).toBe(true);
    expect(needsNotify(5, 0, 0)).toBe(false); // event == old is not in the window
    expect(needsNotify(5, 0, 6)).toBe(false);
    expect(needsNotify(5, 5, 5)).toBe(false); // new == old: never
    expect(needsNotify(5, 5, 6)).toBe(false);
  });

  it('across the 2^32 wrap: old 0xfffffffe, new 1 notifies for events 0xffffffff, 0 and 1, not for 2 or 0xfffffffe', () => {
    const old = 0xfffffffe;
    const nw = 1;
    expect(needsNotify(nw, old, 0xffffffff)).toBe(true);
    expect(needsNotify(nw, old, 0)).toBe(true);
    expect(needsNotify(nw, old, 1)).toBe(true);
    expect(needsNotify(nw, old, 2)).toBe(false);
    expect(needsNotify(nw, old, 0xfffffffe)).toBe(false);
  });

  it('the first request on a fresh ring notifies (req_event = 1); a second push before the backend re-arms does not', () => {
    const { pg, front } = pair();
    expect(front.produceRequest((s) => s.fill(1))).toBe(true);
    expect(front.pushRequestsAndCheckNotify()).toBe(true);
    expect(u32(pg, 0)).toBe(1);
    front.produceRequest();
    expect(front.pushRequestsAndCheckNotify()).toBe(false);
    expect(u32(pg, 0)).toBe(2);
  });

  it('pushing with nothing new never notifies', () => {
    const { front } = pair();
    expect(front.pushRequestsAndCheckNotify()).toBe(false);
  });

  it('a batch notifies once if req_event falls anywhere inside it', () => {
    const { front, back } = pair();
    back.sring.reqEvent = 3;
    for (let i = 0; i < 5; i++) front.produceRequest();
    expect(front.pushRequestsAndCheckNotify()).toBe(true);
  });

  it('request push wraps at 2^32: indexes ...fffe -> 1 with req_event ...ffff notifies, and slots follow idx & (size-1)', () => {
    const { pg, front, back } = pair(64);
    startAt(front, back, TWO32 - 2);
    front.sring.reqEvent = 0xffffffff;
    for (let i = 0; i < 3; i++) expect(front.produceRequest((s) => s.fill(0x10 + i))).toBe(true);
    expect(front.reqProdPvt).toBe(1);
    expect(front.pushRequestsAndCheckNotify()).toBe(true);
    expect(u32(pg, 0)).toBe(1);
    // idx 0xfffffffe -> slot 30, 0xffffffff -> slot 31, 0 -> slot 0 (32 slots of 64 bytes from byte 64).
    expect(pg[64 + 30 * 64]).toBe(0x10);
    expect(pg[64 + 31 * 64]).toBe(0x11);
    expect(pg[64]).toBe(0x12);
    expect(back.unconsumedRequests()).toBe(3);
    const got = [back.consumeRequest()![0], back.consumeRequest()![0], back.consumeRequest()![0]];
    expect(got).toEqual([0x10, 0x11, 0x12]);
    expect(back.reqCons).toBe(1);
  });

  it('request push wraps at 2^32 and does not notify when req_event is beyond the new producer', () => {
    const { front, back } = pair(64);
    startAt(front, back, TWO32 - 2);
    front.sring.reqEvent = 2;
    for (let i = 0; i < 3; i++) front.produceRequest();
    expect(front.pushRequestsAndCheckNotify()).toBe(false);
  });

  it('response push follows the same rule with rsp_prod / rsp_event, including wrap-around', () => {
    const { pg, front, back } = pair(64);
    startAt(front, back, TWO32 - 1);
    back.produceResponse((s) => s.fill(7));
    back.produceResponse((s) => s.fill(8));
    expect(back.rspProdPvt).toBe(1);
    expect(back.pushResponsesAndCheckNotify()).toBe(true); // rsp_event = 0 lies in (0xffffffff, 1]
    expect(u32(pg, 8)).toBe(1);
    expect(front.unconsumedResponses()).toBe(2);
    expect(front.consumeResponse()![0]).toBe(7);
    expect(front.consumeResponse()![0]).toBe(8);
    expect(front.consumeResponse()).toBeUndefined();
    back.produceResponse();
    expect(back.pushResponsesAndCheckNotify()).toBe(false); // rsp_event not re-armed
  });
});

describe('final check before sleeping (RING_FINAL_CHECK_FOR_*)', () => {
  it('with no work, the backend re-arms req_event = req_cons + 1 and reports 0; the next single request then notifies', () => {
    const { pg, front, back } = pair();
    front.produceRequest();
    front.pushRequestsAndCheckNotify();
    back.consumeRequest();
    expect(back.finalCheckForRequests()).toBe(0);
    expect(u32(pg, 4)).toBe(2);
    front.produceRequest();
    expect(front.pushRequestsAndCheckNotify()).toBe(true);
  });

  it('with work waiting, the final check reports it and leaves req_event alone', () => {
    const { pg, front, back } = pair();
    front.produceRequest();
    front.produceRequest();
    front.pushRequestsAndCheckNotify();
    back.sring.reqEvent = 77;
    expect(back.finalCheckForRequests()).toBe(2);
    expect(u32(pg, 4)).toBe(77);
  });

  it('the frontend re-arms rsp_event = rsp_cons + 1, also across the wrap', () => {
    const { pg, front, back } = pair();
    startAt(front, back, TWO32 - 1);
    back.produceResponse();
    back.pushResponsesAndCheckNotify();
    front.consumeResponse();
    expect(front.rspCons).toBe(0);
    expect(front.finalCheckForResponses()).toBe(0);
    expect(u32(pg, 12)).toBe(1);
  });
});

describe('flow control and overflow', () => {
  it('a frontend can have at most size requests outstanding: RING_FULL after 32', () => {
    const { front } = pair(112);
    for (let i = 0; i < 32; i++) expect(front.produceRequest()).toBe(true);
    expect(front.full()).toBe(true);
    expect(front.freeRequests()).toBe(0);
    expect(front.produceRequest()).toBe(false);
  });

  it('responses free request slots, across the wrap', () => {
    const { front, back } = pair(112);
    startAt(front, back, TWO32 - 10);
    for (let i = 0; i < 32; i++) front.produceRequest();
    front.pushRequestsAndCheckNotify();
    expect(front.full()).toBe(true);
    for (let i = 0; i < 20; i++) {
      back.consumeRequest();
      back.produceResponse();
    }
    back.pushResponsesAndCheckNotify();
    for (let i = 0; i < 20; i++) front.consumeResponse();
    expect(front.freeRequests()).toBe(20);
  });

  it('RING_HAS_UNCONSUMED_REQUESTS never exceeds what the ring can hold, whatever req_prod an ill-behaved frontend writes', () => {
    const { front, back } = pair(112);
    front.sring.reqProd = 1000;
    expect(back.unconsumedRequests()).toBe(32);
    for (let i = 0; i < 32; i++) expect(back.consumeRequest()).toBeDefined();
    // The backend has not responded yet: no more room.
    expect(back.unconsumedRequests()).toBe(0);
    expect(back.consumeRequest()).toBeUndefined();
    back.produceResponse();
    expect(back.unconsumedRequests()).toBe(1);
  });
});
