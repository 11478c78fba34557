/**
 * The hypercall surface by name: every op a scenario or a guest can call,
 * with Xen's argument and result field names. One table serves the machine
 * (dispatch), the trace (names) and the scenario checker (known ops and keys).
 */
import { DOMID_SELF } from '../abi/domid.js';
import { EINVAL, ENOENT } from '../abi/errno.js';
import { EVTCHNOP } from '../abi/evtchn.js';
import { GNTST_NAMES, GNTTABOP } from '../abi/grant.js';
import { registerHypercallOp, TK } from '../sim/trace.js';
import type { Domain } from './domain.js';
import * as evtchn from './event_channel.js';
import * as gnttab from './grant_table.js';
import type { Hypervisor } from './hypervisor.js';

/** How an argument is read: a domain, a VIRQ (number or name), a number, a shutdown reason (code or name), or a nested struct. */
export type ArgKind = 'domid' | 'virq' | 'u32' | 'u64' | 'u16' | 'ns' | 'gnttab_flags' | 'copy_side' | 'shutdown_reason';

export interface ArgSpec {
  readonly kind: ArgKind;
  /** Value when the key is left out; required when absent. */
  readonly default?: number;
  readonly doc: string;
}

export interface HypercallResult {
  /** The hypercall's return value: 0, or a negated errno. */
  ret: number;
  /** Result fields, under Xen's names. */
  out?: Record<string, unknown>;
}

/** Every argument field name the ops use, as in Xen's structs. */
export type ArgName =
  | 'dom' | 'remote_dom' | 'remote_port' | 'virq' | 'vcpu' | 'pirq' | 'flags' | 'port'
  | 'control_gfn' | 'offset' | 'array_gfn' | 'priority' | 'host_addr' | 'ref' | 'handle'
  | 'dev_bus_addr' | 'nr_frames' | 'len' | 'period_ns' | 'domid'
  // Xen 2.0.0's structs (hypercall_xen2.ts)
  | 'dom1' | 'dom2' | 'port1' | 'port2' | 'local_port' | 'reason';

/** Arguments after the scenario resolved names and filled defaults. */
export type ResolvedArgs = Record<ArgName, number> & { source: CopySideArg; dest: CopySideArg };

export interface OpSpec {
  readonly name: string;
  readonly code: number;
  readonly hypercall: 'event_channel_op' | 'grant_table_op' | 'vcpu_op' | 'domctl' | 'sched_op';
  readonly args: Readonly<Partial<Record<ArgName | 'source' | 'dest', ArgSpec>>>;
  /** Result field names, for documentation and completion. */
  readonly out: readonly string[];
  readonly doc: string;
  run(hv: Hypervisor, caller: Domain, a: ResolvedArgs): HypercallResult;
}

/** gnttab_copy source/dest after the scenario resolved it. */
export interface CopySideArg {
  ref?: number;
  gmfn?: number;
  domid: number;
  offset: number;
}

const port = { kind: 'u32', doc: 'event-channel port' } as const;
const vcpu0 = { kind: 'u32', default: 0, doc: 'vCPU number' } as const;
const self = { kind: 'domid', default: DOMID_SELF, doc: 'domain (DOMID_SELF = the caller)' } as const;

/** A port-returning op: ret 0 with the port under `field`, or the errno. */
function portResult(r: number, field = 'port'): HypercallResult {
  return r < 0 ? { ret: r } : { ret: 0, out: { [field]: r } };
}

function gntst(status: number): string {
  return GNTST_NAMES[status] ?? String(status);
}

