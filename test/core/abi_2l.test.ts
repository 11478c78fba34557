/**
 * The 2-level ABI at the byte level (reference section 5): Xen's set-pending
 * and unmask (xen/common/event_2l.c), vcpu_mark_events_pending and the PV
 * upcall injection (xen/arch/x86/domain.c, x86_64/entry.S), and the guest's
 * Linux-style dispatch (drivers/xen/events/events_2l.c, events_base.c).
 * Everything is read from the 4 KiB shared_info page at the x86-64 offsets.
 */
import { describe, expect, it } from 'vitest';
import { DOMID_SELF } from '../../src/core/abi/domid.js';
import { VIRQ_TIMER } from '../../src/core/abi/evtchn.js';
import { PAGE_SIZE, SHARED_INFO_EVTCHN_MASK, SHARED_INFO_EVTCHN_PENDING, VCPU_INFO_PENDING_SEL, VCPU_INFO_SIZE, VCPU_INFO_UPCALL_MASK, VCPU_INFO_UPCALL_PENDING } from '../../src/core/abi/layout.js';
import type { Domain } from '../../src/core/hv/domain.js';
import * as evtchn from '../../src/core/hv/event_channel.js';
import type { Hypervisor } from '../../src/core/hv/hypervisor.js';
import { DefaultKernel } from '../../src/core/guest/kernel.js';
import { addGuest, call, handled, kernel, maskBit, newMachine, pendingBit, pendingSel, port, record, records, upcallMask, upcallPending, writeMaskBit } from './helpers.js';

/** A guest (domid 1, 2 vCPUs) with IPI ports 1..n, all bound to `vcpu`. */
function guestWithIpis(n: number, vcpu = 0) {
  const { hv, dom0 } = newMachine();
  const g = addGuest(hv, { name: 'g', vcpus: 2 });
  for (let i = 1; i <= n; i++) expect(port(call(hv, g, 'bind_ipi', { vcpu }))).toBe(i);
  return { hv, dom0, g };
}

/** Raw byte reads at the documented offsets, not through the helpers' bit math. */
function byte(d: Domain, offset: number): number {
  return d.sharedInfo[offset]!;
}

function holdUpcalls(g: Domain): void {
  for (let v = 0; v < g.vcpus.length; v++) kernel(g).setUpcallMask(v, true);
}

function releaseUpcalls(hv: Hypervisor, g: Domain): void {
  for (let v = 0; v < g.vcpus.length; v++) kernel(g).setUpcallMask(v, false);
  hv.run(100_000);
}

describe('2-level layout', () => {
  it('evtchn_pending is at 2048, evtchn_mask at 2560, vcpu_info[v] at 64*v with upcall_pending @0, upcall_mask @1, pending_sel @8', () => {
    expect(SHARED_INFO_EVTCHN_PENDING).toBe(2048);
    expect(SHARED_INFO_EVTCHN_MASK).toBe(2560);
    expect(VCPU_INFO_SIZE).toBe(64);
    expect([VCPU_INFO_UPCALL_PENDING, VCPU_INFO_UPCALL_MASK, VCPU_INFO_PENDING_SEL]).toEqual([0, 1, 8]);
    const { g } = guestWithIpis(0);
    expect(g.sharedInfo.byteLength).toBe(PAGE_SIZE);
    expect(g.vcpus[1]!.upcallAt).toBe(64); // vcpu_info[1].evtchn_upcall_pending
    expect(g.vcpus[1]!.selU32 * 4).toBe(64 + 8); // vcpu_info[1].evtchn_pending_sel
  });

  it('a pending port p sets bit p%8 of byte 2048 + p/8, selector bit p/64 of vcpu_info.pending_sel (a 64-bit LE word at +8), and upcall_pending', () => {
    const { hv, g } = guestWithIpis(70, 1); // port 70: word 1, bit 6
    holdUpcalls(g);
    expect(call(hv, g, 'send', { port: 70 }).ret).toBe(0);
    expect(byte(g, 2048 + 8)).toBe(1 << 6);
    // vCPU 1's vcpu_info starts at byte 64: selector word at 72 has bit 1 (word 1) set, upcall_pending at 64.
    expect(byte(g, 72)).toBe(0b10);
    for (let i = 73; i < 80; i++) expect(byte(g, i)).toBe(0);
    expect(byte(g, 64)).toBe(1);
    // vCPU 0's fields are untouched.
    expect(byte(g, 0)).toBe(0);
    expect(pendingSel(g, 0)).toBe(0n);
    expect(pendingSel(g, 1)).toBe(2n);
  });

  it('port 4095 maps to the last bit of the 512-byte pending array and selector bit 63 (the high byte of the 64-bit word)', () => {
    const { hv, dom0 } = newMachine();
    for (let i = 1; i <= 4095; i++) call(hv, dom0, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: DOMID_SELF });
    kernel(dom0).setUpcallMask(0, true);
    // 4094 and 4095 are both unbound; connect a loopback so a send lands on 4095.
    call(hv, dom0, 'close', { port: 4094 });
    expect(port(call(hv, dom0, 'bind_interdomain', { remote_dom: DOMID_SELF, remote_port: 4095 }))).toBe(4094);
    dom0.sharedInfo.fill(0, 2048, 2560); // forget the pending bit the bind set
    dom0.sharedInfo[0] = 0;
    dom0.sharedInfo.fill(0, 8, 16);
    call(hv, dom0, 'send', { port: 4094 });
    expect(byte(dom0, 2048 + 511)).toBe(0x80);
    expect(byte(dom0, 15)).toBe(0x80); // selector byte 7, bit 7 = word 63
    expect(pendingSel(dom0, 0)).toBe(1n << 63n);
  });
});

