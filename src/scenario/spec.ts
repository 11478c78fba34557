/**
 * The scenario grammar as data: every key of the step form, what it means in
 * Xen's words, the kind of value it takes, its default, its range, and the
 * names Xen gives its values. Two readers, one source:
 *
 *  - the validator (stepform.ts) takes its key lists, ranges, defaults,
 *    patterns and name sets from here, and keeps what data cannot say (the
 *    order of checks, positions, messages, the rules that look at other keys);
 *  - the JSON Schema (schema.ts) is generated from here, for editors.
 *
 * Hypercall ops and their arguments are not repeated: they come from the op
 * tables (OPS for today's Xen, OPS_XEN2 for 2.0.0, both through opsFor).
 * Where the two hypervisors differ (VIRQ names, shutdown reasons, vCPUs,
 * grant tables and rings), a field or value says which one it belongs to.
 */
import { DOMID_NAMES, DOMID_SELF, SHUTDOWN_REASONS } from '../core/abi/domid.js';
import { ERRNO_NAMES } from '../core/abi/errno.js';
import { ECS_NAMES, VIRQS } from '../core/abi/evtchn.js';
import * as grant from '../core/abi/grant.js';
import { GNTST_NAMES } from '../core/abi/grant.js';
import { XEN_LEGACY_MAX_VCPUS } from '../core/abi/layout.js';
import * as xen2 from '../core/abi/xen2.js';
import type { ArgKind, OpSpec } from '../core/hv/hypercall.js';
import { opsFor } from '../core/hv/hypercall_xen2.js';
import { DEFAULT_MEMORY_PAGES, FIRST_FREE_GFN } from '../core/hv/hypervisor.js';
import { XENBUS_STATE_NAMES } from '../core/abi/xenbus.js';
import { XEND_SHUTDOWN_REASONS, type RingAction, type XenVersion } from './model.js';

/** Which hypervisor's rules a scenario runs on: Xen 2.0.0 or today's. */
export type XenMode = XenVersion;
export const XEN_MODES: readonly XenMode[] = ['4', '2.0'];

/** A value that may differ between the two hypervisors. */
export type PerXen<T> = T | { readonly '2.0': T; readonly '4': T };

export function forXen<T>(v: PerXen<T>, xen: XenMode): T {
  return typeof v === 'object' && v !== null && '2.0' in v && '4' in v ? v[xen] : (v as T);
}

/** A name Xen gives a value, with what it means; `xen` when only one hypervisor has it. */
export interface Named {
  readonly name: string;
  readonly value?: number;
  readonly doc: string;
  readonly xen?: XenMode;
}

/** The names available on `xen`. */
export function onXen(names: readonly Named[], xen: XenMode): Named[] {
  return names.filter((n) => n.xen === undefined || n.xen === xen);
}

// ---- patterns (the validator's regular expressions, shared with the schema) ----

/** A `$name` reference to a value saved by an earlier step's `save`. */
export const REF_PATTERN = '^\\$[A-Za-z_][A-Za-z0-9_]*$';
/** A name to save a result under (used later as $name). */
export const SAVE_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_]*$';
/** A duration: a number with a unit. */
export const DURATION_PATTERN = '^\\s*(\\d+(?:\\.\\d+)?)\\s*(ns|us|µs|ms|s)\\s*$';
export const DURATION_UNITS: Readonly<Record<string, number>> = { ns: 1, us: 1e3, 'µs': 1e3, ms: 1e6, s: 1e9 };
/** Memory as text: a whole number with a binary unit. */
export const MEMORY_PATTERN = '^\\s*(\\d+)\\s*(KiB|MiB|GiB)\\s*$';
export const MEMORY_UNITS: Readonly<Record<string, number>> = { KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30 };
/** The least memory a domain may have (the domain builder's frames below FIRST_FREE_GFN), and the most. */
export const MEMORY_MIN_BYTES = FIRST_FREE_GFN * 4096;
export const MEMORY_MAX_BYTES = 2 ** 40;
/** A unicast MAC address: six hex bytes, the I/G bit (bit 0 of the first byte) clear. */
export const UNICAST_MAC_PATTERN = '^[0-9a-fA-F][02468aceACE](:[0-9a-fA-F]{2}){5}$';
/** An errno name in `ret`, with or without its minus sign. */
export const ERRNO_PATTERN = '^-?(E[A-Z0-9]+)$';
/** Domain names must not look like ids. */
export const DOMAIN_NAME_PATTERN = '^[^0-9]';

// ---- Xen's names ----

const DOMID_DOCS: Readonly<Record<string, string>> = {
  DOMID_SELF: 'the calling domain itself',
  DOMID_IO: 'the pseudo-domain that owns I/O memory',
  DOMID_XEN: 'Xen itself (pages the hypervisor owns)',
  DOMID_COW: 'the pseudo-domain of copy-on-write shared pages',
  DOMID_INVALID: 'no domain',
  DOMID_ANY: 'any domain (a wildcard)',
  DOMID_IDLE: 'the idle domain (the idle vCPUs)',
};

/** DOMID_* (xen.h): reserved domain ids, accepted wherever an op takes a domain. */
export const DOMID_CONSTANTS: readonly Named[] = Object.entries(DOMID_NAMES).map(([name, value]) => ({ name, value, doc: `${DOMID_DOCS[name] ?? 'a reserved domain id'} (0x${value.toString(16)})` }));

const ERRNO_DOCS: Readonly<Record<string, string>> = {
  EPERM: 'not permitted (e.g. not the control domain)',
  ENOENT: 'no such entry (e.g. no such vCPU)',
  ESRCH: 'no such domain',
  E2BIG: 'argument too big',
  EAGAIN: 'try again',
  ENOMEM: 'out of memory',
  EACCES: 'permission denied (e.g. the domain may not bind that PIRQ)',
  EFAULT: 'bad guest address',
  EBUSY: 'busy (e.g. the VIRQ or PIRQ is bound already)',
  EEXIST: 'already exists',
  ENODEV: 'no such device',
  EINVAL: 'invalid argument (e.g. a port that is not open)',
  ENOSPC: 'no free port left',
  ENOSYS: 'not implemented',
  EOPNOTSUPP: 'not supported',
};

/** Errno names (errno.h) a `ret` may be written with: -EINVAL for -22. */
export const ERRNOS: readonly Named[] = Object.entries(ERRNO_NAMES).map(([value, name]) => ({ name, value: Number(value), doc: `${ERRNO_DOCS[name] ?? 'an error'} (${value})` }));

const GNTST_DOCS: Readonly<Record<string, string>> = {
  GNTST_okay: 'normal return',
  GNTST_general_error: 'general undefined error',
  GNTST_bad_domain: 'unrecognised domain id',
  GNTST_bad_gntref: 'unrecognised or inappropriate grant reference',
  GNTST_bad_handle: 'unrecognised or inappropriate handle',
  GNTST_bad_virt_addr: 'inappropriate virtual address to map',
  GNTST_bad_dev_addr: 'inappropriate device address to unmap',
  GNTST_no_device_space: 'out of space in the I/O MMU',
  GNTST_permission_denied: 'not enough privilege for the operation',
  GNTST_bad_page: 'the page was invalid for the operation',
  GNTST_bad_copy_arg: 'copy arguments cross a page boundary',
  GNTST_address_too_big: 'transfer page address too large',
  GNTST_eagain: 'operation not done; try again',
  GNTST_no_space: 'out of space (handles etc.)',
};

/** GNTST_* (grant_table.h): the per-op status a grant op reports in `status`. */
export const GNTST: readonly Named[] = Object.entries(GNTST_NAMES)
  .map(([value, name]) => ({ name, value: Number(value), doc: `${GNTST_DOCS[name] ?? 'a grant status'} (${value})` }))
  .sort((a, b) => b.value - a.value);

const GRANT_FLAG_DOCS: Readonly<Record<string, string>> = {
  GNTMAP_device_map: 'map for device DMA: Xen returns a bus address in dev_bus_addr',
  GNTMAP_host_map: "map into the caller's address space at host_addr",
  GNTMAP_readonly: 'map read-only',
  GNTMAP_application_map: 'a user-space (application) mapping',
  GNTMAP_contains_pte: 'host_addr is the machine address of a PTE to update',
  GNTCOPY_source_gref: "gnttab_copy: source names a grant reference (source.ref), not one of the caller's frames",
  GNTCOPY_dest_gref: "gnttab_copy: dest names a grant reference (dest.ref), not one of the caller's frames",
};

