/**
 * xend, the Xen 2.0 control daemon in dom0, reduced to its control-interface
 * work (tools/python/xen/xend at 2.0.0): one channel per domain
 * (channel.ChannelFactory.domChannel over xu.port), with a console controller
 * (console.py) and a domain controller (domain.py) on it, one message-id
 * counter for all of them (messages.nextid), and a log the caller can read.
 *
 * Event channels are the caller's business: `notify` passed in stands for
 * xc_evtchn_send on dom0's end, and the caller calls `notification(dom)` when
 * that port fires (NotifierPort.doRead → Channel.notificationReceived).
 */
import { Channel } from './channel.js';
import { CONSOLE_PORT_BASE, ConsoleController, type ConsoleClient } from './console.js';
import { DomainController, type ResponseHandler, type ShutdownReason } from './domain.js';
import { domainLogger, type XendLogEntry } from './log.js';
import type { Trace } from '../sim/trace.js';
import { XuPort } from './xu.js';

export { CONSOLE_PORT_BASE, type ConsoleClient } from './console.js';
export type { ShutdownReason, ResponseHandler } from './domain.js';
export type { XendLogEntry, XendLogKind } from './log.js';

/** Everything xend keeps for one domain's control channel. */
export interface DomChannel {
  readonly dom: number;
  readonly port: XuPort;
  readonly channel: Channel;
  readonly console: ConsoleController;
  readonly domain: DomainController;
}

export interface DomChannelOptions {
  /** The console's TCP port (the config's console=); default 9600 + domid. */
  consolePort?: number;
  /** Where the channel's ctrl_msg and cons records go (the machine's trace). */
  trace?: Trace;
}

export class Xend {
  /** Everything logged, oldest first. */
  readonly log: XendLogEntry[] = [];
  private readonly channels = new Map<number, DomChannel>();
  /** _next_msgid: a Python int, so it never wraps; a message keeps its low 8 bits. */
  private msgCounter = 0;

  /**
   * createDomChannel: map the domain's control rings (its shared_info page;
   * control_if_t at +2048), sync the indexes, and put a console controller
   * and a domain controller on the channel. Throws if the console port is
   * taken ("console port in use") or the domain already has a channel.
   */
  createDomChannel(dom: number, page: Uint8Array, notify: () => void, opts: DomChannelOptions = {}): DomChannel {
    if (this.channels.has(dom)) throw new Error(`domain ${dom} already has a control channel`);
    const consolePort = opts.consolePort ?? CONSOLE_PORT_BASE + dom;
    for (const c of this.channels.values()) {
      if (c.console.consolePort === consolePort && c.console.status !== 'closed') throw new Error(`console port in use: ${consolePort}`);
    }
    const log = domainLogger(this.log, dom);
    const port = new XuPort(page, notify, log, { trace: opts.trace, dom });
    const channel = new Channel(dom, port, log);
    const console = new ConsoleController(channel, dom, consolePort, log);
    const domain = new DomainController(channel, dom, () => this.nextid(), log);
    const dc: DomChannel = { dom, port, channel, console, domain };
    this.channels.set(dom, dc);
    return dc;
  }

  /** The domain's channel; throws if it has none. */
  get(dom: number): DomChannel {
    const dc = this.channels.get(dom);
    if (!dc) throw new Error(`no control channel to domain ${dom}`);
    return dc;
  }

  has(dom: number): boolean {
    return this.channels.has(dom);
  }

  /** Domains with a channel, in creation order. */
  domains(): number[] {
    return [...this.channels.keys()];
  }

  /** dom0's control port for this domain fired: handle one batch. Returns the work done. */
  notification(dom: number): number {
    return this.channels.get(dom)?.channel.handleNotification() ?? 0;
  }

  /** xm shutdown: returns the request's id. */
  shutdown(dom: number, reason: ShutdownReason, onResponse?: ResponseHandler): number {
    return this.get(dom).domain.shutdown(reason, onResponse);
  }

  /** xm balloon / mem_target_set, in MB. Returns the request's id. */
  memTargetSet(dom: number, megabytes: number, onResponse?: ResponseHandler): number {
    return this.get(dom).domain.memTargetSet(megabytes, onResponse);
  }

  /** Bytes typed at the domain's console client. Returns the bytes accepted. */
  consoleInput(dom: number, bytes: Uint8Array): number {
    return this.get(dom).console.handleInput(bytes);
  }

  /** Attach a console client (xm console); -1 if one is already attached. */
  consoleConnect(dom: number, client: ConsoleClient): number {
    return this.get(dom).console.connect(client);
  }

  /** Close the domain's channel (domain destroyed): its devices go with it. */
  closeDomChannel(dom: number): void {
    const dc = this.channels.get(dom);
    if (!dc) return;
    dc.channel.close();
    this.channels.delete(dom);
  }

  /** messages.nextid: 1, 2, 3, ...; the id on the wire is its low byte. */
  nextid(): number {
    this.msgCounter += 1;
    return this.msgCounter & 0xff;
  }
}
