/**
 * inspectDomain: one domain's shared memory as the inspector shows it, read
 * straight from the simulated machine (nothing is changed, no frame is made).
 */
import type { InspectView, PageView, RingView, VcpuFlags } from '../../contract/inspect.js';
import type { Domain } from '../../core/hv/domain.js';
import type { Hypervisor } from '../../core/hv/hypervisor.js';
import { grids2l, gridsFifo } from './bits.js';
import { consoleRingPage, consoleRings, xenstoreRingPage, xenstoreRings } from './byte_rings.js';
import { controlIfPage, controlRings } from './control_if.js';
import { controlBlockPages, eventArrayPages, fifoFrames, type FifoFrames } from './fifo.js';
import { selectorValue } from './format.js';
import { grantEntries, grantTablePages } from './grants.js';
import { sharedInfoPage } from './shared_info.js';
import { findSrings, sringPage, sringView } from './srings.js';
import { gfnOf, startInfoPage, startInfoRings } from './start_info.js';
import type { TraceLookback } from './trace_lookback.js';

export interface InspectOptions {
  /** The run's trace: names the guest frames of FIFO pages (from init_control / expand_array). */
  trace?: TraceLookback;
  /** Most FIFO event words annotated in one view (default 2048, lowest ports first); the pages' bytes are always whole. */
  eventWordFields?: number;
}

/** The domain `domid`, or a RangeError saying it does not exist. */
export function domainOf(hv: Hypervisor, domid: number): Domain {
  const d = Number.isInteger(domid) ? hv.domain(domid) : undefined;
  if (d === undefined) throw new RangeError(`domain ${String(domid)} does not exist (domains now: ${hv.domains.map((x) => `${x.domid} ${x.name}`).join(', ')})`);
  return d;
}

/** upcall_pending, upcall_mask and the selector of each vCPU (Xen 2.0: its one vcpu_data and selector). */
export function vcpuFlags(d: Domain): VcpuFlags[] {
  const si = d.sharedInfo;
  const s32 = d.shared32;
  const bits = d.layout.bitsPerWord;
  return d.vcpus.map((v) => ({
    vcpu: v.id,
    upcallPending: si[v.upcallAt] !== 0,
    upcallMask: si[v.upcallAt + 1] !== 0,
    pendingSel: selectorValue(s32[v.selU32]!, bits === 64 ? s32[v.selU32 + 1]! : 0, bits),
  }));
}

/** A modern domU's console and xenstore ring pages, found through start_info (as the guest finds them). */
function modernRingPages(d: Domain, pages: PageView[], rings: RingView[]): void {
  const si = startInfoRings(d);
  if (si === undefined) return;
  const cons = si.consoleMfn === 0 ? undefined : gfnOf(d, si.consoleMfn);
  if (cons !== undefined) {
    const page = d.memory.frame(cons)!;
    pages.push(consoleRingPage(page, si.consoleMfn, cons));
    rings.push(...consoleRings(page));
  }
  const store = si.storeMfn === 0 ? undefined : gfnOf(d, si.storeMfn);
  if (store !== undefined) {
    const page = d.memory.frame(store)!;
    pages.push(xenstoreRingPage(page, si.storeMfn, store));
    rings.push(...xenstoreRings(page));
  }
}

export function inspectDomain(hv: Hypervisor, domid: number, position: number, opts: InspectOptions = {}): InspectView {
  const d = domainOf(hv, domid);
  const fifo = d.ops.name === 'fifo';
  const pages: PageView[] = [sharedInfoPage(hv, d), startInfoPage(d)];
  const rings: RingView[] = [];
  if (d.xen === '2.0') {
    pages.push(controlIfPage(hv, d));
    rings.push(...controlRings(hv, d));
  } else modernRingPages(d, pages, rings);
  const arrayPages: string[] = [];
  if (fifo) {
    const frames: FifoFrames | undefined = opts.trace === undefined ? undefined : fifoFrames(d, opts.trace);
    const array = eventArrayPages(d, frames, opts.eventWordFields);
    arrayPages.push(...array.map((p) => p.name));
    pages.push(...controlBlockPages(d, frames), ...array);
  }
  for (const r of findSrings(hv, d)) {
    pages.push(sringPage(r));
    rings.push(sringView(r));
  }
  // Xen 2.0.0's guests share pages through the control interface, not grant tables.
  if (d.xen !== '2.0') pages.push(...grantTablePages(d));
  return {
    domid: d.domid,
    name: d.name,
    position,
    layout: d.layout.name,
    abi: fifo ? 'fifo' : '2l',
    pages,
    bits: fifo ? gridsFifo(d, arrayPages) : grids2l(d),
    vcpus: vcpuFlags(d),
    rings,
    grants: d.xen === '2.0' ? [] : grantEntries(d),
  };
}
