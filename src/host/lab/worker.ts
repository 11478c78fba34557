/**
 * The session worker (node:worker_threads): one per lab host, holding at
 * most one session. The simulation runs here so the host's thread (the
 * Electron main process, the web server) never blocks on it and can
 * terminate it if it stops answering. Built to dist/host/lab_worker.mjs
 * (npm run build:host) and found by worker_file.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { HostError } from '../../contract/api.js';
import { ScenarioInputError } from '../../scenario/errors.js';
import type { OpenResult } from '../../contract/session.js';
import { checkExercise } from '../exercises.js';
import { FileError } from '../files.js';
import { compileScenario, setSandboxTimeLimit } from './compile.js';
import { problemsHostError } from './host_errors.js';
import { LabSession, type SessionSink } from './session.js';
import type { FromWorker, ToWorker, WorkerOps } from './worker_protocol.js';

setSandboxTimeLimit((workerData as { sandboxTimeMs?: number } | null)?.sandboxTimeMs);

const port = parentPort;
if (port === null) throw new Error('worker.ts runs as a worker thread (node:worker_threads)');

function post(m: FromWorker): void {
  port!.postMessage(m);
}

const sink: SessionSink = {
  event(name, payload) {
    post({ kind: 'event', event: name, payload });
  },
  busy() {
    post({ kind: 'busy' });
  },
};

let session: LabSession | undefined;

/** Real time a graded run may take here: under the host's stall limit for a worker that stops answering. */
const CHECK_WALL_MS = 8_000;

function current(): LabSession {
  if (session === undefined) throw new HostError('no-session', 'no scenario is open: open one first');
  return session;
}

function opened(s: LabSession): OpenResult {
  session?.close();
  session = s;
  return { ok: true, session: s.info(), status: s.status(), topology: s.topology() };
}

type Handlers = { [K in keyof WorkerOps]: (p: WorkerOps[K]['params']) => WorkerOps[K]['result'] | Promise<WorkerOps[K]['result']> };

const handlers: Handlers = {
  async open(p) {
    const c = await compileScenario(p.file, p.text, p.lang);
    if (!c.ok) return { ok: false, problems: c.problems };
    const speed = session?.status().speed;
    return opened(LabSession.start(c.compiled, sink, { ...(p.seed === undefined ? {} : { seed: p.seed }), ...(speed === undefined ? {} : { speed }) }));
  },
  async openRecording(p) {
    try {
      return opened(await LabSession.fromRecording(p.file, p.text, sink, session?.status().speed));
    } catch (e) {
      if (e instanceof ScenarioInputError) return { ok: false, problems: e.problems };
      throw e;
    }
  },
  async validate(p) {
    const c = await compileScenario(p.file, p.text, p.lang);
    if (c.ok) c.compiled.dispose();
    return { problems: c.ok ? [] : c.problems };
  },
  control: (p) => current().control(p.action),
  setSpeed: (p) => current().setSpeed(p.speed),
  seek: (p) => current().seek(p.position),
  type: (p) => current().type(p.domid, p.data),
  records: (p) => current().records(p.filter, p.from, p.count),
  record: (p) => ({ record: current().record(p.seq) }),
  recordIndex: (p) => current().recordIndex(p.filter, p.seq),
  topology: () => current().topology(),
  portStatus: (p) => current().portStatus(p.domid, p.port),
  inspect: (p) => current().inspect(p.domid),
  explain: (p) => current().explain(p.domid, p.port),
  consoleText: (p) => current().consoleText(p.domid),
  recordingJson: () => ({ json: current().recordingJson() }),
  exportTrace: (p) => current().exportTrace(p.path, p.format),
  sync: (p) => (session === undefined ? { session: null, consoles: [], failures: [] } : session.sync(p.traceFrom)),
  async checkExercise(p) {
    try {
      // Under the host's stall limit, so a slow solution is an ERROR report rather than a stopped worker.
      return await checkExercise(p.path, p.solution, { wallMs: CHECK_WALL_MS });
    } catch (e) {
      if (e instanceof ScenarioInputError) throw problemsHostError(e);
      throw e;
    }
  },
  close() {
    session?.close();
    session = undefined;
    return {};
  },
};

port.on('message', (m: ToWorker) => {
  const handler = handlers[m.op] as ((p: unknown) => unknown) | undefined;
  Promise.resolve()
    .then(() => {
      if (handler === undefined) throw new HostError('bad-request', `unknown worker operation "${String(m.op)}"`);
      return handler(m.params);
    })
    .then(
      (result) => post({ kind: 'reply', id: m.id, ok: true, result }),
      (e: unknown) => {
        const error =
          e instanceof HostError
            ? e.toData()
            : e instanceof FileError
              ? { code: 'io' as const, message: e.message }
              : { code: 'internal' as const, message: `the simulation failed: ${e instanceof Error ? e.message : String(e)}` };
        if (!(e instanceof HostError) && !(e instanceof FileError)) console.error('xenlab session worker:', e);
        post({ kind: 'reply', id: m.id, ok: false, error });
      },
    );
});
