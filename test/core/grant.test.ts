/**
 * Grant tables v1 (reference section 13, xen/common/grant_table.c): map,
 * unmap, copy, setup_table and query_size with their GNTST_* results, and
 * the GTF_reading / GTF_writing bits Xen sets and clears in the granter's
 * entry (read at its real offset: 8 bytes per entry, flags u16 @0).
 */
import { describe, expect, it } from 'vitest';
import { DOMID_SELF } from '../../src/core/abi/domid.js';
import {
  GNTCOPY_dest_gref,
  GNTCOPY_source_gref,
  GNTMAP_device_map,
  GNTMAP_host_map,
  GNTMAP_readonly,
  GNTST_NAMES,
  GNTTAB_NR_RESERVED_ENTRIES,
  GRANT_ENTRIES_PER_FRAME,
  GTF_permit_access,
  GTF_readonly,
  GTF_reading,
  GTF_writing,
} from '../../src/core/abi/grant.js';
import type { Domain } from '../../src/core/hv/domain.js';
import { endAccess, grantAccess } from '../../src/core/hv/grant_table.js';
import { FIRST_FREE_GFN, type Hypervisor } from '../../src/core/hv/hypervisor.js';
import { addGuest, call, newMachine } from './helpers.js';

const REF = GNTTAB_NR_RESERVED_ENTRIES; // guests allocate from 8 up
const GFN = FIRST_FREE_GFN + 3;

function setup() {
  const { hv, dom0 } = newMachine();
  const front = addGuest(hv, { name: 'front' }); // domid 1, the granter
  const other = addGuest(hv, { name: 'other' }); // domid 2
  return { hv, dom0, front, other };
}

/** The granter's entry `ref`, decoded from the raw bytes of its grant frame. */
function rawEntry(d: Domain, ref: number): { flags: number; domid: number; frame: number } {
  const f = d.grants.frames[Math.floor(ref / GRANT_ENTRIES_PER_FRAME)]!;
  const v = new DataView(f.buffer, f.byteOffset + (ref % GRANT_ENTRIES_PER_FRAME) * 8, 8);
  return { flags: v.getUint16(0, true), domid: v.getUint16(2, true), frame: v.getUint32(4, true) };
}

function map(hv: Hypervisor, mapper: Domain, dom: number, ref: number, flags = GNTMAP_host_map) {
  const r = call(hv, mapper, 'gnttab_map_grant_ref', { dom, ref, flags, host_addr: 0x1000 });
  expect(r.ret).toBe(0);
  return r.out as { status: string; handle: number; dev_bus_addr: number };
}

function unmap(hv: Hypervisor, mapper: Domain, handle: number): string {
  const r = call(hv, mapper, 'gnttab_unmap_grant_ref', { handle });
  expect(r.ret).toBe(0);
  return (r.out as { status: string }).status;
}

describe('GNTST_* values', () => {
  it('match grant_table.h', () => {
    expect(GNTST_NAMES).toMatchObject({ 0: 'GNTST_okay', [-1]: 'GNTST_general_error', [-2]: 'GNTST_bad_domain', [-3]: 'GNTST_bad_gntref', [-4]: 'GNTST_bad_handle', [-8]: 'GNTST_permission_denied', [-10]: 'GNTST_bad_copy_arg', [-13]: 'GNTST_no_space' });
  });
});

describe('granting (guest side)', () => {
  it('grantAccess writes frame @4, domid @2 and flags @0 of the 8-byte entry', () => {
    const { hv, front } = setup();
    expect(grantAccess(hv, front, REF, 0, GFN, false)).toBe(true);
    expect(rawEntry(front, REF)).toEqual({ flags: GTF_permit_access, domid: 0, frame: GFN });
    grantAccess(hv, front, REF + 1, 0, GFN, true);
    expect(rawEntry(front, REF + 1).flags).toBe(GTF_permit_access | GTF_readonly);
  });
});

