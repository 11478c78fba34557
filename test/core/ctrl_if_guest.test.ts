/**
 * The guest side of the 2.0 control interface (reference 1.3-1.5, 6.5, 6.6;
 * ctrl_if.c at 2.0.0), driven against a hand-played controller that writes
 * the page directly: index sync, id allocation and matching, TX_FULL and
 * -EAGAIN, blocking sends and space callbacks, receivers, responses, and what
 * happens when the controller breaks the rules.
 */
import { describe, expect, it } from 'vitest';
import {
  CMSG_BLKIF_FE,
  CMSG_BLKIF_FE_DRIVER_STATUS,
  CMSG_MEM_REQUEST,
  CMSG_SHUTDOWN,
  CTRL_MSG_ID_NONE,
  ControlIfIndexes,
  ctrlMsg,
  readCtrlMsg,
  rxSlotOffset,
  txSlotOffset,
  writeCtrlMsg,
  type CtrlMsg,
} from '../../src/core/abi/ctrl_if.js';
import { EAGAIN } from '../../src/core/abi/errno.js';
import { CALLBACK_IN_BLOCKING_CONTEXT, GuestCtrlIf } from '../../src/core/guest/ctrl_if.js';
import { setProducers } from './ctrl_if_rig.js';

/** A guest on a fresh page and a controller played by hand. */
function setup(start?: number) {
  const page = new Uint8Array(4096);
  if (start !== undefined) setProducers(page, start);
  let notifies = 0;
  const guest = new GuestCtrlIf(page, () => notifies++);
  const s = new ControlIfIndexes(page);
  const ctl = {
    /** Answer the next `n` guest requests by echoing each (tx_resp_prod += n), optionally rewriting ids. */
    respond(n: number, ids?: number[]) {
      for (let i = 0; i < n; i++) {
        const at = txSlotOffset(s.txRespProd);
        if (ids) page[at + 2] = ids[i]!;
        s.txRespProd = s.txRespProd + 1;
      }
    },
    /** Put a request on rx_ring. */
    request(msg: CtrlMsg) {
      writeCtrlMsg(page, rxSlotOffset(s.rxReqProd), msg);
      s.rxReqProd = s.rxReqProd + 1;
    },
  };
  return { page, guest, s, ctl, notifies: () => notifies };
}

function msg(type = CMSG_BLKIF_FE, subtype = CMSG_BLKIF_FE_DRIVER_STATUS, fill = 0): CtrlMsg {
  return ctrlMsg(type, subtype, 0, Uint8Array.of(fill, fill, fill, fill));
}

describe('ctrl_if_resume: private indexes from the shared producers', () => {
  it('tx_resp_cons = tx_resp_prod and rx_req_cons = rx_resp_prod (not rx_req_prod)', () => {
    const page = new Uint8Array(4096);
    const s = new ControlIfIndexes(page);
    s.txReqProd = 7;
    s.txRespProd = 5;
    s.rxReqProd = 4;
    s.rxRespProd = 3;
    const g = new GuestCtrlIf(page, () => {});
    expect([g.txRespCons, g.rxReqCons]).toEqual([5, 3]);
    // So the request at index 3, consumed before but never answered, is taken again.
    let seen = 0;
    g.registerReceiver(CMSG_SHUTDOWN, (m) => {
      seen++;
      g.sendResponse(m);
    });
    writeCtrlMsg(page, rxSlotOffset(3), ctrlMsg(CMSG_SHUTDOWN, 0, 9));
    g.interrupt();
    expect(seen).toBe(1);
    expect(g.rxReqCons).toBe(4);
  });

  it('a fresh (zeroed) page starts every index at 0', () => {
    const { guest } = setup();
    expect([guest.txRespCons, guest.rxReqCons]).toEqual([0, 0]);
    expect(guest.txFull()).toBe(false);
    expect(guest.transmitterEmpty()).toBe(true);
  });
});

