/**
 * `xenlab export REC|FILE --format jsonl|chrome-trace [-o OUT]`: the trace of
 * a recording (replayed) or of a scenario (run), as JSON Lines or as Chrome
 * trace-event JSON for Perfetto and chrome://tracing; streamed, to OUT
 * (written atomically) or standard output.
 */
import { parseArgs } from 'node:util';
import { EXPORT_FORMATS, exportToFile, readTraceSource, type ExportFormat, type TraceSource } from '../host/export.js';
import { FileError } from '../host/files.js';
import { parseSeed, UsageError } from './common.js';

export const EXPORT_HELP = `xenlab export REC|FILE --format jsonl|chrome-trace [-o OUT] [--seed N]

Writes the trace of a recording (replayed: xenlab run --record makes one) or of a scenario
file (run) in another form:
  jsonl          one JSON object per trace record, as xenlab run --trace writes them
  chrome-trace   the Chrome trace-event format: open it in Perfetto (ui.perfetto.dev) or
                 chrome://tracing. A process per domain with a thread per vCPU, a Xen process
                 for VIRQ/PIRQ raises; hypercalls, upcalls and handlers as slices; lifecycle,
                 bits and other records as instants; each notification as an arrow from the
                 slice that raised it to the handler that took it. Records at the same virtual
                 instant are shown 4 ns apart (each event's args carry its exact time, t).

Options:
  --format F     jsonl or chrome-trace
  -o, --output OUT
                 write to OUT (atomically: nothing is left there if the export fails);
                 standard output when not given
  --seed N       run a scenario with seed N instead of its own (a recording has its seed)
  -h, --help     show this help

Exit codes: 0 written; 2 the input cannot be read or run, or bad options.
`;

export function exportCommand(args: string[]): number {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      format: { type: 'string' },
      output: { type: 'string', short: 'o' },
      seed: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(EXPORT_HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'export needs a recording REC or a scenario FILE' : `export takes one REC or FILE, found ${positionals.length}`);
  const format = values.format;
  if (format === undefined) throw new UsageError(`export needs --format ${EXPORT_FORMATS.join(' or ')}`);
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format expects ${EXPORT_FORMATS.join(' or ')}, found "${format}"`);
  const seed = parseSeed(values.seed);
  const file = positionals[0]!;
  try {
    const src: TraceSource = readTraceSource(file);
    if (src.kind === 'recording' && seed !== undefined) throw new UsageError(`--seed is for a scenario; ${file} is a recording, which replays with its own seed (${src.recording.seed})`);
    const r = exportToFile(src, format as ExportFormat, values.output, seed === undefined ? {} : { seed });
    const d = r.replay?.divergence;
    if (r.replay !== undefined && !r.replay.ok)
      process.stderr.write(`xenlab: warning: the replay of ${file} diverges from the recording${d === undefined ? '' : ` at record ${d.seq}`} (xenlab replay ${file} shows where); exported the replay's trace\n`);
    if (values.output !== undefined) process.stdout.write(`${r.records} trace records written to ${values.output} (${format})\n`);
    return 0;
  } catch (e) {
    if (e instanceof FileError) throw new UsageError(e.message);
    throw e;
  }
}
