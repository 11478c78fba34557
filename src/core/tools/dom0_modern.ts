/**
 * dom0's kernel under a modern Xen (4.x) with the two daemons a guest's
 * console and store need: one xenstored and one xenconsoled. `buildGuest`
 * does what the toolstack (libxl, with the domain builder) does before a PV
 * guest's kernel starts (reference §10–§12):
 *
 *  - the xenstore ring at gfn START_INFO_GFN + 1 and the console ring at
 *    START_INFO_GFN + 2 (the boot layout's order: start_info, store, console);
 *  - the guest's reserved grant entries 0 (GNTTAB_RESERVED_CONSOLE) and 1
 *    (GNTTAB_RESERVED_XENSTORE) granting those frames to dom0;
 *  - alloc_unbound(dom = guest, remote_dom = 0) for the store port, then the
 *    console port (a fresh guest gets 1 and 2, as with libxl);
 *  - start_info.store_mfn/store_evtchn and console.domU.mfn/evtchn;
 *  - the guest's xenstore home (/local/domain/<id>, owned by dom0 and readable
 *    by the guest; data/ owned by the guest) with name, domid, store/ and
 *    console/ nodes, then XS_INTRODUCE(domid, mfn, port): xenstored binds its
 *    end (bind_interdomain) and connects the ring;
 *  - xenconsoled binds its end of the console port and attaches the page.
 *
 * dom0's ends of both channels are routed to the daemons in onEvent. The
 * daemons reach the guest's pages directly (xenstored would map grant 1,
 * xenconsoled grant 0 or the ring-ref frame: the bytes are the same).
 */
import { DOMID_SELF } from '../abi/domid.js';
import { VIRQ_DOM_EXC } from '../abi/evtchn.js';
import { retName } from '../abi/errno.js';
import { START_INFO_CONSOLE_EVTCHN, START_INFO_CONSOLE_MFN, START_INFO_STORE_EVTCHN, START_INFO_STORE_MFN } from '../abi/layout.js';
import { nulStrings, XS_DIRECTORY, XS_ERROR, XS_INTRODUCE, XS_MKDIR, XS_READ, XS_RM, XS_SET_PERMS, XS_WRITE } from '../abi/xs_wire.js';
import { domainPath } from '../abi/xenbus.js';
import { DefaultKernel, type EventAbi } from '../guest/kernel.js';
import type { Domain } from '../hv/domain.js';
import { grantAccess } from '../hv/grant_table.js';
import { START_INFO_GFN, type Hypervisor } from '../hv/hypervisor.js';
import { utf8, utf8Decode } from '../util/bytes.js';
import { Dom0Shell, type XsResult } from './dom0_shell.js';
import { Xenconsoled, type ConsoleConn } from './xenconsoled.js';
import { Xenstored, type XsMsg, type XsSocket } from './xenstored.js';
import { XenbusBackendBus, type BackendEnv, type BackendProbe } from './xenbus_backend.js';
import { XsSocketClient } from './xs_socket_client.js';
import { blkbackProbe, type Blkback, type BlkbackProbe, type DiskImage } from './blkback.js';
import { Bridge, netbackProbe, vifDeviceKeys, type NetbackProbe, type NetbackVif } from './netback.js';
import { backendPath, frontendPath, XenbusStateInitialising } from '../abi/xenbus.js';
import { XS_TRANSACTION_END, XS_TRANSACTION_START } from '../abi/xs_wire.js';

/** Where the toolstack puts a PV guest's rings: right after start_info. */
export const STORE_GFN = START_INFO_GFN + 1;
export const CONSOLE_GFN = START_INFO_GFN + 2;
/** Reserved grant references (grant_table.h). */
export const GNTTAB_RESERVED_CONSOLE = 0;
export const GNTTAB_RESERVED_XENSTORE = 1;

/** What buildGuest set up for one guest. */
export interface BuiltGuest {
  readonly domid: number;
  /** The guest's ports (start_info.store_evtchn, console.domU.evtchn). */
  readonly storePort: number;
  readonly consolePort: number;
  /** dom0's ends. */
  readonly storeLocal: number;
  readonly consoleLocal: number;
  readonly console: ConsoleConn;
}

