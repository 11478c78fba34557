/**
 * dom0's side of the 2.0 control interface (reference 1.3-1.5, 7.1-7.4; xu.c,
 * channel.py, console.py, domain.py, messages.py at 2.0.0): index sync,
 * echoing, batching with one notify, request queueing, id stamping and
 * matching, the console buffers, and malformed input from a guest.
 */
import { describe, expect, it } from 'vitest';
import {
  CMSG_BLKIF_FE,
  CMSG_CONSOLE,
  CMSG_MEM_REQUEST,
  CMSG_SHUTDOWN,
  CMSG_SHUTDOWN_POWEROFF,
  CMSG_SHUTDOWN_REBOOT,
  CMSG_SHUTDOWN_SUSPEND,
  MEM_REQUEST,
  ControlIfIndexes,
  ctrlMsg,
  payloadOf,
  readCtrlMsg,
  rxSlotOffset,
  txSlotOffset,
  writeCtrlMsg,
  type CtrlMsg,
} from '../../src/core/abi/ctrl_if.js';
import { GuestCtrlIf } from '../../src/core/guest/ctrl_if.js';
import { XenCons } from '../../src/core/guest/xencons.js';
import { Xend } from '../../src/core/tools/xend.js';
import { XU_BUFFER_SIZE, XuBuffer } from '../../src/core/tools/xu.js';
import { DOM, bytesOf, consoleRig, rig, textOf } from './ctrl_if_rig.js';

/** The guest's CMSG_SHUTDOWN receiver as reboot.c: answer at once, echoing the message. */
function echoShutdowns(r: ReturnType<typeof rig>, seen: CtrlMsg[] = []): CtrlMsg[] {
  r.guest.registerReceiver(CMSG_SHUTDOWN, (m) => {
    seen.push(m);
    r.guest.sendResponse(m);
  });
  return seen;
}

describe('xu.port: connecting to a domain', () => {
  it('syncs tx_req_cons = tx_resp_prod, rx_resp_cons = rx_resp_prod and mirrors both producers it owns', () => {
    const page = new Uint8Array(4096);
    const s = new ControlIfIndexes(page);
    s.txReqProd = 12;
    s.txRespProd = 10;
    s.rxReqProd = 20;
    s.rxRespProd = 19;
    const dc = new Xend().createDomChannel(3, page, () => {});
    expect([dc.port.txReqCons, dc.port.txRespProd, dc.port.rxReqProd, dc.port.rxRespCons]).toEqual([10, 10, 20, 19]);
    expect(dc.console.consolePort).toBe(9603);
  });

  it('refuses a second channel to a domain and a console port already in use', () => {
    const x = new Xend();
    x.createDomChannel(1, new Uint8Array(4096), () => {});
    expect(() => x.createDomChannel(1, new Uint8Array(4096), () => {})).toThrow(/already has/);
    expect(() => x.createDomChannel(2, new Uint8Array(4096), () => {}, { consolePort: 9601 })).toThrow(/console port in use: 9601/);
  });
});

