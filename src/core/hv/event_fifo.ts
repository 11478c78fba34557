/**
 * The FIFO event ABI, as xen/common/event_fifo.c: one 32-bit event word per
 * port in guest-provided array pages, and per vCPU 16 priority queues whose
 * heads and ready bits live in a guest control block.
 */
import {
  EVTCHN_FIFO_CONTROL_BLOCK_SIZE,
  EVTCHN_FIFO_EVENT_WORDS_PER_PAGE,
  EVTCHN_FIFO_LINK_MASK,
  EVTCHN_FIFO_NR_CHANNELS,
  FIFO_B,
  FIFO_L,
  FIFO_M,
  FIFO_P,
} from '../abi/evtchn.js';
import { FIFO_CB_HEAD, FIFO_CB_READY } from '../abi/layout.js';
import { BIT, BY_XEN, TK } from '../sim/trace.js';
import type { Domain, Vcpu } from './domain.js';
import type { PortOps } from './port_ops.js';
import { markEventsPending, type EventContext } from './upcall.js';

export const CB_READY_U32 = FIFO_CB_READY >> 2;
export const CB_HEAD_U32 = FIFO_CB_HEAD >> 2;
export { EVTCHN_FIFO_CONTROL_BLOCK_SIZE };

/** The event-word page holding `port`, or undefined when the array does not reach it yet. */
export function eventPage(d: Domain, port: number): Uint32Array | undefined {
  return d.fifoArray?.[port >>> 10];
}

export function makeFifoOps(ctx: EventContext): PortOps {
  const trace = ctx.trace;

  /** Writes `port` into the LINK field of the word of `tail` if it is still linked. */
  function trySetLink(d: Domain, tail: number, port: number): boolean {
    const page = eventPage(d, tail);
    if (page === undefined) return false;
    const i = tail & (EVTCHN_FIFO_EVENT_WORDS_PER_PAGE - 1);
    const w = page[i]!;
    // The guest unlinked the tail: the queue is empty (Xen never sees it consume).
    if ((w & FIFO_L) === 0) return false;
    // Xen holds BUSY while it rewrites LINK so the guest cannot unmask meanwhile.
    page[i] = ((w & ~(FIFO_B | EVTCHN_FIFO_LINK_MASK)) | port) >>> 0;
    if (trace.on) trace.emit(TK.bit, d.domid, -1, tail, BIT.fifo_link, port, BY_XEN);
    return true;
  }

  function setPending(d: Domain, v: Vcpu, port: number): void {
    const page = eventPage(d, port);
    const ports = d.ports;
    if (page === undefined) {
      ports.fifoStash[port] = 1; // re-raised when expand_array adds the page
      return;
    }
    const fv = v.fifo;
    // No control block: the guest must not unmask before it has one, so drop.
    if (fv === null || fv.controlPage === null) return;
    const i = port & (EVTCHN_FIFO_EVENT_WORDS_PER_PAGE - 1);
    let w = page[i]!;
    if ((w & FIFO_P) === 0) {
      w = (w | FIFO_P) >>> 0;
      page[i] = w;
      if (trace.on) trace.emit(TK.bit, d.domid, -1, port, BIT.fifo_pending, 1, BY_XEN);
    }
    if ((w & (FIFO_M | FIFO_L)) !== 0) return; // masked, or already queued
    page[i] = (w | FIFO_L) >>> 0;
    if (trace.on) trace.emit(TK.bit, d.domid, -1, port, BIT.fifo_linked, 1, BY_XEN);

    const prio = ports.priority[port]!;
    // If the event was the tail of the queue it was last on, that queue forgets it.
    const lastV = d.vcpus[ports.lastVcpu[port]!]!;
    const lastTails = lastV.fifo?.tails;
    const lastPrio = ports.lastPriority[port]!;
    if (lastTails !== undefined && lastTails[lastPrio] === port) lastTails[lastPrio] = 0;
    ports.lastVcpu[port] = v.id;
    ports.lastPriority[port] = prio;

    const tails = fv.tails;
    const tail = tails[prio]!;
    const linked = tail !== 0 && trySetLink(d, tail, port);
    tails[prio] = port;
    if (linked) return;

    const cb = fv.controlPage;
    const ci = fv.controlIndex;
    cb[ci + CB_HEAD_U32 + prio] = port;
    if (trace.on) trace.emit(TK.bit, d.domid, v.id, prio, BIT.fifo_head, port, BY_XEN);
    const ready = cb[ci + CB_READY_U32]!;
    const bit = 1 << prio;
    if ((ready & bit) !== 0) return;
    cb[ci + CB_READY_U32] = (ready | bit) >>> 0;
    if (trace.on) trace.emit(TK.bit, d.domid, v.id, prio, BIT.fifo_ready, 1, BY_XEN);
    markEventsPending(ctx, v);
  }

  return {
    name: 'fifo',
    maxPorts: EVTCHN_FIFO_NR_CHANNELS,
    setPending,

    // Just clear P: the guest unlinks and skips non-pending events itself.
    clearPending(d, port) {
      d.ports.fifoStash[port] = 0;
      const page = eventPage(d, port);
      if (page === undefined) return;
      const i = port & (EVTCHN_FIFO_EVENT_WORDS_PER_PAGE - 1);
      const w = page[i]!;
      if ((w & FIFO_P) === 0) return;
      page[i] = (w & ~FIFO_P) >>> 0;
      if (trace.on) trace.emit(TK.bit, d.domid, -1, port, BIT.fifo_pending, 0, BY_XEN);
    },

    // Clear M; a pending event is linked now (no "was masked" test, unlike 2-level).
    unmask(d, port) {
      const page = eventPage(d, port);
      if (page === undefined) return;
      const i = port & (EVTCHN_FIFO_EVENT_WORDS_PER_PAGE - 1);
      const w = page[i]!;
      if ((w & FIFO_M) !== 0) {
        page[i] = (w & ~FIFO_M) >>> 0;
        if (trace.on) trace.emit(TK.bit, d.domid, -1, port, BIT.fifo_masked, 0, BY_XEN);
      }
      if ((page[i]! & FIFO_P) !== 0) setPending(d, d.vcpus[d.ports.notifyVcpu[port]!]!, port);
    },

    isPending(d, port) {
      const page = eventPage(d, port);
      return page !== undefined && (page[port & 1023]! & FIFO_P) !== 0;
    },

    isMasked(d, port) {
      const page = eventPage(d, port);
      return page === undefined || (page[port & 1023]! & FIFO_M) !== 0;
    },

    isBusy(d, port) {
      const page = eventPage(d, port);
      return page !== undefined && (page[port & 1023]! & FIFO_L) !== 0;
    },
  };
}
