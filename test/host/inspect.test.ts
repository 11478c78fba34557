/**
 * The shared-memory inspector over real scenario runs: every annotated
 * field sits at Xen's byte offset with the value the core wrote there, the
 * bit grids are the bitmaps in shared memory, and the rings show the
 * indexes the simulation's two ends hold.
 */
import { describe, expect, it } from 'vitest';
import { fromBase64 } from '../../src/contract/trace_batch.js';
import { XenconsIndexes } from '../../src/core/abi/console_ring.js';
import { CONTROL_IF_PAGE_OFFSET, CONTROL_IF_SIZE, controlIfLayout } from '../../src/core/abi/ctrl_if.js';
import { FIFO_B, FIFO_L, FIFO_M, FIFO_P, EVTCHN_FIFO_LINK_MASK } from '../../src/core/abi/evtchn.js';
import { GTF_permit_access, GTF_reading, GTF_writing } from '../../src/core/abi/grant.js';
import {
  SHARED_INFO_EVTCHN_MASK,
  SHARED_INFO_EVTCHN_PENDING,
  START_INFO_CONSOLE_EVTCHN,
  START_INFO_LAYOUT,
  START_INFO_STORE_EVTCHN,
  START_INFO_STORE_MFN,
  XEN2_EVTCHN_PENDING_SEL,
  XEN2_SHARED_INFO_LAYOUT,
  sharedInfoLayout,
  vcpuInfoOffset,
  VCPU_INFO_PENDING_SEL,
} from '../../src/core/abi/layout.js';
import { XsRingIndexes } from '../../src/core/abi/xs_wire.js';
import * as xen2 from '../../src/core/abi/xen2.js';
import { GuestCtrlIf } from '../../src/core/guest/ctrl_if.js';
import { MiniOsKernel } from '../../src/core/guest/minios.js';
import { Plan9Kernel } from '../../src/core/guest/plan9.js';
import { eventPage } from '../../src/core/hv/event_fifo.js';
import { Xen2Dom0Kernel } from '../../src/core/tools/dom0.js';
import { CONSOLE_GFN, Dom0Kernel, STORE_GFN } from '../../src/core/tools/dom0_modern.js';
import { defaultKernel, type DefaultKernel } from '../../src/core/guest/kernel.js';
import { Hypervisor } from '../../src/core/hv/hypervisor.js';
import { TraceStore } from '../../src/core/sim/trace.js';
import { inspectDomain, traceStoreLookback } from '../../src/host/inspect/index.js';
import { field, page, runExample, setBits } from './inspect_helpers.js';

