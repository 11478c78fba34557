/**
 * The FIFO ABI at the byte level (reference section 6, xen/common/event_fifo.c,
 * Linux drivers/xen/events/events_fifo.c): event words in the guest's
 * event-array page, the control block's ready word and heads, priority
 * queues, set_priority, the 2-level stash, and the guest's consumer.
 */
import { describe, expect, it } from 'vitest';
import { DOMID_SELF } from '../../src/core/abi/domid.js';
import {
  EVTCHN_FIFO_BUSY,
  EVTCHN_FIFO_CONTROL_BLOCK_SIZE,
  EVTCHN_FIFO_LINK_MASK,
  EVTCHN_FIFO_LINKED,
  EVTCHN_FIFO_MASKED,
  EVTCHN_FIFO_MAX_QUEUES,
  EVTCHN_FIFO_NR_CHANNELS,
  EVTCHN_FIFO_PENDING,
  EVTCHN_FIFO_PRIORITY_DEFAULT,
  EVTCHN_FIFO_PRIORITY_MAX,
  EVTCHN_FIFO_PRIORITY_MIN,
} from '../../src/core/abi/evtchn.js';
import { FIFO_CB_HEAD, FIFO_CB_READY, FIFO_CONTROL_BLOCK_LAYOUT } from '../../src/core/abi/layout.js';
import type { Domain } from '../../src/core/hv/domain.js';
import { FIRST_FREE_GFN, Hypervisor } from '../../src/core/hv/hypervisor.js';
import { DefaultKernel } from '../../src/core/guest/kernel.js';
import { addGuest, call, handled, kernel, newMachine, port, record, upcallPending } from './helpers.js';

const P = 2 ** 31;
const M = 2 ** 30;
const L = 2 ** 29;
const B = 2 ** 28;

const CB_GFN = FIRST_FREE_GFN; // vCPU 0's control block page; vCPU 1's is CB_GFN + 1
const CB_OFFSET = 64; // not 0, to check the block is placed at its offset
const ARRAY_GFN = FIRST_FREE_GFN + 10;

/** A 2-vCPU guest switched to FIFO by hand: control blocks at known gfns/offsets, one event-array page. */
function fifoGuest(opts: { vcpus?: number; controlBlocks?: number; pages?: number } = {}) {
  const { hv, dom0 } = newMachine();
  const g = addGuest(hv, { name: 'g', vcpus: opts.vcpus ?? 2 });
  const n = opts.controlBlocks ?? g.vcpus.length;
  for (let v = 0; v < n; v++) expect(call(hv, g, 'init_control', { control_gfn: CB_GFN + v, offset: CB_OFFSET, vcpu: v }).ret).toBe(0);
  for (let i = 0; i < (opts.pages ?? 1); i++) expect(call(hv, g, 'expand_array', { array_gfn: ARRAY_GFN + i }).ret).toBe(0);
  return { hv, dom0, g };
}

function pageView(d: Domain, gfn: number): DataView {
  const f = d.memory.frame(gfn)!;
  return new DataView(f.buffer, f.byteOffset, f.byteLength);
}

/** The event word of `p`, read little-endian from the guest's event-array page. */
function word(d: Domain, p: number): number {
  return pageView(d, ARRAY_GFN + (p >> 10)).getUint32(4 * (p & 1023), true);
}

function setWord(d: Domain, p: number, w: number): void {
  pageView(d, ARRAY_GFN + (p >> 10)).setUint32(4 * (p & 1023), w >>> 0, true);
}

function ready(d: Domain, v = 0): number {
  return pageView(d, CB_GFN + v).getUint32(CB_OFFSET + FIFO_CB_READY, true);
}

function head(d: Domain, q: number, v = 0): number {
  return pageView(d, CB_GFN + v).getUint32(CB_OFFSET + FIFO_CB_HEAD + 4 * q, true);
}

function hold(g: Domain): void {
  for (let v = 0; v < g.vcpus.length; v++) kernel(g).setUpcallMask(v, true);
}

function release(hv: Hypervisor, g: Domain): void {
  for (let v = 0; v < g.vcpus.length; v++) kernel(g).setUpcallMask(v, false);
  hv.run(100_000);
}

function ipis(hv: Hypervisor, g: Domain, n: number, vcpu = 0): number[] {
  return Array.from({ length: n }, () => port(call(hv, g, 'bind_ipi', { vcpu })));
}