describe('requests from the guest', () => {
  it('a type no device handles is logged and echoed back unchanged as the response', () => {
    const r = rig();
    let rsp: CtrlMsg | undefined;
    r.guest.sendMessageNoblock(ctrlMsg(CMSG_BLKIF_FE, 32, 0, Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0)), (m) => (rsp = m), 0);
    r.settle();
    expect(rsp).toMatchObject({ type: CMSG_BLKIF_FE, subtype: 32, id: 0, length: 8 });
    expect(r.xend.log).toContainEqual({ dom: DOM, kind: 'no-device', text: expect.stringMatching(/No device: Message type CMSG_BLKIF_FE_DRIVER_STATUS 2:32/) as string });
    for (const type of [5, 8, 11, 200, 255]) {
      r.guest.sendMessageNoblock(ctrlMsg(type, 9, 0, Uint8Array.of(type)), (m) => (rsp = m), 0);
      r.settle();
      expect([rsp!.type, rsp!.subtype, rsp!.msg[0]]).toEqual([type, 9, type]);
    }
  });

  it('a request claiming more than 60 bytes is clamped to 60 (and answered with length 60), and logged', () => {
    const r = rig();
    r.guest.sendMessageNoblock(ctrlMsg(77, 0, 0, new Uint8Array(60).fill(3)));
    r.page[txSlotOffset(0) + 3] = 250;
    r.settle();
    expect(r.page[txSlotOffset(0) + 3]).toBe(60);
    expect(r.xend.log.some((e) => e.kind === 'length-clamped' && /claims 250/.test(e.text))).toBe(true);
  });

  it('one batch per notification: all requests, then all responses, then all writes, and ONE notify if any work was done', () => {
    const r = rig();
    for (let i = 0; i < 5; i++) r.guest.sendMessageNoblock(ctrlMsg(60, 0, 0));
    expect(r.sends.guest).toBe(5); // five sends, one pending bit
    expect(r.xendNotify()).toBe(true);
    expect(r.sends.xend).toBe(1);
    expect(r.shared.txRespProd).toBe(5);
    // A notification with nothing to do sends nothing back.
    r.pending.toXend = true;
    r.xendNotify();
    expect(r.sends.xend).toBe(1);
  });

  it('never reads more than 8 requests ahead of its own responses', () => {
    const r = rig();
    r.dc.channel.registerDevice([90], {
      requestReceived: () => true, // claims it answered, but writes nothing
      responseReceived: () => {},
      produceRequests: () => 0,
      lostChannel: () => {},
    });
    for (let i = 0; i < 8; i++) r.guest.sendMessageNoblock(ctrlMsg(90, 0, 0));
    r.xendNotify();
    expect(r.dc.port.txReqCons).toBe(8);
    expect(r.dc.port.requestToRead()).toBe(false);
    expect(r.dc.port.spaceToWriteResponse()).toBe(true);
  });

  it('a tx_req_prod that jumps past 8 is logged; 8 stale slots are answered per notification, as xend would walk them', () => {
    const r = rig();
    r.shared.txReqProd = 20;
    r.pending.toXend = true;
    r.xendNotify();
    expect(r.dc.port.txReqCons).toBe(8);
    expect(r.shared.txRespProd).toBe(8);
    expect(r.xend.log.some((e) => e.kind === 'index-jump' && /tx_req_prod 20 is 20 ahead/.test(e.text))).toBe(true);
    r.pending.toXend = true;
    r.xendNotify();
    r.pending.toXend = true;
    r.xendNotify();
    expect(r.dc.port.txReqCons).toBe(20);
  });
});

