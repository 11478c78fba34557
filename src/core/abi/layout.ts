/**
 * Byte layouts of the pages Xen shares with a 64-bit PV guest on x86
 * (xen/include/public/xen.h, arch-x86/xen.h, arch-x86/xen-x86_64.h).
 * Offsets are those gcc gives the public headers for x86-64.
 */

export const PAGE_SIZE = 4096;
export const PAGE_SHIFT = 12;

export interface LayoutField {
  /** Field path as in the C struct, e.g. "vcpu_info[0].evtchn_pending_sel". */
  readonly field: string;
  readonly offset: number;
  readonly size: number;
  readonly description: string;
}

// struct vcpu_info (64 bytes)
export const VCPU_INFO_SIZE = 64;
export const VCPU_INFO_UPCALL_PENDING = 0;
export const VCPU_INFO_UPCALL_MASK = 1;
export const VCPU_INFO_PENDING_SEL = 8;
export const VCPU_INFO_ARCH_CR2 = 16;
export const VCPU_INFO_ARCH_PAD = 24;
export const VCPU_INFO_TIME = 32;
/** struct vcpu_time_info (32 bytes) inside vcpu_info. */
export const VCPU_TIME_VERSION = 0;
export const VCPU_TIME_TSC_TIMESTAMP = 8;
export const VCPU_TIME_SYSTEM_TIME = 16;
export const VCPU_TIME_TSC_TO_SYSTEM_MUL = 24;
export const VCPU_TIME_TSC_SHIFT = 28;
export const VCPU_TIME_FLAGS = 29;

// struct shared_info (3136 bytes on x86-64)
export const XEN_LEGACY_MAX_VCPUS = 32;
export const SHARED_INFO_VCPU_INFO = 0;
export const SHARED_INFO_EVTCHN_PENDING = 2048;
export const SHARED_INFO_EVTCHN_MASK = 2560;
export const SHARED_INFO_EVTCHN_BITMAP_BYTES = 512;
export const SHARED_INFO_WC_VERSION = 3072;
export const SHARED_INFO_WC_SEC = 3076;
export const SHARED_INFO_WC_NSEC = 3080;
export const SHARED_INFO_WC_SEC_HI = 3084;
export const SHARED_INFO_ARCH_MAX_PFN = 3088;
export const SHARED_INFO_ARCH_P2M_FRAME_LIST_LIST = 3096;
export const SHARED_INFO_ARCH_NMI_REASON = 3104;
export const SHARED_INFO_ARCH_P2M_CR3 = 3112;
export const SHARED_INFO_ARCH_P2M_VADDR = 3120;
export const SHARED_INFO_ARCH_P2M_GENERATION = 3128;
export const SHARED_INFO_SIZE = 3136;

/** Offset of vcpu_info[vcpu] inside shared_info. */
export function vcpuInfoOffset(vcpu: number): number {
  return SHARED_INFO_VCPU_INFO + vcpu * VCPU_INFO_SIZE;
}