/** GNTMAP_* and GNTCOPY_* flags (grant_table.h), by name. */
export const GRANT_FLAGS: readonly Named[] = Object.entries(grant as unknown as Record<string, unknown>)
  .filter(([k, v]) => (k.startsWith('GNTMAP_') || k.startsWith('GNTCOPY_')) && typeof v === 'number')
  .map(([name, value]) => ({ name, value: value as number, doc: `${GRANT_FLAG_DOCS[name] ?? 'a grant flag'} (${String(value)})` }))
  // A module's namespace lists its exports in an order of its own making: sort them (GNTMAP_ first, by bit).
  .sort((a, b) => Number(b.name.startsWith('GNTMAP_')) - Number(a.name.startsWith('GNTMAP_')) || a.value - b.value);

/** Grant flags written as names joined with |, e.g. GNTMAP_host_map|GNTMAP_readonly. */
export const GRANT_FLAGS_PATTERN = (() => {
  const one = `(${GRANT_FLAGS.map((f) => f.name).join('|')})`;
  return `^\\s*${one}\\s*(\\|\\s*${one}\\s*)*$`;
})();

/** VIRQ_* names of each hypervisor (xen.h), with what each one signals. */
export const VIRQ_NAMES: readonly Named[] = [
  ...VIRQS.map((v) => ({ name: v.name, value: v.num, doc: `${v.meaning} (${v.num}, ${v.type === 'vcpu' ? 'per vCPU' : v.type === 'domain' ? 'per domain' : 'global'})`, xen: '4' as const })),
  ...xen2.VIRQS.map((v) => ({ name: v.name, value: v.num, doc: `${v.meaning} (${v.num}${v.target === 'dom0' ? ', dom0 only' : ''})`, xen: '2.0' as const })),
];

const SHUTDOWN_DOCS: Readonly<Record<string, string>> = {
  poweroff: 'exited normally: clean up and kill',
  reboot: 'clean up, kill, then restart',
  suspend: 'clean up, save the suspend record, kill',
  crash: 'the domain crashed',
  watchdog: 'restart because the watchdog expired',
  soft_reset: 'the domain asked for a soft reset',
  halt: "xm shutdown --halt: sent to the guest as poweroff",
};

/** SHUTDOWN_* reasons the hypervisor records (sched.h; Xen 2.0.0 had the first three). */
export const SHUTDOWN_REASON_NAMES: readonly Named[] = [
  ...SHUTDOWN_REASONS.map((name, value) => ({ name, value, doc: `SHUTDOWN_${name}: ${SHUTDOWN_DOCS[name] ?? ''} (${value})`, xen: '4' as const })),
  ...xen2.XEN2_SHUTDOWN_REASON_NAMES.map((name, value) => ({ name, value, doc: `SHUTDOWN_${name}: ${SHUTDOWN_DOCS[name] ?? ''} (${value})`, xen: '2.0' as const })),
];

/** The reasons a toolstack `shutdown` step may give: the hypervisor's today, xend's (xm shutdown) on Xen 2.0. */
export const LIFECYCLE_REASON_NAMES: readonly Named[] = [
  ...SHUTDOWN_REASONS.map((name) => ({ name, doc: `SHUTDOWN_${name}: ${SHUTDOWN_DOCS[name] ?? ''}`, xen: '4' as const })),
  ...XEND_SHUTDOWN_REASONS.map((name) => ({ name, doc: name === 'halt' ? SHUTDOWN_DOCS.halt! : `xend sends CMSG_SHUTDOWN_${name.toUpperCase()}: ${SHUTDOWN_DOCS[name] ?? ''}`, xen: '2.0' as const })),
];

const ECS_DOCS: Readonly<Record<string, string>> = {
  free: 'ECS_FREE: not in use',
  reserved: 'ECS_RESERVED: held (port 0, or by Xen)',
  unbound: 'ECS_UNBOUND: allocated, waiting for the remote domain to bind it',
  interdomain: 'ECS_INTERDOMAIN: connected to a port of another (or the same) domain',
  pirq: 'ECS_PIRQ: bound to a physical IRQ',
  virq: 'ECS_VIRQ: bound to a virtual IRQ',
  ipi: 'ECS_IPI: an inter-processor interrupt between vCPUs of the domain',
};

/** Port states (ECS_* in event_channel.h) as a check names them. */
export const PORT_STATES: readonly Named[] = ECS_NAMES.map((name, value) => ({ name, value, doc: ECS_DOCS[name] ?? name }));

/** Guest kernels a domain may boot. */
export const KERNELS: readonly Named[] = [
  { name: 'default', doc: "enables upcalls on each vCPU at boot and runs Linux's dispatch loop for the domain's event ABI, counting deliveries per port" },
  { name: 'plan9', doc: 'Plan 9 on Xen 2.0: timer VIRQ, control channel from start_info, console over ctrl_if to xend, then an rc prompt', xen: '2.0' },
  { name: 'minios', doc: 'Mini-OS on today\'s Xen: reads start_info, brings up xenbus and the console ring, then a small shell on its console', xen: '4' },
];

/** Event ABIs. */
export const ABIS: readonly Named[] = [
  { name: '2l', doc: "the 2-level ABI (event_2l.c): evtchn_pending and evtchn_mask bitmaps in shared_info, with a per-vCPU selector word" },
  { name: 'fifo', doc: 'the FIFO ABI (event_fifo.c): an event word per port and per-vCPU priority queues; the default kernel switches with EVTCHNOP_init_control at boot', xen: '4' },
];

/** Xen versions as `xen:` takes them: the name first, then the spellings YAML may give it. */
export const XEN_VERSIONS: readonly { readonly mode: XenMode; readonly spellings: readonly (string | number)[]; readonly doc: string }[] = [
  { mode: '4', spellings: ['4', 4], doc: "today's Xen (the default): 2-level or FIFO events, grant tables, xenstore and the console ring" },
  { mode: '2.0', spellings: ['2.0', 2, '2'], doc: 'Xen 2.0.0 (2004): seven event-channel ops, 1024 ports, one vCPU, xend over the control interface in shared_info' },
];

// ---- arguments: numbers, names and $names ----

/** How a number-like value is read: an op argument's kind, or a port. */
export type NumKind = ArgKind | 'port';

export interface NumKindSpec {
  /** Inclusive range of a literal number; none: any safe integer. */
  readonly min?: number;
  readonly max?: number;
  /** How messages name it ("expected a <label> value from ..."). */
  readonly label: string;
  /** What it accepts, in words ("expected <words>, found ..."). */
  readonly words: string;
  readonly doc: string;
}

const I32_MIN = -(2 ** 31);
const U32_MAX = 2 ** 32 - 1;
const ANY_NUMBER = 'a whole number or a $name';

export const NUM_KINDS: Readonly<Record<NumKind, NumKindSpec>> = {
  domid: { min: 0, max: 0xffff, label: 'domain id (16 bits)', words: 'a domain: a name, an id or DOMID_SELF', doc: 'a domain: a name from domains, a domid, DOMID_SELF (the caller) or another DOMID_*' },
  virq: { min: I32_MIN, max: U32_MAX, label: 'virq', words: 'a VIRQ number or name such as VIRQ_TIMER', doc: 'a VIRQ: its number or its name (VIRQ_TIMER, or TIMER)' },
  u16: { min: 0, max: 0xffff, label: 'u16', words: ANY_NUMBER, doc: 'a 16-bit number' },
  u32: { min: I32_MIN, max: U32_MAX, label: 'u32', words: ANY_NUMBER, doc: 'a 32-bit number (negative numbers wrap, as in C)' },
  port: { min: I32_MIN, max: U32_MAX, label: 'port', words: ANY_NUMBER, doc: 'an event-channel port (evtchn_port_t, 32 bits)' },
  u64: { min: 0, max: Number.MAX_SAFE_INTEGER, label: 'u64', words: ANY_NUMBER, doc: 'a 64-bit number (up to 2^53-1 here)' },
  ns: { label: 'ns', words: 'a duration such as 1ms, 250us, 2s or a number of ns', doc: 'nanoseconds, or a duration such as 10ms' },
  gnttab_flags: { label: 'gnttab_flags', words: 'flags: a number or names such as GNTMAP_host_map|GNTMAP_readonly', doc: 'flags: a number, a name, names joined with | (GNTMAP_host_map|GNTMAP_readonly), or a list of names' },
  shutdown_reason: { min: 0, max: 0xff, label: 'shutdown_reason', words: 'a shutdown reason: poweroff, reboot, suspend or a code 0..255', doc: 'a shutdown reason: poweroff, reboot, suspend, or any 8-bit code' },
  copy_side: { label: 'copy_side', words: '{ ref | gmfn, domid, offset }', doc: "one side of a copy: a grant reference (ref) of domid's, or a frame (gmfn) of the caller's, and a byte offset" },
};

