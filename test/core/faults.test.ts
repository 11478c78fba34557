// The core's fault hooks, for labs about races and back-pressure: a notification lost or late
// (port_faults.ts, asked by every delivery path of both hypervisors), a stalled driver in dom0
// (Guest.stallPorts), and console rings a driver fills (XenconsRing.fill, XenCons.fillTxRing).
import { describe, expect, it } from 'vitest';
import { XENCONS_OUT_SIZE } from '../../src/core/abi/console_ring.js';
import { VIRQ_TIMER } from '../../src/core/abi/evtchn.js';
import { CONTROL_RING_SIZE } from '../../src/core/abi/ctrl_if.js';
import type { Domain } from '../../src/core/hv/domain.js';
import { armPortFault } from '../../src/core/hv/port_faults.js';
import { TraceStore, type TraceRecord } from '../../src/core/sim/trace.js';
import { MiniOsKernel, miniosKernel } from '../../src/core/guest/minios.js';
import { Plan9Kernel, plan9Kernel } from '../../src/core/guest/plan9.js';
import { Dom0Kernel } from '../../src/core/tools/dom0_modern.js';
import { type Xen2Dom0Kernel, xen2Dom0Kernel } from '../../src/core/tools/dom0.js';
import { Hypervisor } from '../../src/core/hv/hypervisor.js';
import { addGuest, call, kernel, newMachine, port } from './helpers.js';
import { guest2, k2, newXen2, op2, pending2, port2 } from './xen2_helpers.js';

const MS = 1e6;

/** dom0 and a guest joined by an interdomain channel, the bind's own event taken; a trace store attached. */
function channel() {
  const { hv, dom0 } = newMachine();
  const store = new TraceStore();
  hv.trace.subscribe(store.subscriber);
  const g = addGuest(hv, { name: 'guest' });
  const gport = port(call(hv, g, 'alloc_unbound', { remote_dom: 0 }));
  const dport = port(call(hv, dom0, 'bind_interdomain', { remote_dom: g.domid, remote_port: gport }));
  hv.run(MS);
  return { hv, dom0, g, gport, dport, store };
}

function faults(store: TraceStore): Extract<TraceRecord, { kind: 'fault' }>[] {
  return [...store.records()].filter((r): r is Extract<TraceRecord, { kind: 'fault' }> => r.kind === 'fault');
}

describe('drop_notify', () => {
  it('the next notification to the port never sets its pending bit; the one after does; the table goes away when spent', () => {
    const { hv, dom0, g, gport, dport, store } = channel();
    armPortFault(hv, g, gport, 'drop_notify', 1);
    expect(g.portFaults).not.toBeNull();
    expect(call(hv, dom0, 'send', { port: dport }).ret).toBe(0); // the sender cannot tell
    expect(g.ops.isPending(g, gport)).toBe(false);
    expect(g.portFaults).toBeNull();
    hv.run(MS);
    expect(kernel(g).deliveries(gport)).toBe(0);
    call(hv, dom0, 'send', { port: dport });
    hv.run(MS);
    expect(kernel(g).deliveries(gport)).toBe(1);
    expect(faults(store).map((f) => [f.fault, f.event, f.dom, f.port, f.count])).toEqual([
      ['drop_notify', 'armed', g.domid, gport, 1],
      ['drop_notify', 'dropped', g.domid, gport, 0],
    ]);
  });

  it('hits VIRQs too: a count of 2 loses two timer ticks', () => {
    const { hv } = newMachine();
    const g = addGuest(hv);
    const t = port(call(hv, g, 'bind_virq', { virq: VIRQ_TIMER, vcpu: 0 }));
    armPortFault(hv, g, t, 'drop_notify', 2);
    hv.run(35 * MS);
    expect(kernel(g).deliveries(t)).toBe(1); // ticks at 10, 20 lost; 30 delivered
  });

  it('hits Xen 2.0 sends as well', () => {
    const { hv, dom0 } = newXen2();
    const g = guest2(hv);
    const gp = port2(op2(hv, g, 'alloc_unbound', { dom: 0 }));
    const r = op2(hv, dom0, 'bind_interdomain', { dom2: g.domid, port2: gp });
    expect(r.ret).toBe(0);
    const dp = r.out!.port1 as number;
    hv.run(MS);
    const before = k2(g).deliveries(gp);
    armPortFault(hv, g, gp, 'drop_notify', 1);
    op2(hv, dom0, 'send', { local_port: dp });
    expect(pending2(g, gp)).toBe(0);
    hv.run(MS);
    expect(k2(g).deliveries(gp)).toBe(before);
  });
});

describe('delay_notify', () => {
  it('sets the pending bit `by` later, and the guest takes the event then', () => {
    const { hv, dom0, g, gport, dport, store } = channel();
    armPortFault(hv, g, gport, 'delay_notify', 1, 5 * MS);
    const t0 = hv.now;
    call(hv, dom0, 'send', { port: dport });
    hv.run(4 * MS);
    expect(kernel(g).deliveries(gport)).toBe(0);
    hv.run(2 * MS);
    expect(kernel(g).deliveries(gport)).toBe(1);
    const late = faults(store).find((f) => f.event === 'delivered')!;
    expect(late.t).toBe(t0 + 5 * MS);
    expect(faults(store).find((f) => f.event === 'delayed')!.delay).toBe(5 * MS);
  });

  it('a late notification to a port closed in the meantime is not delivered', () => {
    const { hv, dom0, g, gport, dport } = channel();
    armPortFault(hv, g, gport, 'delay_notify', 1, 5 * MS);
    call(hv, dom0, 'send', { port: dport });
    call(hv, g, 'close', { port: gport });
    hv.run(10 * MS);
    expect(g.ops.isPending(g, gport)).toBe(false);
  });
});

