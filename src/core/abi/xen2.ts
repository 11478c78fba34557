/**
 * Xen 2.0.0's numbers (x86_32), as its public headers had them at the 2.0.0
 * release (xen/include/public/xen.h, event_channel.h, arch-x86_32.h) and as
 * XenLinux 2.0 used them (asm-xen/irq.h). The shared_info layout is in
 * layout.ts (XEN2_LAYOUT, XEN2_SHARED_INFO_LAYOUT).
 *
 * Names are the C names, so many match today's Xen (abi/evtchn.ts) but not
 * their values: VIRQ_TIMER is 1 here and 0 today. A module that needs both
 * imports this one as a namespace (import * as xen2).
 */
import type { LayoutField } from './layout.js';

/** Hypercall number of event_channel_op in 2.0.0 (21 in the June 2004 tree, 32 today). */
export const __HYPERVISOR_event_channel_op = 16;

/** Hypercall number of sched_op in 2.0.0: one machine word, an 8-bit command and (for shutdown) an 8-bit reason above it. */
export const __HYPERVISOR_sched_op = 6;

// ---- sched_op commands (xen.h at 2.0.0) ----

export const SCHEDOP_yield = 0;
export const SCHEDOP_block = 1;
export const SCHEDOP_shutdown = 2;
/** The command is the low 8 bits of the argument. */
export const SCHEDOP_cmdmask = 255;
/** SCHEDOP_shutdown's reason code sits in bits 8..15. */
export const SCHEDOP_reasonshift = 8;
/**
 * Shutdown reason codes (SHUTDOWN_* in domain_controller.h, also abi/ctrl_if.ts):
 * advisory only, Xen stores any 8-bit value. xend's names by code
 * (XendDomainInfo.shutdown_reasons); any other code reads as "?".
 */
export const XEN2_SHUTDOWN_REASON_NAMES: readonly string[] = ['poweroff', 'reboot', 'suspend'];

// ---- VIRQs ----

export const VIRQ_MISDIRECT = 0;
export const VIRQ_TIMER = 1;
export const VIRQ_DEBUG = 2;
export const VIRQ_CONSOLE = 3;
export const VIRQ_DOM_EXC = 4;
export const VIRQ_PARITY_ERR = 5;
export const VIRQ_IO_ERR = 6;
export const NR_VIRQS = 7;

export interface VirqInfo {
  readonly num: number;
  readonly name: string;
  /** Who receives it: any domain, or dom0 only (Xen sends the dom0-only ones straight to dom0). */
  readonly target: 'any' | 'dom0';
  readonly meaning: string;
}

export const VIRQS: readonly VirqInfo[] = [
  { num: VIRQ_MISDIRECT, name: 'VIRQ_MISDIRECT', target: 'any', meaning: 'catch-all for VIRQs nobody bound; held by port 0 for the life of the domain' },
  { num: VIRQ_TIMER, name: 'VIRQ_TIMER', target: 'any', meaning: 'the time values were updated, or a requested timeout passed' },
  { num: VIRQ_DEBUG, name: 'VIRQ_DEBUG', target: 'any', meaning: 'dump debugging information (debug key)' },
  { num: VIRQ_CONSOLE, name: 'VIRQ_CONSOLE', target: 'dom0', meaning: "bytes arrived on Xen's emergency (serial) console" },
  { num: VIRQ_DOM_EXC, name: 'VIRQ_DOM_EXC', target: 'dom0', meaning: 'some domain shut down or crashed' },
  { num: VIRQ_PARITY_ERR, name: 'VIRQ_PARITY_ERR', target: 'dom0', meaning: 'an NMI reported a memory parity error' },
  { num: VIRQ_IO_ERR, name: 'VIRQ_IO_ERR', target: 'dom0', meaning: 'an NMI reported an I/O check error' },
];

const VIRQ_BY_NAME: ReadonlyMap<string, number> = new Map(VIRQS.map((v) => [v.name, v.num]));

/** The 2.0.0 VIRQ number for "VIRQ_TIMER" (or "TIMER"), or undefined. */
export function virqByName(name: string): number | undefined {
  return VIRQ_BY_NAME.get(name) ?? VIRQ_BY_NAME.get(`VIRQ_${name}`);
}

// ---- event channels ----

/** EVTCHNOP_* in 2.0.0: seven commands. Anything else is -ENOSYS. */
export const EVTCHNOP = {
  bind_interdomain: 0,
  bind_virq: 1,
  bind_pirq: 2,
  close: 3,
  send: 4,
  status: 5,
  alloc_unbound: 6,
} as const;
export type EvtchnOpName = keyof typeof EVTCHNOP;

/** EVTCHNSTAT_* (the same five values today has, minus ipi). */
export const EVTCHNSTAT_closed = 0;
export const EVTCHNSTAT_unbound = 1;
export const EVTCHNSTAT_interdomain = 2;
export const EVTCHNSTAT_pirq = 3;
export const EVTCHNSTAT_virq = 4;
export const EVTCHNSTAT_NAMES = ['closed', 'unbound', 'interdomain', 'pirq', 'virq'] as const;