/** The Xen name of an op from its table entry: EVTCHNOP_send, GNTTABOP_copy, VCPUOP_..., XEN_DOMCTL_..., SCHEDOP_shutdown. */
export function xenOpName(op: OpSpec): string {
  switch (op.hypercall) {
    case 'event_channel_op':
      return `EVTCHNOP_${op.name}`;
    case 'grant_table_op':
      return `GNTTABOP_${op.name.replace(/^gnttab_/, '')}`;
    case 'vcpu_op':
      return `VCPUOP_${op.name}`;
    case 'domctl':
      return `XEN_DOMCTL_${op.name}`;
    case 'sched_op':
      return `SCHEDOP_${op.name.replace(/^sched_/, '')}`;
  }
}

/** The op table of each hypervisor (from the core, not repeated here). */
export function opsOf(xen: XenMode): ReadonlyMap<string, OpSpec> {
  return opsFor(xen);
}

/** What each result field of a step means (ops' `out` fields and the other steps' results). */
export const RESULT_DOCS: Readonly<Record<string, string>> = {
  ret: "the return value: 0, or a negated errno such as -EINVAL (grant ops return 0 and report `status`)",
  port: 'the new port in the caller',
  local_port: 'the new local port, connected to <remote_dom, remote_port>',
  status: 'EVTCHNOP_status: the state (closed, unbound, interdomain, pirq, virq, ipi); grant ops: a GNTST_* name',
  vcpu: 'the vCPU the port notifies',
  u: "the state's details: { unbound: { dom } }, { interdomain: { dom, port } }, { pirq }, { virq }",
  link_bits: 'EVTCHN_FIFO_LINK_BITS: the width of the LINK field of a FIFO event word (17)',
  handle: 'the handle of the new mapping, for gnttab_unmap_grant_ref',
  dev_bus_addr: 'the bus address of a device mapping (GNTMAP_device_map), else 0',
  frame_list: "the grant table's frames",
  nr_frames: 'frames the grant table has now',
  max_nr_frames: 'frames it may grow to (gnttab_max_frames)',
  port1: 'the port in dom1 (allocated when given as 0)',
  port2: 'the port in dom2 (allocated when given as 0)',
  id: "the CMSG_SHUTDOWN request's message id",
  size: 'entries in the ring (__RING_SIZE: the largest power of two that fits the page)',
  produced: 'entries produced privately (req_prod_pvt or rsp_prod_pvt advanced)',
  notify: 'RING_PUSH_*_AND_CHECK_NOTIFY: the other end must be notified',
  consumed: 'entries consumed',
  work: 'RING_FINAL_CHECK_FOR_*: more work is waiting',
  filled: 'fill_ring on a console: the bytes the driver put in the ring',
  messages: 'fill_ring on a Xen 2.0 console: the CMSG_CONSOLE messages the driver put on the tx ring',
  ports: "stall: dom0's ports whose notifications the backend ignores",
  waited: 'until: how long it waited, in ns of virtual time',
  line: 'until a console line: the line that matched',
};

// ---- fields ----

/** The kind of value a key takes. */
export type Kind =
  /** Text; non-empty unless `empty`. `reserved`: names it may not be. */
  | { readonly t: 'text'; readonly empty?: boolean; readonly pattern?: string; readonly reserved?: readonly string[] }
  | { readonly t: 'bool' }
  /** A literal whole number (no $name). */
  | { readonly t: 'int'; readonly min: number; readonly max: PerXen<number> }
  /** One of Xen's names (value.xen: only on that hypervisor). */
  | { readonly t: 'choice'; readonly choices: readonly Named[] }
  | { readonly t: 'xen' }
  | { readonly t: 'duration' }
  /** MiB as a number, or text with KiB, MiB or GiB. */
  | { readonly t: 'memory' }
  | { readonly t: 'mac' }
  /** A domain of this scenario: its name, its id, or a $name. */
  | { readonly t: 'domain' }
  /** A number of a kind: a literal, a name of that kind, or a $name. */
  | { readonly t: 'num'; readonly kind: NumKind }
  | { readonly t: 'list'; readonly item: Field }
  /**
   * A mapping of `fields`. `oneOf`: exactly one of these keys must be written;
   * `anyOf`: at least one of them. A field's `requires` names keys it needs beside it.
   */
  | { readonly t: 'map'; readonly fields: Fields; readonly oneOf?: readonly string[]; readonly anyOf?: readonly string[] }
  /** A domain, or a map with `domain` and more (lifecycle steps). */
  | { readonly t: 'domain_or_map'; readonly fields: Fields }
  /** A hypercall's name, from the op table. */
  | { readonly t: 'op' }
  /** A hypercall's arguments, from the op table. */
  | { readonly t: 'args' }
  /** Expected results: a mapping compared key by key. */
  | { readonly t: 'expect' }
  /** One expected value: a number, text, true/false, a list, a mapping or a $name. */
  | { readonly t: 'expected' }
  /** Result fields saved under names. */
  | { readonly t: 'save' }
  /** A check: a port, a vCPU or a console (CHECKS). */
  | { readonly t: 'check' }
  /** How many: a whole number, or a range { min, max } (either may be left out). */
  | { readonly t: 'count' }
  /** A text, or a list of texts (each must hold). */
  | { readonly t: 'texts' }
  /** A mapping from domains of the scenario (names or ids) to `item`. */
  | { readonly t: 'by_domain'; readonly item: Field }
  /** A count for every port together, or a mapping from ports to counts. */
  | { readonly t: 'count_by_port' };

export interface Field {
  /** What the key means, in Xen's words (the editor's hover text). */
  readonly doc: string;
  readonly kind: Kind;
  /** The validator refuses the mapping without it. */
  readonly required?: boolean;
  /** The value used when the key is left out. */
  readonly default?: string | number | boolean;
  /** When the default is not a plain value, what it is. */
  readonly defaultDoc?: string;
  /** Values as a scenario would write them. */
  readonly examples?: readonly unknown[];
  /** Only on this hypervisor; the other refuses the key. */
  readonly xen?: XenMode;
  /** How messages name the value: "expected <what> ...". */
  readonly what?: string;
  /** Keys of the same mapping this one needs beside it. */
  readonly requires?: readonly string[];
}

/** Keys of a mapping in the order messages list them. */
export type Fields = Readonly<Record<string, Field>>;

export function keysOf(fields: Fields, xen?: XenMode): string[] {
  return Object.entries(fields)
    .filter(([, f]) => xen === undefined || f.xen === undefined || f.xen === xen)
    .map(([k]) => k);
}

/** The range of an int field on a hypervisor. */
export function intRange(f: Field, xen: XenMode): [number, number] {
  if (f.kind.t !== 'int') throw new TypeError('not an int field');
  return [f.kind.min, forXen(f.kind.max, xen)];
}

const int = (min: number, max: PerXen<number>): Kind => ({ t: 'int', min, max });
const text: Kind = { t: 'text' };
const bool: Kind = { t: 'bool' };
const num = (kind: NumKind): Kind => ({ t: 'num', kind });

// ---- the document ----

export const BLOCK_FIELDS: Fields = {
  sectors: { doc: 'size of the disk in 512-byte sectors (blkif sector_number units)', kind: int(1, 1 << 20), default: 128, what: 'a number of 512-byte sectors', examples: [128, 2048] },
  content: { doc: 'text written at the start of the image, which lives in dom0\'s memory', kind: text, default: '', defaultDoc: 'an empty (zeroed) disk', what: 'the text at the start of the disk', examples: ['hello'] },
  readonly: { doc: 'a read-only disk (xenstore "mode" r): blkback answers writes with BLKIF_RSP_ERROR', kind: bool, default: false, what: 'true or false' },
};

export const NETWORK_FIELDS: Fields = {
  mac: { doc: "the interface's MAC address (xenstore \"mac\"): unicast; libxl's default uses Xen's OUI 00:16:3e", kind: { t: 'mac' }, defaultDoc: '00:16:3e:00:<domid>:<index>', what: 'a MAC address', examples: ['00:16:3e:00:01:00'] },
};

export const DEVICE_FIELDS: Fields = {
  block: { doc: 'virtual disks xvda, xvdb, ...: blkfront in the guest, blkback in dom0 serving an in-memory image', kind: { t: 'list', item: { doc: 'a virtual disk (vbd)', kind: { t: 'map', fields: BLOCK_FIELDS } } } },
  network: { doc: 'network interfaces vif<domid>.0, ...: netfront in the guest, netback on dom0\'s bridge', kind: { t: 'list', item: { doc: 'a network interface (vif)', kind: { t: 'map', fields: NETWORK_FIELDS } } } },
};