describe('GNTTABOP_map_grant_ref', () => {
  it('a writable host map succeeds and sets GTF_reading | GTF_writing in the granter\'s entry; the mapper sees the page', () => {
    const { hv, dom0, front } = setup();
    grantAccess(hv, front, REF, 0, GFN, false);
    const m = map(hv, dom0, front.domid, REF);
    expect(m.status).toBe('GNTST_okay');
    expect(rawEntry(front, REF).flags).toBe(GTF_permit_access | GTF_reading | GTF_writing);
    // The mapping shares the granter's page.
    const mt = dom0.grants.maptrack[m.handle]!;
    mt.page[10] = 0x5a;
    expect(front.memory.frame(GFN)![10]).toBe(0x5a);
    expect(m.dev_bus_addr).toBe(0);
  });

  it('a read-only map sets only GTF_reading', () => {
    const { hv, dom0, front } = setup();
    grantAccess(hv, front, REF, 0, GFN, true);
    const m = map(hv, dom0, front.domid, REF, GNTMAP_host_map | GNTMAP_readonly);
    expect(m.status).toBe('GNTST_okay');
    expect(rawEntry(front, REF).flags).toBe(GTF_permit_access | GTF_readonly | GTF_reading);
  });

  it('a device map reports the frame\'s bus address', () => {
    const { hv, dom0, front } = setup();
    grantAccess(hv, front, REF, 0, GFN, false);
    const m = map(hv, dom0, front.domid, REF, GNTMAP_device_map);
    expect(m.status).toBe('GNTST_okay');
    expect(m.dev_bus_addr).toBe(front.memory.mfn(GFN) * 4096);
  });

  it('flags with neither host_map nor device_map give GNTST_bad_gntref, before the domain lookup', () => {
    const { hv, dom0, front } = setup();
    grantAccess(hv, front, REF, 0, GFN, false);
    expect(map(hv, dom0, front.domid, REF, GNTMAP_readonly).status).toBe('GNTST_bad_gntref');
    expect(map(hv, dom0, 99, REF, 0).status).toBe('GNTST_bad_gntref');
    expect(rawEntry(front, REF).flags).toBe(GTF_permit_access);
  });

  it('an unknown granting domain gives GNTST_bad_domain', () => {
    const { hv, dom0 } = setup();
    expect(map(hv, dom0, 99, REF).status).toBe('GNTST_bad_domain');
  });

  it('a ref beyond the granter\'s table gives GNTST_bad_gntref', () => {
    const { hv, dom0, front } = setup();
    expect(map(hv, dom0, front.domid, GRANT_ENTRIES_PER_FRAME).status).toBe('GNTST_bad_gntref');
  });

  it('an entry granted to another domain gives GNTST_general_error', () => {
    const { hv, dom0, front, other } = setup();
    grantAccess(hv, front, REF, other.domid, GFN, false);
    expect(map(hv, dom0, front.domid, REF).status).toBe('GNTST_general_error');
    expect(rawEntry(front, REF).flags).toBe(GTF_permit_access);
  });

  it('an entry that is not GTF_permit_access (e.g. revoked, GTF_invalid) gives GNTST_general_error', () => {
    const { hv, dom0, front } = setup();
    expect(map(hv, dom0, front.domid, REF).status).toBe('GNTST_general_error');
  });

  it('a writable map of a GTF_readonly entry gives GNTST_general_error', () => {
    const { hv, dom0, front } = setup();
    grantAccess(hv, front, REF, 0, GFN, true);
    expect(map(hv, dom0, front.domid, REF).status).toBe('GNTST_general_error');
    expect(rawEntry(front, REF).flags).toBe(GTF_permit_access | GTF_readonly);
  });

  it('an entry pinned by another mapping domain gives GNTST_general_error', () => {
    const { hv, dom0, front, other } = setup();
    grantAccess(hv, front, REF, 0, GFN, false);
    map(hv, dom0, front.domid, REF);
    // Re-grant the same ref to `other` while dom0 still has it pinned.
    front.grants.writeEntry(REF, GTF_permit_access | GTF_reading | GTF_writing, other.domid, GFN);
    expect(map(hv, other, front.domid, REF).status).toBe('GNTST_general_error');
  });

  it('a guest may map its own grant through DOMID_SELF', () => {
    const { hv, front } = setup();
    grantAccess(hv, front, REF, front.domid, GFN, false);
    expect(map(hv, front, DOMID_SELF, REF).status).toBe('GNTST_okay');
  });
});

