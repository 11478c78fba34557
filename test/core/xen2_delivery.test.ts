/**
 * Xen 2.0.0 delivery and XenLinux 2.0's upcall (reference 5.6, 6.3, 6.4):
 * evtchn_set_pending's bits at 2.0's offsets, the guest loop that takes the
 * single selector and handles ports lowest first, the software resend of
 * unmask_evtchn, VIRQ_TIMER on 1, VIRQ_DOM_EXC on shutdown, and determinism.
 */
import { describe, expect, it } from 'vitest';
import { DOMID_SELF } from '../../src/core/abi/domid.js';
import * as xen2 from '../../src/core/abi/xen2.js';
import type { Domain } from '../../src/core/hv/domain.js';
import { sendGuestVirqXen2 } from '../../src/core/hv/event_channel_xen2.js';
import { Hypervisor } from '../../src/core/hv/hypervisor.js';
import { defaultKernel } from '../../src/core/guest/kernel.js';
import { clearEvtchnXen2, maskEvtchnXen2, notifyViaEvtchnXen2, unmaskEvtchnXen2 } from '../../src/core/guest/events_xen2.js';
import { TraceStore, type TraceRecord } from '../../src/core/sim/trace.js';
import { handled, record, records } from './helpers.js';
import { guest2, k2, mask2, newXen2, op2, pending2, port2, sel2, u32, u64, upcallMask2, upcallPending2 } from './xen2_helpers.js';

/** dom0 connects itself to `g` at g's port `gp` (dom0 may name it); returns dom0's port. */
function link(hv: Hypervisor, dom0: Domain, g: Domain, gp: number): number {
  const r = op2(hv, dom0, 'bind_interdomain', { dom2: g.domid, port2: gp });
  expect(r.ret).toBe(0);
  return r.out!.port1 as number;
}

/** Grows g's table to `n` ports and frees them again. */
function grow(hv: Hypervisor, g: Domain, n: number): void {
  const got: number[] = [];
  while (g.ports.valid < n) got.push(port2(op2(hv, g, 'alloc_unbound', { dom: 0 })));
  for (const p of got) op2(hv, g, 'close', { port: p });
}

describe('evtchn_set_pending at 2.0.0 offsets', () => {
  it('pending bit, then the selector bit port>>5, then upcall_pending; only then an upcall', () => {
    const { hv, dom0 } = newXen2();
    const g = guest2(hv);
    grow(hv, g, 128);
    const d70 = link(hv, dom0, g, 70);
    const store = record(hv);
    op2(hv, dom0, 'send', { local_port: d70 });
    hv.trace.flush();
    const bits = records(store).filter((r) => r.kind === 'bit');
    expect(bits).toEqual([
      expect.objectContaining({ dom: g.domid, field: 'evtchn_pending', index: 70, value: 1, by: 'xen' }),
      expect.objectContaining({ dom: g.domid, vcpu: 0, field: 'evtchn_pending_sel', index: 2, value: 1, by: 'xen' }),
      expect.objectContaining({ dom: g.domid, vcpu: 0, field: 'evtchn_upcall_pending', value: 1, by: 'xen' }),
    ]);
    expect(g.sharedInfo[4 + 8]).toBe(1 << 6); // port 70 = byte 8 of evtchn_pending, bit 6
    expect(u32(g.sharedInfo, 132)).toBe(4);
    expect(upcallPending2(g)).toBe(1);
    hv.run(10_000);
    expect(handled(store, g.domid)).toEqual([70]);
    expect(pending2(g, 70)).toBe(0);
    expect(sel2(g)).toBe(0);
    expect(upcallPending2(g)).toBe(0);
    expect(upcallMask2(g)).toBe(0);
  });

  it('an event already pending coalesces: no selector or upcall change', () => {
    const { hv, dom0 } = newXen2();
    const g = guest2(hv, { noKernel: true });
    const p = link(hv, dom0, g, 3);
    op2(hv, dom0, 'send', { local_port: p });
    g.sharedInfo[0] = 0;
    g.sharedInfo[132] = 0;
    op2(hv, dom0, 'send', { local_port: p });
    expect(pending2(g, 3)).toBe(1);
    expect(sel2(g)).toBe(0);
    expect(upcallPending2(g)).toBe(0);
  });

  it('a masked port stays pending with no selector bit and no upcall (the edge is lost)', () => {
    const { hv, dom0 } = newXen2();
    const g = guest2(hv);
    const p = link(hv, dom0, g, 5);
    maskEvtchnXen2(k2(g), 5);
    expect(mask2(g, 5)).toBe(1);
    expect(g.sharedInfo[136]).toBe(1 << 5);
    const store = record(hv);
    op2(hv, dom0, 'send', { local_port: p });
    hv.run(10_000);
    expect(pending2(g, 5)).toBe(1);
    expect(sel2(g)).toBe(0);
    expect(upcallPending2(g)).toBe(0);
    expect(handled(store, g.domid)).toEqual([]);
  });
});

