/**
 * `xenlab run FILE`: build the scenario's machine, run its steps, print the
 * results and consoles (or JSON), optionally write the trace, optionally stay
 * live with each console on a loopback TCP port.
 */
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { writeRecording } from '../host/export.js';
import { AtomicFile, FileError, JsonlWriter, readScenarioText } from '../host/files.js';
import { checkPortBase, ConsoleServer, ConsoleServerError } from '../host/console_server.js';
import { isTypeScriptScenario } from '../host/ts_scenario.js';
import { formatProblem } from '../scenario/errors.js';
import { startLive, type LiveSession } from '../scenario/live.js';
import { Recorder } from '../scenario/recording.js';
import { Execution } from '../scenario/execution.js';
import type { Scenario } from '../scenario/model.js';
import type { RunResult } from '../scenario/runner.js';
import { loadScenario } from '../scenario/stepform.js';
import { parseSeed, readScenario, scenarioRunOptions, UsageError, withTypeScript } from './common.js';
import { Progress } from './progress.js';

export const RUN_HELP = `xenlab run FILE [options]

Runs a scenario file (YAML, step form; or TypeScript, FILE.ts: docs/typescript-scenarios.md)
on a fresh simulated machine.

Options:
  --json            print one JSON object: ok, failures, and each step's result
  --trace OUT.jsonl write every trace record as JSON Lines
  --record OUT      write a recording: the scenario, the seed, console input typed in a live
                    session (with its virtual time) and the trace's hash, for xenlab replay
                    (and xenlab export); with --console-port it covers the live part too and
                    is written when the session ends
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

export function runCommand(args: string[]): number | Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      trace: { type: 'string' },
      record: { type: 'string' },
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
  const seed = parseSeed(values.seed);

  let consoleBase: number | undefined;
  if (values['console-port'] !== undefined) {
    const v = values['console-port'];
    if (!/^\d+$/.test(v) || Number(v) > 65535) throw new UsageError(`--console-port expects a port number from 1 to 65535 (or 0 for free ports), found "${v}"`);
    consoleBase = Number(v);
  }

  if (values.record !== undefined && isTypeScriptScenario(file)) throw new UsageError(`--record takes a YAML scenario for now: a recording keeps the scenario's text, and replay reads YAML`);
  const viaSandbox = withTypeScript(file, () => runCommand(args));
  if (viaSandbox !== undefined) return viaSandbox;
  // A recording keeps the scenario's text: read it once, then check it.
  const text = values.record === undefined ? undefined : readText(file);
  const scenario = text === undefined ? readScenario(file) : loadScenario(file, text);
  if (consoleBase !== undefined) {
    const bad = checkPortBase(consoleBase, Math.max(0, ...scenario.domains.map((d) => d.domid)));
    if (bad !== undefined) throw new UsageError(`--console-port: ${bad}`);
  }
  const writer = values.trace === undefined ? undefined : openJsonl(values.trace);
  const recFile = values.record === undefined ? undefined : openAtomic(values.record, () => writer?.abort());
  const recorder = text === undefined ? undefined : new Recorder(file, text);
  let result: RunResult;
  let live: LiveSession | undefined;
  try {
    let untrace: (() => void) | undefined;
    const opts = {
      ...(seed === undefined ? {} : { seed }),
      ...scenarioRunOptions(scenario),
      onMachine: (hv: RunResult['hv']) => {
        if (writer !== undefined) untrace = hv.trace.subscribe((b) => writer.batch(b));
        recorder?.attach(hv.trace); // the recording goes on through a live session
      },
    };
    if (consoleBase === undefined) result = runWithProgress(scenario, opts);
    else result = (live = startLive(scenario, opts)).result;
    untrace?.(); // a live session's trace is not recorded
    writer?.commit();
    if (live === undefined && recFile !== undefined) saveRecording(recFile, recorder!.finish(result.hv.seed));
  } catch (e) {
    writer?.abort();
    recFile?.abort();
    throw e;
  }

  if (values.json) {
    const out = { ok: result.ok, file, name: scenario.name, seed: result.hv.seed, xen: scenario.xen, abi: scenario.abi, failures: result.failures, steps: result.steps, consoles: result.consoles };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } else printHuman(scenario.name, result, file);
  const code = result.ok ? 0 : 1;
  if (live === undefined) return code;
  const session = live;
  const served = serveConsoles(session, consoleBase!, code, values.json ? process.stderr : process.stdout);
  if (recFile === undefined) return served;
  return served.then(
    (c) => {
      saveRecording(recFile, recorder!.finish(session.hv.seed, session.inputs));
      return c;
    },
    (e: unknown) => {
      recFile.abort();
      throw e;
    },
  );
}

function readText(file: string): string {
  try {
    return readScenarioText(file);
  } catch (e) {
    if (e instanceof FileError) throw new UsageError(e.message);
    throw e;
  }
}

function openAtomic(target: string, onFail: () => void): AtomicFile {
  try {
    return new AtomicFile(target);
  } catch (e) {
    onFail();
    if (e instanceof FileError) throw new UsageError(e.message);
    throw e;
  }
}

function saveRecording(file: AtomicFile, rec: Parameters<typeof writeRecording>[1]): void {
  try {
    writeRecording(file, rec);
  } catch (e) {
    if (e instanceof FileError) throw new UsageError(e.message);
    throw e;
  }
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

function openJsonl(target: string): JsonlWriter {
  try {
    return new JsonlWriter(target);
  } catch (e) {
    if (e instanceof FileError) throw new UsageError(e.message);
    throw e;
  }
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

/** runScenario, with a progress bar on a terminal for runs long enough to want one. */
function runWithProgress(scenario: Scenario, opts: ConstructorParameters<typeof Execution>[1]): RunResult {
  const exec = new Execution(scenario, opts);
  const progress = new Progress(process.stderr, basename(scenario.file));
  const steps = scenario.steps.length;
  let units = 0;
  try {
    while (!exec.scriptDone) {
      exec.next();
      if ((++units & 1023) === 0) progress.update(exec.stepIndex, steps, `step ${exec.stepIndex}/${steps}, t = ${(exec.now / 1e9).toFixed(6)} s`);
    }
    exec.hv.trace.flush();
  } finally {
    progress.done();
  }
  return exec.result();
}