describe('Xen 2-level set pending (evtchn_2l_set_pending)', () => {
  it('a masked port gets its pending bit but no selector bit and no upcall', () => {
    const { hv, g } = guestWithIpis(3);
    writeMaskBit(g, 2, 1);
    expect(byte(g, 2560)).toBe(1 << 2);
    call(hv, g, 'send', { port: 2 });
    expect(pendingBit(g, 2)).toBe(1);
    expect(pendingSel(g, 0)).toBe(0n);
    expect(upcallPending(g, 0)).toBe(0);
  });

  it('a port whose selector bit is already set gets only its pending bit, even with upcall_pending clear', () => {
    const { hv, g } = guestWithIpis(3);
    holdUpcalls(g);
    call(hv, g, 'send', { port: 1 });
    expect(pendingSel(g, 0)).toBe(1n);
    g.sharedInfo[0] = 0; // the guest cleared upcall_pending but has not harvested the selector
    call(hv, g, 'send', { port: 3 });
    expect(pendingBit(g, 3)).toBe(1);
    expect(upcallPending(g, 0)).toBe(0);
  });

  it('an already pending port coalesces: nothing else changes', () => {
    const { hv, g } = guestWithIpis(3);
    holdUpcalls(g);
    call(hv, g, 'send', { port: 1 });
    // The guest took the selector and upcall flag but not the pending bit.
    g.sharedInfo[0] = 0;
    g.sharedInfo.fill(0, 8, 16);
    call(hv, g, 'send', { port: 1 });
    expect(pendingBit(g, 1)).toBe(1);
    expect(pendingSel(g, 0)).toBe(0n);
    expect(upcallPending(g, 0)).toBe(0);
  });

  it('upcall_mask is not consulted when setting upcall_pending', () => {
    const { hv, g } = guestWithIpis(1);
    holdUpcalls(g);
    expect(upcallMask(g, 0)).toBe(1);
    call(hv, g, 'send', { port: 1 });
    expect(upcallPending(g, 0)).toBe(1);
  });

  it('selector bits are per word: ports 1 and 65 set selector bits 0 and 1', () => {
    const { hv, g } = guestWithIpis(65);
    holdUpcalls(g);
    call(hv, g, 'send', { port: 1 });
    call(hv, g, 'send', { port: 65 });
    expect(pendingSel(g, 0)).toBe(3n);
    expect(byte(g, 2048)).toBe(2);
    expect(byte(g, 2048 + 8)).toBe(2);
  });

  it('Xen never touches the mask bit on bind or close', () => {
    const { hv, g } = guestWithIpis(0);
    writeMaskBit(g, 1, 1);
    const p = port(call(hv, g, 'bind_ipi', { vcpu: 0 }));
    expect(maskBit(g, p)).toBe(1);
    call(hv, g, 'close', { port: p });
    expect(maskBit(g, p)).toBe(1);
  });
});

