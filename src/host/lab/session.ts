/**
 * One lab session: a compiled scenario executing on a simulated machine, a
 * unit at a time, paced by the wall clock when running, streamed to the UI
 * (trace batches ~30 times a second, console output, topology, status,
 * failures). Runs inside the session worker (worker.ts), never on the
 * host's thread.
 *
 * Going back (step back, seek, reset) re-creates the engine with the logged
 * console inputs and takes units up to the position: the machine is
 * deterministic, so it is the same state. `rewindFrom` is where snapshots
 * will plug in (start from the nearest one instead of position 0).
 */
import { statSync } from 'node:fs';
import { utf8 } from '../../core/util/bytes.js';
import { LiveError, startLive } from '../../scenario/live.js';
import { Recorder, recordingToJson, parseRecording } from '../../scenario/recording.js';
import type { Failure } from '../../scenario/runner.js';
import type { Events, EventName } from '../../contract/api.js';
import { HostError } from '../../contract/api.js';
import type {
  ConsoleChunk,
  ControlAction,
  RecordIndex,
  RecordsPage,
  RunFailure,
  RunState,
  SessionInfo,
  SessionStatus,
  SessionSync,
  Speed,
  Topology,
  TypeResult,
} from '../../contract/session.js';
import type { Explanation, InspectView, PortStatus } from '../../contract/inspect.js';
import type { SaveResult } from '../../contract/files.js';
import { toBase64 } from './base64.js';
import { exportBatchesToFile, type ExportFormat } from '../export.js';
import { compileScenario, type Compiled } from './compile.js';
import { ConsoleTap, scenarioConsoles } from './console_tap.js';
import { Execution } from '../../scenario/execution.js';
import type { Engine, EngineConstructor, ExecInput, Unit } from './engine.js';
import { checkSpeed, Pacer, TICK_BUDGET_MS } from './pacer.js';
import { RecordPages } from './records.js';
import { recordRow, type XenVersion } from './record_summary.js';
import { explainPort, inspectDomain, portStatus } from '../inspect/index.js';
import { topology } from './topology.js';
import { TRACE_KINDS, TraceLog } from './trace_log.js';

const Engine_: EngineConstructor = Execution;

/** Where events go (the worker posts them to the host). */
export interface SessionSink {
  event<E extends EventName>(name: E, payload: Events[E]): void;
  /** Called now and then during long work (a far seek), so the host knows the worker is alive. */
  busy(): void;
}

/** How often the stream is flushed, ms (~30 Hz). */
export const FLUSH_MS = 33;
/** Most records in one streamed batch; more wait for the next flush. */
export const MAX_BATCH_RECORDS = 20_000;
/** Records a session keeps; at this many it pauses and says why. */
export const TRACE_KEEP_MAX = 4_000_000;
/** Topology is sent at most this often while running, ms. */
const TOPOLOGY_MS = 100;

export const DEFAULT_SPEED: Speed = { mode: 'realtime', factor: 1 };

/** Kinds whose records can change the topology: port, domain, bit. */
const TOPOLOGY_KINDS = (1 << TRACE_KINDS.indexOf('port')) | (1 << TRACE_KINDS.indexOf('domain')) | (1 << TRACE_KINDS.indexOf('bit'));

const wallMs = (): number => performance.now();

export class LabSession {
  private engine!: Engine;
  private log!: TraceLog;
  private pages!: RecordPages;
  private tap!: ConsoleTap;
  private state: RunState = 'paused';
  private readonly pacer: Pacer;
  private tickTimer: ReturnType<typeof setTimeout> | undefined;
  private flushTimer: ReturnType<typeof setInterval> | undefined;
  private failuresSent = 0;
  /** The failures streamed so far, as sent (a re-attaching UI gets them again). */
  private failureLog: RunFailure[] = [];
  private lastTopologyMs = -Infinity;
  private notice: string | undefined;
  private samples: { wall: number; position: number; records: number }[] = [];
  /** The trace's length after each unit: recordsAt[p] is how many records there were at position p. */
  private recordsAt = new Float64Array(1024);
  private lastStatusKey = '';
  private closed = false;
  readonly xen: XenVersion;