describe('GNTTABOP_unmap_grant_ref', () => {
  it('the last unmap clears GTF_reading and GTF_writing; the guest can then revoke', () => {
    const { hv, dom0, front } = setup();
    grantAccess(hv, front, REF, 0, GFN, false);
    const m = map(hv, dom0, front.domid, REF);
    expect(endAccess(hv, front, REF)).toBe(false); // still in use
    expect(unmap(hv, dom0, m.handle)).toBe('GNTST_okay');
    expect(rawEntry(front, REF).flags).toBe(GTF_permit_access);
    expect(endAccess(hv, front, REF)).toBe(true);
    expect(rawEntry(front, REF).flags).toBe(0);
  });

  it('GTF_writing goes with the last writable mapping, GTF_reading with the last mapping', () => {
    const { hv, dom0, front } = setup();
    grantAccess(hv, front, REF, 0, GFN, false);
    const rw = map(hv, dom0, front.domid, REF);
    const ro = map(hv, dom0, front.domid, REF, GNTMAP_host_map | GNTMAP_readonly);
    expect(ro.status).toBe('GNTST_okay');
    expect(ro.handle).not.toBe(rw.handle);
    expect(unmap(hv, dom0, rw.handle)).toBe('GNTST_okay');
    expect(rawEntry(front, REF).flags).toBe(GTF_permit_access | GTF_reading);
    expect(unmap(hv, dom0, ro.handle)).toBe('GNTST_okay');
    expect(rawEntry(front, REF).flags).toBe(GTF_permit_access);
  });

  it('an unused or out-of-range handle gives GNTST_bad_handle; unmapping twice too', () => {
    const { hv, dom0, front } = setup();
    expect(unmap(hv, dom0, 0)).toBe('GNTST_bad_handle');
    expect(unmap(hv, dom0, 12345)).toBe('GNTST_bad_handle');
    grantAccess(hv, front, REF, 0, GFN, false);
    const m = map(hv, dom0, front.domid, REF);
    expect(unmap(hv, dom0, m.handle)).toBe('GNTST_okay');
    expect(unmap(hv, dom0, m.handle)).toBe('GNTST_bad_handle');
  });

  it("a handle belongs to the mapper: another domain's unmap of it gives GNTST_bad_handle", () => {
    const { hv, dom0, front, other } = setup();
    grantAccess(hv, front, REF, 0, GFN, false);
    const m = map(hv, dom0, front.domid, REF);
    expect(unmap(hv, other, m.handle)).toBe('GNTST_bad_handle');
    expect(rawEntry(front, REF).flags).toBe(GTF_permit_access | GTF_reading | GTF_writing);
  });
});