describe('requests to the guest: ids, queueing, responses', () => {
  it('messages.nextid: 1, 2, 3, ... and the id on the wire wraps mod 256', () => {
    const x = new Xend();
    const ids = Array.from({ length: 258 }, () => x.nextid());
    expect(ids.slice(0, 3)).toEqual([1, 2, 3]);
    expect(ids.slice(253)).toEqual([254, 255, 0, 1, 2]);
  });

  it('shutdown: CMSG_SHUTDOWN with the reason subtype, empty payload, a fresh id; the response is matched by id', () => {
    const r = rig();
    const seen = echoShutdowns(r);
    const answers: number[] = [];
    const ids = (['poweroff', 'reboot', 'suspend', 'halt'] as const).map((reason) => r.xend.shutdown(DOM, reason, (m) => answers.push(m.id)));
    expect(ids).toEqual([1, 2, 3, 4]);
    expect(r.dc.domain.awaiting()).toEqual([1, 2, 3, 4]);
    expect(readCtrlMsg(r.page, rxSlotOffset(1))).toMatchObject({ type: CMSG_SHUTDOWN, subtype: CMSG_SHUTDOWN_REBOOT, id: 2, length: 0 });
    r.settle();
    expect(seen.map((m) => m.subtype)).toEqual([CMSG_SHUTDOWN_POWEROFF, CMSG_SHUTDOWN_REBOOT, CMSG_SHUTDOWN_SUSPEND, CMSG_SHUTDOWN_POWEROFF]);
    expect(answers).toEqual([1, 2, 3, 4]);
    expect(r.dc.domain.awaiting()).toEqual([]);
  });

  it('mem_target_set: mem_request_t with target = MB × 256, length 8', () => {
    const r = rig();
    let status = -1;
    r.guest.registerReceiver(CMSG_MEM_REQUEST, (m) => {
      m.msg.set(MEM_REQUEST.encode({ target: MEM_REQUEST.decode(m.msg).target, status: 0 }));
      r.guest.sendResponse(m);
    });
    r.xend.memTargetSet(DOM, 64, (m) => (status = MEM_REQUEST.decode(payloadOf(m)).status));
    const req = readCtrlMsg(r.page, rxSlotOffset(0));
    expect([req.type, req.length]).toEqual([CMSG_MEM_REQUEST, 8]);
    expect(MEM_REQUEST.decode(req.msg).target).toBe(16384);
    r.settle();
    expect(status).toBe(0);
  });

  it('each request written at once notifies; past 8 unanswered they queue, and a later batch flushes them', () => {
    const r = rig();
    echoShutdowns(r);
    for (let i = 0; i < 11; i++) r.xend.shutdown(DOM, 'poweroff');
    expect(r.shared.rxReqProd).toBe(8);
    expect(r.dc.channel.queue).toHaveLength(3);
    expect(r.sends.xend).toBe(8);
    r.guestIrq(); // the guest answers all 8
    r.xendNotify(); // 8 responses read, 3 queued requests written, one notify
    expect(r.shared.rxReqProd).toBe(11);
    expect(r.dc.channel.queue).toHaveLength(0);
    expect(r.sends.xend).toBe(9);
    r.settle();
    expect(r.dc.domain.awaiting()).toEqual([]);
  });

  it('a response whose id nobody waits for is logged, not fatal', () => {
    const r = rig();
    r.guest.registerReceiver(CMSG_SHUTDOWN, (m) => {
      m.id = 99;
      r.guest.sendResponse(m);
    });
    r.xend.shutdown(DOM, 'reboot');
    r.settle();
    expect(r.xend.log.some((e) => e.kind === 'unmatched-response' && /id 99/.test(e.text))).toBe(true);
    expect(r.dc.domain.awaiting()).toEqual([1]);
  });

  it('responses of a type no device handles are logged', () => {
    const r = rig();
    r.dc.channel.writeRequest(ctrlMsg(50, 1, 7));
    r.settle(); // the guest's default handler answers
    expect(r.xend.log.some((e) => e.kind === 'no-device' && /responseReceived> .* 50:1/.test(e.text))).toBe(true);
  });

  it('a guest rx_resp_prod claiming more responses than requests: only the outstanding ones are read, and it is logged', () => {
    const r = rig();
    r.xend.shutdown(DOM, 'poweroff');
    r.shared.rxRespProd = 30; // the guest writes nonsense
    writeCtrlMsg(r.page, rxSlotOffset(0), ctrlMsg(CMSG_SHUTDOWN, 0, 1));
    r.pending.toXend = true;
    r.xendNotify();
    expect(r.dc.port.rxRespCons).toBe(1);
    expect(r.xend.log.some((e) => e.kind === 'index-jump' && /claims 30 responses with 1/.test(e.text))).toBe(true);
  });

  it('across the 2^32 wrap: 16 shutdown requests and their responses, starting at 0xFFFFFFF8', () => {
    const r = rig(0xfffffff8);
    echoShutdowns(r);
    const answered: number[] = [];
    const ids: number[] = [];
    for (let i = 0; i < 16; i++) ids.push(r.xend.shutdown(DOM, 'poweroff', (m) => answered.push(m.id)));
    r.settle();
    expect(answered).toEqual(ids);
    expect([r.shared.rxReqProd, r.shared.rxRespProd, r.dc.port.rxRespCons]).toEqual([8, 8, 8]);
  });
});