/**
 * Xen-internal port states in 2.0.0 (xen/include/xen/sched.h). For reference
 * only: the simulator keeps ports in today's ECS_* codes (evtchn.ts), which
 * name the same states with other numbers, so traces read the same in both modes.
 */
export const XEN2_ECS_FREE = 0;
export const XEN2_ECS_UNBOUND = 1;
export const XEN2_ECS_INTERDOMAIN = 2;
export const XEN2_ECS_PIRQ = 3;
export const XEN2_ECS_VIRQ = 4;

/** Port table: starts at 16 entries and doubles on demand up to 1024. */
export const INIT_EVENT_CHANNELS = 16;
export const MAX_EVENT_CHANNELS = 1024;
export const NR_EVENT_CHANNELS = 1024;
/** Size of a domain's pirq_to_evtchn table: bind_pirq of a higher PIRQ is -EINVAL. */
export const NR_PIRQS = 128;
/** MAX_VIRT_CPUS: one vcpu_data slot in shared_info. */
export const MAX_VIRT_CPUS = 1;
/** Guests that may share one physical IRQ (irq.c's IRQ_MAX_GUESTS). */
export const IRQ_MAX_GUESTS = 7;
export const BIND_PIRQ__WILL_SHARE = 1;

/** evtchn_op_t: cmd u32, __reserved u32, then a 24-byte union; 32 bytes, packed. */
export const EVTCHN_OP_SIZE = 32;
export const EVTCHN_OP_CMD = 0;
export const EVTCHN_OP_UNION = 8;

/** The argument structs of the union, offsets relative to the union (IN, OUT or IN/OUT). */
export const EVTCHN_OP_STRUCTS: Readonly<Record<EvtchnOpName, { readonly type: string; readonly size: number; readonly fields: readonly LayoutField[] }>> = {
  bind_interdomain: {
    type: 'evtchn_bind_interdomain_t',
    size: 12,
    fields: [
      { field: 'dom1', offset: 0, size: 2, description: 'IN: first domain (DOMID_SELF for an unprivileged caller)' },
      { field: 'dom2', offset: 2, size: 2, description: 'IN: second domain' },
      { field: 'port1', offset: 4, size: 4, description: 'IN/OUT: port in dom1, 0 = allocate one' },
      { field: 'port2', offset: 8, size: 4, description: 'IN/OUT: port in dom2, 0 = allocate one' },
    ],
  },
  bind_virq: {
    type: 'evtchn_bind_virq_t',
    size: 8,
    fields: [
      { field: 'virq', offset: 0, size: 4, description: 'IN: VIRQ_*' },
      { field: 'port', offset: 4, size: 4, description: 'OUT: the port it is bound to' },
    ],
  },
  bind_pirq: {
    type: 'evtchn_bind_pirq_t',
    size: 12,
    fields: [
      { field: 'pirq', offset: 0, size: 4, description: 'IN: physical IRQ' },
      { field: 'flags', offset: 4, size: 4, description: 'IN: BIND_PIRQ__WILL_SHARE (1)' },
      { field: 'port', offset: 8, size: 4, description: 'OUT: the port it is bound to' },
    ],
  },
  close: {
    type: 'evtchn_close_t',
    size: 8,
    fields: [
      { field: 'dom', offset: 0, size: 2, description: 'IN: domain (DOMID_SELF, or any for a privileged caller)' },
      { field: '__pad', offset: 2, size: 2, description: 'padding' },
      { field: 'port', offset: 4, size: 4, description: 'IN: port to close' },
    ],
  },
  send: {
    type: 'evtchn_send_t',
    size: 4,
    fields: [{ field: 'local_port', offset: 0, size: 4, description: "IN: the caller's end of an inter-domain channel" }],
  },
  status: {
    type: 'evtchn_status_t',
    size: 20,
    fields: [
      { field: 'dom', offset: 0, size: 2, description: 'IN: domain' },
      { field: '__pad', offset: 2, size: 2, description: 'padding' },
      { field: 'port', offset: 4, size: 4, description: 'IN: port' },
      { field: 'status', offset: 8, size: 4, description: 'OUT: EVTCHNSTAT_*' },
      { field: 'u.unbound.dom / u.interdomain.dom / u.pirq / u.virq', offset: 12, size: 4, description: 'OUT: depends on status (a domid is u16)' },
      { field: 'u.interdomain.port', offset: 16, size: 4, description: "OUT: the peer's port" },
    ],
  },
  alloc_unbound: {
    type: 'evtchn_alloc_unbound_t',
    size: 8,
    fields: [
      { field: 'dom', offset: 0, size: 2, description: 'IN: the remote domain allowed to connect' },
      { field: '__pad', offset: 2, size: 2, description: 'padding' },
      { field: 'port', offset: 4, size: 4, description: 'OUT: the new unbound port' },
    ],
  },
};