describe('GNTTABOP_setup_table and query_size', () => {
  it('a fresh table has 1 frame of 512 entries, max 64 frames', () => {
    const { hv, front } = setup();
    expect(call(hv, front, 'gnttab_query_size', { dom: DOMID_SELF })).toEqual({ ret: 0, out: { nr_frames: 1, max_nr_frames: 64, status: 'GNTST_okay' } });
  });

  it('setup_table grows the table and returns its frame list; refs in the new frames become mappable', () => {
    const { hv, dom0, front } = setup();
    const r = call(hv, front, 'gnttab_setup_table', { dom: DOMID_SELF, nr_frames: 4 });
    expect(r.out).toMatchObject({ status: 'GNTST_okay' });
    expect((r.out as { frame_list: number[] }).frame_list).toHaveLength(4);
    expect(call(hv, front, 'gnttab_query_size', { dom: DOMID_SELF }).out).toMatchObject({ nr_frames: 4 });
    const ref = 3 * GRANT_ENTRIES_PER_FRAME + 7;
    grantAccess(hv, front, ref, 0, GFN, false);
    expect(map(hv, dom0, front.domid, ref).status).toBe('GNTST_okay');
    expect(rawEntry(front, ref).flags).toBe(GTF_permit_access | GTF_reading | GTF_writing);
  });

  it('setup_table frames are frames of their own: not a guest frame, not shared_info, not another domain\'s', () => {
    const { hv, dom0, front } = setup();
    const frames = (call(hv, front, 'gnttab_setup_table', { dom: DOMID_SELF, nr_frames: 64 }).out as { frame_list: number[] }).frame_list;
    const taken = new Set<number>([hv.sharedInfoMfn(front), hv.sharedInfoMfn(dom0)]);
    for (let gfn = 0; gfn < front.memory.nrPages; gfn++) taken.add(front.memory.mfn(gfn));
    for (let gfn = 0; gfn < dom0.memory.nrPages; gfn++) taken.add(dom0.memory.mfn(gfn));
    expect(new Set(frames).size).toBe(64);
    expect(frames.filter((f) => taken.has(f))).toEqual([]);
  });

  it('setup_table asking for more than 64 frames gives GNTST_general_error', () => {
    const { hv, front } = setup();
    expect(call(hv, front, 'gnttab_setup_table', { dom: DOMID_SELF, nr_frames: 65 }).out).toMatchObject({ status: 'GNTST_general_error' });
    expect(call(hv, front, 'gnttab_query_size', { dom: DOMID_SELF }).out).toMatchObject({ nr_frames: 1 });
  });

  it('an unknown domain gives GNTST_bad_domain; a guest naming another domain gets GNTST_permission_denied; dom0 may', () => {
    const { hv, dom0, front, other } = setup();
    expect(call(hv, front, 'gnttab_setup_table', { dom: 77, nr_frames: 1 }).out).toMatchObject({ status: 'GNTST_bad_domain' });
    expect(call(hv, front, 'gnttab_setup_table', { dom: other.domid, nr_frames: 1 }).out).toMatchObject({ status: 'GNTST_permission_denied' });
    expect(call(hv, front, 'gnttab_query_size', { dom: 77 }).out).toMatchObject({ status: 'GNTST_bad_domain' });
    expect(call(hv, front, 'gnttab_query_size', { dom: other.domid }).out).toMatchObject({ status: 'GNTST_permission_denied' });
    expect(call(hv, dom0, 'gnttab_setup_table', { dom: other.domid, nr_frames: 2 }).out).toMatchObject({ status: 'GNTST_okay' });
    expect(call(hv, dom0, 'gnttab_query_size', { dom: other.domid }).out).toMatchObject({ nr_frames: 2, status: 'GNTST_okay' });
  });
});

