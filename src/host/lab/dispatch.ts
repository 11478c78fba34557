/**
 * Every request of the contract: its parameters checked strictly, then
 * carried out by the session worker, the file service, the drafts or the
 * exercises (listed and opened here; graded in the worker, whose run may be
 * long).
 */
import { realpathSync } from 'node:fs';
import { isAbsolute, sep } from 'node:path';
import { SCHEMA_ID } from '../../scenario/schema.js';
import { CONTRACT_VERSION, HostError, type HostMode, type Params, type RequestName, type Result } from '../../contract/api.js';
import { ScenarioInputError } from '../../scenario/errors.js';
import { listExercises, openExercise } from '../exercises.js';
import { FileError } from '../files.js';
import { defaultScenario, exercisePack, scenarioSchema, scenarioTypings, solutionSchema } from './assets.js';
import type { Drafts } from './drafts.js';
import type { FileService } from './file_service.js';
import { fileHostError, problemsHostError } from './host_errors.js';
import { int, NONE, num, obj, oneOf, optional, str, union, type Check } from './params.js';
import type { WorkerClient } from './worker_client.js';

export interface DialogProvider {
  pickOpen(kind: 'scenario' | 'recording'): Promise<string | null>;
  pickSave(kind: 'scenario' | 'recording' | 'trace', suggested: string): Promise<string | null>;
}

export interface DispatchContext {
  mode: HostMode;
  version: string;
  files: FileService;
  drafts: Drafts;
  worker: WorkerClient;
  dialogs: DialogProvider | undefined;
}

type Handler<K extends RequestName> = { params: Check<Params<K>>; run: (p: Params<K>, cx: DispatchContext) => Result<K> | Promise<Result<K>> };
type Handlers = { [K in RequestName]: Handler<K> };

const PATH = str({ max: 4096, nonEmpty: true });
const TEXT = str({ max: 16 * 2 ** 20 });
const FILE = str({ max: 4096 });
const LANG = oneOf('yaml', 'typescript');
const DOMID = int(0, 0x7fef);
const PORT = int(0, 2 ** 31 - 1);
const KIND_OPEN = oneOf('scenario', 'recording');
const KIND_SAVE = oneOf('scenario', 'recording', 'trace');
const KEY = str({ max: 512, nonEmpty: true });
const SPEED = union('mode', { units: { perSecond: num(1e-3, 1e9) }, realtime: { factor: num(1e-6, 1e9) }, max: {} });

