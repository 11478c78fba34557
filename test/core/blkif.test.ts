/**
 * The block split driver (xen/include/public/io/blkif.h; Linux's
 * xen-blkback and xen-blkfront, Mini-OS's blkfront): the x86-64 byte
 * layouts, the XenbusState handshake through xenstore, data through the
 * ring into a disk image and back, splitting, a full ring, the backend's
 * checks, notification suppression and teardown.
 */
import { describe, expect, it } from 'vitest';
import {
  BLKIF_DISCARD_FLAG,
  BLKIF_DISCARD_NR_SECTORS,
  BLKIF_MAX_SEGMENTS_PER_REQUEST,
  BLKIF_OP_DISCARD,
  BLKIF_OP_FLUSH_DISKCACHE,
  BLKIF_OP_INDIRECT,
  BLKIF_OP_READ,
  BLKIF_OP_RESERVED_1,
  BLKIF_OP_WRITE,
  BLKIF_OP_WRITE_BARRIER,
  BLKIF_REQUEST_DISCARD_LAYOUT,
  BLKIF_REQUEST_DISCARD_SIZE,
  BLKIF_REQUEST_INDIRECT_LAYOUT,
  BLKIF_REQUEST_INDIRECT_SIZE,
  BLKIF_REQUEST_LAYOUT,
  BLKIF_REQUEST_SEGMENT_LAYOUT,
  BLKIF_REQUEST_SIZE,
  BLKIF_RESPONSE_LAYOUT,
  BLKIF_RESPONSE_SIZE,
  BLKIF_RING_ENTRY_SIZE,
  BLKIF_RING_SIZE,
  BLKIF_RSP_EOPNOTSUPP,
  BLKIF_RSP_ERROR,
  BLKIF_RSP_OKAY,
  BLKIF_SEG_SIZE,
  VDISK_CDROM,
  VDISK_READONLY,
  VDISK_REMOVABLE,
  XEN_IO_PROTO_ABI_NATIVE,
  decodeDiscard,
  decodeRequest,
  decodeResponse,
  encodeDiscard,
  encodeRequest,
  encodeResponse,
  xvdDevid,
  type BlkifRequest,
} from '../../src/core/abi/blkif.js';
import { GNTMAP_readonly, GTF_permit_access, GTF_readonly, GTF_reading, GTF_writing } from '../../src/core/abi/grant.js';
import { PAGE_SIZE, SRING_HEADER_SIZE, SRING_REQ_PROD, type LayoutField } from '../../src/core/abi/layout.js';
import {
  XenbusStateClosed,
  XenbusStateClosing,
  XenbusStateConnected,
  XenbusStateInitialised,
  XenbusStateInitWait,
} from '../../src/core/abi/xenbus.js';
import { BlkFront, type BlkFrontOptions } from '../../src/core/guest/blkfront.js';
import { MiniOsKernel, miniosKernel } from '../../src/core/guest/minios.js';
import { ringSize } from '../../src/core/guest/ring.js';
import { XenbusDevice } from '../../src/core/guest/xenbus_device.js';
import { FIRST_FREE_GFN, Hypervisor } from '../../src/core/hv/hypervisor.js';
import { blkbackProbe, DiskImage } from '../../src/core/tools/blkback.js';
import { Dom0Kernel, dom0Kernel } from '../../src/core/tools/dom0_modern.js';
import type { BackendEnv } from '../../src/core/tools/xenbus_backend.js';
import { ecs } from './helpers.js';

// ---------------------------------------------------------------------------
// Layouts

function at(layout: readonly LayoutField[]): Record<string, [number, number]> {
  return Object.fromEntries(layout.map((f) => [f.field, [f.offset, f.size]]));
}

/** Fields in order, touching end to end (padding listed), covering exactly `size` bytes. */
function expectTiles(layout: readonly LayoutField[], size: number): void {
  let next = 0;
  for (const f of layout) {
    expect(f.offset, f.field).toBe(next);
    if (f.size === 2 || f.size === 4 || f.size === 8) expect(f.offset % f.size, `${f.field} aligned`).toBe(0);
    next = f.offset + f.size;
  }
  expect(next).toBe(size);
}