/** The largest vCPU count of a domain on each hypervisor. */
export const MAX_VCPUS: PerXen<number> = { '4': XEN_LEGACY_MAX_VCPUS, '2.0': xen2.MAX_VIRT_CPUS };

export const DOMAIN_FIELDS: Fields = {
  name: { doc: 'the domain\'s name, used to refer to it in steps; the first domain is dom0 (domid 0, privileged, the hardware domain), the rest get ids 1, 2, ... in order', kind: { t: 'text', pattern: DOMAIN_NAME_PATTERN, reserved: Object.keys(DOMID_NAMES) }, required: true, what: 'a domain name', examples: ['dom0', 'guest'] },
  vcpus: { doc: 'virtual CPUs, each with its vcpu_info in shared_info (XEN_LEGACY_MAX_VCPUS: 32; Xen 2.0.0 has one per domain)', kind: int(1, MAX_VCPUS), default: 1, what: 'a number of vCPUs', examples: [2] },
  pirqs: { doc: 'physical IRQs the domain may bind with EVTCHNOP_bind_pirq (irq permission); dom0 may bind all', kind: { t: 'list', item: { doc: 'a PIRQ number', kind: int(0, 0xffff), what: 'a PIRQ number' } }, defaultDoc: 'none', examples: [[5]] },
  memory: { doc: 'guest memory: MiB as a number, or 64MiB, 1GiB, 4096KiB (at least 4MiB, whole pages); gfns 1024 and up are free for the scenario', kind: { t: 'memory' }, default: `${(DEFAULT_MEMORY_PAGES * 4096) / 2 ** 20}MiB`, examples: ['64MiB', '1GiB'] },
  max_evtchn_port: { doc: "the domain's highest event-channel port (max_evtchn_port of XEN_DOMCTL_createdomain, xl's max_event_channels - 1): allocating a port above it fails with -ENOSPC", kind: int(1, 0x7fffffff), defaultDoc: "1023 for a domU, the ABI's limit for dom0", what: 'max_evtchn_port', xen: '4', examples: [1023] },
  cmdline: { doc: "the kernel command line (start_info's cmd_line)", kind: text, default: '', what: 'a command line' },
  kernel: { doc: 'the guest kernel it boots', kind: { t: 'choice', choices: KERNELS }, default: 'default' },
  devices: { doc: "split devices the toolstack in dom0 adds before the guest boots (xenstore front and back directories in XenbusStateInitialising); they connect through the XenbusState handshake: a minios guest's blkfront and netfront drive the frontends, with the default kernel the steps do", kind: { t: 'map', fields: DEVICE_FIELDS }, xen: '4' },
};


// ---- checks ----

const CHECK_DOMAIN: Field = { doc: 'the domain to look at (a name, an id or a $name)', kind: { t: 'domain' }, required: true };

export const PORT_CHECK_FIELDS: Fields = {
  domain: CHECK_DOMAIN,
  port: { doc: 'the event-channel port to look at', kind: num('port'), required: true },
  state: { doc: "the port's state (ECS_*)", kind: { t: 'choice', choices: PORT_STATES } },
  pending: { doc: "its pending bit: evtchn_pending in shared_info (2-level) or EVTCHN_FIFO_PENDING in its event word (FIFO)", kind: bool },
  masked: { doc: 'its mask bit: evtchn_mask (2-level) or EVTCHN_FIFO_MASKED (FIFO)', kind: bool },
  delivered: { doc: "how many times the default kernel's handler ran for it", kind: { t: 'expected' } },
  vcpu: { doc: 'the vCPU it notifies (notify_vcpu_id)', kind: { t: 'expected' } },
  linked: { doc: 'FIFO: EVTCHN_FIFO_LINKED, it is on a queue', kind: bool },
  priority: { doc: 'FIFO: its priority, 0 (highest) to 15 (lowest); 7 by default', kind: { t: 'expected' } },
};

export const VCPU_CHECK_FIELDS: Fields = {
  domain: CHECK_DOMAIN,
  vcpu: { doc: 'the vCPU to look at', kind: num('u32'), required: true },
  upcall_pending: { doc: 'vcpu_info.evtchn_upcall_pending: an upcall is due', kind: bool },
  upcall_mask: { doc: 'vcpu_info.evtchn_upcall_mask: upcalls are blocked', kind: bool },
  pending_sel: { doc: 'the bits set in vcpu_info.evtchn_pending_sel: which words of evtchn_pending have pending ports (2-level)', kind: { t: 'list', item: { doc: 'a set bit', kind: { t: 'expected' } } }, examples: [[0]] },
  ready: { doc: "FIFO: the priorities whose queue has events, the bits of the control block's READY word", kind: { t: 'list', item: { doc: 'a priority with events', kind: { t: 'expected' } } }, examples: [[7]] },
};

export const CONSOLE_CHECK_FIELDS: Fields = {
  domain: CHECK_DOMAIN,
  console: { doc: "text the domain's console output contains (what its console client received; still readable after the domain is gone)", kind: text, required: true, what: 'text the console should contain' },
};

/** gnttab_copy's `source` and `dest` (struct gnttab_copy_ptr). */
export const COPY_SIDE_FIELDS: Fields = {
  ref: { doc: "a grant reference of domid's (with GNTCOPY_source_gref / GNTCOPY_dest_gref in flags)", kind: num('u32') },
  gmfn: { doc: "a frame of the caller's own (domid must be DOMID_SELF)", kind: num('u64') },
  domid: { doc: 'the domain whose grant or frame it is', kind: num('domid'), default: DOMID_SELF, defaultDoc: 'DOMID_SELF' },
  offset: { doc: 'byte offset in the page', kind: num('u16'), default: 0 },
};

/** The three kinds of check, told apart by the key they have (console first, then port, else a vCPU). */
export const CHECKS = { console: CONSOLE_CHECK_FIELDS, port: PORT_CHECK_FIELDS, vcpu: VCPU_CHECK_FIELDS } as const;

// ---- the final expect block ----

export const FINAL_CONSOLE_FIELDS: Fields = {
  contains: { doc: "text the console's output contains, anywhere (a list: each of them)", kind: { t: 'texts' }, examples: ['minios> ', ['Plan 9', 'root is from']] },
  not_contains: { doc: "text the console's output must not contain (a list: none of them)", kind: { t: 'texts' }, examples: ['panic'] },
  matches: { doc: 'a regular expression (JavaScript syntax) that some line of the output matches (a list: each of them matches a line)', kind: { t: 'texts' }, examples: ['^term% $'] },
  lines: { doc: 'how many lines the output has (a line in progress counts): a number, or { min, max }', kind: { t: 'count' }, examples: [12, { min: 3 }] },
};

export const FINAL_COUNTER_FIELDS: Fields = {
  upcalls: { doc: "upcalls Xen injected into the domain's vCPUs (the trace's upcall records)", kind: { t: 'count' }, examples: [3, { min: 1, max: 10 }] },
  hypercalls: { doc: 'hypercalls the domain made, whatever they returned', kind: { t: 'count' } },
  sends: { doc: 'EVTCHNOP_send calls of the domain that returned 0 (notifications it sent)', kind: { t: 'count' } },
  deliveries: { doc: "events the domain's kernel handled: a count for all its ports, or { <port>: count } (ports as numbers or $names)", kind: { t: 'count_by_port' }, examples: [5, { 1: 2 }] },
};

export const FINAL_TRACE_FIELDS: Fields = {
  filter: { doc: 'which trace records: a filter expression (docs/filter.md), e.g. kind==upcall && dom==1', kind: text, required: true, what: 'a trace filter', examples: ['kind==upcall && dom==1', 'op==send && ret==0'] },
  count: { doc: 'how many records it selects: a number, or { min, max }', kind: { t: 'count' }, required: true, examples: [3, { min: 1 }] },
};

export const FINAL_EXPECT_FIELDS: Fields = {
  consoles: { doc: "what each domain's console showed by the end, by domain: contains, not_contains, matches, lines", kind: { t: 'by_domain', item: { doc: "what the domain's console output holds", kind: { t: 'map', fields: FINAL_CONSOLE_FIELDS, anyOf: Object.keys(FINAL_CONSOLE_FIELDS) } } } },
  ports: { doc: 'ports as the steps left them, compared as a check step compares them', kind: { t: 'list', item: { doc: 'a port check: { domain, port, state, pending, masked, delivered, ... }', kind: { t: 'map', fields: PORT_CHECK_FIELDS } } } },
  counters: { doc: 'what the machine counted for each domain over the run, by domain: upcalls, hypercalls, sends, deliveries', kind: { t: 'by_domain', item: { doc: "the domain's counts", kind: { t: 'map', fields: FINAL_COUNTER_FIELDS, anyOf: Object.keys(FINAL_COUNTER_FIELDS) } } } },
  trace: { doc: 'how many trace records of a kind the run made: a list of { filter, count }', kind: { t: 'list', item: { doc: 'records a filter selects, and how many', kind: { t: 'map', fields: FINAL_TRACE_FIELDS } } } },
};

