// The inspector view's pure logic: bit lists and summaries, what changed between two refreshes
// (over real runs of masking.yaml and plan9-boot.yaml as the host inspects them), which field a
// byte belongs to, hex dump lines, ring producer/consumer pairs and how many grid rows to show.
import { describe, expect, it } from 'vitest';
import type { InspectView, RingView } from '../../src/contract/inspect.js';
import { toBase64 } from '../../src/contract/trace_batch.js';
import { inspectDomain } from '../../src/host/inspect/index.js';
import {
  baseIndexName,
  bitLocation,
  bitSummary,
  decodeView,
  describePort,
  diffBits,
  diffBytes,
  diffViews,
  fieldIndex,
  formatRanges,
  gridKind,
  hexDump,
  hexRows,
  highestSet,
  indexRole,
  key,
  ringPairs,
  rowsToShow,
  setBits,
  slotOf,
} from '../../src/renderer/src/views/inspector/model.js';
import { runExample } from '../host/inspect_helpers.js';

const bitsOf = (...set: number[]): Uint8Array => {
  const b = new Uint8Array(8);
  for (const i of set) b[i >> 3]! |= 1 << (i & 7);
  return b;
};

describe('bit lists', () => {
  it('lists set bits lowest first, within the grid length, and summarises them as ranges', () => {
    expect(setBits(bitsOf(1, 5, 8, 9, 10, 11, 63), 64)).toEqual([1, 5, 8, 9, 10, 11, 63]);
    expect(setBits(bitsOf(1, 40), 32)).toEqual([1]);
    expect(formatRanges([1, 5, 8, 9, 10, 11])).toBe('1, 5, 8–11');
    expect(formatRanges([3, 4])).toBe('3, 4');
    expect(formatRanges([])).toBe('');
    expect(formatRanges([0, 2, 4, 6, 8], 3)).toBe('0, 2, 4 … (2 more)');
    expect(bitSummary(bitsOf(), 64)).toBe('none set');
    expect(bitSummary(bitsOf(1), 64)).toBe('1 set: 1');
    expect(bitSummary(bitsOf(1, 5, 8, 9, 10, 11), 64)).toBe('6 set: 1, 5, 8–11');
    expect(highestSet(bitsOf(3, 17), 64)).toBe(17);
    expect(highestSet(bitsOf(), 64)).toBe(-1);
  });

  it('says what a grid indexes from its name, and where its bit i lies in the page', () => {
    expect(gridKind('evtchn_pending')).toBe('port');
    expect(gridKind('FIFO MASKED (bit 30 of each event word)')).toBe('port');
    expect(gridKind('evtchn_pending_sel (vCPU 1)')).toBe('selector');
    expect(gridKind('FIFO ready (vCPU 0)')).toBe('ready');
    expect(bitLocation({ name: 'evtchn_pending', length: 4096, bits: '', offset: 2048, page: 'shared_info' }, 77)).toEqual({ page: 'shared_info', byte: 2057, bit: 5 });
    // FIFO: bit 31 (P) of port 1030's event word, word 6 of the second array page, is bit 7 of its byte 3.
    const fifo = { name: 'FIFO PENDING', length: 2048, bits: '', offset: 0, page: 'a0', words: { size: 4, bit: 31, perPage: 1024, pages: ['a0', 'a1'] } };
    expect(bitLocation(fifo, 1030)).toEqual({ page: 'a1', byte: 27, bit: 7 });
    expect(bitLocation({ ...fifo, words: { ...fifo.words, bit: 29 } }, 3)).toEqual({ page: 'a0', byte: 15, bit: 5 });
  });

  it('finds the bits that flipped and the bytes that changed, and nothing without a previous refresh', () => {
    expect(diffBits(bitsOf(1, 2), bitsOf(2, 9), 64)).toEqual([1, 9]);
    expect(diffBits(undefined, bitsOf(2), 64)).toEqual([]);
    expect(diffBytes(undefined, new Uint8Array(4))).toBeNull();
    expect(diffBytes(new Uint8Array(4), new Uint8Array(4))).toBeNull();
    expect([...diffBytes(Uint8Array.of(0, 1, 2, 3), Uint8Array.of(0, 1, 7, 3))!]).toEqual([0, 0, 1, 0]);
  });
});

