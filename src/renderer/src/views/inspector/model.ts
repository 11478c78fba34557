/**
 * The inspector's pure logic, apart from the DOM (unit-tested in
 * test/renderer/inspector_model.test.ts): an InspectView decoded once per
 * refresh, what changed since the previous one, and the text the view shows
 * (bit lists, hex dump lines, ring occupancy). Every offset and name comes
 * from the InspectView; nothing here knows a Xen layout of its own.
 */
import type { BitGrid, FieldAnnotation, InspectView, PageView, RingView } from '../../../../contract/inspect.js';
import type { TopologyDomain, TopologyPort } from '../../../../contract/session.js';
import { fromBase64 } from '../../../../contract/trace_batch.js';

/** What a grid's bits index: ports (evtchn_pending, evtchn_mask, FIFO P/M/L), selector words, or FIFO priority queues. */
export type GridKind = 'port' | 'selector' | 'ready';

export interface DecodedPage {
  view: PageView;
  bytes: Uint8Array;
  /** For each byte, the field it belongs to (index into view.fields, the smallest that covers it), or -1. */
  fieldAt: Int32Array;
}

export interface DecodedGrid {
  view: BitGrid;
  kind: GridKind;
  bits: Uint8Array;
  /** The vCPU a selector or ready grid belongs to (0 when the name has none); undefined for port grids. */
  vcpu: number | undefined;
}

export interface Decoded {
  view: InspectView;
  pages: DecodedPage[];
  grids: DecodedGrid[];
  /** Bits of a machine word: the selector's length (64 on x86-64, 32 on Xen 2.0's x86_32). */
  wordBits: number;
}

export function gridKind(name: string): GridKind {
  if (name.startsWith('evtchn_pending_sel')) return 'selector';
  if (name.startsWith('FIFO ready')) return 'ready';
  return 'port';
}

function vcpuOf(name: string): number {
  const m = /\(vCPU (\d+)\)/.exec(name);
  return m === null ? 0 : Number(m[1]);
}

export function decodeView(view: InspectView): Decoded {
  const pages = view.pages.map((p): DecodedPage => {
    const bytes = fromBase64(p.bytes);
    return { view: p, bytes, fieldAt: fieldIndex(p.fields, p.base, bytes.length) };
  });
  const grids = view.bits.map((g): DecodedGrid => {
    const kind = gridKind(g.name);
    return { view: g, kind, bits: fromBase64(g.bits), vcpu: kind === 'port' ? undefined : vcpuOf(g.name) };
  });
  const sel = grids.find((g) => g.kind === 'selector');
  const wordBits = sel !== undefined ? sel.view.length : /32/.test(view.layout) ? 32 : 64;
  return { view, pages, grids, wordBits };
}

/**
 * Byte → field: for each byte of a page slice (`length` bytes from page offset `base`), the
 * index of the smallest field covering it, -1 where none does (a block that holds smaller
 * fields, such as control_if_t in shared_info, gives way to them).
 */
export function fieldIndex(fields: readonly FieldAnnotation[], base: number, length: number): Int32Array {
  const at = new Int32Array(length).fill(-1);
  const order = fields.map((_, i) => i).sort((a, b) => fields[b]!.size - fields[a]!.size);
  for (const i of order) {
    const f = fields[i]!;
    const from = Math.max(0, f.offset - base);
    const to = Math.min(length, f.offset - base + f.size);
    for (let o = from; o < to; o++) at[o] = i;
  }
  return at;
}

export function bitAt(bits: Uint8Array, i: number): boolean {
  return ((bits[i >> 3] ?? 0) >> (i & 7)) & 1 ? true : false;
}

/** The set bits, lowest first. */
export function setBits(bits: Uint8Array, length: number): number[] {
  const out: number[] = [];
  const n = Math.min(bits.length, (length + 7) >> 3);
  for (let b = 0; b < n; b++) {
    const v = bits[b]!;
    if (v === 0) continue;
    for (let k = 0; k < 8; k++) if ((v >> k) & 1 && b * 8 + k < length) out.push(b * 8 + k);
  }
  return out;
}

