/**
 * The 2-level event ABI, as xen/common/event_2l.c: a pending and a mask bit
 * per port in shared_info, and a per-vCPU selector with one bit per word.
 */
import { EVTCHN_2L_NR_CHANNELS } from '../abi/evtchn.js';
import { BIT, BY_XEN, TK } from '../sim/trace.js';
import type { Domain, Vcpu } from './domain.js';
import type { PortOps } from './port_ops.js';
import { markEventsPending, type EventContext } from './upcall.js';

export function make2lOps(ctx: EventContext): PortOps {
  const trace = ctx.trace;

  /** Sets the selector bit for `port` on `v`; true when it was clear. */
  function setSelector(d: Domain, v: Vcpu, port: number): boolean {
    const word = port >>> d.selShift;
    const at = v.selU32 + (word >>> 5);
    const bit = 1 << (word & 31);
    const s32 = d.shared32;
    if ((s32[at]! & bit) !== 0) return false;
    s32[at] = s32[at]! | bit;
    if (trace.on) trace.emit(TK.bit, d.domid, v.id, word, BIT.evtchn_pending_sel, 1, BY_XEN);
    return true;
  }

  return {
    name: '2l',
    maxPorts: EVTCHN_2L_NR_CHANNELS,

    // evtchn_2l_set_pending: pending bit, then selector and upcall unless masked.
    setPending(d, v, port) {
      const s32 = d.shared32;
      const w = port >>> 5;
      const bit = 1 << (port & 31);
      const old = s32[d.pendingU32 + w]!;
      if ((old & bit) !== 0) return; // already pending: events coalesce
      s32[d.pendingU32 + w] = old | bit;
      if (trace.on) trace.emit(TK.bit, d.domid, -1, port, BIT.evtchn_pending, 1, BY_XEN);
      if ((s32[d.maskU32 + w]! & bit) !== 0) return;
      if (setSelector(d, v, port)) markEventsPending(ctx, v);
    },

    clearPending(d, port) {
      const s32 = d.shared32;
      const w = d.pendingU32 + (port >>> 5);
      const bit = 1 << (port & 31);
      if ((s32[w]! & bit) === 0) return;
      s32[w] = s32[w]! & ~bit;
      if (trace.on) trace.emit(TK.bit, d.domid, -1, port, BIT.evtchn_pending, 0, BY_XEN);
    },

    // evtchn_2l_unmask: re-raise only if the mask bit was set and the port is pending.
    unmask(d, port) {
      const s32 = d.shared32;
      const w = port >>> 5;
      const bit = 1 << (port & 31);
      const mask = s32[d.maskU32 + w]!;
      if ((mask & bit) === 0) return;
      s32[d.maskU32 + w] = mask & ~bit;
      if (trace.on) trace.emit(TK.bit, d.domid, -1, port, BIT.evtchn_mask, 0, BY_XEN);
      if ((s32[d.pendingU32 + w]! & bit) === 0) return;
      const v = d.vcpus[d.ports.notifyVcpu[port]!]!;
      if (setSelector(d, v, port)) markEventsPending(ctx, v);
    },

    isPending(d, port) {
      return (d.shared32[d.pendingU32 + (port >>> 5)]! & (1 << (port & 31))) !== 0;
    },

    isMasked(d, port) {
      return (d.shared32[d.maskU32 + (port >>> 5)]! & (1 << (port & 31))) !== 0;
    },

    isBusy() {
      return false;
    },
  };
}
