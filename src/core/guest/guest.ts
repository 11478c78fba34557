/**
 * The guest library: what a PV kernel does with its own shared pages and
 * hypercalls. Kernels build on it; the step form's guest-local actions
 * (mask, clear_mask, upcall_mask) use it too.
 */
import { DOMID_SELF } from '../abi/domid.js';
import { FIFO_M, VIRQ_TIMER } from '../abi/evtchn.js';
import type { Domain, GuestKernel } from '../hv/domain.js';
import { eventPage } from '../hv/event_fifo.js';
import { endAccess, grantAccess } from '../hv/grant_table.js';
import { hypercall, sendFast, type HypercallResult, type OpSpec } from '../hv/hypercall.js';
import { opsFor, sendFastXen2 } from '../hv/hypercall_xen2.js';
import { KERNEL_FIRST_GFN, FIRST_FREE_GFN, type Hypervisor } from '../hv/hypervisor.js';
import { upcallDeliverable } from '../hv/upcall.js';
import { BIT, BY_GUEST, FAULT, FAULT_EVENT, TK } from '../sim/trace.js';

/** Grant refs 0..7 are kept for the toolstack (console 0, xenstore 1); gnttab.c's NR_RESERVED_ENTRIES. */
export const NR_RESERVED_ENTRIES = 8;

/** Linux's per-CPU scan position for 2-level fairness (current_word_idx / current_bit_idx). */
export interface ScanPosition {
  word: number;
  bit: number;
}

export abstract class Guest implements GuestKernel {
  readonly d: Domain;
  /** Deliveries per port, counted as the handler runs. */
  delivered = new Uint32Array(64);
  /** Per vCPU: bitmap of ports this kernel routes to it (Linux's cpu_evtchn_mask). */
  readonly cpuMask: Uint32Array[] = [];
  /** Per vCPU: the VIRQ_TIMER port, handled first on each upcall; 0 = none. */
  readonly timerPort: Int32Array;
  readonly scan: ScanPosition[] = [];
  /** FIFO: per vCPU, the local copy of each queue's head. */
  readonly fifoHeads: Int32Array[] = [];
  private nextKernelGfn = KERNEL_FIRST_GFN;
  /** Drivers' handlers by port (bind_evtchn_to_irqhandler); run after the port is counted. */
  readonly portHandlers = new Map<number, (port: number, vcpu: number) => void>();
  /** gnttab's free list: refs given back; fresh ones start after the reserved entries. */
  private readonly freeGrantRefs: number[] = [];
  private nextGrantRef = NR_RESERVED_ENTRIES;
  /** The op table of this domain's Xen (today's, or 2.0.0's). */
  private readonly ops: ReadonlyMap<string, OpSpec>;
  private readonly sendOp: (hv: Hypervisor, caller: Domain, port: number, vcpu?: number) => number;

  constructor(readonly hv: Hypervisor, d: Domain) {
    this.d = d;
    this.ops = opsFor(d.xen);
    this.sendOp = d.xen === '2.0' ? sendFastXen2 : sendFast;
    const n = d.vcpus.length;
    this.timerPort = new Int32Array(n);
    for (let v = 0; v < n; v++) {
      // Every port starts routed to vCPU 0, as Linux binds new event channels to CPU 0.
      this.cpuMask.push(new Uint32Array(128).fill(v === 0 ? 0xffffffff : 0));
      this.scan.push({ word: 0, bit: 0 });
      this.fifoHeads.push(new Int32Array(16));
    }
  }

  abstract boot(): void;
  abstract upcall(vcpu: number): void;

  /** Called for each event the dispatch loop takes, after its pending bit was cleared. */
  onEvent(port: number, vcpu: number): void {
    if (port >= this.delivered.length) {
      const bigger = new Uint32Array(Math.max(port + 1, this.delivered.length * 2));
      bigger.set(this.delivered);
      this.delivered = bigger;
    }
    this.delivered[port]!++;
    if (this.hv.trace.on) this.hv.trace.emit(TK.handler, this.d.domid, vcpu, port, 0, 0, 0);
    if (this.held !== null && this.held.has(port)) this.missed(port, vcpu);
    else if (this.portHandlers.size !== 0) this.portHandlers.get(port)?.(port, vcpu);
  }

  /** Whether `port`'s driver is stalled now (a kernel that routes events itself skips them then). */
  protected stalled(port: number): boolean {
    return this.held !== null && this.held.has(port);
  }

  /** A stalled driver runs again: what the kernel does with an event on `port`, once it was counted. */
  protected resumePort(port: number, vcpu: number): void {
    if (this.portHandlers.size !== 0) this.portHandlers.get(port)?.(port, vcpu);
  }

