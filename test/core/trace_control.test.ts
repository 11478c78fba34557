/**
 * Trace records for the control paths: ctrl_msg (Xen 2.0's control_msg_t on
 * control_if_t's rings), xs_msg (xsd_sockmsg as xenstored reads and answers
 * it) and cons (console bytes moved), on real machines with a TraceStore.
 */
import { describe, expect, it } from 'vitest';
import { CMSG_CONSOLE, CMSG_CONSOLE_DATA, CMSG_SHUTDOWN, CONTROL_IF_PAGE_OFFSET, CONTROL_IF_RX_REQ_PROD, CTRL_MSG_ID_NONE, ControlIfIndexes, rxSlotOffset, txSlotOffset } from '../../src/core/abi/ctrl_if.js';
import { XS_READ, XS_WATCH_EVENT } from '../../src/core/abi/xs_wire.js';
import { GuestCtrlIf } from '../../src/core/guest/ctrl_if.js';
import { miniosKernel } from '../../src/core/guest/minios.js';
import { Plan9Kernel, plan9Kernel } from '../../src/core/guest/plan9.js';
import { Hypervisor } from '../../src/core/hv/hypervisor.js';
import {
  CONS_IN,
  CTRL_BY_XEND,
  CTRL_RX,
  CTRL_TAKE,
  TK,
  Trace,
  TraceStore,
  XS_RSP,
  decodeRecord,
  emitCtrlMsg,
  type TraceRecord,
} from '../../src/core/sim/trace.js';
import { Xen2Dom0Kernel, xen2Dom0Kernel } from '../../src/core/tools/dom0.js';
import { Dom0Kernel, dom0Kernel } from '../../src/core/tools/dom0_modern.js';
import { Xenstored } from '../../src/core/tools/xenstored.js';
import { XuPort } from '../../src/core/tools/xu.js';
import { utf8 } from '../../src/core/util/bytes.js';
import { bytesOf, textOf } from './ctrl_if_rig.js';

type Rec<K extends TraceRecord['kind']> = Extract<TraceRecord, { kind: K }>;
const of = <K extends TraceRecord['kind']>(recs: TraceRecord[], kind: K): Rec<K>[] => recs.filter((r): r is Rec<K> => r.kind === kind);

/** The documented fields of each new kind, as decodeRecord gives them. */
const FIELDS: Record<'ctrl_msg' | 'xs_msg' | 'cons', readonly string[]> = {
  ctrl_msg: ['seq', 't', 'kind', 'dom', 'ring', 'op', 'who', 'idx', 'type', 'subtype', 'id', 'length', 'type_name', 'subtype_name'],
  xs_msg: ['seq', 't', 'kind', 'dom', 'dir', 'type', 'type_name', 'req_id', 'tx_id', 'len', 'text'],
  cons: ['seq', 't', 'kind', 'dom', 'dir', 'count', 'idx', 'text'],
};
const fieldsOf = (r: object): string[] => Object.keys(r).sort();
const documented = (kind: keyof typeof FIELDS): string[] => [...FIELDS[kind]].sort();

/** Records delivered after `from` (a TraceStore count). */
function since(hv: Hypervisor, store: TraceStore, from: number): TraceRecord[] {
  hv.trace.flush();
  return [...store.records()].slice(from);
}

/**
 * A Xen 2.0 machine: dom0 running xend, a Plan 9 guest booted at its root
 * prompt, a console client collecting its output, and a TraceStore.
 * The guest's ctrl_if and xend's port are pointed at the machine's trace here
 * (assigning the fields their constructor options set), so the test does not
 * depend on who wires them.
 */
function xen2Machine(subscribe = true) {
  const hv = new Hypervisor({ seed: 1, xen: '2.0' });
  const dom0 = hv.createDomain({ name: 'dom0' }, xen2Dom0Kernel());
  const x = dom0.kernel as Xen2Dom0Kernel;
  const g = hv.createDomain({ name: 'plan9' });
  const out: number[] = [];
  x.createControlChannel(g, {
    write(b) {
      for (const v of b) out.push(v);
      return b.length;
    },
  });
  hv.boot(g, plan9Kernel());
  const k = g.kernel as Plan9Kernel;
  k.ctrl!.trace = hv.trace;
  k.ctrl!.dom = g.domid;
  const port = x.xend.get(g.domid).port;
  port.trace = hv.trace;
  port.dom = g.domid;
  const store = new TraceStore();
  if (subscribe) hv.trace.subscribe(store.subscriber);
  hv.run(5_000_000);
  return { hv, x, g, k, out, store };
}