describe('blkif.h layouts (x86-64)', () => {
  it('blkif_request_segment: gref 0 (4), first_sect 4 (1), last_sect 5 (1), padded to 8', () => {
    expect(at(BLKIF_REQUEST_SEGMENT_LAYOUT)).toEqual({ gref: [0, 4], first_sect: [4, 1], last_sect: [5, 1], '(padding)': [6, 2] });
    expect(BLKIF_SEG_SIZE).toBe(8);
    expectTiles(BLKIF_REQUEST_SEGMENT_LAYOUT, 8);
  });

  it('blkif_request: operation 0, nr_segments 1, handle 2 (2), id 8 (8), sector_number 16 (8), seg[11] from 24; 112 bytes', () => {
    const f = at(BLKIF_REQUEST_LAYOUT);
    expect(f.operation).toEqual([0, 1]);
    expect(f.nr_segments).toEqual([1, 1]);
    expect(f.handle).toEqual([2, 2]);
    expect(f.id).toEqual([8, 8]);
    expect(f.sector_number).toEqual([16, 8]);
    for (let i = 0; i < 11; i++) expect(f[`seg[${i}]`], `seg[${i}]`).toEqual([24 + 8 * i, 8]);
    expect(f['seg[11]']).toBeUndefined();
    expect(BLKIF_MAX_SEGMENTS_PER_REQUEST).toBe(11);
    expect(BLKIF_REQUEST_SIZE).toBe(112);
    expectTiles(BLKIF_REQUEST_LAYOUT, 112);
  });

  it('blkif_response: id 0 (8), operation 8 (1), status 10 (2, int16); 16 bytes', () => {
    const f = at(BLKIF_RESPONSE_LAYOUT);
    expect([f.id, f.operation, f.status]).toEqual([[0, 8], [8, 1], [10, 2]]);
    expect(BLKIF_RESPONSE_SIZE).toBe(16);
    expectTiles(BLKIF_RESPONSE_LAYOUT, 16);
  });

  it('blkif_request_discard: flag 1, handle 2, id 8, sector_number 16, nr_sectors 24; 32 bytes. blkif_request_indirect: 64 bytes with indirect_grefs[8] at 28', () => {
    const d = at(BLKIF_REQUEST_DISCARD_LAYOUT);
    expect([d.operation, d.flag, d.handle, d.id, d.sector_number, d.nr_sectors]).toEqual([[0, 1], [1, 1], [2, 2], [8, 8], [16, 8], [24, 8]]);
    expectTiles(BLKIF_REQUEST_DISCARD_LAYOUT, BLKIF_REQUEST_DISCARD_SIZE);
    expect(BLKIF_REQUEST_DISCARD_SIZE).toBe(32);
    const n = at(BLKIF_REQUEST_INDIRECT_LAYOUT);
    expect([n.operation, n.indirect_op, n.nr_segments, n.id, n.sector_number, n.handle, n.indirect_grefs]).toEqual([[0, 1], [1, 1], [2, 2], [8, 8], [16, 8], [24, 2], [28, 32]]);
    expectTiles(BLKIF_REQUEST_INDIRECT_LAYOUT, BLKIF_REQUEST_INDIRECT_SIZE);
    expect(BLKIF_REQUEST_INDIRECT_SIZE).toBe(64);
  });

  it('one page holds a 32-slot ring of 112-byte entries: 36 fit after the 64-byte header, rounded down to a power of two', () => {
    expect(BLKIF_RING_ENTRY_SIZE).toBe(112);
    expect(BLKIF_RING_SIZE).toBe(32);
    expect(ringSize(BLKIF_RING_ENTRY_SIZE)).toBe(BLKIF_RING_SIZE);
    expect(Math.floor((PAGE_SIZE - SRING_HEADER_SIZE) / BLKIF_RING_ENTRY_SIZE)).toBe(36);
    expect(SRING_HEADER_SIZE + BLKIF_RING_SIZE * BLKIF_RING_ENTRY_SIZE).toBeLessThanOrEqual(PAGE_SIZE);
  });

  it('the numbers: BLKIF_OP_* 0..6, BLKIF_RSP_* 0/-1/-2, VDISK_* 1/2/4, protocol x86_64-abi, xvda = 51712', () => {
    expect([BLKIF_OP_READ, BLKIF_OP_WRITE, BLKIF_OP_WRITE_BARRIER, BLKIF_OP_FLUSH_DISKCACHE, BLKIF_OP_RESERVED_1, BLKIF_OP_DISCARD, BLKIF_OP_INDIRECT]).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect([BLKIF_RSP_OKAY, BLKIF_RSP_ERROR, BLKIF_RSP_EOPNOTSUPP]).toEqual([0, -1, -2]);
    expect([VDISK_CDROM, VDISK_REMOVABLE, VDISK_READONLY]).toEqual([1, 2, 4]);
    expect(XEN_IO_PROTO_ABI_NATIVE).toBe('x86_64-abi');
    expect(xvdDevid(0)).toBe(51712);
    expect(xvdDevid(1, 2)).toBe((202 << 8) | (1 << 4) | 2);
  });

  it('encodeRequest writes each field at its offset, zeroes padding and unused segments, and decodes back', () => {
    const slot = new Uint8Array(BLKIF_REQUEST_SIZE).fill(0xee);
    const req: BlkifRequest = {
      operation: BLKIF_OP_WRITE,
      nrSegments: 2,
      handle: 51712,
      id: 0x0102030405060708n,
      sectorNumber: 2 ** 40 + 5,
      seg: [
        { gref: 0xa0b0c0d0, firstSect: 1, lastSect: 7 },
        { gref: 9, firstSect: 0, lastSect: 3 },
      ],
    };
    encodeRequest(slot, req);
    const hex = (from: number, to: number) => [...slot.subarray(from, to)];
    expect(hex(0, 8)).toEqual([1, 2, 0x00, 0xca, 0, 0, 0, 0]); // 51712 = 0xca00
    expect(hex(8, 16)).toEqual([8, 7, 6, 5, 4, 3, 2, 1]);
    expect(hex(16, 24)).toEqual([5, 0, 0, 0, 0, 1, 0, 0]);
    expect(hex(24, 32)).toEqual([0xd0, 0xc0, 0xb0, 0xa0, 1, 7, 0, 0]);
    expect(hex(32, 40)).toEqual([9, 0, 0, 0, 0, 3, 0, 0]);
    expect(slot.subarray(40).every((b) => b === 0)).toBe(true);
    expect(decodeRequest(slot)).toEqual(req);
  });

  it('responses carry a signed 16-bit status and the full 64-bit id; discard requests use their own layout', () => {
    const slot = new Uint8Array(BLKIF_RING_ENTRY_SIZE).fill(0x55);
    encodeResponse(slot, { id: 0xffffffffffffffffn, operation: BLKIF_OP_READ, status: BLKIF_RSP_EOPNOTSUPP });
    expect([...slot.subarray(0, 16)]).toEqual([255, 255, 255, 255, 255, 255, 255, 255, 0, 0, 0xfe, 0xff, 0, 0, 0, 0]);
    expect(slot[16]).toBe(0x55); // the rest of the slot is not the response's
    expect(decodeResponse(slot)).toEqual({ id: 0xffffffffffffffffn, operation: BLKIF_OP_READ, status: -2 });
    encodeDiscard(slot, { operation: BLKIF_OP_DISCARD, flag: 1, handle: 7, id: 3, sectorNumber: 10, nrSectors: 2 ** 33 });
    expect(slot[0]).toBe(5);
    expect(slot[BLKIF_DISCARD_FLAG]).toBe(1);
    expect([...slot.subarray(BLKIF_DISCARD_NR_SECTORS, BLKIF_DISCARD_NR_SECTORS + 8)]).toEqual([0, 0, 0, 0, 2, 0, 0, 0]);
    expect(decodeDiscard(slot)).toEqual({ operation: 5, flag: 1, handle: 7, id: 3n, sectorNumber: 10, nrSectors: 2 ** 33 });
  });
});