describe('ctrl_if_send_message_noblock', () => {
  it('copies the 64 bytes into tx_ring[tx_req_prod & 7], bumps tx_req_prod, notifies, returns 0', () => {
    const { page, guest, s, notifies } = setup();
    const m = msg(CMSG_BLKIF_FE, CMSG_BLKIF_FE_DRIVER_STATUS, 0xab);
    expect(guest.sendMessageNoblock(m)).toBe(0);
    expect(s.txReqProd).toBe(1);
    expect(notifies()).toBe(1);
    expect([...page.subarray(2048, 2048 + 8)]).toEqual([CMSG_BLKIF_FE, CMSG_BLKIF_FE_DRIVER_STATUS, 0xff, 4, 0xab, 0xab, 0xab, 0xab]);
  });

  it('id: 0xFF without a callback; the lowest free index 0..7 with one; written back into the caller message', () => {
    const { guest } = setup();
    const a = msg();
    guest.sendMessageNoblock(a);
    expect(a.id).toBe(CTRL_MSG_ID_NONE);
    const ids: number[] = [];
    for (let i = 0; i < 3; i++) {
      const m = msg();
      guest.sendMessageNoblock(m, () => {}, i);
      ids.push(m.id);
    }
    expect(ids).toEqual([0, 1, 2]);
    expect(guest.idsInFlight()).toEqual([0, 1, 2]);
  });

  it('a response is matched by its id byte, not its slot; the id is freed after the callback and reused lowest-first', () => {
    const { guest, ctl } = setup();
    const calls: [number, number][] = [];
    const cb = (m: CtrlMsg, cookie: number) => calls.push([m.id, cookie]);
    for (const cookie of [100, 101, 102]) guest.sendMessageNoblock(msg(), cb, cookie);
    // The controller answers the three slots in order but the ids say 2, 0, 1.
    ctl.respond(3, [2, 0, 1]);
    guest.interrupt();
    expect(calls).toEqual([
      [2, 102],
      [0, 100],
      [1, 101],
    ]);
    expect(guest.idsInFlight()).toEqual([]);
    const next = msg();
    guest.sendMessageNoblock(next, cb, 7);
    expect(next.id).toBe(0);
  });

  it('the callback sees the response bytes the controller wrote; the id is still held while it runs', () => {
    const { page, guest, s } = setup();
    let inside: number[] = [];
    let payload: number[] = [];
    guest.sendMessageNoblock(msg(), (m) => {
      inside = guest.idsInFlight();
      payload = [...m.msg.subarray(0, m.length)];
    });
    page[txSlotOffset(0) + 3] = 2; // the controller shortens the payload and edits it
    page[txSlotOffset(0) + 4] = 0x55;
    s.txRespProd = 1;
    guest.interrupt();
    expect(inside).toEqual([0]);
    expect(payload).toEqual([0x55, 0]);
  });

  it('TX_FULL: the 9th outstanding request gets -EAGAIN and changes nothing', () => {
    const { guest, s, notifies } = setup();
    for (let i = 0; i < 8; i++) expect(guest.sendMessageNoblock(msg(), () => {})).toBe(0);
    expect(guest.txFull()).toBe(true);
    const before = notifies();
    const m = msg();
    expect(guest.sendMessageNoblock(m, () => {})).toBe(-EAGAIN);
    expect(s.txReqProd).toBe(8);
    expect(notifies()).toBe(before);
    expect(m.id).toBe(0); // untouched
  });

  it('a slot frees when the guest consumes the response, not when the controller reads or answers', () => {
    const { guest, ctl } = setup();
    for (let i = 0; i < 8; i++) guest.sendMessageNoblock(msg());
    ctl.respond(8);
    expect(guest.sendMessageNoblock(msg())).toBe(-EAGAIN); // answered, but not yet consumed
    guest.interrupt();
    expect(guest.txFull()).toBe(false);
    expect(guest.sendMessageNoblock(msg())).toBe(0);
  });
});

describe('blocking sends and space callbacks', () => {
  it('enqueue_space_callback: 0 at once when not full (not queued); 1 when full, and it runs once on full → not full', () => {
    const { guest, ctl } = setup();
    let runs = 0;
    const task = () => runs++;
    expect(guest.enqueueSpaceCallback(task)).toBe(0);
    for (let i = 0; i < 8; i++) guest.sendMessageNoblock(msg());
    expect(guest.enqueueSpaceCallback(task)).toBe(1);
    expect(guest.enqueueSpaceCallback(task)).toBe(1); // queue_task: already queued
    ctl.respond(1);
    guest.interrupt();
    expect(runs).toBe(1);
    // Not full at the start of the next pass: the queue is not run again.
    ctl.respond(1);
    guest.interrupt();
    expect(runs).toBe(1);
  });

  it('the space callbacks run in the tx tasklet, before blocked senders (woken into process context) retry', () => {
    const { guest, ctl, s } = setup();
    const order: string[] = [];
    for (let i = 0; i < 8; i++) guest.sendMessageNoblock(msg());
    expect(guest.sendMessageBlock(msg(), undefined, 0, () => order.push('blocked sender sent'))).toBe('blocked');
    guest.enqueueSpaceCallback(() => {
      order.push('space callback');
      guest.sendMessageNoblock(msg()); // takes the one free slot
    });
    ctl.respond(1);
    guest.interrupt();
    expect(order).toEqual(['space callback']); // the sender found the ring full again and sleeps on
    expect(s.txReqProd).toBe(9);
    ctl.respond(1);
    guest.interrupt();
    expect(order).toEqual(['space callback', 'blocked sender sent']);
    expect(s.txReqProd).toBe(10);
  });

  it('blocked senders go out in the order they blocked, with their callbacks', () => {
    const { page, guest, ctl } = setup();
    for (let i = 0; i < 8; i++) guest.sendMessageNoblock(msg());
    const got: number[] = [];
    for (const fill of [1, 2, 3]) guest.sendMessageBlock(msg(CMSG_BLKIF_FE, 32, fill), (m, cookie) => got.push(cookie), fill);
    ctl.respond(8);
    guest.interrupt();
    expect([8, 9, 10].map((i) => page[txSlotOffset(i) + 4])).toEqual([1, 2, 3]);
    ctl.respond(3);
    guest.interrupt();
    expect(got).toEqual([1, 2, 3]);
  });

  it('send_message_and_get_response hands back a copy of the response', () => {
    const { page, guest, s } = setup();
    let rsp: CtrlMsg | undefined;
    expect(guest.sendMessageAndGetResponse(msg(CMSG_MEM_REQUEST, 0, 7), (r) => (rsp = r))).toBe('sent');
    page[txSlotOffset(0) + 4] = 0x99;
    s.txRespProd = 1;
    guest.interrupt();
    page.fill(0, txSlotOffset(0), txSlotOffset(0) + 64); // the slot is reused
    expect(rsp?.type).toBe(CMSG_MEM_REQUEST);
    expect(rsp?.msg[0]).toBe(0x99);
  });
});

