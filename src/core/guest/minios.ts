/**
 * Mini-OS on a modern Xen: at boot it reads start_info's store_mfn,
 * store_evtchn, console.domU.mfn and console.domU.evtchn (as arch_init and
 * init_console/init_xenbus do), brings up xenbus and the console ring on
 * those frames and ports, binds VIRQ_TIMER, prints a banner and counts timer
 * ticks. It watches control/shutdown and, when the toolstack writes
 * poweroff or reboot there (xl shutdown), prints a line and makes
 * SCHEDOP_shutdown. A tiny shell reads lines from the console: help, evtchn, send,
 * status, mask, unmask, uptime, xenstore-read. Only the Xen-facing behaviour
 * is modelled (the upcall loop is the default kernel's 2-level one); the
 * banner is in Mini-OS's style, not a transcript of a real boot.
 */
import { LineInput } from './line_input.js';
import { DOMID_SELF } from '../abi/domid.js';
import { VIRQ_TIMER } from '../abi/evtchn.js';
import { START_INFO_CONSOLE_EVTCHN, START_INFO_CONSOLE_MFN, START_INFO_STORE_EVTCHN, START_INFO_STORE_MFN } from '../abi/layout.js';
import type { Domain } from '../hv/domain.js';
import type { Hypervisor } from '../hv/hypervisor.js';
import { utf8 } from '../util/bytes.js';
import { DefaultKernel } from './kernel.js';
import { Xenbus } from './xenbus.js';
import { crlf, XenconsRing } from './xencons_ring.js';
import { retName } from '../abi/errno.js';

export const MINIOS_PROMPT = 'minios> ';
/** The node the toolstack writes to ask for a shutdown, relative to the domain's home. */
export const CONTROL_SHUTDOWN = 'control/shutdown';

/** The four start_info fields the toolstack fills for a PV domU's store and console. */
export interface StartInfoRings {
  storeMfn: number;
  storeEvtchn: number;
  consoleMfn: number;
  consoleEvtchn: number;
}

/** Reads store_mfn @56, store_evtchn @64, console.domU.mfn @72, console.domU.evtchn @80. */
export function readStartInfoRings(d: Domain): StartInfoRings {
  const st = d.startInfo;
  const v = new DataView(st.buffer, st.byteOffset, st.byteLength);
  return {
    storeMfn: Number(v.getBigUint64(START_INFO_STORE_MFN, true)),
    storeEvtchn: v.getUint32(START_INFO_STORE_EVTCHN, true),
    consoleMfn: Number(v.getBigUint64(START_INFO_CONSOLE_MFN, true)),
    consoleEvtchn: v.getUint32(START_INFO_CONSOLE_EVTCHN, true),
  };
}

const HELP =
  'commands:\n' +
  '  help                 this list\n' +
  '  evtchn               the ports this kernel has bound, with their state\n' +
  '  send PORT            EVTCHNOP_send on PORT\n' +
  '  status PORT          EVTCHNOP_status on PORT\n' +
  '  mask PORT            set PORT\'s mask bit\n' +
  '  unmask PORT          EVTCHNOP_unmask on PORT\n' +
  '  uptime               virtual time and timer ticks\n' +
  '  xenstore-read PATH   read a node (relative paths are under the domain\'s home)\n';

export class MiniOsKernel extends DefaultKernel {
  rings: StartInfoRings | undefined;
  storePort = 0;
  consolePort = 0;
  virqTimerPort = 0;
  ticks = 0;
  xenbus: Xenbus | undefined;
  cons: XenconsRing | undefined;
  /** Ports this kernel bound or was given, with what they are for. */
  readonly bound = new Map<number, string>();
  private readonly lineInput = new LineInput((text) => this.print(text), (line) => this.onLine(line));

  constructor(hv: Hypervisor, d: Domain) {
    super(hv, d);
    if (d.xen !== '4') throw new RangeError('the minios kernel boots on a modern Xen (xen: "4")');
  }