describe('Xen 2-level unmask (evtchn_2l_unmask)', () => {
  it('a masked pending port is re-raised: mask cleared, selector set, upcall_pending set', () => {
    const { hv, g } = guestWithIpis(2);
    holdUpcalls(g);
    writeMaskBit(g, 2, 1);
    call(hv, g, 'send', { port: 2 });
    expect(pendingSel(g, 0)).toBe(0n);
    expect(call(hv, g, 'unmask', { port: 2 }).ret).toBe(0);
    expect(maskBit(g, 2)).toBe(0);
    expect(pendingSel(g, 0)).toBe(1n);
    expect(upcallPending(g, 0)).toBe(1);
  });

  it('unmask re-raises only when the mask bit was set: a guest that cleared it itself gets nothing', () => {
    const { hv, g } = guestWithIpis(2);
    holdUpcalls(g);
    writeMaskBit(g, 2, 1);
    call(hv, g, 'send', { port: 2 });
    writeMaskBit(g, 2, 0); // cleared by the guest, not by the hypercall
    expect(call(hv, g, 'unmask', { port: 2 }).ret).toBe(0);
    expect(pendingSel(g, 0)).toBe(0n);
    expect(upcallPending(g, 0)).toBe(0);
  });

  it('unmask of a masked port that is not pending only clears the mask bit', () => {
    const { hv, g } = guestWithIpis(2);
    holdUpcalls(g);
    writeMaskBit(g, 2, 1);
    call(hv, g, 'unmask', { port: 2 });
    expect(maskBit(g, 2)).toBe(0);
    expect(pendingSel(g, 0)).toBe(0n);
    expect(upcallPending(g, 0)).toBe(0);
  });

  it("unmask raises the selector on the port's notify vCPU", () => {
    const { hv, g } = guestWithIpis(2, 1);
    holdUpcalls(g);
    writeMaskBit(g, 2, 1);
    call(hv, g, 'send', { port: 2 });
    call(hv, g, 'unmask', { port: 2 });
    expect(pendingSel(g, 1)).toBe(1n);
    expect(upcallPending(g, 1)).toBe(1);
    expect(pendingSel(g, 0)).toBe(0n);
  });

  it('unmask with the selector bit already set does not raise upcall_pending again', () => {
    const { hv, g } = guestWithIpis(2);
    holdUpcalls(g);
    call(hv, g, 'send', { port: 1 });
    writeMaskBit(g, 2, 1);
    call(hv, g, 'send', { port: 2 });
    g.sharedInfo[0] = 0;
    call(hv, g, 'unmask', { port: 2 });
    expect(maskBit(g, 2)).toBe(0);
    expect(upcallPending(g, 0)).toBe(0);
  });
});

