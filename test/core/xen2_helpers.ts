/**
 * Set-up for the Xen 2.0.0 tests: a machine in '2.0' mode, ops by name from
 * the 2.0.0 table with its defaults filled in, and readers of the 2.0.0
 * shared_info at its real byte offsets (x86_32, little-endian).
 */
import type { Domain } from '../../src/core/hv/domain.js';
import { hypercall, type HypercallResult } from '../../src/core/hv/hypercall.js';
import { OPS_XEN2 } from '../../src/core/hv/hypercall_xen2.js';
import { Hypervisor, type MachineOptions } from '../../src/core/hv/hypervisor.js';
import { defaultKernel, type DefaultKernel } from '../../src/core/guest/kernel.js';

export function newXen2(opts: MachineOptions = {}): { hv: Hypervisor; dom0: Domain } {
  const hv = new Hypervisor({ seed: 1, ...opts, xen: '2.0' });
  const dom0 = hv.createDomain({ name: 'dom0' }, defaultKernel());
  return { hv, dom0 };
}

export function guest2(hv: Hypervisor, o: { name?: string; pirqs?: number[]; noKernel?: boolean; startInfoFlags?: number; cmdline?: string } = {}): Domain {
  const cfg: Parameters<Hypervisor['createDomain']>[0] = { name: o.name ?? `guest${hv.domains.length}` };
  if (o.pirqs !== undefined) cfg.pirqs = o.pirqs;
  if (o.startInfoFlags !== undefined) cfg.startInfoFlags = o.startInfoFlags;
  if (o.cmdline !== undefined) cfg.cmdline = o.cmdline;
  return hv.createDomain(cfg, o.noKernel ? undefined : defaultKernel());
}

/** A 2.0.0 op by name as `caller`, with the table's defaults. */
export function op2(hv: Hypervisor, caller: Domain, name: string, args: Record<string, number> = {}): HypercallResult {
  const spec = OPS_XEN2.get(name);
  if (spec === undefined) throw new Error(`no 2.0.0 op ${name}`);
  const full: Record<string, unknown> = {};
  for (const [k, a] of Object.entries(spec.args)) if (a?.default !== undefined) full[k] = a.default;
  Object.assign(full, args);
  return hypercall(hv, caller, spec, full as never);
}

/** The port a port-returning 2.0.0 op gave back; throws if it failed. */
export function port2(r: HypercallResult): number {
  if (r.ret !== 0) throw new Error(`op failed: ${r.ret}`);
  return r.out!.port as number;
}

export function k2(d: Domain): DefaultKernel {
  return d.kernel as DefaultKernel;
}

export function u8(page: Uint8Array, at: number): number {
  return page[at]!;
}

export function u16(page: Uint8Array, at: number): number {
  return new DataView(page.buffer, page.byteOffset, page.byteLength).getUint16(at, true);
}

export function u32(page: Uint8Array, at: number): number {
  return new DataView(page.buffer, page.byteOffset, page.byteLength).getUint32(at, true);
}

export function u64(page: Uint8Array, at: number): bigint {
  return new DataView(page.buffer, page.byteOffset, page.byteLength).getBigUint64(at, true);
}

/** evtchn_pending[p] as an x86_32 guest reads it: byte 4 + p/8, bit p%8. */
export function pending2(d: Domain, p: number): number {
  return (d.sharedInfo[4 + (p >> 3)]! >> (p & 7)) & 1;
}

/** evtchn_mask[p]: byte 136 + p/8, bit p%8. */
export function mask2(d: Domain, p: number): number {
  return (d.sharedInfo[136 + (p >> 3)]! >> (p & 7)) & 1;
}

/** The guest writes a mask bit straight into shared_info. */
export function writeMask2(d: Domain, p: number, value: 0 | 1): void {
  const at = 136 + (p >> 3);
  const b = d.sharedInfo[at]!;
  d.sharedInfo[at] = value ? b | (1 << (p & 7)) : b & ~(1 << (p & 7));
}

/** evtchn_pending_sel: u32 @132. */
export function sel2(d: Domain): number {
  return u32(d.sharedInfo, 132);
}

/** vcpu_data[0].evtchn_upcall_pending @0 and evtchn_upcall_mask @1. */
export function upcallPending2(d: Domain): number {
  return d.sharedInfo[0]!;
}

export function upcallMask2(d: Domain): number {
  return d.sharedInfo[1]!;
}

/** Status of <dom,port> seen by `caller`, as { status, u } or the errno. */
export function status2(hv: Hypervisor, caller: Domain, dom: number, p: number): HypercallResult {
  return op2(hv, caller, 'status', { dom, port: p });
}

/** Everything a failed op must not change (the table size aside, which 2.0.0 may grow). */
export function portState(hv: Hypervisor): unknown {
  return hv.domains.map((d) => ({
    domid: d.domid,
    state: Array.from(d.ports.state.subarray(0, d.ports.valid)),
    remoteDom: Array.from(d.ports.remoteDom.subarray(0, d.ports.valid)),
    remotePort: Array.from(d.ports.remotePort.subarray(0, d.ports.valid)),
    virq: Array.from(d.vcpus[0]!.virqToPort),
    pirq: [...d.pirqToPort.entries()],
    shared: Array.from(d.sharedInfo),
  }));
}
