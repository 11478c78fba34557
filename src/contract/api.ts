/**
 * The contract between the host (the lab sessions, files, exercises) and the
 * UI: every request with its parameters and result, every event the host
 * streams. One contract, three transports:
 *  - Electron: the preload exposes `HostApi` as `window.xenlab` over IPC;
 *  - web mode: the same messages as JSON over a WebSocket on 127.0.0.1;
 *  - tests: the host's dispatcher called directly.
 * Everything here is plain data (JSON-safe: no Uint8Array, no Map, no
 * undefined in arrays), so both transports carry it unchanged. Bytes travel
 * as base64 strings.
 */
import type { ExerciseInfo, ExerciseReport } from './exercise.js';
import type { DirListing, DraftInfo, FileText, RecentFile, SaveResult } from './files.js';
import type { Explanation, InspectView, PortStatus } from './inspect.js';
import type {
  ConsoleChunk,
  ControlAction,
  OpenResult,
  Problem,
  RecordIndex,
  RecordsPage,
  RunFailure,
  ScenarioLang,
  SessionStatus,
  SessionSync,
  Speed,
  Topology,
  TraceBatchMessage,
  TypeResult,
} from './session.js';

/** Bumped on any incompatible change; the web client and the preload check it. */
export const CONTRACT_VERSION = 1;

/** Where the UI runs: inside the desktop app, or in a browser against `npm run web`. */
export type HostMode = 'electron' | 'web';

export interface AppInfo {
  contractVersion: number;
  version: string;
  mode: HostMode;
  platform: string;
  /** The embedded default scenario (Plan 9 booting on Xen 2.0), opened on first start. */
  defaultScenario: FileText;
  /** Folders the UI may browse for scenarios and exercises (web mode: only these). */
  roots: { name: string; path: string }[];
}

/** Editor support: the scenario JSON Schema (for monaco-yaml) and the TypeScript API's typings. */
export interface EditorSupport {
  /** The scenario files' JSON Schema (draft-07), as `xenlab schema` prints it. */
  jsonSchema: unknown;
  /** Its URI, as scenario files reference it. */
  schemaUri: string;
  /** types/xenlab-scenario.d.ts: `declare module 'xenlab' { ... }`. */
  typings: string;
  /** An exercise solution's JSON Schema (`xenlab schema --solution`), for YAML solution buffers. */
  solutionSchema?: unknown;
}

/** A command the desktop shell's menu sends to the page (keyboard shortcuts do the same in web mode). */
export type MenuCommand =
  | 'file.new'
  | 'file.open'
  | 'file.save'
  | 'file.saveAs'
  | 'file.openRecording'
  | 'file.exportTrace'
  | 'session.run'
  | 'session.pause'
  | 'session.step'
  | 'session.stepBack'
  | 'session.reset'
  | 'view.editor'
  | 'view.consoles'
  | 'view.topology'
  | 'view.events'
  | 'view.timeline'
  | 'view.inspector'
  | 'view.exercise'
  | 'view.problems'
  | 'app.about';

/**
 * Every request: `params` in, `result` out. A request that cannot be done
 * rejects with a `HostError` (code + message for a person) and changes nothing.
 */
export interface Requests {
  'app.info': { params: Record<string, never>; result: AppInfo };
  'editor.support': { params: Record<string, never>; result: EditorSupport };

  // ---- the lab session (one per window) ----
  /**
   * Compiles `text` (YAML or TypeScript) and, when it has no problems, replaces the
   * session's machine with a fresh one at position 0 (paused). With problems the
   * running session is left as it was and the problems are returned.
   */
  'session.open': { params: { file: string; text: string; lang: ScenarioLang; seed?: number }; result: OpenResult };
  /** Opens a recording: its scenario, seed and inputs; runs it to its end, paused (a replay). */
  'session.openRecording': { params: { path: string }; result: OpenResult };
  /** Checks text without touching the session: the problems, as markers for the editor. */
  'session.validate': { params: { file: string; text: string; lang: ScenarioLang }; result: { problems: Problem[] } };
  'session.control': { params: { action: ControlAction }; result: SessionStatus };
  'session.setSpeed': { params: { speed: Speed }; result: SessionStatus };
  /** Moves to `position` (units since the start): forward by running, back by re-running from the nearest snapshot. */
  'session.seek': { params: { position: number }; result: SessionStatus };
  /** Keys typed at a domain's console (UTF-8 text, as the terminal sends it). */
  'session.type': { params: { domid: number; data: string }; result: TypeResult };
  /** A page of decoded trace records matching `filter` (the filter language of docs/filter.md; '' = all). */
  'session.records': { params: { filter: string; from: number; count: number }; result: RecordsPage };
  /** One record, decoded, with every field (the event list's detail pane, a timeline click). */
  'session.record': { params: { seq: number }; result: { record: Record<string, unknown> } };
  'session.topology': { params: Record<string, never>; result: Topology };
  'session.inspect': { params: { domid: number }; result: InspectView };
  'session.portStatus': { params: { domid: number; port: number }; result: PortStatus };
  /** Why an event on a port was or was not delivered, from the real bits. */
  'session.explain': { params: { domid: number; port: number }; result: Explanation };
  /** The whole console output of a domain so far (a terminal re-attaching after a seek). */
  'session.consoleText': { params: { domid: number }; result: ConsoleChunk };
  /** Writes a recording of the session so far (scenario, seed, inputs, trace hash). */
  'session.saveRecording': { params: { path: string }; result: SaveResult };
  'session.exportTrace': { params: { path: string; format: 'jsonl' | 'chrome-trace' }; result: SaveResult };
  /**
   * Added after v1 (additive). A UI re-attaching to its session (a web page after a lost
   * connection) catches up: the session, status, topology, consoles, failures; the trace stream
   * goes on from `traceFrom` (the records the UI holds). `session: null` when there is none.
   */
  'session.sync': { params: { traceFrom: number }; result: SessionSync };
  /**
   * Added after v1 (additive). Opens a recording from its text (a file dropped on the window,
   * which has no path in a browser); `file` names it in messages.
   */
  'session.openRecordingText': { params: { file: string; text: string }; result: OpenResult };
  /**
   * Added after v1 (additive). Where record `seq` stands among the records matching `filter`
   * (the event list scrolling to a record selected in another view): `index` is its place when
   * it matches, else the place of the first matching record after it; `total` the matches so far.
   * A filter that does not parse is refused (HostError 'input', with the error's place).
   */
  'session.recordIndex': { params: { filter: string; seq: number }; result: RecordIndex };

