/**
 * Grant tables, version 1 (xen/common/grant_table.c): each domain's table of
 * grant entries, and the map, unmap, copy, setup_table and query_size ops
 * another domain uses on them, with Xen's GNTST_* results.
 */
import { DOMID_SELF } from '../abi/domid.js';
import {
  GNTCOPY_dest_gref,
  GNTCOPY_source_gref,
  GNTMAP_device_map,
  GNTMAP_host_map,
  GNTMAP_readonly,
  GNTST_bad_copy_arg,
  GNTST_bad_domain,
  GNTST_bad_gntref,
  GNTST_bad_handle,
  GNTST_bad_page,
  GNTST_general_error,
  GNTST_okay,
  GNTST_permission_denied,
  GNTTAB_MAX_FRAMES,
  GRANT_ENTRIES_PER_FRAME,
  GRANT_ENTRY_DOMID,
  GRANT_ENTRY_FLAGS,
  GRANT_ENTRY_FRAME,
  GRANT_ENTRY_V1_SIZE,
  GTF_permit_access,
  GTF_readonly,
  GTF_reading,
  GTF_sub_page,
  GTF_type_mask,
  GTF_writing,
} from '../abi/grant.js';
import { PAGE_SHIFT, PAGE_SIZE } from '../abi/layout.js';
import { BY_GUEST, BY_XEN, TK, type Trace } from '../sim/trace.js';
import type { Domain } from './domain.js';

/** One mapping a domain holds of another domain's grant (a maptrack entry). */
export interface GrantMapping {
  readonly granter: number;
  readonly ref: number;
  readonly writable: boolean;
  readonly page: Uint8Array;
  readonly hostAddr: number;
}

/** Xen's active entry: who has the grant mapped and how many times. */
interface ActiveEntry {
  mapper: number;
  readers: number;
  writers: number;
}

export class GrantTable {
  /** The shared grant entries, frame by frame. */
  frames: Uint8Array[] = [new Uint8Array(PAGE_SIZE)];
  readonly active = new Map<number, ActiveEntry>();
  /** This domain's maptrack: its mappings of other domains' grants, by handle. */
  readonly maptrack: (GrantMapping | undefined)[] = [];

  get nrEntries(): number {
    return this.frames.length * GRANT_ENTRIES_PER_FRAME;
  }

  private view(ref: number): DataView {
    const f = this.frames[Math.floor(ref / GRANT_ENTRIES_PER_FRAME)]!;
    return new DataView(f.buffer, f.byteOffset + (ref % GRANT_ENTRIES_PER_FRAME) * GRANT_ENTRY_V1_SIZE, GRANT_ENTRY_V1_SIZE);
  }

  entry(ref: number): { flags: number; domid: number; frame: number } {
    const v = this.view(ref);
    return { flags: v.getUint16(GRANT_ENTRY_FLAGS, true), domid: v.getUint16(GRANT_ENTRY_DOMID, true), frame: v.getUint32(GRANT_ENTRY_FRAME, true) };
  }

  setFlags(ref: number, flags: number): void {
    this.view(ref).setUint16(GRANT_ENTRY_FLAGS, flags, true);
  }

  writeEntry(ref: number, flags: number, domid: number, frame: number): void {
    const v = this.view(ref);
    v.setUint32(GRANT_ENTRY_FRAME, frame >>> 0, true);
    v.setUint16(GRANT_ENTRY_DOMID, domid, true);
    v.setUint16(GRANT_ENTRY_FLAGS, flags, true);
  }

  grow(nrFrames: number): void {
    while (this.frames.length < nrFrames) this.frames.push(new Uint8Array(PAGE_SIZE));
  }

  /** Lowest free maptrack handle. */
  allocHandle(): number {
    const free = this.maptrack.indexOf(undefined);
    return free >= 0 ? free : this.maptrack.length;
  }
}

/** What the grant ops need from the machine. */
export interface GrantContext {
  readonly trace: Trace;
  /** The domain with this id, or undefined (DOMID_SELF already resolved). */
  domain(domid: number): Domain | undefined;
}

export interface MapArgs {
  host_addr: number;
  flags: number;
  ref: number;
  dom: number;
}
export interface MapResult {
  status: number;
  handle: number;
  dev_bus_addr: number;
}

function resolve(ctx: GrantContext, caller: Domain, domid: number): Domain | undefined {
  return domid === DOMID_SELF ? caller : ctx.domain(domid);
}