// ---------------------------------------------------------------------------
// A machine: dom0 with blkback, a Mini-OS guest with a vbd and a BlkFront

interface RigOpts {
  /** The disk blkback serves; null: none. Default 64 sectors of 512 bytes. */
  image?: DiskImage | null;
  mode?: string;
  front?: BlkFrontOptions;
  /** Start the frontend and run the handshake (default true). */
  start?: boolean;
}

function rig(o: RigOpts = {}) {
  const hv = new Hypervisor({ seed: 3 });
  const dom0 = hv.createDomain({ name: 'dom0' }, dom0Kernel());
  const k0 = dom0.kernel as Dom0Kernel;
  const g = hv.createDomain({ name: 'guest' });
  k0.buildGuest(g);
  hv.boot(g, miniosKernel());
  const mini = g.kernel as MiniOsKernel;
  // Let Mini-OS finish booting (and look for devices) first: the vbd below is driven by this test's BlkFront alone.
  hv.run(10_000_000);
  const image = o.image === null ? undefined : (o.image ?? new DiskImage(64));
  // The backend's hypercalls, as it makes them.
  // The backend's hypercalls as it makes them, with the guest's grant entry flags just after each map.
  const calls: { op: string; args: Readonly<Record<string, unknown>>; guestFlags?: number }[] = [];
  const env: BackendEnv = {
    ...k0.backendEnv,
    call: (op, args) => {
      const r = k0.backendEnv.call(op, args);
      const ref = args.ref as number;
      calls.push(op === 'gnttab_map_grant_ref' && ref < g.grants.nrEntries ? { op, args, guestFlags: g.grants.entry(ref).flags } : { op, args });
      return r;
    },
  };
  const probe = blkbackProbe(env, () => image);
  k0.registerBackend('vbd', probe);
  const devid = xvdDevid(0);
  const paths = k0.addDevice(g, 'vbd', devid, { frontend: { 'virtual-device': String(devid), 'device-type': 'disk' }, backend: { mode: o.mode ?? 'w' } });
  const front = new BlkFront(mini, mini.xenbus!, paths.frontend, o.front);
  const ready: (string | undefined)[] = [];
  const run = (ns = 10_000_000): void => hv.run(ns);
  if (o.start !== false) {
    front.start((e) => ready.push(e));
    run();
  }
  const back = () => probe.instances.get(paths.backend)!;
  const xs = (p: string) => k0.xenstored.readValue(p);
  return { hv, k0, g, mini, image, front, back, probe, paths, calls, ready, run, xs };
}

type Rig = ReturnType<typeof rig>;

function readNow(r: Rig, sector: number, count: number): { err: string | undefined; data: Uint8Array } {
  let out: { err: string | undefined; data: Uint8Array } | undefined;
  r.front.read(sector, count, (err, data) => (out = { err, data }));
  r.run();
  expect(out, 'the read completed').toBeDefined();
  return out!;
}

function writeNow(r: Rig, sector: number, data: Uint8Array): string | undefined {
  let out: { err: string | undefined } | undefined;
  r.front.write(sector, data, (err) => (out = { err }));
  r.run();
  expect(out, 'the write completed').toBeDefined();
  return out!.err;
}

function rawNow(r: Rig, req: Omit<BlkifRequest, 'id'>): number {
  let status: number | undefined;
  r.front.submitRaw(req, (s) => (status = s));
  r.run();
  expect(status, 'the request was answered').toBeDefined();
  return status!;
}