describe("XenLinux 2.0's evtchn_do_upcall", () => {
  it('handles ports lowest word first, lowest port first, whatever order they were raised in', () => {
    const { hv, dom0 } = newXen2();
    const g = guest2(hv);
    grow(hv, g, 256);
    const ports = [200, 64, 33, 5, 2, 95, 34, 1];
    const mine = ports.map((gp) => link(hv, dom0, g, gp));
    const store = record(hv);
    for (const p of mine) op2(hv, dom0, 'send', { local_port: p });
    expect(sel2(g)).toBe((1 << 0) | (1 << 1) | (1 << 2) | (1 << 6));
    hv.run(10_000);
    expect(handled(store, g.domid)).toEqual([1, 2, 5, 33, 34, 64, 95, 200]);
    expect(records(store).filter((r) => r.kind === 'upcall' && r.dom === g.domid).length).toBe(1);
  });

  it('in one upcall: clear upcall_pending, take the selector (xchg with 0), then for each port clear pending and run the handler', () => {
    const { hv, dom0 } = newXen2();
    const g = guest2(hv);
    grow(hv, g, 64);
    const a = link(hv, dom0, g, 40);
    const b = link(hv, dom0, g, 7);
    op2(hv, dom0, 'send', { local_port: a });
    op2(hv, dom0, 'send', { local_port: b });
    const store = record(hv);
    hv.run(10_000);
    const seen = records(store)
      .filter((r) => r.dom === g.domid && (r.kind === 'bit' || r.kind === 'handler' || r.kind === 'upcall'))
      .map((r) => (r.kind === 'bit' ? `${r.field}[${r.index}]=${r.value} by ${r.by}` : r.kind === 'handler' ? `handler ${r.port}` : 'upcall'));
    expect(seen).toEqual([
      'evtchn_upcall_mask[-1]=1 by xen',
      'upcall',
      'evtchn_upcall_pending[-1]=0 by guest',
      'evtchn_pending_sel[0]=0 by guest',
      'evtchn_pending_sel[1]=0 by guest',
      'evtchn_pending[7]=0 by guest',
      'handler 7',
      'evtchn_pending[40]=0 by guest',
      'handler 40',
      'evtchn_upcall_mask[-1]=0 by guest',
    ]);
  });

  it('skips masked ports but leaves them pending; unmask_evtchn makes up the lost edge and the upcall follows', () => {
    const { hv, dom0 } = newXen2();
    const g = guest2(hv);
    const p3 = link(hv, dom0, g, 3);
    const p4 = link(hv, dom0, g, 4);
    maskEvtchnXen2(k2(g), 3);
    op2(hv, dom0, 'send', { local_port: p4 });
    op2(hv, dom0, 'send', { local_port: p3 });
    const store = record(hv);
    hv.run(10_000);
    expect(handled(store, g.domid)).toEqual([4]);
    expect(pending2(g, 3)).toBe(1);
    expect(sel2(g)).toBe(0);
    unmaskEvtchnXen2(k2(g), 3);
    expect(mask2(g, 3)).toBe(0);
    expect(sel2(g)).toBe(1);
    expect(upcallPending2(g)).toBe(1);
    hv.run(10_000);
    expect(handled(store, g.domid)).toEqual([4, 3]);
  });

  it('unmask_evtchn of a port that is not pending, or whose selector bit is already set, raises nothing', () => {
    const { hv, dom0 } = newXen2();
    const g = guest2(hv, { noKernel: true });
    const p = link(hv, dom0, g, 2);
    maskEvtchnXen2(k2Less(hv, g), 2);
    unmaskEvtchnXen2(k2Less(hv, g), 2);
    expect([sel2(g), upcallPending2(g)]).toEqual([0, 0]);
    op2(hv, dom0, 'send', { local_port: p });
    g.sharedInfo[0] = 0; // pretend the guest already cleared upcall_pending but not the selector
    maskEvtchnXen2(k2Less(hv, g), 2);
    unmaskEvtchnXen2(k2Less(hv, g), 2);
    expect([sel2(g), upcallPending2(g)]).toEqual([1, 0]);
  });

  it('with upcalls masked, unmask_evtchn sets the bits but the callback waits for the mask to clear', () => {
    const { hv, dom0 } = newXen2();
    const g = guest2(hv);
    const p = link(hv, dom0, g, 2);
    k2(g).setUpcallMask(0, true);
    maskEvtchnXen2(k2(g), 2);
    op2(hv, dom0, 'send', { local_port: p });
    unmaskEvtchnXen2(k2(g), 2);
    const store = record(hv);
    hv.run(10_000);
    expect(handled(store, g.domid)).toEqual([]);
    expect(upcallPending2(g)).toBe(1);
    k2(g).setUpcallMask(0, false);
    hv.run(10_000);
    expect(handled(store, g.domid)).toEqual([2]);
  });

  it('clear_evtchn clears the pending bit; notify_via_evtchn sends on the local port', () => {
    const { hv, dom0 } = newXen2();
    const g = guest2(hv);
    const d = link(hv, dom0, g, 1);
    expect(notifyViaEvtchnXen2(k2(g), 1)).toBe(0);
    expect(pending2(dom0, d)).toBe(1);
    clearEvtchnXen2(k2(dom0), d);
    expect(pending2(dom0, d)).toBe(0);
    expect(notifyViaEvtchnXen2(k2(g), 9)).toBe(-22);
  });

  it('an event raised during the upcall is picked up by the same upcall (the loop runs while upcall_pending is set)', () => {
    const { hv, dom0 } = newXen2();
    const g = guest2(hv);
    const d1 = link(hv, dom0, g, 1);
    const d2 = link(hv, dom0, g, 2);
    const kernel = k2(g);
    const orig = kernel.onEvent.bind(kernel);
    let once = true;
    kernel.onEvent = (port, vcpu) => {
      orig(port, vcpu);
      if (port === 2 && once) {
        once = false;
        op2(hv, dom0, 'send', { local_port: d1 }); // port 1: in the word already scanned
      }
    };
    const store = record(hv);
    op2(hv, dom0, 'send', { local_port: d2 });
    hv.run(10_000);
    expect(handled(store, g.domid)).toEqual([2, 1]);
    expect(records(store).filter((r) => r.kind === 'upcall' && r.dom === g.domid).length).toBe(1);
  });
});