  private constructor(
    private readonly compiled: Compiled,
    private readonly seed: number,
    private readonly sink: SessionSink,
    private readonly replay: boolean,
    speed: Speed,
  ) {
    this.xen = compiled.scenario.xen;
    this.pacer = new Pacer(speed);
    this.build([]);
    this.flushTimer = setInterval(() => this.flush(false), FLUSH_MS);
  }

  /** A session on `compiled` at position 0, paused. */
  static start(compiled: Compiled, sink: SessionSink, opts: { seed?: number; speed?: Speed } = {}): LabSession {
    return new LabSession(compiled, opts.seed ?? compiled.scenario.seed, sink, false, opts.speed ?? DEFAULT_SPEED);
  }

  /**
   * A recording's run, replayed to its end and paused there: its scenario
   * with its seed, then each input at its virtual time. Problems in the
   * recording or its scenario come back as a HostError('input').
   */
  static async fromRecording(file: string, text: string, sink: SessionSink, speed: Speed = DEFAULT_SPEED): Promise<LabSession> {
    const rec = parseRecording(file, text); // RecordingError (a ScenarioInputError) is reported by the caller
    const c = await compileScenario(rec.file, rec.scenario, 'yaml');
    if (!c.ok) throw new HostError('input', `the recording's scenario does not load: ${c.problems.map((p) => `${p.file}:${p.line}:${p.col}: ${p.message}`).join('; ')}`);
    const s = new LabSession(c.compiled, rec.seed, sink, true, speed);
    const e = s.engine;
    e.runScript();
    for (const inp of rec.inputs) {
      if (inp.t > e.now) e.runUntilTime(inp.t);
      if (inp.kind === 'type') e.type(inp.domid, inp.bytes);
      s.noteRecords(e.hv, e.position);
      s.tap.poll();
    }
    s.tap.poll();
    // Nothing is streamed before the answer: the UI starts the new session over when it gets it,
    // and the next flush brings the consoles and the trace from the start.
    return s;
  }

  get position(): number {
    return this.engine.position;
  }

  info(): SessionInfo {
    const sc = this.compiled.scenario;
    const info: SessionInfo = {
      file: this.compiled.file,
      name: sc.name,
      xen: sc.xen,
      abi: sc.abi,
      seed: this.seed,
      steps: sc.steps.map((s, index) => ({ index, line: s.pos.line, label: s.label })),
      traceKinds: [...TRACE_KINDS],
      consoles: this.tap.infos(),
      replay: this.replay,
    };
    if (sc.description !== undefined) info.description = sc.description;
    return info;
  }

  status(): SessionStatus {
    const e = this.engine;
    const now = wallMs();
    this.samples = this.samples.filter((s) => now - s.wall <= 1000);
    const first = this.samples[0];
    const span = first === undefined ? 0 : (now - first.wall) / 1000;
    const rate = (a: number, b: number): number => (this.state === 'running' && span > 0.05 ? Math.max(0, Math.round((a - b) / span)) : 0);
    const st: SessionStatus = {
      state: this.state,
      speed: this.pacer.speed,
      position: e.position,
      now: e.now,
      stepIndex: e.stepIndex,
      scriptDone: e.scriptDone,
      records: this.log.count,
      unitsPerSecond: first === undefined ? 0 : rate(e.position, first.position),
      recordsPerSecond: first === undefined ? 0 : rate(this.log.count, first.records),
      failures: this.failures().length,
    };
    if (e.waitingStep !== undefined) st.waiting = e.waitingStep;
    if (this.notice !== undefined) st.notice = this.notice;
    return st;
  }

  topology(): Topology {
    return topology(this.engine.hv, this.compiled.scenario, this.compiled.customKernels, this.engine.position);
  }

