/**
 * Event-channel ABI numbers (xen/include/public/event_channel.h, xen.h) and
 * the hypervisor's internal port states (xen/include/xen/sched.h).
 */

/** EVTCHNOP_* command numbers. */
export const EVTCHNOP = {
  bind_interdomain: 0,
  bind_virq: 1,
  bind_pirq: 2,
  close: 3,
  send: 4,
  status: 5,
  alloc_unbound: 6,
  bind_ipi: 7,
  bind_vcpu: 8,
  unmask: 9,
  reset: 10,
  init_control: 11,
  expand_array: 12,
  set_priority: 13,
  reset_cont: 14,
} as const;
export type EvtchnOpName = keyof typeof EVTCHNOP;

/** Internal port states, ECS_* in sched.h. */
export const ECS_FREE = 0;
export const ECS_RESERVED = 1;
export const ECS_UNBOUND = 2;
export const ECS_INTERDOMAIN = 3;
export const ECS_PIRQ = 4;
export const ECS_VIRQ = 5;
export const ECS_IPI = 6;
export const ECS_NAMES = ['free', 'reserved', 'unbound', 'interdomain', 'pirq', 'virq', 'ipi'] as const;
export type PortStateName = (typeof ECS_NAMES)[number];

/** EVTCHNSTAT_* values returned by EVTCHNOP_status. */
export const EVTCHNSTAT_closed = 0;
export const EVTCHNSTAT_unbound = 1;
export const EVTCHNSTAT_interdomain = 2;
export const EVTCHNSTAT_pirq = 3;
export const EVTCHNSTAT_virq = 4;
export const EVTCHNSTAT_ipi = 5;
export const EVTCHNSTAT_NAMES = ['closed', 'unbound', 'interdomain', 'pirq', 'virq', 'ipi'] as const;
export type EvtchnStatName = (typeof EVTCHNSTAT_NAMES)[number];

/** ECS_* state to the EVTCHNSTAT_* value status reports (free and reserved read as closed). */
export const ECS_TO_EVTCHNSTAT: readonly number[] = [
  EVTCHNSTAT_closed,
  EVTCHNSTAT_closed,
  EVTCHNSTAT_unbound,
  EVTCHNSTAT_interdomain,
  EVTCHNSTAT_pirq,
  EVTCHNSTAT_virq,
  EVTCHNSTAT_ipi,
];

/** Sizes. A 64-bit guest's xen_ulong_t is 64 bits, so 64 * 64 ports in 2-level. */
export const BITS_PER_EVTCHN_WORD = 64;
export const EVTCHN_2L_NR_CHANNELS = BITS_PER_EVTCHN_WORD * BITS_PER_EVTCHN_WORD;
export const EVTCHN_FIFO_LINK_BITS = 17;
export const EVTCHN_FIFO_NR_CHANNELS = 1 << EVTCHN_FIFO_LINK_BITS;
export const EVTCHN_FIFO_LINK_MASK = EVTCHN_FIFO_NR_CHANNELS - 1;
/** Port structures come in buckets of a page / 64-byte struct evtchn. */
export const EVTCHNS_PER_BUCKET = 64;
/** libxl's default max_evtchn_port for a domU. */
export const DOMU_MAX_EVTCHN_PORT = 1023;

/** FIFO event-word bits. */
export const EVTCHN_FIFO_PENDING = 31;
export const EVTCHN_FIFO_MASKED = 30;
export const EVTCHN_FIFO_LINKED = 29;
export const EVTCHN_FIFO_BUSY = 28;
export const FIFO_P = 1 << EVTCHN_FIFO_PENDING; // negative as int32; use >>> 0 when printing
export const FIFO_M = 1 << EVTCHN_FIFO_MASKED;
export const FIFO_L = 1 << EVTCHN_FIFO_LINKED;
export const FIFO_B = 1 << EVTCHN_FIFO_BUSY;
export const EVTCHN_FIFO_PRIORITY_MAX = 0;
export const EVTCHN_FIFO_PRIORITY_DEFAULT = 7;
export const EVTCHN_FIFO_PRIORITY_MIN = 15;
export const EVTCHN_FIFO_MAX_QUEUES = 16;
/** struct evtchn_fifo_control_block: ready, _rsvd, head[16]. */
export const EVTCHN_FIFO_CONTROL_BLOCK_SIZE = 72;
export const EVTCHN_FIFO_EVENT_WORDS_PER_PAGE = 1024;
export const EVTCHN_FIFO_MAX_EVENT_ARRAY_PAGES = EVTCHN_FIFO_NR_CHANNELS / EVTCHN_FIFO_EVENT_WORDS_PER_PAGE;