describe('shared_info', () => {
  it("shows a send's pending bit in the evtchn_pending grid and in the page bytes at SHARED_INFO_EVTCHN_PENDING", () => {
    // masking.yaml line 23: port 1 of the guest was masked, then dom0 sent on its end.
    const { hv } = runExample('masking', 23);
    const d = hv.domain(1)!;
    const v = inspectDomain(hv, 1, 42);
    expect(v).toMatchObject({ domid: 1, name: 'guest', position: 42, layout: 'x86_64', abi: '2l' });
    const si = page(v.pages, 'shared_info');
    expect(si.base).toBe(0);
    expect(si.mfn).toBe(hv.sharedInfoMfn(d));
    const bytes = fromBase64(si.bytes);
    expect(bytes).toEqual(d.sharedInfo);
    expect(bytes[SHARED_INFO_EVTCHN_PENDING]! & 0b10).toBe(0b10);
    expect(bytes[SHARED_INFO_EVTCHN_MASK]! & 0b10).toBe(0b10);

    const pending = v.bits.find((b) => b.name === 'evtchn_pending')!;
    expect(pending).toMatchObject({ length: 4096, offset: SHARED_INFO_EVTCHN_PENDING, page: 'shared_info' });
    expect(setBits(pending.bits)).toEqual([1]);
    expect(setBits(v.bits.find((b) => b.name === 'evtchn_mask')!.bits)).toEqual([1]);
    // Masked: Xen set no selector bit and asked for no upcall.
    expect(setBits(v.bits.find((b) => b.name === 'evtchn_pending_sel (vCPU 0)')!.bits)).toEqual([]);
    expect(v.vcpus).toEqual([{ vcpu: 0, upcallPending: false, upcallMask: false, pendingSel: '0x0000000000000000' }]);

    expect(field(si, 'evtchn_pending')).toMatchObject({ offset: SHARED_INFO_EVTCHN_PENDING, size: 512, value: 'ports 1 set' });
    expect(field(si, 'evtchn_mask')).toMatchObject({ offset: SHARED_INFO_EVTCHN_MASK, size: 512, value: 'ports 1 set' });
  });

  it('annotates every field of sharedInfoLayout(vcpus) at its x86-64 offset, with the selector and upcall flags as the core set them', () => {
    // upcall-mask.yaml line 22: vCPU 0 has events off; dom0's send set pending, selector bit 0 and upcall_pending.
    const { hv } = runExample('upcall-mask', 22);
    const v = inspectDomain(hv, 1, 0);
    const si = page(v.pages, 'shared_info');
    expect(si.fields.map((f) => [f.name, f.offset, f.size])).toEqual(sharedInfoLayout(2).map((f) => [f.field, f.offset, f.size]));
    // Offsets from xen.h as gcc lays it out for x86-64 (reference §5.1).
    expect(field(si, 'vcpu_info[1].evtchn_pending_sel').offset).toBe(64 + 8);
    expect(field(si, 'wc_version').offset).toBe(3072);
    expect(field(si, 'vcpu_info[0].evtchn_upcall_pending')).toMatchObject({ offset: 0, size: 1, value: '1 (Xen asks for an upcall)' });
    expect(field(si, 'vcpu_info[0].evtchn_upcall_mask')).toMatchObject({ offset: 1, size: 1, value: '1 (events off)' });
    expect(field(si, 'vcpu_info[0].evtchn_pending_sel')).toMatchObject({ offset: vcpuInfoOffset(0) + VCPU_INFO_PENDING_SEL, size: 8, value: '0x0000000000000001 (word 0)' });
    expect(field(si, 'vcpu_info[1].evtchn_upcall_mask').value).toBe('0 (events on)');
    expect(field(si, 'vcpu_info[2..31]').value).toBe('not used: the domain has 2 vCPUs');
    expect(v.vcpus).toEqual([
      { vcpu: 0, upcallPending: true, upcallMask: true, pendingSel: '0x0000000000000001 (word 0)' },
      { vcpu: 1, upcallPending: false, upcallMask: false, pendingSel: '0x0000000000000000' },
    ]);
    expect(setBits(v.bits.find((b) => b.name === 'evtchn_pending_sel (vCPU 0)')!.bits)).toEqual([0]);
    // Pending, not masked: each grid is its own bitmap.
    expect(setBits(v.bits.find((b) => b.name === 'evtchn_pending')!.bits)).toEqual([1]);
    expect(setBits(v.bits.find((b) => b.name === 'evtchn_mask')!.bits)).toEqual([]);
    expect(field(si, 'evtchn_mask').value).toBe('none set');
  });

  it('reads without changing the machine: same view twice, no trace record, no frame made', () => {
    const { hv, store } = runExample('minios-console');
    const d = hv.domain(1)!;
    const touched = d.memory.touched;
    const count = store.count;
    const a = JSON.stringify(inspectDomain(hv, 1, 7));
    const b = JSON.stringify(inspectDomain(hv, 1, 7));
    hv.trace.flush();
    expect(b).toBe(a);
    expect(store.count).toBe(count);
    expect(d.memory.touched).toBe(touched);
  });

  it('refuses a domain that does not exist, saying which ones do', () => {
    const { hv } = runExample('masking', 23);
    expect(() => inspectDomain(hv, 9, 0)).toThrow(/domain 9 does not exist \(domains now: 0 dom0, 1 guest\)/);
  });
});