/** Bytes with a recognisable pattern per sector. */
function pattern(sectors: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: sectors * 512 }, (_, i) => (i * 31 + seed * 17 + (i >> 9)) & 0xff);
}

function grantFlags(r: Rig, ref: number): number {
  return r.g.grants.entry(ref).flags;
}

describe('handshake', () => {
  it('goes Initialising → InitWait → Initialised → Connected at both ends, in that order', () => {
    const r = rig();
    expect(r.ready).toEqual([undefined]);
    expect(r.front.dev.history).toEqual([`be:${XenbusStateInitWait}`, `fe:${XenbusStateInitialised}`, `be:${XenbusStateConnected}`, `fe:${XenbusStateConnected}`]);
    expect(r.back().dev.history).toEqual(['fe:1', 'be:2', 'fe:3', 'be:4', 'fe:4']);
    expect(r.xs(`${r.paths.frontend}/state`)).toBe('4');
    expect(r.xs(`${r.paths.backend}/state`)).toBe('4');
  });

  it('publishes the backend features before InitWait and the device properties before Connected', () => {
    const r = rig({ image: new DiskImage(100, 512) });
    const be = r.paths.backend;
    expect(r.xs(`${be}/feature-flush-cache`)).toBe('1');
    expect(r.xs(`${be}/feature-barrier`)).toBe('1');
    expect(r.xs(`${be}/feature-discard`)).toBe('1');
    expect(r.xs(`${be}/discard-granularity`)).toBe('512');
    expect(r.xs(`${be}/max-ring-page-order`)).toBe('0');
    expect(r.xs(`${be}/feature-max-indirect-segments`)).toBeUndefined();
    expect(r.xs(`${be}/sectors`)).toBe('100');
    expect(r.xs(`${be}/info`)).toBe('0');
    expect(r.xs(`${be}/sector-size`)).toBe('512');
    expect(r.front.info).toEqual({ sectors: 100, sectorSize: 512, physicalSectorSize: 512, info: 0, readOnly: false });
    expect(r.front.features).toMatchObject({ flushCache: true, barrier: true, discard: true });
  });

  it('the frontend publishes ring-ref (a grant of the ring page to dom0, mapped by blkback), event-channel (bound to dom0) and protocol', () => {
    const r = rig();
    const fe = r.paths.frontend;
    expect(r.xs(`${fe}/ring-ref`)).toBe(String(r.front.ringRef));
    expect(r.xs(`${fe}/event-channel`)).toBe(String(r.front.port));
    expect(r.xs(`${fe}/protocol`)).toBe('x86_64-abi');
    const e = r.g.grants.entry(r.front.ringRef);
    expect(e.domid).toBe(0);
    expect(e.frame).toBe(r.front.ringGfn);
    // GTF_reading|GTF_writing: Xen's mark that dom0 maps it writable.
    expect(e.flags).toBe(GTF_permit_access | GTF_reading | GTF_writing);
    expect(r.calls.find((c) => c.op === 'gnttab_map_grant_ref')!.args).toMatchObject({ ref: r.front.ringRef, dom: r.g.domid });
    expect(ecs(r.g, r.front.port)).toBe('interdomain');
    expect(ecs(r.hv.domain(0)!, r.back().port)).toBe('interdomain');
    expect(r.hv.domain(0)!.ports.remoteDom[r.back().port]).toBe(r.g.domid);
    // blkback maps the very page the frontend initialised.
    expect(r.k0.backendEnv.mapped(r.back().ringHandle)).toBe(r.g.memory.frame(r.front.ringGfn));
  });

  it('mode "r" or a read-only image puts VDISK_READONLY in info', () => {
    expect(rig({ mode: 'r' }).front.info!.readOnly).toBe(true);
    const r = rig({ image: new DiskImage(8, 512, { readOnly: true, cdrom: true }) });
    expect(r.xs(`${r.paths.backend}/info`)).toBe(String(VDISK_READONLY | VDISK_CDROM));
    expect(r.front.info!.readOnly).toBe(true);
  });

  it('without a disk image, blkback fails the device (xenbus fatal: Closing, the message in error/) and the frontend gives up', () => {
    const r = rig({ image: null });
    const be = r.back();
    expect(be.dev.error).toMatch(/no disk image for vbd 51712 of domain 1/);
    expect(r.xs(`/local/domain/0/error/backend/vbd/1/51712/error`)).toMatch(/no disk image/);
    expect(r.ready).toHaveLength(1);
    expect(r.ready[0]).toMatch(/closed before connecting/);
    expect(r.front.phase).toBe('closed');
    expect(r.xs(`${r.paths.frontend}/state`)).toBe(String(XenbusStateClosed));
    expect(r.calls.filter((c) => c.op === 'gnttab_map_grant_ref')).toHaveLength(0);
    let err: string | undefined;
    r.front.read(0, 1, (e) => (err = e));
    expect(err).toMatch(/ENODEV/);
  });

  it('blkback refuses a frontend asking for the x86_32 layouts (fatal, not a crash)', () => {
    const r = rig({ start: false });
    const seen: number[] = [];
    const fe = new XenbusDevice(r.mini.xenbus!, r.paths.frontend, 'frontend', {
      otherendChanged: (d, state) => {
        seen.push(state);
        if (state !== XenbusStateInitWait) return;
        d.write('ring-ref', '8', () => d.write('event-channel', '9', () => d.write('protocol', 'x86_32-abi', () => d.switchState(XenbusStateInitialised))));
      },
    });
    fe.start();
    r.run();
    expect(r.back().dev.error).toMatch(/x86_32-abi not supported/);
    expect(seen).toEqual([XenbusStateInitWait, XenbusStateClosing]);
    expect(r.back().ring).toBeUndefined();
  });

  it('requests made before the handshake finishes wait for it', () => {
    const r = rig({ start: false, image: new DiskImage(16, 512, { content: pattern(16, 4) }) });
    let got: Uint8Array | undefined;
    r.front.read(2, 3, (err, d) => {
      expect(err).toBeUndefined();
      got = d;
    });
    r.front.start();
    r.run();
    expect(got).toEqual(pattern(16, 4).subarray(1024, 2560));
  });
});