describe('GNTTABOP_copy', () => {
  function copy(hv: Hypervisor, caller: Domain, source: object, dest: object, len: number, flags: number): string {
    const r = call(hv, caller, 'gnttab_copy', { source, dest, len, flags });
    expect(r.ret).toBe(0);
    return (r.out as { status: string }).status;
  }

  it('copies from a granted frame (source by gref) into one of the caller\'s own frames, leaving the entry flags alone', () => {
    const { hv, dom0, front } = setup();
    front.memory.frame(GFN)!.set([1, 2, 3, 4], 100);
    grantAccess(hv, front, REF, 0, GFN, true);
    const st = copy(hv, dom0, { ref: REF, domid: front.domid, offset: 100 }, { gmfn: FIRST_FREE_GFN, domid: DOMID_SELF, offset: 8 }, 4, GNTCOPY_source_gref);
    expect(st).toBe('GNTST_okay');
    expect(Array.from(dom0.memory.frame(FIRST_FREE_GFN)!.subarray(8, 12))).toEqual([1, 2, 3, 4]);
    expect(rawEntry(front, REF).flags).toBe(GTF_permit_access | GTF_readonly);
  });

  it('copies into a writable grant (dest by gref)', () => {
    const { hv, dom0, front } = setup();
    dom0.memory.frame(FIRST_FREE_GFN)!.set([9, 8, 7], 0);
    grantAccess(hv, front, REF, 0, GFN, false);
    expect(copy(hv, dom0, { gmfn: FIRST_FREE_GFN, domid: DOMID_SELF, offset: 0 }, { ref: REF, domid: front.domid, offset: 4093 }, 3, GNTCOPY_dest_gref)).toBe('GNTST_okay');
    expect(Array.from(front.memory.frame(GFN)!.subarray(4093))).toEqual([9, 8, 7]);
  });

  it('a side addressed by frame must name DOMID_SELF: otherwise GNTST_permission_denied', () => {
    const { hv, dom0, front } = setup();
    expect(copy(hv, dom0, { gmfn: GFN, domid: front.domid, offset: 0 }, { gmfn: FIRST_FREE_GFN, domid: DOMID_SELF, offset: 0 }, 4, 0)).toBe('GNTST_permission_denied');
    expect(copy(hv, dom0, { gmfn: GFN, domid: DOMID_SELF, offset: 0 }, { gmfn: FIRST_FREE_GFN, domid: front.domid, offset: 0 }, 4, 0)).toBe('GNTST_permission_denied');
  });

  it('an unknown domain on a gref side gives GNTST_bad_domain', () => {
    const { hv, dom0 } = setup();
    expect(copy(hv, dom0, { ref: REF, domid: 88, offset: 0 }, { gmfn: FIRST_FREE_GFN, domid: DOMID_SELF, offset: 0 }, 4, GNTCOPY_source_gref)).toBe('GNTST_bad_domain');
  });

  it('offset + len beyond 4096 on either side gives GNTST_bad_copy_arg', () => {
    const { hv, dom0 } = setup();
    const self = (gmfn: number, offset: number) => ({ gmfn, domid: DOMID_SELF, offset });
    expect(copy(hv, dom0, self(FIRST_FREE_GFN, 4095), self(FIRST_FREE_GFN + 1, 0), 2, 0)).toBe('GNTST_bad_copy_arg');
    expect(copy(hv, dom0, self(FIRST_FREE_GFN, 0), self(FIRST_FREE_GFN + 1, 4000), 97, 0)).toBe('GNTST_bad_copy_arg');
    expect(copy(hv, dom0, self(FIRST_FREE_GFN, 0), self(FIRST_FREE_GFN + 1, 4000), 96, 0)).toBe('GNTST_okay');
  });

  it('a gref that is out of range, not granted to the caller, or read-only as a destination is refused', () => {
    const { hv, dom0, front, other } = setup();
    const mine = { gmfn: FIRST_FREE_GFN, domid: DOMID_SELF, offset: 0 };
    expect(copy(hv, dom0, { ref: 100000, domid: front.domid, offset: 0 }, mine, 4, GNTCOPY_source_gref)).toBe('GNTST_bad_gntref');
    grantAccess(hv, front, REF, other.domid, GFN, false);
    expect(copy(hv, dom0, { ref: REF, domid: front.domid, offset: 0 }, mine, 4, GNTCOPY_source_gref)).toBe('GNTST_general_error');
    grantAccess(hv, front, REF, 0, GFN, true);
    expect(copy(hv, dom0, mine, { ref: REF, domid: front.domid, offset: 0 }, 4, GNTCOPY_dest_gref)).toBe('GNTST_general_error');
  });
});

describe('frontend ring hand-off (reference 13.4)', () => {
  it('grant, alloc_unbound, map + bind_interdomain, then teardown: flags and port states at each step', () => {
    const { hv, dom0, front } = setup();
    grantAccess(hv, front, REF, 0, GFN, false);
    const p = call(hv, front, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 }).out!.port as number;
    const m = map(hv, dom0, front.domid, REF);
    expect(rawEntry(front, REF).flags).toBe(GTF_permit_access | GTF_reading | GTF_writing);
    const q = call(hv, dom0, 'bind_interdomain', { remote_dom: front.domid, remote_port: p }).out!.local_port as number;
    expect(call(hv, front, 'status', { dom: DOMID_SELF, port: p }).out).toMatchObject({ status: 'interdomain', u: { interdomain: { dom: 0, port: q } } });
    // Teardown: the backend unmaps and closes; the frontend's port reverts to UNBOUND awaiting dom0.
    expect(unmap(hv, dom0, m.handle)).toBe('GNTST_okay');
    expect(call(hv, dom0, 'close', { port: q }).ret).toBe(0);
    expect(call(hv, front, 'status', { dom: DOMID_SELF, port: p }).out).toMatchObject({ status: 'unbound', u: { unbound: { dom: 0 } } });
    expect(endAccess(hv, front, REF)).toBe(true);
    expect(call(hv, front, 'close', { port: p }).ret).toBe(0);
  });
});