describe('the console controller', () => {
  it('guest output goes to the client in order; the request is echoed as the response', () => {
    const r = consoleRig();
    r.cons.ttyWrite(bytesOf('hello, dom0\n'));
    const req = readCtrlMsg(r.page, txSlotOffset(0));
    expect([req.type, req.subtype, req.id, req.length]).toEqual([CMSG_CONSOLE, 0, 0xff, 12]);
    r.settle();
    expect(textOf(r.output)).toBe('hello, dom0\n');
    expect(readCtrlMsg(r.page, txSlotOffset(0))).toEqual(req); // echoed: payload kept
  });

  it('without a client output waits in rbuf; connecting flushes it; a second client is refused', () => {
    const r = rig();
    const cons = new XenCons(r.guest);
    cons.ttyWrite(bytesOf('early boot'));
    r.settle();
    expect(r.dc.console.rbuf.used()).toBe(10);
    const got: number[] = [];
    expect(r.xend.consoleConnect(DOM, { write: (b) => (got.push(...b), b.length) })).toBe(0);
    expect(textOf(got)).toBe('early boot');
    expect(r.xend.consoleConnect(DOM, { write: (b) => b.length })).toBe(-1);
    expect(r.xend.log.some((e) => e.kind === 'console' && /Cannot connect to console 9601 on domain 1/.test(e.text))).toBe(true);
    r.dc.console.disconnect();
    expect(r.dc.console.status).toBe('listening');
  });

  it('rbuf holds 65536 bytes: past that output is truncated, counted and logged', () => {
    const r = rig();
    const cons = new XenCons(r.guest);
    const chunk = new Uint8Array(4000).fill(0x41);
    let written = 0;
    while (written < XU_BUFFER_SIZE + 1000) {
      written += cons.ttyWrite(chunk);
      r.settle();
    }
    expect(r.dc.console.rbuf.used()).toBe(XU_BUFFER_SIZE);
    expect(r.dc.console.outputDropped).toBe(written - XU_BUFFER_SIZE);
    expect(r.xend.log.some((e) => e.kind === 'console-overflow')).toBe(true);
  });

  it('input is cut into CMSG_CONSOLE requests of at most 60 bytes with id 0; the guest acks with length 0 and xend ignores the acks', () => {
    const r = consoleRig();
    const text = 'x'.repeat(130);
    expect(r.xend.consoleInput(DOM, bytesOf(text))).toBe(130);
    expect(r.sends.xend).toBe(1); // three requests, one notify
    const reqs = [0, 1, 2].map((i) => readCtrlMsg(r.page, rxSlotOffset(i)));
    expect(reqs.map((m) => [m.type, m.subtype, m.id, m.length])).toEqual([
      [0, 0, 0, 60],
      [0, 0, 0, 60],
      [0, 0, 0, 10],
    ]);
    r.settle();
    expect(textOf(r.input)).toBe(text);
    expect(readCtrlMsg(r.page, rxSlotOffset(0)).length).toBe(0);
    expect(r.dc.port.rxRespCons).toBe(3);
    expect(r.xend.log.filter((e) => e.kind !== 'console')).toEqual([]);
  });

  it('input beyond 8 messages waits in wbuf and goes out as the guest answers', () => {
    const r = consoleRig();
    r.xend.consoleInput(DOM, new Uint8Array(1000).fill(0x61));
    expect(r.shared.rxReqProd).toBe(8);
    expect(r.dc.console.wbuf.used()).toBe(1000 - 480);
    r.settle();
    expect(r.input).toHaveLength(1000);
  });

  it('input with no tty open is dropped by the guest but still acknowledged', () => {
    const r = rig();
    new XenCons(r.guest);
    r.xend.consoleInput(DOM, bytesOf('lost'));
    r.settle();
    expect(r.shared.rxRespProd).toBe(1);
  });

  it('closing the channel closes the console and stops handling notifications', () => {
    const r = consoleRig();
    r.xend.closeDomChannel(DOM);
    expect(r.dc.console.status).toBe('closed');
    expect(r.dc.channel.closed).toBe(true);
    r.cons.ttyWrite(bytesOf('anyone?'));
    expect(r.xend.notification(DOM)).toBe(0);
    expect(r.xend.has(DOM)).toBe(false);
  });
});

describe('xu.buffer', () => {
  it('write takes what fits; peek/read/discard across the 64 KiB wrap', () => {
    const b = new XuBuffer();
    b.prod = b.cons = XU_BUFFER_SIZE - 3;
    expect(b.write(Uint8Array.of(1, 2, 3, 4, 5))).toBe(5);
    expect([...b.peek(4)]).toEqual([1, 2, 3, 4]);
    expect([...b.read()]).toEqual([1, 2, 3, 4, 5]);
    expect(b.empty()).toBe(true);
    expect(b.write(new Uint8Array(XU_BUFFER_SIZE + 10))).toBe(XU_BUFFER_SIZE);
    expect(b.full()).toBe(true);
    expect(b.discard(10)).toBe(10);
    expect(b.write(new Uint8Array(20))).toBe(10);
  });
});

describe('wired directly (each notify delivered synchronously)', () => {
  it('a long write, input and a shutdown all arrive, with no re-entrancy trouble', () => {
    const page = new Uint8Array(4096);
    const xend = new Xend();
    let guestIrq: () => void = () => {};
    const dc = xend.createDomChannel(DOM, page, () => guestIrq());
    const guest = new GuestCtrlIf(page, () => xend.notification(DOM));
    guestIrq = () => guest.interrupt();
    const cons = new XenCons(guest);
    const out: number[] = [];
    const input: number[] = [];
    dc.console.connect({ write: (b) => (out.push(...b), b.length) });
    cons.open((b) => input.push(...b));
    const text = Array.from({ length: 300 }, (_, i) => `line ${i}\n`).join('');
    let at = 0;
    while (at < text.length) at += cons.ttyWrite(bytesOf(text.slice(at)));
    xend.consoleInput(DOM, bytesOf('ls -l\n'.repeat(50)));
    let answered = false;
    guest.registerReceiver(CMSG_SHUTDOWN, (m) => guest.sendResponse(m));
    xend.shutdown(DOM, 'reboot', () => (answered = true));
    expect(textOf(out)).toBe(text);
    expect(textOf(input)).toBe('ls -l\n'.repeat(50));
    expect(answered).toBe(true);
    expect(cons.pending()).toBe(0);
  });
});
