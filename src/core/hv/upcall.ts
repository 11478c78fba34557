/**
 * vcpu_mark_events_pending and the upcall injection that follows it
 * (xen/arch/x86/domain.c, x86_64/entry.S), for a PV guest.
 */
import { BIT, BY_GUEST, BY_XEN, TK, type Trace } from '../sim/trace.js';
import type { Domain, Vcpu } from './domain.js';

/** What the ABI code needs from the machine: the trace and a way to kick a vCPU. */
export interface EventContext {
  readonly trace: Trace;
  /** Queue an upcall on `v` unless one is queued already. */
  kick(v: Vcpu): void;
}

/** Sets evtchn_upcall_pending; only a 0 -> 1 change kicks the vCPU. */
export function markEventsPending(ctx: EventContext, v: Vcpu): void {
  const si = v.domain.sharedInfo;
  const at = v.upcallAt;
  if (si[at] !== 0) return;
  si[at] = 1;
  if (ctx.trace.on) ctx.trace.emit(TK.bit, v.domain.domid, v.id, -1, BIT.evtchn_upcall_pending, 1, BY_XEN);
  ctx.kick(v);
}

/** Xen injects the callback only if upcall_pending is set and upcall_mask is clear. */
export function upcallDeliverable(v: Vcpu): boolean {
  const si = v.domain.sharedInfo;
  return si[v.upcallAt] !== 0 && si[v.upcallAt + 1] === 0;
}

/**
 * Injects the event callback into the guest: Xen sets upcall_mask while the
 * guest runs its handler; the guest's iret restores it.
 */
export function injectUpcall(ctx: EventContext, d: Domain, v: Vcpu): void {
  const si = d.sharedInfo;
  const maskAt = v.upcallAt + 1;
  const trace = ctx.trace;
  si[maskAt] = 1;
  if (trace.on) {
    trace.emit(TK.bit, d.domid, v.id, -1, BIT.evtchn_upcall_mask, 1, BY_XEN);
    trace.emit(TK.upcall, d.domid, v.id, -1, 0, 0, 0);
  }
  d.kernel?.upcall(v.id);
  // The guest's iret re-enables events (mask = !IF = 0).
  if (si[maskAt] !== 0) {
    si[maskAt] = 0;
    if (trace.on) trace.emit(TK.bit, d.domid, v.id, -1, BIT.evtchn_upcall_mask, 0, BY_GUEST);
  }
}