/** A kernel-less domain still gets guest helpers: a default kernel made but not booted. */
function k2Less(hv: Hypervisor, g: Domain) {
  return defaultKernel()(hv, g);
}

describe('VIRQs in Xen 2.0', () => {
  it('the periodic timer raises VIRQ_TIMER = 1 on its port and updates time_version1, system_time, time_version2', () => {
    const { hv } = newXen2();
    const g = guest2(hv);
    const p = port2(op2(hv, g, 'bind_virq', { virq: xen2.VIRQ_TIMER }));
    const store = record(hv);
    hv.run(25_000_000);
    const raises = records(store).filter((r): r is Extract<TraceRecord, { kind: 'raise' }> => r.kind === 'raise');
    expect(raises.map((r) => [r.t, r.dom, r.port, r.virq])).toEqual([
      [10_000_000, g.domid, p, 1],
      [20_000_000, g.domid, p, 1],
    ]);
    expect(handled(store, g.domid)).toEqual([p, p]);
    expect(u32(g.sharedInfo, 272)).toBe(2);
    expect(u32(g.sharedInfo, 276)).toBe(2);
    expect(u64(g.sharedInfo, 288)).toBe(20_000_000n);
    // The vcpu_info offsets of today's layout (time at 32..63) are part of evtchn_pending here: untouched.
    for (let at = 4; at < 132; at++) expect(g.sharedInfo[at], `byte ${at}`).toBe(0);
  });

  it('a timer whose port was closed goes on ticking into port 0 (VIRQ_MISDIRECT)', () => {
    const { hv } = newXen2();
    const g = guest2(hv);
    const p = port2(op2(hv, g, 'bind_virq', { virq: xen2.VIRQ_TIMER }));
    hv.run(10_005_000); // the first tick and its upcall
    expect(op2(hv, g, 'close', { port: p }).ret).toBe(0);
    const store = record(hv);
    hv.run(10_000_000);
    expect(handled(store, g.domid)).toEqual([0]);
  });

  it("a domU's shutdown raises VIRQ_DOM_EXC = 4 in dom0: on port 0 while unbound, on its port once bound", () => {
    const { hv, dom0 } = newXen2();
    const a = guest2(hv);
    const b = guest2(hv);
    const store = record(hv);
    expect(hv.shutdown(a, 'poweroff')).toBe(0);
    hv.run(10_000);
    expect(handled(store, 0)).toEqual([0]);
    const p = port2(op2(hv, dom0, 'bind_virq', { virq: xen2.VIRQ_DOM_EXC }));
    expect(p).toBe(1);
    hv.shutdown(b, 'reboot');
    hv.run(10_000);
    expect(handled(store, 0)).toEqual([0, 1]);
    const raises = records(store).filter((r): r is Extract<TraceRecord, { kind: 'raise' }> => r.kind === 'raise');
    expect(raises.map((r) => [r.dom, r.port, r.virq])).toEqual([
      [0, 0, 4],
      [0, 1, 4],
    ]);
  });

  it('destroy closes every port (peers go UNBOUND, waiting for the dead domain) and raises no VIRQ_DOM_EXC', () => {
    const { hv, dom0 } = newXen2();
    const a = guest2(hv);
    op2(hv, dom0, 'bind_virq', { virq: xen2.VIRQ_DOM_EXC });
    const d = link(hv, dom0, a, 1);
    op2(hv, a, 'bind_virq', { virq: xen2.VIRQ_TIMER });
    const store = record(hv);
    expect(hv.destroy(a)).toBe(0);
    hv.run(50_000_000);
    expect(op2(hv, dom0, 'status', { port: d }).out).toEqual({ status: 'unbound', u: { unbound: { dom: a.domid } } });
    expect(records(store).filter((r) => r.kind === 'raise')).toEqual([]);
    expect(handled(store)).toEqual([]);
    expect(hv.domain(a.domid)).toBeUndefined();
    const ports = records(store).filter((r) => r.kind === 'port' && r.dom === a.domid).map((r) => (r as { port: number }).port);
    expect(ports).toEqual([1, 2]); // lowest first
  });

  it('a paused domain misses ticks and gets one catch-up VIRQ_TIMER when unpaused', () => {
    const { hv } = newXen2();
    const g = guest2(hv);
    const p = port2(op2(hv, g, 'bind_virq', { virq: xen2.VIRQ_TIMER }));
    expect(hv.pause(g)).toBe(0);
    const store = record(hv);
    hv.run(35_000_000);
    expect(handled(store, g.domid)).toEqual([]);
    expect(hv.unpause(g)).toBe(0);
    hv.run(10_000);
    expect(handled(store, g.domid)).toEqual([p]);
  });

  it('dom0-only VIRQs are sent to dom0 by the caller; a domU that bound one just never hears it', () => {
    const { hv, dom0 } = newXen2();
    const p = port2(op2(hv, dom0, 'bind_virq', { virq: xen2.VIRQ_CONSOLE }));
    sendGuestVirqXen2(hv, dom0, xen2.VIRQ_CONSOLE);
    expect(pending2(dom0, p)).toBe(1);
  });
});