describe('receivers and responses', () => {
  it('one receiver per type: a second registration fails and keeps the first', () => {
    const { guest } = setup();
    const h1 = () => {};
    expect(guest.registerReceiver(CMSG_SHUTDOWN, h1)).toBe(true);
    expect(guest.registerReceiver(CMSG_SHUTDOWN, () => {})).toBe(false);
    expect(guest.log.at(-1)).toMatch(/already established.*type 6/);
    guest.unregisterReceiver(CMSG_SHUTDOWN, () => {});
    expect(guest.log.at(-1)).toMatch(/not registered/);
    guest.unregisterReceiver(CMSG_SHUTDOWN, h1);
    expect(guest.registerReceiver(CMSG_SHUTDOWN, () => {})).toBe(true);
  });

  it('the default handler answers at once with length 0, echoing type, subtype and id', () => {
    const { page, guest, ctl, s, notifies } = setup();
    ctl.request(ctrlMsg(42, 17, 0x33, Uint8Array.of(1, 2, 3)));
    guest.interrupt();
    expect(s.rxRespProd).toBe(1);
    expect([...page.subarray(rxSlotOffset(0), rxSlotOffset(0) + 4)]).toEqual([42, 17, 0x33, 0]);
    expect(notifies()).toBe(1);
  });

  it('the rx path copies the header and `length` bytes only, steps over the slot, then calls the handler', () => {
    const { page, guest, ctl } = setup();
    const m = ctrlMsg(CMSG_SHUTDOWN, 1, 5, Uint8Array.of(7, 7));
    m.msg.fill(0xee, 2); // stale bytes past length in the slot
    ctl.request(m);
    let seen: CtrlMsg | undefined;
    let consAtCall = -1;
    guest.registerReceiver(CMSG_SHUTDOWN, (x) => {
      seen = x;
      consAtCall = guest.rxReqCons;
      guest.sendResponse(x);
    });
    guest.interrupt();
    expect(consAtCall).toBe(1);
    expect([...seen!.msg.subarray(0, 4)]).toEqual([7, 7, 0, 0]);
    // The response is the edited copy, written whole into the request's slot.
    expect(readCtrlMsg(page, rxSlotOffset(0)).msg[2]).toBe(0);
  });

  it('send_response never checks for room and always notifies', () => {
    const { guest, s, notifies } = setup();
    guest.sendResponse(ctrlMsg(1, 2, 3));
    expect(s.rxRespProd).toBe(1);
    expect(notifies()).toBe(1);
    expect(guest.log.at(-1)).toMatch(/no request consumed/);
  });

  it('CALLBACK_IN_BLOCKING_CONTEXT: queued by the rx tasklet, run afterwards in order (keventd)', () => {
    const { guest, ctl, s } = setup();
    const order: string[] = [];
    guest.registerReceiver(
      CMSG_MEM_REQUEST,
      (m) => {
        order.push(`mem ${m.id}`);
        guest.sendResponse(m);
      },
      CALLBACK_IN_BLOCKING_CONTEXT,
    );
    guest.registerReceiver(CMSG_SHUTDOWN, (m) => {
      order.push(`shutdown ${m.id}`);
      guest.sendResponse(m);
    });
    ctl.request(ctrlMsg(CMSG_MEM_REQUEST, 0, 1));
    ctl.request(ctrlMsg(CMSG_SHUTDOWN, 0, 2));
    ctl.request(ctrlMsg(CMSG_MEM_REQUEST, 0, 3));
    guest.interrupt();
    expect(order).toEqual(['shutdown 2', 'mem 1', 'mem 3']);
    expect(s.rxRespProd).toBe(3);
  });

  it('an interrupt raised with interrupts off is taken when they come back on', () => {
    const { guest, ctl } = setup();
    let handled = 0;
    guest.registerReceiver(CMSG_SHUTDOWN, (m) => {
      handled++;
      guest.sendResponse(m);
    });
    guest.withIrqsOff(() => {
      ctl.request(ctrlMsg(CMSG_SHUTDOWN, 0, 1));
      guest.interrupt();
      expect(handled).toBe(0);
    });
    expect(handled).toBe(1);
  });
});

