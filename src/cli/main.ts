/**
 * The headless `xenlab` command. Thin: it reads files, calls the scenario
 * layer and prints. Exit codes: 0 all held, 1 an expectation failed, 2 the
 * input cannot run.
 */
import { formatProblem, ScenarioInputError } from '../scenario/errors.js';
import { checkCommand } from './check.js';
import { UsageError } from './common.js';
import { exportCommand } from './export.js';
import { replayCommand } from './replay.js';
import { runCommand } from './run.js';
import { schemaCommand } from './schema.js';
import { validateCommand } from './validate.js';

const VERSION = '0.1.0';

const HELP = `xenlab — the XenLab simulator, headless

Usage:
  xenlab run FILE [--json] [--trace OUT.jsonl] [--record REC] [--seed N] [--console-port BASE]
  xenlab check EXERCISE [--solution FILE] [--json] [--seed N]
  xenlab replay REC [--json]
  xenlab export REC|FILE --format jsonl|chrome-trace [-o OUT] [--seed N]
  xenlab validate FILE... [--json]
  xenlab schema [-o FILE]
  xenlab --help | --version

Commands:
  run FILE   build the scenario's domains, run its steps, check its expectations
  check      grade a solution against an exercise: each check's result, points and why
  replay REC run a recording again and check its trace hash (1: the runs diverge)
  export     a recording's or scenario's trace as JSON Lines or Chrome trace JSON (Perfetto)
  validate   check scenario files without running them (exit 2 when one is not sound)
  schema     print the JSON Schema of scenario files, for editors

Exit codes: 0 every expect and check held; 1 one failed; 2 the input cannot run.
(check: 0 every graded check succeeded; 1 one failed or was skipped; 2 bad input or ERROR.)
Each command takes --help.
`;

function main(argv: string[]): number | Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(HELP);
    return command === undefined ? 2 : 0;
  }
  if (command === '--version' || command === '-v') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  if (command === 'run') return runCommand(rest);
  if (command === 'check') return checkCommand(rest);
  if (command === 'replay') return replayCommand(rest);
  if (command === 'export') return exportCommand(rest);
  if (command === 'validate') return validateCommand(rest);
  if (command === 'schema') return schemaCommand(rest);
  throw new UsageError(`unknown command "${command}" (try: xenlab run FILE, xenlab check EXERCISE --solution FILE, xenlab replay REC, xenlab export REC|FILE)`);
}

function exit(code: number): never {
  process.exitCode = code;
  return undefined as never;
}

function fail(e: unknown): void {
  if (e instanceof ScenarioInputError) {
    process.stderr.write(`${e.problems.map(formatProblem).join('\n')}\n`);
    process.stderr.write(`${e.problems.length} problem${e.problems.length === 1 ? '' : 's'}; nothing was run\n`);
  } else if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`xenlab: ${(e as Error).message}\n`);
  } else {
    process.stderr.write(`xenlab: internal error: ${e instanceof Error ? e.message : String(e)}\nPlease report this with the scenario that caused it.\n`);
  }
  exit(2);
}

try {
  const code = main(process.argv.slice(2));
  if (typeof code === 'number') exit(code);
  else code.then(exit, fail);
} catch (e) {
  fail(e);
}