export class Dom0Kernel extends DefaultKernel {
  readonly xenstored: Xenstored;
  readonly xenconsoled = new Xenconsoled({ trace: this.hv.trace });
  /** Everything xenstored logged. */
  readonly xsLog: string[] = [];
  /** dom0's local port → the guest domid, for each daemon. */
  private readonly storePorts = new Map<number, number>();
  private readonly consolePorts = new Map<number, number>();
  readonly guests = new Map<number, BuiltGuest>();
  private readonly sock: XsSocket;
  private readonly replies: XsMsg[] = [];
  private reqId = 1;
  /** What dom0's console shows: the shell's prompt, echo and output. */
  readonly console: string[] = [];
  /** What dom0 logged to the hypervisor's console (xl dmesg). */
  readonly dmesgLines: string[] = [];
  readonly shell: Dom0Shell;

  constructor(hv: Hypervisor, d: Domain, abi: EventAbi = '2l') {
    super(hv, d, abi);
    if (d.xen !== '4') throw new RangeError('xenstored and xenconsoled are the modern control path (xen: "4")');
    if (d.domid !== 0) throw new RangeError('the toolstack runs in dom0');
    this.xenstored = new Xenstored({
      trace: hv.trace,
      env: {
        mapRing: (domid) => this.hv.domain(domid)?.memory.frame(STORE_GFN) ?? -3,
        bindPort: (domid, remotePort) => {
          const r = this.call('bind_interdomain', { remote_dom: domid, remote_port: remotePort });
          if (r.ret < 0) return r.ret;
          const local = r.out!.local_port as number;
          this.storePorts.set(local, domid);
          return { port: local, notify: () => void this.send(local) };
        },
        unbindPort: (_domid, local) => {
          this.storePorts.delete(local);
          this.call('close', { dom: DOMID_SELF, port: local });
        },
        domainExists: (domid) => this.hv.domain(domid) !== undefined,
        log: (l) => this.xsLog.push(l),
      },
    });
    this.sock = this.xenstored.openSocket((m) => this.replies.push(m));
    this.shell = new Dom0Shell({
      hv,
      write: (t) => void this.console.push(t),
      shutdown: (g) => this.shutdownGuest(g, 'poweroff'),
      destroy: (g) => (g.domid === 0 || g.dying ? hv.destroy(g) : this.destroyGuest(g)),
      dmesg: () => this.dmesgLines,
      xs: (op, path, value) => this.xsTool(op, path, value),
    });
  }

  /**
   * dom0's port for VIRQ_DOM_EXC (xenstored's and xl's way to hear of a domain
   * shutting down); 0 until bound. Real xenstored binds it when it starts; here
   * it is bound once the first guest is built, after that guest's channels, so
   * dom0's port numbers (and scenarios without a built guest, where a shut-down
   * domain stays for inspection) are as before.
   */
  domExcPort = 0;
  /** Every domain reap destroyed, with its shutdown reason, in order. */
  readonly reaped: { domid: number; name: string; reason: string }[] = [];

  override boot(): void {
    super.boot();
    this.shell.start(`${this.d.name}: xenstored and xenconsoled running; type help`);
  }

  /** One request over xenstored's socket and its reply (undefined if none came). */
  private xsRequest(type: number, payload: Uint8Array, txId = 0): XsMsg | undefined {
    const reqId = this.reqId++;
    this.sock.send(type, payload, reqId, txId);
    const i = this.replies.findIndex((m) => m.reqId === reqId);
    const m = i < 0 ? undefined : this.replies.splice(i, 1)[0]!;
    this.replies.length = 0; // watch events for dom0's tools are not used
    return m;
  }

  /** One request from dom0's tools over xenstored's socket; throws on XS_ERROR. */
  private xs(type: number, payload: Uint8Array, txId = 0): XsMsg {
    const m = this.xsRequest(type, payload, txId);
    if (m === undefined) throw new Error(`xenstored did not answer request ${this.reqId - 1} (type ${type})`);
    if (m.type === XS_ERROR) throw new Error(`xenstored: request type ${type} failed: ${utf8Decode(m.payload).replace(/\0$/, '')}`);
    return m;
  }

  /** The shell's xenstore-* commands: one request each, the error name on failure. */
  private xsTool(op: 'directory' | 'read' | 'write' | 'rm', path: string, value?: string): XsResult {
    const type = op === 'directory' ? XS_DIRECTORY : op === 'read' ? XS_READ : op === 'write' ? XS_WRITE : XS_RM;
    const m = this.xsRequest(type, op === 'write' ? utf8(`${path}\0${value ?? ''}`) : nulStrings(path));
    if (m === undefined) return { ok: false, error: 'EIO' };
    if (m.type === XS_ERROR) return { ok: false, error: utf8Decode(m.payload).replace(/\0$/, '') };
    return { ok: true, payload: m.payload };
  }