// ---- exercises ----

/** A check's id: a word, unique in the exercise (requires and reports name it). */
export const CHECK_ID_PATTERN = '^[a-z][a-z0-9_-]*$';

/** What each level means, 1 (first steps) to 5 (hard). */
export const EXERCISE_LEVELS: readonly string[] = ['first steps', 'practice', 'investigate', 'build', 'hard'];

const CHECK_DOMAIN_OF = (what: string): Field => ({ doc: `the domain whose ${what} it is (a name or an id)`, kind: { t: 'domain' }, required: true });

/** The assertion a graded check makes: one of these, each the form a check step or the final expect block gives it. */
export const EXERCISE_ASSERTIONS: Fields = {
  port: { doc: 'a port as the steps left it, compared as a check step compares it: { domain, port, state, pending, masked, delivered, vcpu, linked, priority }', kind: { t: 'map', fields: PORT_CHECK_FIELDS } },
  vcpu: { doc: "a vCPU as the steps left it, compared as a check step compares it: { domain, vcpu, upcall_pending, upcall_mask, pending_sel, ready }", kind: { t: 'map', fields: VCPU_CHECK_FIELDS } },
  console: {
    doc: "a domain's console output by the end, as the final expect block's consoles: { domain, contains, not_contains, matches, lines }",
    kind: { t: 'map', fields: { domain: CHECK_DOMAIN_OF('console'), ...FINAL_CONSOLE_FIELDS }, anyOf: Object.keys(FINAL_CONSOLE_FIELDS) },
  },
  counters: {
    doc: "what the machine counted for a domain over the run, as the final expect block's counters: { domain, upcalls, hypercalls, sends, deliveries }",
    kind: { t: 'map', fields: { domain: CHECK_DOMAIN_OF('counts'), ...FINAL_COUNTER_FIELDS }, anyOf: Object.keys(FINAL_COUNTER_FIELDS) },
  },
  trace: { doc: 'how many trace records a filter selects over the run (docs/filter.md): { filter, count }', kind: { t: 'map', fields: FINAL_TRACE_FIELDS } },
};

export const EXERCISE_CHECK_FIELDS: Fields = {
  id: { doc: 'a short name for the check, unique in the exercise (lower case, digits, - and _): requires and reports use it', kind: { t: 'text', pattern: CHECK_ID_PATTERN }, required: true, what: 'a check id', examples: ['timer-bound'] },
  title: { doc: 'what the check assesses, in a line for the student', kind: text, required: true, what: 'the check\'s title', examples: ['VIRQ_TIMER is bound on vCPU 0'] },
  points: { doc: 'what the check is worth: all of it when it succeeds, nothing otherwise', kind: int(1, 1000), default: 1, what: 'a number of points' },
  requires: {
    doc: 'checks listed before this one that must succeed for it to be evaluated; otherwise it is a SKIP',
    kind: { t: 'list', item: { doc: 'the id of an earlier check', kind: { t: 'text', pattern: CHECK_ID_PATTERN }, what: 'a check id' } },
    defaultDoc: 'none',
    examples: [['timer-bound']],
  },
  ...EXERCISE_ASSERTIONS,
};

export const EXERCISE_FIELDS: Fields = {
  title: { doc: "the exercise's title, as the exercise list shows it", kind: text, required: true, what: 'the exercise title', examples: ['Count the timer\'s ticks'] },
  level: { doc: `how hard it is: ${EXERCISE_LEVELS.map((l, i) => `${i + 1} ${l}`).join(', ')}`, kind: int(1, EXERCISE_LEVELS.length), required: true, what: 'a level' },
  goal: { doc: 'what the student is to do and why, written for the student', kind: text, required: true, what: 'the goal' },
  hints: { doc: 'hints shown one at a time, in order: each should teach a step of the way, not give the answer', kind: { t: 'list', item: { doc: 'a hint', kind: text, what: 'a hint' } }, defaultDoc: 'none' },
  kernels: {
    doc: "guests whose kernel the student writes: a TypeScript solution gives each a custom kernel (kernel(name, handlers)); without one, the domain's kernel here runs",
    kind: { t: 'list', item: { doc: 'a guest of this scenario, by name', kind: { t: 'text', pattern: DOMAIN_NAME_PATTERN }, what: 'a domain name' } },
    defaultDoc: 'none',
    examples: [['guest']],
  },
  report: { doc: "the domain whose console ends with the grade's `Test result: <RESULT>` line, as an XTF test kernel prints it", kind: { t: 'domain' }, defaultDoc: 'the first guest (dom0 when there is none)' },
  checks: {
    doc: 'what is graded, and nothing else: each check is one assertion with an id, a title and points, evaluated when the steps are done',
    kind: { t: 'list', item: { doc: 'a graded check: id, title, points, requires, and one assertion (port, vcpu, console, counters or trace)', kind: { t: 'map', fields: EXERCISE_CHECK_FIELDS, oneOf: Object.keys(EXERCISE_ASSERTIONS) } } },
    required: true,
  },
};

export const TOP_FIELDS: Fields = {
  name: { doc: 'the scenario\'s title', kind: text, defaultDoc: 'the file name', what: 'the scenario name' },
  description: { doc: 'what the scenario shows, for a student', kind: text, what: 'a description' },
  xen: { doc: 'which hypervisor\'s rules: "4" (today\'s Xen, the default) or "2.0" (Xen 2.0.0 with xend\'s control interface); it picks the op table, VIRQ names, layouts and kernels', kind: { t: 'xen' }, default: '4' },
  abi: { doc: 'the event ABI the default kernel of every domain uses: 2l (the default) or fifo, which it switches to at boot', kind: { t: 'choice', choices: ABIS }, default: '2l' },
  seed: { doc: 'the PRNG seed (upcall latency jitter); `--seed N` overrides it; the same scenario and seed give the same trace', kind: int(0, 0xffffffff), default: 1, what: 'a seed' },
  domains: { doc: 'the domains, created in order: the first is dom0 (domid 0, privileged), the rest get ids 1, 2, ...', kind: { t: 'list', item: { doc: 'a domain', kind: { t: 'map', fields: DOMAIN_FIELDS } } }, required: true },
  steps: { doc: 'what happens, in order: hypercalls, guest-local actions, checks, `run` to advance virtual time, toolstack operations', kind: { t: 'list', item: { doc: 'a step', kind: { t: 'map', fields: {} } } }, defaultDoc: 'none' },
  expect: { doc: 'what must hold when the steps are done: consoles, ports, counters and the trace; each failure is reported where it is written', kind: { t: 'map', fields: FINAL_EXPECT_FIELDS, anyOf: Object.keys(FINAL_EXPECT_FIELDS) } },
  exercise: { doc: 'makes the scenario a graded exercise (docs/exercises.md): a title, a level, a goal, hints, and the checks worth points; a `solution` step marks where the student\'s steps go', kind: { t: 'map', fields: EXERCISE_FIELDS } },
};

// ---- waiting: until, and when a step happens ----

/** A domain's lifecycle as an `until` waits for it (struct domain's is_paused_by_controller, is_shut_down, is_dying). */
export const DOMAIN_STATES: readonly Named[] = [
  { name: 'running', doc: 'its vCPUs run: not paused, shut down or dying' },
  { name: 'paused', doc: 'paused by the toolstack (XEN_DOMCTL_pausedomain): its vCPUs do not run until unpaused' },
  { name: 'shutdown', doc: 'it has shut down (SCHEDOP_shutdown, or the toolstack): the reason is recorded and dom0 hears of it through VIRQ_DOM_EXC; a domain destroyed after shutting down counts' },
  { name: 'dying', doc: 'domain_kill has begun (its ports are being closed), or it is gone' },
  { name: 'destroyed', doc: 'it is gone: its ports closed (peers back to unbound), its id free' },
];

const XENBUS_STATE_DOCS: readonly string[] = [
  'unknown: no state written yet',
  'the toolstack created the directory; the driver is starting',
  'the backend is ready for the frontend (it published its features)',
  'the frontend published its ring-ref and event-channel',
  'both ends are connected: requests flow',
  'an end is going away',
  'an end has closed',
  'reconfiguring',
  'reconfigured',
];