describe('what changed between two refreshes, over real runs', () => {
  it("marks the byte and the bit of a masked port's send in masking.yaml, and nothing else in shared_info", () => {
    // Line 20: the guest masks port 1; line 21: dom0 sends on its end.
    const before = runExample('masking', 20);
    const after = runExample('masking', 21);
    const a = decodeView(inspectDomain(before.hv, 1, 7));
    const b = decodeView(inspectDomain(after.hv, 1, 8));
    const c = diffViews(a, b);
    expect([...c.bits.keys()]).toEqual(['evtchn_pending']);
    expect([...c.bits.get('evtchn_pending')!]).toEqual([1]);
    const mask = c.bytes.get('shared_info')!;
    const changed = [...mask.keys()].filter((i) => mask[i] === 1);
    expect(changed).toEqual([2048]);
    expect(c.byteCount).toBe(1);
    expect(c.bitCount).toBe(1);
    expect(c.fields).toEqual(new Set([key('shared_info', 'evtchn_pending')]));
    expect(c.vcpus.size).toBe(0);
    // Back again (a step back): the same byte and bit.
    const back = diffViews(b, a);
    expect([...back.bits.get('evtchn_pending')!]).toEqual([1]);
    expect(back.byteCount).toBe(1);
    // Another domain is not compared.
    expect(diffViews(decodeView(inspectDomain(before.hv, 0, 7)), b).byteCount).toBe(0);
  });

  it('decodes the 32-bit Xen 2.0 layout (32-bit selector words) and marks the control ring indexes that moved', () => {
    const boot = runExample('plan9-boot', 17);
    const v = decodeView(inspectDomain(boot.hv, 1, 1));
    expect(v.wordBits).toBe(32);
    expect(v.grids.find((g) => g.kind === 'selector')!.view.name).toBe('evtchn_pending_sel');
    const ringLess: InspectView = { ...v.view, rings: v.view.rings.map((r) => ({ ...r, indexes: r.indexes.map((i) => (i.name === 'tx_req_prod' ? { ...i, value: i.value - 3 } : i)) })) };
    const c = diffViews(decodeView(ringLess), v);
    expect([...c.rings]).toEqual([key('control_if tx_ring (guest → xend)', 'tx_req_prod')]);
    // The field list knows which page each byte is in: control_if's slice starts at 2048.
    const ctl = v.pages.find((p) => p.view.name === 'control_if (Xen 2.0)')!;
    expect(ctl.view.base).toBe(2048);
    expect(ctl.view.fields[ctl.fieldAt[3072 - 2048]!]!.name).toBe('tx_req_prod');
    // In shared_info, the control_if_t block gives way to nothing smaller: its bytes name it.
    const si = v.pages.find((p) => p.view.name === 'shared_info')!;
    expect(si.view.fields[si.fieldAt[2100]!]!.name).toBe('control_if_t');
  });
});

describe('bytes and fields', () => {
  const fields = [
    { name: 'block', offset: 0, size: 16, value: '' },
    { name: 'inner', offset: 4, size: 4, value: '' },
    { name: 'after', offset: 20, size: 2, value: '' },
  ];

  it('gives each byte the smallest field that covers it, and -1 where none does', () => {
    const at = fieldIndex(fields, 0, 24);
    expect([...at]).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, -1, -1, -1, -1, 2, 2, -1, -1]);
    // A slice of the page from offset 16.
    expect([...fieldIndex(fields, 16, 8)]).toEqual([-1, -1, -1, -1, 2, 2, -1, -1]);
  });

  it('prints a hex dump as hexdump -C does, with the page offsets and blanks outside the range', () => {
    const bytes = new Uint8Array(32);
    bytes[0] = 0x02;
    bytes.set([0x78, 0x65, 0x6e], 17);
    expect(hexDump(bytes, 2048)).toBe(
      '0800  02 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|\n' + //
        '0810  00 78 65 6e 00 00 00 00  00 00 00 00 00 00 00 00  |.xen............|',
    );
    // Columns stay where a full line has them.
    expect(hexDump(bytes, 2048, 2048 + 17, 2048 + 20)).toBe(`0810     78 65 6e${' '.repeat(39)}| xen            |`);
    // A slice that does not start on a row: the first row starts at the offset rounded down.
    expect(hexDump(Uint8Array.of(0x41, 0x42), 0x1006)).toBe('1000                    41 42                           |      AB        |');
    expect(hexRows(0x1006, 2)).toEqual({ first: 0x1000, count: 1 });
    expect(hexRows(2048, 1040)).toEqual({ first: 2048, count: 65 });
    expect(hexRows(0, 0)).toEqual({ first: 0, count: 0 });
  });
});