const EVTCHN_OPS: OpSpec[] = [
  {
    name: 'alloc_unbound', code: EVTCHNOP.alloc_unbound, hypercall: 'event_channel_op', out: ['port'],
    doc: 'Allocate a port in `dom` that only `remote_dom` may bind.',
    args: { dom: self, remote_dom: { kind: 'domid', doc: 'the domain allowed to bind (DOMID_SELF = the caller)' } },
    run: (hv, c, a) => portResult(evtchn.allocUnbound(hv, c, a.dom, a.remote_dom)),
  },
  {
    name: 'bind_interdomain', code: EVTCHNOP.bind_interdomain, hypercall: 'event_channel_op', out: ['local_port'],
    doc: "Connect a new local port to `remote_dom`'s unbound `remote_port`.",
    args: { remote_dom: { kind: 'domid', doc: 'domain owning the unbound port' }, remote_port: { kind: 'u32', doc: 'its unbound port' } },
    run: (hv, c, a) => portResult(evtchn.bindInterdomain(hv, c, a.remote_dom, a.remote_port), 'local_port'),
  },
  {
    name: 'bind_virq', code: EVTCHNOP.bind_virq, hypercall: 'event_channel_op', out: ['port'],
    doc: 'Bind a virtual IRQ to a new port on `vcpu`.',
    args: { virq: { kind: 'virq', doc: 'VIRQ number or name (VIRQ_TIMER, ...)' }, vcpu: vcpu0 },
    run: (hv, c, a) => portResult(evtchn.bindVirq(hv, c, a.virq, a.vcpu)),
  },
  {
    name: 'bind_pirq', code: EVTCHNOP.bind_pirq, hypercall: 'event_channel_op', out: ['port'],
    doc: 'Bind a physical IRQ the domain has permission for.',
    args: { pirq: { kind: 'u32', doc: 'physical IRQ' }, flags: { kind: 'u32', default: 0, doc: 'BIND_PIRQ__WILL_SHARE (1)' } },
    run: (hv, c, a) => portResult(evtchn.bindPirq(hv, c, a.pirq)),
  },
  {
    name: 'bind_ipi', code: EVTCHNOP.bind_ipi, hypercall: 'event_channel_op', out: ['port'],
    doc: 'Bind an inter-processor interrupt delivered to `vcpu`.',
    args: { vcpu: vcpu0 },
    run: (hv, c, a) => portResult(evtchn.bindIpi(hv, c, a.vcpu)),
  },
  {
    name: 'close', code: EVTCHNOP.close, hypercall: 'event_channel_op', out: [],
    doc: 'Close a port; an inter-domain peer goes back to unbound.',
    args: { port },
    run: (hv, c, a) => ({ ret: evtchn.close(hv, c, a.port) }),
  },
  {
    name: 'send', code: EVTCHNOP.send, hypercall: 'event_channel_op', out: [],
    doc: 'Notify the other end of a port (or the IPI vCPU).',
    args: { port },
    run: (hv, c, a) => ({ ret: evtchn.send(hv, c, a.port) }),
  },
  {
    name: 'status', code: EVTCHNOP.status, hypercall: 'event_channel_op', out: ['status', 'vcpu', 'u'],
    doc: "Report a port's state.",
    args: { dom: self, port },
    run: (hv, c, a) => {
      const { ret, ...out } = evtchn.status(hv, c, a.dom, a.port);
      return ret < 0 ? { ret } : { ret, out };
    },
  },
  {
    name: 'bind_vcpu', code: EVTCHNOP.bind_vcpu, hypercall: 'event_channel_op', out: [],
    doc: 'Deliver future notifications of a port to another vCPU.',
    args: { port, vcpu: { kind: 'u32', doc: 'vCPU number' } },
    run: (hv, c, a) => ({ ret: evtchn.bindVcpu(hv, c, a.port, a.vcpu) }),
  },
  {
    name: 'unmask', code: EVTCHNOP.unmask, hypercall: 'event_channel_op', out: [],
    doc: 'Clear the mask bit and re-raise the event if it is pending.',
    args: { port },
    run: (_hv, c, a) => ({ ret: evtchn.unmask(c, a.port) }),
  },
  {
    name: 'reset', code: EVTCHNOP.reset, hypercall: 'event_channel_op', out: [],
    doc: "Close all of a domain's ports (and return it to the 2-level ABI).",
    args: { dom: self },
    run: (hv, c, a) => ({ ret: evtchn.reset(hv, c, a.dom, false) }),
  },
  {
    name: 'reset_cont', code: EVTCHNOP.reset_cont, hypercall: 'event_channel_op', out: [],
    doc: 'Continue a preempted reset (Xen-internal; -EBUSY when none is in progress).',
    args: { dom: self },
    run: (hv, c, a) => ({ ret: evtchn.reset(hv, c, a.dom, true) }),
  },
  {
    name: 'init_control', code: EVTCHNOP.init_control, hypercall: 'event_channel_op', out: ['link_bits'],
    doc: "Register a vCPU's FIFO control block; the first call switches the domain to FIFO.",
    args: { control_gfn: { kind: 'u64', doc: 'guest frame holding the control block' }, offset: { kind: 'u32', default: 0, doc: 'byte offset in that frame (8-aligned)' }, vcpu: vcpu0 },
    run: (hv, c, a) => {
      const r = evtchn.initControl(hv, c, a.control_gfn, a.offset, a.vcpu);
      return r.ret < 0 ? { ret: r.ret } : { ret: 0, out: { link_bits: r.link_bits } };
    },
  },
  {
    name: 'expand_array', code: EVTCHNOP.expand_array, hypercall: 'event_channel_op', out: [],
    doc: 'Add a page of 1024 FIFO event words.',
    args: { array_gfn: { kind: 'u64', doc: 'guest frame to add to the event array' } },
    run: (hv, c, a) => ({ ret: evtchn.expandArray(hv, c, a.array_gfn) }),
  },
  {
    name: 'set_priority', code: EVTCHNOP.set_priority, hypercall: 'event_channel_op', out: [],
    doc: "Set a port's FIFO priority (0 highest .. 15 lowest).",
    args: { port, priority: { kind: 'u32', doc: 'EVTCHN_FIFO_PRIORITY 0..15' } },
    run: (hv, c, a) => ({ ret: evtchn.setPriority(hv, c, a.port, a.priority) }),
  },
];

