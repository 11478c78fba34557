/**
 * `xenlab check EXERCISE [--solution FILE]`: grades a solution against an
 * exercise (docs/exercises.md) and prints each check with its result, points
 * and why, the total and the percentage, and the reporting guest's console
 * ending with its `Test result:` line. Exit 0 when every check succeeded, 1
 * when one failed or was skipped, 2 for bad input and for ERROR.
 */
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { FileError, readScenarioText } from '../host/files.js';
import { checkExercise, type GradedReport as ExerciseReport } from '../host/exercises.js';
import { parseSeed, UsageError } from './common.js';

export const CHECK_HELP = `xenlab check EXERCISE [--solution FILE] [--json] [--seed N]

Grades an exercise (a scenario with an exercise: block; docs/exercises.md): the solution's
steps go where the exercise's solution placeholder is, its TypeScript kernels replace the
guests the exercise names, the run goes to its end, and each of the exercise's checks is
evaluated. Results as the Xen Test Framework reports them: SUCCESS, SKIP (a check whose
required check did not succeed), FAILURE (it did not hold), ERROR (it could not be
evaluated: the solution does not load, or the run crashed, hit a sandbox limit or timed out).

  EXERCISE          the exercise file (YAML, or TypeScript: FILE.ts)
  --solution FILE   the student's solution: YAML with steps: [...], or TypeScript ending with
                    export default solution({ steps, kernels }); none grades the exercise as it is
  --json            print the report as one JSON object
  --seed N          use seed N instead of the exercise's (0..4294967295)
  -h, --help        show this help

TypeScript runs in a sandbox (XENLAB_SANDBOX_TIME_MS, default 2000 per call into it;
XENLAB_SANDBOX_MEMORY_MIB, default 64); a graded run may take XENLAB_CHECK_TIME_MS of real
time (default 20000) and 2,000,000 steps and machine events.

Exit codes: 0 every check succeeded; 1 a check failed or was skipped; 2 bad input, or ERROR.
`;

export function checkCommand(args: string[]): number | Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      solution: { type: 'string' },
      json: { type: 'boolean', default: false },
      seed: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(CHECK_HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'check needs an EXERCISE file (xenlab check EXERCISE --solution FILE)' : `check takes one EXERCISE, found ${positionals.length}`);
  const exercise = positionals[0]!;
  const seed = parseSeed(values.seed);
  if (values.solution === '') throw new UsageError('--solution needs a file name');
  const solution = values.solution === undefined ? undefined : { file: values.solution, text: readText(values.solution) };
  const limits = { timeLimitMs: envNumber('XENLAB_SANDBOX_TIME_MS', 2000), memoryLimitBytes: envNumber('XENLAB_SANDBOX_MEMORY_MIB', 64) * 2 ** 20 };
  const wallMs = envNumber('XENLAB_CHECK_TIME_MS', 20_000);
  return checkExercise(exercise, solution, { limits, wallMs, ...(seed === undefined ? {} : { seed }) }).then(
    (report) => {
      process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
      return exitCode(report);
    },
    (e: unknown) => {
      throw e instanceof FileError || e instanceof RangeError ? new UsageError((e as Error).message) : e;
    },
  );
}

/** 0 all SUCCESS; 1 the worst is SKIP or FAILURE; 2 ERROR. */
export function exitCode(r: ExerciseReport): number {
  return r.result === 'SUCCESS' ? 0 : r.result === 'ERROR' ? 2 : 1;
}

function readText(file: string): string {
  try {
    return readScenarioText(file);
  } catch (e) {
    if (e instanceof FileError) throw new UsageError(e.message);
    throw e;
  }
}

function envNumber(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  if (!/^\d+$/.test(v) || Number(v) === 0) throw new UsageError(`${name} expects a positive whole number, found "${v}"`);
  return Number(v);
}

/** The report for people: one line per check (and why, when it did not succeed), notes, total, console. */
export function formatReport(r: ExerciseReport): string {
  const out: string[] = [`${r.path}${r.solution === undefined ? ' (no solution: the exercise as it is)' : `, solution ${r.solution}`}${r.seed === undefined ? '' : `, seed ${r.seed}`}`];
  const idWidth = Math.max(...r.checks.map((c) => c.id.length), 2);
  const ptsWidth = Math.max(...r.checks.map((c) => `${c.earned}/${c.points}`.length), 3);
  for (const c of r.checks) {
    out.push(`  ${c.result.padEnd(7)}  ${`${c.earned}/${c.points}`.padStart(ptsWidth)}  ${c.id.padEnd(idWidth)}  ${c.title}`);
    if (c.result === 'SUCCESS') continue;
    const where = c.file === undefined ? '' : ` (${place(c.file)}${c.line === undefined ? '' : `:${c.line}:${c.col ?? 1}`})`;
    out.push(`  ${' '.repeat(7 + 2 + ptsWidth + 2 + idWidth + 2)}${c.message}${where}`);
  }
  if (r.notes !== undefined && r.notes.length > 0) {
    out.push('Not graded (what else the run noticed):');
    for (const n of r.notes) out.push(`  ${n}`);
  }
  out.push(`Total: ${r.earned} of ${r.total} point${r.total === 1 ? '' : 's'}, ${r.percent}%`);
  out.push(`── console ${'─'.repeat(50)}`);
  const body = r.console.replace(/\r\n/g, '\n').replace(/\r/g, '');
  out.push(body.endsWith('\n') ? body.slice(0, -1) : body);
  return `${out.join('\n')}\n`;
}

/** A path as the user would type it: relative to the working directory when that is shorter. */
function place(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel !== '' && !rel.startsWith('..') && rel.length < file.length ? rel : file;
}