function traceEntry(ctx: GrantContext, d: Domain, ref: number, by: number): void {
  if (!ctx.trace.on) return;
  const e = d.grants.entry(ref);
  ctx.trace.emit(TK.grant_entry, d.domid, by, ref, e.flags, e.domid, e.frame | 0);
}

/** GNTTABOP_map_grant_ref, checks in the order of grant_table.c's map_grant_ref. */
export function mapGrantRef(ctx: GrantContext, caller: Domain, op: MapArgs): MapResult {
  const fail = (status: number): MapResult => ({ status, handle: 0, dev_bus_addr: 0 });
  if ((op.flags & (GNTMAP_host_map | GNTMAP_device_map)) === 0) return fail(GNTST_bad_gntref);
  const rd = resolve(ctx, caller, op.dom);
  if (rd === undefined || rd.dying) return fail(GNTST_bad_domain);
  const gt = rd.grants;
  if (op.ref >= gt.nrEntries) return fail(GNTST_bad_gntref);
  const act = gt.active.get(op.ref);
  if (act !== undefined && act.mapper !== caller.domid) return fail(GNTST_general_error);
  const e = gt.entry(op.ref);
  const writable = (op.flags & GNTMAP_readonly) === 0;
  if ((e.flags & GTF_type_mask) !== GTF_permit_access || (e.flags & GTF_sub_page) !== 0) return fail(GNTST_general_error);
  if (e.domid !== caller.domid) return fail(GNTST_general_error);
  if (writable && (e.flags & GTF_readonly) !== 0) return fail(GNTST_general_error);
  const page = rd.memory.frame(e.frame);
  if (page === undefined) return fail(GNTST_bad_page);

  const pin = act ?? { mapper: caller.domid, readers: 0, writers: 0 };
  if (writable) pin.writers++;
  else pin.readers++;
  gt.active.set(op.ref, pin);
  const flags = e.flags | GTF_reading | (writable ? GTF_writing : 0);
  if (flags !== e.flags) {
    gt.setFlags(op.ref, flags);
    traceEntry(ctx, rd, op.ref, BY_XEN);
  }
  const mt = caller.grants.maptrack;
  const handle = caller.grants.allocHandle();
  mt[handle] = { granter: rd.domid, ref: op.ref, writable, page, hostAddr: op.host_addr };
  const devBusAddr = (op.flags & GNTMAP_device_map) !== 0 ? rd.memory.mfn(e.frame) * 2 ** PAGE_SHIFT : 0;
  return { status: GNTST_okay, handle, dev_bus_addr: devBusAddr };
}

/** GNTTABOP_unmap_grant_ref. */
export function unmapGrantRef(ctx: GrantContext, caller: Domain, handle: number): number {
  const mt = caller.grants.maptrack;
  const m = Number.isInteger(handle) && handle >= 0 ? mt[handle] : undefined;
  if (m === undefined) return GNTST_bad_handle;
  mt[handle] = undefined;
  while (mt.length > 0 && mt[mt.length - 1] === undefined) mt.pop();
  const rd = ctx.domain(m.granter);
  if (rd === undefined) return GNTST_okay; // the granter is gone; its page lived on until now
  const gt = rd.grants;
  const pin = gt.active.get(m.ref);
  if (pin === undefined) return GNTST_okay;
  if (m.writable) pin.writers--;
  else pin.readers--;
  let flags = gt.entry(m.ref).flags;
  const before = flags;
  if (pin.writers === 0) flags &= ~GTF_writing;
  if (pin.writers + pin.readers === 0) {
    flags &= ~GTF_reading;
    gt.active.delete(m.ref);
  }
  if (flags !== before) {
    gt.setFlags(m.ref, flags);
    traceEntry(ctx, rd, m.ref, BY_XEN);
  }
  return GNTST_okay;
}

/** GNTTABOP_setup_table: grow the table and report its frames. */
export function setupTable(ctx: GrantContext, caller: Domain, dom: number, nrFrames: number): { status: number; frame_list: number[] } {
  const d = resolve(ctx, caller, dom);
  if (d === undefined) return { status: GNTST_bad_domain, frame_list: [] };
  if (d !== caller && !caller.privileged) return { status: GNTST_permission_denied, frame_list: [] };
  if (nrFrames > GNTTAB_MAX_FRAMES) return { status: GNTST_general_error, frame_list: [] };
  d.grants.grow(nrFrames);
  // Grant frames are Xen heap pages: number them after the domain's own memory and its shared_info
  // frame (mfnBase + nrPages; the hypervisor reserves 64 frames beyond it for these).
  const frameList = Array.from({ length: nrFrames }, (_, i) => d.memory.mfn(d.memory.nrPages + 1 + i));
  return { status: GNTST_okay, frame_list: frameList };
}