  // ---- stalled drivers (a fault a scenario injects) ----

  /** Ports whose driver is stalled: when it runs again, and the events it missed; null when none (one check per event). */
  private held: Map<number, { until: number; missed: number; vcpu: number; label: string }> | null = null;

  /**
   * The drivers of `ports` stop running for `ns` of virtual time, as a
   * backend process that is not scheduled: their events are taken (pending
   * cleared, counted) but nothing handles them. When the time is up, each
   * driver that missed events runs once and finds all the work waiting, as a
   * real backend does when it next runs (its rings hold the requests).
   * `label` names the driver in the trace (console, xenstore, block, ...).
   */
  stallPorts(ports: readonly number[], ns: number, label: string): void {
    const until = this.hv.now + ns;
    this.held ??= new Map();
    for (const port of ports) {
      const h = this.held.get(port);
      if (h !== undefined) h.until = Math.max(h.until, until);
      else this.held.set(port, { until, missed: 0, vcpu: 0, label });
      if (this.hv.trace.on) this.hv.trace.emit(TK.fault, this.d.domid, -1, port, FAULT.stall, FAULT_EVENT.stalled, 0, { backend: label, until });
    }
    this.hv.schedule(ns, () => this.resumeStalled());
  }

  private missed(port: number, vcpu: number): void {
    const h = this.held!.get(port)!;
    h.missed++;
    h.vcpu = vcpu;
    if (this.hv.trace.on) this.hv.trace.emit(TK.fault, this.d.domid, vcpu, port, FAULT.stall, FAULT_EVENT.ignored, h.missed, { backend: h.label });
  }

  /** The stalled drivers whose time is up run again, once each if they missed events. */
  private resumeStalled(): void {
    const held = this.held;
    if (held === null) return;
    const due: [number, { missed: number; vcpu: number; label: string }][] = [];
    for (const [port, h] of held) if (h.until <= this.hv.now) due.push([port, h]);
    for (const [port] of due) held.delete(port);
    if (held.size === 0) this.held = null;
    for (const [port, h] of due) {
      if (this.hv.trace.on) this.hv.trace.emit(TK.fault, this.d.domid, h.vcpu, port, FAULT.stall, FAULT_EVENT.resumed, h.missed, { backend: h.label });
      if (h.missed > 0) this.resumePort(port, h.vcpu);
    }
  }

  deliveries(port: number): number {
    return this.delivered[port] ?? 0;
  }

  // ---- hypercalls as this domain ----

  call(op: string, args: Record<string, number>, vcpu = 0): HypercallResult {
    const spec = this.ops.get(op);
    if (spec === undefined) throw new Error(`no hypercall named ${op}`);
    return hypercall(this.hv, this.d, spec, args as never, vcpu);
  }

  /** EVTCHNOP_send (Xen 2.0: its local_port). */
  send(port: number, vcpu = 0): number {
    return this.sendOp(this.hv, this.d, port, vcpu);
  }

  /** Routes `port` to `vcpu` in the guest's own map (after bind_vcpu/bind_virq/bind_ipi). */
  routePort(port: number, vcpu: number): void {
    const w = port >>> 5;
    const bit = 1 << (port & 31);
    for (let v = 0; v < this.cpuMask.length; v++) {
      const m = this.cpuMask[v]!;
      m[w] = v === vcpu ? m[w]! | bit : m[w]! & ~bit;
    }
  }

  afterHypercall(op: string, args: Readonly<Record<string, unknown>>, ret: number, out: Readonly<Record<string, unknown>> | undefined): void {
    // Xen 2.0 guests have one vCPU and a dispatch loop without routing or a timer-first rule.
    if (ret < 0 || this.d.xen === '2.0') return;
    const port = (out?.port ?? out?.local_port ?? args.port) as number | undefined;
    switch (op) {
      case 'bind_virq':
        this.routePort(port!, args.vcpu as number);
        if (args.virq === VIRQ_TIMER) this.timerPort[args.vcpu as number] = port!;
        break;
      case 'bind_ipi':
      case 'bind_vcpu':
        this.routePort(port!, args.vcpu as number);
        break;
      case 'close':
        for (let v = 0; v < this.timerPort.length; v++) if (this.timerPort[v] === port) this.timerPort[v] = 0;
        this.routePort(port!, 0);
        break;
      // Linux binds every new interdomain/PIRQ event channel to vCPU 0
      // (bind_evtchn_to_cpu(info, 0) in events_base.c), whatever it was routed to before.
      case 'bind_interdomain':
      case 'bind_pirq':
        this.routePort(port!, 0);
        break;
      case 'alloc_unbound':
        if (args.dom === DOMID_SELF || args.dom === this.d.domid) this.routePort(port!, 0);
        break;
      // After its own EVTCHNOP_reset every port is closed: forget per-CPU routing and timer ports.
      case 'reset':
        if (args.dom === DOMID_SELF || args.dom === this.d.domid) {
          for (let v = 0; v < this.cpuMask.length; v++) this.cpuMask[v]!.fill(v === 0 ? 0xffffffff : 0);
          this.timerPort.fill(0);
        }
        break;
      default:
        break;
    }
  }