/** bind_pirq flag. */
export const BIND_PIRQ__WILL_SHARE = 1;

/** VIRQ kinds as get_virq_type in event_channel.c sorts them. */
export const VIRQ_PER_VCPU = 'vcpu';
export const VIRQ_PER_DOMAIN = 'domain';
export const VIRQ_GLOBAL = 'global';
export type VirqType = typeof VIRQ_PER_VCPU | typeof VIRQ_PER_DOMAIN | typeof VIRQ_GLOBAL;

export const NR_VIRQS = 24;
export const VIRQ_TIMER = 0;
export const VIRQ_DEBUG = 1;
export const VIRQ_CONSOLE = 2;
export const VIRQ_DOM_EXC = 3;
export const VIRQ_TBUF = 4;
export const VIRQ_DEBUGGER = 6;
export const VIRQ_XENOPROF = 7;
export const VIRQ_CON_RING = 8;
export const VIRQ_PCPU_STATE = 9;
export const VIRQ_MEM_EVENT = 10;
export const VIRQ_ARGO = 11;
export const VIRQ_ENOMEM = 12;
export const VIRQ_XENPMU = 13;
export const VIRQ_MCA = 16;

export interface VirqInfo {
  readonly num: number;
  readonly name: string;
  readonly type: VirqType;
  readonly meaning: string;
}

/** Every VIRQ number with Xen's name and kind; unnamed numbers default to global. */
export const VIRQS: readonly VirqInfo[] = (() => {
  const named: Record<number, [string, VirqType, string]> = {
    0: ['VIRQ_TIMER', VIRQ_PER_VCPU, 'the vCPU timer fired'],
    1: ['VIRQ_DEBUG', VIRQ_PER_VCPU, "the debug key 'q' was pressed"],
    2: ['VIRQ_CONSOLE', VIRQ_GLOBAL, 'serial input for the hardware domain'],
    3: ['VIRQ_DOM_EXC', VIRQ_GLOBAL, 'a domain shut down or died'],
    4: ['VIRQ_TBUF', VIRQ_GLOBAL, 'trace buffers have data'],
    6: ['VIRQ_DEBUGGER', VIRQ_GLOBAL, 'a domain paused for the debugger'],
    7: ['VIRQ_XENOPROF', VIRQ_PER_VCPU, 'oprofile samples'],
    8: ['VIRQ_CON_RING', VIRQ_GLOBAL, "Xen's console ring has new data"],
    9: ['VIRQ_PCPU_STATE', VIRQ_GLOBAL, 'a physical CPU went on or offline'],
    10: ['VIRQ_MEM_EVENT', VIRQ_GLOBAL, 'a memory event is waiting'],
    11: ['VIRQ_ARGO', VIRQ_PER_DOMAIN, 'an Argo message arrived'],
    12: ['VIRQ_ENOMEM', VIRQ_GLOBAL, "Xen's heap is low"],
    13: ['VIRQ_XENPMU', VIRQ_PER_VCPU, 'a PMU sample is ready'],
    16: ['VIRQ_MCA', VIRQ_GLOBAL, 'machine check (VIRQ_ARCH_0)'],
  };
  const out: VirqInfo[] = [];
  for (let num = 0; num < NR_VIRQS; num++) {
    const entry = named[num];
    if (entry) out.push({ num, name: entry[0], type: entry[1], meaning: entry[2] });
    else if (num >= 16) out.push({ num, name: `VIRQ_ARCH_${num - 16}`, type: VIRQ_GLOBAL, meaning: 'architecture-specific' });
    else out.push({ num, name: `VIRQ_${num}`, type: VIRQ_GLOBAL, meaning: 'no VIRQ has this number' });
  }
  return out;
})();

const VIRQ_BY_NAME: ReadonlyMap<string, number> = new Map(VIRQS.map((v) => [v.name, v.num]));

/** The VIRQ number for a name such as "VIRQ_TIMER" (or "TIMER"), or undefined. */
export function virqByName(name: string): number | undefined {
  return VIRQ_BY_NAME.get(name) ?? VIRQ_BY_NAME.get(`VIRQ_${name}`);
}

/** A PV domU's PIRQ space: the GSIs of one IO-APIC plus extra_guest_irqs' default of 32. */
export const NR_STATIC_IRQS = 24;
export const EXTRA_DOMU_IRQS = 32;
export const EXTRA_HWDOM_IRQS = 256;