describe('data', () => {
  it('a write lands in the image bytes at sector × 512, nothing else changes, and reads back', () => {
    const r = rig();
    const before = r.image!.bytes.slice();
    const data = pattern(3, 1);
    expect(writeNow(r, 5, data)).toBeUndefined();
    expect(r.image!.bytes.subarray(5 * 512, 8 * 512)).toEqual(data);
    expect(r.image!.bytes.subarray(0, 5 * 512)).toEqual(before.subarray(0, 5 * 512));
    expect(r.image!.bytes.subarray(8 * 512)).toEqual(before.subarray(8 * 512));
    const back = readNow(r, 5, 3);
    expect(back.err).toBeUndefined();
    expect(back.data).toEqual(data);
    expect(r.back().stats).toMatchObject({ reads: 1, writes: 1, sectorsRead: 3, sectorsWritten: 3, errors: 0 });
  });

  it('reads what the image was made with', () => {
    const content = pattern(32, 9);
    const r = rig({ image: new DiskImage(32, 512, { content }) });
    expect(readNow(r, 0, 32).data).toEqual(content);
    expect(readNow(r, 31, 1).data).toEqual(content.subarray(31 * 512));
  });

  it('a 64-sector write is one request of 8 page segments; blkback maps each read-only for a disk write, writable for a read', () => {
    const r = rig({ image: new DiskImage(128) });
    const n0 = r.calls.length;
    const data = pattern(64, 2);
    expect(writeNow(r, 0, data)).toBeUndefined();
    const maps = r.calls.slice(n0).filter((c) => c.op === 'gnttab_map_grant_ref');
    const unmaps = r.calls.slice(n0).filter((c) => c.op === 'gnttab_unmap_grant_ref');
    expect(r.front.stats.requests).toBe(1);
    expect(maps).toHaveLength(8);
    expect(unmaps).toHaveLength(8);
    expect(maps.every((m) => ((m.args.flags as number) & GNTMAP_readonly) !== 0)).toBe(true);
    const n1 = r.calls.length;
    expect(readNow(r, 0, 64).data).toEqual(data);
    const readMaps = r.calls.slice(n1).filter((c) => c.op === 'gnttab_map_grant_ref');
    expect(readMaps).toHaveLength(8);
    expect(readMaps.every((m) => ((m.args.flags as number) & GNTMAP_readonly) === 0)).toBe(true);
    // Every data grant was ended after its response: only the ring's entry still grants anything to dom0.
    for (const m of [...maps, ...readMaps]) expect(grantFlags(r, m.args.ref as number)).toBe(0);
  });

  it('grants disk-write pages read-only and disk-read pages writable; Xen marks them reading/writing while blkback maps them', () => {
    const r = rig();
    const n0 = r.calls.length;
    r.front.write(0, pattern(1, 1), () => {});
    r.front.read(0, 1, () => {});
    r.run();
    const maps = r.calls.slice(n0).filter((c) => c.op === 'gnttab_map_grant_ref');
    expect(maps.map((m) => m.guestFlags)).toEqual([GTF_permit_access | GTF_readonly | GTF_reading, GTF_permit_access | GTF_reading | GTF_writing]);
    // Both ended after their responses.
    for (const m of maps) expect(grantFlags(r, m.args.ref as number)).toBe(0);
  });

  it('splits a transfer of more than 11 pages: 100 sectors go as 88 + 12 (11 + 2 segments)', () => {
    const r = rig({ image: new DiskImage(256) });
    const data = pattern(100, 3);
    const n0 = r.calls.length;
    expect(writeNow(r, 10, data)).toBeUndefined();
    expect(r.front.stats.requests).toBe(2);
    expect(r.back().stats.writes).toBe(2);
    expect(r.calls.slice(n0).filter((c) => c.op === 'gnttab_map_grant_ref')).toHaveLength(13);
    expect(r.image!.bytes.subarray(10 * 512, 110 * 512)).toEqual(data);
    expect(readNow(r, 10, 100).data).toEqual(data);
    expect(r.front.stats.requests).toBe(4);
  });

  it('more requests than ring slots: 40 writes then 40 reads; the ring fills at 32, the rest wait for responses, all complete in order', () => {
    const r = rig({ image: new DiskImage(80) });
    const errs: (string | undefined)[] = [];
    for (let i = 0; i < 40; i++) r.front.write(i * 2, pattern(1, i), (e) => errs.push(e));
    expect(r.front.inFlight).toBe(32);
    expect(r.front.waiting).toBe(8);
    expect(r.front.ring!.full()).toBe(true);
    r.run();
    expect(errs).toEqual(Array(40).fill(undefined));
    const reads: Uint8Array[] = [];
    for (let i = 0; i < 40; i++) r.front.read(i * 2, 1, (e, d) => reads.push(d));
    r.run();
    expect(reads).toEqual(Array.from({ length: 40 }, (_, i) => pattern(1, i)));
    expect(r.front.stats.ringFull).toBeGreaterThan(0);
    expect(r.front.stats.requests).toBe(80);
    expect(r.back().stats.requests).toBe(80);
    expect(r.front.pagesAllocated).toBeLessThanOrEqual(32);
  });

  it('flush is answered OKAY and reaches the image; discard zeroes the range', () => {
    const r = rig({ image: new DiskImage(16, 512, { content: pattern(16, 5) }) });
    let flushed: string | undefined = 'pending';
    r.front.flush((e) => (flushed = e));
    r.run();
    expect(flushed).toBeUndefined();
    expect(r.image!.flushes).toBe(1);
    expect(r.back().stats.flushes).toBe(1);
    let discarded: string | undefined = 'pending';
    r.front.discard(4, 2, (e) => (discarded = e));
    r.run();
    expect(discarded).toBeUndefined();
    expect(r.image!.bytes.subarray(4 * 512, 6 * 512).every((b) => b === 0)).toBe(true);
    expect(r.image!.bytes.subarray(6 * 512)).toEqual(pattern(16, 5).subarray(6 * 512));
  });

  it('on a read-only disk a flush fails, and blkfront turns flushing off instead of reporting it (Linux: an empty flush that fails is EOPNOTSUPP); a discard is refused', () => {
    const r = rig({ mode: 'r' });
    const results: (string | undefined)[] = [];
    for (let i = 0; i < 3; i++) {
      r.front.flush((e) => results.push(e));
      r.run();
    }
    expect(results).toEqual([undefined, undefined, undefined]);
    expect(r.front.features).toMatchObject({ flushCache: false, barrier: false });
    // FLUSH_DISKCACHE refused, then WRITE_BARRIER refused, then nothing left to ask for.
    expect(r.back().stats).toMatchObject({ flushes: 2, errors: 2 });
    expect(r.front.stats.requests).toBe(2);
    let discarded: string | undefined;
    r.front.discard(0, 1, (e) => (discarded = e));
    r.run();
    expect(discarded).toBe('BLKIF_RSP_ERROR');
  });

  it('a 4096-byte sector disk: sectors stay 512-byte units; misaligned requests are refused', () => {
    const r = rig({ image: new DiskImage(4, 4096) });
    expect(r.xs(`${r.paths.backend}/sectors`)).toBe('32');
    expect(r.front.info).toMatchObject({ sectors: 32, sectorSize: 4096 });
    expect(writeNow(r, 8, pattern(8, 7))).toBeUndefined();
    expect(r.image!.bytes.subarray(4096, 8192)).toEqual(pattern(8, 7));
    expect(readNow(r, 1, 8).err).toMatch(/EINVAL/);
    const ref = r.mini.grantAccess(0, FIRST_FREE_GFN + 1, false);
    expect(rawNow(r, { operation: BLKIF_OP_READ, nrSegments: 1, handle: 0, sectorNumber: 8, seg: [{ gref: ref, firstSect: 1, lastSect: 7 }] })).toBe(BLKIF_RSP_ERROR);
    expect(rawNow(r, { operation: BLKIF_OP_READ, nrSegments: 1, handle: 0, sectorNumber: 8, seg: [{ gref: ref, firstSect: 0, lastSect: 7 }] })).toBe(BLKIF_RSP_OKAY);
  });
});