describe('FIFO ABI constants and layout', () => {
  it('event word bits: PENDING 31, MASKED 30, LINKED 29, BUSY 28, LINK bits 0-16', () => {
    expect([EVTCHN_FIFO_PENDING, EVTCHN_FIFO_MASKED, EVTCHN_FIFO_LINKED, EVTCHN_FIFO_BUSY]).toEqual([31, 30, 29, 28]);
    expect(EVTCHN_FIFO_LINK_MASK).toBe(0x1ffff);
    expect(EVTCHN_FIFO_NR_CHANNELS).toBe(131072);
  });

  it('priorities: 0 highest, 7 default, 15 lowest, 16 queues', () => {
    expect([EVTCHN_FIFO_PRIORITY_MAX, EVTCHN_FIFO_PRIORITY_DEFAULT, EVTCHN_FIFO_PRIORITY_MIN, EVTCHN_FIFO_MAX_QUEUES]).toEqual([0, 7, 15, 16]);
  });

  it('the control block is 72 bytes: ready @0, _rsvd @4, head[q] @8+4q', () => {
    expect(EVTCHN_FIFO_CONTROL_BLOCK_SIZE).toBe(72);
    expect(FIFO_CB_READY).toBe(0);
    expect(FIFO_CB_HEAD).toBe(8);
    const last = FIFO_CONTROL_BLOCK_LAYOUT[FIFO_CONTROL_BLOCK_LAYOUT.length - 1]!;
    expect(last).toMatchObject({ field: 'head[15]', offset: 68, size: 4 });
    expect(last.offset + last.size).toBe(72);
  });
});

