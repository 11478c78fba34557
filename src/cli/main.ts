/**
 * The headless `xenlab` command. Thin: it reads files, calls the scenario
 * layer and prints. Exit codes: 0 all held, 1 an expectation failed, 2 the
 * input cannot run.
 */
import { formatProblem, ScenarioInputError } from '../scenario/errors.js';
import { UsageError } from './common.js';
import { runCommand } from './run.js';

const VERSION = '0.1.0';

const HELP = `xenlab — the XenLab simulator, headless

Usage:
  xenlab run FILE [--json] [--trace OUT.jsonl] [--seed N] [--console-port BASE]
  xenlab --help | --version

Commands:
  run FILE   build the scenario's domains, run its steps, check its expectations

Exit codes: 0 every expect and check held; 1 one failed; 2 the input cannot run.
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
  throw new UsageError(`unknown command "${command}" (try: xenlab run FILE)`);
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