  control(action: ControlAction): SessionStatus {
    switch (action) {
      case 'run':
        this.run();
        break;
      case 'pause':
        this.pause();
        break;
      case 'step':
        this.pause();
        this.takeUnits(1);
        this.sendAll();
        break;
      case 'stepBack':
        this.pause();
        if (this.engine.position > 0) this.rewindTo(this.engine.position - 1);
        break;
      case 'reset':
        this.pause();
        this.notice = undefined;
        this.rewindTo(0);
        break;
    }
    return this.sendStatus(true);
  }

  setSpeed(speed: Speed): SessionStatus {
    const bad = checkSpeed(speed);
    if (bad !== undefined) throw new HostError('bad-request', bad);
    this.pacer.speed = speed;
    this.pacer.anchor(wallMs(), this.engine.position, this.engine.now);
    if (this.state === 'running') this.schedule(0);
    return this.sendStatus(true);
  }

  seek(position: number): SessionStatus {
    this.pause();
    if (position < this.engine.position) this.rewindTo(position);
    else {
      this.takeUnits(position - this.engine.position);
      this.sendAll();
    }
    return this.sendStatus(true);
  }

  type(domid: number, data: string): TypeResult {
    const info = this.tap.info(domid);
    if (info === undefined) {
      const known = this.tap
        .infos()
        .map((c) => `${c.name} (${c.domid})`)
        .join(', ');
      throw new HostError('input', `domain ${domid} has no console here (consoles: ${known || 'none'})`);
    }
    if (!info.alive) throw new HostError('input', `${info.name} (domain ${domid}) has been destroyed: its console takes no more input`);
    // Typing after a step back starts a new future: inputs logged after this position go.
    const later = this.engine.inputs().some((i) => i.position > this.engine.position);
    if (later) this.rebuildAt(this.engine.position, this.engine.inputs().filter((i) => i.position <= this.engine.position));
    const r = this.engine.type(domid, utf8(data));
    if (!r.ok) throw new HostError('input', r.message);
    // The input's records belong to this position too (a replay applies it right after the unit).
    this.noteRecords(this.engine.hv, this.engine.position);
    this.tap.poll();
    this.flush(true);
    return { accepted: r.accepted };
  }

  records(filter: string, from: number, count: number): RecordsPage {
    return this.pages.page(filter, from, count);
  }

  recordIndex(filter: string, seq: number): RecordIndex {
    return this.pages.index(filter, seq);
  }

  record(seq: number): Record<string, unknown> {
    const r = this.log.record(seq);
    if (r === undefined) throw new HostError('not-found', `there is no record ${seq} (the trace has ${this.log.count} records, 0 to ${this.log.count - 1})`);
    const row = recordRow(r, this.xen);
    const cause = this.log.cause(seq);
    return { ...row.fields, summary: row.summary, ...(cause >= 0 ? { cause } : {}) };
  }

  portStatus(domid: number, port: number): PortStatus {
    return notFoundIfRange(() => portStatus(this.engine.hv, domid, port));
  }

  /** The domain's pages, bits and rings at this position (the shared-memory inspector). */
  inspect(domid: number): InspectView {
    return notFoundIfRange(() => inspectDomain(this.engine.hv, domid, this.engine.position, { trace: this.log }));
  }

  /** Why an event on the port was or was not delivered, from the bits now and the trace so far. */
  explain(domid: number, port: number): Explanation {
    return notFoundIfRange(() => explainPort(this.engine.hv, domid, port, this.log));
  }

  consoleText(domid: number): ConsoleChunk {
    if (!this.tap.has(domid)) throw new HostError('not-found', `domain ${domid} has no console`);
    return { domid, data: toBase64(this.tap.text(domid)), reset: true };
  }