/** XenbusState values (io/xenbus.h), by their short name and by XenbusState<name>. */
export const XENBUS_STATES: readonly Named[] = XENBUS_STATE_NAMES.flatMap((long, value) => [
  { name: long.replace(/^XenbusState/, ''), value, doc: `XenbusState${long.replace(/^XenbusState/, '')} (${value}): ${XENBUS_STATE_DOCS[value] ?? ''}` },
  { name: long, value, doc: `${long} (${value}): ${XENBUS_STATE_DOCS[value] ?? ''}` },
]);

/** Split devices an `until` can name by type and index. */
export const XENBUS_DEVICES: readonly Named[] = [
  { name: 'vbd', doc: 'a virtual block device: xvda is index 0 (devid 51712), xvdb 1, ...' },
  { name: 'vif', doc: 'a virtual network interface: vif<domid>.0 is index 0' },
];

export const XENBUS_ENDS: readonly Named[] = [
  { name: 'frontend', doc: "the guest's end: /local/domain/<guest>/device/<type>/<devid>/state" },
  { name: 'backend', doc: "dom0's end: /local/domain/0/backend/<type>/<guest>/<devid>/state" },
];

export const UNTIL_CONSOLE_FIELDS: Fields = {
  domain: { doc: 'the domain whose console to watch (dom0: its shell)', kind: { t: 'domain' }, required: true },
  matches: { doc: 'a regular expression (JavaScript syntax) that a line of new output must match; a line is what lies between two line ends, without them, and the line in progress counts as it grows', kind: text, what: 'a regular expression', examples: ['^minios> $', 'root is from'] },
  contains: { doc: 'text that a line of new output must contain (one line: no line end in it)', kind: text, what: 'the text to wait for', examples: ['root is from'] },
};

const UNTIL_PORT_KEYS = ['state', 'pending', 'masked', 'delivered', 'vcpu', 'linked', 'priority'];

export const UNTIL_XENBUS_FIELDS: Fields = {
  domain: { doc: 'the guest whose device it is (its frontend domain)', kind: { t: 'domain' } },
  device: { doc: 'the device type: vbd (a disk) or vif (a network interface)', kind: { t: 'choice', choices: XENBUS_DEVICES }, requires: ['domain'] },
  index: { doc: 'which device of that type: 0 for xvda or vif<domid>.0, 1 for the next, ...', kind: int(0, 15), default: 0, what: 'a device index' },
  end: { doc: "whose state to watch: the frontend's (in the guest's device/ directory) or the backend's (in dom0's backend/ directory)", kind: { t: 'choice', choices: XENBUS_ENDS }, default: 'frontend' },
  path: { doc: 'or a xenstore path: a device directory or its state node, e.g. /local/domain/1/device/vbd/51712', kind: { t: 'text', pattern: '^/' }, what: 'a xenstore path', examples: ['/local/domain/1/device/vbd/51712'] },
  state: { doc: 'the XenbusState to reach (io/xenbus.h): Initialising, InitWait, Initialised, Connected, Closing, Closed, ...', kind: { t: 'choice', choices: XENBUS_STATES }, required: true },
};

export const UNTIL_FIELDS: Fields = {
  console: { doc: "a line of the domain's console output, new since the step began, matches a pattern or contains a text", kind: { t: 'map', fields: UNTIL_CONSOLE_FIELDS, oneOf: ['matches', 'contains'] } },
  port: {
    doc: 'a port reaches a state: the keys written are compared as a check step compares them (pending: true, masked: false, state: interdomain, delivered: 3, ...)',
    kind: { t: 'map', fields: Object.fromEntries(Object.entries(PORT_CHECK_FIELDS).filter(([k]) => k === 'domain' || k === 'port' || UNTIL_PORT_KEYS.includes(k))), anyOf: UNTIL_PORT_KEYS },
  },
  xenbus: { doc: "a split device's XenbusState is reached, in the xenstore state node of its frontend or backend", kind: { t: 'map', fields: UNTIL_XENBUS_FIELDS, oneOf: ['device', 'path'] }, xen: '4' },
  domain: { doc: 'a domain reaches a lifecycle state (with state)', kind: { t: 'domain' }, requires: ['state'] },
  state: { doc: 'the lifecycle state the domain reaches: running, paused, shutdown, dying or destroyed', kind: { t: 'choice', choices: DOMAIN_STATES }, requires: ['domain'] },
  timeout: { doc: 'the longest to wait, in virtual time; the step fails if the condition has not held by then, saying what was seen instead', kind: { t: 'duration' }, default: '1s', examples: ['50ms'] },
};

/** The conditions an `until` waits for, one per step. */
export const UNTIL_CONDITIONS: readonly string[] = ['console', 'port', 'xenbus', 'domain'];

// ---- faults ----

/** dom0's backends a stall can hold up, on each Xen. */
export const BACKENDS: readonly Named[] = [
  { name: 'console', doc: "xenconsoled, which copies the guest's console ring out (and typed input in)", xen: '4' },
  { name: 'xenstore', doc: "xenstored, which answers the guest's requests on its store ring", xen: '4' },
  { name: 'block', doc: "blkback, which serves the guest's vbd requests from its blkif ring", xen: '4' },
  { name: 'network', doc: "netback, which moves the guest's frames between its netif rings and the bridge", xen: '4' },
  { name: 'xend', doc: "xend, which serves the guest's control channel (console, shutdown and every other CMSG)", xen: '2.0' },
];

/** The pattern a console fill writes when the scenario gives none: lines of '#'. */
export const FILL_PATTERN = `${'#'.repeat(63)}\n`;

const FAULT_PORT = { doc: 'the receiving end: the port whose pending bit Xen would set', kind: num('port'), required: true } as const;
const FAULT_DOMAIN = { doc: 'the domain that owns the port (the one notified)', kind: { t: 'domain' }, required: true } as const;
const FAULT_COUNT: Field = { doc: 'how many notifications in a row it hits', kind: int(1, 1_000_000), default: 1, what: 'a number of notifications' };

export const FAULT_FIELDS: Fields = {
  drop_notify: {
    doc: 'the next notifications (EVTCHNOP_send, a VIRQ, a PIRQ) to a port are lost: Xen never sets the pending bit, as if the notify had not been made',
    kind: { t: 'map', fields: { domain: FAULT_DOMAIN, port: FAULT_PORT, count: FAULT_COUNT } },
  },
  delay_notify: {
    doc: 'the next notifications to a port are late: Xen sets the pending bit `by` later, as if the notify had been held up on the way',
    kind: { t: 'map', fields: { domain: FAULT_DOMAIN, port: FAULT_PORT, by: { doc: 'how late, in virtual time', kind: { t: 'duration' }, required: true, examples: ['1ms'] }, count: FAULT_COUNT } },
  },
  fill_ring: {
    doc: "a ring is made full: a scenario ring's frontend produces requests until RING_FULL and pushes them, or a guest's console driver writes until its console ring (today: out[] of the console page; Xen 2.0: the control interface's tx ring) is full",
    kind: {
      t: 'map',
      oneOf: ['ring', 'console'],
      fields: {
        ring: { doc: 'a ring of this scenario (ring_init): its frontend fills every free slot with requests, then RING_PUSH_REQUESTS_AND_CHECK_NOTIFY', kind: text, what: 'a ring name', examples: ['r'] },
        notify_port: { doc: 'with ring: the port to send on when the push says the backend must be notified', kind: num('port'), requires: ['ring'] },
        console: { doc: "a guest whose console driver writes until its ring is full (kernel: minios today, kernel: plan9 on Xen 2.0); what it writes after waits in the driver until the backend makes room", kind: { t: 'domain' }, examples: ['guest'] },
        text: { doc: 'with console: the bytes written over and over', kind: text, requires: ['console'], defaultDoc: 'lines of #', what: 'the text to fill with' },
      },
    },
  },
  stall: {
    doc: "a backend in dom0 stops serving a guest for a while, as a backend process that is not scheduled: it takes the guest's notifications and ignores them; when the time is up it runs and finds the work waiting on its rings",
    kind: {
      t: 'map',
      fields: {
        domain: { doc: 'the guest whose backend stalls', kind: { t: 'domain' }, required: true },
        backend: { doc: 'which backend: console, xenstore, block or network (today), xend (Xen 2.0)', kind: { t: 'choice', choices: BACKENDS }, required: true },
        for: { doc: 'how long, in virtual time', kind: { t: 'duration' }, required: true, examples: ['10ms'] },
      },
    },
  },
};

/** The kinds of fault, one per fault step. */
export const FAULT_KINDS: readonly string[] = Object.keys(FAULT_FIELDS);

