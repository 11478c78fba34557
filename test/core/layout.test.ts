/**
 * Byte layouts (reference sections 5.1, 9.1, 12; xen/include/public/xen.h,
 * io/ring.h): start_info as the domain builder fills it, and the layout
 * tables' self-consistency (sorted, aligned, non-overlapping, right sizes).
 */
import { describe, expect, it } from 'vitest';
import {
  FIFO_CONTROL_BLOCK_LAYOUT,
  MAX_GUEST_CMDLINE,
  PAGE_SIZE,
  SHARED_INFO_ARCH_MAX_PFN,
  SHARED_INFO_EVTCHN_BITMAP_BYTES,
  SHARED_INFO_EVTCHN_MASK,
  SHARED_INFO_EVTCHN_PENDING,
  SHARED_INFO_SIZE,
  SHARED_INFO_WC_VERSION,
  SIF_INITDOMAIN,
  SIF_PRIVILEGED,
  SRING_HEADER_SIZE,
  SRING_LAYOUT,
  START_INFO_LAYOUT,
  START_INFO_SIZE,
  VCPU_INFO_SIZE,
  XEN_LEGACY_MAX_VCPUS,
  sharedInfoLayout,
  vcpuInfoOffset,
  type LayoutField,
} from '../../src/core/abi/layout.js';
import { VIRQ_TIMER } from '../../src/core/abi/evtchn.js';
import { readCString } from '../../src/core/util/bytes.js';
import { addGuest, call, newMachine } from './helpers.js';

/** Fields sorted by offset, none overlapping the next, each aligned to its natural size (up to 8). */
function expectWellFormed(fields: readonly LayoutField[], size: number): void {
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    expect(f.size, f.field).toBeGreaterThan(0);
    expect(f.offset + f.size, f.field).toBeLessThanOrEqual(size);
    if (f.size === 2 || f.size === 4 || f.size === 8) expect(f.offset % f.size, `${f.field} aligned`).toBe(0);
    const next = fields[i + 1];
    if (next !== undefined) expect(f.offset + f.size, `${f.field} before ${next.field}`).toBeLessThanOrEqual(next.offset);
  }
}

function u64(page: Uint8Array, at: number): bigint {
  return new DataView(page.buffer, page.byteOffset, page.byteLength).getBigUint64(at, true);
}

function u32(page: Uint8Array, at: number): number {
  return new DataView(page.buffer, page.byteOffset, page.byteLength).getUint32(at, true);
}

describe('start_info', () => {
  it('the layout table has x86-64 offsets: magic 0, nr_pages 32, shared_info 40, flags 48, store_mfn 56, store_evtchn 64, console 72/80, pt_base 88, cmd_line 128, first_p2m_pfn 1152; 1168 bytes', () => {
    const at = Object.fromEntries(START_INFO_LAYOUT.map((f) => [f.field, f.offset]));
    expect(at).toEqual({
      magic: 0,
      nr_pages: 32,
      shared_info: 40,
      flags: 48,
      store_mfn: 56,
      store_evtchn: 64,
      'console.domU.mfn': 72,
      'console.domU.evtchn': 80,
      pt_base: 88,
      nr_pt_frames: 96,
      mfn_list: 104,
      mod_start: 112,
      mod_len: 120,
      cmd_line: 128,
      first_p2m_pfn: 1152,
      nr_p2m_frames: 1160,
    });
    expect(START_INFO_SIZE).toBe(1168);
    expect(MAX_GUEST_CMDLINE).toBe(1024);
    expectWellFormed(START_INFO_LAYOUT, START_INFO_SIZE);
    const last = START_INFO_LAYOUT[START_INFO_LAYOUT.length - 1]!;
    expect(last.offset + last.size).toBe(START_INFO_SIZE);
  });

  it('the domain builder fills magic, nr_pages, shared_info (machine address), flags and cmd_line at their offsets', () => {
    const { hv, dom0 } = newMachine();
    const g = hv.createDomain({ name: 'g', memoryPages: 2048, cmdline: 'console=hvc0 root=/dev/xvda' });
    const st = g.startInfo;
    expect(readCString(st, 0, 32)).toBe('xen-3.0-x86_64');
    expect(u64(st, 32)).toBe(2048n);
    expect(u64(st, 40)).toBe(BigInt(hv.sharedInfoMfn(g)) * 4096n);
    expect(u32(st, 48)).toBe(0);
    expect(readCString(st, 128, 1024)).toBe('console=hvc0 root=/dev/xvda');
    // dom0 is privileged and the initial domain: SIF_PRIVILEGED | SIF_INITDOMAIN = 3.
    expect(SIF_PRIVILEGED | SIF_INITDOMAIN).toBe(3);
    expect(u32(dom0.startInfo, 48)).toBe(3);
  });

  it('an over-long command line is truncated to 1023 bytes and NUL-terminated', () => {
    const { hv } = newMachine();
    const g = hv.createDomain({ name: 'g', cmdline: 'x'.repeat(2000) });
    expect(readCString(g.startInfo, 128, 1024)).toHaveLength(1023);
    expect(g.startInfo[128 + 1023]).toBe(0);
    expect(g.startInfo[1152]).toBe(0); // first_p2m_pfn not overwritten
  });
});