function vcpuInfoFields(vcpu: number): LayoutField[] {
  const base = vcpuInfoOffset(vcpu);
  const at = `vcpu_info[${vcpu}]`;
  return [
    { field: `${at}.evtchn_upcall_pending`, offset: base + VCPU_INFO_UPCALL_PENDING, size: 1, description: 'Xen sets it to ask for an upcall; the guest clears it before scanning' },
    { field: `${at}.evtchn_upcall_mask`, offset: base + VCPU_INFO_UPCALL_MASK, size: 1, description: "the guest's 'interrupts off' flag; Xen sets it while injecting an upcall" },
    { field: `${at}.evtchn_pending_sel`, offset: base + VCPU_INFO_PENDING_SEL, size: 8, description: 'selector: bit w means word w of evtchn_pending may hold work for this vCPU' },
    { field: `${at}.arch.cr2`, offset: base + VCPU_INFO_ARCH_CR2, size: 8, description: 'faulting address of the last page fault' },
    { field: `${at}.arch.pad`, offset: base + VCPU_INFO_ARCH_PAD, size: 8, description: 'padding' },
    { field: `${at}.time.version`, offset: base + VCPU_INFO_TIME + VCPU_TIME_VERSION, size: 4, description: 'odd while Xen updates the time record' },
    { field: `${at}.time.tsc_timestamp`, offset: base + VCPU_INFO_TIME + VCPU_TIME_TSC_TIMESTAMP, size: 8, description: 'TSC at the last update' },
    { field: `${at}.time.system_time`, offset: base + VCPU_INFO_TIME + VCPU_TIME_SYSTEM_TIME, size: 8, description: 'ns since boot at the last update' },
    { field: `${at}.time.tsc_to_system_mul`, offset: base + VCPU_INFO_TIME + VCPU_TIME_TSC_TO_SYSTEM_MUL, size: 4, description: 'TSC-to-ns multiplier (32.32 fixed point)' },
    { field: `${at}.time.tsc_shift`, offset: base + VCPU_INFO_TIME + VCPU_TIME_TSC_SHIFT, size: 1, description: 'TSC shift before multiplying' },
    { field: `${at}.time.flags`, offset: base + VCPU_INFO_TIME + VCPU_TIME_FLAGS, size: 1, description: 'XEN_PVCLOCK_* flags' },
  ];
}

/** The shared_info page, field by field, for a domain with `vcpus` vCPUs (other vcpu_info slots are listed once as a block). */
export function sharedInfoLayout(vcpus: number = XEN_LEGACY_MAX_VCPUS): LayoutField[] {
  const out: LayoutField[] = [];
  const shown = Math.min(vcpus, XEN_LEGACY_MAX_VCPUS);
  for (let v = 0; v < shown; v++) out.push(...vcpuInfoFields(v));
  if (shown < XEN_LEGACY_MAX_VCPUS) {
    out.push({
      field: `vcpu_info[${shown}..${XEN_LEGACY_MAX_VCPUS - 1}]`,
      offset: vcpuInfoOffset(shown),
      size: (XEN_LEGACY_MAX_VCPUS - shown) * VCPU_INFO_SIZE,
      description: 'vcpu_info slots of vCPUs this domain does not have',
    });
  }
  out.push(
    { field: 'evtchn_pending', offset: SHARED_INFO_EVTCHN_PENDING, size: SHARED_INFO_EVTCHN_BITMAP_BYTES, description: '2-level: bit p set means port p is pending (64 words of 64 bits)' },
    { field: 'evtchn_mask', offset: SHARED_INFO_EVTCHN_MASK, size: SHARED_INFO_EVTCHN_BITMAP_BYTES, description: '2-level: bit p set means port p is masked; owned by the guest' },
    { field: 'wc_version', offset: SHARED_INFO_WC_VERSION, size: 4, description: 'odd while Xen updates the wallclock' },
    { field: 'wc_sec', offset: SHARED_INFO_WC_SEC, size: 4, description: 'wallclock seconds at boot (low 32 bits)' },
    { field: 'wc_nsec', offset: SHARED_INFO_WC_NSEC, size: 4, description: 'wallclock nanoseconds at boot' },
    { field: 'wc_sec_hi', offset: SHARED_INFO_WC_SEC_HI, size: 4, description: 'wallclock seconds, high 32 bits' },
    { field: 'arch.max_pfn', offset: SHARED_INFO_ARCH_MAX_PFN, size: 8, description: 'number of guest frames' },
    { field: 'arch.pfn_to_mfn_frame_list_list', offset: SHARED_INFO_ARCH_P2M_FRAME_LIST_LIST, size: 8, description: 'frame of the p2m frame list list' },
    { field: 'arch.nmi_reason', offset: SHARED_INFO_ARCH_NMI_REASON, size: 8, description: 'why an NMI was sent' },
    { field: 'arch.p2m_cr3', offset: SHARED_INFO_ARCH_P2M_CR3, size: 8, description: 'cr3 of the linear p2m list' },
    { field: 'arch.p2m_vaddr', offset: SHARED_INFO_ARCH_P2M_VADDR, size: 8, description: 'virtual address of the linear p2m list' },
    { field: 'arch.p2m_generation', offset: SHARED_INFO_ARCH_P2M_GENERATION, size: 8, description: 'bumped when the p2m list changes' },
  );
  return out;
}

