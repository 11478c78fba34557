/**
 * Recordings at scale, for bench/index.ts (`--only=replay`): a timer-heavy
 * scenario (100 guests, each with VIRQ_TIMER bound, 100 Hz for 10 s of
 * virtual time: over a million trace records) is recorded, its recording
 * written as JSON and read back; then
 *  - replayed with its trace hash verified (the whole path of `xenlab replay`:
 *    load the scenario, run it, hash every record, compare block by block);
 *  - exported to chrome-trace and to JSON Lines (the path of `xenlab export`:
 *    replay, encode each batch as it comes, write to a file in ~1 MiB pieces),
 *    with the heap after a forced GC before and after, and its peak sampled
 *    during the export, to show memory stays flat.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { exportToFile, type TraceSource } from '../src/host/export.js';
import { parseRecording, recordRun, recordingToJson, replay, type Recording } from '../src/scenario/recording.js';
import type { Row } from './table.js';

const nowNs = (): bigint => process.hrtime.bigint();

const gc: () => void = (() => {
  const g = (globalThis as { gc?: () => void }).gc;
  if (typeof g === 'function') return g;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

function heapAfterGc(): number {
  for (let i = 0; i < 3; i++) gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

const MiB = 2 ** 20;

/** `guests` guests with VIRQ_TIMER bound on vCPU 0, then `runMs` of virtual time. */
export function timerScenario(guests: number, runMs: number): string {
  const lines = ['name: timer-heavy replay bench', 'domains:', '  - name: dom0'];
  for (let i = 1; i <= guests; i++) lines.push(`  - name: g${i}`);
  lines.push('steps:');
  for (let i = 1; i <= guests; i++) lines.push(`  - { as: g${i}, op: bind_virq, args: { virq: VIRQ_TIMER, vcpu: 0 } }`);
  // In 100 ms steps: the machine hands its trace to subscribers when a run ends (Hypervisor.runUntil flushes once),
  // so one long run would buffer every record of it in the trace before the export saw any.
  for (let t = 0; t < runMs; t += 100) lines.push(`  - run: ${Math.min(100, runMs - t)}ms`);
  return `${lines.join('\n')}\n`;
}

/** Records the bench's run and reads its recording back from JSON; only the read-back recording is kept. */
function makeRecording(file: string): { rec: Recording; N: number; recordNs: number; ioNs: number; jsonBytes: number } {
  let t0 = nowNs();
  const made = recordRun(file, timerScenario(100, 10_000), { keep: 2_000_000 }); // records kept (the default keeps up to 1M)
  const recordNs = Number(nowNs() - t0);
  if (!made.result.ok) throw new Error('replay bench: the scenario failed');
  t0 = nowNs();
  const json = recordingToJson(made.recording);
  const rec = parseRecording(file, json);
  const ioNs = Number(nowNs() - t0);
  return { rec, N: rec.trace.records, recordNs, ioNs, jsonBytes: json.length };
}

export function benchReplay(rows: Row[]): void {
  const file = 'bench/timer-heavy.yaml';
  const { rec, N, recordNs, ioNs, jsonBytes } = makeRecording(file);
  let t0: bigint;
  rows.push({
    name: `8. record a run of ${fmtCount(N)} trace records (100 guests' timers)`,
    value: recordNs / 1e9,
    unit: 's',
    target: '-',
    pass: null,
    note: `${N} records; recording ${(jsonBytes / MiB).toFixed(1)} MiB of JSON (${(jsonBytes / N).toFixed(1)} B/record with the records kept), made into JSON and read back in ${(ioNs / 1e9).toFixed(2)} s`,
  });

  // Replay: a warm-up on a short run first, so the JIT has seen the code (as a second replay would).
  replay(recordRun(file, timerScenario(100, 500)).recording);
  t0 = nowNs();
  const r = replay(rec);
  const replayNs = Number(nowNs() - t0);
  rows.push({
    name: `8. replay ${fmtCount(N)} records and verify the trace hash`,
    value: replayNs / 1e9,
    unit: 's',
    target: '< 2',
    pass: r.ok && N >= 1e6 && replayNs < 2e9,
    note: r.ok ? `hash ${r.replayed.hash} matches (${r.replayed.blocks.length} blocks of ${r.replayed.block})` : `MISMATCH at record ${r.divergence?.seq}`,
  });

  const dir = mkdtempSync(join(tmpdir(), 'xenlab-bench-'));
  try {
    const src: TraceSource = { kind: 'recording', file, recording: rec };
    // Warm-up, as for the replay: a short run exported both ways.
    const warm: TraceSource = { kind: 'recording', file, recording: recordRun(file, timerScenario(100, 500)).recording };
    for (const format of ['chrome-trace', 'jsonl'] as const) exportToFile(warm, format, join(dir, 'warm'));
    for (const format of ['chrome-trace', 'jsonl'] as const) {
      const out = join(dir, `trace.${format === 'jsonl' ? 'jsonl' : 'json'}`);
      const before = heapAfterGc();
      let peak = before;
      let lastSample = 0;
      let lastWrite = 0n;
      const cpu0 = process.cpuUsage();
      t0 = nowNs();
      // The path of `xenlab export -o`: the heap is sampled every 8 MiB written.
      const e = exportToFile(src, format, out, {
        onWrite(bytes) {
          lastWrite = nowNs();
          if (bytes - lastSample < 8 * MiB) return;
          lastSample = bytes;
          const m = process.memoryUsage();
          peak = Math.max(peak, m.heapUsed + m.arrayBuffers);
        },
      });
      const t1 = nowNs();
      const ns = Number(t1 - t0);
      const cpu = process.cpuUsage(cpu0);
      const commitNs = Number(t1 - lastWrite);
      const after = heapAfterGc();
      const size = statSync(out).size;
      const ok = e.records === N && e.replay?.ok === true;
      const chrome = format === 'chrome-trace';
      rows.push({
        name: `8. export ${fmtCount(N)} records to ${format} (streamed to a file)`,
        value: ns / 1e9,
        unit: 's',
        target: chrome ? '< 3' : '-',
        pass: chrome ? ok && ns < 3e9 : null,
        note: `${ok ? `${e.records} records` : 'MISMATCH'}; ${(size / MiB).toFixed(0)} MiB written (${(size / N).toFixed(0)} B/record), of which fsync and rename took ${(commitNs / 1e9).toFixed(2)} s; CPU ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s`,
      });
      rows.push({
        name: `   heap before -> after the ${format} export (forced GC)`,
        value: (after - before) / MiB,
        unit: 'MiB',
        target: chrome ? '< 32' : '-',
        pass: chrome ? after - before < 32 * MiB : null,
        note: `before ${(before / MiB).toFixed(1)} MiB, after ${(after / MiB).toFixed(1)} MiB, peak sampled during ${(peak / MiB).toFixed(1)} MiB (JS heap + buffers)`,
      });
      rmSync(out, { force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function fmtCount(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n.toLocaleString('en-US');
}
