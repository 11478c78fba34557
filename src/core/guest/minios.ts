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
import { utf8, utf8Decode } from '../util/bytes.js';
import { DefaultKernel } from './kernel.js';
import { Xenbus } from './xenbus.js';
import { crlf, XenconsRing } from './xencons_ring.js';
import { retName } from '../abi/errno.js';
import { ethernetFrame, formatMac, NETIF_RSP_NAMES, NETIF_RSP_OKAY, parseMac } from '../abi/netif.js';
import { BlkFront } from './blkfront.js';
import { NetFront } from './netfront.js';

export const MINIOS_PROMPT = 'minios> ';
/** IEEE 802 local experimental EtherType: the frames `netsend` sends carry text under it. */
export const LAB_ETHERTYPE = 0x88b5;
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
  '  xenstore-read PATH   read a node (relative paths are under the domain\'s home)\n' +
  '  blk                  the block devices (blkfront) and their state\n' +
  '  blkread SECTOR [N]   read N sectors (default 1) from the first disk and print them\n' +
  '  blkwrite SECTOR TEXT write TEXT at SECTOR of the first disk (padded to whole sectors)\n' +
  '  ifconfig             the network interfaces (netfront) and their counters\n' +
  '  netsend MAC TEXT     send TEXT in an Ethernet frame to MAC (ff:ff:ff:ff:ff:ff for all)\n';

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
  /** Split devices found under device/ at boot (init_blkfront / init_netfront per node). */
  readonly disks: BlkFront[] = [];
  readonly nics: NetFront[] = [];

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
      this.probeDevices(this.xenbus);
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

  /**
   * The devices the toolstack put under device/vbd and device/vif: a blkfront
   * or netfront for each, started at once (Mini-OS's test threads do the
   * same). Each prints a line when it connects, as Mini-OS's drivers do.
   */
  private probeDevices(xs: Xenbus): void {
    const home = `/local/domain/${this.d.domid}`;
    xs.directory('device/vbd', (err, ids) => {
      if (err !== undefined) return;
      for (const id of ids.sort((a, b) => Number(a) - Number(b))) {
        const node = `device/vbd/${id}`;
        const blk = new BlkFront(this, xs, `${home}/${node}`);
        this.disks.push(blk);
        blk.start((e) => {
          if (e !== undefined) return this.notice(`blkfront: ${node}: ${e}`);
          const info = blk.info!;
          this.notice(`blkfront: ${node}: backend ${blk.dev.otherend}, ${info.sectors} sectors of ${info.sectorSize} bytes, ${info.readOnly ? 'read-only' : 'read-write'}, port ${blk.port}`);
        });
      }
    });
    xs.directory('device/vif', (err, ids) => {
      if (err !== undefined) return;
      for (const id of ids.sort((a, b) => Number(a) - Number(b))) {
        const node = `device/vif/${id}`;
        const nic = new NetFront(this, xs, `${home}/${node}`);
        this.nics.push(nic);
        nic.onFrame = (frame) => this.onFrame(nic, frame);
        nic.start((e) => {
          if (e !== undefined) return this.notice(`netfront: ${node}: ${e}`);
          this.notice(`netfront: ${node}: backend ${nic.dev.otherend}, mac ${nic.macString}, port ${nic.port}`);
        });
      }
    });
  }

  /** A frame for us: the lab's own EtherType carries text; anything else is summarised. */
  private onFrame(nic: NetFront, frame: Uint8Array): void {
    const src = frame.length >= 14 ? formatMac(frame.subarray(6, 12)) : '?';
    const type = frame.length >= 14 ? (frame[12]! << 8) | frame[13]! : 0;
    const body = type === LAB_ETHERTYPE ? `"${utf8Decode(frame.subarray(14))}"` : `type 0x${type.toString(16).padStart(4, '0')}`;
    this.notice(`net: eth${nic.devid}: ${frame.length} bytes from ${src}: ${body}`);
  }

  /** A line from a driver while the shell waits at its prompt: on a line of its own, then the prompt again. */
  private notice(text: string): void {
    this.print(`\n${text}\n${MINIOS_PROMPT}`);
  }

  /** blkread SECTOR [N] / blkwrite SECTOR TEXT on the first disk; the prompt follows the answer. */
  private blkCommand(cmd: string, rest: string[]): void {
    const blk = this.disks[0];
    const sector = rest[0] !== undefined && /^\d+$/.test(rest[0]) ? Number(rest[0]) : undefined;
    const usage = cmd === 'blkread' ? 'blkread SECTOR [N]' : 'blkwrite SECTOR TEXT';
    if (blk === undefined || sector === undefined || (cmd === 'blkwrite' && rest.length < 2)) {
      this.print(`${cmd}: ${blk === undefined ? 'no block device' : `usage: ${usage}`}\n${MINIOS_PROMPT}`);
      return;
    }
    if (cmd === 'blkread') {
      const n = rest[1] !== undefined && /^\d+$/.test(rest[1]) ? Math.max(1, Math.min(8, Number(rest[1]))) : 1;
      blk.read(sector, n, (err, data) => {
        if (err !== undefined) return this.print(`blkread: ${err}\n${MINIOS_PROMPT}`);
        this.print(`${hexdump(data, sector * 512)}${MINIOS_PROMPT}`);
      });
      return;
    }
    const text = utf8(rest.slice(1).join(' '));
    const size = blk.info?.sectorSize ?? 512;
    const data = new Uint8Array(Math.max(1, Math.ceil(text.length / size)) * size);
    data.set(text);
    blk.write(sector, data, (err) => this.print(`${err !== undefined ? `blkwrite: ${err}` : `blkwrite: ${data.length / 512} sector${data.length === 512 ? '' : 's'} written at ${sector}`}\n${MINIOS_PROMPT}`));
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
      case 'blk':
        if (this.disks.length === 0) this.print('blk: no block devices\n');
        for (const b of this.disks) {
          const i = b.info;
          this.print(`${b.nodename.replace(/^.*\/device\//, 'device/')}: ${b.phase}${i ? `, ${i.sectors} sectors of ${i.sectorSize} bytes, ${i.readOnly ? 'ro' : 'rw'}` : ''}, ${b.stats.requests} requests, ${b.stats.notifies} notifies\n`);
        }
        break;
      case 'blkread':
      case 'blkwrite':
        this.blkCommand(cmd, rest);
        return;
      case 'ifconfig':
        if (this.nics.length === 0) this.print('ifconfig: no network interfaces\n');
        for (const n of this.nics) {
          const st = n.stats;
          this.print(
            `eth${n.devid}: ${n.phase}, HWaddr ${n.macString || '?'}, port ${n.port}\n` +
              `  RX packets ${st.rxPackets} bytes ${st.rxBytes} errors ${st.rxErrors}\n` +
              `  TX packets ${st.txPackets} bytes ${st.txBytes} errors ${st.txErrors} dropped ${st.txDropped}\n`,
          );
        }
        break;
      case 'netsend': {
        const nic = this.nics[0];
        const dst = rest[0] === undefined ? undefined : parseMac(rest[0]);
        if (nic === undefined || nic.mac === undefined || dst === undefined || rest.length < 2) {
          this.print(nic === undefined ? 'netsend: no network interface\n' : 'netsend: usage: netsend MAC TEXT\n');
          break;
        }
        const frame = ethernetFrame(dst, nic.mac, LAB_ETHERTYPE, utf8(line.slice(line.indexOf(rest[1]!))));
        nic.send(frame, (status) => this.print(`netsend: ${frame.length} bytes to ${formatMac(dst)}: ${status === NETIF_RSP_OKAY ? 'sent' : (NETIF_RSP_NAMES[status] ?? `status ${status}`)}\n${MINIOS_PROMPT}`));
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

/** hexdump -C of the non-zero part of `data` (at least one line), offsets from `base`. */
function hexdump(data: Uint8Array, base: number): string {
  let end = data.length;
  while (end > 0 && data[end - 1] === 0) end--;
  const shown = Math.max(16, Math.ceil(end / 16) * 16);
  let out = '';
  for (let at = 0; at < shown && at < data.length; at += 16) {
    const row = data.subarray(at, at + 16);
    const hex = [...row].map((b, i) => b.toString(16).padStart(2, '0') + (i === 7 ? ' ' : '')).join(' ');
    const text = [...row].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    out += `${(base + at).toString(16).padStart(8, '0')}  ${hex.padEnd(49)} |${text}|\n`;
  }
  if (shown < data.length) out += `*  (${data.length - shown} more bytes of zeros)\n`;
  return out;
}