/** [1, 5, 8, 9, 10, 11] → "1, 5, 8–11"; at most `max` items, then "… (N more)". */
export function formatRanges(list: readonly number[], max = 12): string {
  const parts: string[] = [];
  let i = 0;
  while (i < list.length) {
    let j = i;
    while (j + 1 < list.length && list[j + 1] === list[j]! + 1) j++;
    parts.push(j - i >= 2 ? `${list[i]}–${list[j]}` : j === i ? String(list[i]) : `${list[i]}, ${list[j]}`);
    i = j + 1;
  }
  const flat = parts.join(', ').split(', ');
  return flat.length <= max ? flat.join(', ') : `${flat.slice(0, max).join(', ')} … (${flat.length - max} more)`;
}

/** One line under a grid: "none set", "1 set: 1", "6 set: 1, 5, 8–11". */
export function bitSummary(bits: Uint8Array, length: number): string {
  const set = setBits(bits, length);
  return set.length === 0 ? 'none set' : `${set.length} set: ${formatRanges(set)}`;
}

/** The bytes that differ (1 in the mask), or null when none do or there is nothing to compare with. */
export function diffBytes(prev: Uint8Array | undefined, next: Uint8Array): Uint8Array | null {
  if (prev === undefined) return null;
  let mask: Uint8Array | null = null;
  const n = next.length;
  for (let i = 0; i < n; i++) {
    if (prev[i] !== next[i]) {
      mask ??= new Uint8Array(n);
      mask[i] = 1;
    }
  }
  return mask;
}

/** The bits that flipped, lowest first. */
export function diffBits(prev: Uint8Array | undefined, next: Uint8Array, length: number): number[] {
  if (prev === undefined) return [];
  const out: number[] = [];
  const n = Math.min(next.length, (length + 7) >> 3);
  for (let b = 0; b < n; b++) {
    const x = (prev[b] ?? 0) ^ next[b]!;
    if (x === 0) continue;
    for (let k = 0; k < 8; k++) if ((x >> k) & 1 && b * 8 + k < length) out.push(b * 8 + k);
  }
  return out;
}

/** What changed between two refreshes of the same domain: keys are page, grid, field and index names. */
export interface ViewChanges {
  /** Page name → changed-byte mask. */
  bytes: Map<string, Uint8Array>;
  /** Grid name → flipped bits. */
  bits: Map<string, Set<number>>;
  /** "page\u0000field" of fields whose formatted value changed. */
  fields: Set<string>;
  /** "ring\u0000index" of ring indexes whose value changed; "ring\u0000#slot" of slots whose summary changed. */
  rings: Set<string>;
  /** "vcpu\u0000flag" of vCPU flags that changed: upcallPending, upcallMask, pendingSel. */
  vcpus: Set<string>;
  /** Grant refs that are new or changed. */
  grants: Set<number>;
  /** How many bytes and bits changed in all (for the header). */
  byteCount: number;
  bitCount: number;
}

export function emptyChanges(): ViewChanges {
  return { bytes: new Map(), bits: new Map(), fields: new Set(), rings: new Set(), vcpus: new Set(), grants: new Set(), byteCount: 0, bitCount: 0 };
}

export const key = (a: string | number, b: string | number): string => `${a}\u0000${b}`;

