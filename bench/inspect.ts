/**
 * The inspector and explain panel on large domains, for bench/index.ts: the
 * lab asks for a domain's view about ten times a second while a run goes,
 * so one inspectDomain must take well under 100 ms. Measured on a dom0 with
 * every 2-level port bound (4095), FIFO domains with 16,384 and 131,071
 * bound ports, and explainPort with a 1M-record trace to search back through.
 */
import { DOMID_SELF } from '../src/core/abi/domid.js';
import type { Domain } from '../src/core/hv/domain.js';
import { Hypervisor } from '../src/core/hv/hypervisor.js';
import { sendFast } from '../src/core/hv/hypercall.js';
import { defaultKernel, type DefaultKernel } from '../src/core/guest/kernel.js';
import { TraceStore } from '../src/core/sim/trace.js';
import { explainPort, inspectDomain, traceStoreLookback } from '../src/host/inspect/index.js';
import type { Row } from './table.js';

const nowNs = (): bigint => process.hrtime.bigint();

function bind(d: Domain, op: string, args: Record<string, number>): number {
  const r = (d.kernel as DefaultKernel).call(op, args);
  if (r.ret < 0) throw new Error(`${d.name}: ${op} failed: ${r.ret}`);
  const out = r.out as Record<string, number> | undefined;
  return out?.port ?? out?.local_port ?? r.ret;
}

/** A domain with `ports` bound IPI ports, some of them pending and masked. */
function bigDomain(abi: '2l' | 'fifo', ports: number): { hv: Hypervisor; d: Domain } {
  const hv = new Hypervisor({ seed: 1 });
  hv.createDomain({ name: 'dom0' }, defaultKernel());
  const d = hv.createDomain({ name: `big-${abi}`, maxEvtchnPort: ports }, defaultKernel(abi));
  for (let i = 0; i < ports; i++) bind(d, 'bind_ipi', { vcpu: 0 });
  (d.kernel as DefaultKernel).setUpcallMask(0, true);
  for (let p = 1; p <= ports; p += 7) {
    if (p % 2 === 0) (d.kernel as DefaultKernel).maskPort(p);
    sendFast(hv, d, p);
  }
  return { hv, d };
}

/** Mean ms per call of `fn` over at least 1 s (after a warm-up). */
function msPerCall(fn: () => unknown): { ms: number; calls: number } {
  for (let i = 0; i < 3; i++) fn();
  let calls = 0;
  const t0 = nowNs();
  let t = t0;
  while (t - t0 < 1_000_000_000n) {
    fn();
    calls++;
    t = nowNs();
  }
  return { ms: Number(t - t0) / 1e6 / calls, calls };
}

/** A trace of about `n` records on two domains sending to each other, and the receiving port. */
function longTrace(n: number): { hv: Hypervisor; store: TraceStore; domid: number; port: number } {
  const hv = new Hypervisor({ seed: 1 });
  const store = new TraceStore();
  hv.trace.subscribe(store.subscriber);
  const a = hv.createDomain({ name: 'dom0' }, defaultKernel());
  const b = hv.createDomain({ name: 'guest' }, defaultKernel());
  const bp = bind(b, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: a.domid });
  const ap = bind(a, 'bind_interdomain', { remote_dom: b.domid, remote_port: bp });
  // A quiet port first, so explain has to search the whole trace for it.
  const quiet = bind(b, 'bind_ipi', { vcpu: 0 });
  while (store.count < n) {
    for (let i = 0; i < 1000; i++) {
      sendFast(hv, a, ap);
      hv.run(10_000);
    }
  }
  return { hv, store, domid: b.domid, port: quiet };
}

export function benchInspect(rows: Row[]): void {
  const cases: { label: string; abi: '2l' | 'fifo'; ports: number }[] = [
    { label: '2-level dom, 4,095 ports bound', abi: '2l', ports: 4095 },
    { label: 'FIFO dom, 16,384 ports bound', abi: 'fifo', ports: 16384 },
    { label: 'FIFO dom, 131,071 ports bound', abi: 'fifo', ports: 131071 },
  ];
  for (const c of cases) {
    const { hv, d } = bigDomain(c.abi, c.ports);
    const r = msPerCall(() => inspectDomain(hv, d.domid, 0));
    const json = JSON.stringify(inspectDomain(hv, d.domid, 0)).length;
    rows.push({ name: `10. inspectDomain, ${c.label}`, value: r.ms, unit: 'ms', target: '< 100', pass: r.ms < 100, note: `${r.calls} calls; the view is ${(json / 1024).toFixed(0)} KiB as JSON` });
  }
  const { hv, store, domid, port } = longTrace(1_000_000);
  const trace = traceStoreLookback(store);
  const r = msPerCall(() => explainPort(hv, domid, port, trace));
  rows.push({ name: `   explainPort, ${(store.count / 1e6).toFixed(1)}M-record trace, searched to the start`, value: r.ms, unit: 'ms', target: '< 100', pass: r.ms < 100, note: `${r.calls} calls` });
}