  private xsWrite(path: string, value: string, txId = 0): void {
    this.xs(XS_WRITE, utf8(`${path}\0${value}`), txId);
  }

  /**
   * The toolstack's part of building a PV guest, before its kernel boots.
   * `onOutput` gets every chunk of console output xenconsoled drains.
   */
  buildGuest(guest: Domain, onOutput?: (bytes: Uint8Array) => void): BuiltGuest {
    if (guest.xen !== '4' || guest.domid === 0) throw new RangeError('buildGuest builds a modern domU');
    if (this.guests.has(guest.domid)) throw new Error(`${guest.name} is built already`);
    const hv = this.hv;
    const storePage = guest.memory.frame(STORE_GFN);
    const consolePage = guest.memory.frame(CONSOLE_GFN);
    if (storePage === undefined || consolePage === undefined) throw new RangeError(`${guest.name} has no frames ${STORE_GFN}/${CONSOLE_GFN}`);
    grantAccess(hv, guest, GNTTAB_RESERVED_CONSOLE, 0, CONSOLE_GFN, false);
    grantAccess(hv, guest, GNTTAB_RESERVED_XENSTORE, 0, STORE_GFN, false);
    const storePort = this.allocUnbound(guest);
    const consolePort = this.allocUnbound(guest);
    const storeMfn = guest.memory.mfn(STORE_GFN);
    const consoleMfn = guest.memory.mfn(CONSOLE_GFN);
    const st = guest.startInfo;
    const view = new DataView(st.buffer, st.byteOffset, st.byteLength);
    view.setBigUint64(START_INFO_STORE_MFN, BigInt(storeMfn), true);
    view.setUint32(START_INFO_STORE_EVTCHN, storePort, true);
    view.setBigUint64(START_INFO_CONSOLE_MFN, BigInt(consoleMfn), true);
    view.setUint32(START_INFO_CONSOLE_EVTCHN, consolePort, true);

    // libxl__domain_make / libxl__build_post: the home and what the guest may read there.
    const id = guest.domid;
    const home = domainPath(id);
    this.xs(XS_MKDIR, nulStrings(home));
    this.xs(XS_SET_PERMS, nulStrings(home, 'n0', `r${id}`));
    this.xs(XS_MKDIR, nulStrings(`${home}/data`));
    this.xs(XS_SET_PERMS, nulStrings(`${home}/data`, `n${id}`));
    this.xsWrite(`${home}/name`, guest.name);
    this.xsWrite(`${home}/domid`, String(id));
    this.xsWrite(`${home}/store/port`, String(storePort));
    this.xsWrite(`${home}/store/ring-ref`, String(storeMfn));
    this.xsWrite(`${home}/console/port`, String(consolePort));
    this.xsWrite(`${home}/console/ring-ref`, String(consoleMfn));
    this.xsWrite(`${home}/console/type`, 'xenconsoled');
    this.xsWrite(`${home}/console/output`, 'pty');
    // libxl__domain_make: control/shutdown belongs to the guest, which clears it to acknowledge a request.
    this.xs(XS_MKDIR, nulStrings(`${home}/control/shutdown`));
    this.xs(XS_SET_PERMS, nulStrings(`${home}/control/shutdown`, `n${id}`));

    // XS_INTRODUCE(domid, mfn, port): xenstored binds its end and connects the ring.
    this.xs(XS_INTRODUCE, nulStrings(String(id), String(storeMfn), String(storePort)));
    // xenconsoled: bind dom0's end of the console port, map the page, CONNECTED.
    const r = this.call('bind_interdomain', { remote_dom: id, remote_port: consolePort });
    if (r.ret < 0) throw new Error(`xenconsoled: bind_interdomain(${id}, ${consolePort}) failed: ${r.ret}`);
    const consoleLocal = r.out!.local_port as number;
    this.consolePorts.set(consoleLocal, id);
    const conn = this.xenconsoled.attach(id, consolePage, () => void this.send(consoleLocal), consoleLocal);
    if (onOutput !== undefined) conn.onOutput = onOutput;

    const storeLocal = this.xenstored.domains.get(id)?.port ?? 0;
    const built: BuiltGuest = { domid: id, storePort, consolePort, storeLocal, consoleLocal, console: conn };
    this.dmesgLines.push(`${this.d.name}: domain ${id} (${guest.name}) built: xenstore on port ${storePort} (dom0:${storeLocal}), console on port ${consolePort} (dom0:${consoleLocal})`);
    this.guests.set(id, built);
    if (this.domExcPort === 0) this.bindDomExc();
    return built;
  }

