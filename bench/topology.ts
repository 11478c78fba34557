/**
 * The topology view's own work, for bench/index.ts (`--only=topology`): the
 * layout runs on each topology the host pushes (at most ten a second while a
 * run goes), so one layout must take a small part of a frame budget; the
 * notification scan reads every streamed record, so a second of records at
 * 100,000 a second must scan in well under a frame. Measured with the
 * renderer's pure modules in Node (no DOM: the drawing is measured by the
 * e2e test's frame probe), in CPU time.
 */
import type { Topology, TopologyDomain, TopologyPort } from '../src/contract/session.js';
import type { TraceColumns } from '../src/contract/trace_batch.js';
import { Activity, HandlerScanner } from '../src/renderer/src/views/topology/activity.js';
import { layoutTopology, restate, structureKey } from '../src/renderer/src/views/topology/layout.js';
import type { Row } from './table.js';

const nowNs = (): bigint => process.hrtime.bigint();

/**
 * Mean ms per call of `fn` over at least half a second (after a warm-up), in CPU time of this
 * process (user + system): what the work costs, whatever else the machine is doing.
 */
function msPerCall(fn: () => unknown): { ms: number; calls: number } {
  for (let i = 0; i < 20; i++) fn();
  let calls = 0;
  const t0 = nowNs();
  const c0 = process.cpuUsage();
  while (nowNs() - t0 < 500_000_000n || calls < 3) {
    fn();
    calls++;
  }
  const c = process.cpuUsage(c0);
  return { ms: (c.user + c.system) / 1000 / calls, calls };
}

/** dom0 and `guests` guests, each with `per` channels to dom0 and one to its neighbour. */
function machine(guests: number, per: number): Topology {
  const port = (p: number, remoteDom: number, remotePort: number): TopologyPort => ({ port: p, state: 'interdomain', vcpu: 0, pending: p % 3 === 0, masked: p % 5 === 0, remoteDom, remotePort });
  const d0: TopologyPort[] = [];
  const doms: TopologyDomain[] = [];
  let next0 = 1;
  for (let g = 1; g <= guests; g++) {
    const ports: TopologyPort[] = [];
    for (let k = 1; k <= per; k++) {
      d0.push(port(next0, g, k));
      ports.push(port(k, 0, next0++));
    }
    const n = g % guests + 1;
    ports.push(port(per + 1, n, per + 2), port(per + 2, g === 1 ? guests : g - 1, per + 1));
    doms.push({ domid: g, name: `g${g}`, kernel: 'default', state: 'running', vcpus: 1, abi: '2l', ports });
  }
  return { position: 1, domains: [{ domid: 0, name: 'dom0', kernel: 'dom0', state: 'running', vcpus: 1, abi: '2l', ports: d0 }, ...doms] };
}

/** `n` records, every fourth a handler whose cause is the send three records before. */
function columns(n: number): TraceColumns {
  const c: TraceColumns = { t: new Float64Array(n), dom: new Int32Array(n), vcpu: new Int32Array(n), port: new Int32Array(n), x0: new Int32Array(n), cause: new Int32Array(n), kind: new Uint8Array(n) };
  for (let i = 0; i < n; i++) {
    const handler = i % 4 === 3;
    c.kind[i] = handler ? 3 : i % 4 === 0 ? 0 : 1;
    c.dom[i] = handler ? 1 + (i % 100) : 0;
    c.port[i] = handler ? 1 : 1 + (i % 100);
    c.cause[i] = handler ? i - 3 : -1;
  }
  return c;
}

export function benchTopology(rows: Row[]): void {
  for (const [guests, per, collapsed] of [
    [9, 3, false],
    [100, 3, false],
    [100, 3, true],
    [1000, 2, true],
  ] as const) {
    const t = machine(guests, per);
    let edges = 0;
    const r = msPerCall(() => (edges = layoutTopology(t, { collapsed: () => collapsed, aspect: 1.4, stubLong: guests > 12 }).edges.length));
    const first = rows.length === 0 || !rows[rows.length - 1]!.name.includes('layout');
    rows.push({
      name: `${first ? '11.' : '   '} topology layout, ${guests + 1} domains${collapsed ? ', collapsed' : ''}`,
      value: r.ms,
      unit: 'ms',
      target: guests <= 100 ? '< 16' : '',
      pass: guests <= 100 ? r.ms < 16 : null,
      note: `${t.domains.reduce((n, d) => n + d.ports.length, 0)} ports, ${edges} edges drawn; ${r.calls} calls`,
    });
  }
  // The usual update while a run goes: the same structure, other bits (the key compared, the layout recoloured).
  {
    const t = machine(100, 3);
    const L = layoutTopology(t, { collapsed: () => false, aspect: 1.4, stubLong: true });
    const key = structureKey(t);
    const r = msPerCall(() => {
      if (structureKey(t) !== key) throw new Error('the structure changed');
      restate(L, t);
    });
    rows.push({ name: '    topology update, bits only, 101 domains', value: r.ms, unit: 'ms', target: '< 2', pass: r.ms < 2, note: `${r.calls} calls` });
  }
  // A second of records at 100,000 a second: scanned for handlers and their causes, fed to the activity model.
  const n = 100_000;
  const cols = columns(n);
  const kinds = ['hypercall', 'bit', 'upcall', 'handler', 'port', 'raise'];
  const a = new Activity();
  let now = 0;
  const r = msPerCall(() => {
    const s = HandlerScanner.forKinds(kinds);
    s.scan(cols, n, (dom, _port, causeDom, cause) => {
      if (cause === 'hypercall') a.notifyEdge(`e${dom}`, causeDom === 0, now);
    });
    a.tick((now += 16));
  });
  rows.push({ name: '    notification scan, 100,000 records (25,000 handlers)', value: r.ms, unit: 'ms', target: '< 4', pass: r.ms < 4, note: `${r.calls} calls; ${a.notified} notifications, ${a.dotsStarted} dots started` });
}