describe('bad requests', () => {
  it('beyond the end of the disk: BLKIF_RSP_ERROR, nothing touched, the next good request still works', () => {
    const r = rig({ image: new DiskImage(64) });
    expect(readNow(r, 63, 2).err).toBe('BLKIF_RSP_ERROR');
    expect(readNow(r, 64, 1).err).toBe('BLKIF_RSP_ERROR');
    const before = r.image!.bytes.slice();
    expect(writeNow(r, 60, pattern(8, 1))).toBe('BLKIF_RSP_ERROR');
    expect(r.image!.bytes).toEqual(before);
    expect(r.back().stats.errors).toBe(3);
    expect(r.back().lastError).toMatch(/beyond the end/);
    expect(writeNow(r, 60, pattern(4, 1))).toBeUndefined();
    expect(readNow(r, 60, 4).data).toEqual(pattern(4, 1));
  });

  it('write to a read-only disk: BLKIF_RSP_ERROR and the image unchanged; reads still work', () => {
    const content = pattern(8, 6);
    const r = rig({ image: new DiskImage(8, 512, { content }), mode: 'r' });
    expect(writeNow(r, 0, pattern(1, 0))).toBe('BLKIF_RSP_ERROR');
    expect(r.image!.bytes).toEqual(content);
    expect(readNow(r, 0, 8).data).toEqual(content);
    expect(r.back().stats).toMatchObject({ errors: 1, sectorsWritten: 0, sectorsRead: 8 });
  });

  it('bad segments and segment counts, an ungranted buffer, unknown operations: errors and EOPNOTSUPP, then service as usual', () => {
    const r = rig();
    const gfn = FIRST_FREE_GFN; // a frame of the guest's, granted to dom0 by hand
    const ref = r.mini.grantAccess(0, gfn, false);
    const one = { gref: ref, firstSect: 0, lastSect: 0 };
    const req = (over: Partial<Omit<BlkifRequest, 'id'>>): Omit<BlkifRequest, 'id'> => ({ operation: BLKIF_OP_READ, nrSegments: 1, handle: 0, sectorNumber: 0, seg: [one], ...over });
    expect(rawNow(r, req({ seg: [{ gref: ref, firstSect: 3, lastSect: 2 }] }))).toBe(BLKIF_RSP_ERROR);
    expect(rawNow(r, req({ seg: [{ gref: ref, firstSect: 0, lastSect: 8 }] }))).toBe(BLKIF_RSP_ERROR);
    expect(rawNow(r, req({ nrSegments: 0, seg: [] }))).toBe(BLKIF_RSP_ERROR);
    expect(rawNow(r, req({ nrSegments: 12, seg: Array(11).fill(one) }))).toBe(BLKIF_RSP_ERROR);
    expect(rawNow(r, req({ seg: [{ gref: 4000, firstSect: 0, lastSect: 0 }] }))).toBe(BLKIF_RSP_ERROR);
    expect(r.back().lastError).toMatch(/could not remap grant 4000/);
    expect(rawNow(r, req({ operation: BLKIF_OP_RESERVED_1 }))).toBe(BLKIF_RSP_EOPNOTSUPP);
    expect(rawNow(r, req({ operation: BLKIF_OP_INDIRECT }))).toBe(BLKIF_RSP_EOPNOTSUPP);
    expect(rawNow(r, req({ operation: 99 }))).toBe(BLKIF_RSP_EOPNOTSUPP);
    expect(r.back().stats).toMatchObject({ errors: 5, unsupported: 3, requests: 8 });
    // A well-formed request by hand: sectors 1..2 of the page hold disk sectors 0..1.
    r.image!.bytes.set(pattern(2, 8));
    expect(rawNow(r, req({ seg: [{ gref: ref, firstSect: 1, lastSect: 2 }] }))).toBe(BLKIF_RSP_OKAY);
    expect(r.g.memory.frame(gfn)!.subarray(512, 1536)).toEqual(pattern(2, 8));
    expect(writeNow(r, 0, pattern(1, 2))).toBeUndefined();
    expect(r.front.stats.badResponses).toBe(0);
  });

  it('a failed map in the middle of a request writes nothing (all segments or none) and leaves no mapping behind', () => {
    const r = rig();
    const good = r.mini.grantAccess(0, FIRST_FREE_GFN, true);
    r.g.memory.frame(FIRST_FREE_GFN)!.fill(0xab);
    expect(rawNow(r, { operation: BLKIF_OP_WRITE, nrSegments: 2, handle: 0, sectorNumber: 0, seg: [{ gref: good, firstSect: 0, lastSect: 0 }, { gref: 4000, firstSect: 0, lastSect: 0 }] })).toBe(BLKIF_RSP_ERROR);
    expect(r.image!.bytes.every((b) => b === 0)).toBe(true);
    expect(grantFlags(r, good)).toBe(GTF_permit_access | GTF_readonly);
    expect(r.hv.domain(0)!.grants.maptrack.filter((m) => m !== undefined)).toHaveLength(1); // the ring only
  });

  it('a frontend publishing more requests than the ring holds is no longer served (and nothing crashes)', () => {
    const r = rig();
    const page = r.g.memory.frame(r.front.ringGfn)!;
    new DataView(page.buffer, page.byteOffset).setUint32(SRING_REQ_PROD, 1000, true);
    r.mini.send(r.front.port);
    r.run();
    expect(r.back().halted).toBe(true);
    expect(r.back().stats.requests).toBe(0);
    expect(r.k0.dmesgLines.some((l) => /bogus ring requests/.test(l))).toBe(true);
  });
});

