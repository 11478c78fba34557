/**
 * Determinism: the machine's only randomness is the seeded PRNG (upcall
 * jitter), so one seed gives one decoded trace, record for record.
 */
import { describe, expect, it } from 'vitest';
import { DOMID_SELF } from '../../src/core/abi/domid.js';
import { VIRQ_DOM_EXC, VIRQ_TIMER } from '../../src/core/abi/evtchn.js';
import { Hypervisor } from '../../src/core/hv/hypervisor.js';
import { defaultKernel } from '../../src/core/guest/kernel.js';
import { Prng } from '../../src/core/sim/prng.js';
import { TraceStore, type TraceRecord } from '../../src/core/sim/trace.js';
import { call, kernel, port } from './helpers.js';

/** A busy little machine: a 2L and a FIFO guest talking to dom0, timers ticking, a shutdown and a destroy. */
function runScenario(seed: number): { trace: TraceRecord[]; deliveries: number[] } {
  const hv = new Hypervisor({ seed });
  const store = new TraceStore();
  hv.trace.subscribe(store.subscriber);
  const dom0 = hv.createDomain({ name: 'dom0', vcpus: 2 }, defaultKernel());
  const a = hv.createDomain({ name: 'a', vcpus: 2 }, defaultKernel('2l'));
  const b = hv.createDomain({ name: 'b', vcpus: 2 }, defaultKernel('fifo'));
  call(hv, dom0, 'bind_virq', { virq: VIRQ_DOM_EXC, vcpu: 0 });
  const links: [number, number][] = [];
  for (const g of [a, b]) {
    const gp = port(call(hv, g, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 }));
    const dp = port(call(hv, dom0, 'bind_interdomain', { remote_dom: g.domid, remote_port: gp }));
    call(hv, g, 'bind_vcpu', { port: gp, vcpu: 1 });
    call(hv, g, 'bind_virq', { virq: VIRQ_TIMER, vcpu: 0 });
    call(hv, g, 'bind_virq', { virq: VIRQ_TIMER, vcpu: 1 });
    links.push([gp, dp]);
  }
  const ipi = port(call(hv, b, 'bind_ipi', { vcpu: 1 }));
  call(hv, b, 'set_priority', { port: ipi, priority: 2 });
  for (let i = 0; i < 40; i++) {
    for (const [gp, dp] of links) {
      call(hv, dom0, 'send', { port: dp });
      if (i % 3 === 0) call(hv, i % 2 ? a : b, 'send', { port: gp });
    }
    if (i % 5 === 0) call(hv, b, 'send', { port: ipi });
    hv.run(700 + (i % 7) * 300);
  }
  hv.run(25_000_000);
  hv.shutdown(a, 'poweroff');
  hv.run(1_000_000);
  hv.destroy(a);
  hv.run(1_000_000);
  const deliveries = [dom0, a, b].flatMap((d) => Array.from({ length: 8 }, (_, p) => kernel(d).deliveries(p)));
  return { trace: [...store.records()], deliveries };
}

describe('determinism', () => {
  it('the same seed gives an identical decoded trace', () => {
    const one = runScenario(42);
    const two = runScenario(42);
    expect(one.trace.length).toBeGreaterThan(500);
    expect(two.trace).toEqual(one.trace);
    expect(two.deliveries).toEqual(one.deliveries);
  });

  it('the trace covers every record kind the scenario exercises, in sequence order', () => {
    const { trace } = runScenario(7);
    const kinds = new Set(trace.map((r) => r.kind));
    for (const k of ['hypercall', 'bit', 'upcall', 'handler', 'port', 'raise', 'domain']) expect(kinds.has(k as TraceRecord['kind'])).toBe(true);
    trace.forEach((r, i) => expect(r.seq).toBe(i));
    for (let i = 1; i < trace.length; i++) expect(trace[i]!.t).toBeGreaterThanOrEqual(trace[i - 1]!.t);
  });

  it('a different seed changes the upcall timing (jitter comes from the seeded PRNG)', () => {
    const one = runScenario(1);
    const two = runScenario(2);
    const times = (t: TraceRecord[]) => t.filter((r) => r.kind === 'upcall').map((r) => r.t);
    expect(times(two.trace)).not.toEqual(times(one.trace));
  });

  it('the PRNG gives the same stream for the same seed and restores from its state', () => {
    const p = new Prng(123);
    const q = new Prng(123);
    const xs = Array.from({ length: 20 }, () => p.nextU32());
    expect(Array.from({ length: 20 }, () => q.nextU32())).toEqual(xs);
    const saved = p.state();
    const next = [p.nextU32(), p.nextU32()];
    p.restore(saved);
    expect([p.nextU32(), p.nextU32()]).toEqual(next);
    for (let i = 0; i < 1000; i++) {
      const v = q.below(500);
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(500);
    }
  });

  it('with zero jitter the upcall comes exactly upcallLatencyNs after the send', () => {
    const hv = new Hypervisor({ seed: 9, upcallLatencyNs: 2500, upcallJitterNs: 0 });
    const store = new TraceStore();
    hv.trace.subscribe(store.subscriber);
    hv.createDomain({ name: 'dom0' }, defaultKernel());
    const g = hv.createDomain({ name: 'g' }, defaultKernel());
    const p = port(call(hv, g, 'bind_ipi', { vcpu: 0 }));
    hv.run(1000);
    call(hv, g, 'send', { port: p });
    hv.run(10_000);
    const up = [...store.records()].filter((r) => r.kind === 'upcall');
    expect(up.map((r) => r.t)).toEqual([3500]);
  });
});