/**
 * Where the 2-level event bits of a shared_info page live. Modern x86-64 has
 * per-vCPU vcpu_info (upcall flags and a 64-bit selector) and 64-bit bitmap
 * words; Xen 2.0.0 on x86_32 has one vcpu_data and one 32-bit selector for the
 * whole domain, with the control rings in the page's second half.
 */
export interface SharedInfoLayout {
  readonly name: 'x86_64' | 'xen-2.0-x86_32';
  /** Byte offsets of evtchn_pending and evtchn_mask (bit p is bit p of the bitmap, little-endian). */
  readonly pendingOffset: number;
  readonly maskOffset: number;
  /** Ports per selector bit: the bitmap word size in bits (64 or 32). */
  readonly bitsPerWord: 64 | 32;
  /** Ports the 2-level bitmaps hold. */
  readonly nrPorts: number;
  /** vCPUs the page has slots for. */
  readonly maxVcpus: number;
  /** Byte offset of a vCPU's upcall flags: evtchn_upcall_pending there, evtchn_upcall_mask one byte on. */
  upcallOffset(vcpu: number): number;
  /** Byte offset of the selector a vCPU's events are flagged in. */
  selectorOffset(vcpu: number): number;
}

export const X86_64_LAYOUT: SharedInfoLayout = {
  name: 'x86_64',
  pendingOffset: SHARED_INFO_EVTCHN_PENDING,
  maskOffset: SHARED_INFO_EVTCHN_MASK,
  bitsPerWord: 64,
  nrPorts: 64 * 64,
  maxVcpus: XEN_LEGACY_MAX_VCPUS,
  upcallOffset: (vcpu) => vcpuInfoOffset(vcpu) + VCPU_INFO_UPCALL_PENDING,
  selectorOffset: (vcpu) => vcpuInfoOffset(vcpu) + VCPU_INFO_PENDING_SEL,
};

// Xen 2.0.0 shared_info_t on x86_32 (packed, 344 bytes), xen/include/public/xen.h at 2.0.0.
export const XEN2_VCPU_DATA = 0;
export const XEN2_EVTCHN_PENDING = 4;
export const XEN2_EVTCHN_PENDING_SEL = 132;
export const XEN2_EVTCHN_MASK = 136;
export const XEN2_CPU_FREQ = 264;
export const XEN2_TIME_VERSION1 = 272;
export const XEN2_TIME_VERSION2 = 276;
export const XEN2_TSC_TIMESTAMP = 280;
export const XEN2_SYSTEM_TIME = 288;
export const XEN2_WC_SEC = 296;
export const XEN2_WC_USEC = 300;
export const XEN2_DOMAIN_TIME = 304;
export const XEN2_WALL_TIMEOUT = 312;
export const XEN2_DOMAIN_TIMEOUT = 320;
export const XEN2_ARCH_MFN_TO_PFN_START = 328;
export const XEN2_ARCH_PFN_TO_MFN_FRAME_LIST = 336;
export const XEN2_SHARED_INFO_SIZE = 344;
/** control_if_t sits in the second half of the page. */
export const XEN2_CONTROL_IF_OFFSET = 2048;

export const XEN2_LAYOUT: SharedInfoLayout = {
  name: 'xen-2.0-x86_32',
  pendingOffset: XEN2_EVTCHN_PENDING,
  maskOffset: XEN2_EVTCHN_MASK,
  bitsPerWord: 32,
  nrPorts: 32 * 32,
  maxVcpus: 1, // MAX_VIRT_CPUS
  upcallOffset: () => XEN2_VCPU_DATA,
  selectorOffset: () => XEN2_EVTCHN_PENDING_SEL,
};