describe('Xen FIFO set pending (evtchn_fifo_set_pending)', () => {
  it('the first event on an empty queue sets P and L in its word, head[7] and ready bit 7 in the control block at its offset, and upcall_pending', () => {
    const { hv, g } = fifoGuest();
    hold(g);
    const [a] = ipis(hv, g, 1);
    expect(word(g, a!)).toBe(0);
    expect(call(hv, g, 'send', { port: a }).ret).toBe(0);
    expect(word(g, a!)).toBe((P | L) >>> 0);
    expect(head(g, 7)).toBe(a);
    expect(ready(g)).toBe(1 << 7);
    expect(upcallPending(g, 0)).toBe(1);
    // Nothing landed at offset 0 of the control page: the block is at CB_OFFSET.
    expect(pageView(g, CB_GFN).getUint32(0, true)).toBe(0);
  });

  it('a second event on the same queue is linked from the tail word (LINK = port); head, ready and upcall_pending do not change', () => {
    const { hv, g } = fifoGuest();
    hold(g);
    const [a, b, c] = ipis(hv, g, 3);
    call(hv, g, 'send', { port: a });
    g.sharedInfo[0] = 0; // the guest cleared upcall_pending; a second link must not set it
    call(hv, g, 'send', { port: b });
    call(hv, g, 'send', { port: c });
    expect(word(g, a!)).toBe((P | L | b!) >>> 0);
    expect(word(g, b!)).toBe((P | L | c!) >>> 0);
    expect(word(g, c!)).toBe((P | L) >>> 0);
    expect(head(g, 7)).toBe(a);
    expect(ready(g)).toBe(1 << 7);
    expect(upcallPending(g, 0)).toBe(0);
  });

  it('linking clears BUSY in the tail word', () => {
    const { hv, g } = fifoGuest();
    hold(g);
    const [a, b] = ipis(hv, g, 2);
    call(hv, g, 'send', { port: a });
    setWord(g, a!, word(g, a!) | B);
    call(hv, g, 'send', { port: b });
    expect(word(g, a!)).toBe((P | L | b!) >>> 0);
  });

  it('a masked event sets P only: not linked, no head, no ready bit, no upcall', () => {
    const { hv, g } = fifoGuest();
    hold(g);
    const [a] = ipis(hv, g, 1);
    setWord(g, a!, M);
    call(hv, g, 'send', { port: a });
    expect(word(g, a!)).toBe((P | M) >>> 0);
    expect(head(g, 7)).toBe(0);
    expect(ready(g)).toBe(0);
    expect(upcallPending(g, 0)).toBe(0);
  });

  it('an event that is already linked is not queued again', () => {
    const { hv, g } = fifoGuest();
    hold(g);
    const [a, b] = ipis(hv, g, 2);
    call(hv, g, 'send', { port: a });
    call(hv, g, 'send', { port: b });
    call(hv, g, 'send', { port: a });
    expect(word(g, a!)).toBe((P | L | b!) >>> 0);
    expect(word(g, b!)).toBe((P | L) >>> 0);
  });

  it('priorities pick the queue: priority 3 uses head[3] and ready bit 3', () => {
    const { hv, g } = fifoGuest();
    hold(g);
    const [a, b] = ipis(hv, g, 2);
    expect(call(hv, g, 'set_priority', { port: b, priority: 3 }).ret).toBe(0);
    call(hv, g, 'send', { port: a });
    call(hv, g, 'send', { port: b });
    expect(head(g, 7)).toBe(a);
    expect(head(g, 3)).toBe(b);
    expect(ready(g)).toBe((1 << 7) | (1 << 3));
    expect(word(g, a!) & EVTCHN_FIFO_LINK_MASK).toBe(0);
  });

  it('an event for a vCPU with another control block goes to that vCPU\'s queues', () => {
    const { hv, g } = fifoGuest();
    hold(g);
    const [a] = ipis(hv, g, 1, 1);
    call(hv, g, 'send', { port: a });
    expect(head(g, 7, 1)).toBe(a);
    expect(ready(g, 1)).toBe(1 << 7);
    expect(ready(g, 0)).toBe(0);
    expect(upcallPending(g, 1)).toBe(1);
    expect(upcallPending(g, 0)).toBe(0);
  });

  it('an event for a vCPU with no control block is dropped (P not set)', () => {
    const { hv, g } = fifoGuest({ controlBlocks: 1 });
    hold(g);
    const [a] = ipis(hv, g, 1, 1);
    call(hv, g, 'send', { port: a });
    expect(word(g, a!)).toBe(0);
    expect(upcallPending(g, 1)).toBe(0);
  });

  it('set_priority affects only future linking: an event already queued stays on its old queue', () => {
    const { hv, g } = fifoGuest();
    hold(g);
    const [a] = ipis(hv, g, 1);
    call(hv, g, 'send', { port: a });
    call(hv, g, 'set_priority', { port: a, priority: 2 });
    call(hv, g, 'send', { port: a });
    expect(head(g, 2)).toBe(0);
    expect(ready(g)).toBe(1 << 7);
    // Once the guest has consumed it, the next event goes to queue 2.
    release(hv, g);
    expect(kernel(g).deliveries(a!)).toBe(1);
    hold(g);
    call(hv, g, 'send', { port: a });
    expect(head(g, 2)).toBe(a);
    expect(ready(g)).toBe(1 << 2);
  });

  it('after the guest unlinked the tail, the queue counts as empty: the next event becomes the head again', () => {
    const { hv, g } = fifoGuest();
    const [a, b] = ipis(hv, g, 2);
    call(hv, g, 'send', { port: a });
    hv.run(100_000);
    expect(word(g, a!)).toBe(0);
    hold(g);
    call(hv, g, 'send', { port: b });
    expect(head(g, 7)).toBe(b);
    expect(word(g, a!)).toBe(0); // not linked from the stale tail
    expect(ready(g)).toBe(1 << 7);
  });

  it('an event moved to another queue invalidates its old tail, so the old queue does not link behind it', () => {
    const { hv, g } = fifoGuest();
    const [a, b] = ipis(hv, g, 2);
    call(hv, g, 'send', { port: a }); // a: tail of queue 7
    hv.run(100_000); // consumed
    hold(g);
    call(hv, g, 'set_priority', { port: a, priority: 3 });
    call(hv, g, 'send', { port: a }); // now linked on queue 3
    call(hv, g, 'send', { port: b }); // queue 7: must start a new list, not follow a
    expect(word(g, a!) & EVTCHN_FIFO_LINK_MASK).toBe(0);
    expect(head(g, 3)).toBe(a);
    expect(head(g, 7)).toBe(b);
    expect(ready(g)).toBe((1 << 3) | (1 << 7));
  });
});