  override boot(): void {
    super.boot(); // upcalls on
    const rings = readStartInfoRings(this.d);
    this.rings = rings;
    const base = this.d.memory.mfnBase;
    const storePage = this.d.memory.frame(rings.storeMfn - base);
    const consPage = this.d.memory.frame(rings.consoleMfn - base);
    this.storePort = rings.storeEvtchn;
    this.consolePort = rings.consoleEvtchn;
    if (consPage !== undefined && this.consolePort !== 0) {
      this.cons = new XenconsRing(consPage, () => void this.send(this.consolePort), (b) => this.lineInput.feed(b));
      this.bound.set(this.consolePort, 'console');
    }
    if (storePage !== undefined && this.storePort !== 0) {
      this.xenbus = new Xenbus(storePage, () => void this.send(this.storePort));
      this.bound.set(this.storePort, 'xenstore');
      // shutdown.c: a watch on control/shutdown (relative: under the domain's home).
      this.xenbus.watch(CONTROL_SHUTDOWN, 'shutdown', () => this.checkShutdown());
    }
    const tp = this.call('bind_virq', { virq: VIRQ_TIMER, vcpu: 0 });
    if (tp.ret >= 0) {
      this.virqTimerPort = tp.out!.port as number;
      this.bound.set(this.virqTimerPort, 'VIRQ_TIMER');
    }
    const pages = this.d.memory.nrPages;
    this.print(
      `Xen Minimal OS (pv)\n` +
        `  start_info: nr_pages ${pages} (${(pages * 4) >> 10}MB)\n` +
        `  store_mfn: ${rings.storeMfn.toString(16)}  store_evtchn: ${rings.storeEvtchn}\n` +
        `  console.mfn: ${rings.consoleMfn.toString(16)}  console.evtchn: ${rings.consoleEvtchn}\n` +
        `  shared_info at mfn ${this.hv.sharedInfoMfn(this.d).toString(16)}\n` +
        `evtchn: VIRQ_TIMER on port ${this.virqTimerPort}\n` +
        `xenbus: initialised on port ${this.storePort}\n` +
        `console: initialised on port ${this.consolePort}\n` +
        `Mini-OS ${this.d.name} (domain ${this.d.domid}) ready\n` +
        MINIOS_PROMPT,
    );
  }

  /** Set once control/shutdown asked for a shutdown this kernel is carrying out. */
  shutdownRequested: 'poweroff' | 'reboot' | undefined;

  /** shutdown_thread: reads control/shutdown when its watch fires; poweroff or reboot takes the domain down. */
  private checkShutdown(): void {
    this.xenbus?.read(CONTROL_SHUTDOWN, (err, value) => {
      if (err !== undefined || this.shutdownRequested !== undefined) return;
      if (value !== 'poweroff' && value !== 'reboot') return;
      this.shutdownRequested = value;
      // shutdown_thread acknowledges by clearing the node before acting on it.
      this.xenbus?.write(CONTROL_SHUTDOWN, '');
      this.print(`\nminios: control/shutdown = "${value}": shutting down (${value})\n`);
      this.schedShutdown(value);
    });
  }

  /** HYPERVISOR_sched_op(SCHEDOP_shutdown, { reason }): the hypervisor's domain_shutdown. */
  schedShutdown(reason: 'poweroff' | 'reboot'): number {
    return this.hv.shutdown(this.d, reason);
  }

  /** console_print: "\n" goes out as "\r\n". */
  print(text: string): void {
    this.cons?.write(crlf(utf8(text)));
  }

  override onEvent(port: number, vcpu: number): void {
    super.onEvent(port, vcpu);
    if (port === this.virqTimerPort) this.ticks++;
    else if (port === this.consolePort) this.cons?.onNotify();
    else if (port === this.storePort) this.xenbus?.onNotify();
  }

  override afterHypercall(op: string, args: Readonly<Record<string, unknown>>, ret: number, out: Readonly<Record<string, unknown>> | undefined): void {
    super.afterHypercall(op, args, ret, out);
    if (ret < 0) return;
    const port = (out?.port ?? out?.local_port) as number | undefined;
    if (port !== undefined && !this.bound.has(port) && (op.startsWith('bind_') || op === 'alloc_unbound')) this.bound.set(port, op);
    if (op === 'close' && typeof args.port === 'number') this.bound.delete(args.port);
  }