const handlers: Handlers = {
  'app.info': {
    params: NONE as Check<Params<'app.info'>>,
    run: (_p, cx) => ({
      contractVersion: CONTRACT_VERSION,
      version: cx.version,
      mode: cx.mode,
      platform: process.platform,
      defaultScenario: defaultScenario(),
      roots: cx.files.roots.map((r) => ({ name: r.name, path: r.path })),
    }),
  },
  'editor.support': {
    params: NONE as Check<Params<'editor.support'>>,
    run: () => ({ jsonSchema: scenarioSchema(), schemaUri: SCHEMA_ID, typings: scenarioTypings(), solutionSchema: solutionSchema() }),
  },

  'session.open': {
    params: obj({ file: FILE, text: TEXT, lang: LANG, seed: optional(int(0, 2 ** 32 - 1)) }),
    run: (p, cx) => cx.worker.request('open', p),
  },
  'session.openRecording': {
    params: obj({ path: PATH }),
    run: (p, cx) => cx.worker.request('openRecording', { file: p.path, text: cx.files.readRecording(p.path) }),
  },
  'session.openRecordingText': {
    params: obj({ file: FILE, text: str({ max: 256 * 2 ** 20 }) }),
    run: (p, cx) => cx.worker.request('openRecording', p),
  },
  'session.validate': {
    params: obj({ file: FILE, text: TEXT, lang: LANG }),
    run: (p, cx) => cx.worker.request('validate', p),
  },
  'session.control': {
    params: obj({ action: oneOf('run', 'pause', 'step', 'stepBack', 'reset') }),
    run: (p, cx) => cx.worker.request('control', p),
  },
  'session.setSpeed': {
    params: obj({ speed: SPEED }) as unknown as Check<Params<'session.setSpeed'>>,
    run: (p, cx) => cx.worker.request('setSpeed', p),
  },
  'session.seek': {
    params: obj({ position: int(0, Number.MAX_SAFE_INTEGER) }),
    run: (p, cx) => cx.worker.request('seek', p),
  },
  'session.type': {
    params: obj({ domid: DOMID, data: str({ max: 64 * 1024 }) }),
    run: (p, cx) => cx.worker.request('type', p),
  },
  'session.records': {
    params: obj({ filter: str({ max: 4096 }), from: int(0, Number.MAX_SAFE_INTEGER), count: int(0, 1000) }),
    run: (p, cx) => cx.worker.request('records', p),
  },
  'session.record': {
    params: obj({ seq: int(0, Number.MAX_SAFE_INTEGER) }),
    run: (p, cx) => cx.worker.request('record', p),
  },
  'session.recordIndex': {
    params: obj({ filter: str({ max: 4096 }), seq: int(0, Number.MAX_SAFE_INTEGER) }),
    run: (p, cx) => cx.worker.request('recordIndex', p),
  },
  'session.topology': {
    params: NONE as Check<Params<'session.topology'>>,
    run: (_p, cx) => cx.worker.request('topology', {}),
  },
  'session.portStatus': {
    params: obj({ domid: DOMID, port: PORT }),
    run: (p, cx) => cx.worker.request('portStatus', p),
  },
  'session.consoleText': {
    params: obj({ domid: DOMID }),
    run: (p, cx) => cx.worker.request('consoleText', p),
  },
  'session.saveRecording': {
    params: obj({ path: PATH }),
    run: async (p, cx) => {
      const real = cx.files.forWrite(p.path);
      const { json } = await cx.worker.request('recordingJson', {});
      const r = cx.files.writeAtomic(real, json, p.path);
      cx.files.remember(p.path);
      return r;
    },
  },
  'session.exportTrace': {
    params: obj({ path: PATH, format: oneOf('jsonl', 'chrome-trace') }),
    run: async (p, cx) => ({ ...(await cx.worker.request('exportTrace', { path: cx.files.forWrite(p.path), format: p.format })), path: p.path }),
  },
  'session.sync': {
    params: obj({ traceFrom: int(0, Number.MAX_SAFE_INTEGER) }),
    run: (p, cx) => (cx.worker.started ? cx.worker.request('sync', p) : { session: null, consoles: [], failures: [] }),
  },
  'session.inspect': { params: obj({ domid: DOMID }), run: (p, cx) => cx.worker.request('inspect', p) },
  'session.explain': { params: obj({ domid: DOMID, port: PORT }), run: (p, cx) => cx.worker.request('explain', p) },

  'files.read': { params: obj({ path: PATH }), run: (p, cx) => cx.files.read(p.path) },
  'files.write': {
    params: obj({ path: PATH, text: TEXT, expectedMtimeMs: optional(num(0, Number.MAX_VALUE)) }),
    run: (p, cx) => cx.files.write(p.path, p.text, p.expectedMtimeMs),
  },
  'files.list': { params: obj({ path: PATH }), run: (p, cx) => cx.files.list(p.path) },
  'files.recent': { params: NONE as Check<Params<'files.recent'>>, run: (_p, cx) => ({ files: cx.files.recent() }) },
  'files.pickOpen': {
    params: obj({ kind: KIND_OPEN }),
    run: async (p, cx) => ({ path: cx.mode === 'web' || cx.dialogs === undefined ? null : await cx.dialogs.pickOpen(p.kind) }),
  },
  'files.pickSave': {
    params: obj({ kind: KIND_SAVE, suggested: str({ max: 4096 }) }),
    run: async (p, cx) => ({ path: cx.mode === 'web' || cx.dialogs === undefined ? null : await cx.dialogs.pickSave(p.kind, p.suggested) }),
  },
  'drafts.save': {
    params: obj({ key: KEY, file: FILE, text: TEXT }),
    run: (p, cx) => {
      cx.drafts.save(p.key, p.file, p.text);
      return {};
    },
  },
  'drafts.list': { params: NONE as Check<Params<'drafts.list'>>, run: (_p, cx) => ({ drafts: cx.drafts.list() }) },
  'drafts.read': { params: obj({ key: KEY }), run: (p, cx) => cx.drafts.read(p.key) },
  'drafts.discard': {
    params: obj({ key: KEY }),
    run: (p, cx) => {
      cx.drafts.discard(p.key);
      return {};
    },
  },

  'exercises.list': { params: NONE as Check<Params<'exercises.list'>>, run: () => ({ exercises: listExercises(exercisePack()) }) },
  'exercises.open': {
    params: obj({ path: PATH }),
    run: (p, cx) => {
      const real = exerciseFile(p.path, cx);
      try {
        return { ...openExercise(real), path: p.path };
      } catch (e) {
        throw inputError(e);
      }
    },
  },
  'exercises.check': {
    params: obj({ path: PATH, solution: optional(obj({ file: FILE, text: TEXT })) }),
    run: async (p, cx) => {
      const real = exerciseFile(p.path, cx);
      const report = await cx.worker.request('checkExercise', { path: real, ...(p.solution === undefined ? {} : { solution: p.solution }) });
      return { ...report, path: p.path };
    },
  },
};

/** Requests answered "not available yet", for the report and the docs. */
export const UNIMPLEMENTED_REQUESTS: readonly RequestName[] = [];

/** The real path of an exercise: one of the shipped pack (read-only, always reachable) or a file the UI may read. */
function exerciseFile(path: string, cx: DispatchContext): string {
  if (isAbsolute(path)) {
    const pack = realpathSync(exercisePack());
    let real: string | undefined;
    try {
      real = realpathSync(path);
    } catch {
      // not there: the file service says so
    }
    if (real !== undefined && real.startsWith(pack + sep)) return real;
  }
  return cx.files.forRead(path);
}

/** An exercise that does not load, or a file that is no exercise, as the UI is told it. */
function inputError(e: unknown): unknown {
  if (e instanceof ScenarioInputError) return problemsHostError(e);
  if (e instanceof FileError) return fileHostError(e);
  return e;
}

/** Checks `params` for request `name` and carries it out; every failure is a HostError. */
export async function dispatch(name: unknown, params: unknown, cx: DispatchContext): Promise<unknown> {
  if (typeof name !== 'string' || !Object.hasOwn(handlers, name)) {
    throw new HostError('bad-request', `unknown request ${typeof name === 'string' ? `"${name.slice(0, 80)}"` : `(${typeof name})`}`);
  }
  const h = handlers[name as RequestName] as Handler<RequestName>;
  const p = h.params(params === undefined ? {} : params, name);
  try {
    return await h.run(p as never, cx);
  } catch (e) {
    if (e instanceof HostError) throw e;
    throw new HostError('internal', `${name} failed: ${e instanceof Error ? e.message : String(e)}`);
  }
}