/** A modern machine: dom0 with xenstored and xenconsoled, a Mini-OS guest at its prompt, and a TraceStore. */
function modernMachine() {
  const hv = new Hypervisor({ seed: 1 });
  const dom0 = hv.createDomain({ name: 'dom0' }, dom0Kernel());
  const k0 = dom0.kernel as Dom0Kernel;
  k0.xenstored.trace = hv.trace;
  k0.xenconsoled.trace = hv.trace;
  const g = hv.createDomain({ name: 'mini0' });
  const out: number[] = [];
  k0.buildGuest(g, (b) => {
    for (const v of b) out.push(v);
  });
  k0.xenconsoled.get(g.domid).trace = hv.trace;
  hv.boot(g, miniosKernel());
  const store = new TraceStore();
  hv.trace.subscribe(store.subscriber);
  hv.run(5_000_000);
  return { hv, k0, g, out, store };
}

describe('ctrl_msg and cons records on Xen 2.0 (Plan 9 guest, xend)', () => {
  it('a console line: guest puts CMSG_CONSOLE on tx, xend takes each in order and answers, cons text is the output', () => {
    const { hv, g, out, store } = xen2Machine();
    hv.trace.flush();
    const mark = store.count;
    const outFrom = out.length;
    (g.kernel as Plan9Kernel).print('hello from plan 9\n');
    hv.run(1_000_000);
    const recs = since(hv, store, mark);
    const msgs = of(recs, 'ctrl_msg').filter((r) => r.ring === 'tx');
    const puts = msgs.filter((r) => r.op === 'put' && r.who === 'guest');
    const takes = msgs.filter((r) => r.op === 'take' && r.who === 'xend');
    expect(puts.length).toBeGreaterThan(0);
    for (const r of puts) {
      expect(r).toMatchObject({ dom: g.domid, type: CMSG_CONSOLE, subtype: CMSG_CONSOLE_DATA, id: CTRL_MSG_ID_NONE, type_name: 'CMSG_CONSOLE', subtype_name: 'CMSG_CONSOLE_DATA' });
    }
    // xend takes every request the guest put, slot for slot, each after it was put.
    expect(takes.map((r) => r.idx)).toEqual(puts.map((r) => r.idx));
    expect(takes.map((r) => r.length)).toEqual(puts.map((r) => r.length));
    for (let i = 0; i < puts.length; i++) expect(takes[i]!.seq).toBeGreaterThan(puts[i]!.seq);
    // ... and answers in the same slots, which the guest takes back.
    const xendPuts = msgs.filter((r) => r.op === 'put' && r.who === 'xend');
    const guestTakes = msgs.filter((r) => r.op === 'take' && r.who === 'guest');
    expect(xendPuts.map((r) => r.idx)).toEqual(puts.map((r) => r.idx));
    expect(guestTakes.map((r) => r.idx)).toEqual(puts.map((r) => r.idx));
    // The cons records carry exactly what reached xend's console client.
    const cons = of(recs, 'cons');
    expect(cons.every((r) => r.dir === 'out' && r.dom === g.domid)).toBe(true);
    expect(cons.map((r) => r.text).join('')).toBe(textOf(out.slice(outFrom)));
    expect(cons.map((r) => r.text).join('')).toBe('hello from plan 9\n\r');
    expect(cons.map((r) => r.count)).toEqual(puts.map((r) => r.length));
    // A cons record follows the take of its message; its index is tx_req_cons after it.
    for (const c of cons) {
      const take = takes.find((t) => t.idx + 1 === c.idx)!;
      expect(take.seq).toBeLessThan(c.seq);
    }
    for (const r of [...msgs, ...cons]) expect(fieldsOf(r)).toEqual(documented(r.kind));
  });

  it('typed keys: xend puts CMSG_CONSOLE on rx (cons in), the guest takes and answers; its echo comes back out', () => {
    const { hv, x, g, out, store } = xen2Machine();
    hv.trace.flush();
    const mark = store.count;
    const outFrom = out.length;
    x.xend.consoleInput(g.domid, bytesOf('local\r'));
    hv.run(1_000_000);
    const recs = since(hv, store, mark);
    const rx = of(recs, 'ctrl_msg').filter((r) => r.ring === 'rx');
    const puts = rx.filter((r) => r.op === 'put' && r.who === 'xend');
    const takes = rx.filter((r) => r.op === 'take' && r.who === 'guest');
    expect(puts).toHaveLength(1);
    expect(puts[0]).toMatchObject({ dom: g.domid, type: CMSG_CONSOLE, subtype: CMSG_CONSOLE_DATA, id: 0, length: 6, type_name: 'CMSG_CONSOLE' });
    expect(takes.map((r) => [r.idx, r.length])).toEqual([[puts[0]!.idx, 6]]);
    expect(takes[0]!.seq).toBeGreaterThan(puts[0]!.seq);
    // The guest's response in the same slot, taken by xend.
    expect(rx.filter((r) => r.op === 'put' && r.who === 'guest').map((r) => r.idx)).toEqual([puts[0]!.idx]);
    expect(rx.filter((r) => r.op === 'take' && r.who === 'xend').map((r) => r.idx)).toEqual([puts[0]!.idx]);
    const cons = of(recs, 'cons');
    const consIn = cons.filter((r) => r.dir === 'in');
    expect(consIn).toEqual([expect.objectContaining({ dom: g.domid, count: 6, text: 'local\r', idx: (puts[0]!.idx + 1) >>> 0 })]);
    expect(consIn[0]!.seq).toBeGreaterThan(puts[0]!.seq);
    // What Plan 9 printed in reply (echo, then the rc banner) is the cons out text.
    const text = cons.filter((r) => r.dir === 'out').map((r) => r.text).join('');
    expect(text).toBe(textOf(out.slice(outFrom)));
    expect(text).toContain('term% ');
  });

  it('records nothing while nobody subscribes, though wired (every emit is behind trace.on)', () => {
    const { hv, x, g, out } = xen2Machine(false);
    const from = out.length;
    (g.kernel as Plan9Kernel).print('quiet\n');
    x.xend.consoleInput(g.domid, bytesOf('local\r'));
    hv.run(1_000_000);
    expect(textOf(out.slice(from))).toContain('quiet');
    expect(hv.trace.on).toBe(false);
    expect(hv.trace.count).toBe(0);
  });
});