// ---- start_info_t (2.0.0, x86_32, packed, 320 bytes) ----
// Every memory_t is an unsigned long (4 bytes) followed by 4 bytes of padding.

export const XEN2_START_INFO_NR_PAGES = 0;
export const XEN2_START_INFO_SHARED_INFO = 8;
export const XEN2_START_INFO_FLAGS = 16;
export const XEN2_START_INFO_DOMAIN_CONTROLLER_EVTCHN = 20;
export const XEN2_START_INFO_PAD = 22;
export const XEN2_START_INFO_PT_BASE = 24;
export const XEN2_START_INFO_NR_PT_FRAMES = 32;
export const XEN2_START_INFO_MFN_LIST = 40;
export const XEN2_START_INFO_MOD_START = 48;
export const XEN2_START_INFO_MOD_LEN = 56;
export const XEN2_START_INFO_CMD_LINE = 64;
export const MAX_CMDLINE = 256;
export const XEN2_START_INFO_SIZE = 320;

/** SIF_* in 2.0.0. */
export const SIF_PRIVILEGED = 1 << 0;
export const SIF_INITDOMAIN = 1 << 1;
export const SIF_BLK_BE_DOMAIN = 1 << 4;
export const SIF_NET_BE_DOMAIN = 1 << 5;
/** Flags a domain builder may add for a domU (the back-end roles). */
export const SIF_BUILDER_FLAGS = SIF_BLK_BE_DOMAIN | SIF_NET_BE_DOMAIN;

export const XEN2_START_INFO_LAYOUT: readonly LayoutField[] = [
  { field: 'nr_pages', offset: XEN2_START_INFO_NR_PAGES, size: 4, description: 'pages given to the domain (filled at boot and on resume)' },
  { field: '_MEMORY_PADDING(A)', offset: 4, size: 4, description: 'padding after a 32-bit memory_t' },
  { field: 'shared_info', offset: XEN2_START_INFO_SHARED_INFO, size: 4, description: 'MACHINE address of shared_info (frame << 12)' },
  { field: '_MEMORY_PADDING(B)', offset: 12, size: 4, description: 'padding' },
  { field: 'flags', offset: XEN2_START_INFO_FLAGS, size: 4, description: 'SIF_PRIVILEGED (1) | SIF_INITDOMAIN (2) | SIF_BLK_BE_DOMAIN (16) | SIF_NET_BE_DOMAIN (32)' },
  { field: 'domain_controller_evtchn', offset: XEN2_START_INFO_DOMAIN_CONTROLLER_EVTCHN, size: 2, description: "the guest's own port of the control channel (set by the domain builder; dom0 makes its own)" },
  { field: '__pad', offset: XEN2_START_INFO_PAD, size: 2, description: 'padding' },
  { field: 'pt_base', offset: XEN2_START_INFO_PT_BASE, size: 4, description: 'VIRTUAL address of the initial page directory (first boot only)' },
  { field: '_MEMORY_PADDING(C)', offset: 28, size: 4, description: 'padding' },
  { field: 'nr_pt_frames', offset: XEN2_START_INFO_NR_PT_FRAMES, size: 4, description: 'frames of bootstrap page tables' },
  { field: '_MEMORY_PADDING(D)', offset: 36, size: 4, description: 'padding' },
  { field: 'mfn_list', offset: XEN2_START_INFO_MFN_LIST, size: 4, description: 'VIRTUAL address of the page-frame (p2m) list' },
  { field: '_MEMORY_PADDING(E)', offset: 44, size: 4, description: 'padding' },
  { field: 'mod_start', offset: XEN2_START_INFO_MOD_START, size: 4, description: 'VIRTUAL address of the initrd/module (0 if none)' },
  { field: '_MEMORY_PADDING(F)', offset: 52, size: 4, description: 'padding' },
  { field: 'mod_len', offset: XEN2_START_INFO_MOD_LEN, size: 4, description: 'module size in bytes' },
  { field: '_MEMORY_PADDING(G)', offset: 60, size: 4, description: 'padding' },
  { field: 'cmd_line', offset: XEN2_START_INFO_CMD_LINE, size: MAX_CMDLINE, description: 'kernel command line, NUL-terminated (at most 255 characters)' },
];

// ---- XenLinux 2.0 IRQ space (asm-xen/irq.h) ----

export const PIRQ_BASE = 0;
export const LINUX_NR_PIRQS = 128; // NR_PIRQS in asm-xen/irq.h
export const DYNIRQ_BASE = 128;
export const NR_DYNIRQS = 128;
export const NR_IRQS = 256;

// ---- the 2.0 tools ----

/** xend's console TCP port for domain N is CONSOLE_PORT_BASE + N. */
export const CONSOLE_PORT_BASE = 9600;
