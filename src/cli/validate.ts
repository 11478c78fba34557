/**
 * `xenlab validate FILE...`: checks scenario files without running them, with
 * the same checker as `xenlab run` (positions, expected/found, suggestions).
 * Exit 0 when every file is sound, 2 when any is not.
 */
import { parseArgs } from 'node:util';
import { FileError, readScenarioText } from '../host/files.js';
import { formatProblem, ScenarioInputError, type Problem } from '../scenario/errors.js';
import { loadScenario } from '../scenario/stepform.js';
import { UsageError } from './common.js';

export const VALIDATE_HELP = `xenlab validate FILE... [--json]

Checks scenario files without running them. Prints "FILE: ok" for a sound file, and
every problem of the others as file:line:col: path: message (as xenlab run does).

Options:
  --json       print one JSON object: ok, and for each file ok, problems (and error
               when the file cannot be read)
  -h, --help   show this help

Exit codes: 0 every file is sound; 2 one is not (or cannot be read).
`;

/** What validating one file found. */
export interface FileReport {
  file: string;
  ok: boolean;
  problems: Problem[];
  /** Why the file could not be read. */
  error?: string;
}

export function validateFile(file: string): FileReport {
  try {
    loadScenario(file, readScenarioText(file));
    return { file, ok: true, problems: [] };
  } catch (e) {
    if (e instanceof ScenarioInputError) return { file, ok: false, problems: e.problems };
    if (e instanceof FileError) return { file, ok: false, problems: [], error: e.message };
    throw e;
  }
}

export function validateCommand(args: string[]): number {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(VALIDATE_HELP);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('validate needs at least one scenario FILE');
  const reports = positionals.map(validateFile);
  const ok = reports.every((r) => r.ok);
  if (values.json) process.stdout.write(`${JSON.stringify({ ok, files: reports }, null, 2)}\n`);
  else {
    const out: string[] = [];
    for (const r of reports) {
      if (r.ok) out.push(`${r.file}: ok`);
      else if (r.error !== undefined) out.push(`xenlab: ${r.error}`);
      else out.push(...r.problems.map(formatProblem));
    }
    if (reports.length > 1) {
      const bad = reports.filter((r) => !r.ok).length;
      out.push(`${reports.length} files: ${reports.length - bad} ok, ${bad} with problems`);
    }
    process.stdout.write(`${out.join('\n')}\n`);
  }
  return ok ? 0 : 2;
}