const GNTTAB_OPS: OpSpec[] = [
  {
    name: 'gnttab_map_grant_ref', code: 100 + GNTTABOP.map_grant_ref, hypercall: 'grant_table_op', out: ['status', 'handle', 'dev_bus_addr'],
    doc: "Map another domain's granted frame.",
    args: { host_addr: { kind: 'u64', default: 0, doc: 'where to map it' }, flags: { kind: 'gnttab_flags', default: 2, doc: 'GNTMAP_* flags (default GNTMAP_host_map)' }, ref: { kind: 'u32', doc: 'grant reference' }, dom: { kind: 'domid', doc: 'granting domain' } },
    run: (hv, c, a) => {
      const r = gnttab.mapGrantRef(hv, c, { host_addr: a.host_addr, flags: a.flags, ref: a.ref, dom: a.dom });
      return { ret: 0, out: { status: gntst(r.status), handle: r.handle, dev_bus_addr: r.dev_bus_addr } };
    },
  },
  {
    name: 'gnttab_unmap_grant_ref', code: 100 + GNTTABOP.unmap_grant_ref, hypercall: 'grant_table_op', out: ['status'],
    doc: 'Undo a mapping by its handle.',
    args: { host_addr: { kind: 'u64', default: 0, doc: 'where it was mapped' }, dev_bus_addr: { kind: 'u64', default: 0, doc: 'device address' }, handle: { kind: 'u32', doc: 'handle from map_grant_ref' } },
    run: (hv, c, a) => ({ ret: 0, out: { status: gntst(gnttab.unmapGrantRef(hv, c, a.handle)) } }),
  },
  {
    name: 'gnttab_setup_table', code: 100 + GNTTABOP.setup_table, hypercall: 'grant_table_op', out: ['status', 'frame_list'],
    doc: 'Size a grant table and get its frames.',
    args: { dom: self, nr_frames: { kind: 'u32', default: 1, doc: 'frames wanted' } },
    run: (hv, c, a) => {
      const r = gnttab.setupTable(hv, c, a.dom, a.nr_frames);
      return { ret: 0, out: { status: gntst(r.status), frame_list: r.frame_list } };
    },
  },
  {
    name: 'gnttab_query_size', code: 100 + GNTTABOP.query_size, hypercall: 'grant_table_op', out: ['nr_frames', 'max_nr_frames', 'status'],
    doc: "Report a grant table's size.",
    args: { dom: self },
    run: (hv, c, a) => {
      const r = gnttab.querySize(hv, c, a.dom);
      return { ret: 0, out: { nr_frames: r.nr_frames, max_nr_frames: r.max_nr_frames, status: gntst(r.status) } };
    },
  },
  {
    name: 'gnttab_copy', code: 100 + GNTTABOP.copy, hypercall: 'grant_table_op', out: ['status'],
    doc: 'Copy bytes between frames named by grant reference or by own frame.',
    args: {
      source: { kind: 'copy_side', doc: '{ ref | gmfn, domid, offset }' },
      dest: { kind: 'copy_side', doc: '{ ref | gmfn, domid, offset }' },
      len: { kind: 'u16', doc: 'bytes to copy' },
      flags: { kind: 'gnttab_flags', default: 0, doc: 'GNTCOPY_source_gref (1) | GNTCOPY_dest_gref (2)' },
    },
    run: (hv, c, a) => ({ ret: 0, out: { status: gntst(gnttab.gnttabCopy(hv, c, { source: a.source, dest: a.dest, len: a.len, flags: a.flags })) } }),
  },
];

