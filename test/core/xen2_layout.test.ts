/**
 * Xen 2.0.0 mode, the pages and the numbers (reference sections 3, 4, 5.1,
 * 5.2, 5.7): start_info_t and shared_info_t byte for byte at their x86_32
 * offsets, the ABI tables, and what the '2.0' machine option changes.
 */
import { describe, expect, it } from 'vitest';
import { ECS_VIRQ } from '../../src/core/abi/evtchn.js';
import { PAGE_SIZE, XEN2_LAYOUT, XEN2_SHARED_INFO_LAYOUT, X86_64_LAYOUT, type LayoutField } from '../../src/core/abi/layout.js';
import * as xen2 from '../../src/core/abi/xen2.js';
import { Hypervisor } from '../../src/core/hv/hypervisor.js';
import { defaultKernel } from '../../src/core/guest/kernel.js';
import { readCString } from '../../src/core/util/bytes.js';
import { guest2, newXen2, u16, u32, u8 } from './xen2_helpers.js';

/** Fields sorted, not overlapping, and (packed struct) covering exactly [0, size). */
function expectContiguous(fields: readonly LayoutField[], size: number): void {
  let at = 0;
  for (const f of fields) {
    expect(f.offset, f.field).toBe(at);
    at += f.size;
  }
  expect(at).toBe(size);
}