describe('Xen FIFO unmask (evtchn_fifo_unmask)', () => {
  it('unmask clears M and links a pending event', () => {
    const { hv, g } = fifoGuest();
    hold(g);
    const [a] = ipis(hv, g, 1);
    setWord(g, a!, M);
    call(hv, g, 'send', { port: a });
    expect(call(hv, g, 'unmask', { port: a }).ret).toBe(0);
    expect(word(g, a!)).toBe((P | L) >>> 0);
    expect(head(g, 7)).toBe(a);
    expect(ready(g)).toBe(1 << 7);
  });

  it('unlike 2-level, a pending event is linked even when the guest had already cleared M itself', () => {
    const { hv, g } = fifoGuest();
    hold(g);
    const [a] = ipis(hv, g, 1);
    setWord(g, a!, M);
    call(hv, g, 'send', { port: a });
    setWord(g, a!, P); // guest cleared M locally
    call(hv, g, 'unmask', { port: a });
    expect(word(g, a!)).toBe((P | L) >>> 0);
    expect(ready(g)).toBe(1 << 7);
  });

  it('unmask of an event that is not pending only clears M', () => {
    const { hv, g } = fifoGuest();
    hold(g);
    const [a] = ipis(hv, g, 1);
    setWord(g, a!, M);
    call(hv, g, 'unmask', { port: a });
    expect(word(g, a!)).toBe(0);
    expect(ready(g)).toBe(0);
  });
});

describe('2-level pending carried over to FIFO (the pending stash)', () => {
  it('a port pending under 2-level at init_control is re-raised when expand_array adds its page', () => {
    const { hv } = newMachine();
    const g = addGuest(hv, { name: 'g' });
    kernel(g).setUpcallMask(0, true);
    const a = port(call(hv, g, 'bind_ipi', { vcpu: 0 }));
    const b = port(call(hv, g, 'bind_ipi', { vcpu: 0 }));
    call(hv, g, 'send', { port: a });
    g.sharedInfo[0] = 0;
    call(hv, g, 'init_control', { control_gfn: CB_GFN, offset: CB_OFFSET, vcpu: 0 });
    expect(g.ports.fifoStash[a]).toBe(1);
    expect(g.ports.fifoStash[b]).toBe(0);
    expect(upcallPending(g, 0)).toBe(0);
    expect(call(hv, g, 'expand_array', { array_gfn: ARRAY_GFN }).ret).toBe(0);
    expect(word(g, a)).toBe((P | L) >>> 0);
    expect(word(g, b)).toBe(0);
    expect(head(g, 7)).toBe(a);
    expect(ready(g)).toBe(1 << 7);
    expect(upcallPending(g, 0)).toBe(1);
    expect(g.ports.fifoStash[a]).toBe(0);
  });

  it('an event for a port beyond the event array is stashed, then raised and queued by expand_array', () => {
    // dom0 without a kernel: nothing adds event-array pages behind our back.
    const hv = new Hypervisor({ seed: 1 });
    const d0 = hv.createDomain({ name: 'dom0' });
    call(hv, d0, 'init_control', { control_gfn: CB_GFN, offset: CB_OFFSET, vcpu: 0 });
    call(hv, d0, 'expand_array', { array_gfn: ARRAY_GFN });
    for (let i = 1; i <= 1024; i++) call(hv, d0, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: DOMID_SELF });
    call(hv, d0, 'close', { port: 1023 });
    // Loopback 1023 <-> 1024: the bind marks 1023 pending (it has a word).
    expect(port(call(hv, d0, 'bind_interdomain', { remote_dom: DOMID_SELF, remote_port: 1024 }))).toBe(1023);
    expect(word(d0, 1023)).toBe((P | L) >>> 0);
    expect(call(hv, d0, 'send', { port: 1023 }).ret).toBe(0); // raises 1024: no word yet
    expect(d0.ports.fifoStash[1024]).toBe(1);
    expect(word(d0, 1023)).toBe((P | L) >>> 0);
    expect(call(hv, d0, 'expand_array', { array_gfn: ARRAY_GFN + 1 }).ret).toBe(0);
    expect(d0.ports.fifoStash[1024]).toBe(0);
    expect(word(d0, 1024)).toBe((P | L) >>> 0);
    expect(word(d0, 1023)).toBe((P | L | 1024) >>> 0); // appended behind the queue's tail
    expect(head(d0, 7)).toBe(1023);
  });
});