  // ---------------------------------------------------------------------------
  // Split devices: the toolstack's half (libxl__device_add) and dom0's backend bus

  /** dom0 kernel's own xenbus client (made on first use so scenarios without devices see no extra connection). */
  private xsKernel: XsSocketClient | undefined;
  private readonly backendBuses = new Map<string, XenbusBackendBus>();

  /** The xenstore client dom0's backend drivers use. */
  get kernelXenbus(): XsSocketClient {
    this.xsKernel ??= new XsSocketClient(this.xenstored, (fn) => void this.hv.schedule(0, fn));
    return this.xsKernel;
  }

  /** What a backend driver in dom0 is given. */
  readonly backendEnv: BackendEnv = {
    domid: 0,
    trace: this.hv.trace,
    call: (op, args) => this.call(op, args as Record<string, number>),
    send: (port) => this.send(port),
    onPort: (port, fn) => {
      if (fn === undefined) this.portHandlers.delete(port);
      else this.portHandlers.set(port, () => fn());
    },
    mapped: (handle) => this.d.grants.maptrack[handle]?.page,
    allocPage: () => {
      const gfn = this.allocKernelPage();
      return { gfn, page: this.d.memory.frame(gfn)! };
    },
    log: (line) => void this.dmesgLines.push(line),
  };

  /** Loads a backend driver: its bus watches backend/<type> in dom0's home and probes each device found there. */
  registerBackend(type: string, probe: BackendProbe): XenbusBackendBus {
    let bus = this.backendBuses.get(type);
    if (bus === undefined) {
      bus = new XenbusBackendBus(this.kernelXenbus, this.d.domid, type, probe);
      this.backendBuses.set(type, bus);
    }
    return bus;
  }

  backendBus(type: string): XenbusBackendBus | undefined {
    return this.backendBuses.get(type);
  }

  /**
   * libxl__device_add for a device of `type` (vbd, vif, ...) numbered `devid`
   * on `guest`, backed by dom0: in one transaction, the frontend directory
   * (owned by the guest, readable by dom0) and the backend directory (owned by
   * dom0, readable by the guest), each naming the other, both in
   * XenbusStateInitialising, with the type's own keys.
   */
  addDevice(guest: Domain, type: string, devid: number, keys: { frontend?: Readonly<Record<string, string>>; backend?: Readonly<Record<string, string>> } = {}): { frontend: string; backend: string } {
    const fe = guest.domid;
    const be = this.d.domid;
    const fePath = frontendPath(fe, type, devid);
    const bePath = backendPath(be, type, fe, devid);
    for (;;) {
      const tx = Number(utf8Decode(this.xs(XS_TRANSACTION_START, nulStrings('')).payload).replace(/\0$/, ''));
      this.xs(XS_MKDIR, nulStrings(fePath), tx);
      this.xs(XS_SET_PERMS, nulStrings(fePath, `n${fe}`, `r${be}`), tx);
      this.xs(XS_MKDIR, nulStrings(bePath), tx);
      this.xs(XS_SET_PERMS, nulStrings(bePath, `n${be}`, `r${fe}`), tx);
      this.xsWrite(`${fePath}/backend`, bePath, tx);
      this.xsWrite(`${fePath}/backend-id`, String(be), tx);
      for (const [k, v] of Object.entries(keys.frontend ?? {})) this.xsWrite(`${fePath}/${k}`, v, tx);
      this.xsWrite(`${fePath}/state`, String(XenbusStateInitialising), tx);
      this.xsWrite(`${bePath}/frontend`, fePath, tx);
      this.xsWrite(`${bePath}/frontend-id`, String(fe), tx);
      this.xsWrite(`${bePath}/online`, '1', tx);
      for (const [k, v] of Object.entries(keys.backend ?? {})) this.xsWrite(`${bePath}/${k}`, v, tx);
      this.xsWrite(`${bePath}/state`, String(XenbusStateInitialising), tx);
      const end = this.xsRequest(XS_TRANSACTION_END, nulStrings('T'), tx);
      if (end?.type === XS_ERROR && utf8Decode(end.payload).startsWith('EAGAIN')) continue;
      if (end === undefined || end.type === XS_ERROR) throw new Error(`xenstored: the transaction adding ${type} ${devid} to ${guest.name} failed`);
      break;
    }
    this.dmesgLines.push(`${this.d.name}: ${type} ${devid} added to domain ${fe} (${guest.name}): ${bePath}`);
    return { frontend: fePath, backend: bePath };
  }

