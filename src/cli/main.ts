/**
 * The headless `xenlab` command. Thin: it reads files, calls the scenario
 * layer and prints. Exit codes: 0 all held, 1 an expectation failed, 2 the
 * input cannot run.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { decodeRecord, type TraceBatch } from '../core/sim/trace.js';
import { formatProblem, ScenarioInputError } from '../scenario/errors.js';
import { startLive, type LiveSession } from '../scenario/live.js';
import { runScenario, type RunResult } from '../scenario/runner.js';
import { checkPortBase, ConsoleServer, ConsoleServerError } from '../host/console_server.js';
import { loadScenario } from '../scenario/stepform.js';

const VERSION = '0.1.0';
const MAX_SCENARIO_BYTES = 16 * 2 ** 20;

const HELP = `xenlab — the XenLab simulator, headless

Usage:
  xenlab run FILE [--json] [--trace OUT.jsonl] [--seed N] [--console-port BASE]
  xenlab --help | --version

Commands:
  run FILE   build the scenario's domains, run its steps, check its expectations

Exit codes: 0 every expect and check held; 1 one failed; 2 the input cannot run.
`;

const RUN_HELP = `xenlab run FILE [options]

Runs a scenario file (YAML, step form) on a fresh simulated machine.

Options:
  --json            print one JSON object: ok, failures, and each step's result
  --trace OUT.jsonl write every trace record as JSON Lines
  --seed N          use seed N instead of the scenario's (0..4294967295)
  --console-port BASE
                    after the steps, keep the machine running in real time and offer each
                    domain's console on TCP port BASE + domid of 127.0.0.1, as xend did
                    (BASE 9600: nc 127.0.0.1 9601 attaches to domain 1); 0 picks free ports.
                    One line per console says where ("--json": on stderr). Runs until
                    Ctrl-C, SIGTERM or, when standard input is not a terminal, its end;
                    then exits with the run's exit code. --trace records the steps only.
  -h, --help        show this help
`;

class UsageError extends Error {}

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

function runCommand(args: string[]): number | Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      trace: { type: 'string' },
      seed: { type: 'string' },
      'console-port': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(RUN_HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'run needs a scenario FILE' : `run takes one FILE, found ${positionals.length}`);
  const file = positionals[0]!;
  let seed: number | undefined;
  if (values.seed !== undefined) {
    if (!/^\d+$/.test(values.seed) || Number(values.seed) > 0xffffffff) throw new UsageError(`--seed expects a whole number from 0 to 4294967295, found "${values.seed}"`);
    seed = Number(values.seed);
  }

  let consoleBase: number | undefined;
  if (values['console-port'] !== undefined) {
    const v = values['console-port'];
    if (!/^\d+$/.test(v) || Number(v) > 65535) throw new UsageError(`--console-port expects a port number from 1 to 65535 (or 0 for free ports), found "${v}"`);
    consoleBase = Number(v);
  }

  const text = readScenario(file);
  const scenario = loadScenario(file, text);
  if (consoleBase !== undefined) {
    const bad = checkPortBase(consoleBase, Math.max(0, ...scenario.domains.map((d) => d.domid)));
    if (bad !== undefined) throw new UsageError(`--console-port: ${bad}`);
  }
  const writer = values.trace === undefined ? undefined : new JsonlWriter(values.trace);
  let result: RunResult;
  let live: LiveSession | undefined;
  try {
    let untrace: (() => void) | undefined;
    const opts = {
      ...(seed === undefined ? {} : { seed }),
      onMachine: (hv: RunResult['hv']) => {
        if (writer !== undefined) untrace = hv.trace.subscribe((b) => writer.batch(b));
      },
    };
    if (consoleBase === undefined) result = runScenario(scenario, opts);
    else result = (live = startLive(scenario, opts)).result;
    untrace?.(); // a live session's trace is not recorded
    writer?.commit();
  } catch (e) {
    writer?.abort();
    throw e;
  }

  if (values.json) {
    const out = { ok: result.ok, file, name: scenario.name, seed: result.hv.seed, xen: scenario.xen, abi: scenario.abi, failures: result.failures, steps: result.steps, consoles: result.consoles };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } else printHuman(scenario.name, result, file);
  const code = result.ok ? 0 : 1;
  return live === undefined ? code : serveConsoles(live, consoleBase!, code, values.json ? process.stderr : process.stdout);
}

/** Keeps a run's machine going with its consoles on TCP until SIGINT, SIGTERM or stdin's end; resolves to `code`, or 2 if the simulation failed. */
async function serveConsoles(live: LiveSession, base: number, code: number, out: NodeJS.WritableStream): Promise<number> {
  let stop: (why: unknown) => void = () => {};
  const stopped = new Promise<unknown>((resolve) => (stop = resolve));
  let server: ConsoleServer;
  try {
    server = await ConsoleServer.start(live, { base, onError: (e) => stop(e) });
  } catch (e) {
    live.close();
    throw e instanceof ConsoleServerError ? new UsageError(`--console-port: ${e.message}`) : e;
  }
  for (const p of server.ports) out.write(`console of ${p.name} (domain ${p.domid}) on ${p.host}:${p.port}\n`);
  const onSignal = (sig: NodeJS.Signals) => stop(sig);
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  // The end of piped input stops it too; a terminal is left unread (a background job reading it would be stopped by SIGTTIN).
  const watchStdin = !process.stdin.isTTY;
  if (watchStdin) process.stdin.on('end', () => stop('eof')).on('error', () => stop('eof')).resume();
  const why = await stopped;
  process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  if (watchStdin) process.stdin.destroy();
  await server.close();
  live.close();
  if (why instanceof Error) throw why;
  return code;
}