describe('start_info and the modern rings', () => {
  it("shows start_info.store_evtchn as the port the toolstack allocated, and finds both rings from start_info's frames", () => {
    const { hv } = runExample('minios-console');
    const d = hv.domain(1)!;
    const built = (hv.domain(0)!.kernel as Dom0Kernel).guests.get(1)!;
    const v = inspectDomain(hv, 1, 0);
    const st = page(v.pages, 'start_info');
    expect(st.fields.map((f) => [f.name, f.offset, f.size])).toEqual(START_INFO_LAYOUT.map((f) => [f.field, f.offset, f.size]));
    expect(st).toMatchObject({ gfn: d.startInfoGfn, mfn: d.memory.mfn(d.startInfoGfn) });
    expect(field(st, 'magic').value).toBe('"xen-3.0-x86_64"');
    expect(field(st, 'store_evtchn')).toMatchObject({ offset: START_INFO_STORE_EVTCHN, value: `port ${built.storePort}` });
    expect(field(st, 'console.domU.evtchn')).toMatchObject({ offset: START_INFO_CONSOLE_EVTCHN, value: `port ${built.consolePort}` });
    expect(field(st, 'store_mfn')).toMatchObject({ offset: START_INFO_STORE_MFN, value: `0x${d.memory.mfn(STORE_GFN).toString(16)} (gfn ${STORE_GFN})` });
    expect(field(st, 'flags').value).toBe('0');
    // The struct's bytes as the core wrote them.
    expect(fromBase64(st.bytes)).toEqual(d.startInfo.subarray(0, 1168));

    const k = d.kernel as MiniOsKernel;
    const cons = page(v.pages, 'console ring (xencons_interface)');
    expect(cons).toMatchObject({ gfn: CONSOLE_GFN, mfn: d.memory.mfn(CONSOLE_GFN) });
    const ci = new XenconsIndexes(d.memory.frame(CONSOLE_GFN)!);
    expect(field(cons, 'out_prod')).toMatchObject({ offset: 3084, value: String(ci.outProd) });
    expect(field(cons, 'connection').value).toBe('0 (XENCONSOLE_CONNECTED)');
    const out = v.rings.find((r) => r.name.startsWith('console ring out[]'))!;
    expect(out).toMatchObject({ shape: 'bytes', size: 2048, indexes: [{ name: 'out_cons', value: ci.outCons }, { name: 'out_prod', value: ci.outProd }] });
    expect(ci.outProd).toBeGreaterThan(0); // Mini-OS printed its banner through it
    expect(k.rings?.storeEvtchn).toBe(built.storePort);

    const xs = page(v.pages, 'xenstore ring (xenstore_domain_interface)');
    expect(xs.gfn).toBe(STORE_GFN);
    const xi = new XsRingIndexes(d.memory.frame(STORE_GFN)!);
    expect(field(xs, 'req_prod')).toMatchObject({ offset: 2052, value: String(xi.reqProd) });
    expect(field(xs, 'rsp_prod')).toMatchObject({ offset: 2060, value: String(xi.rspProd) });
    const req = v.rings.find((r) => r.name.startsWith('xenstore ring req[]'))!;
    expect(req.indexes).toEqual([
      { name: 'req_cons', value: xi.reqCons },
      { name: 'req_prod', value: xi.reqProd },
    ]);
  });

  it("decodes the xenstore messages in flight with xs_wire's type names", () => {
    const { hv } = runExample('minios-console');
    const d = hv.domain(1)!;
    const ring = d.memory.frame(STORE_GFN)!;
    const xi = new XsRingIndexes(ring);
    // A request the guest has put and xenstored has not taken: an XS_READ of "name".
    const payload = new TextEncoder().encode('name\0');
    const msg = new Uint8Array(16 + payload.length);
    const dv = new DataView(msg.buffer);
    dv.setUint32(0, 2, true); // XS_READ
    dv.setUint32(4, 77, true);
    dv.setUint32(12, payload.length, true);
    msg.set(payload, 16);
    for (let i = 0; i < msg.length; i++) ring[(xi.reqProd + i) & 1023] = msg[i]!;
    xi.reqProd = (xi.reqProd + msg.length) >>> 0;
    const req = inspectDomain(hv, 1, 0).rings.find((r) => r.name.startsWith('xenstore ring req[]'))!;
    expect(req.slots).toEqual([{ index: xi.reqCons, summary: 'XS_READ req_id 77 tx_id 0 len 5 "name\\0"' }]);
  });

  it("shows dom0's start_info with its console.dom0 member and no ring pages", () => {
    const { hv } = runExample('minios-console');
    const v = inspectDomain(hv, 0, 0);
    const st = page(v.pages, 'start_info');
    expect(field(st, 'flags').value).toBe('SIF_PRIVILEGED | SIF_INITDOMAIN');
    expect(field(st, 'console.dom0.info_off')).toMatchObject({ offset: 72, size: 4 });
    expect(field(st, 'console.dom0.info_size')).toMatchObject({ offset: 76, size: 4 });
    expect(st.fields.some((f) => f.name.startsWith('console.domU'))).toBe(false);
    expect(v.pages.some((p) => p.name.startsWith('console ring'))).toBe(false);
  });
});

