/**
 * Each domain's console as a terminal sees it, gathered while a session's
 * engine runs: a guest's bytes as its console driver wrote them (the run's
 * onConsole), and dom0's shell polled from its kernel's console after each
 * unit, "\n" sent as "\r\n" and a kernel message above a fresh prompt shown
 * the way readline redraws it — what live.ts streams to a console port.
 * Output waits here until the session's next flush takes it.
 */
import { ShellScreen } from '../../scenario/shell_screen.js';
import type { Hypervisor } from '../../core/hv/hypervisor.js';
import { utf8 } from '../../core/util/bytes.js';
import { BACKLOG_MAX } from '../../scenario/live.js';
import type { Scenario } from '../../scenario/model.js';
import type { ConsoleChunk, ConsoleInfo, ConsoleKind } from '../../contract/session.js';
import { toBase64 } from './base64.js';

interface Con {
  info: ConsoleInfo;
  /** What it has shown, newest last, trimmed to BACKLOG_MAX (guests). */
  chunks: Uint8Array[];
  bytes: number;
  /** Output not yet taken by drain(). */
  pending: Uint8Array[];
  /** dom0: the shell's text accounted for, and its kernel's array as it was then. */
  /** dom0: what its terminal has been sent of the kernel's console array. */
  screen: ShellScreen;
  /** The machine's domain object when first seen. */
  seen: object | undefined;
}

/** The consoles a scenario has: dom0's shell, Plan 9's (xend), Mini-OS's (xenconsoled), a custom kernel's. */
export function scenarioConsoles(sc: Scenario, customKernels: ReadonlySet<string>): ConsoleInfo[] {
  const out: ConsoleInfo[] = [];
  for (const d of sc.domains) {
    let kind: ConsoleKind | undefined;
    if (d.domid === 0) kind = 'shell';
    else if (customKernels.has(d.name)) kind = 'kernel';
    else if (d.kernel === 'plan9') kind = 'xend';
    else if (d.kernel === 'minios') kind = 'xenconsoled';
    if (kind !== undefined) out.push({ domid: d.domid, name: d.name, kind, alive: true });
  }
  return out;
}

export class ConsoleTap {
  private readonly cons = new Map<number, Con>();
  private hv: Hypervisor | undefined;

  constructor(infos: readonly ConsoleInfo[]) {
    for (const info of infos) {
      this.cons.set(info.domid, { info: { ...info }, chunks: [], bytes: 0, pending: [], screen: new ShellScreen(), seen: undefined });
    }
  }

  /** The machine whose consoles are watched from now on. */
  attach(hv: Hypervisor): void {
    this.hv = hv;
  }

  /** A guest's console output (RunOptions.onConsole). */
  readonly guestOutput = (domid: number, bytes: Uint8Array): void => {
    const c = this.cons.get(domid);
    if (c !== undefined && c.info.kind !== 'shell') this.keep(c, bytes.slice(), true);
  };

  /** dom0's new shell output, and domains found destroyed; call after each unit. */
  poll(): void {
    const hv = this.hv;
    if (hv === undefined) return;
    for (const c of this.cons.values()) {
      const d = hv.domain(c.info.domid);
      // Every declared domain exists before the first step runs: one missing is gone (a new one with its id is another domain).
      c.seen ??= d;
      if (c.info.alive && (d === undefined || d !== c.seen)) c.info.alive = false;
      if (c.info.kind === 'shell' && d !== undefined) this.pollShell(c, (d.kernel as { console?: string[] } | null)?.console);
    }
  }

  infos(): ConsoleInfo[] {
    return [...this.cons.values()].map((c) => ({ ...c.info }));
  }

  has(domid: number): boolean {
    return this.cons.has(domid);
  }

  info(domid: number): ConsoleInfo | undefined {
    const c = this.cons.get(domid);
    return c === undefined ? undefined : { ...c.info };
  }

  /** Everything the console has shown (at most BACKLOG_MAX bytes, the newest). */
  text(domid: number): Uint8Array {
    const c = this.cons.get(domid);
    if (c === undefined) return new Uint8Array(0);
    if (c.info.kind === 'shell') return tail(utf8(c.screen.text()));
    return tail(concat(c.chunks, c.bytes));
  }

  /** Output since the last drain, one chunk per console that printed. */
  drain(): ConsoleChunk[] {
    const out: ConsoleChunk[] = [];
    for (const c of this.cons.values()) {
      if (c.pending.length === 0) continue;
      const bytes = concat(c.pending, c.pending.reduce((n, b) => n + b.length, 0));
      c.pending = [];
      out.push({ domid: c.info.domid, data: toBase64(bytes), reset: false });
    }
    return out;
  }

  /** Each console's whole text, replacing what terminals show (after a seek); pending output is dropped. */
  resetChunks(): ConsoleChunk[] {
    return [...this.cons.values()].map((c) => {
      c.pending = [];
      return { domid: c.info.domid, data: toBase64(this.text(c.info.domid)), reset: true };
    });
  }

  private keep(c: Con, bytes: Uint8Array, history: boolean): void {
    if (bytes.length === 0) return;
    if (history) {
      c.chunks.push(bytes);
      c.bytes += bytes.length;
      while (c.chunks.length > 1 && c.bytes - c.chunks[0]!.length >= BACKLOG_MAX) c.bytes -= c.chunks.shift()!.length;
    }
    c.pending.push(bytes);
  }

  /** dom0's console is its kernel's array of writes: what was appended, or a redraw of the prompt line. */
  private pollShell(c: Con, arr: string[] | undefined): void {
    if (arr === undefined) return;
    const out = c.screen.update(arr);
    if (out !== undefined) this.keep(c, utf8(out), false);
  }

}


function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function tail(b: Uint8Array): Uint8Array {
  return b.length > BACKLOG_MAX ? b.slice(b.length - BACKLOG_MAX) : b;
}
