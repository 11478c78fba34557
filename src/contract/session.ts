/**
 * A lab session as the UI sees it: a scenario compiled and executing on a
 * simulated machine, one unit at a time (a scenario step, or one machine
 * event such as an upcall or a timer tick). Its position counts units from
 * the start; because the machine is deterministic, any position can be
 * reached again (step back, seek) and gives the same trace and consoles.
 */

export type ScenarioLang = 'yaml' | 'typescript';

/** A problem in a scenario's text: where, what was expected and found, what to try. */
export interface Problem {
  file: string;
  /** 1-based, as the CLI prints them. */
  line: number;
  col: number;
  /** Path in the document, e.g. "steps[3].args.remote_port" ('' for the whole file). */
  path: string;
  message: string;
  hint?: string;
}

export type OpenResult =
  | { ok: true; session: SessionInfo; status: SessionStatus; topology: Topology }
  | { ok: false; problems: Problem[] };

export interface SessionInfo {
  file: string;
  name: string;
  description?: string;
  xen: '2.0' | '4';
  abi: '2l' | 'fifo';
  seed: number;
  /** The scenario's steps: what the editor highlights as the session runs. */
  steps: { index: number; line: number; label: string }[];
  /** The trace's record kinds, by kind number (TraceBatchMessage.kind indexes this). */
  traceKinds: string[];
  consoles: ConsoleInfo[];
  /** True when it came from a recording (its inputs are replayed as the position passes them). */
  replay: boolean;
}

/**
 * How a console reaches its domain: dom0's shell, xend over the Xen 2.0 control interface,
 * xenconsoled's ring, or (added after v1, additive) `kernel`: a TypeScript scenario's custom
 * kernel, which reads and writes its console itself.
 */
export type ConsoleKind = 'shell' | 'xend' | 'xenconsoled' | 'kernel';

export interface ConsoleInfo {
  domid: number;
  name: string;
  kind: ConsoleKind;
  /** False once the domain is destroyed: output stays, input is refused. */
  alive: boolean;
}

export type ControlAction = 'run' | 'pause' | 'step' | 'stepBack' | 'reset';

/**
 * How fast `run` goes: a fixed number of units per wall-clock second (to watch
 * notifications travel), virtual time at `factor` × wall time (1 = real time),
 * or as fast as the machine goes.
 */
export type Speed = { mode: 'units'; perSecond: number } | { mode: 'realtime'; factor: number } | { mode: 'max' };

export type RunState = 'paused' | 'running' | 'idle';

export interface SessionStatus {
  state: RunState;
  speed: Speed;
  /** Units taken since the start. */
  position: number;
  /** Virtual time, ns. */
  now: number;
  /** The next scenario step (steps.length when the script is done); `waiting`: the step being waited in. */
  stepIndex: number;
  waiting?: number;
  scriptDone: boolean;
  /** Trace records so far (their seqs are 0 .. records-1). */
  records: number;
  /** Measured over the last second of running: units and trace records per wall second. */
  unitsPerSecond: number;
  recordsPerSecond: number;
  /** Expectation and check failures so far. */
  failures: number;
  /**
   * Why the session stopped by itself, for the status bar (added after v1, additive): the trace
   * limit reached, an error in a custom kernel. Cleared by the next run or reset.
   */
  notice?: string;
}

/** An expectation or check that failed, with its place in the scenario (an editor marker). */
export interface RunFailure {
  file: string;
  line: number;
  col: number;
  path: string;
  message: string;
  expected?: string;
  found?: string;
  /** The position at which it failed. */
  position: number;
}

/**
 * What a UI re-attaching to its session needs to catch up (a web page whose connection
 * dropped and came back). Added after v1 (additive): the session, its status and topology,
 * each console's whole text (reset), every failure so far; the trace stream goes on from the
 * `traceFrom` the UI gave (with `truncate` when it holds more than the session).
 */
export interface SessionSync {
  session: SessionInfo | null;
  status?: SessionStatus;
  topology?: Topology;
  consoles: ConsoleChunk[];
  failures: RunFailure[];
}

export interface ConsoleChunk {
  domid: number;
  /** The bytes, base64. */
  data: string;
  /** True: `data` is the console's whole output so far and replaces what the terminal shows (after a seek). */
  reset: boolean;
}

export type TypeResult = { accepted: number };

// ---- topology ----

export type DomainState = 'running' | 'paused' | 'shutdown' | 'dying' | 'destroyed';

export interface TopologyPort {
  port: number;
  /** EVTCHNSTAT name without the prefix: closed, unbound, interdomain, pirq, virq, ipi (and reserved for port 0). */
  state: string;
  vcpu: number;
  pending: boolean;
  masked: boolean;
  remoteDom?: number;
  remotePort?: number;
  virq?: number;
  pirq?: number;
  /** What the guest uses it for, when known: "VIRQ_TIMER", "control channel", "xenstore", "console", "vbd 768"... */
  label?: string;
}

export interface TopologyDomain {
  domid: number;
  name: string;
  kernel: string;
  state: DomainState;
  vcpus: number;
  /** The event ABI in use now (a domain switches to FIFO with its first init_control). */
  abi: '2l' | 'fifo';
  ports: TopologyPort[];
}

export interface Topology {
  /** The position it describes. */
  position: number;
  domains: TopologyDomain[];
}

// ---- the trace, streamed ----

/**
 * A run of trace records in columns, for the timeline and the event list's
 * counts. `columns` is base64 of the little-endian arrays laid out by
 * TRACE_BATCH_COLUMNS (see trace_batch.ts for the codec both sides use).
 * Records are numbered by `seq` from 0; a batch covers [first, first+count).
 * `truncate`: the session moved back; the UI drops records with seq >= truncate
 * before appending this batch (records before it are unchanged: the machine is
 * deterministic).
 */
export interface TraceBatchMessage {
  first: number;
  count: number;
  columns: string;
  truncate?: number;
}

export interface RecordRow {
  seq: number;
  t: number;
  kind: string;
  dom: number;
  vcpu?: number;
  /** One line for the list, e.g. "send port=3 → 0". */
  summary: string;
  /** Every field of the decoded record (the filter language's fields). */
  fields: Record<string, unknown>;
}

export interface RecordsPage {
  /** Records matching the filter so far. */
  total: number;
  /** Index (among matching records) of rows[0]. */
  from: number;
  rows: RecordRow[];
  /** Set when the filter does not parse: `rows` is empty. */
  filterError?: { start: number; end: number; message: string };
}

/** Where a record stands among a filter's matches (session.recordIndex; added after v1, additive). */
export interface RecordIndex {
  /** Its index among the matching records when it matches; else the index of the first match after it (= total when none). */
  index: number;
  /** Whether the record passes the filter. */
  matches: boolean;
  /** Records matching the filter so far. */
  total: number;
}