export function querySize(ctx: GrantContext, caller: Domain, dom: number): { status: number; nr_frames: number; max_nr_frames: number } {
  const d = resolve(ctx, caller, dom);
  if (d === undefined) return { status: GNTST_bad_domain, nr_frames: 0, max_nr_frames: 0 };
  if (d !== caller && !caller.privileged) return { status: GNTST_permission_denied, nr_frames: 0, max_nr_frames: 0 };
  return { status: GNTST_okay, nr_frames: d.grants.frames.length, max_nr_frames: GNTTAB_MAX_FRAMES };
}

export interface CopySide {
  ref?: number;
  gmfn?: number;
  domid: number;
  offset: number;
}
export interface CopyArgs {
  source: CopySide;
  dest: CopySide;
  len: number;
  flags: number;
}

/** GNTTABOP_copy of one segment, in gnttab_copy_one's order: domains, source, dest, then bounds. */
export function gnttabCopy(ctx: GrantContext, caller: Domain, op: CopyArgs): number {
  if (op.len === 0) return GNTST_okay;
  const lockDomain = (side: CopySide, byRef: boolean): Domain | number => {
    if (!byRef && side.domid !== DOMID_SELF) return GNTST_permission_denied; // only DOMID_SELF by frame
    const d = resolve(ctx, caller, side.domid);
    return d === undefined ? GNTST_bad_domain : d;
  };
  const srcByRef = (op.flags & GNTCOPY_source_gref) !== 0;
  const dstByRef = (op.flags & GNTCOPY_dest_gref) !== 0;
  const sd = lockDomain(op.source, srcByRef);
  if (typeof sd === 'number') return sd;
  const dd = lockDomain(op.dest, dstByRef);
  if (typeof dd === 'number') return dd;

  // gnttab_copy_claim_buf: a grant must name the caller and, for the dest, allow writing.
  const claim = (d: Domain, side: CopySide, byRef: boolean, write: boolean): Uint8Array | number => {
    if (!byRef) return d.memory.frame(side.gmfn ?? -1) ?? GNTST_bad_page;
    const ref = side.ref ?? -1;
    if (ref < 0 || ref >= d.grants.nrEntries) return GNTST_bad_gntref;
    const e = d.grants.entry(ref);
    if ((e.flags & GTF_type_mask) !== GTF_permit_access || e.domid !== caller.domid) return GNTST_general_error;
    if (write && (e.flags & GTF_readonly) !== 0) return GNTST_general_error;
    return d.memory.frame(e.frame) ?? GNTST_bad_page;
  };
  const src = claim(sd, op.source, srcByRef, false);
  if (typeof src === 'number') return src;
  const dst = claim(dd, op.dest, dstByRef, true);
  if (typeof dst === 'number') return dst;
  if (op.source.offset + op.len > PAGE_SIZE || op.dest.offset + op.len > PAGE_SIZE) return GNTST_bad_copy_arg;
  dst.set(src.subarray(op.source.offset, op.source.offset + op.len), op.dest.offset);
  return GNTST_okay;
}

/** Guest side: grant `domid` access to frame `gfn` (write frame and domid, then flags). */
export function grantAccess(ctx: GrantContext, d: Domain, ref: number, domid: number, gfn: number, readonly: boolean): boolean {
  if (ref < 0 || ref >= d.grants.nrEntries) return false;
  d.grants.writeEntry(ref, GTF_permit_access | (readonly ? GTF_readonly : 0), domid, gfn);
  traceEntry(ctx, d, ref, BY_GUEST);
  return true;
}

/** Guest side: revoke a grant; fails while Xen shows it mapped (GTF_reading/GTF_writing). */
export function endAccess(ctx: GrantContext, d: Domain, ref: number): boolean {
  if (ref < 0 || ref >= d.grants.nrEntries) return false;
  const e = d.grants.entry(ref);
  if ((e.flags & (GTF_reading | GTF_writing)) !== 0) return false;
  d.grants.setFlags(ref, 0);
  traceEntry(ctx, d, ref, BY_GUEST);
  return true;
}

/** On destruction a domain's own mappings of others' grants are released. */
export function releaseMappings(ctx: GrantContext, d: Domain): void {
  const mt = d.grants.maptrack;
  for (let h = mt.length - 1; h >= 0; h--) if (mt[h] !== undefined) unmapGrantRef(ctx, d, h);
}
