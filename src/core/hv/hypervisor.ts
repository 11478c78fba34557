/**
 * The simulated machine: the hypervisor's domains, the virtual clock and its
 * event queue, the seeded PRNG and the trace. Guests run only when the clock
 * advances: an upcall is an event on the queue, delivered by run().
 */
import { SHUTDOWN_REASONS, type ShutdownReason } from '../abi/domid.js';
import { SHUTDOWN_suspend } from '../abi/ctrl_if.js';
import { EBUSY, EINVAL, EPERM, ESRCH } from '../abi/errno.js';
import { DOMU_MAX_EVTCHN_PORT, EXTRA_DOMU_IRQS, EXTRA_HWDOM_IRQS, NR_STATIC_IRQS, NR_VIRQS, VIRQ_DOM_EXC, VIRQ_GLOBAL, VIRQ_TIMER, VIRQS } from '../abi/evtchn.js';
import {
  PAGE_SHIFT,
  SHARED_INFO_ARCH_MAX_PFN,
  SIF_INITDOMAIN,
  SIF_PRIVILEGED,
  START_INFO_CMD_LINE,
  START_INFO_FLAGS,
  START_INFO_MAGIC,
  START_INFO_MAGIC_X86_64,
  START_INFO_NR_PAGES,
  START_INFO_SHARED_INFO,
  MAX_GUEST_CMDLINE,
  VCPU_INFO_TIME,
  VCPU_INFO_UPCALL_MASK,
  VCPU_TIME_SYSTEM_TIME,
  VCPU_TIME_VERSION,
  XEN_LEGACY_MAX_VCPUS,
  XEN2_LAYOUT,
  XEN2_SYSTEM_TIME,
  XEN2_TIME_VERSION1,
  XEN2_TIME_VERSION2,
  XEN2_VCPU_DATA,
  vcpuInfoOffset,
} from '../abi/layout.js';
import * as xen2 from '../abi/xen2.js';
import { EventQueue } from '../sim/queue.js';
import { writeCString } from '../util/bytes.js';
import { Prng } from '../sim/prng.js';
import { DOMAIN_EVENTS, TK, Trace } from '../sim/trace.js';
import { Domain, type DomainConfig, type GuestKernel, type Vcpu } from './domain.js';
import { make2lOps } from './event_2l.js';
import * as evtchn from './event_channel.js';
import * as evtchn2 from './event_channel_xen2.js';
import { makeFifoOps } from './event_fifo.js';
import { GrantTable, releaseMappings } from './grant_table.js';
import { GuestMemory } from './memory.js';
import type { PortOps } from './port_ops.js';
import { injectUpcall, upcallDeliverable } from './upcall.js';

/** Queue event kinds. */
const EV_UPCALL = 0;
const EV_TIMER = 1;
const EV_CALLBACK = 2;

/** Default guest memory: 64 MiB of 4 KiB pages. */
export const DEFAULT_MEMORY_PAGES = 16384;
/** Where the domain builder puts start_info; gfns from FIRST_FREE_GFN up are free for scenarios. */
export const START_INFO_GFN = 512;
export const KERNEL_FIRST_GFN = 768;
export const FIRST_FREE_GFN = 1024;

export interface MachineOptions {
  seed?: number;
  /** Time from a vCPU's kick to its upcall, ns (default 1000). */
  upcallLatencyNs?: number;
  /** Extra random latency from the seeded PRNG, 0..n-1 ns (default 500). */
  upcallJitterNs?: number;
  /**
   * Which Xen the machine is: '4' (default) is today's x86-64 PV; '2.0' is
   * Xen 2.0.0 on x86_32 (one vCPU, 1024 ports, port 0 on VIRQ_MISDIRECT, the
   * 2.0.0 op table, shared_info and start_info layouts).
   */
  xen?: '2.0' | '4';
}

export type XenVersion = '2.0' | '4';

export type KernelFactory = (hv: Hypervisor, d: Domain) => GuestKernel;