/** Compares two refreshes; a different domain (or no previous one) changes nothing. */
export function diffViews(prev: Decoded | undefined, next: Decoded): ViewChanges {
  const c = emptyChanges();
  if (prev === undefined || prev.view.domid !== next.view.domid) return c;
  const oldPages = new Map(prev.pages.map((p) => [p.view.name, p]));
  for (const p of next.pages) {
    const o = oldPages.get(p.view.name);
    if (o === undefined || o.view.base !== p.view.base) continue;
    const mask = diffBytes(o.bytes, p.bytes);
    if (mask !== null) {
      c.bytes.set(p.view.name, mask);
      for (const v of mask) c.byteCount += v;
    }
    const oldFields = new Map(o.view.fields.map((f) => [f.name, f.value]));
    for (const f of p.view.fields) {
      const was = oldFields.get(f.name);
      if (was !== undefined && was !== f.value) c.fields.add(key(p.view.name, f.name));
    }
  }
  const oldGrids = new Map(prev.grids.map((g) => [g.view.name, g]));
  for (const g of next.grids) {
    const o = oldGrids.get(g.view.name);
    if (o === undefined) continue;
    const flipped = diffBits(o.bits, g.bits, g.view.length);
    if (flipped.length > 0) {
      c.bits.set(g.view.name, new Set(flipped));
      c.bitCount += flipped.length;
    }
  }
  const oldRings = new Map(prev.view.rings.map((r) => [r.name, r]));
  for (const r of next.view.rings) {
    const o = oldRings.get(r.name);
    if (o === undefined) continue;
    const idx = new Map(o.indexes.map((i) => [i.name, i.value]));
    for (const i of r.indexes) if (idx.has(i.name) && idx.get(i.name) !== i.value) c.rings.add(key(r.name, i.name));
    const slots = new Map(o.slots.map((s) => [s.index, s.summary]));
    for (const s of r.slots) if (slots.get(s.index) !== s.summary) c.rings.add(key(r.name, `#${s.index}`));
  }
  const oldVcpus = new Map(prev.view.vcpus.map((v) => [v.vcpu, v]));
  for (const v of next.view.vcpus) {
    const o = oldVcpus.get(v.vcpu);
    if (o === undefined) continue;
    if (o.upcallPending !== v.upcallPending) c.vcpus.add(key(v.vcpu, 'upcallPending'));
    if (o.upcallMask !== v.upcallMask) c.vcpus.add(key(v.vcpu, 'upcallMask'));
    if (o.pendingSel !== v.pendingSel) c.vcpus.add(key(v.vcpu, 'pendingSel'));
  }
  const oldGrants = new Map(prev.view.grants.map((g) => [g.ref, g]));
  for (const g of next.view.grants) {
    const o = oldGrants.get(g.ref);
    if (o === undefined || o.flags !== g.flags || o.domid !== g.domid || o.frame !== g.frame) c.grants.add(g.ref);
  }
  return c;
}

// ---- hex ----

export const HEX_ROW = 16;

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function hex2(b: number): string {
  return HEX[b & 255]!;
}

/** A byte as ASCII: printable characters as themselves, anything else as a dot. */
export function asciiOf(b: number): string {
  return b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
}

/** A page offset as the hex view's left column: at least 4 hex digits. */
export function offsetLabel(offset: number): string {
  return offset.toString(16).padStart(4, '0');
}

/** The rows of a slice that starts at page offset `base`: the first row starts at base rounded down to 16. */
export function hexRows(base: number, length: number): { first: number; count: number } {
  const first = Math.floor(base / HEX_ROW) * HEX_ROW;
  const end = base + length;
  return { first, count: length === 0 ? 0 : Math.ceil((end - first) / HEX_ROW) };
}

/**
 * A hex dump of page offsets [from, to) of a slice (`bytes` from page offset `base`), 16 bytes a
 * line as `hexdump -C` prints them: "0800  02 00 00 … 00  |................|". Bytes outside the
 * range on a line are left blank.
 */
export function hexDump(bytes: Uint8Array, base: number, from = base, to = base + bytes.length): string {
  from = Math.max(from, base);
  to = Math.min(to, base + bytes.length);
  const lines: string[] = [];
  for (let row = Math.floor(from / HEX_ROW) * HEX_ROW; row < to; row += HEX_ROW) {
    let hx = '';
    let asc = '';
    for (let k = 0; k < HEX_ROW; k++) {
      const o = row + k;
      const inside = o >= from && o < to;
      const b = bytes[o - base]!;
      hx += (k === 8 ? ' ' : '') + (inside ? hex2(b) : '  ') + (k < HEX_ROW - 1 ? ' ' : '');
      asc += inside ? asciiOf(b) : ' ';
    }
    lines.push(`${offsetLabel(row)}  ${hx}  |${asc}|`);
  }
  return lines.join('\n');
}

// ---- grids ----

/**
 * How many rows of `cols` bits a port grid shows when not showing all: enough for the highest
 * bit that matters (a set bit in any grid, a bound port, the selected port), at least two rows,
 * never more than the grid has.
 */
export function rowsToShow(length: number, cols: number, highest: number): number {
  const all = Math.ceil(length / cols);
  return Math.min(all, Math.max(2, Math.floor(Math.max(0, highest) / cols) + 1));
}