const OTHER_OPS: OpSpec[] = [
  {
    name: 'set_periodic_timer', code: 200 + 6, hypercall: 'vcpu_op', out: [],
    doc: "VCPUOP_set_periodic_timer: the vCPU's VIRQ_TIMER period (at least 1 ms).",
    args: { vcpu: vcpu0, period_ns: { kind: 'ns', doc: 'period: ns, or a duration such as 10ms' } },
    run: (hv, c, a) => {
      if (c.vcpus[a.vcpu] === undefined) return { ret: -ENOENT };
      if (a.period_ns < 1_000_000) return { ret: -EINVAL };
      hv.setPeriodicTimer(c, a.vcpu, a.period_ns);
      return { ret: 0 };
    },
  },
  {
    name: 'stop_periodic_timer', code: 200 + 7, hypercall: 'vcpu_op', out: [],
    doc: "VCPUOP_stop_periodic_timer: no more VIRQ_TIMER ticks on this vCPU.",
    args: { vcpu: vcpu0 },
    run: (hv, c, a) => {
      if (c.vcpus[a.vcpu] === undefined) return { ret: -ENOENT };
      hv.setPeriodicTimer(c, a.vcpu, 0);
      return { ret: 0 };
    },
  },
  {
    name: 'set_virq_handler', code: 300 + 66, hypercall: 'domctl', out: [],
    doc: 'XEN_DOMCTL_set_virq_handler: make `domid` the handler of a global VIRQ (control domain only).',
    args: { domid: { kind: 'domid', doc: 'the new handler domain' }, virq: { kind: 'virq', doc: 'a global VIRQ' } },
    run: (hv, c, a) => ({ ret: hv.setVirqHandler(c, a.domid, a.virq) }),
  },
];

export const OPS: ReadonlyMap<string, OpSpec> = new Map([...EVTCHN_OPS, ...GNTTAB_OPS, ...OTHER_OPS].map((o) => [o.name, o]));
for (const o of OPS.values()) registerHypercallOp(o.code, o.name);

/** Ops (by code) whose only argument is a port: their trace records need no extra object. */
const PORT_ONLY = new Set<number>([EVTCHNOP.send, EVTCHNOP.close, EVTCHNOP.unmask]);

/** Calls `op` as `caller` (on vCPU `vcpu`) with resolved numeric arguments, and traces it. */
export function hypercall(hv: Hypervisor, caller: Domain, op: OpSpec, args: ResolvedArgs, vcpu = 0): HypercallResult {
  const r = traced(hv, caller, op, args, vcpu);
  caller.kernel?.afterHypercall?.(op.name, args, r.ret, r.out);
  return r;
}

function traced(hv: Hypervisor, caller: Domain, op: OpSpec, args: ResolvedArgs, vcpu: number): HypercallResult {
  const trace = hv.trace;
  if (!trace.on) return op.run(hv, caller, args);
  // The call's record comes before the records of its effects; its result is filled in after.
  const portArg = typeof args.port === 'number' ? args.port : typeof args.local_port === 'number' ? args.local_port : -1;
  trace.emit(TK.hypercall, caller.domid, vcpu, portArg, op.code, 0, 0);
  const chunk = trace.chunk;
  const i = chunk.length - 1;
  const r = op.run(hv, caller, args);
  chunk.x1[i] = r.ret;
  if (!PORT_ONLY.has(op.code)) chunk.extra[i] = r.out === undefined ? { op: op.name, args } : { op: op.name, args, out: r.out };
  return r;
}

/** EVTCHNOP_send without the table: the hot path of the benchmarks and kernels. */
export function sendFast(hv: Hypervisor, caller: Domain, port: number, vcpu = 0): number {
  const trace = hv.trace;
  if (!trace.on) return evtchn.send(hv, caller, port);
  trace.emit(TK.hypercall, caller.domid, vcpu, port, EVTCHNOP.send, 0, 0);
  const chunk = trace.chunk;
  const i = chunk.length - 1;
  const ret = evtchn.send(hv, caller, port);
  chunk.x1[i] = ret;
  return ret;
}