describe('rings', () => {
  const ring = (shape: RingView['shape'], size: number, indexes: [string, number][]): RingView => ({ name: 'r', shape, size, indexes: indexes.map(([name, value]) => ({ name, value })), slots: [] });

  it("reads an index's role from its Xen name", () => {
    expect(indexRole('tx_req_prod')).toBe('prod');
    expect(indexRole('req_prod_pvt (frontend)')).toBe('prod');
    expect(indexRole('ctrl_if_tx_resp_cons (guest)')).toBe('cons');
    expect(indexRole('out_cons')).toBe('cons');
    expect(indexRole('rsp_event')).toBe('event');
    expect(indexRole('connection')).toBe('other');
    expect(baseIndexName('tx_req_cons (xend)')).toBe('tx_req_cons');
  });

  it('pairs each consumer with its producer and counts what is in flight, across the 32-bit wrap', () => {
    const ctrl = ring('ctrl', 8, [
      ['tx_req_prod', 14],
      ['tx_resp_prod', 6],
      ['tx_req_cons (xend)', 6],
      ['ctrl_if_tx_resp_cons (guest)', 6],
    ]);
    expect(ringPairs(ctrl).map((p) => [p.what, p.cons.name, p.prod.name, p.inFlight])).toEqual([
      ['tx_req', 'tx_req_cons (xend)', 'tx_req_prod', 8],
      ['tx_resp', 'ctrl_if_tx_resp_cons (guest)', 'tx_resp_prod', 0],
    ]);
    const bytes = ring('bytes', 2048, [
      ['out_cons', 0xfffffffe],
      ['out_prod', 3],
    ]);
    expect(ringPairs(bytes)[0]!.inFlight).toBe(5);
    // A frontend's private req_prod_pvt has no consumer beside it here: no pair.
    expect(ringPairs(ring('sring', 32, [['req_prod', 3], ['req_prod_pvt (frontend)', 3], ['rsp_prod', 2], ['rsp_cons (frontend)', 1]])).map((p) => p.what)).toEqual(['rsp']);
    expect(slotOf(14, 8)).toBe(6);
    expect(slotOf(5, 0)).toBe(0);
  });
});

describe('grid rows', () => {
  it('shows rows up to the highest bit that matters, at least two, at most all', () => {
    expect(rowsToShow(4096, 64, -1)).toBe(2);
    expect(rowsToShow(4096, 64, 1)).toBe(2);
    expect(rowsToShow(4096, 64, 200)).toBe(4);
    expect(rowsToShow(4096, 64, 9999)).toBe(64);
    expect(rowsToShow(16, 16, 3)).toBe(1);
  });
});

describe('decoding', () => {
  it('decodes base64 pages and grids once, with their vCPU', () => {
    const view: InspectView = {
      domid: 1,
      name: 'g',
      position: 0,
      layout: 'x86_64',
      abi: 'fifo',
      pages: [{ name: 'p', bytes: toBase64(Uint8Array.of(1, 2, 3)), base: 0, fields: [] }],
      bits: [{ name: 'FIFO ready (vCPU 3)', length: 16, bits: toBase64(Uint8Array.of(0b1000_0000, 0)), offset: 0, page: 'FIFO control block vCPU 3' }],
      vcpus: [],
      rings: [],
      grants: [],
    };
    const d = decodeView(view);
    expect([...d.pages[0]!.bytes]).toEqual([1, 2, 3]);
    expect(d.grids[0]).toMatchObject({ kind: 'ready', vcpu: 3 });
    expect(setBits(d.grids[0]!.bits, 16)).toEqual([7]);
    // No selector in a FIFO view: the word is the layout's.
    expect(d.wordBits).toBe(64);
  });
});

describe('ports', () => {
  it('says how a port is bound, naming the other domain as the topology does', () => {
    const domains = [
      { domid: 0, name: 'dom0', kernel: 'dom0', state: 'running' as const, vcpus: 1, abi: '2l' as const, ports: [] },
      { domid: 1, name: 'plan9', kernel: 'plan9', state: 'running' as const, vcpus: 1, abi: '2l' as const, ports: [] },
    ];
    const base = { vcpu: 0, pending: false, masked: false };
    expect(describePort({ ...base, port: 1, state: 'interdomain', remoteDom: 0, remotePort: 2, label: 'control channel' }, domains)).toBe('interdomain ↔ dom0 port 2 · control channel');
    expect(describePort({ ...base, port: 2, state: 'virq', virq: 0, label: 'VIRQ_TIMER' }, domains)).toBe('virq 0 · VIRQ_TIMER');
    expect(describePort({ ...base, port: 3, state: 'unbound', remoteDom: 7 }, domains)).toBe('unbound (for dom7)');
    expect(describePort({ ...base, port: 4, state: 'ipi', vcpu: 1 }, domains)).toBe('ipi · vCPU 1');
    expect(describePort(undefined, domains)).toBe('no port here (closed)');
  });
});