  /** The session so far as a recording's JSON: its scenario, seed and typed inputs, run again to the virtual time reached. */
  recordingJson(): string {
    if (this.compiled.lang !== 'yaml') {
      throw new HostError('input', 'a recording holds a YAML scenario, and this session runs a TypeScript one: export the trace instead (File → Export trace)');
    }
    const sc = this.compiled.scenario;
    const rec = new Recorder(this.compiled.file, this.compiled.text);
    const live = startLive(sc, { seed: this.seed, onMachine: (hv) => void rec.attach(hv.trace) });
    for (const inp of this.engine.inputs()) {
      if (inp.position > this.engine.position) break;
      if (inp.t > live.now) live.advance(inp.t - live.now);
      if (inp.kind !== 'type') continue;
      try {
        live.type(inp.domid, inp.bytes);
      } catch (e) {
        if (!(e instanceof LiveError)) throw e;
      }
    }
    if (this.engine.now > live.now) live.advance(this.engine.now - live.now);
    live.close();
    return recordingToJson(rec.finish(this.seed, live.inputs));
  }

  exportTrace(path: string, format: ExportFormat): SaveResult {
    const otherData = { source: 'lab session', file: this.compiled.file, name: this.compiled.scenario.name, seed: this.seed, position: this.engine.position };
    const r = exportBatchesToFile(this.log.batches(), format, path, { xen: this.xen, otherData });
    return { path, mtimeMs: statSync(path).mtimeMs, bytes: r.bytes };
  }

  /** What a re-attaching UI needs; the trace stream goes on from `traceFrom`. */
  sync(traceFrom: number): SessionSync {
    this.log.continueStream(traceFrom);
    return {
      session: this.info(),
      status: this.status(),
      topology: this.topology(),
      consoles: this.tap.infos().map((c) => this.consoleText(c.domid)),
      failures: [...this.failureLog],
    };
  }

  close(): void {
    this.closed = true;
    this.pause();
    if (this.flushTimer !== undefined) clearInterval(this.flushTimer);
    this.flushTimer = undefined;
    this.compiled.dispose();
  }

  // ---- running

  private run(): void {
    if (this.state === 'running') return;
    this.notice = undefined;
    this.state = 'running';
    this.samples = [];
    this.pacer.anchor(wallMs(), this.engine.position, this.engine.now);
    this.schedule(0);
  }

  private pause(): void {
    if (this.tickTimer !== undefined) clearTimeout(this.tickTimer);
    this.tickTimer = undefined;
    if (this.state === 'running') this.state = 'paused';
  }

  private schedule(ms: number): void {
    if (this.tickTimer !== undefined) clearTimeout(this.tickTimer);
    this.tickTimer = ms <= 0 ? (setImmediate(() => this.tick()) as unknown as ReturnType<typeof setTimeout>) : setTimeout(() => this.tick(), ms);
  }

  private tick(): void {
    this.tickTimer = undefined;
    if (this.state !== 'running' || this.closed) return;
    const start = wallMs();
    const order = this.pacer.order(start, this.engine.position);
    const deadline = start + TICK_BUDGET_MS;
    let behind = false;
    if (order.kind === 'units') {
      const done = this.takeUnits(order.units, deadline);
      behind = done < order.units;
    } else if (order.kind === 'until') {
      const e = this.engine;
      while (this.state === 'running' && e.nextUnitTime() <= order.t) {
        if (!this.takeUnit()) break;
        if (wallMs() > deadline) {
          behind = true;
          break;
        }
      }
      if (!behind && this.state === 'running' && e.now < order.t) {
        this.guard(() => e.runUntilTime(order.t));
        this.noteRecords(e.hv, e.position);
      }
    } else this.takeUnits(Infinity, deadline);
    if (behind) this.pacer.fellBehind(wallMs(), this.engine.position, this.engine.now);
    // Behind: the next tick at once (after the requests and the stream waiting), not a frame later.
    if (this.state === 'running') this.schedule(behind ? 0 : this.pacer.delay());
  }