describe('a stalled driver (Guest.stallPorts)', () => {
  it("takes the port's events (counted) but runs its driver only when the stall ends, once", () => {
    const { hv, dom0, g, gport, dport, store } = channel();
    let runs = 0;
    const before = kernel(dom0).deliveries(dport); // the event bind_interdomain raised
    kernel(dom0).portHandlers.set(dport, () => runs++);
    kernel(dom0).stallPorts([dport], 10 * MS, 'test');
    call(hv, g, 'send', { port: gport });
    hv.run(MS);
    call(hv, g, 'send', { port: gport });
    hv.run(MS);
    expect(kernel(dom0).deliveries(dport)).toBe(before + 2);
    expect(runs).toBe(0);
    hv.run(10 * MS);
    expect(runs).toBe(1);
    call(hv, g, 'send', { port: gport });
    hv.run(MS);
    expect(runs).toBe(2);
    expect(faults(store).map((f) => [f.event, f.count, f.backend])).toEqual([
      ['stalled', 0, 'test'],
      ['ignored', 1, 'test'],
      ['ignored', 2, 'test'],
      ['resumed', 2, 'test'],
    ]);
  });

  it("xenconsoled stalled for a Mini-OS guest: its output waits on the ring, then comes out", () => {
    const hv = new Hypervisor({ seed: 1 });
    const dom0 = hv.createDomain({ name: 'dom0' });
    hv.boot(dom0, (h, d) => new Dom0Kernel(h, d));
    const g = hv.createDomain({ name: 'mini' });
    const k0 = dom0.kernel as Dom0Kernel;
    const out: string[] = [];
    k0.buildGuest(g, (b) => out.push(new TextDecoder().decode(b)));
    hv.boot(g, miniosKernel());
    hv.run(5 * MS);
    const before = out.join('').length;
    expect(k0.stallBackend('console', g.domid, 10 * MS)).toEqual([expect.any(Number)]);
    k0.typeAt(g.domid, new TextEncoder().encode('uptime\r'));
    hv.run(5 * MS);
    expect(out.join('').length).toBe(before); // neither the echo nor the answer came out
    hv.run(10 * MS);
    expect(out.join('').slice(before)).toContain('uptime');
    expect(k0.stallBackend('block', g.domid, MS)).toMatch(/no block channel to dom0 yet/);
    expect(k0.stallBackend('xend', g.domid, MS)).toMatch(/no "xend" backend/);
  });

  it('xend stalled: a Xen 2.0 guest cannot stall anything but xend', () => {
    const h = new Hypervisor({ seed: 1, xen: '2.0' });
    const dom0 = h.createDomain({ name: 'dom0' }, xen2Dom0Kernel());
    const g = h.createDomain({ name: 'plan9' });
    (dom0.kernel as Xen2Dom0Kernel).createControlChannel(g, { write: (b) => b.length });
    h.boot(g, plan9Kernel());
    expect((dom0.kernel as Xen2Dom0Kernel).stallBackend('console', g.domid, MS)).toMatch(/stall backend: xend/);
    expect((dom0.kernel as Xen2Dom0Kernel).stallBackend('xend', g.domid, MS)).toEqual([(dom0.kernel as Xen2Dom0Kernel).controlPort(g.domid)]);
  });
});

describe('console rings filled by their driver', () => {
  it("Mini-OS's console ring: out[] filled to its size, one event; later output waits in the driver", () => {
    const hv = new Hypervisor({ seed: 1 });
    const dom0 = hv.createDomain({ name: 'dom0' });
    hv.boot(dom0, (h, d) => new Dom0Kernel(h, d));
    const g: Domain = hv.createDomain({ name: 'mini' });
    (dom0.kernel as Dom0Kernel).buildGuest(g, () => {});
    hv.boot(g, miniosKernel());
    hv.run(5 * MS);
    const cons = (g.kernel as MiniOsKernel).cons!;
    const notifies = cons.stats.notifies;
    const used = cons.outUsed();
    expect(cons.fill(new TextEncoder().encode('#'))).toBe(XENCONS_OUT_SIZE - used);
    expect(cons.outUsed()).toBe(XENCONS_OUT_SIZE);
    expect(cons.stats.notifies).toBe(notifies + 1);
    cons.write(new TextEncoder().encode('after\n'));
    expect(cons.pending()).toBe(6);
    hv.run(MS); // xenconsoled drains the ring, the rest goes out
    expect(cons.pending()).toBe(0);
  });

  it("Plan 9's console on Xen 2.0: CMSG_CONSOLE messages until the control interface's tx ring is full", () => {
    const h = new Hypervisor({ seed: 1, xen: '2.0' });
    const dom0 = h.createDomain({ name: 'dom0' }, xen2Dom0Kernel());
    const g = h.createDomain({ name: 'plan9' });
    (dom0.kernel as Xen2Dom0Kernel).createControlChannel(g, { write: (b) => b.length });
    h.boot(g, plan9Kernel());
    h.run(10 * MS);
    const cons = (g.kernel as Plan9Kernel).cons!;
    const sent = cons.fillTxRing(new TextEncoder().encode('#'));
    expect(sent).toBeGreaterThan(0);
    expect(sent).toBeLessThanOrEqual(CONTROL_RING_SIZE);
    expect(cons.ctrl.txFull()).toBe(true);
  });
});
