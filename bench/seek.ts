/**
 * Seeking in a long run, for bench/index.ts (`--only=seek`): the lab's own
 * session (src/host/lab/session.ts, in this process rather than its worker)
 * runs the 100-guest timer scenario of bench/replay.ts to the end of its
 * script (over a million trace records), then seeks back to a quarter, the
 * middle and near the end, and forward again — what Step back, Reset and a
 * click on the timeline ask of it. Each seek executes the scenario again
 * with the logged inputs up to the position (the machine is deterministic).
 */
import { compileScenario } from '../src/host/lab/compile.js';
import { LabSession, type SessionSink } from '../src/host/lab/session.js';
import type { Row } from './table.js';
import { timerScenario } from './replay.js';

const nowNs = (): bigint => process.hrtime.bigint();

const quiet: SessionSink = { event: () => undefined, busy: () => undefined };

export async function benchSeek(rows: Row[]): Promise<void> {
  const c = await compileScenario('bench/timer-heavy.yaml', timerScenario(100, 10_000), 'yaml');
  if (!c.ok) throw new Error('seek bench: the scenario does not load');
  const s = LabSession.start(c.compiled, quiet);
  try {
    let st = s.status();
    while (!st.scriptDone) st = s.seek(st.position + 100_000);
    const end = st.position;
    const records = st.records;
    // Warm-up: the JIT sees the re-execution path once.
    s.seek(Math.floor(end / 8));
    s.seek(end);
    const times: { label: string; ms: number; records: number }[] = [];
    for (const [label, target] of [
      ['back to 1/4', Math.floor(end / 4)],
      ['back to 1/2', Math.floor(end / 2)],
      ['back to the end - 1', end - 1],
      ['forward to the end', end],
      ['back to 0 (Reset)', 0],
    ] as const) {
      const t0 = nowNs();
      const r = s.seek(target);
      times.push({ label, ms: Number(nowNs() - t0) / 1e6, records: r.records });
    }
    const worst = Math.max(...times.map((t) => t.ms));
    rows.push({
      name: `8. seek in a run of ${(records / 1e6).toFixed(2)}M records (worst of ${times.length})`,
      value: worst,
      unit: 'ms',
      target: '< 200',
      pass: records >= 1e6 && worst < 200,
      note: `${end} units; ${times.map((t) => `${t.label}: ${t.ms.toFixed(0)} ms (${t.records} records)`).join('; ')}`,
    });
  } finally {
    s.close();
  }
}
