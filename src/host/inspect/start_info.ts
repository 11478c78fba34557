/**
 * The start_info page the domain builder fills: today's struct start_info
 * (xen.h, x86-64, 1168 bytes) or Xen 2.0.0's start_info_t (x86_32, 320
 * bytes). Also where a modern domU's console and xenstore rings are.
 */
import type { PageView } from '../../contract/inspect.js';
import {
  PAGE_SHIFT,
  SIF_INITDOMAIN,
  START_INFO_CONSOLE_EVTCHN,
  START_INFO_CONSOLE_MFN,
  START_INFO_FLAGS,
  START_INFO_LAYOUT,
  START_INFO_SIZE,
  START_INFO_STORE_EVTCHN,
  START_INFO_STORE_MFN,
  type LayoutField,
} from '../../core/abi/layout.js';
import * as xen2 from '../../core/abi/xen2.js';
import type { Domain } from '../../core/hv/domain.js';
import { dec, flagNames, hex, quoteCString, readU32, readUint } from './format.js';
import { annotate, pageView } from './page.js';

/** SIF_* (xen.h). SIF_PM_MASK (0xFF << 8) is a field, shown as its bits. */
const SIF_FLAGS: readonly (readonly [number, string])[] = [
  [1 << 0, 'SIF_PRIVILEGED'],
  [1 << 1, 'SIF_INITDOMAIN'],
  [1 << 2, 'SIF_MULTIBOOT_MOD'],
  [1 << 3, 'SIF_MOD_START_PFN'],
  [1 << 4, 'SIF_VIRT_P2M_4TOOLS'],
];

/** SIF_* in Xen 2.0.0. */
const XEN2_SIF_FLAGS: readonly (readonly [number, string])[] = [
  [xen2.SIF_PRIVILEGED, 'SIF_PRIVILEGED'],
  [xen2.SIF_INITDOMAIN, 'SIF_INITDOMAIN'],
  [xen2.SIF_BLK_BE_DOMAIN, 'SIF_BLK_BE_DOMAIN'],
  [xen2.SIF_NET_BE_DOMAIN, 'SIF_NET_BE_DOMAIN'],
];

/**
 * dom0's member of the console union (console.dom0: info_off and info_size,
 * two u32s where a domU has console.domU.mfn and evtchn).
 */
const DOM0_CONSOLE_FIELDS: readonly LayoutField[] = [
  { field: 'console.dom0.info_off', offset: START_INFO_CONSOLE_MFN, size: 4, description: 'offset of the dom0_vga_console_info in this page (0: none)' },
  { field: 'console.dom0.info_size', offset: START_INFO_CONSOLE_MFN + 4, size: 4, description: 'size of the dom0_vga_console_info' },
];

/** The gfn of machine frame `mfn` in the domain's memory, or undefined. */
export function gfnOf(d: Domain, mfn: number): number | undefined {
  const gfn = mfn - d.memory.mfnBase;
  return Number.isInteger(gfn) && d.memory.hasFrame(gfn) ? gfn : undefined;
}

function frameValue(d: Domain, mfn: number): string {
  if (mfn === 0) return '0 (none)';
  const gfn = gfnOf(d, mfn);
  return gfn === undefined ? hex(mfn) : `${hex(mfn)} (gfn ${gfn})`;
}

function portValue(port: number): string {
  return port === 0 ? '0 (none)' : `port ${port}`;
}

function machineAddress(addr: number | bigint): string {
  const a = BigInt(addr);
  return `${hex(a)} (mfn ${hex(a >> BigInt(PAGE_SHIFT))})`;
}

function formatModern(d: Domain): (page: Uint8Array, f: LayoutField) => string | undefined {
  return (page, f) => {
    switch (f.field) {
      case 'magic':
        return quoteCString(page, f.offset, f.size);
      case 'shared_info':
        return machineAddress(readUint(page, f.offset, 8));
      case 'flags': {
        const v = readU32(page, f.offset);
        const pm = (v >>> 8) & 0xff;
        const names = flagNames(v & 0xff, SIF_FLAGS);
        return pm === 0 ? names : `${names === '0' ? '' : `${names} | `}SIF_PM_MASK bits ${hex(pm)}`;
      }
      case 'store_mfn':
      case 'console.domU.mfn':
        return frameValue(d, Number(readUint(page, f.offset, 8)));
      case 'store_evtchn':
      case 'console.domU.evtchn':
        return portValue(readU32(page, f.offset));
      case 'pt_base':
      case 'mfn_list':
      case 'mod_start':
        return hex(readUint(page, f.offset, 8));
      case 'cmd_line':
        return quoteCString(page, f.offset, f.size);
      default:
        return f.size === 8 ? dec(readUint(page, f.offset, 8)) : undefined;
    }
  };
}

function formatXen2(page: Uint8Array, f: LayoutField): string | undefined {
  switch (f.field) {
    case 'shared_info':
      return machineAddress(readU32(page, f.offset));
    case 'flags':
      return flagNames(readU32(page, f.offset), XEN2_SIF_FLAGS);
    case 'domain_controller_evtchn':
      return portValue(readUint(page, f.offset, 2) as number);
    case 'pt_base':
    case 'mfn_list':
    case 'mod_start':
      return hex(readU32(page, f.offset));
    case 'cmd_line':
      return quoteCString(page, f.offset, f.size);
    default:
      return f.field.startsWith('_MEMORY_PADDING') || f.field === '__pad' ? hex(readUint(page, f.offset, f.size) as number) : undefined;
  }
}

/** The start_info struct (its bytes, not the whole page), every field formatted. */
export function startInfoPage(d: Domain): PageView {
  const page = d.startInfo;
  const gfn = d.startInfoGfn;
  if (d.xen === '2.0') {
    return pageView({ name: 'start_info', page, base: 0, length: xen2.XEN2_START_INFO_SIZE, fields: annotate(page, xen2.XEN2_START_INFO_LAYOUT, formatXen2), mfn: d.memory.mfn(gfn), gfn });
  }
  // dom0 (SIF_INITDOMAIN): the console union holds dom0's member.
  const isDom0 = (readU32(page, START_INFO_FLAGS) & SIF_INITDOMAIN) !== 0;
  const layout = isDom0 ? START_INFO_LAYOUT.flatMap((f) => (f.field === 'console.domU.mfn' ? DOM0_CONSOLE_FIELDS : f.field === 'console.domU.evtchn' ? [] : [f])) : START_INFO_LAYOUT;
  return pageView({ name: 'start_info', page, base: 0, length: START_INFO_SIZE, fields: annotate(page, layout, formatModern(d)), mfn: d.memory.mfn(gfn), gfn });
}

/** Where a modern domU's rings are, as start_info says (0 when absent). */
export interface StartInfoRings {
  storeMfn: number;
  storeEvtchn: number;
  consoleMfn: number;
  consoleEvtchn: number;
}

export function startInfoRings(d: Domain): StartInfoRings | undefined {
  if (d.xen === '2.0') return undefined;
  const page = d.startInfo;
  if ((readU32(page, START_INFO_FLAGS) & SIF_INITDOMAIN) !== 0) return undefined; // dom0: no store or console ring pages
  return {
    storeMfn: Number(readUint(page, START_INFO_STORE_MFN, 8)),
    storeEvtchn: readU32(page, START_INFO_STORE_EVTCHN),
    consoleMfn: Number(readUint(page, START_INFO_CONSOLE_MFN, 8)),
    consoleEvtchn: readU32(page, START_INFO_CONSOLE_EVTCHN),
  };
}
