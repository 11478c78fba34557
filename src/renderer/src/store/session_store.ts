/**
 * The session as the views see it: what is open, its status and topology,
 * the streamed trace, failures and problems; console output is passed on as
 * it comes. One store per window, fed by the host's events; views subscribe
 * to the changes they draw.
 */
import type { HostApi } from '../../../contract/api.js';
import type { ConsoleChunk, Problem, RunFailure, SessionInfo, SessionStatus, SessionSync, Topology } from '../../../contract/session.js';
import { fromBase64 } from '../../../contract/trace_batch.js';
import { Emitter } from '../util/emitter.js';
import { TraceStore } from './trace_store.js';

export interface SessionEvents {
  /** A new session (or none): consoles and views start over. */
  session: SessionInfo | undefined;
  status: SessionStatus;
  topology: Topology;
  /** Console output for a domain; `reset`: replaces what the terminal shows. */
  console: { domid: number; bytes: Uint8Array; reset: boolean };
  /** Records were added or dropped; `truncated`: records from this seq on were dropped first (a step back). */
  trace: { count: number; truncated?: number };
  /** Run failures or scenario problems changed. */
  problems: { problems: readonly Problem[]; failures: readonly RunFailure[] };
  /** The session went away on the host (its worker was stopped). */
  ended: { message: string };
}

export class SessionStore extends Emitter<SessionEvents> {
  info: SessionInfo | undefined;
  status: SessionStatus | undefined;
  topology: Topology | undefined;
  readonly trace = new TraceStore();
  failures: RunFailure[] = [];
  /** The scenario's problems (from the last open or validate). */
  problems: Problem[] = [];
  /** Set when a trace batch did not follow on: the app re-syncs. */
  onGap: (() => void) | undefined;

  constructor(host: HostApi) {
    super();
    host.on('session.status', (s) => this.setStatus(s));
    host.on('session.topology', (t) => {
      this.topology = t;
      this.emit('topology', t);
    });
    host.on('session.console', (c) => this.console(c));
    host.on('session.trace', (b) => {
      if (this.info === undefined) return;
      if (!this.trace.apply(b)) this.onGap?.();
      const cut = this.trace.truncatedAt;
      this.emit('trace', cut === undefined ? { count: this.trace.count } : { count: this.trace.count, truncated: cut });
    });
    host.on('session.failure', (f) => {
      this.failures.push(f);
      this.emit('problems', { problems: this.problems, failures: this.failures });
    });
    host.on('session.ended', (e) => {
      this.info = undefined;
      this.emit('ended', e);
    });
  }

  /** A session was opened: everything starts over. */
  opened(info: SessionInfo, status: SessionStatus, topology: Topology): void {
    this.info = info;
    this.trace.clear();
    this.failures = [];
    this.problems = [];
    this.topology = topology;
    this.emit('session', info);
    this.emit('trace', { count: 0 });
    this.emit('problems', { problems: this.problems, failures: this.failures });
    this.emit('topology', topology);
    this.setStatus(status);
  }

  /** Caught up after a reconnect. */
  synced(s: SessionSync): void {
    if (s.session === null) return;
    const known = this.info !== undefined && this.info.file === s.session.file && this.info.name === s.session.name;
    this.info = s.session;
    if (!known) {
      this.trace.clear();
      this.emit('session', s.session);
    }
    this.failures = [...s.failures];
    this.emit('problems', { problems: this.problems, failures: this.failures });
    for (const c of s.consoles) this.console(c);
    if (s.topology !== undefined) {
      this.topology = s.topology;
      this.emit('topology', s.topology);
    }
    if (s.status !== undefined) this.setStatus(s.status);
  }

  setProblems(problems: Problem[]): void {
    this.problems = problems;
    this.emit('problems', { problems, failures: this.failures });
  }

  private setStatus(s: SessionStatus): void {
    const back = this.status !== undefined && s.position < this.status.position;
    this.status = s;
    if (back) {
      // Failures found after the position we went back to are undone.
      const n = this.failures.length;
      this.failures = this.failures.filter((f) => f.position <= s.position);
      if (this.failures.length !== n) this.emit('problems', { problems: this.problems, failures: this.failures });
    }
    this.emit('status', s);
  }

  private console(c: ConsoleChunk): void {
    this.emit('console', { domid: c.domid, bytes: fromBase64(c.data), reset: c.reset });
  }
}