  // ---- the guest's own bits ----

  /** A frame for the kernel's own use (FIFO control blocks, event array pages). */
  allocKernelPage(): number {
    if (this.nextKernelGfn >= FIRST_FREE_GFN) throw new Error('kernel page pool exhausted');
    return this.nextKernelGfn++;
  }

  /** gnttab_grant_access: a free grant ref made to grant `domid` frame `gfn`; -1 when the table is full. */
  grantAccess(domid: number, gfn: number, readonly: boolean): number {
    const ref = this.freeGrantRefs.pop() ?? (this.nextGrantRef < this.d.grants.nrEntries ? this.nextGrantRef++ : -1);
    if (ref < 0) return -1;
    grantAccess(this.hv, this.d, ref, domid, gfn, readonly);
    return ref;
  }

  /** gnttab_end_access: revoke and free the ref; false (and kept) while the grantee still maps it. */
  endAccess(ref: number): boolean {
    if (!endAccess(this.hv, this.d, ref)) return false;
    this.freeGrantRefs.push(ref);
    return true;
  }

  /** Set a port's mask bit in shared memory (2-level bitmap, or FIFO word's M). No hypercall. */
  maskPort(port: number): boolean {
    return this.writeMask(port, true);
  }

  /** Clear a port's mask bit directly. Unlike EVTCHNOP_unmask, this re-raises nothing. */
  clearMask(port: number): boolean {
    return this.writeMask(port, false);
  }

  private writeMask(port: number, value: boolean): boolean {
    const d = this.d;
    if (d.ops.name === 'fifo') {
      const page = eventPage(d, port);
      if (page === undefined) return false;
      const i = port & 1023;
      const w = page[i]!;
      const next = (value ? w | FIFO_M : w & ~FIFO_M) >>> 0;
      if (next === w) return true;
      page[i] = next;
      if (this.hv.trace.on) this.hv.trace.emit(TK.bit, d.domid, -1, port, BIT.fifo_masked, value ? 1 : 0, BY_GUEST);
      return true;
    }
    if (port < 0 || port >= d.layout.nrPorts) return false;
    const at = d.maskU32 + (port >>> 5);
    const bit = 1 << (port & 31);
    const w = d.shared32[at]!;
    const next = value ? w | bit : w & ~bit;
    if (next === w) return true;
    d.shared32[at] = next;
    if (this.hv.trace.on) this.hv.trace.emit(TK.bit, d.domid, -1, port, BIT.evtchn_mask, value ? 1 : 0, BY_GUEST);
    return true;
  }

  /** The guest's evtchn_upcall_mask: true blocks upcalls; clearing it with an upcall pending forces the callback. */
  setUpcallMask(vcpu: number, value: boolean): void {
    const d = this.d;
    const v = d.vcpus[vcpu]!;
    const at = v.upcallAt + 1;
    const next = value ? 1 : 0;
    if (d.sharedInfo[at] === next) return;
    d.sharedInfo[at] = next;
    if (this.hv.trace.on) this.hv.trace.emit(TK.bit, d.domid, vcpu, -1, BIT.evtchn_upcall_mask, next, BY_GUEST);
    // As Linux's xen_irq_enable: an upcall that arrived while masked is forced now.
    if (!value && upcallDeliverable(v)) this.hv.kick(v);
  }

  /** Clear evtchn_upcall_pending (the first thing the upcall handler does). */
  clearUpcallPending(vcpu: number): void {
    const d = this.d;
    const at = d.vcpus[vcpu]!.upcallAt;
    if (d.sharedInfo[at] === 0) return;
    d.sharedInfo[at] = 0;
    if (this.hv.trace.on) this.hv.trace.emit(TK.bit, d.domid, vcpu, -1, BIT.evtchn_upcall_pending, 0, BY_GUEST);
  }

  /** Clear a port's 2-level pending bit (the irq "ack"). */
  clearPending2l(port: number): void {
    const d = this.d;
    const at = d.pendingU32 + (port >>> 5);
    d.shared32[at] = d.shared32[at]! & ~(1 << (port & 31));
    if (this.hv.trace.on) this.hv.trace.emit(TK.bit, d.domid, -1, port, BIT.evtchn_pending, 0, BY_GUEST);
  }
}