  /** dom0's disk images, by "<frontend domid>/<devid>" (what blkback's physical devices are here). */
  readonly disks = new Map<string, DiskImage>();
  /** xenbr0: the software bridge every vif's backend joins. */
  readonly bridge = new Bridge('xenbr0');
  private blkback: BlkbackProbe | undefined;
  private netback: NetbackProbe | undefined;

  /** blkback's instances (one per vbd), once a disk was attached. */
  get blkbackInstances(): ReadonlyMap<string, Blkback> {
    return this.blkback?.instances ?? new Map();
  }

  /** netback's vifs, once one was attached. */
  get netbackVifs(): ReadonlyMap<string, NetbackVif> {
    return this.netback?.vifs ?? new Map();
  }

  /**
   * xl block-attach (or a disk= line): the image becomes vbd `devid` of
   * `guest` (xvda is 51712), served by blkback in dom0.
   */
  attachDisk(guest: Domain, devid: number, image: DiskImage): { frontend: string; backend: string } {
    if (this.blkback === undefined) {
      this.blkback = blkbackProbe(this.backendEnv, (fe, id) => this.disks.get(`${fe}/${id}`));
      this.registerBackend('vbd', this.blkback);
    }
    this.disks.set(`${guest.domid}/${devid}`, image);
    const dev = xvdName(devid);
    return this.addDevice(guest, 'vbd', devid, {
      frontend: { 'virtual-device': String(devid), 'device-type': 'disk' },
      backend: { dev, type: 'phy', params: `xenlab:${guest.name}-${dev}`, mode: image.readOnly ? 'r' : 'w', 'device-type': 'disk', removable: '0', bootable: '1' },
    });
  }

  /** xl network-attach (or a vif= line): vif `devid` of `guest` with `mac`, on dom0's bridge through netback. */
  attachVif(guest: Domain, devid: number, mac: string): { frontend: string; backend: string } {
    if (this.netback === undefined) {
      this.netback = netbackProbe(this.backendEnv, this.bridge, { trace: this.hv.trace });
      this.registerBackend('vif', this.netback);
    }
    return this.addDevice(guest, 'vif', devid, vifDeviceKeys(devid, mac, this.bridge.name));
  }

  /** xenstored's domain_init / xl's death watch: VIRQ_DOM_EXC to dom0. */
  private bindDomExc(): void {
    const r = this.call('bind_virq', { virq: VIRQ_DOM_EXC, vcpu: 0 });
    if (r.ret < 0) throw new Error(`xenstored: bind_virq(VIRQ_DOM_EXC) failed: ${retName(r.ret)}`);
    this.domExcPort = r.out!.port as number;
    this.dmesgLines.push(`${this.d.name}: listening for VIRQ_DOM_EXC on port ${this.domExcPort}`);
  }

  private allocUnbound(guest: Domain): number {
    const r = this.call('alloc_unbound', { dom: guest.domid, remote_dom: 0 });
    if (r.ret < 0) throw new Error(`alloc_unbound(${guest.domid}, 0) failed: ${r.ret}`);
    return r.out!.port as number;
  }

  /** Bytes typed at a guest's console (xenconsoled's pty); throws if it has none. */
  typeAt(domid: number, bytes: Uint8Array): void {
    this.xenconsoled.get(domid).type(bytes);
  }

  /**
   * xl shutdown (libxl_domain_shutdown → libxl__domain_pvcontrol_write): writes
   * "poweroff" or "reboot" to control/shutdown in the guest's xenstore home;
   * the guest watches the node and makes SCHEDOP_shutdown itself. A message
   * on failure (no xenstore home: no PV control interface), else undefined.
   */
  shutdownGuest(g: Domain, reason: 'poweroff' | 'reboot'): string | undefined {
    if (g.domid === 0) return 'dom0 cannot be shut down from xl';
    if (!this.guests.has(g.domid)) return 'PV control interface not available';
    const r = this.xsTool('write', `${domainPath(g.domid)}/control/shutdown`, reason);
    return r.ok ? undefined : `xenstore write of control/shutdown failed: ${r.error}`;
  }