describe('upcall delivery and guest dispatch', () => {
  it('the domain builder leaves every vcpu_info with upcall_mask = 1; DefaultKernel boot clears it on its vCPUs', () => {
    const { hv } = newMachine();
    const raw = addGuest(hv, { noKernel: true, vcpus: 2 });
    for (let v = 0; v < 32; v++) expect(upcallMask(raw, v)).toBe(1);
    const g = addGuest(hv, { vcpus: 2 });
    expect([upcallMask(g, 0), upcallMask(g, 1), upcallMask(g, 2)]).toEqual([0, 0, 1]);
  });

  it('an upcall is delivered only while upcall_mask is clear; clearing it delivers the held event', () => {
    const { hv, g } = guestWithIpis(1);
    holdUpcalls(g);
    call(hv, g, 'send', { port: 1 });
    hv.run(1_000_000);
    expect(kernel(g).deliveries(1)).toBe(0);
    expect(upcallPending(g, 0)).toBe(1);
    kernel(g).setUpcallMask(0, false);
    hv.run(1_000_000);
    expect(kernel(g).deliveries(1)).toBe(1);
  });

  it('upcalls are delivered only as virtual time advances', () => {
    const { hv, g } = guestWithIpis(1);
    call(hv, g, 'send', { port: 1 });
    expect(kernel(g).deliveries(1)).toBe(0);
    hv.run(999); // latency is at least 1000 ns
    expect(kernel(g).deliveries(1)).toBe(0);
    hv.run(1000);
    expect(kernel(g).deliveries(1)).toBe(1);
  });

  it('the guest dispatch clears the pending bit, the selector and upcall_pending; Xen masks upcalls during the handler and iret restores', () => {
    const { hv, g } = guestWithIpis(70);
    const store = record(hv);
    call(hv, g, 'send', { port: 70 });
    hv.run(100_000);
    expect(kernel(g).deliveries(70)).toBe(1);
    expect(pendingBit(g, 70)).toBe(0);
    expect(pendingSel(g, 0)).toBe(0n);
    expect(upcallPending(g, 0)).toBe(0);
    expect(upcallMask(g, 0)).toBe(0);
    const bits = records(store).filter((r) => r.kind === 'bit' || r.kind === 'upcall' || r.kind === 'handler').map((r) => (r.kind === 'bit' ? `${r.field}=${r.value}:${r.by}` : r.kind));
    expect(bits).toEqual([
      'evtchn_pending=1:xen',
      'evtchn_pending_sel=1:xen',
      'evtchn_upcall_pending=1:xen',
      'evtchn_upcall_mask=1:xen',
      'upcall',
      'evtchn_upcall_pending=0:guest',
      'evtchn_pending_sel=0:guest',
      'evtchn_pending=0:guest',
      'handler',
      'evtchn_upcall_mask=0:guest',
    ]);
  });

  it('a masked port is not dispatched even when its word is scanned', () => {
    const { hv, g } = guestWithIpis(2);
    writeMaskBit(g, 2, 1);
    call(hv, g, 'send', { port: 2 });
    call(hv, g, 'send', { port: 1 });
    hv.run(100_000);
    expect(kernel(g).deliveries(1)).toBe(1);
    expect(kernel(g).deliveries(2)).toBe(0);
    expect(pendingBit(g, 2)).toBe(1);
  });

  it('events coalesce: two sends before the upcall give one delivery', () => {
    const { hv, g } = guestWithIpis(1);
    call(hv, g, 'send', { port: 1 });
    call(hv, g, 'send', { port: 1 });
    hv.run(100_000);
    expect(kernel(g).deliveries(1)).toBe(1);
  });

  it('a pause delays the upcall until unpause', () => {
    const { hv, g } = guestWithIpis(1);
    hv.pause(g);
    call(hv, g, 'send', { port: 1 });
    hv.run(1_000_000);
    expect(kernel(g).deliveries(1)).toBe(0);
    hv.unpause(g);
    hv.run(1_000_000);
    expect(kernel(g).deliveries(1)).toBe(1);
  });

  it('an IPI bound to vCPU 1 is handled on vCPU 1', () => {
    const { hv, g } = guestWithIpis(1, 1);
    const store = record(hv);
    call(hv, g, 'send', { port: 1 });
    hv.run(100_000);
    const h = records(store).filter((r) => r.kind === 'handler');
    expect(h).toMatchObject([{ dom: g.domid, vcpu: 1, port: 1 }]);
  });

  it('an event arriving during the scan is caught by another pass of the same upcall (upcall_pending cleared before scanning)', () => {
    const { hv } = newMachine();
    let sent = false;
    const g = hv.createDomain({ name: 'g' }, (h, d) => {
      const k = new DefaultKernel(h, d);
      const base = k.onEvent.bind(k);
      k.onEvent = (p: number, v: number) => {
        base(p, v);
        if (p === 65 && !sent) {
          sent = true;
          k.send(1); // word 0: not in the selector this pass harvested
        }
      };
      return k;
    });
    for (let i = 1; i <= 65; i++) call(hv, g, 'bind_ipi', { vcpu: 0 });
    call(hv, g, 'send', { port: 64 });
    hv.run(100_000);
    expect(kernel(g).scan[0]).toEqual({ word: 1, bit: 1 });
    const store = record(hv);
    call(hv, g, 'send', { port: 65 });
    hv.run(100_000);
    expect(handled(store)).toEqual([65, 1]);
    const seq = records(store).filter((r) => r.kind === 'upcall' || (r.kind === 'bit' && r.field === 'evtchn_pending_sel' && r.by === 'guest')).map((r) => (r.kind === 'bit' ? `sel${r.index}` : r.kind));
    // One upcall, two harvests of the selector: word 1, then word 0 on the second pass.
    expect(seq).toEqual(['upcall', 'sel1', 'sel0']);
  });

  it('a port reused after the guest\'s own EVTCHNOP_reset is dispatched on vCPU 0, not on the vCPU its old IPI used', () => {
    // Regression: the kernel kept Linux's per-CPU routing of the old IPI, so the new
    // channel's events reached vCPU 0's selector but vCPU 0 never looked at the port.
    const { hv, g } = guestWithIpis(0);
    expect(port(call(hv, g, 'bind_ipi', { vcpu: 1 }))).toBe(1);
    expect(call(hv, g, 'reset', { dom: DOMID_SELF }).ret).toBe(0);
    const p1 = port(call(hv, g, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: DOMID_SELF }));
    const p2 = port(call(hv, g, 'bind_interdomain', { remote_dom: DOMID_SELF, remote_port: p1 }));
    expect([p1, p2]).toEqual([1, 2]);
    hv.run(100_000);
    call(hv, g, 'send', { port: p2 });
    hv.run(100_000);
    expect(kernel(g).deliveries(p1)).toBe(1);
    expect(pendingBit(g, p1)).toBe(0);
  });

  it('new interdomain and PIRQ ports are routed to vCPU 0, as Linux binds new event channels to CPU 0', () => {
    const { hv } = newMachine();
    const g = addGuest(hv, { name: 'g', vcpus: 2, pirqs: [5] });
    const gp = port(call(hv, g, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 }));
    call(hv, g, 'bind_vcpu', { port: gp, vcpu: 1 });
    expect(kernel(g).cpuMask[1]![0]! & (1 << gp)).not.toBe(0);
    call(hv, g, 'close', { port: gp });
    const pp = port(call(hv, g, 'bind_pirq', { pirq: 5 }));
    expect(pp).toBe(gp);
    expect(kernel(g).cpuMask[0]![0]! & (1 << pp)).not.toBe(0);
    expect(kernel(g).cpuMask[1]![0]! & (1 << pp)).toBe(0);
    evtchn.sendGuestPirq(hv, g, 5);
    hv.run(100_000);
    expect(kernel(g).deliveries(pp)).toBe(1);
  });

  it('the VIRQ_TIMER port of the vCPU is handled first, whatever its number', () => {
    const { hv, g } = guestWithIpis(2);
    const t = port(call(hv, g, 'bind_virq', { virq: VIRQ_TIMER, vcpu: 0 }));
    expect(t).toBe(3);
    holdUpcalls(g);
    call(hv, g, 'send', { port: 1 });
    call(hv, g, 'send', { port: 2 });
    evtchn.sendGuestVcpuVirq(hv, g, 0, VIRQ_TIMER);
    const store = record(hv);
    kernel(g).setUpcallMask(0, false);
    hv.run(5_000); // well before the first periodic tick at 10 ms
    expect(handled(store)).toEqual([3, 1, 2]);
  });
});