describe('xs_msg and cons records on the modern path (Mini-OS guest, xenstored, xenconsoled)', () => {
  it('xenstore-read: one XS_READ req and one rsp with the same req_id, each recorded once', () => {
    const { hv, k0, g, out, store } = modernMachine();
    hv.trace.flush();
    const mark = store.count;
    const outFrom = out.length;
    k0.typeAt(g.domid, utf8('xenstore-read name\r'));
    hv.run(5_000_000);
    const recs = since(hv, store, mark);
    const xs = of(recs, 'xs_msg');
    expect(xs.length).toBeGreaterThanOrEqual(2);
    const req = xs.filter((r) => r.dir === 'req');
    expect(req).toHaveLength(1);
    expect(req[0]).toMatchObject({ dom: g.domid, type: XS_READ, type_name: 'XS_READ', tx_id: 0 });
    expect(req[0]!.text).toMatch(/(^|\/)name$/);
    expect(req[0]!.len).toBe(req[0]!.text.length + 1); // the path and its NUL
    const rsp = xs.filter((r) => r.dir === 'rsp' && r.type !== XS_WATCH_EVENT);
    expect(rsp).toHaveLength(1);
    expect(rsp[0]).toMatchObject({ dom: g.domid, type: XS_READ, type_name: 'XS_READ', req_id: req[0]!.req_id, tx_id: 0, len: 5, text: 'mini0' });
    expect(rsp[0]!.seq).toBeGreaterThan(req[0]!.seq);
    // The command typed went in as cons 'in', and the console's answer came out as cons 'out'.
    const cons = of(recs, 'cons');
    expect(cons.filter((r) => r.dir === 'in').map((r) => r.text).join('')).toBe('xenstore-read name\r');
    const outText = cons.filter((r) => r.dir === 'out').map((r) => r.text).join('');
    expect(outText).toBe(textOf(out.slice(outFrom)));
    expect(outText).toBe('xenstore-read name\r\nmini0\r\nminios> ');
    for (const c of cons) expect(c.dom).toBe(g.domid);
    const con = k0.xenconsoled.get(g.domid);
    expect(cons.filter((r) => r.dir === 'out').at(-1)!.idx).toBe(con.idx.outCons);
    expect(cons.filter((r) => r.dir === 'in').at(-1)!.idx).toBe(con.idx.inProd);
    for (const r of [...xs, ...cons]) expect(fieldsOf(r)).toEqual(documented(r.kind));
  });

  it("dom0's socket requests are recorded as dom 0, and a dropped connection as a note", () => {
    const trace = new Trace();
    const store = new TraceStore();
    trace.subscribe(store.subscriber);
    const xsd = new Xenstored({ trace });
    const replies: unknown[] = [];
    const sock = xsd.openSocket((m) => replies.push(m));
    sock.send(XS_READ, utf8('/tool\0'), 7, 0);
    sock.send(XS_READ, new Uint8Array(5000), 8, 0); // over XENSTORE_PAYLOAD_MAX: the connection goes
    trace.flush();
    const recs = [...store.records()];
    expect(recs.map((r) => (r.kind === 'xs_msg' ? [r.kind, r.dom, r.dir, r.type_name, r.req_id, r.text] : [r.kind, r.dom, r.kind === 'note' ? r.text : '']))).toEqual([
      ['xs_msg', 0, 'req', 'XS_READ', 7, '/tool'],
      ['xs_msg', 0, 'rsp', 'XS_READ', 7, ''],
      ['note', 0, 'xenstored: connection of domain 0 ignored (XENSTORE_ERROR_PROTO)'],
    ]);
  });
});