describe('shared_info', () => {
  it('vcpu_info is 64 bytes, 32 of them from offset 0; evtchn_pending 2048 and evtchn_mask 2560 are 512 bytes each; wc_version follows at 3072; total 3136', () => {
    expect(VCPU_INFO_SIZE * XEN_LEGACY_MAX_VCPUS).toBe(SHARED_INFO_EVTCHN_PENDING);
    expect(SHARED_INFO_EVTCHN_BITMAP_BYTES).toBe(512);
    expect(SHARED_INFO_EVTCHN_PENDING + 512).toBe(SHARED_INFO_EVTCHN_MASK);
    expect(SHARED_INFO_EVTCHN_MASK + 512).toBe(SHARED_INFO_WC_VERSION);
    expect(SHARED_INFO_SIZE).toBe(3136);
    expect(SHARED_INFO_SIZE).toBeLessThanOrEqual(PAGE_SIZE);
    expect(vcpuInfoOffset(31)).toBe(1984);
  });

  it('the layout table is sorted, aligned and non-overlapping, ends at 3136, for any vCPU count', () => {
    for (const n of [1, 2, 31, 32]) {
      const fields = sharedInfoLayout(n);
      expectWellFormed(fields, SHARED_INFO_SIZE);
      const last = fields[fields.length - 1]!;
      expect(last.offset + last.size).toBe(SHARED_INFO_SIZE);
      // The vcpu_info part covers exactly bytes 0..2047 of slots, listed or as one block.
      const vcpuPart = fields.filter((f) => f.field.startsWith('vcpu_info'));
      const lastV = vcpuPart[vcpuPart.length - 1]!;
      expect(lastV.offset + lastV.size).toBeLessThanOrEqual(2048);
    }
  });

  it('each listed vcpu_info field lies inside its own 64-byte slot; upcall_pending @0, upcall_mask @1, pending_sel @8 (8 bytes), time @32', () => {
    const fields = sharedInfoLayout(3);
    for (const f of fields) {
      const m = /^vcpu_info\[(\d+)\]\.(.*)$/.exec(f.field);
      if (m === null) continue;
      const v = Number(m[1]);
      expect(f.offset).toBeGreaterThanOrEqual(64 * v);
      expect(f.offset + f.size).toBeLessThanOrEqual(64 * v + 64);
    }
    const at = (name: string) => fields.find((f) => f.field === name)!;
    expect(at('vcpu_info[2].evtchn_upcall_pending')).toMatchObject({ offset: 128, size: 1 });
    expect(at('vcpu_info[2].evtchn_upcall_mask')).toMatchObject({ offset: 129, size: 1 });
    expect(at('vcpu_info[2].evtchn_pending_sel')).toMatchObject({ offset: 136, size: 8 });
    expect(at('vcpu_info[2].time.version')).toMatchObject({ offset: 160, size: 4 });
    expect(at('vcpu_info[2].time.system_time')).toMatchObject({ offset: 176, size: 8 });
    expect(at('vcpu_info[3..31]')).toMatchObject({ offset: 192, size: 29 * 64 });
    expect(at('evtchn_pending')).toMatchObject({ offset: 2048, size: 512 });
    expect(at('evtchn_mask')).toMatchObject({ offset: 2560, size: 512 });
    expect(at('arch.max_pfn')).toMatchObject({ offset: 3088, size: 8 });
  });

  it('a fresh shared_info is zero except upcall_mask = 1 in all 32 slots and arch.max_pfn', () => {
    const { hv } = newMachine();
    const g = addGuest(hv, { noKernel: true });
    const si = g.sharedInfo;
    for (let i = 0; i < PAGE_SIZE; i++) {
      if (i < 2048 && i % 64 === 1) expect(si[i], `byte ${i}`).toBe(1);
      else if (i >= SHARED_INFO_ARCH_MAX_PFN && i < SHARED_INFO_ARCH_MAX_PFN + 8) continue;
      else expect(si[i], `byte ${i}`).toBe(0);
    }
    expect(u64(si, SHARED_INFO_ARCH_MAX_PFN)).toBe(BigInt(g.memory.nrPages));
  });

  it('a timer tick writes vcpu_time_info: version stays even and system_time is the tick time (ns)', () => {
    const { hv } = newMachine();
    const g = addGuest(hv, { vcpus: 2 });
    call(hv, g, 'bind_virq', { virq: VIRQ_TIMER, vcpu: 1 });
    hv.run(10_000_000); // first periodic tick at 10 ms
    const base = vcpuInfoOffset(1) + 32;
    expect(u32(g.sharedInfo, base) % 2).toBe(0);
    expect(u32(g.sharedInfo, base)).toBe(2);
    expect(u64(g.sharedInfo, base + 16)).toBe(10_000_000n);
    expect(u32(g.sharedInfo, vcpuInfoOffset(0) + 32)).toBe(0);
  });
});

describe('ring and FIFO control block layout tables', () => {
  it('sring header: req_prod 0, req_event 4, rsp_prod 8, rsp_event 12, pvt 16, pad to 64, ring[] at 64', () => {
    const at = Object.fromEntries(SRING_LAYOUT.map((f) => [f.field, [f.offset, f.size]]));
    expect(at).toEqual({ req_prod: [0, 4], req_event: [4, 4], rsp_prod: [8, 4], rsp_event: [12, 4], pvt: [16, 4], __pad: [20, 44], 'ring[]': [64, 4032] });
    expect(SRING_HEADER_SIZE).toBe(64);
    expectWellFormed(SRING_LAYOUT, PAGE_SIZE);
  });

  it('the FIFO control block table is well formed and 72 bytes', () => {
    expectWellFormed(FIFO_CONTROL_BLOCK_LAYOUT, 72);
    expect(FIFO_CONTROL_BLOCK_LAYOUT.reduce((n, f) => n + f.size, 0)).toBe(72);
  });
});