describe('Xen 2.0.0 numbers (abi/xen2.ts)', () => {
  it('event_channel_op is hypercall 16', () => {
    expect(xen2.__HYPERVISOR_event_channel_op).toBe(16);
  });

  it('VIRQs: MISDIRECT 0, TIMER 1, DEBUG 2, CONSOLE 3, DOM_EXC 4, PARITY_ERR 5, IO_ERR 6; NR_VIRQS 7; each named and explained', () => {
    expect([xen2.VIRQ_MISDIRECT, xen2.VIRQ_TIMER, xen2.VIRQ_DEBUG, xen2.VIRQ_CONSOLE, xen2.VIRQ_DOM_EXC, xen2.VIRQ_PARITY_ERR, xen2.VIRQ_IO_ERR]).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(xen2.NR_VIRQS).toBe(7);
    expect(xen2.VIRQS.map((v) => [v.num, v.name])).toEqual([
      [0, 'VIRQ_MISDIRECT'],
      [1, 'VIRQ_TIMER'],
      [2, 'VIRQ_DEBUG'],
      [3, 'VIRQ_CONSOLE'],
      [4, 'VIRQ_DOM_EXC'],
      [5, 'VIRQ_PARITY_ERR'],
      [6, 'VIRQ_IO_ERR'],
    ]);
    for (const v of xen2.VIRQS) expect(v.meaning.length, v.name).toBeGreaterThan(10);
    expect(xen2.VIRQS.filter((v) => v.target === 'dom0').map((v) => v.num)).toEqual([3, 4, 5, 6]);
    expect(xen2.virqByName('VIRQ_DOM_EXC')).toBe(4);
    expect(xen2.virqByName('TIMER')).toBe(1);
    expect(xen2.virqByName('VIRQ_TBUF')).toBeUndefined();
  });

  it('EVTCHNOP 0..6 and EVTCHNSTAT 0..4', () => {
    expect(xen2.EVTCHNOP).toEqual({ bind_interdomain: 0, bind_virq: 1, bind_pirq: 2, close: 3, send: 4, status: 5, alloc_unbound: 6 });
    expect([xen2.EVTCHNSTAT_closed, xen2.EVTCHNSTAT_unbound, xen2.EVTCHNSTAT_interdomain, xen2.EVTCHNSTAT_pirq, xen2.EVTCHNSTAT_virq]).toEqual([0, 1, 2, 3, 4]);
    expect(xen2.EVTCHNSTAT_NAMES).toEqual(['closed', 'unbound', 'interdomain', 'pirq', 'virq']);
  });

  it('the op structs have 2.0.0 sizes and offsets inside the 24-byte union of a 32-byte evtchn_op_t', () => {
    expect(xen2.EVTCHN_OP_SIZE).toBe(32);
    expect(xen2.EVTCHN_OP_UNION).toBe(8);
    const sizes = Object.fromEntries(Object.entries(xen2.EVTCHN_OP_STRUCTS).map(([k, s]) => [k, s.size]));
    expect(sizes).toEqual({ bind_interdomain: 12, bind_virq: 8, bind_pirq: 12, close: 8, send: 4, status: 20, alloc_unbound: 8 });
    for (const [name, s] of Object.entries(xen2.EVTCHN_OP_STRUCTS)) {
      expectContiguous(s.fields, s.size);
      expect(s.size, name).toBeLessThanOrEqual(24);
    }
    const at = (name: xen2.EvtchnOpName) => Object.fromEntries(xen2.EVTCHN_OP_STRUCTS[name].fields.map((f) => [f.field, f.offset]));
    expect(at('bind_interdomain')).toEqual({ dom1: 0, dom2: 2, port1: 4, port2: 8 });
    expect(at('bind_pirq')).toEqual({ pirq: 0, flags: 4, port: 8 });
    expect(at('status')).toMatchObject({ dom: 0, port: 4, status: 8, 'u.interdomain.port': 16 });
    expect(at('alloc_unbound')).toEqual({ dom: 0, __pad: 2, port: 4 });
  });

  it('limits: 16 ports at first, 1024 at most, 128 PIRQs, one vCPU, console port base 9600', () => {
    expect(xen2.INIT_EVENT_CHANNELS).toBe(16);
    expect(xen2.MAX_EVENT_CHANNELS).toBe(1024);
    expect(xen2.NR_EVENT_CHANNELS).toBe(1024);
    expect(xen2.NR_PIRQS).toBe(128);
    expect(xen2.MAX_VIRT_CPUS).toBe(1);
    expect(xen2.CONSOLE_PORT_BASE).toBe(9600);
    expect([xen2.NR_IRQS, xen2.DYNIRQ_BASE, xen2.NR_DYNIRQS]).toEqual([256, 128, 128]);
  });

  it('start_info_t: 320 packed bytes, nr_pages 0, shared_info 8, flags 16, domain_controller_evtchn 20, pt_base 24 ... cmd_line[256] 64', () => {
    expectContiguous(xen2.XEN2_START_INFO_LAYOUT, xen2.XEN2_START_INFO_SIZE);
    expect(xen2.XEN2_START_INFO_SIZE).toBe(320);
    const at = Object.fromEntries(xen2.XEN2_START_INFO_LAYOUT.filter((f) => !f.field.startsWith('_')).map((f) => [f.field, [f.offset, f.size]]));
    expect(at).toEqual({
      nr_pages: [0, 4],
      shared_info: [8, 4],
      flags: [16, 4],
      domain_controller_evtchn: [20, 2],
      pt_base: [24, 4],
      nr_pt_frames: [32, 4],
      mfn_list: [40, 4],
      mod_start: [48, 4],
      mod_len: [56, 4],
      cmd_line: [64, 256],
    });
    expect([xen2.SIF_PRIVILEGED, xen2.SIF_INITDOMAIN, xen2.SIF_BLK_BE_DOMAIN, xen2.SIF_NET_BE_DOMAIN, xen2.MAX_CMDLINE]).toEqual([1, 2, 16, 32, 256]);
  });

  it('shared_info_t: vcpu_data @0, evtchn_pending @4, evtchn_pending_sel @132, evtchn_mask @136, cpu_freq @264 ... arch @328, 344 bytes, control_if_t @2048', () => {
    const at = Object.fromEntries(XEN2_SHARED_INFO_LAYOUT.map((f) => [f.field, f.offset]));
    expect(at).toMatchObject({
      'vcpu_data[0].evtchn_upcall_pending': 0,
      'vcpu_data[0].evtchn_upcall_mask': 1,
      evtchn_pending: 4,
      evtchn_pending_sel: 132,
      evtchn_mask: 136,
      cpu_freq: 264,
      time_version1: 272,
      time_version2: 276,
      tsc_timestamp: 280,
      system_time: 288,
      wc_sec: 296,
      wc_usec: 300,
      domain_time: 304,
      wall_timeout: 312,
      domain_timeout: 320,
      'arch.mfn_to_pfn_start': 328,
      'arch.pfn_to_mfn_frame_list': 336,
      control_if_t: 2048,
    });
    expectContiguous(XEN2_SHARED_INFO_LAYOUT.filter((f) => f.offset < 2048), 344);
    expect(XEN2_LAYOUT).toMatchObject({ pendingOffset: 4, maskOffset: 136, bitsPerWord: 32, nrPorts: 1024, maxVcpus: 1 });
    expect([XEN2_LAYOUT.upcallOffset(0), XEN2_LAYOUT.selectorOffset(0)]).toEqual([0, 132]);
  });
});