export class Hypervisor {
  now = 0;
  readonly queue = new EventQueue();
  readonly prng: Prng;
  readonly trace = new Trace();
  readonly ops2l: PortOps;
  readonly opsFifo: PortOps;
  readonly seed: number;
  readonly xen: XenVersion;
  /** Xen 2.0 only: the guests bound to each physical IRQ (irq.c's guest actions). */
  readonly pirqActions = new Map<number, evtchn2.PirqGuestAction>();
  /** The VIRQ the periodic timer raises: VIRQ_TIMER, 0 today and 1 in Xen 2.0.0. */
  readonly timerVirq: number;
  /** The timer tick's effect on the guest, chosen once for the machine's Xen. */
  private readonly tickGuest: (d: Domain, vcpu: number) => void;
  private readonly byId: (Domain | undefined)[] = [];
  private nextDomid = 0;
  private nextMfn = 0x10000;
  /** Global VIRQ handler domains; -1 = the hardware domain (dom0). */
  private readonly virqHandlers = new Int32Array(NR_VIRQS).fill(-1);
  private readonly callbacks: ((() => void) | undefined)[] = [];
  private readonly freeCallbacks: number[] = [];
  private readonly upcallLatency: number;
  private readonly upcallJitter: number;

  constructor(opts: MachineOptions = {}) {
    if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) throw new Error('XenLab lays out shared pages little-endian, as x86 does; this host is big-endian');
    this.seed = (opts.seed ?? 1) >>> 0;
    this.prng = new Prng(this.seed);
    this.upcallLatency = opts.upcallLatencyNs ?? 1000;
    this.upcallJitter = opts.upcallJitterNs ?? 500;
    this.trace.now = () => this.now;
    this.ops2l = make2lOps(this);
    this.opsFifo = makeFifoOps(this);
    const xen = opts.xen ?? '4';
    if (xen !== '4' && xen !== '2.0') throw new RangeError(`xen must be '4' or '2.0', not ${String(xen)}`);
    this.xen = xen;
    if (xen === '2.0') {
      this.timerVirq = xen2.VIRQ_TIMER;
      this.tickGuest = (d) => {
        this.updateTimeXen2(d);
        evtchn2.sendGuestVirqXen2(this, d, xen2.VIRQ_TIMER);
      };
    } else {
      this.timerVirq = VIRQ_TIMER;
      this.tickGuest = (d, vcpu) => {
        this.updateTime(d, vcpu);
        evtchn.sendGuestVcpuVirq(this, d, vcpu, VIRQ_TIMER);
      };
    }
  }

  // ---- domains ----

  domain(domid: number): Domain | undefined {
    return this.byId[domid];
  }

  domainByName(name: string): Domain | undefined {
    return this.byId.find((d) => d !== undefined && d.name === name);
  }

  get domains(): Domain[] {
    return this.byId.filter((d): d is Domain => d !== undefined);
  }

  /** Builds a domain as Xen and its domain builder do: the first one is dom0. */
  createDomain(cfg: DomainConfig, kernel?: KernelFactory): Domain {
    if (this.xen === '2.0') return this.createDomainXen2(cfg, kernel);
    if (cfg.startInfoFlags !== undefined) throw new RangeError('startInfoFlags is a Xen 2.0 setting');
    const domid = this.nextDomid++;
    const isDom0 = domid === 0;
    const nrVcpus = cfg.vcpus ?? 1;
    if (!Number.isInteger(nrVcpus) || nrVcpus < 1 || nrVcpus > XEN_LEGACY_MAX_VCPUS) throw new RangeError(`vcpus must be 1..${XEN_LEGACY_MAX_VCPUS}`);
    const pages = cfg.memoryPages ?? DEFAULT_MEMORY_PAGES;
    if (!Number.isInteger(pages) || pages < FIRST_FREE_GFN) throw new RangeError(`memory must be at least ${FIRST_FREE_GFN} pages (4 MiB)`);
    const memory = new GuestMemory(pages, this.nextMfn);
    this.nextMfn += pages + 1 + 64; // its frames, its shared_info, room for grant frames
    const nrPirqs = NR_STATIC_IRQS + (isDom0 ? EXTRA_HWDOM_IRQS : EXTRA_DOMU_IRQS);
    const pirqs = isDom0 ? new Set(Array.from({ length: nrPirqs }, (_, i) => i)) : new Set(cfg.pirqs ?? []);
    const maxPort = cfg.maxEvtchnPort ?? (isDom0 ? 0x7fffffff : DOMU_MAX_EVTCHN_PORT);
    const d = new Domain(domid, cfg.name, isDom0, nrVcpus, memory, START_INFO_GFN, maxPort, nrPirqs, pirqs, new GrantTable());
    d.ops = this.ops2l;
    this.byId[domid] = d;
    this.buildPages(d, cfg.cmdline ?? '');
    this.traceDomain(d, 'create', { name: d.name });
    if (kernel !== undefined) this.boot(d, kernel);
    return d;
  }

  /** Starts a domain's kernel: after createDomain, once the toolstack has set up what it reads at boot. */
  boot(d: Domain, kernel: KernelFactory): void {
    if (d.kernel !== null) throw new Error(`${d.name} has booted already`);
    d.kernel = kernel(this, d);
    this.traceDomain(d, 'boot');
    d.kernel.boot();
  }

  /**
   * A Xen 2.0.0 domain: one vCPU, the 2.0.0 shared_info layout, a port table
   * of 16 that doubles up to 1024 with port 0 on VIRQ_MISDIRECT, and a 2.0.0
   * start_info. dom0 is privileged and may bind PIRQs 0..127.
   */
  private createDomainXen2(cfg: DomainConfig, kernel?: KernelFactory): Domain {
    const nrVcpus = cfg.vcpus ?? 1;
    if (nrVcpus !== xen2.MAX_VIRT_CPUS) throw new RangeError(`Xen 2.0.0 has one vCPU per domain (MAX_VIRT_CPUS = ${xen2.MAX_VIRT_CPUS}); vcpus: ${String(nrVcpus)}`);
    if (cfg.maxEvtchnPort !== undefined && cfg.maxEvtchnPort !== xen2.NR_EVENT_CHANNELS - 1) {
      throw new RangeError(`Xen 2.0.0 has no per-domain port limit: every domain has ports 0..${xen2.NR_EVENT_CHANNELS - 1}`);
    }
    const flags = cfg.startInfoFlags ?? 0;
    if (!Number.isInteger(flags) || (flags & ~xen2.SIF_BUILDER_FLAGS) !== 0) throw new RangeError('startInfoFlags may hold only SIF_BLK_BE_DOMAIN (16) and SIF_NET_BE_DOMAIN (32)');
    const pages = cfg.memoryPages ?? DEFAULT_MEMORY_PAGES;
    if (!Number.isInteger(pages) || pages < FIRST_FREE_GFN) throw new RangeError(`memory must be at least ${FIRST_FREE_GFN} pages (4 MiB)`);
    const domid = this.nextDomid++;
    const isDom0 = domid === 0;
    const memory = new GuestMemory(pages, this.nextMfn);
    this.nextMfn += pages + 1 + 64;
    const pirqs = isDom0 ? new Set(Array.from({ length: xen2.NR_PIRQS }, (_, i) => i)) : new Set(cfg.pirqs ?? []);
    const d = new Domain(domid, cfg.name, isDom0, 1, memory, START_INFO_GFN, xen2.NR_EVENT_CHANNELS - 1, xen2.NR_PIRQS, pirqs, new GrantTable(), XEN2_LAYOUT);
    d.ops = this.ops2l;
    this.byId[domid] = d;
    evtchn2.initEventChannelsXen2(this, d);
    this.buildPagesXen2(d, cfg.cmdline ?? '', (isDom0 ? xen2.SIF_PRIVILEGED | xen2.SIF_INITDOMAIN : 0) | flags);
    this.traceDomain(d, 'create', { name: d.name });
    if (kernel !== undefined) this.boot(d, kernel);
    return d;
  }

  /** Xen 2.0.0: shared_info zeroed with upcalls masked; start_info_t in its 320-byte x86_32 layout. */
  private buildPagesXen2(d: Domain, cmdline: string, flags: number): void {
    d.sharedInfo[XEN2_VCPU_DATA + 1] = 1; // vcpu_data[0].evtchn_upcall_mask
    const st = d.startInfo;
    const view = new DataView(st.buffer, st.byteOffset, st.byteLength);
    view.setUint32(xen2.XEN2_START_INFO_NR_PAGES, d.memory.nrPages, true);
    view.setUint32(xen2.XEN2_START_INFO_SHARED_INFO, (this.sharedInfoMfn(d) << PAGE_SHIFT) >>> 0, true);
    view.setUint32(xen2.XEN2_START_INFO_FLAGS, flags, true);
    writeCString(st, xen2.XEN2_START_INFO_CMD_LINE, cmdline, xen2.MAX_CMDLINE);
  }

  /**
   * Xen 2.0: the domain builder writes the guest's port of the control channel
   * into start_info.domain_controller_evtchn (u16 @20). dom0 makes its own
   * channel and leaves the field alone.
   */
  setDomainControllerEvtchn(d: Domain, port: number): void {
    if (d.xen !== '2.0') throw new RangeError('domain_controller_evtchn exists only in Xen 2.0 start_info');
    if (!Number.isInteger(port) || port < 0 || port >= xen2.NR_EVENT_CHANNELS) throw new RangeError(`port must be 0..${xen2.NR_EVENT_CHANNELS - 1}`);
    const st = d.startInfo;
    new DataView(st.buffer, st.byteOffset, st.byteLength).setUint16(xen2.XEN2_START_INFO_DOMAIN_CONTROLLER_EVTCHN, port, true);
  }

  /** Xen 2.0: start_info.domain_controller_evtchn as the guest reads it. */
  domainControllerEvtchn(d: Domain): number {
    if (d.xen !== '2.0') throw new RangeError('domain_controller_evtchn exists only in Xen 2.0 start_info');
    const st = d.startInfo;
    return new DataView(st.buffer, st.byteOffset, st.byteLength).getUint16(xen2.XEN2_START_INFO_DOMAIN_CONTROLLER_EVTCHN, true);
  }

  /** shared_info zeroed with upcalls masked on every slot; start_info filled in. */
  private buildPages(d: Domain, cmdline: string): void {
    const si = d.sharedInfo;
    for (let v = 0; v < XEN_LEGACY_MAX_VCPUS; v++) si[v * 64 + VCPU_INFO_UPCALL_MASK] = 1;
    const sv = new DataView(si.buffer);
    sv.setBigUint64(SHARED_INFO_ARCH_MAX_PFN, BigInt(d.memory.nrPages), true);
    const st = d.startInfo;
    const view = new DataView(st.buffer, st.byteOffset, st.byteLength);
    writeCString(st, START_INFO_MAGIC, START_INFO_MAGIC_X86_64, 32);
    view.setBigUint64(START_INFO_NR_PAGES, BigInt(d.memory.nrPages), true);
    view.setBigUint64(START_INFO_SHARED_INFO, BigInt(this.sharedInfoMfn(d)) << BigInt(PAGE_SHIFT), true);
    view.setUint32(START_INFO_FLAGS, d.privileged ? SIF_PRIVILEGED | SIF_INITDOMAIN : 0, true);
    writeCString(st, START_INFO_CMD_LINE, cmdline, MAX_GUEST_CMDLINE);
  }

  /** Machine frame of a domain's shared_info page (just past its own memory). */
  sharedInfoMfn(d: Domain): number {
    return d.memory.mfnBase + d.memory.nrPages;
  }

  private traceDomain(d: Domain, event: (typeof DOMAIN_EVENTS)[number], extra?: { reason?: string; name?: string }): void {
    if (this.trace.on) this.trace.emit(TK.domain, d.domid, -1, -1, DOMAIN_EVENTS.indexOf(event), 0, 0, extra);
  }

  /** The toolstack pauses a domain: no upcalls until unpaused. */
  pause(d: Domain): number {
    // XEN_DOMCTL_pausedomain: the toolstack (dom0) cannot pause itself.
    if (d.dying || d.domid === 0) return -EINVAL;
    d.pauseCount++;
    this.traceDomain(d, 'pause');
    return 0;
  }

  unpause(d: Domain): number {
    if (d.dying || d.domid === 0 || d.pauseCount === 0) return -EINVAL;
    d.pauseCount--;
    this.traceDomain(d, 'unpause');
    if (d.runnable) this.resumeVcpus(d);
    return 0;
  }

  /** A vCPU that runs again gets one catch-up tick if it missed any, then any pending upcall. */
  private resumeVcpus(d: Domain): void {
    for (const v of d.vcpus) {
      if (v.tickMissed) {
        v.tickMissed = false;
        if (d.xen === '2.0') evtchn2.sendGuestVirqXen2(this, d, xen2.VIRQ_TIMER);
        else evtchn.sendGuestVcpuVirq(this, d, v.id, VIRQ_TIMER);
      }
      if (upcallDeliverable(v)) this.kick(v);
    }
  }

  /**
   * The domain shuts down: its vCPUs stop and dom0 hears of it through
   * VIRQ_DOM_EXC (or the suspend port). `reason` is a name, or the code the
   * guest passed to SCHEDOP_shutdown (Xen 2.0 stores any 8-bit code; only
   * 0..2 have names there).
   */
  shutdown(d: Domain, reason: ShutdownReason | number): number {
    if (d.dying) return -EINVAL;
    if (d.state === 'shutdown') return 0; // domain_shutdown: already shutting down

    const code = typeof reason === 'number' ? reason & 0xff : SHUTDOWN_REASONS.indexOf(reason);
    const name = typeof reason === 'number' ? (d.xen === '2.0' && code > SHUTDOWN_suspend ? undefined : SHUTDOWN_REASONS[code]) : reason;
    d.state = 'shutdown';
    d.shutdownReason = name ?? null;
    d.shutdownCode = code;
    this.traceDomain(d, 'shutdown', { reason: name ?? `code ${code}` });
    if (d.xen === '2.0') {
      // domain_shutdown: dom0 hears of it through VIRQ_DOM_EXC (for dom0 itself Xen halts or reboots the machine).
      const dom0 = this.byId[0];
      if (d.domid !== 0 && dom0 !== undefined && !dom0.dying) evtchn2.sendGuestVirqXen2(this, dom0, xen2.VIRQ_DOM_EXC);
      return 0;
    }
    if (name === 'suspend' && d.suspendEvtchn !== 0) evtchn.send(this, d, d.suspendEvtchn);
    else evtchn.sendGlobalVirq(this, VIRQ_DOM_EXC);
    return 0;
  }

  /** domain_kill then the final destroy: ports closed (peers go UNBOUND), grants released. */
  destroy(d: Domain): number {
    if (d.domid === 0) return -EINVAL; // domain_kill refuses the caller itself
    if (d.dying) return -EINVAL;
    if (d.xen === '2.0') return this.destroyXen2(d);
    d.state = 'dying';
    this.traceDomain(d, 'dying');
    evtchn.evtchnDestroy(this, d);
    releaseMappings(this, d);
    for (let virq = 0; virq < NR_VIRQS; virq++) if (this.virqHandlers[virq] === d.domid) this.virqHandlers[virq] = -1;
    evtchn.sendGlobalVirq(this, VIRQ_DOM_EXC);
    d.state = 'dead';
    this.byId[d.domid] = undefined;
    this.traceDomain(d, 'destroy');
    evtchn.sendGlobalVirq(this, VIRQ_DOM_EXC);
    return 0;
  }

  /**
   * Xen 2.0.0's domain_kill and domain_destruct: every port closed (peers go
   * UNBOUND), grants released. 2.0.0 raises no VIRQ_DOM_EXC here: only a
   * shutdown or a crash does.
   */
  private destroyXen2(d: Domain): number {
    d.state = 'dying';
    this.traceDomain(d, 'dying');
    evtchn2.destroyEventChannelsXen2(this, d);
    releaseMappings(this, d);
    d.state = 'dead';
    this.byId[d.domid] = undefined;
    this.traceDomain(d, 'destroy');
    return 0;
  }

  virqHandler(virq: number): number {
    const h = this.virqHandlers[virq]!;
    return h < 0 ? 0 : h;
  }

  /**
   * XEN_DOMCTL_set_virq_handler, in do_domctl's order: the target domain
   * first (-ESRCH, or -EPERM for an unprivileged caller), then the
   * permission, then the VIRQ (global only), then a handler still bound (-EBUSY).
   */
  setVirqHandler(caller: Domain, domid: number, virq: number): number {
    const target = this.domain(domid); // by id only: DOMID_SELF names no domain here
    if (target === undefined) return caller.privileged ? -ESRCH : -EPERM;
    if (!caller.privileged) return -EPERM;
    if (!Number.isInteger(virq) || virq < 0 || virq >= NR_VIRQS || VIRQS[virq]!.type !== VIRQ_GLOBAL) return -EINVAL;
    const old = this.domain(this.virqHandler(virq));
    if (old !== undefined && old !== target && old.vcpus[0]!.virqToPort[virq] !== 0) return -EBUSY;
    this.virqHandlers[virq] = target.domid;
    return 0;
  }

  // ---- time ----

  /** Queue an upcall on `v` unless one is queued or running (vcpu_kick). */
  kick(v: Vcpu): void {
    if (v.upcallScheduled || !v.domain.runnable) return;
    v.upcallScheduled = true;
    const jitter = this.upcallJitter > 0 ? this.prng.below(this.upcallJitter) : 0;
    this.queue.push(this.now + this.upcallLatency + jitter, EV_UPCALL, v.domain.domid, v.id);
  }

  /** VIRQ_TIMER was bound on a vCPU: start its periodic timer, ticking at multiples of its period. */
  timerBound(d: Domain, vcpu: number): void {
    const v = d.vcpus[vcpu]!;
    if (v.timerArmed || v.periodNs <= 0) return;
    v.timerArmed = true;
    const next = (Math.floor(this.now / v.periodNs) + 1) * v.periodNs;
    this.queue.push(next, EV_TIMER, d.domid, vcpu | (v.timerGeneration << 6));
  }

  /** VCPUOP_set_periodic_timer / stop_periodic_timer: period 0 stops it. */
  setPeriodicTimer(d: Domain, vcpu: number, periodNs: number): void {
    const v = d.vcpus[vcpu]!;
    v.timerGeneration++;
    v.timerArmed = false;
    v.periodNs = periodNs;
    if (periodNs > 0 && v.virqToPort[this.timerVirq] !== 0) this.timerBound(d, vcpu);
  }

  /** Runs `fn` at now + delay (virtual ns); returns an id for cancel(). */
  schedule(delayNs: number, fn: () => void): number {
    const id = this.freeCallbacks.pop() ?? this.callbacks.length;
    this.callbacks[id] = fn;
    this.queue.push(this.now + Math.max(0, delayNs), EV_CALLBACK, id, 0);
    return id;
  }

  cancel(id: number): void {
    if (this.callbacks[id] !== undefined) this.callbacks[id] = undefined;
  }

  /** Advances virtual time by `ns`, delivering every event due. */
  run(ns: number): void {
    this.runUntil(this.now + ns);
  }

  runUntil(t: number): void {
    const q = this.queue;
    const trace = this.trace;
    while (q.size > 0 && q.peekTime() <= t) {
      this.dispatchNext();
      // A long run hands over each chunk as it fills, so subscribers (files, exports) keep memory flat.
      if (trace.waiting.length !== 0) trace.flush();
    }
    if (t > this.now) this.now = t;
    trace.flush();
  }

  /**
   * Delivers the next queued event if it is due at or before `t`, advancing
   * the clock to it; false otherwise. Like runUntil (one event of it), it hands
   * over only full trace chunks: the caller flushes the rest when it pauses.
   */
  stepUntil(t: number): boolean {
    const q = this.queue;
    if (q.size === 0 || q.peekTime() > t) return false;
    this.dispatchNext();
    if (this.trace.waiting.length !== 0) this.trace.flush();
    return true;
  }

  /** Delivers the next queued event, advancing the clock to it; false when nothing is queued. */
  step(): boolean {
    if (this.queue.size === 0) return false;
    this.dispatchNext();
    this.trace.flush();
    return true;
  }

  private dispatchNext(): void {
    const q = this.queue;
    q.pop();
    this.now = q.poppedTime;
    const a = q.poppedA;
    const b = q.poppedB;
    switch (q.poppedKind) {
      case EV_UPCALL:
        this.deliverUpcall(a, b);
        break;
      case EV_TIMER:
        this.timerTick(a, b & 63, b >>> 6);
        break;
      case EV_CALLBACK: {
        const fn = this.callbacks[a];
        if (fn !== undefined) {
          this.callbacks[a] = undefined;
          this.freeCallbacks.push(a);
          fn();
        } else this.freeCallbacks.push(a);
        break;
      }
    }
  }

  private deliverUpcall(domid: number, vcpu: number): void {
    const d = this.byId[domid];
    if (d === undefined) return;
    const v = d.vcpus[vcpu]!;
    v.upcallScheduled = false;
    if (!d.runnable || !upcallDeliverable(v)) return;
    v.upcallScheduled = true; // kicks during the handler are absorbed: it rescans
    injectUpcall(this, d, v);
    v.upcallScheduled = false;
    if (upcallDeliverable(v)) this.kick(v);
  }

  private timerTick(domid: number, vcpu: number, generation: number): void {
    const d = this.byId[domid];
    if (d === undefined) return;
    const v = d.vcpus[vcpu]!;
    if (generation !== (v.timerGeneration & 0x1ffffff) || !v.timerArmed) return;
    this.queue.push(this.now + v.periodNs, EV_TIMER, domid, vcpu | (v.timerGeneration << 6));
    if (!d.runnable) {
      v.tickMissed = d.state === 'running'; // a paused vCPU catches up once when it runs again
      return;
    }
    this.tickGuest(d, vcpu);
  }

  /** Xen 2.0.0's update_dom_time: time_version1 bumped first, the values, then time_version2. */
  private updateTimeXen2(d: Domain): void {
    const view = d.sharedInfoView;
    view.setUint32(XEN2_TIME_VERSION1, (view.getUint32(XEN2_TIME_VERSION1, true) + 1) >>> 0, true);
    setU64(view, XEN2_SYSTEM_TIME, this.now);
    view.setUint32(XEN2_TIME_VERSION2, (view.getUint32(XEN2_TIME_VERSION2, true) + 1) >>> 0, true);
  }

  /** vcpu_time_info: version odd while writing, then system_time, then even again. */
  private updateTime(d: Domain, vcpu: number): void {
    const base = vcpuInfoOffset(vcpu) + VCPU_INFO_TIME;
    const view = d.sharedInfoView;
    const version = view.getUint32(base + VCPU_TIME_VERSION, true);
    setU64(view, base + VCPU_TIME_SYSTEM_TIME, this.now);
    view.setUint32(base + VCPU_TIME_VERSION, (version + 2) >>> 0, true);
  }
}

/** A whole number of ns (below 2^53) as a little-endian u64, without a BigInt per tick. */
function setU64(view: DataView, offset: number, ns: number): void {
  const v = Math.floor(ns);
  view.setUint32(offset, v >>> 0, true);
  view.setUint32(offset + 4, Math.floor(v / 0x1_0000_0000) >>> 0, true);
}