  /** Takes up to `n` units (stopping at `deadline`, idle, the trace limit or an error); returns how many. */
  private takeUnits(n: number, deadline = Infinity): number {
    let done = 0;
    let lastBeat = wallMs();
    while (done < n) {
      if (!this.takeUnit()) break;
      done++;
      if ((done & 255) === 0) {
        const w = wallMs();
        if (w > deadline) break;
        if (w - lastBeat > 200) {
          this.sink.busy();
          lastBeat = w;
        }
      }
    }
    return done;
  }

  /** One unit; false when none was taken (idle, the trace limit, an error). */
  private takeUnit(): boolean {
    if (this.log.count >= TRACE_KEEP_MAX) {
      this.stop(`the trace reached ${TRACE_KEEP_MAX.toLocaleString('en-US')} records, the most a session keeps: the run paused (step back, reset, or export the trace)`);
      return false;
    }
    let u: Unit | undefined;
    this.guard(() => {
      u = this.engine.next();
    });
    if (u === undefined) return false;
    this.tap.poll();
    if (u.kind === 'idle') {
      if (this.state === 'running') this.state = 'idle';
      return false;
    }
    if (u.kind === 'step') this.sendFailures();
    return true;
  }

  /**
   * Remembers the trace's length at position `p` (a later step back resumes
   * the trace there). Only while the trace records: a quick rebuild runs
   * with it off over positions whose lengths are known already.
   */
  private noteRecords(hv: Engine['hv'], p: number): void {
    if (!hv.trace.on) return;
    if (p >= this.recordsAt.length) {
      const a = new Float64Array(Math.max(p + 1, this.recordsAt.length * 2));
      a.set(this.recordsAt);
      this.recordsAt = a;
    }
    this.recordsAt[p] = hv.trace.count;
  }

  /** Runs engine work; an exception (a custom kernel's, say) pauses the session with the message instead of killing it. */
  private guard(work: () => void): void {
    try {
      work();
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      this.stop(`the run stopped at position ${this.engine.position}: ${message}`);
    }
  }

  private stop(notice: string): void {
    this.pause();
    this.state = 'paused';
    this.notice = notice;
  }

  // ---- going back

  /** The position and inputs to re-run from: position 0 today; the nearest snapshot once there are snapshots. */
  private rewindFrom(_target: number): { inputs: readonly ExecInput[] } {
    return { inputs: this.engine.inputs() };
  }

  private rewindTo(position: number): void {
    const { inputs } = this.rewindFrom(position);
    this.rebuildAt(position, inputs);
  }

  /** A fresh engine with `inputs`, taken to `position`; the stream continues from what the UI already has. */
  private rebuildAt(position: number, inputs: readonly ExecInput[]): void {
    const streamed = this.log.streamed;
    if (!this.rebuildQuickly(position, inputs)) {
      this.build(inputs);
      this.takeUnits(position);
      this.log.continueStream(streamed);
    }
    // Failures found after this position are gone from the UI (it keeps those at or before status.position).
    this.failuresSent = this.failures().length;
    this.failureLog = this.failureLog.filter((f) => f.position <= position).slice(0, this.failuresSent);
    for (const c of this.tap.resetChunks()) this.sink.event('session.console', c);
    this.sendAll();
  }