describe('Xen 2.0: shared_info_t and the control interface', () => {
  it("shows the control ring indexes after Plan 9's console output, each end's private index, and the messages in the slots", () => {
    const { hv, records } = runExample('plan9-boot', 18); // the banner and the root prompt are out
    const d = hv.domain(1)!;
    const v = inspectDomain(hv, 1, 0);
    expect(v.layout).toBe('xen-2.0-x86_32');
    const guestPuts = records.filter((r) => r.kind === 'ctrl_msg' && r.dom === 1 && r.ring === 'tx' && r.op === 'put' && r.who === 'guest').length;
    const xendPuts = records.filter((r) => r.kind === 'ctrl_msg' && r.dom === 1 && r.ring === 'tx' && r.op === 'put' && r.who === 'xend').length;
    expect(guestPuts).toBeGreaterThan(0);

    const ctrl = page(v.pages, 'control_if (Xen 2.0)');
    expect(ctrl).toMatchObject({ base: CONTROL_IF_PAGE_OFFSET, mfn: hv.sharedInfoMfn(d) });
    expect(fromBase64(ctrl.bytes)).toEqual(d.sharedInfo.subarray(CONTROL_IF_PAGE_OFFSET, CONTROL_IF_PAGE_OFFSET + CONTROL_IF_SIZE));
    expect(ctrl.fields.map((f) => [f.name, f.offset, f.size])).toEqual(controlIfLayout().map((f) => [f.field, f.offset, f.size]));
    expect(field(ctrl, 'tx_req_prod')).toMatchObject({ offset: 3072, value: String(guestPuts) });
    expect(field(ctrl, 'tx_resp_prod')).toMatchObject({ offset: 3076, value: String(xendPuts) });

    const guest = (d.kernel as Plan9Kernel).ctrl as GuestCtrlIf;
    const xu = (hv.domain(0)!.kernel as Xen2Dom0Kernel).xend.get(1).port;
    const tx = v.rings.find((r) => r.name.startsWith('control_if tx_ring'))!;
    expect(tx).toMatchObject({ shape: 'ctrl', size: 8 });
    expect(tx.indexes).toEqual([
      { name: 'tx_req_prod', value: guestPuts },
      { name: 'tx_resp_prod', value: xendPuts },
      { name: 'tx_req_cons (xend)', value: xu.txReqCons },
      { name: 'ctrl_if_tx_resp_cons (guest)', value: guest.txRespCons },
    ]);
    // The last (up to) eight messages, decoded: the console output in CMSG_CONSOLE_DATA messages of at most 60 bytes.
    const shown = Math.min(8, guestPuts);
    expect(tx.slots.map((s) => s.index)).toEqual(Array.from({ length: shown }, (_, k) => guestPuts - shown + k));
    expect(tx.slots.every((s) => s.summary.includes('CMSG_CONSOLE_DATA id 0xff (no callback)'))).toBe(true);
    expect(tx.slots[0]!.summary).toBe('slot 0: response, taken: CMSG_CONSOLE_DATA id 0xff (no callback) length 60 "\\n\\rPlan 9 from Bell Labs on Xen 2.0\\n\\rxen: 16384 pages (64MB),"');
    expect(tx.slots.at(-1)!.summary).toContain('is from (local, tcp)[local]: ');
    expect(field(ctrl, 'tx_ring[7]').value).toBe('empty (no message has used this slot yet)');
  });

  it("annotates shared_info_t and start_info_t with Xen 2.0.0's x86_32 layout", () => {
    const { hv } = runExample('plan9-boot', 18);
    const d = hv.domain(1)!;
    const v = inspectDomain(hv, 1, 0);
    const si = page(v.pages, 'shared_info');
    expect(si.fields.map((f) => [f.name, f.offset, f.size])).toEqual(XEN2_SHARED_INFO_LAYOUT.map((f) => [f.field, f.offset, f.size]));
    expect(field(si, 'evtchn_pending_sel')).toMatchObject({ offset: XEN2_EVTCHN_PENDING_SEL, size: 4 });
    expect(v.bits.map((b) => [b.name, b.length, b.offset])).toEqual([
      ['evtchn_pending', 1024, 4],
      ['evtchn_mask', 1024, 136],
      ['evtchn_pending_sel', 32, 132],
    ]);
    expect(v.vcpus).toHaveLength(1);
    const st = page(v.pages, 'start_info');
    expect(st.fields.map((f) => [f.name, f.offset, f.size])).toEqual(xen2.XEN2_START_INFO_LAYOUT.map((f) => [f.field, f.offset, f.size]));
    expect(field(st, 'domain_controller_evtchn')).toMatchObject({ offset: 20, size: 2, value: `port ${hv.domainControllerEvtchn(d)}` });
    // Xen 2.0.0's guests share no grant tables here.
    expect(v.grants).toEqual([]);
    expect(v.pages.some((p) => p.name.startsWith('grant table'))).toBe(false);
  });
});