function readScenario(file: string): string {
  let size: number;
  try {
    size = statSync(file).size;
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${reason(e)}`);
  }
  if (size > MAX_SCENARIO_BYTES) throw new UsageError(`${file} is ${(size / 2 ** 20).toFixed(1)} MiB; a scenario may be at most ${MAX_SCENARIO_BYTES / 2 ** 20} MiB`);
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${reason(e)}`);
  }
  const nul = buf.indexOf(0);
  if (nul >= 0) {
    const line = buf.subarray(0, nul).toString('utf8').split('\n').length;
    throw new ScenarioInputError([{ file, line, col: 1, path: '', message: 'this is not a text file (it contains a NUL byte)', hint: 'scenarios are YAML text' }]);
  }
  return buf.toString('utf8');
}

function reason(e: unknown): string {
  const code = (e as { code?: string }).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'it is a directory';
  return e instanceof Error ? e.message : String(e);
}

function printHuman(name: string, r: RunResult, file: string): void {
  const out: string[] = [`${name} — ${basename(file)}, seed ${r.hv.seed}`];
  for (const s of r.steps) {
    const mark = s.ok ? 'ok  ' : 'FAIL';
    const res = s.ret === undefined ? '' : `  → ${s.ret}${s.out ? ' ' + Object.entries(s.out).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(' ') : ''}`;
    out.push(`  ${mark} ${String(s.index).padStart(3)}  ${fmtTime(s.t).padStart(9)}  ${s.label}${res}`);
  }
  for (const [name, text] of Object.entries(r.consoles)) {
    out.push(`── console of ${name} ${'─'.repeat(Math.max(3, 60 - name.length))}`);
    const body = text.replace(/\r\n/g, '\n').replace(/\r/g, '');
    out.push(body.endsWith('\n') ? body.slice(0, -1) : body);
  }
  for (const f of r.failures) out.push(formatProblem({ ...f, message: f.message }));
  const held = r.steps.filter((s) => s.ok).length;
  out.push(r.ok ? `${r.steps.length} steps, all held` : `${r.steps.length} steps, ${r.steps.length - held} failed (${r.failures.length} failure${r.failures.length === 1 ? '' : 's'})`);
  process.stdout.write(`${out.join('\n')}\n`);
}

function fmtTime(ns: number): string {
  if (ns === 0) return '0';
  if (ns % 1e6 === 0) return `${ns / 1e6}ms`;
  if (ns % 1e3 === 0) return `${ns / 1e3}us`;
  return `${ns}ns`;
}

/** Trace records as JSON Lines, written to a temporary file renamed into place at the end. */
class JsonlWriter {
  private readonly tmp: string;
  private readonly fd: number;
  private pending: string[] = [];
  private pendingBytes = 0;

  constructor(private readonly target: string) {
    this.tmp = join(dirname(target), `.${basename(target)}.${process.pid}.tmp`);
    try {
      this.fd = openSync(this.tmp, 'w');
    } catch (e) {
      throw new UsageError(`cannot write ${target}: ${reason(e)}`);
    }
  }

  batch(b: TraceBatch): void {
    for (let i = b.start; i < b.end; i++) {
      const line = JSON.stringify(decodeRecord(b.chunk, i));
      this.pending.push(line);
      this.pendingBytes += line.length + 1;
    }
    if (this.pendingBytes > 1 << 20) this.drain();
  }

  private drain(): void {
    if (this.pending.length === 0) return;
    writeSync(this.fd, `${this.pending.join('\n')}\n`);
    this.pending = [];
    this.pendingBytes = 0;
  }

  commit(): void {
    this.drain();
    fsyncSync(this.fd);
    closeSync(this.fd);
    renameSync(this.tmp, this.target);
  }

  abort(): void {
    try {
      closeSync(this.fd);
      unlinkSync(this.tmp);
    } catch {
      // nothing left to clean
    }
  }
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
