/**
 * The shared_info page: today's x86-64 struct shared_info (xen.h, per-vCPU
 * vcpu_info then the 2-level bitmaps and the wallclock) or Xen 2.0.0's
 * x86_32 shared_info_t (one vcpu_data, one selector, the time fields, and
 * control_if_t in the second half of the page).
 */
import type { PageView } from '../../contract/inspect.js';
import { PAGE_SIZE, sharedInfoLayout, XEN2_SHARED_INFO_LAYOUT, type LayoutField } from '../../core/abi/layout.js';
import { CONTROL_IF_RX_REQ_PROD, CONTROL_IF_RX_RESP_PROD, CONTROL_IF_TX_REQ_PROD, CONTROL_IF_TX_RESP_PROD } from '../../core/abi/ctrl_if.js';
import type { Domain } from '../../core/hv/domain.js';
import type { Hypervisor } from '../../core/hv/hypervisor.js';
import { dec, flagNames, hex, ns, readU32, readUint, selectorValue, summariseBits } from './format.js';
import { annotate, pageView } from './page.js';

/** XEN_PVCLOCK_* bits of vcpu_time_info.flags (xen.h). */
const PVCLOCK_FLAGS: readonly (readonly [number, string])[] = [
  [1 << 0, 'XEN_PVCLOCK_TSC_STABLE_BIT'],
  [1 << 1, 'XEN_PVCLOCK_GUEST_STOPPED'],
];

function upcallFlag(page: Uint8Array, f: LayoutField): string | undefined {
  if (f.field.endsWith('.evtchn_upcall_pending')) return page[f.offset] !== 0 ? `${page[f.offset]} (Xen asks for an upcall)` : '0';
  if (f.field.endsWith('.evtchn_upcall_mask')) return page[f.offset] !== 0 ? `${page[f.offset]} (events off)` : '0 (events on)';
  return undefined;
}

/** A field of today's shared_info, formatted. */
function formatX86_64(d: Domain): (page: Uint8Array, f: LayoutField) => string | undefined {
  const nrPorts = d.layout.nrPorts;
  return (page, f) => {
    const flag = upcallFlag(page, f);
    if (flag !== undefined) return flag;
    const name = f.field;
    if (name.endsWith('.evtchn_pending_sel')) return selectorValue(readU32(page, f.offset), readU32(page, f.offset + 4), 64);
    if (name.endsWith('.time.system_time')) return ns(readUint(page, f.offset, 8));
    if (name.endsWith('.time.tsc_shift')) return dec((page[f.offset]! << 24) >> 24); // int8_t
    if (name.endsWith('.time.flags')) return flagNames(page[f.offset]!, PVCLOCK_FLAGS);
    if (name.endsWith('.time.tsc_to_system_mul')) return hex(readU32(page, f.offset));
    if (name.endsWith('.time.tsc_timestamp') || name.endsWith('.time.version')) return dec(readUint(page, f.offset, f.size));
    if (name.startsWith('vcpu_info[') && name.endsWith(']')) return `not used: the domain has ${d.vcpus.length} vCPU${d.vcpus.length > 1 ? 's' : ''}`;
    if (name === 'evtchn_pending' || name === 'evtchn_mask') return summariseBits(page, f.offset, nrPorts);
    if (name === 'wc_nsec') return ns(readU32(page, f.offset));
    if (name === 'wc_sec' || name === 'wc_sec_hi') return `${readU32(page, f.offset)} s`;
    if (name === 'arch.max_pfn') return dec(readUint(page, f.offset, 8));
    return undefined;
  };
}

/** A field of Xen 2.0.0's shared_info_t, formatted. */
function formatXen2(page: Uint8Array, f: LayoutField): string | undefined {
  const flag = upcallFlag(page, f);
  if (flag !== undefined) return flag;
  switch (f.field) {
    case 'vcpu_data[0].pad':
      return hex(readUint(page, f.offset, 2) as number);
    case 'evtchn_pending':
    case 'evtchn_mask':
      return summariseBits(page, f.offset, 1024);
    case 'evtchn_pending_sel':
      return selectorValue(readU32(page, f.offset), 0, 32);
    case 'cpu_freq':
      return `${readUint(page, f.offset, 8)} Hz`;
    case 'system_time':
    case 'domain_time':
    case 'wall_timeout':
    case 'domain_timeout':
      return ns(readUint(page, f.offset, 8));
    case 'tsc_timestamp':
      return dec(readUint(page, f.offset, 8));
    case 'wc_sec':
      return `${readU32(page, f.offset)} s`;
    case 'wc_usec':
      return `${readU32(page, f.offset)} µs`;
    case 'control_if_t':
      return controlIfSummary(page, f.offset);
    default:
      return undefined;
  }
}

function controlIfSummary(page: Uint8Array, base: number): string {
  return (
    `tx_req_prod ${readU32(page, base + CONTROL_IF_TX_REQ_PROD)}, tx_resp_prod ${readU32(page, base + CONTROL_IF_TX_RESP_PROD)}, ` +
    `rx_req_prod ${readU32(page, base + CONTROL_IF_RX_REQ_PROD)}, rx_resp_prod ${readU32(page, base + CONTROL_IF_RX_RESP_PROD)}`
  );
}

/** The whole shared_info page with every field of its layout (both halves for Xen 2.0: control_if_t is at 2048). */
export function sharedInfoPage(hv: Hypervisor, d: Domain): PageView {
  const page = d.sharedInfo;
  const fields = d.xen === '2.0' ? annotate(page, XEN2_SHARED_INFO_LAYOUT, formatXen2) : annotate(page, sharedInfoLayout(d.vcpus.length), formatX86_64(d));
  // shared_info is Xen's page, outside the guest's pseudo-physical memory: it has an mfn and no gfn.
  return pageView({ name: 'shared_info', page, base: 0, length: PAGE_SIZE, fields, mfn: hv.sharedInfoMfn(d) });
}