describe("the machine's Xen", () => {
  it("defaults to '4': x86-64 layout, per-vCPU vcpu_info, 64-port buckets, port 0 reserved", () => {
    const hv = new Hypervisor();
    expect(hv.xen).toBe('4');
    expect(hv.timerVirq).toBe(0);
    const d = hv.createDomain({ name: 'dom0', vcpus: 2 });
    expect(d.xen).toBe('4');
    expect(d.layout).toBe(X86_64_LAYOUT);
    expect(d.ports.valid).toBe(64);
    expect(d.ports.state[0]).not.toBe(ECS_VIRQ);
  });

  it("'2.0': XEN2_LAYOUT, one vCPU, a 16-port table with port 0 bound to VIRQ_MISDIRECT, timer on VIRQ 1", () => {
    const { hv, dom0 } = newXen2();
    const g = guest2(hv);
    expect(hv.xen).toBe('2.0');
    expect(hv.timerVirq).toBe(1);
    for (const d of [dom0, g]) {
      expect(d.xen).toBe('2.0');
      expect(d.layout).toBe(XEN2_LAYOUT);
      expect(d.vcpus.length).toBe(1);
      expect(d.ports.valid).toBe(16);
      expect(d.ports.state[0]).toBe(ECS_VIRQ);
      expect(d.ports.remotePort[0]).toBe(xen2.VIRQ_MISDIRECT);
      expect(d.maxEvtchnPort).toBe(1023);
    }
    expect(dom0.privileged).toBe(true);
    expect(g.privileged).toBe(false);
  });

  it('refuses what Xen 2.0.0 cannot have, with a RangeError', () => {
    const { hv } = newXen2();
    expect(() => hv.createDomain({ name: 'smp', vcpus: 2 })).toThrow(RangeError);
    expect(() => hv.createDomain({ name: 'smp', vcpus: 2 })).toThrow(/MAX_VIRT_CPUS = 1/);
    expect(() => hv.createDomain({ name: 'limit', maxEvtchnPort: 63 })).toThrow(RangeError);
    expect(() => hv.createDomain({ name: 'flags', startInfoFlags: 1 })).toThrow(RangeError);
    expect(() => new Hypervisor({ xen: '3' as never })).toThrow(RangeError);
    expect(() => new Hypervisor().createDomain({ name: 'x', startInfoFlags: 16 })).toThrow(RangeError);
    // Nothing half-built was left behind: the next domain gets the next id.
    expect(hv.domains.map((d) => d.domid)).toEqual([0]);
    expect(guest2(hv).domid).toBe(1);
    // Xen 2.0 has no FIFO ABI for the kernel to switch to.
    expect(() => newXen2().hv.createDomain({ name: 'fifo' }, defaultKernel('fifo'))).toThrow(/only the 2-level/);
  });
});

describe('start_info in the 2.0.0 layout', () => {
  it('dom0: nr_pages, shared_info = frame << 12, flags = SIF_PRIVILEGED|SIF_INITDOMAIN = 3, no controller port, cmd_line @64', () => {
    const hv = new Hypervisor({ xen: '2.0' });
    const dom0 = hv.createDomain({ name: 'dom0', cmdline: 'console=xencons root=/dev/sda1' });
    const st = dom0.startInfo;
    expect(u32(st, 0)).toBe(16384);
    expect(u32(st, 4)).toBe(0);
    expect(u32(st, 8)).toBe(hv.sharedInfoMfn(dom0) * PAGE_SIZE);
    expect(u32(st, 12)).toBe(0);
    expect(u32(st, 16)).toBe(3);
    expect(u16(st, 20)).toBe(0);
    expect(u16(st, 22)).toBe(0);
    for (let at = 24; at < 64; at++) expect(u8(st, at), `byte ${at}`).toBe(0);
    expect(readCString(st, 64, 256)).toBe('console=xencons root=/dev/sda1');
    // Nothing of today's start_info (magic "xen-3.0-x86_64", flags @48) is written.
    for (let at = 64 + 31; at < PAGE_SIZE; at++) expect(u8(st, at), `byte ${at}`).toBe(0);
  });

  it('domU: flags 0 unless the builder gives the back-end roles (16 | 32); the builder sets domain_controller_evtchn @20', () => {
    const { hv } = newXen2();
    const plain = guest2(hv);
    const be = guest2(hv, { startInfoFlags: xen2.SIF_BLK_BE_DOMAIN | xen2.SIF_NET_BE_DOMAIN });
    expect(u32(plain.startInfo, 16)).toBe(0);
    expect(u32(be.startInfo, 16)).toBe(48);
    hv.setDomainControllerEvtchn(plain, 1);
    expect(u16(plain.startInfo, 20)).toBe(1);
    expect(hv.domainControllerEvtchn(plain)).toBe(1);
    hv.setDomainControllerEvtchn(plain, 1023);
    expect(Array.from(plain.startInfo.subarray(16, 24))).toEqual([0, 0, 0, 0, 0xff, 0x03, 0, 0]);
    expect(() => hv.setDomainControllerEvtchn(plain, 1024)).toThrow(RangeError);
    const modern = new Hypervisor();
    const m0 = modern.createDomain({ name: 'dom0' });
    expect(() => modern.setDomainControllerEvtchn(m0, 1)).toThrow(RangeError);
  });

  it('cmd_line keeps at most 255 characters and a NUL', () => {
    const { hv } = newXen2();
    const g = guest2(hv, { cmdline: 'x'.repeat(300) });
    expect(readCString(g.startInfo, 64, 256)).toBe('x'.repeat(255));
    expect(u8(g.startInfo, 64 + 255)).toBe(0);
    expect(u8(g.startInfo, 320)).toBe(0);
  });
});

describe('shared_info at creation', () => {
  it('is zeroed but for vcpu_data[0].evtchn_upcall_mask = 1: upcalls start masked', () => {
    const { hv } = newXen2();
    const g = guest2(hv, { noKernel: true });
    const expected = new Uint8Array(PAGE_SIZE);
    expected[1] = 1;
    expect(Array.from(g.sharedInfo)).toEqual(Array.from(expected));
  });

  it('the default kernel clears that mask at boot and nothing else', () => {
    const { dom0 } = newXen2();
    expect(Array.from(dom0.sharedInfo).every((b) => b === 0)).toBe(true);
  });
});