  // ---- files (web mode: only inside AppInfo.roots) ----
  'files.read': { params: { path: string }; result: FileText };
  /** Atomic write. `expectedMtimeMs`: refuse (code 'conflict') if the file changed since it was read. */
  'files.write': { params: { path: string; text: string; expectedMtimeMs?: number }; result: SaveResult };
  'files.list': { params: { path: string }; result: DirListing };
  'files.recent': { params: Record<string, never>; result: { files: RecentFile[] } };
  /** Native open/save dialogs (Electron). Web mode answers `{ path: null }`: the UI shows its own picker. */
  'files.pickOpen': { params: { kind: 'scenario' | 'recording' }; result: { path: string | null } };
  'files.pickSave': { params: { kind: 'scenario' | 'recording' | 'trace'; suggested: string }; result: { path: string | null } };
  /** Unsaved buffers kept for crash recovery (written atomically, keyed by the buffer). */
  'drafts.save': { params: { key: string; file: string; text: string }; result: Record<string, never> };
  'drafts.list': { params: Record<string, never>; result: { drafts: DraftInfo[] } };
  'drafts.read': { params: { key: string }; result: { file: string; text: string } };
  'drafts.discard': { params: { key: string }; result: Record<string, never> };

  // ---- exercises ----
  'exercises.list': { params: Record<string, never>; result: { exercises: ExerciseInfo[] } };
  'exercises.open': { params: { path: string }; result: ExerciseInfo & { text: string } };
  /** Grades an exercise, with the student's solution when the exercise asks for one. */
  'exercises.check': { params: { path: string; solution?: { file: string; text: string } }; result: ExerciseReport };
}

/** Every event the host streams to the UI. */
export interface Events {
  'session.status': SessionStatus;
  'session.trace': TraceBatchMessage;
  'session.console': ConsoleChunk;
  'session.topology': Topology;
  'session.failure': RunFailure;
  /**
   * Added after v1 (additive). The session is gone: its worker stopped answering (a step that
   * never ends), ran out of memory or crashed, and was stopped. The UI says why and offers to
   * open the scenario again.
   */
  'session.ended': { message: string };
  /** A menu item was chosen (Electron). */
  'menu.command': { command: MenuCommand };
  /**
   * A file to open, from outside the page (Electron): named on the command line, double-clicked
   * (a file association, macOS's open-file), passed to a second launch, or chosen in File > Recent.
   * The UI opens it as its name says: a recording (.xenrec, or the .json `xenlab run --record`
   * writes) is replayed, anything else is read as a scenario; unsaved work in the window is guarded
   * as for File > Open. Sent once the page has loaded; the preload holds it until the page listens.
   */
  'app.openPath': { path: string };
}

export type RequestName = keyof Requests;
export type EventName = keyof Events;
export type Params<K extends RequestName> = Requests[K]['params'];
export type Result<K extends RequestName> = Requests[K]['result'];

/** Why a request failed; `message` is for a person (what was expected, what was found). */
export type HostErrorCode =
  | 'bad-request' // unknown request, wrong parameters (a bug in the UI, or a hostile page)
  | 'not-found'
  | 'denied' // outside the allowed roots, or not allowed in this mode
  | 'conflict' // the file changed on disk since it was read
  | 'io' // the file system refused (permissions, disk full): the buffer is kept
  | 'no-session'
  | 'input' // the user's input is wrong (e.g. console input to a destroyed domain)
  | 'internal';

export interface HostErrorData {
  code: HostErrorCode;
  message: string;
}

export class HostError extends Error {
  constructor(
    readonly code: HostErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'HostError';
  }
  toData(): HostErrorData {
    return { code: this.code, message: this.message };
  }
}

/** What the UI sees of the host, whichever the transport. */
export interface HostApi {
  request<K extends RequestName>(name: K, params: Params<K>): Promise<Result<K>>;
  /** Subscribes to an event; returns a function that unsubscribes. */
  on<E extends EventName>(name: E, listener: (payload: Events[E]) => void): () => void;
}

// ---- the wire (web mode's WebSocket, Electron's IPC channel names) ----

export interface WireRequest {
  id: number;
  name: string;
  params: unknown;
}
export type WireResponse = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: HostErrorData };
export interface WireEvent {
  event: string;
  payload: unknown;
}

/** Electron IPC channel names (the preload and the main process use only these). */
export const IPC_REQUEST = 'xenlab:request';
export const IPC_EVENT = 'xenlab:event';
