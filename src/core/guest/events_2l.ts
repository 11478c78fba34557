/**
 * The guest's 2-level dispatch, as Linux's events_2l.c does it: harvest the
 * selector, then scan from where the last scan stopped so that a busy low
 * port cannot starve the others.
 */
import { BIT, BY_GUEST, TK } from '../sim/trace.js';
import type { Guest } from './guest.js';

/** Lowest set bit at or above `from` in the 64-bit value (lo, hi), or -1. */
function firstBitFrom(lo: number, hi: number, from: number): number {
  if (from < 32) {
    const m = lo & (-1 << from);
    if (m !== 0) return 31 - Math.clz32(m & -m);
    from = 32;
  }
  const m = hi & (-1 << (from - 32));
  return m !== 0 ? 63 - Math.clz32(m & -m) : -1;
}

/** One port: ack (clear pending) then the handler, as handle_irq_for_port. */
function handlePort(g: Guest, port: number, vcpu: number): void {
  g.clearPending2l(port);
  g.onEvent(port, vcpu);
}

/** evtchn_2l_handle_events for one vCPU. */
export function handleEvents2l(g: Guest, vcpu: number): void {
  const d = g.d;
  const s32 = d.shared32;
  const v = d.vcpus[vcpu]!;
  const cpu = g.cpuMask[vcpu]!;

  // The timer comes first.
  const timer = g.timerPort[vcpu]!;
  if (timer !== 0) {
    const w = timer >>> 5;
    const bit = 1 << (timer & 31);
    if ((s32[d.pendingU32 + w]! & ~s32[d.maskU32 + w]! & cpu[w]! & bit) !== 0) handlePort(g, timer, vcpu);
  }

  // xchg(evtchn_pending_sel, 0)
  let selLo = s32[v.selU32]!;
  let selHi = s32[v.selU32 + 1]!;
  if ((selLo | selHi) === 0) return;
  s32[v.selU32] = 0;
  s32[v.selU32 + 1] = 0;
  const trace = g.hv.trace;
  if (trace.on) {
    // A record per selector bit taken, lowest word first (visits only the set bits).
    for (let m = selLo; m !== 0; m &= m - 1) trace.emit(TK.bit, d.domid, vcpu, 31 - Math.clz32(m & -m), BIT.evtchn_pending_sel, 0, BY_GUEST);
    for (let m = selHi; m !== 0; m &= m - 1) trace.emit(TK.bit, d.domid, vcpu, 63 - Math.clz32(m & -m), BIT.evtchn_pending_sel, 0, BY_GUEST);
  }

  const pos = g.scan[vcpu]!;
  const startWord = pos.word;
  const startBit = pos.bit;
  let wordIdx = startWord;
  for (let i = 0; (selLo | selHi) !== 0; i++) {
    const w = firstBitFrom(selLo, selHi, wordIdx);
    if (w < 0) {
      wordIdx = 0; // nothing at or above: wrap around
      continue;
    }
    // Active bits of this 64-bit word: pending, unmasked, routed to this vCPU.
    const lo = 2 * w;
    const bitsLo = s32[d.pendingU32 + lo]! & ~s32[d.maskU32 + lo]! & cpu[lo]!;
    const bitsHi = s32[d.pendingU32 + lo + 1]! & ~s32[d.maskU32 + lo + 1]! & cpu[lo + 1]!;
    // The starting word is scanned twice: first from the saved bit up, later from bit 0.
    let bitIdx = w === startWord && i === 0 ? startBit : 0;
    do {
      const b = firstBitFrom(bitsLo, bitsHi, bitIdx);
      if (b < 0) break;
      handlePort(g, w * 64 + b, vcpu);
      bitIdx = (b + 1) & 63;
      pos.word = bitIdx !== 0 ? w : (w + 1) & 63;
      pos.bit = bitIdx;
    } while (bitIdx !== 0);
    if (w !== startWord || i !== 0) {
      if (w < 32) selLo &= ~(1 << w);
      else selHi &= ~(1 << (w - 32));
    }
    wordIdx = (w + 1) & 63;
  }
}