describe('a controller that breaks the rules', () => {
  it('an rx request claiming more than 60 bytes: 60 are copied and it is logged (Linux would overrun its buffer)', () => {
    const { page, guest, ctl } = setup();
    ctl.request(ctrlMsg(CMSG_SHUTDOWN, 0, 1, new Uint8Array(60).fill(1)));
    page[rxSlotOffset(0) + 3] = 200;
    let len = -1;
    guest.registerReceiver(CMSG_SHUTDOWN, (m) => {
      len = m.length;
      m.length = 0;
      guest.sendResponse(m);
    });
    guest.interrupt();
    expect(len).toBe(200); // the header is copied as it was
    expect(guest.log.some((l) => /claims 200 payload bytes/.test(l))).toBe(true);
  });

  it('rx_req_prod jumping far ahead is taken 8 per pass and logged', () => {
    const { guest, s } = setup();
    s.rxReqProd = 100;
    guest.interrupt();
    expect(guest.rxReqCons).toBe(8);
    expect(s.rxRespProd).toBe(8); // the default handler answered the stale slots
    expect(guest.log.some((l) => /rx_req_prod jumped to 100/.test(l))).toBe(true);
  });

  it('responses to requests never sent, and ids nobody waits for, are logged and skipped', () => {
    const { page, guest, s } = setup();
    const calls: number[] = [];
    guest.sendMessageNoblock(msg(), (m) => calls.push(m.id));
    page[txSlotOffset(0) + 2] = 5; // answers with an id that was never handed out
    s.txRespProd = 4; // and claims 4 responses for 1 request
    guest.interrupt();
    expect(calls).toEqual([]);
    expect(guest.txRespCons).toBe(1);
    expect(guest.log.some((l) => /tx_resp_prod jumped to 4/.test(l))).toBe(true);
    expect(guest.log.some((l) => /id 5 matches no request/.test(l))).toBe(true);
  });

  it('transmitter_empty and discard_responses (the "dangerous" pair used by xencons_force_flush)', () => {
    const { guest, ctl } = setup();
    let calls = 0;
    guest.sendMessageNoblock(msg(), () => calls++);
    expect(guest.transmitterEmpty()).toBe(false);
    ctl.respond(1);
    guest.discardResponses();
    expect(guest.transmitterEmpty()).toBe(true);
    expect(calls).toBe(0);
  });
});

describe('index wrap-around at 2^32', () => {
  it('starting at 0xFFFFFFF8, eight requests fill slots 0..7 and tx_req_prod wraps to 0; ids still match', () => {
    const { guest, s, page, ctl } = setup(0xfffffff8);
    const cookies: number[] = [];
    for (let i = 0; i < 8; i++) expect(guest.sendMessageNoblock(msg(CMSG_BLKIF_FE, 32, i), (m, c) => cookies.push(c), i)).toBe(0);
    expect(s.txReqProd).toBe(0);
    expect(guest.txFull()).toBe(true);
    expect(guest.sendMessageNoblock(msg())).toBe(-EAGAIN);
    expect([...Array(8).keys()].map((i) => page[txSlotOffset(0xfffffff8 + i) + 4])).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    ctl.respond(8);
    guest.interrupt();
    expect(cookies).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(guest.txRespCons).toBe(0);
    expect(guest.sendMessageNoblock(msg())).toBe(0);
    expect(s.txReqProd).toBe(1);
  });

  it('rx requests across the wrap are all taken, in order', () => {
    const { guest, ctl, s } = setup(0xfffffffc);
    const seen: number[] = [];
    guest.registerReceiver(CMSG_SHUTDOWN, (m) => {
      seen.push(m.id);
      guest.sendResponse(m);
    });
    for (let id = 1; id <= 8; id++) ctl.request(ctrlMsg(CMSG_SHUTDOWN, 0, id));
    expect(s.rxReqProd).toBe(4);
    guest.interrupt();
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect([guest.rxReqCons, s.rxRespProd]).toEqual([4, 4]);
  });
});
