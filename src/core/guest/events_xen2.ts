/**
 * XenLinux 2.0's side of event channels (arch/xen/kernel/evtchn.c and
 * include/asm-xen/evtchn.h in the 2.0.0 sparse trees): the upcall loop over
 * the one 32-bit selector, lowest word and lowest port first with no
 * remembered position, and the mask / unmask / clear / notify helpers.
 */
import { BIT, BY_GUEST, TK } from '../sim/trace.js';
import type { Guest } from './guest.js';

/** Index of the lowest set bit of a non-zero 32-bit value (ffs - 1). */
function lowestBit(x: number): number {
  return 31 - Math.clz32(x & -x);
}

/**
 * evtchn_do_upcall. While vcpu_data[0].evtchn_upcall_pending is set: clear
 * it, exchange evtchn_pending_sel with 0, and for each selector bit w, lowest
 * first, take pending[w] & ~mask[w] once and handle its ports lowest first.
 * Handling a port is its IRQ's ack (the pending bit cleared) then its handler.
 */
export function evtchnDoUpcallXen2(g: Guest): void {
  const d = g.d;
  const s32 = d.shared32;
  const si = d.sharedInfo;
  const v = d.vcpus[0]!;
  const trace = g.hv.trace;
  const pendingU32 = d.pendingU32;
  const maskU32 = d.maskU32;
  const sel = v.selU32;
  while (si[v.upcallAt] !== 0) {
    g.clearUpcallPending(0);
    let l1 = s32[sel]!;
    if (l1 === 0) continue;
    s32[sel] = 0; // xchg(&evtchn_pending_sel, 0)
    if (trace.on) for (let m = l1; m !== 0; m &= m - 1) trace.emit(TK.bit, d.domid, 0, lowestBit(m), BIT.evtchn_pending_sel, 0, BY_GUEST);
    while (l1 !== 0) {
      const w = lowestBit(l1);
      l1 &= l1 - 1;
      let l2 = s32[pendingU32 + w]! & ~s32[maskU32 + w]!;
      while (l2 !== 0) {
        const port = (w << 5) + lowestBit(l2);
        l2 &= l2 - 1;
        g.clearPending2l(port);
        g.onEvent(port, 0);
      }
    }
  }
}

/** mask_evtchn: set the port's mask bit. */
export function maskEvtchnXen2(g: Guest, port: number): void {
  g.maskPort(port);
}

/** clear_evtchn: clear the port's pending bit. */
export function clearEvtchnXen2(g: Guest, port: number): void {
  g.clearPending2l(port);
}

/**
 * unmask_evtchn: clear the mask bit, then make up for an edge lost while it
 * was masked: if the port is pending and its selector bit was clear, set the
 * selector bit and upcall_pending, and if upcalls are enabled force the
 * callback (in 2.0 a cheap hypercall, after which Xen sees the pending upcall).
 */
export function unmaskEvtchnXen2(g: Guest, port: number): void {
  const d = g.d;
  if (!g.clearMask(port)) return;
  const s32 = d.shared32;
  const w = port >>> 5;
  if ((s32[d.pendingU32 + w]! & (1 << (port & 31))) === 0) return;
  const v = d.vcpus[0]!;
  const selBit = 1 << w;
  if ((s32[v.selU32]! & selBit) !== 0) return;
  s32[v.selU32] = s32[v.selU32]! | selBit;
  const trace = g.hv.trace;
  if (trace.on) trace.emit(TK.bit, d.domid, 0, w, BIT.evtchn_pending_sel, 1, BY_GUEST);
  const si = d.sharedInfo;
  if (si[v.upcallAt] === 0) {
    si[v.upcallAt] = 1;
    if (trace.on) trace.emit(TK.bit, d.domid, 0, -1, BIT.evtchn_upcall_pending, 1, BY_GUEST);
  }
  if (si[v.upcallAt + 1] === 0) g.hv.kick(v);
}

/** notify_via_evtchn: EVTCHNOP_send on the guest's end of the channel. */
export function notifyViaEvtchnXen2(g: Guest, port: number): number {
  return g.send(port);
}
