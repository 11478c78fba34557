/**
 * What the shared-memory inspector and the "explain" panel show: a domain's
 * pages as bytes with their fields annotated from Xen's layouts, the event
 * bits as grids, the rings with their indexes and slots, and the reasoning
 * about one port's delivery in the words of events_2l.c / event_fifo.c.
 */

/** A named field of a page at a byte offset, as Xen's struct lays it out. */
export interface FieldAnnotation {
  /** The C name, e.g. "vcpu_info[0].evtchn_upcall_pending", "evtchn_pending[0]". */
  name: string;
  offset: number;
  size: number;
  /** Its value, formatted (hex for addresses, decimal for counts, names for flags). */
  value: string;
  /** What it means, for a person. */
  doc?: string;
}

/** One page of guest memory the inspector shows. */
export interface PageView {
  /** "shared_info", "start_info", "control_if (Xen 2.0)", "console ring", "xenstore ring", "grant table", "FIFO control block vCPU 0", ... */
  name: string;
  /** The machine frame (MFN) and, for guest memory, the guest frame (GFN). */
  mfn?: number;
  gfn?: number;
  /** The page's bytes, base64 (4096 bytes for a whole page; a slice for structures smaller than a page). */
  bytes: string;
  /** Offset of `bytes[0]` within the page. */
  base: number;
  fields: FieldAnnotation[];
}

/** A bit array from shared memory, for a grid: bit i of `bits` is port (or selector word) i. */
export interface BitGrid {
  /** "evtchn_pending", "evtchn_mask", "evtchn_pending_sel (vCPU 0)", "FIFO ready (vCPU 0)". */
  name: string;
  /** How many bits are meaningful. */
  length: number;
  /** base64 of the bits, little-endian within each byte (bit i is byte i>>3, bit i&7). */
  bits: string;
  /** The byte offset of the array in its page. */
  offset: number;
  page: string;
  /**
   * Set when the bits are gathered from words rather than read from a bitmap (FIFO's P, M and
   * L): bit i is bit `bit` of the `size`-byte little-endian word i, `perPage` words to a page,
   * word i in page `pages[i / perPage]` (offset and page above are then those of word 0).
   */
  words?: { size: number; bit: number; perPage: number; pages: string[] };
}

export interface VcpuFlags {
  vcpu: number;
  upcallPending: boolean;
  upcallMask: boolean;
  /** evtchn_pending_sel as a hex string (it is a machine word: 32 or 64 bits). */
  pendingSel: string;
}

/** A ring with its producer/consumer indexes and slots: a ring.h sring, a control_if ring, a byte ring. */
export interface RingView {
  name: string;
  /** "sring" (ring.h), "ctrl" (Xen 2.0 control_if_t), "bytes" (console / xenstore ring). */
  shape: 'sring' | 'ctrl' | 'bytes';
  size: number;
  /** Index names as Xen spells them: req_prod, req_event, rsp_prod, rsp_event / tx_req_prod ... / in_cons, in_prod, out_cons, out_prod. */
  indexes: { name: string; value: number }[];
  /** Slots that hold something, decoded: e.g. a control message's type/subtype/id/length. */
  slots: { index: number; summary: string }[];
}

export interface GrantEntryView {
  ref: number;
  flags: string;
  domid: number;
  frame: number;
}

export interface InspectView {
  domid: number;
  name: string;
  /** The position it was taken at. */
  position: number;
  /** Which layout the pages follow: x86-64 today, x86_32 for Xen 2.0. */
  layout: string;
  abi: '2l' | 'fifo';
  pages: PageView[];
  bits: BitGrid[];
  vcpus: VcpuFlags[];
  rings: RingView[];
  grants: GrantEntryView[];
}

/** EVTCHNOP_status's answer for a port, plus the bits behind it. */
export interface PortStatus {
  domid: number;
  port: number;
  /** EVTCHNSTAT name: closed, unbound, interdomain, pirq, virq, ipi. */
  status: string;
  vcpu: number;
  pending: boolean;
  masked: boolean;
  /** The status union's fields (remote dom/port, virq, pirq, unbound's dom). */
  detail: Record<string, number>;
  /** FIFO only. */
  priority?: number;
  linked?: boolean;
}

/** One test the delivery path makes, in order, with what the bits say. */
export interface ExplainStep {
  /** "port is bound", "evtchn_pending[p]", "evtchn_mask[p]", "selector bit", "evtchn_upcall_pending", "evtchn_upcall_mask", "vCPU", "domain runnable" ... */
  check: string;
  ok: boolean;
  /** What was found, e.g. "bit 5 of evtchn_mask is set: the guest masked the port". */
  detail: string;
  /** Where Xen (or the guest) makes this test, e.g. "event_2l.c: evtchn_2l_set_pending". */
  source: string;
}

export interface Explanation {
  domid: number;
  port: number;
  /** One sentence: delivered / pending but masked / never raised / ... */
  verdict: string;
  /** True when an upcall will run (or ran) for this port given the bits now. */
  deliverable: boolean;
  steps: ExplainStep[];
  /** The trace records behind the verdict (the last send to the port, the last upcall ...). */
  records: number[];
}
