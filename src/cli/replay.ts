/**
 * `xenlab replay REC`: run a recording again (its scenario, seed and console
 * input at their virtual times) and check the trace against the recording's
 * hash; when they differ, say at which record, with both runs' records.
 */
import { parseArgs } from 'node:util';
import type { TraceRecord } from '../core/sim/trace.js';
import { readRecording } from '../host/export.js';
import { FileError } from '../host/files.js';
import { ScenarioInputError } from '../scenario/errors.js';
import { RecordingError, replay, type Recording, type ReplayResult } from '../scenario/recording.js';
import { UsageError } from './common.js';

export const REPLAY_HELP = `xenlab replay REC [--json]

Runs a recording (made by xenlab run FILE --record REC) again: its scenario with its seed,
then the console input it recorded, each at the virtual time it came, and checks that the
trace is the same record for record (by its hash).

Options:
  --json       print one JSON object: ok, both runs' record counts and hashes, and where
               they diverge
  -h, --help   show this help

Exit codes: 0 the trace matches the recording; 1 the runs diverge (the first record that
differs is named by its seq, both runs' versions side by side); 2 the recording cannot be
read, or its scenario no longer loads.
`;

export function replayCommand(args: string[]): number {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(REPLAY_HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'replay needs a recording REC (xenlab run FILE --record REC makes one)' : `replay takes one REC, found ${positionals.length}`);
  const file = positionals[0]!;
  let rec: Recording;
  try {
    rec = readRecording(file);
  } catch (e) {
    if (e instanceof FileError) throw new UsageError(e.message);
    throw e;
  }
  let r: ReplayResult;
  try {
    r = replay(rec);
  } catch (e) {
    if (e instanceof ScenarioInputError && !(e instanceof RecordingError)) process.stderr.write(`xenlab: the scenario in ${file} (recorded from ${rec.file}) no longer loads:\n`);
    throw e;
  }
  if (values.json) process.stdout.write(`${JSON.stringify(toJson(file, rec, r), null, 2)}\n`);
  else process.stdout.write(human(file, rec, r));
  return r.ok ? 0 : 1;
}

function toJson(file: string, rec: Recording, r: ReplayResult): unknown {
  const d = r.divergence;
  return {
    ok: r.ok,
    recording: file,
    file: rec.file,
    seed: rec.seed,
    inputs: rec.inputs.length,
    recorded: { records: r.recorded.records, hash: r.recorded.hash },
    replayed: { records: r.replayed.records, hash: r.replayed.hash },
    ...(d === undefined ? {} : { divergence: { seq: d.seq, block: d.block, exact: d.exact, ...(d.why === undefined ? {} : { why: d.why }), recorded: d.recorded ?? null, replayed: d.replayed ?? null } }),
    input_problems: r.inputProblems,
    steps_ok: r.result.ok,
  };
}

function human(file: string, rec: Recording, r: ReplayResult): string {
  const typed = rec.inputs.filter((i) => i.kind === 'type').length;
  const inputs = typed === 0 ? 'no typed input' : `${typed} typed input${typed === 1 ? '' : 's'}`;
  const head = `replay of ${file} (${rec.file}, seed ${rec.seed}, ${inputs})`;
  const out: string[] = [];
  for (const p of r.inputProblems) out.push(`note: ${p}`);
  if (r.ok) {
    out.push(`${head}: ${r.replayed.records} trace records, hash ${r.replayed.hash}: the same as recorded`);
    return `${out.join('\n')}\n`;
  }
  const d = r.divergence;
  if (d === undefined) out.push(`${head}: the trace differs from the recording`);
  else if (d.exact) {
    out.push(`${head}: the runs diverge at record ${d.seq}${d.recorded === undefined ? ' (the recorded run ended before it)' : d.replayed === undefined ? ' (the replay ended before it)' : ''}`);
    out.push(...sideBySide(d.recorded, d.replayed));
  } else {
    out.push(`${head}: the runs diverge within records ${d.seq} to ${d.seq + r.recorded.block - 1} (block ${d.block})`);
    if (d.why !== undefined) out.push(`  ${d.why}`);
    if (d.replayed !== undefined) out.push(`  the replay's record ${d.seq}: ${JSON.stringify(d.replayed)}`);
  }
  out.push(`recorded: ${r.recorded.records} records, hash ${r.recorded.hash}; replayed: ${r.replayed.records} records, hash ${r.replayed.hash}`);
  return `${out.join('\n')}\n`;
}

/** Two records as a table of their fields, a "*" before each field that differs. */
function sideBySide(a: TraceRecord | undefined, b: TraceRecord | undefined): string[] {
  const ra = (a ?? {}) as Record<string, unknown>;
  const rb = (b ?? {}) as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(ra), ...Object.keys(rb)])];
  const cell = (r: Record<string, unknown>, present: boolean, k: string) => (!present ? '(none)' : k in r ? JSON.stringify(r[k]) : '-');
  const rows = keys.map((k) => [k, cell(ra, a !== undefined, k), cell(rb, b !== undefined, k)] as const);
  const w0 = Math.max(5, ...rows.map((x) => x[0].length));
  const w1 = Math.max(8, ...rows.map((x) => x[1].length));
  const lines = [`    ${'field'.padEnd(w0)}  ${'recorded'.padEnd(w1)}  replayed`];
  for (const [k, x, y] of rows) lines.push(`  ${x === y ? ' ' : '*'} ${k.padEnd(w0)}  ${x.padEnd(w1)}  ${y}`);
  return lines;
}