describe('Linux 2-level scan fairness (current_word_idx / current_bit_idx)', () => {
  it('a fresh vCPU scans from word 0 bit 0: lowest port first, word by word', () => {
    const { hv, g } = guestWithIpis(130);
    holdUpcalls(g);
    for (const p of [129, 70, 5, 3]) call(hv, g, 'send', { port: p });
    const store = record(hv);
    releaseUpcalls(hv, g);
    expect(handled(store)).toEqual([3, 5, 70, 129]);
  });

  it('the next scan starts after the last processed port and wraps: 7, 70, then 3, 5', () => {
    const { hv, g } = guestWithIpis(70);
    // Handle port 5 alone: the saved position becomes word 0, bit 6.
    call(hv, g, 'send', { port: 5 });
    hv.run(100_000);
    expect(kernel(g).scan[0]).toEqual({ word: 0, bit: 6 });
    holdUpcalls(g);
    for (const p of [3, 5, 7, 70]) call(hv, g, 'send', { port: p });
    const store = record(hv);
    releaseUpcalls(hv, g);
    // Word 0 from bit 6 (port 7), word 1 (port 70), wrap to word 0 from bit 0 (3, 5).
    expect(handled(store)).toEqual([7, 70, 3, 5]);
    expect(kernel(g).scan[0]).toEqual({ word: 0, bit: 6 });
  });

  it('a position at the end of a word moves to bit 0 of the next word', () => {
    const { hv, dom0 } = newMachine();
    for (let i = 1; i <= 130; i++) call(hv, dom0, 'bind_ipi', { vcpu: 0 });
    call(hv, dom0, 'send', { port: 63 });
    hv.run(100_000);
    expect(kernel(dom0).scan[0]).toEqual({ word: 1, bit: 0 });
    holdUpcalls(dom0);
    for (const p of [1, 64, 128]) call(hv, dom0, 'send', { port: p });
    const store = record(hv);
    releaseUpcalls(hv, dom0);
    expect(handled(store)).toEqual([64, 128, 1]);
  });

  it('a port handled last in one upcall does not go first in the next: pending 1, 3, 5 after handling 3 gives 5, 1, 3', () => {
    const { hv, g } = guestWithIpis(5);
    call(hv, g, 'send', { port: 3 });
    hv.run(100_000);
    holdUpcalls(g);
    for (const p of [1, 3, 5]) call(hv, g, 'send', { port: p });
    const store = record(hv);
    releaseUpcalls(hv, g);
    expect(handled(store)).toEqual([5, 1, 3]);
  });
});