export const XEN2_SHARED_INFO_LAYOUT: readonly LayoutField[] = [
  { field: 'vcpu_data[0].evtchn_upcall_pending', offset: 0, size: 1, description: 'Xen sets it to ask for an upcall; the guest clears it' },
  { field: 'vcpu_data[0].evtchn_upcall_mask', offset: 1, size: 1, description: "the guest's 'interrupts off' flag" },
  { field: 'vcpu_data[0].pad', offset: 2, size: 2, description: 'padding' },
  { field: 'evtchn_pending', offset: XEN2_EVTCHN_PENDING, size: 128, description: 'bit p set means port p is pending (32 words of 32 bits)' },
  { field: 'evtchn_pending_sel', offset: XEN2_EVTCHN_PENDING_SEL, size: 4, description: 'selector: bit w means word w of evtchn_pending may hold work' },
  { field: 'evtchn_mask', offset: XEN2_EVTCHN_MASK, size: 128, description: 'bit p set means port p is masked; only the guest writes it' },
  { field: 'cpu_freq', offset: XEN2_CPU_FREQ, size: 8, description: 'CPU frequency, Hz' },
  { field: 'time_version1', offset: XEN2_TIME_VERSION1, size: 4, description: 'bumped before a time update' },
  { field: 'time_version2', offset: XEN2_TIME_VERSION2, size: 4, description: 'bumped after a time update' },
  { field: 'tsc_timestamp', offset: XEN2_TSC_TIMESTAMP, size: 8, description: 'TSC at the last update' },
  { field: 'system_time', offset: XEN2_SYSTEM_TIME, size: 8, description: 'ns since boot' },
  { field: 'wc_sec', offset: XEN2_WC_SEC, size: 4, description: 'wall clock seconds' },
  { field: 'wc_usec', offset: XEN2_WC_USEC, size: 4, description: 'wall clock microseconds' },
  { field: 'domain_time', offset: XEN2_DOMAIN_TIME, size: 8, description: 'domain virtual time, ns' },
  { field: 'wall_timeout', offset: XEN2_WALL_TIMEOUT, size: 8, description: 'wall-clock timeout' },
  { field: 'domain_timeout', offset: XEN2_DOMAIN_TIMEOUT, size: 8, description: 'domain-time timeout' },
  { field: 'arch.mfn_to_pfn_start', offset: XEN2_ARCH_MFN_TO_PFN_START, size: 8, description: 'start of the m2p table' },
  { field: 'arch.pfn_to_mfn_frame_list', offset: XEN2_ARCH_PFN_TO_MFN_FRAME_LIST, size: 8, description: 'frame of the p2m frame list' },
  { field: 'control_if_t', offset: XEN2_CONTROL_IF_OFFSET, size: 1040, description: 'the controller rings (domain_controller.h), second half of the page' },
];

// struct start_info (1168 bytes on x86-64)
export const START_INFO_MAGIC = 0;
export const START_INFO_MAGIC_SIZE = 32;
export const START_INFO_NR_PAGES = 32;
export const START_INFO_SHARED_INFO = 40;
export const START_INFO_FLAGS = 48;
export const START_INFO_STORE_MFN = 56;
export const START_INFO_STORE_EVTCHN = 64;
export const START_INFO_CONSOLE_MFN = 72;
export const START_INFO_CONSOLE_EVTCHN = 80;
export const START_INFO_PT_BASE = 88;
export const START_INFO_NR_PT_FRAMES = 96;
export const START_INFO_MFN_LIST = 104;
export const START_INFO_MOD_START = 112;
export const START_INFO_MOD_LEN = 120;
export const START_INFO_CMD_LINE = 128;
export const MAX_GUEST_CMDLINE = 1024;
export const START_INFO_FIRST_P2M_PFN = 1152;
export const START_INFO_NR_P2M_FRAMES = 1160;
export const START_INFO_SIZE = 1168;
export const START_INFO_MAGIC_X86_64 = 'xen-3.0-x86_64';

/** SIF_* flags. */
export const SIF_PRIVILEGED = 1 << 0;
export const SIF_INITDOMAIN = 1 << 1;