  private portArg(cmd: string, arg: string | undefined): number | undefined {
    if (arg === undefined || !/^\d+$/.test(arg)) {
      this.print(`${cmd}: usage: ${cmd} PORT\n${MINIOS_PROMPT}`);
      return undefined;
    }
    return Number(arg);
  }

  private describePort(port: number): string {
    const r = this.call('status', { dom: DOMID_SELF, port });
    if (r.ret < 0) return `port ${port}: ${retName(r.ret)}`;
    const o = r.out!;
    const u = o.u as Record<string, unknown> | undefined;
    let detail = '';
    if (u?.interdomain !== undefined) {
      const i = u.interdomain as { dom: number; port: number };
      detail = ` dom${i.dom} port ${i.port}`;
    } else if (u?.unbound !== undefined) detail = ` for dom${(u.unbound as { dom: number }).dom}`;
    else if (u?.virq !== undefined) detail = ` ${String(u.virq)}`;
    else if (u?.pirq !== undefined) detail = ` pirq ${String(u.pirq)}`;
    return `port ${port}: ${String(o.status)}${detail} vcpu ${String(o.vcpu)}`;
  }

  private onLine(line: string): void {
    if (line === '') {
      this.print(MINIOS_PROMPT);
      return;
    }
    const [cmd = '', ...rest] = line.split(/\s+/);
    switch (cmd) {
      case 'help':
        this.print(HELP);
        break;
      case 'evtchn': {
        const ports = [...this.bound.keys()].sort((a, b) => a - b);
        for (const p of ports) {
          const flags = this.d.ops.isPending(this.d, p) ? ' pending' : '';
          const masked = this.d.ops.isMasked(this.d, p) ? ' masked' : '';
          this.print(`${this.describePort(p)} (${this.bound.get(p)!}${flags}${masked}, ${this.deliveries(p)} delivered)\n`);
        }
        break;
      }
      case 'send': {
        const p = this.portArg(cmd, rest[0]);
        if (p === undefined) return;
        const ret = this.call('send', { port: p }).ret;
        this.print(ret < 0 ? `send: port ${p}: ${retName(ret)}\n` : `send: event sent on port ${p}\n`);
        break;
      }
      case 'status': {
        const p = this.portArg(cmd, rest[0]);
        if (p === undefined) return;
        this.print(`${this.describePort(p)}\n`);
        break;
      }
      case 'mask': {
        const p = this.portArg(cmd, rest[0]);
        if (p === undefined) return;
        this.print(this.maskPort(p) ? `mask: port ${p} masked\n` : `mask: port ${p}: no mask bit\n`);
        break;
      }
      case 'unmask': {
        const p = this.portArg(cmd, rest[0]);
        if (p === undefined) return;
        const ret = this.call('unmask', { port: p }).ret;
        this.print(ret < 0 ? `unmask: port ${p}: ${retName(ret)}\n` : `unmask: port ${p} unmasked\n`);
        break;
      }
      case 'uptime':
        this.print(`up ${(this.hv.now / 1e9).toFixed(3)}s (${this.hv.now} ns), ${this.ticks} timer ticks\n`);
        break;
      case 'xenstore-read': {
        const path = rest[0];
        if (path === undefined || this.xenbus === undefined) {
          this.print(`xenstore-read: ${path === undefined ? 'usage: xenstore-read PATH' : 'no xenbus'}\n${MINIOS_PROMPT}`);
          return;
        }
        // The answer comes when xenstored replies; the prompt follows it.
        this.xenbus.read(path, (err, value) => this.print(`${err !== undefined ? `xenstore-read: ${path}: ${err}` : value}\n${MINIOS_PROMPT}`));
        return;
      }
      default:
        this.print(`minios: ${cmd}: command not found\n`);
    }
    this.print(MINIOS_PROMPT);
  }
}

export function miniosKernel() {
  return (hv: Hypervisor, d: Domain): MiniOsKernel => new MiniOsKernel(hv, d);
}