describe('notifications', () => {
  it('a batch of 20 reads made at once costs one notify each way; req_event/rsp_event ask for the next one', () => {
    const r = rig({ image: new DiskImage(64) });
    const done: number[] = [];
    for (let i = 0; i < 20; i++) r.front.read(i, 1, () => done.push(i));
    expect(r.front.stats.notifies).toBe(1);
    r.run();
    expect(done).toHaveLength(20);
    expect(r.front.stats.requests).toBe(20);
    expect(r.front.stats.notifies).toBe(1);
    expect(r.back().stats.responses).toBe(20);
    expect(r.back().stats.notifies).toBe(1);
    const ring = r.front.ring!;
    expect(ring.sring.reqEvent).toBe(21); // blkback's final check: notify me at the 21st request
    expect(ring.sring.rspEvent).toBe(21); // blkfront, with nothing outstanding: at the 21st response
    // The next request is in the window again, so it notifies.
    r.front.read(0, 1, () => {});
    expect(r.front.stats.notifies).toBe(2);
  });

  it('requests pushed one at a time while the backend has not run yet do not notify again', () => {
    const r = rig();
    r.front.read(0, 1, () => {});
    r.front.read(1, 1, () => {});
    r.front.read(2, 1, () => {});
    expect(r.front.stats.requests).toBe(3);
    expect(r.front.stats.notifies).toBe(1);
  });
});

