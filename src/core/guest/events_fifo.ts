/**
 * The guest's FIFO consumer, as Linux's events_fifo.c: take the ready bits,
 * always serve the highest-priority ready queue next, one event at a time.
 */
import { EVTCHN_FIFO_LINK_MASK, FIFO_L, FIFO_M, FIFO_P } from '../abi/evtchn.js';
import { eventPage, CB_HEAD_U32, CB_READY_U32 } from '../hv/event_fifo.js';
import { BIT, BY_GUEST, TK } from '../sim/trace.js';
import type { Guest } from './guest.js';

/** xchg(control_block.ready, 0), with a trace record per cleared bit. */
function takeReady(g: Guest, vcpu: number, cb: Uint32Array, ci: number): number {
  const ready = cb[ci + CB_READY_U32]!;
  if (ready === 0) return 0;
  cb[ci + CB_READY_U32] = 0;
  const trace = g.hv.trace;
  if (trace.on) for (let q = 0; q < 16; q++) if ((ready >>> q) & 1) trace.emit(TK.bit, g.d.domid, vcpu, q, BIT.fifo_ready, 0, BY_GUEST);
  return ready;
}

/** consume_one_event: unlink the head of queue q; returns the ready set with q cleared when it drained. */
function consumeOne(g: Guest, vcpu: number, cb: Uint32Array, ci: number, q: number, ready: number): number {
  const heads = g.fifoHeads[vcpu]!;
  let head = heads[q]!;
  if (head === 0) head = cb[ci + CB_HEAD_U32 + q]!;
  const port = head;
  const page = eventPage(g.d, port);
  if (page === undefined || port === 0) {
    heads[q] = 0;
    return ready & ~(1 << q);
  }
  const i = port & 1023;
  const w = page[i]!;
  const next = w & EVTCHN_FIFO_LINK_MASK;
  // Clear LINKED and LINK together, reading the old link.
  page[i] = (w & ~(FIFO_L | EVTCHN_FIFO_LINK_MASK)) >>> 0;
  const trace = g.hv.trace;
  if (trace.on) trace.emit(TK.bit, g.d.domid, -1, port, BIT.fifo_linked, 0, BY_GUEST);
  if (next === 0) ready &= ~(1 << q);
  if ((w & FIFO_P) !== 0 && (w & FIFO_M) === 0) {
    page[i] = page[i]! & ~FIFO_P;
    if (trace.on) trace.emit(TK.bit, g.d.domid, -1, port, BIT.fifo_pending, 0, BY_GUEST);
    g.onEvent(port, vcpu);
  }
  heads[q] = next;
  return ready;
}

/** evtchn_fifo_handle_events for one vCPU. */
export function handleEventsFifo(g: Guest, vcpu: number): void {
  const fv = g.d.vcpus[vcpu]!.fifo;
  if (fv === null || fv.controlPage === null) return;
  const cb = fv.controlPage;
  const ci = fv.controlIndex;
  let ready = takeReady(g, vcpu, cb, ci);
  while (ready !== 0) {
    const q = 31 - Math.clz32(ready & -ready); // lowest bit = highest priority
    ready = consumeOne(g, vcpu, cb, ci, q, ready);
    ready |= takeReady(g, vcpu, cb, ci);
  }
}