  /**
   * The reaper on VIRQ_DOM_EXC (xenstored's domain_cleanup, xl's domain
   * death watch): every built guest found shut down is destroyed, xenstored
   * is told it is gone (its connection and home removed, @releaseDomain
   * fired) and xenconsoled drops its console after reading what is left.
   */
  reap(): void {
    for (const id of [...this.guests.keys()]) {
      const g = this.hv.domain(id);
      if (g === undefined || g.state !== 'shutdown') continue;
      const reason = g.shutdownReason ?? `code ${g.shutdownCode}`;
      this.xenstored.domainShutdown(id);
      this.destroyGuest(g);
      this.reaped.push({ domid: id, name: g.name, reason });
      this.dmesgLines.push(`${this.d.name}: domain ${id} (${g.name}) shut down (${reason}): destroyed`);
    }
  }

  /** Destroys a built guest (or any domU) and lets both daemons drop it. Returns the destroy's result. */
  destroyGuest(g: Domain): number {
    const id = g.domid;
    const built = this.guests.get(id);
    if (built !== undefined) {
      this.xenconsoled.onNotify(id); // what the guest wrote last is read before the page goes
      this.xenconsoled.detach(id);
      this.consolePorts.delete(built.consoleLocal);
      this.call('close', { dom: DOMID_SELF, port: built.consoleLocal });
      this.guests.delete(id);
    }
    const ret = this.hv.destroy(g);
    if (built !== undefined) {
      this.xenstored.domainDied(id);
      this.xsTool('rm', domainPath(id)); // libxl__destroy_domid: the home goes
      // ... and so do the backend directories of its devices; each backend's bus removes its instance.
      for (const type of this.backendBuses.keys()) this.xsTool('rm', `${domainPath(this.d.domid)}/backend/${type}/${id}`);
      for (const key of [...this.disks.keys()]) if (key.startsWith(`${id}/`)) this.disks.delete(key);
    }
    return ret;
  }

  /**
   * A fault for labs about back-pressure: `backend` stops serving domain
   * `domid` for `ns` of virtual time, as a backend process that is not
   * scheduled (console: xenconsoled, xenstore: xenstored, block: blkback,
   * network: netback). Its notifications are taken and ignored; when the time
   * is up it runs and finds the work waiting on its rings. Returns dom0's
   * ports it stalled, or why it cannot.
   */
  stallBackend(backend: string, domid: number, ns: number): number[] | string {
    const ports: number[] = [];
    const mine = (m: ReadonlyMap<number, number>): void => {
      for (const [port, id] of m) if (id === domid) ports.push(port);
    };
    switch (backend) {
      case 'console':
        mine(this.consolePorts);
        break;
      case 'xenstore':
        mine(this.storePorts);
        break;
      case 'block':
        for (const b of this.blkbackInstances.values()) if (b.frontendId === domid && b.port !== 0) ports.push(b.port);
        break;
      case 'network':
        for (const v of this.netbackVifs.values()) if (v.frontendId === domid && v.port !== 0) ports.push(v.port);
        break;
      default:
        return `dom0 has no "${backend}" backend on this Xen (it has console, xenstore, block and network)`;
    }
    if (ports.length === 0) {
      const split = backend === 'block' || backend === 'network';
      return `domain ${domid} has no ${backend} channel to dom0${split ? ' yet: its device connects through xenstore (wait for it with until: { xenbus: { ..., state: Connected } })' : ''}`;
    }
    this.stallPorts(ports, ns, backend);
    return ports;
  }

  override onEvent(port: number, vcpu: number): void {
    super.onEvent(port, vcpu);
    if (!this.stalled(port)) this.route(port);
  }

  /** A stalled backend runs again: its drivers, then its daemons, see the port. */
  protected override resumePort(port: number, vcpu: number): void {
    super.resumePort(port, vcpu);
    this.route(port);
  }

  /** dom0's ends of guests' channels to the software serving them. */
  private route(port: number): void {
    if (port === this.domExcPort) {
      // After this batch of notifications, so a dying guest's last console output is read first.
      this.hv.schedule(0, () => this.reap());
      return;
    }
    const s = this.storePorts.get(port);
    if (s !== undefined) this.xenstored.onNotify(s);
    const c = this.consolePorts.get(port);
    if (c !== undefined) this.xenconsoled.onNotify(c);
  }
}

export function dom0Kernel(abi: EventAbi = '2l') {
  return (hv: Hypervisor, d: Domain): Dom0Kernel => new Dom0Kernel(hv, d, abi);
}

/** xvda, xvdb, ... for a virtual-device number of the xvd major (202), else the number. */
function xvdName(devid: number): string {
  if (devid >> 8 !== 202) return String(devid);
  const disk = (devid & 0xff) >> 4;
  return `xvd${String.fromCharCode(97 + disk)}`;
}