describe('teardown', () => {
  it('close: Closing → Closed at both ends; blkback unmaps the ring and closes its port; the guest ends the grant and closes its port', () => {
    const r = rig();
    expect(writeNow(r, 0, pattern(1, 1))).toBeUndefined();
    const { ringRef, port } = r.front;
    const bePort = r.back().port;
    const dom0 = r.hv.domain(0)!;
    // While blkback maps the ring the guest cannot take the grant back.
    expect(r.mini.endAccess(ringRef)).toBe(false);
    let closed: string | undefined = 'pending';
    r.front.close((e) => (closed = e));
    r.run();
    expect(closed).toBeUndefined();
    expect(r.front.dev.history.slice(4)).toEqual([`fe:${XenbusStateClosing}`, `be:${XenbusStateClosing}`, `fe:${XenbusStateClosed}`, `be:${XenbusStateClosed}`]);
    expect(r.xs(`${r.paths.frontend}/state`)).toBe('6');
    expect(r.xs(`${r.paths.backend}/state`)).toBe('6');
    expect(r.back().ring).toBeUndefined();
    expect(r.back().ringHandle).toBe(-1);
    expect(dom0.grants.maptrack.filter((m) => m !== undefined)).toHaveLength(0);
    expect(grantFlags(r, ringRef)).toBe(0);
    expect(ecs(r.g, port)).toBe('free');
    expect(ecs(dom0, bePort)).toBe('free');
    expect(r.front.port).toBe(0);
    expect(r.xs(`${r.paths.frontend}/ring-ref`)).toBeUndefined();
    expect(r.xs(`${r.paths.frontend}/event-channel`)).toBeUndefined();
    let err: string | undefined;
    r.front.read(0, 1, (e) => (err = e));
    expect(err).toMatch(/ENODEV/);
  });

  it('close waits for outstanding requests to be answered first', () => {
    const r = rig();
    const done: (string | undefined)[] = [];
    for (let i = 0; i < 5; i++) r.front.write(i, pattern(1, i), (e) => done.push(e));
    let closed = false;
    r.front.close(() => (closed = true));
    r.run();
    expect(done).toEqual(Array(5).fill(undefined));
    expect(closed).toBe(true);
    expect(r.image!.bytes.subarray(0, 5 * 512)).toEqual(Uint8Array.from({ length: 5 * 512 }, (_, i) => pattern(1, i >> 9)[i & 511]!));
  });

  it('reconnects after close: Initialising → InitWait → … → Connected, the disk as it was', () => {
    const r = rig();
    expect(writeNow(r, 3, pattern(2, 4))).toBeUndefined();
    r.front.close();
    r.run();
    let ready: string | undefined = 'pending';
    r.front.start((e) => (ready = e));
    r.run();
    expect(ready).toBeUndefined();
    expect(r.front.phase).toBe('connected');
    expect(r.back().dev.state).toBe(XenbusStateConnected);
    expect(readNow(r, 3, 2).data).toEqual(pattern(2, 4));
  });

  it('a new frontend instance on a device whose backend a previous one left Closed connects again', () => {
    const r = rig();
    expect(writeNow(r, 1, pattern(1, 9))).toBeUndefined();
    r.front.close();
    r.run();
    expect(r.back().dev.state).toBe(XenbusStateClosed);
    const again = new BlkFront(r.mini, r.mini.xenbus!, r.paths.frontend);
    let ready: string | undefined = 'pending';
    again.start((e) => (ready = e));
    r.run();
    expect(ready).toBeUndefined();
    expect(again.dev.history).toEqual(['be:6', 'fe:1', 'be:2', 'fe:3', 'be:4', 'fe:4']);
    let got: Uint8Array | undefined;
    again.read(1, 1, (_e, d) => (got = d));
    r.run();
    expect(got).toEqual(pattern(1, 9));
  });

  it('removing the backend directory disconnects blkback: ring unmapped, port closed', () => {
    const r = rig();
    const be = r.back();
    const port = be.port;
    r.k0.kernelXenbus.rm(r.paths.backend);
    r.run();
    expect(r.probe.instances.size).toBe(0);
    expect(be.ring).toBeUndefined();
    expect(r.hv.domain(0)!.grants.maptrack.filter((m) => m !== undefined)).toHaveLength(0);
    expect(ecs(r.hv.domain(0)!, port)).toBe('free');
    expect(grantFlags(r, r.front.ringRef) & (GTF_reading | GTF_writing)).toBe(0);
  });
});
