/**
 * A domain and its vCPUs as the hypervisor holds them: identity, lifecycle,
 * the shared_info and start_info pages, event-channel state and grant table.
 */
import { NR_VIRQS, EVTCHN_FIFO_MAX_QUEUES } from '../abi/evtchn.js';
import type { ShutdownReason } from '../abi/domid.js';
import { PAGE_SIZE, X86_64_LAYOUT, XEN2_LAYOUT, type SharedInfoLayout } from '../abi/layout.js';
import { INIT_EVENT_CHANNELS } from '../abi/xen2.js';
import type { GuestMemory } from './memory.js';
import { PortTable } from './ports.js';
import type { PortOps } from './port_ops.js';
import type { PortFaults } from './port_faults.js';
import type { GrantTable } from './grant_table.js';


export type DomainState = 'running' | 'shutdown' | 'dying' | 'dead';

/** The guest side of a domain, as the hypervisor sees it: something to upcall. */
export interface GuestKernel {
  /** Runs once when the domain is built, before anything else happens to it. */
  boot(): void;
  /** The event callback: Xen injected an upcall on this vCPU. */
  upcall(vcpu: number): void;
  /** The guest's own bookkeeping after a hypercall it made returned (what it bound, where). */
  afterHypercall?(op: string, args: Readonly<Record<string, unknown>>, ret: number, out: Readonly<Record<string, unknown>> | undefined): void;
}

/** FIFO per-vCPU state (struct evtchn_fifo_vcpu): control block and 16 queue tails. */
export interface FifoVcpu {
  /** The guest page holding the control block, and the block's offset in it. */
  controlPage: Uint32Array | null;
  /** u32 index of the control block within controlPage. */
  controlIndex: number;
  readonly tails: Int32Array;
}

export class Vcpu {
  /** Byte offset of this vCPU's upcall flags (evtchn_upcall_pending; the mask is the next byte). */
  readonly upcallAt: number;
  /** u32 index of the selector this vCPU's events are flagged in (two u32 words when it is 64 bits). */
  readonly selU32: number;
  /** v->virq_to_evtchn: 0 means not bound. */
  readonly virqToPort = new Int32Array(NR_VIRQS);
  /** An upcall event is queued, or the guest is inside its upcall: further kicks are absorbed. */
  upcallScheduled = false;
  /** Periodic timer (VIRQ_TIMER), 100 Hz for PV guests by default; 0 = stopped. */
  periodNs = 10_000_000;
  timerArmed = false;
  /** A tick came while the domain was paused: one catch-up tick when it runs again. */
  tickMissed = false;
  timerGeneration = 0;
  fifo: FifoVcpu | null = null;

  constructor(
    readonly domain: Domain,
    readonly id: number,
  ) {
    const layout = domain.layout;
    this.upcallAt = layout.upcallOffset(id);
    this.selU32 = layout.selectorOffset(id) >> 2;
  }

  get upcallPending(): number {
    return this.domain.sharedInfo[this.upcallAt]!;
  }

  get upcallMask(): number {
    return this.domain.sharedInfo[this.upcallAt + 1]!;
  }
}

export interface DomainConfig {
  name: string;
  vcpus?: number;
  /** PIRQs this domain may bind (I/O permission); the hardware domain may bind all. */
  pirqs?: readonly number[];
  /** Guest memory in 4 KiB pages (default 64 MiB). */
  memoryPages?: number;
  /** Highest port the domain may use; default 1023 for a domU, the ABI limit for dom0. */
  maxEvtchnPort?: number;
  /** Kernel command line written to start_info. */
  cmdline?: string;
  /**
   * Xen 2.0 only: back-end roles the domain builder writes into start_info.flags
   * for a domU (SIF_BLK_BE_DOMAIN 16 | SIF_NET_BE_DOMAIN 32).
   */
  startInfoFlags?: number;
}

export class Domain {
  readonly sharedInfo = new Uint8Array(PAGE_SIZE);
  /** The same page as little-endian words (the timer writes vcpu_time_info on every tick). */
  readonly sharedInfoView = new DataView(this.sharedInfo.buffer);
  readonly shared32 = new Uint32Array(this.sharedInfo.buffer);
  /** u32 indexes of evtchn_pending and evtchn_mask in shared_info, and log2 of ports per selector bit. */
  readonly pendingU32: number;
  readonly maskU32: number;
  readonly selShift: number;
  /** Which Xen this domain lives under: '2.0' for the Xen 2.0.0 x86_32 layout, '4' otherwise. */
  readonly xen: '2.0' | '4';
  readonly ports: PortTable;
  readonly vcpus: Vcpu[] = [];
  readonly pirqToPort = new Map<number, number>();
  readonly pirqsAllowed: ReadonlySet<number>;
  state: DomainState = 'running';
  /** Pauses by the toolstack (controller_pause_count). */
  pauseCount = 0;
  shutdownReason: ShutdownReason | null = null;
  /** The reason code as Xen stores it (Xen 2.0's shutdown_code, any 8-bit value); -1 while running. */
  shutdownCode = -1;
  /** The event ABI in use: the 2-level ops until init_control switches to FIFO. */
  ops!: PortOps;
  /** FIFO event array: one u32 view per page added by expand_array. */
  fifoArray: Uint32Array[] | null = null;
  kernel: GuestKernel | null = null;
  /** Port signalled instead of VIRQ_DOM_EXC on suspend (XEN_DOMCTL_subscribe), 0 = none. */
  suspendEvtchn = 0;
  /** Faults a scenario armed on this domain's ports (lost or late notifications); null when none, the usual case. */
  portFaults: PortFaults | null = null;

  constructor(
    readonly domid: number,
    readonly name: string,
    readonly privileged: boolean,
    nrVcpus: number,
    readonly memory: GuestMemory,
    /** gfn of the start_info page. */
    readonly startInfoGfn: number,
    readonly maxEvtchnPort: number,
    readonly nrPirqs: number,
    pirqsAllowed: ReadonlySet<number>,
    readonly grants: GrantTable,
    readonly layout: SharedInfoLayout = X86_64_LAYOUT,
  ) {
    this.pendingU32 = layout.pendingOffset >> 2;
    this.maskU32 = layout.maskOffset >> 2;
    this.selShift = layout.bitsPerWord === 64 ? 6 : 5;
    this.xen = layout.name === XEN2_LAYOUT.name ? '2.0' : '4';
    // Xen 2.0.0's table starts at INIT_EVENT_CHANNELS and doubles; today's grows in buckets of 64.
    this.ports = this.xen === '2.0' ? new PortTable(INIT_EVENT_CHANNELS) : new PortTable();
    this.pirqsAllowed = pirqsAllowed;
    for (let i = 0; i < nrVcpus; i++) this.vcpus.push(new Vcpu(this, i));
  }

  get startInfo(): Uint8Array {
    return this.memory.frame(this.startInfoGfn)!;
  }

  get dying(): boolean {
    return this.state === 'dying' || this.state === 'dead';
  }

  /** Whether upcalls can be injected now: not paused, shut down or dying. */
  get runnable(): boolean {
    return this.state === 'running' && this.pauseCount === 0;
  }

  newFifoVcpu(): FifoVcpu {
    return { controlPage: null, controlIndex: 0, tails: new Int32Array(EVTCHN_FIFO_MAX_QUEUES) };
  }
}