describe('decoding the new kinds', () => {
  function one(fn: (t: Trace) => void): TraceRecord {
    const t = new Trace();
    t.now = () => 42;
    const store = new TraceStore();
    t.subscribe(store.subscriber);
    fn(t);
    t.flush();
    const recs = [...store.records()];
    expect(recs).toHaveLength(1);
    return recs[0]!;
  }

  it('ctrl_msg: the slot header as stored (length past 60 too), a u32 index, names from domain_controller.h', () => {
    const page = new Uint8Array(4096);
    const at = rxSlotOffset(0xfffffffe);
    page.set([CMSG_SHUTDOWN, 1, 0xff, 200], at);
    const rec = one((t) => emitCtrlMsg(t, 3, CTRL_RX | CTRL_TAKE | CTRL_BY_XEND, 0xfffffffe, page, at));
    expect(rec).toEqual({
      seq: 0,
      t: 42,
      kind: 'ctrl_msg',
      dom: 3,
      ring: 'rx',
      op: 'take',
      who: 'xend',
      idx: 0xfffffffe,
      type: CMSG_SHUTDOWN,
      subtype: 1,
      id: 0xff,
      length: 200,
      type_name: 'CMSG_SHUTDOWN',
      subtype_name: 'CMSG_SHUTDOWN_REBOOT',
    });
    const unknown = one((t) => {
      page.set([9, 5, 0, 0], txSlotOffset(0));
      emitCtrlMsg(t, 1, 0, 0, page, txSlotOffset(0));
    });
    expect(unknown).toMatchObject({ ring: 'tx', op: 'put', who: 'guest', type_name: 'type 9', subtype_name: 'type 9/5' });
  });

  it('xs_msg: u32 header fields, a name for every type number', () => {
    const rec = one((t) => t.emit(TK.xs_msg, 2, XS_RSP, 0xffff, -1, -2, 4096, { text: 'x' }));
    expect(rec).toEqual({ seq: 0, t: 42, kind: 'xs_msg', dom: 2, dir: 'rsp', type: 0xffff, type_name: 'type 65535', req_id: 0xffffffff, tx_id: 0xfffffffe, len: 4096, text: 'x' });
  });

  it('cons: the exact count, the index as u32, the text as recorded', () => {
    const rec = one((t) => t.emit(TK.cons, 1, CONS_IN, -1, 300, 0, 0, { text: 'abc' }));
    expect(rec).toEqual({ seq: 0, t: 42, kind: 'cons', dom: 1, dir: 'in', count: 300, idx: 0xffffffff, text: 'abc' });
  });

  it('keeps the older kinds where they were', () => {
    expect([TK.hypercall, TK.note, TK.ctrl_msg, TK.xs_msg, TK.cons]).toEqual([0, 9, 10, 11, 12]);
    const c = new Trace();
    c.subscribe(() => {});
    c.emit(TK.note, 0, -1, -1, 0, 0, 0, { text: 'n' });
    expect(decodeRecord(c.chunk, 0)).toEqual({ seq: 0, t: 0, kind: 'note', dom: 0, text: 'n' });
  });
});