/** The highest set bit of a grid, or -1. */
export function highestSet(bits: Uint8Array, length: number): number {
  for (let b = Math.min(bits.length, (length + 7) >> 3) - 1; b >= 0; b--) {
    const v = bits[b]!;
    if (v !== 0) for (let k = 7; k >= 0; k--) if ((v >> k) & 1 && b * 8 + k < length) return b * 8 + k;
  }
  return -1;
}

/**
 * Where bit i of a grid lies: its page, byte and bit (docs/inspector.md). A bitmap's is byte
 * offset + (i >> 3), bit i & 7; a FIFO grid's is in port i's event word (bit 31 of word i is
 * bit 7 of its byte 3, the word being little-endian).
 */
export function bitLocation(grid: BitGrid, i: number): { page: string; byte: number; bit: number } {
  const w = grid.words;
  if (w === undefined) return { page: grid.page, byte: grid.offset + (i >> 3), bit: i & 7 };
  const k = Math.floor(i / w.perPage);
  return { page: w.pages[k] ?? grid.page, byte: (i % w.perPage) * w.size + (w.bit >> 3), bit: w.bit & 7 };
}

// ---- rings ----

export type IndexRole = 'prod' | 'cons' | 'event' | 'other';

/** An index's role from its Xen name: req_prod, tx_resp_prod, out_prod → prod; req_cons, rsp_cons → cons; req_event → event. */
export function indexRole(name: string): IndexRole {
  const n = baseIndexName(name);
  if (/_event$/.test(n)) return 'event';
  if (/_prod(_pvt)?$/.test(n)) return 'prod';
  if (/_cons$/.test(n)) return 'cons';
  return 'other';
}

/** The name without who holds it and without ctrl_if.c's prefix: "ctrl_if_tx_resp_cons (guest)" → "tx_resp_cons". */
export function baseIndexName(name: string): string {
  return name.replace(/\s*\(.*\)$/, '').replace(/^ctrl_if_/, '');
}

export interface RingPair {
  /** "tx_req", "out", "rsp" … */
  what: string;
  prod: { name: string; value: number };
  cons: { name: string; value: number };
  /** prod − cons as Xen's free-running 32-bit indexes subtract. */
  inFlight: number;
}

/** Producer/consumer pairs of a ring (a consumer with the producer of the same name), in the ring's index order. */
export function ringPairs(ring: RingView): RingPair[] {
  const out: RingPair[] = [];
  for (const c of ring.indexes) {
    if (indexRole(c.name) !== 'cons') continue;
    const what = baseIndexName(c.name).replace(/_?cons$/, '');
    const p = ring.indexes.find((x) => baseIndexName(x.name) === (what === '' ? 'prod' : `${what}_prod`));
    if (p === undefined) continue;
    out.push({ what, prod: p, cons: c, inFlight: (p.value - c.value) >>> 0 });
  }
  return out;
}

/** The slot (or byte) an index points at: value mod size (ring sizes are powers of two, as ring.h's and the byte rings'). */
export function slotOf(value: number, size: number): number {
  return size > 0 ? ((value % size) + size) % size : 0;
}

// ---- ports ----

/** How a port is bound, from the topology: "interdomain ↔ dom0 port 2 · control channel". */
export function describePort(p: TopologyPort | undefined, domains: readonly TopologyDomain[]): string {
  if (p === undefined) return 'no port here (closed)';
  const name = (d: number | undefined): string => (d === undefined ? '?' : (domains.find((x) => x.domid === d)?.name ?? `dom${d}`));
  let s = p.state;
  if (p.state === 'interdomain') s += ` ↔ ${name(p.remoteDom)} port ${p.remotePort ?? '?'}`;
  else if (p.state === 'unbound') s += ` (for ${name(p.remoteDom)})`;
  else if (p.state === 'virq' && p.virq !== undefined) s += ` ${p.virq}`;
  else if (p.state === 'pirq' && p.pirq !== undefined) s += ` ${p.pirq}`;
  if (p.label !== undefined) s += ` · ${p.label}`;
  if (p.vcpu !== 0) s += ` · vCPU ${p.vcpu}`;
  return s;
}
