/**
 * The event list's paging, for bench/index.ts (`--only=events`): the host's
 * session.records over 1.3 million records of a real run (120,000 sends on
 * an interdomain channel with their bits, upcalls and handlers), as the
 * event list asks when a filter is applied: the first page, which scans the
 * whole trace, then a page at the end (the matches are remembered). Each
 * filter is also timed without the kind prefilter (`(f) || seq<0` matches the
 * same records but names no kind), and the counts are checked equal.
 */
import { RecordPages } from '../src/host/lab/records.js';
import { TraceLog } from '../src/host/lab/trace_log.js';
import { runScenario } from '../src/scenario/runner.js';
import { loadScenario } from '../src/scenario/stepform.js';
import type { Row } from './table.js';

const SENDS = 120_000;

const SCENARIO = `name: A million records
domains:
  - name: dom0
  - name: guest
steps:
  - { as: guest, op: alloc_unbound, args: { dom: DOMID_SELF, remote_dom: dom0 }, save: { port: gport } }
  - { as: dom0, op: bind_interdomain, args: { remote_dom: guest, remote_port: $gport }, save: { local_port: dport } }
  - { as: dom0, op: send, args: { port: $dport }, at: 1ms, repeat: ${SENDS}, every: 20us }
`;

const FILTERS = ['kind==hypercall && op==send', 'kind==upcall || kind==handler', 'dom==1 && port==1', '!(kind==bit) && t > 1s'];

/** The first page of a filter on fresh pages (a full scan), then the last page; the median of three. */
function timePages(log: TraceLog, filter: string): { firstMs: number; lastMs: number; total: number } {
  const runs: { firstMs: number; lastMs: number; total: number }[] = [];
  for (let k = 0; k < 3; k++) {
    const pages = new RecordPages(log, '4');
    const t0 = performance.now();
    const first = pages.page(filter, 0, 100);
    const t1 = performance.now();
    pages.page(filter, Math.max(0, first.total - 100), 100);
    runs.push({ firstMs: t1 - t0, lastMs: performance.now() - t1, total: first.total });
  }
  runs.sort((a, b) => a.firstMs - b.firstMs);
  return runs[1]!;
}

export function benchEvents(rows: Row[]): void {
  const log = new TraceLog();
  runScenario(loadScenario('million.yaml', SCENARIO), { onMachine: (hv) => void hv.trace.subscribe(log.subscriber) });
  for (const f of FILTERS) {
    const fast = timePages(log, f);
    const full = timePages(log, `(${f}) || seq<0`);
    const ok = fast.total === full.total;
    rows.push({
      name: `10. event list: filter ${(log.count / 1e6).toFixed(2)}M records, first page: ${f}`,
      value: fast.firstMs,
      unit: 'ms',
      target: '< 500',
      pass: ok && fast.firstMs < 500,
      note: ok ? `${fast.total} matched; without the kind prefilter ${full.firstMs.toFixed(0)} ms; the last page then ${fast.lastMs.toFixed(1)} ms` : `MISMATCH: ${fast.total} with the kind prefilter, ${full.total} without`,
    });
  }
  const t0 = performance.now();
  new RecordPages(log, '4').page('', log.count - 100, 100);
  rows.push({ name: '   event list: the last page, no filter', value: performance.now() - t0, unit: 'ms', target: '-', pass: null });
}
