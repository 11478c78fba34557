/**
 * Shared set-up for the core unit tests: a machine with dom0 and guests,
 * hypercalls by name with the op table's defaults filled in, readers of the
 * shared pages at their real byte offsets, and a snapshot of every piece of
 * event-channel state (to check that a failed op changed nothing).
 */
import { ECS_NAMES } from '../../src/core/abi/evtchn.js';
import { vcpuInfoOffset, SHARED_INFO_EVTCHN_MASK, SHARED_INFO_EVTCHN_PENDING, VCPU_INFO_PENDING_SEL, VCPU_INFO_UPCALL_MASK, VCPU_INFO_UPCALL_PENDING } from '../../src/core/abi/layout.js';
import type { Domain } from '../../src/core/hv/domain.js';
import { hypercall, OPS, type HypercallResult } from '../../src/core/hv/hypercall.js';
import { Hypervisor, type MachineOptions } from '../../src/core/hv/hypervisor.js';
import { defaultKernel, type DefaultKernel, type EventAbi } from '../../src/core/guest/kernel.js';
import { TraceStore, type TraceRecord } from '../../src/core/sim/trace.js';

export interface GuestOpts {
  name?: string;
  vcpus?: number;
  pirqs?: number[];
  maxEvtchnPort?: number;
  abi?: EventAbi;
  /** Build without a kernel: shared_info stays as the domain builder left it. */
  noKernel?: boolean;
}

export function newMachine(opts: MachineOptions = {}): { hv: Hypervisor; dom0: Domain } {
  const hv = new Hypervisor({ seed: 1, ...opts });
  const dom0 = hv.createDomain({ name: 'dom0' }, defaultKernel());
  return { hv, dom0 };
}

export function addGuest(hv: Hypervisor, o: GuestOpts = {}): Domain {
  const cfg: Parameters<Hypervisor['createDomain']>[0] = { name: o.name ?? `guest${hv.domains.length}` };
  if (o.vcpus !== undefined) cfg.vcpus = o.vcpus;
  if (o.pirqs !== undefined) cfg.pirqs = o.pirqs;
  if (o.maxEvtchnPort !== undefined) cfg.maxEvtchnPort = o.maxEvtchnPort;
  return hv.createDomain(cfg, o.noKernel ? undefined : defaultKernel(o.abi ?? '2l'));
}

/** Calls an op by name as `caller`, filling defaults the op table declares (as the scenario layer does). */
export function call(hv: Hypervisor, caller: Domain, name: string, args: Record<string, unknown> = {}, vcpu = 0): HypercallResult {
  const spec = OPS.get(name);
  if (spec === undefined) throw new Error(`no op ${name}`);
  const full: Record<string, unknown> = {};
  for (const [k, a] of Object.entries(spec.args)) if (a?.default !== undefined) full[k] = a.default;
  Object.assign(full, args);
  return hypercall(hv, caller, spec, full as never, vcpu);
}

/** The port a port-returning op gave back; fails the test if it failed. */
export function port(r: HypercallResult): number {
  if (r.ret !== 0) throw new Error(`op failed: ${r.ret}`);
  const p = (r.out?.port ?? r.out?.local_port) as number | undefined;
  if (p === undefined) throw new Error('no port in result');
  return p;
}

export function kernel(d: Domain): DefaultKernel {
  return d.kernel as DefaultKernel;
}

/** Status of `p` in `dom` as seen by `caller` (DOMID_SELF-free: by real id). */
export function status(hv: Hypervisor, caller: Domain, dom: number, p: number): HypercallResult {
  return call(hv, caller, 'status', { dom, port: p });
}

/** The internal state name of a port (ECS_*), straight from the port table. */
export function ecs(d: Domain, p: number): string {
  return ECS_NAMES[d.ports.state[p]!]!;
}

// ---- shared_info at its real byte offsets (little-endian, x86-64) ----

function view(d: Domain): DataView {
  return new DataView(d.sharedInfo.buffer, d.sharedInfo.byteOffset, d.sharedInfo.byteLength);
}

function bitAt(d: Domain, base: number, p: number): number {
  return (d.sharedInfo[base + (p >> 3)]! >> (p & 7)) & 1;
}

/** evtchn_pending[p] read as the guest does: byte 2048 + p/8, bit p%8. */
export function pendingBit(d: Domain, p: number): number {
  return bitAt(d, SHARED_INFO_EVTCHN_PENDING, p);
}

export function maskBit(d: Domain, p: number): number {
  return bitAt(d, SHARED_INFO_EVTCHN_MASK, p);
}

/** The guest sets/clears a 2-level mask bit by writing the byte in shared_info. */
export function writeMaskBit(d: Domain, p: number, value: 0 | 1): void {
  const at = SHARED_INFO_EVTCHN_MASK + (p >> 3);
  const b = d.sharedInfo[at]!;
  d.sharedInfo[at] = value ? b | (1 << (p & 7)) : b & ~(1 << (p & 7));
}

export function upcallPending(d: Domain, v: number): number {
  return d.sharedInfo[vcpuInfoOffset(v) + VCPU_INFO_UPCALL_PENDING]!;
}

export function upcallMask(d: Domain, v: number): number {
  return d.sharedInfo[vcpuInfoOffset(v) + VCPU_INFO_UPCALL_MASK]!;
}

/** evtchn_pending_sel of vCPU v as a 64-bit little-endian word at 64*v + 8. */
export function pendingSel(d: Domain, v: number): bigint {
  return view(d).getBigUint64(vcpuInfoOffset(v) + VCPU_INFO_PENDING_SEL, true);
}

// ---- trace ----

export function record(hv: Hypervisor): TraceStore {
  const store = new TraceStore();
  hv.trace.subscribe(store.subscriber);
  return store;
}

export function records(store: TraceStore): TraceRecord[] {
  return [...store.records()];
}

/** Ports whose handler ran, in order (optionally for one domain). */
export function handled(store: TraceStore, dom?: number): number[] {
  return records(store)
    .filter((r): r is Extract<TraceRecord, { kind: 'handler' }> => r.kind === 'handler' && (dom === undefined || r.dom === dom))
    .map((r) => r.port);
}

// ---- snapshots ----

/** Every piece of hypervisor-visible event-channel state of every domain. */
export function snapshot(hv: Hypervisor): unknown {
  return hv.domains.map((d) => {
    const p = d.ports;
    const n = p.valid;
    return {
      domid: d.domid,
      abi: d.ops.name,
      valid: n,
      active: p.active,
      state: Array.from(p.state.subarray(0, n)),
      notifyVcpu: Array.from(p.notifyVcpu.subarray(0, n)),
      remoteDom: Array.from(p.remoteDom.subarray(0, n)),
      remotePort: Array.from(p.remotePort.subarray(0, n)),
      priority: Array.from(p.priority.subarray(0, n)),
      fifoStash: Array.from(p.fifoStash.subarray(0, n)),
      xenConsumer: Array.from(p.xenConsumer.subarray(0, n)),
      sharedInfo: Array.from(d.sharedInfo),
      virqToPort: d.vcpus.map((v) => Array.from(v.virqToPort)),
      fifo: d.vcpus.map((v) => (v.fifo === null ? null : { tails: Array.from(v.fifo.tails), cb: v.fifo.controlPage === null ? null : v.fifo.controlIndex })),
      fifoArray: d.fifoArray === null ? null : d.fifoArray.map((pg) => Array.from(pg)),
      pirqToPort: [...d.pirqToPort.entries()],
      pauseCount: d.pauseCount,
      state_: d.state,
    };
  });
}