describe('the guest library picks the op table of its Xen', () => {
  it('Guest.call uses the 2.0.0 ops (and their argument names) in a Xen 2.0 domain, today’s elsewhere', () => {
    const { hv } = newXen2();
    const g = guest2(hv);
    expect(k2(g).call('bind_virq', { virq: xen2.VIRQ_TIMER })).toEqual({ ret: 0, out: { port: 1 } });
    expect(k2(g).call('alloc_unbound', { dom: 0 })).toEqual({ ret: 0, out: { port: 2 } });
    expect(() => k2(g).call('bind_ipi', { vcpu: 0 })).toThrow(/no hypercall named bind_ipi/);
    const modern = new Hypervisor();
    const m0 = modern.createDomain({ name: 'dom0' }, defaultKernel());
    expect((m0.kernel as ReturnType<typeof k2>).call('bind_ipi', { vcpu: 0 })).toEqual({ ret: 0, out: { port: 1 } });
  });
});

describe('determinism', () => {
  function run(seed: number): TraceRecord[] {
    const hv = new Hypervisor({ seed, xen: '2.0' });
    const store = new TraceStore();
    hv.trace.subscribe(store.subscriber);
    const dom0 = hv.createDomain({ name: 'dom0' }, defaultKernel());
    op2(hv, dom0, 'bind_virq', { virq: xen2.VIRQ_DOM_EXC });
    const gs = [0, 1, 2].map((i) => hv.createDomain({ name: `g${i}` }, defaultKernel()));
    const links = gs.map((g) => {
      const r = op2(hv, dom0, 'bind_interdomain', { dom2: g.domid, port2: 1 });
      hv.setDomainControllerEvtchn(g, 1);
      op2(hv, g, 'bind_virq', { virq: xen2.VIRQ_TIMER });
      return r.out!.port1 as number;
    });
    const lb = op2(hv, dom0, 'bind_interdomain', { dom2: DOMID_SELF }).out as { port1: number; port2: number };
    for (let i = 0; i < 30; i++) {
      op2(hv, dom0, 'send', { local_port: links[i % 3]! });
      if (i % 4 === 0) k2(gs[i % 3]!).send(1);
      if (i % 7 === 0) op2(hv, dom0, 'send', { local_port: lb.port1 });
      hv.run(400 + (i % 5) * 700);
    }
    hv.shutdown(gs[1]!, 'poweroff');
    hv.destroy(gs[1]!);
    hv.run(30_000_000);
    return [...store.records()];
  }

  it('one seed gives one trace, record for record', () => {
    const a = run(7);
    const b = run(7);
    expect(a.length).toBeGreaterThan(200);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    expect(JSON.stringify(run(8))).not.toBe(JSON.stringify(a));
  });
});