export const START_INFO_LAYOUT: readonly LayoutField[] = [
  { field: 'magic', offset: START_INFO_MAGIC, size: START_INFO_MAGIC_SIZE, description: '"xen-<version>-<platform>", NUL-terminated' },
  { field: 'nr_pages', offset: START_INFO_NR_PAGES, size: 8, description: 'pages allocated to the domain' },
  { field: 'shared_info', offset: START_INFO_SHARED_INFO, size: 8, description: 'machine address of the shared_info page' },
  { field: 'flags', offset: START_INFO_FLAGS, size: 4, description: 'SIF_PRIVILEGED (1) | SIF_INITDOMAIN (2) | ...' },
  { field: 'store_mfn', offset: START_INFO_STORE_MFN, size: 8, description: 'frame of the xenstore ring' },
  { field: 'store_evtchn', offset: START_INFO_STORE_EVTCHN, size: 4, description: 'event channel of the xenstore ring' },
  { field: 'console.domU.mfn', offset: START_INFO_CONSOLE_MFN, size: 8, description: 'frame of the console ring (domU); for dom0 the union holds console.dom0.info_off here (4 bytes) and info_size at 76' },
  { field: 'console.domU.evtchn', offset: START_INFO_CONSOLE_EVTCHN, size: 4, description: 'event channel of the console ring (domU only; dom0 has no console ring)' },
  { field: 'pt_base', offset: START_INFO_PT_BASE, size: 8, description: 'virtual address of the initial page tables' },
  { field: 'nr_pt_frames', offset: START_INFO_NR_PT_FRAMES, size: 8, description: 'frames of initial page tables' },
  { field: 'mfn_list', offset: START_INFO_MFN_LIST, size: 8, description: 'virtual address of the p2m list' },
  { field: 'mod_start', offset: START_INFO_MOD_START, size: 8, description: 'virtual address of the initial module (initrd)' },
  { field: 'mod_len', offset: START_INFO_MOD_LEN, size: 8, description: 'size of the initial module' },
  { field: 'cmd_line', offset: START_INFO_CMD_LINE, size: MAX_GUEST_CMDLINE, description: 'kernel command line, NUL-terminated' },
  { field: 'first_p2m_pfn', offset: START_INFO_FIRST_P2M_PFN, size: 8, description: 'first pfn of the p2m table' },
  { field: 'nr_p2m_frames', offset: START_INFO_NR_P2M_FRAMES, size: 8, description: 'frames of the p2m table' },
];

// struct <name>_sring header (io/ring.h)
export const SRING_REQ_PROD = 0;
export const SRING_REQ_EVENT = 4;
export const SRING_RSP_PROD = 8;
export const SRING_RSP_EVENT = 12;
export const SRING_PVT = 16;
export const SRING_HEADER_SIZE = 64;

export const SRING_LAYOUT: readonly LayoutField[] = [
  { field: 'req_prod', offset: SRING_REQ_PROD, size: 4, description: 'requests published by the frontend' },
  { field: 'req_event', offset: SRING_REQ_EVENT, size: 4, description: 'backend: notify me when req_prod passes this' },
  { field: 'rsp_prod', offset: SRING_RSP_PROD, size: 4, description: 'responses published by the backend' },
  { field: 'rsp_event', offset: SRING_RSP_EVENT, size: 4, description: 'frontend: notify me when rsp_prod passes this' },
  { field: 'pvt', offset: SRING_PVT, size: 4, description: 'private to the protocol (netif smartpoll_active)' },
  { field: '__pad', offset: 20, size: 44, description: 'padding to 64 bytes' },
  { field: 'ring[]', offset: SRING_HEADER_SIZE, size: PAGE_SIZE - SRING_HEADER_SIZE, description: 'request/response slots' },
];

/** FIFO control block (struct evtchn_fifo_control_block). */
export const FIFO_CB_READY = 0;
export const FIFO_CB_HEAD = 8;

export const FIFO_CONTROL_BLOCK_LAYOUT: readonly LayoutField[] = [
  { field: 'ready', offset: FIFO_CB_READY, size: 4, description: 'bit q set: queue q (priority q) has events' },
  { field: '_rsvd', offset: 4, size: 4, description: 'reserved' },
  ...Array.from({ length: 16 }, (_, q) => ({ field: `head[${q}]`, offset: FIFO_CB_HEAD + 4 * q, size: 4, description: `first port of the priority-${q} queue` })),
];
