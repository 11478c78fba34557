/**
 * A live session: a scenario's steps run as `runScenario` runs them, then the
 * machine is kept for a host to drive in real time. Its consoles stream their
 * output and take input, as xend's console ports (Xen 2.0) or xenconsoled's
 * ptys (modern Xen) do for a terminal attached to them.
 *
 * The virtual clock moves only through `advance(ns)`; how often and by how
 * much is the host's choice (src/host paces it by the wall clock). The
 * session is an Execution (execution.ts) run to the end of its script, then
 * on by `runUntilTime`; typing is its `type`. Output is
 * handed to listeners after each `advance` and `type`, never from inside the
 * machine, so a listener may call back into the session.
 *
 * What a console streams is what a terminal on it would receive:
 *  - a guest's console: its bytes, as the guest's console driver wrote them;
 *  - dom0's console (its shell, and in Xen 2.0 xend's messages): the shell's
 *    text with "\n" sent as "\r\n", as a tty with ONLCR does; a kernel message
 *    printed above a fresh prompt is shown the way readline redraws it (the
 *    prompt line is cleared, the message printed, the prompt shown again).
 */
import { ShellScreen } from './shell_screen.js';
import type { Domain } from '../core/hv/domain.js';
import type { Hypervisor } from '../core/hv/hypervisor.js';
import { Xen2Dom0Kernel } from '../core/tools/dom0.js';
import { Dom0Kernel } from '../core/tools/dom0_modern.js';
import { utf8 } from '../core/util/bytes.js';
import type { Scenario } from './model.js';
import { Execution } from './execution.js';
import type { RunOptions, RunResult } from './runner.js';

/**
 * How a console reaches its domain:
 *  - `shell`: dom0's own console, running dom0's shell (xl, lsevtchn, xenstore-*);
 *  - `xend`: a Xen 2.0 guest's console, over its control interface through xend;
 *  - `xenconsoled`: a modern guest's console ring, through xenconsoled.
 */
export type ConsoleKind = 'shell' | 'xend' | 'xenconsoled';

export interface LiveConsole {
  readonly name: string;
  readonly domid: number;
  readonly kind: ConsoleKind;
  /** False once the domain has been destroyed: its output stays readable, input is refused. */
  readonly alive: boolean;
}

export type LiveErrorCode = 'unknown-domain' | 'destroyed' | 'no-console' | 'closed';

/** A request the session cannot carry out; `message` says why, for a person. */
export class LiveError extends Error {
  constructor(
    readonly code: LiveErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'LiveError';
  }
}

/**
 * An external input to a live session, with the virtual time it came at, in
 * the order it came: what a recording keeps so a replay can repeat it.
 * `advance` is the clock run on to `t` (consecutive advances are merged: they
 * run the same events as one); `type` is bytes offered at a console at `t`.
 * `position`, when known, is the Execution's position (units taken) when the
 * input came: an advance's is where it ended.
 */
export type LiveInput =
  | { readonly kind: 'advance'; readonly t: number; readonly position?: number }
  | { readonly kind: 'type'; readonly t: number; readonly domid: number; readonly bytes: Uint8Array; readonly position?: number };

/** The most of a console's past output kept for a terminal that attaches later. */
export const BACKLOG_MAX = 1 << 20;

type OutputListener = (bytes: Uint8Array) => void;
type GoneListener = (message: string) => void;

interface Con {
  info: { name: string; domid: number; kind: ConsoleKind; alive: boolean };
  /** The domain while it lives (undefined if it was gone before the session began). */
  domain: Domain | undefined;
  /** What has been streamed so far (guests), newest last, trimmed to BACKLOG_MAX. */
  chunks: Uint8Array[];
  bytes: number;
  /** dom0: the console text accounted for so far, and the kernel's array as it was then. */
  /** dom0: what its terminal has been sent of the kernel's console array. */
  screen: ShellScreen;
  listeners: Set<OutputListener>;
  gone: Set<GoneListener>;
}

export class LiveSession {
  /** The scripted part's outcome: failures, step results, each console's text when the steps ended. */
  readonly result: RunResult;
  readonly hv: Hypervisor;
  /** The execution behind the session (its position, its inputs by position). */
  readonly execution: Execution;
  private readonly cons = new Map<number, Con>();
  /** Guest output not yet handed to listeners, in arrival order. */
  private pending: { domid: number; bytes: Uint8Array }[] = [];
  private closed = false;
  private readonly log: LiveInput[] = [];

  constructor(sc: Scenario, opts: RunOptions = {}) {
    this.execution = new Execution(sc, {
      ...opts,
      onConsole: (domid, bytes) => {
        this.pending.push({ domid, bytes: bytes.slice() });
        opts.onConsole?.(domid, bytes);
      },
    });
    this.execution.runScript();
    this.result = this.execution.result();
    this.hv = this.execution.hv;
    const k0 = this.hv.domain(0)?.kernel;
    for (const decl of sc.domains) {
      let kind: ConsoleKind | undefined;
      if (decl.domid === 0) kind = k0 instanceof Xen2Dom0Kernel || k0 instanceof Dom0Kernel ? 'shell' : undefined;
      else if (decl.kernel === 'plan9') kind = 'xend';
      else if (decl.kernel === 'minios') kind = 'xenconsoled';
      if (kind === undefined) continue;
      // A guest destroyed while the steps ran keeps its output, and takes no input.
      const d = this.hv.domain(decl.domid);
      this.cons.set(decl.domid, {
        info: { name: decl.name, domid: decl.domid, kind, alive: d !== undefined },
        domain: d,
        chunks: [],
        bytes: 0,
        screen: new ShellScreen(),
        listeners: new Set(),
        gone: new Set(),
      });
    }
    this.flush();
  }

