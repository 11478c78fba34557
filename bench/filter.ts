/**
 * Trace filters at scale, for bench/index.ts (`--only=filter`): a million
 * decoded records from a real run (100 guests' timers, as bench/replay.ts),
 * filtered by compiled filters of each shape (kinds and numbers, the
 * hypercall port alias, names, time windows, text). Each count is checked
 * against the same question asked in plain JavaScript.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileFilter, parseFilter } from '../src/core/sim/filter.js';
import { TraceStore, type TraceRecord } from '../src/core/sim/trace.js';
import { runScenario } from '../src/scenario/runner.js';
import { loadScenario } from '../src/scenario/stepform.js';
import type { Row } from './table.js';
import { timerScenario } from './replay.js';

const N = 1_000_000;
const nowNs = (): bigint => process.hrtime.bigint();

function decodedRun(file: string, text: string, max: number): TraceRecord[] {
  const store = new TraceStore();
  runScenario(loadScenario(file, text), { onMachine: (hv) => void hv.trace.subscribe(store.subscriber) });
  const out: TraceRecord[] = [];
  for (const r of store.records()) {
    if (out.length === max) break;
    out.push(r);
  }
  return out;
}

/** A million records of every kind: the example scenarios' records, over and over (the same objects). */
function mixedRecords(): TraceRecord[] {
  const dir = join(import.meta.dirname, '../scenarios');
  const one = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') && !f.startsWith('xen2') && f !== 'plan9-boot.yaml')
    .flatMap((f) => decodedRun(f, readFileSync(join(dir, f), 'utf8'), Infinity));
  return Array.from({ length: N }, (_, i) => one[i % one.length]!);
}

interface Case {
  filter: string;
  oracle: (r: TraceRecord) => boolean;
}

const portOf = (r: TraceRecord): unknown =>
  r.kind === 'hypercall' ? (r.args.port ?? r.args.local_port ?? r.out?.port ?? r.out?.local_port) : (r as { port?: number }).port;

const CASES: Case[] = [
  { filter: 'kind==upcall && dom==1', oracle: (r) => r.kind === 'upcall' && r.dom === 1 },
  { filter: 'dom==1 && port==1 && op==bind_virq', oracle: (r) => r.dom === 1 && portOf(r) === 1 && r.kind === 'hypercall' && r.op === 'bind_virq' },
  { filter: 'virq==VIRQ_TIMER || ret<0', oracle: (r) => (r.kind === 'hypercall' ? r.args.virq === 0 || r.ret.startsWith('-') : (r as { virq?: number }).virq === 0) },
  { filter: 't > 1ms && t < 2s && !(kind==bit)', oracle: (r) => r.t > 1e6 && r.t < 2e9 && r.kind !== 'bit' },
  { filter: 'field==evtchn_pending && value==1 && by==xen', oracle: (r) => r.kind === 'bit' && r.field === 'evtchn_pending' && r.value === 1 && r.by === 'xen' },
  { filter: 'text ~ "DOMAIN" || name ~ /^g1\\d$/', oracle: (r) => ('text' in r && r.text.toLowerCase().includes('domain')) || ('name' in r && r.name !== undefined && /^g1\d$/.test(r.name)) },
];

/** Median of three timed passes after one warm-up pass. */
function timeFilter(records: readonly TraceRecord[], pred: (r: TraceRecord) => boolean): { ns: number; matched: number } {
  const pass = (): number => {
    let n = 0;
    for (let i = 0; i < records.length; i++) if (pred(records[i]!)) n++;
    return n;
  };
  const matched = pass();
  const times: number[] = [];
  for (let k = 0; k < 3; k++) {
    const t0 = nowNs();
    pass();
    times.push(Number(nowNs() - t0));
  }
  times.sort((a, b) => a - b);
  return { ns: times[1]!, matched };
}

export function benchFilter(rows: Row[]): void {
  const sets: [label: string, records: TraceRecord[]][] = [
    ["100 guests' timers", decodedRun('bench/timer-heavy.yaml', timerScenario(100, 10_000), N)],
    ['example scenarios, every kind', mixedRecords()],
  ];
  for (const [label, records] of sets) {
    if (records.length !== N) throw new Error(`filter bench: ${records.length} records, wanted ${N}`);
    for (const c of CASES) {
      const parsed = parseFilter(c.filter);
      if (!parsed.ok) throw new Error(`filter bench: ${c.filter}: ${parsed.error.message}`);
      const pred = compileFilter(parsed.filter);
      const { ns, matched } = timeFilter(records, pred);
      let want = 0;
      for (const r of records) if (c.oracle(r)) want++;
      const ok = matched === want;
      rows.push({
        name: `9. filter 1M records (${label}): ${c.filter}`,
        value: ns / 1e6,
        unit: 'ms',
        target: '< 300',
        pass: ok && ns < 300e6,
        note: ok ? `${matched} matched, as the plain-JS check` : `MISMATCH: ${matched} matched, the plain-JS check ${want}`,
      });
    }
  }
}