/** Keys any step may carry: when it happens, and how many times. */
export const TIMING_FIELDS: Fields = {
  at: { doc: 'the virtual time to do the step at (from the start of the run): the clock runs on to it first, delivering every event due; an `at` already past is an error', kind: { t: 'duration' }, examples: ['5ms'] },
  repeat: { doc: 'do the step this many times; each repetition has its own result (a save keeps the last value)', kind: int(1, 1_000_000), what: 'a number of repetitions', examples: [3] },
  every: { doc: 'with repeat: the virtual time between the starts of two repetitions (the clock runs on, delivering events, between them)', kind: { t: 'duration' }, requires: ['repeat'], examples: ['1ms'] },
};

// ---- steps ----

export interface Snippet {
  readonly label: string;
  readonly body: Readonly<Record<string, unknown>>;
}

export type StepGroup = 'hypercall' | 'check' | 'run' | 'lifecycle' | 'local' | 'raise' | 'type' | 'ring' | 'fault' | 'solution';

export interface StepSpec {
  /** The key that says what the step does. */
  readonly action: string;
  readonly group: StepGroup;
  readonly doc: string;
  /** Every key the step may have, its action among them, in the order messages list them. */
  readonly keys: Fields;
  /** Result fields besides `ret`, for expect and save (hypercalls: the op's). */
  readonly results?: PerXen<readonly string[]>;
  /** Only on this hypervisor. */
  readonly xen?: XenMode;
  /** Ring steps: the ring.h action. */
  readonly ring?: RingAction;
  /** An editor snippet (${n:default} placeholders; '^' inserts the value as it is, not as text). */
  readonly snippet?: PerXen<Snippet>;
}

const AS: Field = { doc: 'the domain that does it: a domain of this scenario by name or id, or a $name', kind: { t: 'domain' }, required: true, examples: ['guest', 0] };
const EXPECT: Field = { doc: 'expected results: only the keys written are compared, at any depth; `ret` as 0, a number or an errno such as -EINVAL', kind: { t: 'expect' }, examples: [{ ret: 0 }, { ret: '-EINVAL' }] };
const SAVE: Field = { doc: 'keeps result fields under names for later steps: { <field>: <name> }, used later as $name (a dotted field such as u.interdomain.port reaches inside)', kind: { t: 'save' }, examples: [{ port: 'gport' }] };

const ringRef: Field = { doc: "the ring's name in this scenario (one frontend and one backend share it)", kind: text, required: true, what: 'a ring name', examples: ['r'] };
const ringKeys = (action: string, fields: Fields, doc: string): Fields => ({
  as: AS,
  [action]: { doc, kind: { t: 'map', fields: { ring: ringRef, ...fields } }, required: true },
  expect: EXPECT,
  save: SAVE,
});
const ENTRY_SIZE: Field = { doc: 'bytes per ring entry (the request/response union of the protocol)', kind: num('u64'), default: 64 };