describe('malformed messages stay visible', () => {
  it('a request claiming 200 payload bytes: the guest takes it (length as stored) and a note says it was cut to 60', () => {
    const trace = new Trace();
    const store = new TraceStore();
    trace.subscribe(store.subscriber);
    const page = new Uint8Array(4096);
    const guest = new GuestCtrlIf(page, () => {}, { trace, dom: 4 });
    page.set([CMSG_CONSOLE, CMSG_CONSOLE_DATA, 0, 200], rxSlotOffset(0));
    new DataView(page.buffer).setUint32(CONTROL_IF_PAGE_OFFSET + CONTROL_IF_RX_REQ_PROD, 1, true);
    guest.interrupt();
    trace.flush();
    const recs = [...store.records()];
    expect(recs[0]).toMatchObject({ kind: 'ctrl_msg', dom: 4, ring: 'rx', op: 'take', who: 'guest', idx: 0, length: 200 });
    expect(recs[1]).toMatchObject({ kind: 'note', dom: 4 });
    expect(recs[1]!.kind === 'note' && recs[1]!.text).toBe('ctrl_if: request type 0 claims 200 payload bytes; copied 60');
    // The default handler's empty answer.
    expect(recs[2]).toMatchObject({ kind: 'ctrl_msg', ring: 'rx', op: 'put', who: 'guest', idx: 0, length: 0 });
  });

  it('xend clamps a request claiming 61 bytes and says so in a note; a response nobody asked for is a note from the guest', () => {
    const trace = new Trace();
    const store = new TraceStore();
    trace.subscribe(store.subscriber);
    const page = new Uint8Array(4096);
    const shared = new ControlIfIndexes(page);
    const port = new XuPort(page, () => {}, () => {}, { trace, dom: 5 });
    page.set([CMSG_CONSOLE, 0, CTRL_MSG_ID_NONE, 61], txSlotOffset(0));
    shared.txReqProd = 1;
    expect(port.readRequest()?.length).toBe(60);
    // A guest whose tx ring gets a response with id 3, for which nothing waits.
    const guest = new GuestCtrlIf(page, () => {}, { trace, dom: 5 });
    shared.txReqProd = 1;
    guest.txRespCons = 0;
    page.set([CMSG_CONSOLE, 0, 3, 0], txSlotOffset(0));
    shared.txRespProd = 1;
    guest.interrupt();
    trace.flush();
    const recs = [...store.records()].map((r) => (r.kind === 'note' ? r.text : `${r.kind} ${r.kind === 'ctrl_msg' ? `${r.who} ${r.op} ${r.ring} ${r.length}` : ''}`));
    expect(recs).toEqual([
      'ctrl_msg xend take tx 61',
      'xend: request type 0/0 id 255 claims 61 payload bytes; clamped to 60',
      'ctrl_msg guest take tx 0',
      'ctrl_if: response with id 3 matches no request waiting for one; ignored',
    ]);
  });
});