  /** Virtual time now, ns. */
  get now(): number {
    return this.hv.now;
  }

  /** Every external input so far (advances and typing), in order: what a recording replays. */
  get inputs(): readonly LiveInput[] {
    return this.log;
  }

  /** Every console, by domid. */
  consoles(): LiveConsole[] {
    return [...this.cons.values()].sort((a, b) => a.info.domid - b.info.domid).map((c) => ({ ...c.info }));
  }

  /** The console of a domain (by domid or name), or undefined. */
  find(domain: number | string): LiveConsole | undefined {
    const c = typeof domain === 'number' ? this.cons.get(domain) : [...this.cons.values()].find((x) => x.info.name === domain);
    return c === undefined ? undefined : { ...c.info };
  }

  /** Everything the console has shown so far (at most BACKLOG_MAX bytes, the newest). */
  output(domid: number): Uint8Array {
    const c = this.con(domid);
    if (c.info.kind === 'shell') return tail(utf8(c.screen.text()));
    return concat(c.chunks, c.bytes);
  }

  /** Calls `cb` with each chunk of new output, in order; returns a function that stops it. */
  onOutput(domid: number, cb: OutputListener): () => void {
    const c = this.con(domid);
    c.listeners.add(cb);
    return () => void c.listeners.delete(cb);
  }

  /** Calls `cb` once, with a message, when the domain is destroyed; returns a function that stops it. */
  onGone(domid: number, cb: GoneListener): () => void {
    const c = this.con(domid);
    c.gone.add(cb);
    return () => void c.gone.delete(cb);
  }

  /**
   * Bytes typed at a console, as a `type:` step types them. Returns how many
   * the console took (a full ring or buffer takes fewer). Throws a LiveError
   * for an unknown or destroyed domain.
   */
  type(domid: number, bytes: Uint8Array): number {
    this.open();
    const c = this.con(domid);
    this.flush(); // notice a domain that went since the last advance
    if (!c.info.alive) throw new LiveError('destroyed', `${c.info.name} (domain ${domid}) has been destroyed: its console takes no more input`);
    const t = this.hv.now;
    const position = this.execution.position;
    const r = this.execution.type(domid, bytes);
    if (!r.ok) throw new LiveError('no-console', r.message);
    this.log.push({ kind: 'type', t, domid, bytes: bytes.slice(), position });
    this.flush();
    return r.accepted;
  }

  /** Runs the virtual clock `ns` nanoseconds on, then hands new output to the listeners. */
  advance(ns: number): void {
    this.open();
    if (!Number.isFinite(ns) || ns < 0) throw new RangeError(`advance expects a number of nanoseconds >= 0, found ${ns}`);
    this.execution.runUntilTime(this.hv.now + ns);
    const last = this.log.at(-1);
    const input = { kind: 'advance' as const, t: this.hv.now, position: this.execution.position };
    if (last?.kind === 'advance') this.log[this.log.length - 1] = input;
    else this.log.push(input);
    this.flush();
  }

  /** Ends the session: listeners are dropped, and advance and type refuse. */
  close(): void {
    this.closed = true;
    for (const c of this.cons.values()) {
      c.listeners.clear();
      c.gone.clear();
    }
  }

  private open(): void {
    if (this.closed) throw new LiveError('closed', 'the live session has been closed');
  }

  private con(domid: number): Con {
    const c = this.cons.get(domid);
    if (c !== undefined) return c;
    const d = this.hv.domain(domid);
    const known = this.consoles()
      .map((x) => `${x.name} (${x.domid})`)
      .join(', ');
    throw new LiveError(
      'unknown-domain',
      d === undefined ? `there is no domain ${domid} with a console (consoles: ${known || 'none'})` : `${d.name} (domain ${domid}) has no console (consoles: ${known || 'none'})`,
    );
  }

  /** Guests' new bytes, then dom0's new text, then domains found destroyed. */
  private flush(): void {
    const pending = this.pending;
    this.pending = [];
    for (const p of pending) {
      const c = this.cons.get(p.domid);
      if (c !== undefined) this.emit(c, p.bytes, true);
    }
    for (const c of this.cons.values()) if (c.info.kind === 'shell') this.pollShell(c);
    for (const c of this.cons.values()) {
      if (!c.info.alive || (c.domain !== undefined && this.hv.domain(c.info.domid) === c.domain)) continue;
      c.info.alive = false;
      const msg = `${c.info.name} (domain ${c.info.domid}) has been destroyed`;
      for (const cb of [...c.gone]) cb(msg);
      c.gone.clear();
    }
  }

  private emit(c: Con, bytes: Uint8Array, keep: boolean): void {
    if (bytes.length === 0) return;
    if (keep) {
      c.chunks.push(bytes);
      c.bytes += bytes.length;
      while (c.bytes - c.chunks[0]!.length >= BACKLOG_MAX) c.bytes -= c.chunks.shift()!.length;
    }
    for (const cb of [...c.listeners]) cb(bytes);
  }

  /** dom0's console is its kernel's array of writes: what was appended, or a redraw of the prompt line. */
  private pollShell(c: Con): void {
    const out = c.screen.update((c.domain!.kernel as Xen2Dom0Kernel | Dom0Kernel).console);
    if (out !== undefined) this.emit(c, utf8(out), false);
  }

}

/** Runs a scenario's steps, then keeps its machine for live use. */
export function startLive(sc: Scenario, opts: RunOptions = {}): LiveSession {
  return new LiveSession(sc, opts);
}


function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return tail(out);
}

function tail(b: Uint8Array): Uint8Array {
  return b.length > BACKLOG_MAX ? b.slice(b.length - BACKLOG_MAX) : b;
}