describe('close under FIFO', () => {
  it('close clears P only; a still-linked port is busy and skipped by allocation until the guest unlinks it', () => {
    const { hv, g } = fifoGuest();
    hold(g);
    const [a] = ipis(hv, g, 1);
    call(hv, g, 'send', { port: a });
    expect(call(hv, g, 'close', { port: a }).ret).toBe(0);
    expect(word(g, a!)).toBe(L);
    const next = port(call(hv, g, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 }));
    expect(next).toBe(a! + 1);
    release(hv, g); // the guest consumes the queue: unlinks a, does not handle it (P clear)
    expect(word(g, a!)).toBe(0);
    expect(kernel(g).deliveries(a!)).toBe(0);
    expect(port(call(hv, g, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 }))).toBe(a);
  });
});

describe('guest FIFO consumer (Linux evtchn_fifo_handle_events)', () => {
  it('consumes the highest priority (lowest number) first, FIFO within a priority', () => {
    const { hv, g } = fifoGuest();
    hold(g);
    const [a, b, c, d] = ipis(hv, g, 4);
    call(hv, g, 'set_priority', { port: a, priority: 9 });
    call(hv, g, 'set_priority', { port: b, priority: 2 });
    call(hv, g, 'set_priority', { port: d, priority: 2 });
    for (const p of [a, b, c, d]) call(hv, g, 'send', { port: p });
    expect(ready(g)).toBe((1 << 9) | (1 << 7) | (1 << 2));
    const store = record(hv);
    release(hv, g);
    expect(handled(store)).toEqual([b, d, c, a]);
    for (const p of [a, b, c, d]) expect(word(g, p!)).toBe(0);
    expect(ready(g)).toBe(0);
    expect(upcallPending(g, 0)).toBe(0);
  });

  it('a higher-priority event raised while a lower queue is being consumed is served before the rest of that queue', () => {
    const { hv } = newMachine();
    const ports: number[] = [];
    let raised = false;
    const g = hv.createDomain({ name: 'g' }, (h, d) => {
      const k = new DefaultKernel(h, d);
      const base = k.onEvent.bind(k);
      k.onEvent = (p: number, v: number) => {
        base(p, v);
        if (p === ports[0] && !raised) {
          raised = true;
          k.send(ports[2]!);
        }
      };
      return k;
    });
    call(hv, g, 'init_control', { control_gfn: CB_GFN, offset: CB_OFFSET, vcpu: 0 });
    call(hv, g, 'expand_array', { array_gfn: ARRAY_GFN });
    ports.push(...ipis(hv, g, 3));
    const [a1, a2, hi] = ports;
    call(hv, g, 'set_priority', { port: a1, priority: 9 });
    call(hv, g, 'set_priority', { port: a2, priority: 9 });
    call(hv, g, 'set_priority', { port: hi, priority: 1 });
    kernel(g).setUpcallMask(0, true);
    call(hv, g, 'send', { port: a1 });
    call(hv, g, 'send', { port: a2 });
    const store = record(hv);
    kernel(g).setUpcallMask(0, false);
    hv.run(100_000);
    expect(handled(store)).toEqual([a1, hi, a2]);
  });

  it('a masked event in a queue is unlinked but not handled; its P stays set', () => {
    const { hv, g } = fifoGuest();
    hold(g);
    const [a, b] = ipis(hv, g, 2);
    call(hv, g, 'send', { port: a });
    call(hv, g, 'send', { port: b });
    setWord(g, a!, word(g, a!) | M); // masked after being queued
    const store = record(hv);
    release(hv, g);
    expect(handled(store)).toEqual([b]);
    expect(word(g, a!)).toBe((P | M) >>> 0);
  });

  it('the default kernel switches to FIFO at boot: control block per vCPU and an event-array page, link_bits 17', () => {
    const { hv } = newMachine();
    const store = record(hv);
    const f = addGuest(hv, { abi: 'fifo', vcpus: 2 });
    hv.run(1);
    expect(f.ops.name).toBe('fifo');
    expect(f.fifoArray!.length).toBe(1);
    expect(f.vcpus.every((v) => v.fifo?.controlPage !== null)).toBe(true);
    const calls = [...store.records()].filter((r) => r.kind === 'hypercall' && r.dom === f.domid);
    expect(calls.map((r) => (r.kind === 'hypercall' ? `${r.op}:${r.ret}` : ''))).toEqual(['init_control:0', 'init_control:0', 'expand_array:0']);
    const a = port(call(hv, f, 'bind_ipi', { vcpu: 1 }));
    call(hv, f, 'send', { port: a });
    hv.run(100_000);
    expect(kernel(f).deliveries(a)).toBe(1);
  });
});