const STEP_LIST: StepSpec[] = [
  {
    action: 'op', group: 'hypercall', doc: 'a hypercall made by domain `as` from vCPU `vcpu`',
    keys: {
      as: AS,
      vcpu: { doc: 'the vCPU making the hypercall', kind: int(0, XEN_LEGACY_MAX_VCPUS - 1), default: 0, what: 'the calling vCPU' },
      op: { doc: "the hypercall: EVTCHNOP_* without its prefix (alloc_unbound, send, ...), grant ops as gnttab_<name>, and a few others", kind: { t: 'op' }, required: true },
      args: { doc: "the op's arguments, under Xen's field names", kind: { t: 'args' } },
      expect: EXPECT,
      save: SAVE,
    },
    snippet: {
      '4': { label: 'hypercall', body: { as: '${1:guest}', op: '${2:alloc_unbound}', args: { remote_dom: '${3:dom0}' }, expect: { ret: 0 }, save: { port: '${4:port}' } } },
      '2.0': { label: 'hypercall', body: { as: '${1:guest}', op: '${2:alloc_unbound}', args: { dom: '${3:dom0}' }, expect: { ret: 0 }, save: { port: '${4:port}' } } },
    },
  },
  {
    action: 'check', group: 'check', doc: "compares a port's, a vCPU's or a console's state with what is written (only the keys written)",
    keys: { check: { doc: 'what to look at and what to find: { domain, port, ... }, { domain, vcpu, ... } or { domain, console }', kind: { t: 'check' }, required: true } },
    snippet: { label: 'check a port', body: { check: { domain: '${1:guest}', port: '^${2:1}', pending: '^${3:true}' } } },
  },
  {
    action: 'run', group: 'run', doc: 'advances virtual time; due upcalls and timer ticks happen',
    keys: { run: { doc: 'how long: 250ns, 10us, 1ms, 2s, or a number of ns', kind: { t: 'duration' }, required: true, examples: ['1ms', '10us'] } },
    snippet: { label: 'run', body: { run: '${1:1ms}' } },
  },
  {
    action: 'fault', group: 'fault', doc: 'injects a fault, for labs about races and back-pressure: a notification lost or late, a ring made full, a backend stalled',
    keys: {
      fault: { doc: 'the fault: { drop_notify: {...} }, { delay_notify: {...} }, { fill_ring: {...} } or { stall: {...} }', kind: { t: 'map', fields: FAULT_FIELDS, oneOf: FAULT_KINDS }, required: true },
      expect: EXPECT,
    },
    results: ['produced', 'notify', 'filled', 'messages', 'ports'],
    snippet: { label: 'fault: drop a notification', body: { fault: { drop_notify: { domain: '${1:guest}', port: '^${2:1}' } } } },
  },
  {
    action: 'until', group: 'run', doc: 'advances virtual time until a condition holds (a console line, a port state, a XenbusState, a lifecycle state), event by event; fails at the timeout, saying what was seen instead',
    keys: { until: { doc: 'the condition: { console: {...} }, { port: {...} }, { xenbus: {...} } or { domain, state }, and a timeout', kind: { t: 'map', fields: UNTIL_FIELDS, oneOf: UNTIL_CONDITIONS }, required: true } },
    results: ['waited', 'line'],
    snippet: { label: 'until a console line', body: { until: { console: { domain: '${1:guest}', contains: '${2:text}' }, timeout: '${3:100ms}' } } },
  },
  ...(['pause', 'unpause', 'shutdown', 'destroy'] as const).map((action): StepSpec => {
    const what = {
      pause: "the toolstack pauses the domain (domain_pause_by_systemcontroller): its vCPUs stop; upcalls wait",
      unpause: 'the toolstack unpauses the domain; due upcalls happen',
      shutdown: 'the toolstack shuts the domain down (today: SHUTDOWN_* recorded and VIRQ_DOM_EXC raised; Xen 2.0: xend asks the guest with CMSG_SHUTDOWN)',
      destroy: 'the toolstack destroys the domain: its ports close (peers go back to unbound) and it is gone',
    }[action];
    const fields: Fields = {
      domain: { doc: 'the domain', kind: { t: 'domain' }, required: true },
      ...(action === 'shutdown' ? { reason: { doc: 'why: poweroff (the default), reboot, suspend, ... (on Xen 2.0 xend\'s: poweroff, reboot, suspend, halt)', kind: { t: 'choice', choices: LIFECYCLE_REASON_NAMES }, default: 'poweroff' } } : {}),
    };
    return {
      action, group: 'lifecycle', doc: what,
      keys: {
        [action]: { doc: `the domain, or { domain${action === 'shutdown' ? ', reason' : ''} }`, kind: { t: 'domain_or_map', fields }, required: true },
        expect: EXPECT,
        ...(action === 'shutdown' ? { save: { ...SAVE, xen: '2.0' as const } } : {}),
      },
      results: action === 'shutdown' ? { '4': [], '2.0': ['id'] } : [],
    };
  }),
  {
    action: 'mask', group: 'local', doc: "the guest sets a port's mask bit in its own shared page (no hypercall)",
    keys: { as: AS, mask: { doc: 'the port whose mask bit the guest sets', kind: num('port'), required: true }, expect: EXPECT },
  },
  {
    action: 'clear_mask', group: 'local', doc: "the guest clears a port's mask bit directly (no hypercall: clearing re-raises nothing, unlike EVTCHNOP_unmask)",
    keys: { as: AS, clear_mask: { doc: 'the port whose mask bit the guest clears', kind: num('port'), required: true }, expect: EXPECT },
  },
  {
    action: 'upcall_mask', group: 'local', doc: "the guest writes a vCPU's evtchn_upcall_mask: blocks or unblocks upcalls; unblocking with an upcall pending forces it",
    keys: {
      as: AS,
      upcall_mask: {
        doc: 'which vCPU, and the new mask', required: true,
        kind: { t: 'map', fields: { vcpu: { doc: 'the vCPU', kind: num('u32'), default: 0 }, value: { doc: 'true blocks upcalls, false unblocks them', kind: bool, required: true, what: 'value' } } },
      },
      expect: EXPECT,
    },
  },
  {
    action: 'grant_access', group: 'local', xen: '4', doc: 'the guest writes a v1 grant entry { flags, domid, frame } in its own grant table (gnttab_grant_foreign_access)',
    keys: {
      as: AS,
      grant_access: {
        doc: 'the entry', required: true,
        kind: {
          t: 'map', fields: {
            ref: { doc: 'the grant reference: the entry\'s index (refs 0..7 are reserved; guests start at 8)', kind: num('u32'), required: true },
            domid: { doc: 'the domain allowed to map or copy the frame', kind: num('domid'), required: true },
            frame: { doc: 'the granted frame (a gfn of the granting guest)', kind: num('u64'), required: true },
            readonly: { doc: 'GTF_readonly: the grantee may only read', kind: bool, default: false, what: 'readonly' },
          },
        },
      },
      expect: EXPECT,
    },
  },
  {
    action: 'end_access', group: 'local', xen: '4', doc: 'the guest revokes a grant (gnttab_end_foreign_access_ref): ret -EINVAL while it is mapped (GTF_reading/GTF_writing)',
    keys: { as: AS, end_access: { doc: 'the grant reference to revoke', kind: num('u32'), required: true }, expect: EXPECT },
  },
  {
    action: 'virq', group: 'raise', doc: 'Xen raises a VIRQ in a domain (send_guest_vcpu_virq / send_global_virq)',
    keys: {
      virq: {
        doc: 'which VIRQ, where', required: true,
        kind: { t: 'map', fields: { domain: { doc: 'the domain', kind: { t: 'domain' }, required: true }, virq: { doc: 'the VIRQ, by number or name', kind: num('virq'), required: true }, vcpu: { doc: 'the vCPU (for per-vCPU VIRQs)', kind: num('u32'), default: 0 } } },
      },
    },
  },
  {
    action: 'pirq', group: 'raise', doc: 'a physical IRQ fires for a domain (send_guest_pirq)',
    keys: {
      pirq: {
        doc: 'which PIRQ, for which domain', required: true,
        kind: { t: 'map', fields: { domain: { doc: 'the domain', kind: { t: 'domain' }, required: true }, pirq: { doc: 'the physical IRQ', kind: num('u32'), required: true } } },
      },
    },
  },
  {
    action: 'type', group: 'type', doc: "text typed at a domain's console: dom0's shell, a Mini-OS guest through xenconsoled and the console ring, a Xen 2.0 guest through xend",
    keys: {
      type: {
        doc: 'where and what', required: true,
        kind: { t: 'map', fields: { domain: { doc: 'the domain whose console it is', kind: { t: 'domain' }, required: true }, text: { doc: 'the text (\\r for Enter)', kind: { t: 'text', empty: true }, required: true, what: 'the text typed', examples: ['xl list\r'] } } },
      },
    },
  },
  {
    action: 'ring_init', group: 'ring', ring: 'init', xen: '4', results: ['size'], doc: 'frontend `as` initialises a shared ring (SHARED_RING_INIT, FRONT_RING_INIT) on its frame gfn',
    keys: ringKeys('ring_init', { gfn: { doc: "the frontend's frame for the shared ring (gfns 1024 and up are free)", kind: num('u64'), required: true }, entry_size: ENTRY_SIZE }, 'the ring and its page'),
  },
  {
    action: 'ring_attach', group: 'ring', ring: 'attach', xen: '4', results: ['size'], doc: 'backend `as` attaches to the ring through its grant mapping (BACK_RING_INIT)',
    keys: ringKeys('ring_attach', { handle: { doc: 'the handle gnttab_map_grant_ref returned for the ring page', kind: num('u64'), required: true }, entry_size: ENTRY_SIZE }, 'the ring and the mapping'),
  },
  {
    action: 'ring_request', group: 'ring', ring: 'request', xen: '4', results: ['produced'], doc: 'the frontend produces requests privately (req_prod_pvt), as many as fit',
    keys: ringKeys('ring_request', { count: { doc: 'how many requests', kind: num('u64'), default: 1 } }, 'the ring and how many'),
  },
  {
    action: 'ring_push', group: 'ring', ring: 'push', xen: '4', results: ['notify'], doc: 'RING_PUSH_REQUESTS_AND_CHECK_NOTIFY (frontend) or RING_PUSH_RESPONSES_AND_CHECK_NOTIFY (backend); sends on notify_port when told to',
    keys: ringKeys('ring_push', { notify_port: { doc: 'the event-channel port to send on when the other end must be notified', kind: num('port') } }, 'the ring and the port to notify'),
  },
  {
    action: 'ring_consume', group: 'ring', ring: 'consume', xen: '4', results: ['consumed'], doc: 'consumes requests (backend) or responses (frontend)',
    keys: ringKeys('ring_consume', { max: { doc: 'at most this many', kind: num('u64'), defaultDoc: 'all there are' } }, 'the ring and how many at most'),
  },
  {
    action: 'ring_respond', group: 'ring', ring: 'respond', xen: '4', results: ['produced'], doc: 'the backend produces responses privately (rsp_prod_pvt)',
    keys: ringKeys('ring_respond', { count: { doc: 'how many responses', kind: num('u64'), default: 1 } }, 'the ring and how many'),
  },
  {
    action: 'ring_final_check', group: 'ring', ring: 'final_check', xen: '4', results: ['work'], doc: 'RING_FINAL_CHECK_FOR_REQUESTS (backend) or _RESPONSES (frontend): re-arms the event and says whether more work came in',
    keys: ringKeys('ring_final_check', {}, 'the ring'),
  },
  {
    action: 'solution', group: 'solution', doc: "an exercise's placeholder: the student's steps go here when the exercise is graded (xenlab check --solution FILE); without a solution it does nothing",
    keys: {
      solution: { doc: 'what the steps that go here should do, in a sentence for the student', kind: text, required: true, what: 'what the solution steps should do', examples: ['bind VIRQ_TIMER on vCPU 0 and save its port as timer'] },
      saves: {
        doc: '$names the student\'s steps must save (save: { <field>: name }) for the steps and checks after them',
        kind: { t: 'list', item: { doc: 'a name the solution saves', kind: { t: 'text', pattern: SAVE_NAME_PATTERN }, what: 'a name' } },
        defaultDoc: 'none',
        examples: [['timer']],
      },
    },
  },
];

/** Every kind of step by its action key, in the order messages list them; any step may say when it happens (TIMING_FIELDS). */
export const STEPS: ReadonlyMap<string, StepSpec> = new Map(STEP_LIST.map((s) => [s.action, s.group === 'solution' ? s : { ...s, keys: { ...s.keys, ...TIMING_FIELDS } }]));

/** Every action key. */
export const STEP_ACTIONS: readonly string[] = STEP_LIST.map((s) => s.action);

/** Keys a step may carry besides its action. */
export const STEP_COMMON: readonly string[] = [...new Set([...STEPS.values()].flatMap((s) => Object.keys(s.keys)).filter((k) => !STEPS.has(k)))];

export function actionsOf(group: StepGroup): string[] {
  return STEP_LIST.filter((s) => s.group === group).map((s) => s.action);
}

/** A field that takes a duration and has a duration as default (its default in ns). */
export function durationDefault(f: Field): number {
  const d = f.default;
  const m = typeof d === 'string' ? new RegExp(DURATION_PATTERN).exec(d) : null;
  if (m === null) throw new TypeError('no duration default');
  return Math.round(Number(m[1]) * DURATION_UNITS[m[2]!]!);
}

/** The result fields of a non-hypercall step on a hypervisor, `ret` first. */
export function stepResults(step: StepSpec, xen: XenMode): string[] {
  return ['ret', ...(step.results === undefined ? [] : forXen(step.results, xen))];
}

/** The value field of a step's action key. */
export function actionField(step: StepSpec): Field {
  return step.keys[step.action]!;
}

/** The item field of a list-valued field. */
export function itemOf(f: Field): Field {
  if (f.kind.t === 'list') return f.kind.item;
  throw new TypeError('not a list field');
}

/** The fields of a map-valued field. */
export function fieldsOf(f: Field): Fields {
  if (f.kind.t === 'map' || f.kind.t === 'domain_or_map') return f.kind.fields;
  throw new TypeError('not a map field');
}

/** Expect keys whose text values are read as names of a kind (at any depth of an expect tree). */
export const EXPECT_KEY_KINDS: ReadonlyMap<string, 'errno' | 'gntst' | 'domid' | 'virq'> = new Map([
  ['ret', 'errno'],
  ['status', 'gntst'],
  ['dom', 'domid'],
  ['domid', 'domid'],
  ['remote_dom', 'domid'],
  ['virq', 'virq'],
]);