  /**
   * rebuildAt for a position this session has already been at: the records
   * up to it are the ones the log holds (the machine is deterministic), so
   * the engine runs there with recording off — no records made, no causes
   * worked out — and its trace then resumes inside the log. Not when
   * something else reads the trace from the start (a scenario's final
   * expect counting records): false, and nothing changed.
   */
  private rebuildQuickly(position: number, inputs: readonly ExecInput[]): boolean {
    if (position > this.engine.position) return false;
    const c = this.compiled;
    const tap = new ConsoleTap(scenarioConsoles(c.scenario, new Set(c.customKernels.keys())));
    const kernels = c.kernels();
    let machine: Engine['hv'] | undefined;
    const engine = new Engine_(c.scenario, {
      seed: this.seed,
      inputs,
      onMachine: (hv) => {
        machine = hv;
        tap.attach(hv);
      },
      onUnit: (p) => this.noteRecords(machine!, p),
      onConsole: tap.guestOutput,
      ...(kernels === undefined ? {} : { kernels }),
    });
    if (engine.hv.trace.on) return false;
    this.engine = engine;
    this.tap = tap;
    let lastBeat = wallMs();
    while (engine.position < position) {
      let u: Unit | undefined;
      this.guard(() => {
        u = engine.next();
      });
      if (u === undefined || u.kind === 'idle') break;
      tap.poll();
      if ((engine.position & 1023) === 0 && wallMs() - lastBeat > 200) {
        this.sink.busy();
        lastBeat = wallMs();
      }
    }
    this.log.truncate(this.recordsAt[engine.position]!);
    const { chunk, length } = this.log.resumePoint();
    engine.hv.trace.resumeInto(chunk, length);
    engine.hv.trace.subscribe(this.log.subscriber);
    this.pages = new RecordPages(this.log, c.scenario.xen);
    return true;
  }

  private build(inputs: readonly ExecInput[]): void {
    const c = this.compiled;
    this.log = new TraceLog();
    this.pages = new RecordPages(this.log, c.scenario.xen);
    this.tap = new ConsoleTap(scenarioConsoles(c.scenario, new Set(c.customKernels.keys())));
    const kernels = c.kernels();
    let machine: Engine['hv'] | undefined;
    this.engine = new Engine_(c.scenario, {
      seed: this.seed,
      inputs,
      onMachine: (hv) => {
        machine = hv;
        hv.trace.subscribe(this.log.subscriber);
        this.tap.attach(hv);
      },
      onUnit: (p) => this.noteRecords(machine!, p),
      onConsole: this.tap.guestOutput,
      ...(kernels === undefined ? {} : { kernels }),
    });
  }

  // ---- the stream

  private failures(): readonly Failure[] {
    // Not result().failures: result() decodes every console's whole text, and this runs on every flush.
    return this.engine.failures();
  }

  private sendFailures(): void {
    const all = this.failures();
    for (; this.failuresSent < all.length; this.failuresSent++) {
      const f = all[this.failuresSent]!;
      const rf: RunFailure = { file: f.file, line: f.line, col: f.col, path: f.path, message: f.message, position: this.engine.position };
      if (f.expected !== undefined) rf.expected = show(f.expected);
      if (f.found !== undefined) rf.found = show(f.found);
      this.failureLog.push(rf);
      this.sink.event('session.failure', rf);
    }
  }

  /** Everything the UI needs after a step or a jump: trace, consoles, topology, failures, status. */
  private sendAll(): void {
    this.flush(true);
  }

  private flush(force: boolean): void {
    if (this.closed) return;
    const batch = this.log.takeBatch(MAX_BATCH_RECORDS);
    if (batch !== undefined) this.sink.event('session.trace', batch);
    for (const c of this.tap.drain()) this.sink.event('session.console', c);
    this.sendFailures();
    const w = wallMs();
    if ((force || (this.log.kindsSeen & TOPOLOGY_KINDS) !== 0) && (force || w - this.lastTopologyMs >= TOPOLOGY_MS)) {
      this.log.kindsSeen = 0;
      this.lastTopologyMs = w;
      this.sink.event('session.topology', this.topology());
    }
    this.samples.push({ wall: w, position: this.engine.position, records: this.log.count });
    this.sendStatus(force);
  }

  private sendStatus(force: boolean): SessionStatus {
    const st = this.status();
    const key = JSON.stringify(st);
    if (force || key !== this.lastStatusKey) {
      this.lastStatusKey = key;
      this.sink.event('session.status', st);
    }
    return st;
  }
}

function show(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** The inspector's functions refuse an unknown domain or port with a RangeError: for the UI, 'not-found'. */
function notFoundIfRange<T>(work: () => T): T {
  try {
    return work();
  } catch (e) {
    if (e instanceof RangeError) throw new HostError('not-found', e.message);
    throw e;
  }
}
