/**
 * Messages between the host's thread and its session worker. The host
 * sends operations; the worker answers each (by id) and streams the
 * session's events, and says it is busy during long work so the host's
 * watchdog can tell a long seek from a machine that never returns.
 */
import type { HostErrorData } from '../../contract/api.js';
import type { ExerciseReport } from '../../contract/exercise.js';
import type { SaveResult } from '../../contract/files.js';
import type { Explanation, InspectView, PortStatus } from '../../contract/inspect.js';
import type { ConsoleChunk, ControlAction, OpenResult, Problem, RecordIndex, RecordsPage, ScenarioLang, SessionStatus, SessionSync, Speed, Topology, TypeResult } from '../../contract/session.js';

export interface WorkerOps {
  open: { params: { file: string; text: string; lang: ScenarioLang; seed?: number }; result: OpenResult };
  openRecording: { params: { file: string; text: string }; result: OpenResult };
  validate: { params: { file: string; text: string; lang: ScenarioLang }; result: { problems: Problem[] } };
  control: { params: { action: ControlAction }; result: SessionStatus };
  setSpeed: { params: { speed: Speed }; result: SessionStatus };
  seek: { params: { position: number }; result: SessionStatus };
  type: { params: { domid: number; data: string }; result: TypeResult };
  records: { params: { filter: string; from: number; count: number }; result: RecordsPage };
  record: { params: { seq: number }; result: { record: Record<string, unknown> } };
  recordIndex: { params: { filter: string; seq: number }; result: RecordIndex };
  topology: { params: Record<string, never>; result: Topology };
  portStatus: { params: { domid: number; port: number }; result: PortStatus };
  inspect: { params: { domid: number }; result: InspectView };
  explain: { params: { domid: number; port: number }; result: Explanation };
  consoleText: { params: { domid: number }; result: ConsoleChunk };
  recordingJson: { params: Record<string, never>; result: { json: string } };
  exportTrace: { params: { path: string; format: 'jsonl' | 'chrome-trace' }; result: SaveResult };
  /** What a re-attaching UI needs: the session, its status and topology, each console's whole text, the trace from `traceFrom`. */
  sync: { params: { traceFrom: number }; result: SessionSync };
  /** Grades an exercise (a real path the host checked) with the student's solution; the open session is left as it was. */
  checkExercise: { params: { path: string; solution?: { file: string; text: string } }; result: ExerciseReport };
  close: { params: Record<string, never>; result: Record<string, never> };
}

export type WorkerOp = keyof WorkerOps;

export interface ToWorker {
  id: number;
  op: WorkerOp;
  params: unknown;
}

export type FromWorker =
  | { kind: 'reply'; id: number; ok: true; result: unknown }
  | { kind: 'reply'; id: number; ok: false; error: HostErrorData }
  | { kind: 'event'; event: string; payload: unknown }
  | { kind: 'busy' };