describe('FIFO pages', () => {
  it('annotates each bound port\'s event word with its P/M/L/B bits and LINK, and shows READY and HEAD per vCPU', () => {
    // fifo-priorities.yaml line 27: ports 1 (priority 0), 2 (7) and 3 (15) sent with vCPU 0's events off.
    const { hv, records, trace } = runExample('fifo-priorities', 27);
    const d = hv.domain(1)!;
    const v = inspectDomain(hv, 1, 0, { trace });
    expect(v.abi).toBe('fifo');
    const arr = v.pages.find((p) => p.name.startsWith('FIFO event array page 0'))!;
    for (const port of [1, 2, 3]) {
      const w = eventPage(d, port)![port]!;
      const f = field(arr, `event_array[0][${port}]`);
      expect(f).toMatchObject({ offset: port * 4, size: 4, doc: `event word of port ${port}` });
      const bit = (b: number): number => ((w & b) !== 0 ? 1 : 0);
      expect(f.value).toBe(`P=${bit(FIFO_P)} M=${bit(FIFO_M)} L=${bit(FIFO_L)} B=${bit(FIFO_B)} LINK=${w & EVTCHN_FIFO_LINK_MASK}`);
      expect(f.value).toMatch(/^P=1 M=0 L=1 B=0 LINK=0$/); // each at the head of its own queue
    }
    expect(fromBase64(arr.bytes).subarray(4, 16)).toEqual(new Uint8Array(eventPage(d, 0)!.buffer, eventPage(d, 0)!.byteOffset + 4, 12));

    const grid = (name: string): number[] => setBits(v.bits.find((b) => b.name.startsWith(name))!.bits);
    expect(grid('FIFO PENDING')).toEqual([1, 2, 3]);
    expect(grid('FIFO LINKED')).toEqual([1, 2, 3]);
    expect(grid('FIFO MASKED')).toEqual([]);
    expect(grid('FIFO ready (vCPU 0)')).toEqual([0, 7, 15]);

    const cb = page(v.pages, 'FIFO control block vCPU 0');
    expect(field(cb, 'ready').value).toBe('0x8081 (queues 0, 7, 15 ready)');
    expect(field(cb, 'head[0]').value).toBe('port 1');
    expect(field(cb, 'head[7]').value).toBe('port 2');
    expect(field(cb, 'head[15]').value).toBe('port 3');
    expect(field(cb, 'head[3]').value).toBe('0 (empty)');
    // The frames the guest gave Xen, as its hypercalls named them.
    const init = records.find((r) => r.kind === 'hypercall' && r.dom === 1 && r.op === 'init_control');
    const expand = records.find((r) => r.kind === 'hypercall' && r.dom === 1 && r.op === 'expand_array');
    expect(cb.gfn).toBe(init?.kind === 'hypercall' ? init.args.control_gfn : undefined);
    expect(arr.gfn).toBe(expand?.kind === 'hypercall' ? expand.args.array_gfn : undefined);
    expect(arr.mfn).toBe(d.memory.mfn(arr.gfn!));
  });

  it("places each FIFO grid's bit in its port's event word, on the page that holds the word", () => {
    const { hv } = runExample('fifo-priorities', 27);
    const v = inspectDomain(hv, 1, 0, { eventWordFields: 2 });
    const names = v.pages.map((p) => p.name);
    for (const [grid, bit] of [['FIFO PENDING', 31], ['FIFO MASKED', 30], ['FIFO LINKED', 29]] as const) {
      const g = v.bits.find((b) => b.name.startsWith(grid))!;
      expect(g.words).toEqual({ size: 4, bit, perPage: 1024, pages: names.filter((n) => n.startsWith('FIFO event array page')) });
      // The page named is one the view has (its name carries the note on words left out).
      for (const pg of g.words!.pages) expect(names).toContain(pg);
      const bytes = fromBase64(page(v.pages, g.words!.pages[0]!).bytes);
      const set = setBits(g.bits);
      for (let port = 0; port < 16; port++) {
        const word = new DataView(bytes.buffer, bytes.byteOffset).getUint32(port * g.words!.size, true);
        expect(set.includes(port), `${grid} of port ${port}`).toBe(((word >>> bit) & 1) === 1);
      }
    }
  });

  it('bounds the event words it annotates, and says how many it left out', () => {
    const { hv } = runExample('fifo-priorities', 27);
    const pages = inspectDomain(hv, 1, 0, { eventWordFields: 2 }).pages;
    const arr = pages.find((p) => p.name.startsWith('FIFO event array page 0'))!;
    expect(arr.fields.map((f) => f.name)).toEqual(['event_array[0][1]', 'event_array[0][2]']);
    expect(arr.name).toContain('1 more words in use not annotated');
  });
});

describe('grants and split-driver rings', () => {
  it('lists every grant entry in use with GTF_* names, and the sring headers a frontend and its backend share', () => {
    const { hv } = runExample('split-drivers');
    const alpha = hv.domain(1)!;
    const v = inspectDomain(hv, 1, 0);
    const k = alpha.kernel as MiniOsKernel;
    const disk = k.disks[0]!;
    for (const g of v.grants) {
      const e = alpha.grants.entry(g.ref);
      expect(g.domid).toBe(e.domid);
      expect(g.frame).toBe(e.frame);
    }
    expect(v.grants.find((g) => g.ref === 0)).toEqual({ ref: 0, flags: 'GTF_permit_access', domid: 0, frame: CONSOLE_GFN });
    expect(v.grants.find((g) => g.ref === 1)).toEqual({ ref: 1, flags: 'GTF_permit_access', domid: 0, frame: STORE_GFN });
    // blkback maps the ring writable: Xen set GTF_reading | GTF_writing.
    expect(alpha.grants.entry(disk.ringRef).flags).toBe(GTF_permit_access | GTF_reading | GTF_writing);
    expect(v.grants.find((g) => g.ref === disk.ringRef)).toEqual({ ref: disk.ringRef, flags: 'GTF_permit_access | GTF_reading | GTF_writing', domid: 0, frame: disk.ringGfn });
    const gt = page(v.pages, 'grant table frame 0');
    expect(field(gt, `grant_entry_v1[${disk.ringRef}].flags`)).toMatchObject({ offset: disk.ringRef * 8, size: 2 });
    expect(field(gt, `grant_entry_v1[${disk.ringRef}].frame`)).toMatchObject({ offset: disk.ringRef * 8 + 4, value: String(disk.ringGfn) });

    const ring = disk.ring!;
    const blk = v.rings.find((r) => r.name === 'blkif ring (vbd 51712)')!;
    expect(blk).toMatchObject({ shape: 'sring', size: 32 });
    expect(blk.indexes).toEqual([
      { name: 'req_prod', value: ring.sring.reqProd },
      { name: 'req_event', value: ring.sring.reqEvent },
      { name: 'rsp_prod', value: ring.sring.rspProd },
      { name: 'rsp_event', value: ring.sring.rspEvent },
      { name: 'req_prod_pvt (frontend)', value: ring.reqProdPvt },
      { name: 'rsp_cons (frontend)', value: ring.rspCons },
    ]);
    expect(ring.sring.reqProd).toBeGreaterThan(0); // the scenario read and wrote the disk
    expect(page(v.pages, 'blkif ring (vbd 51712)')).toMatchObject({ gfn: disk.ringGfn, mfn: alpha.memory.mfn(disk.ringGfn) });
    // The netif rx ring holds the buffers posted to netback, decoded.
    const rx = v.rings.find((r) => r.name === 'netif rx ring (vif 0)')!;
    expect(rx.slots.length).toBeGreaterThan(0);
    expect(rx.slots[0]!.summary).toMatch(/^slot \d+: request id \d+ gref \d+$/);

    // dom0 (the backend) sees the same page, mapped from alpha.
    const back = inspectDomain(hv, 0, 0).rings.find((r) => r.name.startsWith('blkif ring (vbd 51712), mapped from dom1'))!;
    expect(back.indexes.slice(0, 4)).toEqual(blk.indexes.slice(0, 4));
  });

  it("finds a scenario's own ring from the grant its backend mapped, header only", () => {
    // split-ring.yaml line 37: the frontend pushed 3 requests on the ring dom0 mapped (grant ref 8, gfn 1100).
    const { hv } = runExample('split-ring', 37);
    const front = inspectDomain(hv, 1, 0);
    const r = front.rings.find((x) => x.name === 'sring (grant ref 8 to dom0)')!;
    expect(r).toMatchObject({ shape: 'sring', size: 0, slots: [] });
    expect(r.indexes).toEqual([
      { name: 'req_prod', value: 3 },
      { name: 'req_event', value: 1 },
      { name: 'rsp_prod', value: 0 },
      { name: 'rsp_event', value: 1 },
    ]);
    expect(page(front.pages, 'sring (grant ref 8 to dom0)').gfn).toBe(1100);
    expect(inspectDomain(hv, 0, 0).rings.map((x) => x.name)).toContain('sring mapped from dom1 ref 8');
  });
});

describe('frames named by the trace', () => {
  it("follows a growing trace: each event-array page gets the gfn its expand_array gave, as pages are added", () => {
    const hv = new Hypervisor({ seed: 1 });
    const store = new TraceStore();
    hv.trace.subscribe(store.subscriber);
    const trace = traceStoreLookback(store);
    hv.createDomain({ name: 'dom0' }, defaultKernel());
    const g = hv.createDomain({ name: 'guest', maxEvtchnPort: 2047 }, defaultKernel('fifo'));
    hv.trace.flush();
    const arrayGfns = (): number[] =>
      [...store.records()].flatMap((r) => (r.kind === 'hypercall' && r.dom === g.domid && r.op === 'expand_array' && r.ret === '0' ? [Number(r.args.array_gfn)] : []));
    const gfnsOf = (): (number | undefined)[] => inspectDomain(hv, g.domid, 0, { trace }).pages.filter((p) => p.name.startsWith('FIFO event array page')).map((p) => p.gfn);
    expect(gfnsOf()).toEqual(arrayGfns());
    expect(arrayGfns()).toHaveLength(1);
    // Port 1024 needs a second page: the kernel adds it with another expand_array.
    for (let i = 0; i < 1100; i++) (g.kernel as DefaultKernel).call('bind_ipi', { vcpu: 0 });
    hv.trace.flush();
    expect(arrayGfns()).toHaveLength(2);
    expect(gfnsOf()).toEqual(arrayGfns());
  });
});
