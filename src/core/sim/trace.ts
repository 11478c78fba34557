/**
 * The trace: one record per thing the machine does. Records are stored in
 * columns (typed arrays in fixed-size chunks) so that recording costs a few
 * stores and no allocation; they become objects only when read.
 */
import { cmsgName, cmsgTypeName } from '../abi/ctrl_if.js';
import { ECS_NAMES } from '../abi/evtchn.js';
import { retName } from '../abi/errno.js';
import { xsTypeName } from '../abi/xs_wire.js';

/** Record kinds. */
export const TK = {
  hypercall: 0,
  bit: 1,
  upcall: 2,
  handler: 3,
  port: 4,
  raise: 5,
  grant_entry: 6,
  ring: 7,
  domain: 8,
  note: 9,
  ctrl_msg: 10,
  xs_msg: 11,
  cons: 12,
  fault: 13,
} as const;
export type TraceKindName = keyof typeof TK;
const KIND_NAMES = Object.keys(TK) as TraceKindName[];

/** Which field of shared memory a `bit` record changed. */
export const BIT = {
  evtchn_pending: 0,
  evtchn_mask: 1,
  evtchn_pending_sel: 2,
  evtchn_upcall_pending: 3,
  evtchn_upcall_mask: 4,
  fifo_pending: 5,
  fifo_masked: 6,
  fifo_linked: 7,
  fifo_busy: 8,
  fifo_link: 9,
  fifo_ready: 10,
  fifo_head: 11,
} as const;
export type BitFieldName = keyof typeof BIT;
const BIT_NAMES = Object.keys(BIT) as BitFieldName[];

/** Who wrote a bit: the hypervisor or the guest. */
export const BY_XEN = 0;
export const BY_GUEST = 1;

export const RAISE_VIRQ = 0;
export const RAISE_PIRQ = 1;

export const DOMAIN_EVENTS = ['create', 'pause', 'unpause', 'shutdown', 'dying', 'destroy', 'boot'] as const;
export type DomainEventName = (typeof DOMAIN_EVENTS)[number];

/**
 * A `ctrl_msg` record's x1: which ring of control_if_t, what was done to the
 * slot, and by whom. tx_ring carries guest requests (and the controller's
 * responses in their slots); rx_ring carries controller requests (and the
 * guest's responses).
 */
export const CTRL_TX = 0;
export const CTRL_RX = 1;
export const CTRL_PUT = 0;
export const CTRL_TAKE = 2;
export const CTRL_BY_GUEST = 0;
export const CTRL_BY_XEND = 4;

/** An `xs_msg` record's direction (in its vcpu column): a request read by xenstored, or a reply/watch event it queued. */
export const XS_REQ = 0;
export const XS_RSP = 1;
/** Characters of the payload's first string an `xs_msg` record keeps. */
export const XS_TEXT_MAX = 64;

/** A `cons` record's direction (in its vcpu column): guest output taken by the back end, or input put in for the guest. */
export const CONS_OUT = 0;
export const CONS_IN = 1;
/** Characters of the bytes a `cons` record keeps (its count stays exact). */
export const CONS_TEXT_MAX = 80;

/** Bytes [start, end) as text, one character per byte (Latin-1), at most `max` characters. */
export function traceText(bytes: Uint8Array, start: number, end: number, max: number): string {
  const stop = Math.min(end, start + max);
  let s = '';
  for (let i = start; i < stop; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

/**
 * A `ctrl_msg` record for the control_msg_t at `offset` of `page` (its
 * 4-byte header as stored), slot index `idx` of the ring `how` names.
 * The caller checks `trace.on`.
 */
export function emitCtrlMsg(trace: Trace, dom: number, how: number, idx: number, page: Uint8Array, offset: number): void {
  const hdr = page[offset]! | (page[offset + 1]! << 8) | (page[offset + 2]! << 16) | (page[offset + 3]! << 24);
  trace.emit(TK.ctrl_msg, dom, -1, idx | 0, hdr, how, 0);
}

/**
 * A `fault` record: a fault a scenario injected (x0: which), what happened
 * (x1: its event), and a count (x2: deliveries still to hit, requests or
 * bytes put in, events a stalled backend missed).
 */
export const FAULTS = ['drop_notify', 'delay_notify', 'fill_ring', 'stall'] as const;
export type FaultName = (typeof FAULTS)[number];
export const FAULT_EVENTS = ['armed', 'dropped', 'delayed', 'delivered', 'filled', 'stalled', 'ignored', 'resumed'] as const;
export type FaultEventName = (typeof FAULT_EVENTS)[number];
export const FAULT = Object.fromEntries(FAULTS.map((f, i) => [f, i])) as Record<FaultName, number>;
export const FAULT_EVENT = Object.fromEntries(FAULT_EVENTS.map((f, i) => [f, i])) as Record<FaultEventName, number>;

/** What a fault record may carry besides its numbers. */
export interface FaultExtra {
  /** delay_notify: how long a delivery is held, ns. */
  delay?: number;
  /** stall: the backend (console, xenstore, block, network, xend); fill_ring: the ring. */
  backend?: string;
  ring?: string;
  /** stall: the virtual time it ends, ns. */
  until?: number;
}

export const RING_OPS = ['init', 'push_requests', 'push_responses', 'final_check_for_requests', 'final_check_for_responses', 'consume_request', 'consume_response'] as const;
export type RingOpName = (typeof RING_OPS)[number];

/** A decoded trace record: what subscribers and the JSONL file see. */
export type TraceRecord =
  | { seq: number; t: number; kind: 'hypercall'; dom: number; vcpu: number; op: string; args: Record<string, unknown>; ret: string; out?: Record<string, unknown> }
  | { seq: number; t: number; kind: 'bit'; dom: number; vcpu?: number; field: BitFieldName; index: number; value: number; by: 'xen' | 'guest' }
  | { seq: number; t: number; kind: 'upcall'; dom: number; vcpu: number }
  | { seq: number; t: number; kind: 'handler'; dom: number; vcpu: number; port: number }
  | { seq: number; t: number; kind: 'port'; dom: number; port: number; state: string; remote_dom?: number; remote_port?: number; virq?: number; pirq?: number; vcpu?: number }
  | { seq: number; t: number; kind: 'raise'; dom: number; vcpu: number; port: number; virq?: number; pirq?: number }
  | { seq: number; t: number; kind: 'grant_entry'; dom: number; ref: number; flags: number; domid: number; frame: number; by: 'xen' | 'guest' }
  | { seq: number; t: number; kind: 'ring'; dom: number; ring: string; op: RingOpName; result: number; idx: Record<string, number> }
  | { seq: number; t: number; kind: 'domain'; dom: number; event: DomainEventName; reason?: string; name?: string }
  | { seq: number; t: number; kind: 'note'; dom: number; text: string }
  | {
      seq: number;
      t: number;
      kind: 'ctrl_msg';
      dom: number;
      ring: 'tx' | 'rx';
      op: 'put' | 'take';
      who: 'guest' | 'xend';
      idx: number;
      type: number;
      subtype: number;
      id: number;
      length: number;
      type_name: string;
      subtype_name: string;
    }
  | { seq: number; t: number; kind: 'xs_msg'; dom: number; dir: 'req' | 'rsp'; type: number; type_name: string; req_id: number; tx_id: number; len: number; text: string }
  | { seq: number; t: number; kind: 'cons'; dom: number; dir: 'out' | 'in'; count: number; idx: number; text: string }
  | ({ seq: number; t: number; kind: 'fault'; dom: number; vcpu?: number; port?: number; fault: FaultName; event: FaultEventName; count: number } & FaultExtra);

export const TRACE_CHUNK = 8192;

/** A block of records in columns. Chunks only ever grow, so a reference stays valid. */
export class TraceChunk {
  readonly t = new Float64Array(TRACE_CHUNK);
  readonly kind = new Uint8Array(TRACE_CHUNK);
  readonly dom = new Int32Array(TRACE_CHUNK);
  readonly vcpu = new Int32Array(TRACE_CHUNK);
  readonly port = new Int32Array(TRACE_CHUNK);
  readonly x0 = new Int32Array(TRACE_CHUNK);
  readonly x1 = new Int32Array(TRACE_CHUNK);
  readonly x2 = new Int32Array(TRACE_CHUNK);
  /** Records that need more than numbers carry an object here. */
  readonly extra: (object | undefined)[] = [];
  length = 0;
  constructor(readonly firstSeq: number) {}
}

/** A run of records just written, handed to subscribers. */
export interface TraceBatch {
  readonly chunk: TraceChunk;
  readonly start: number;
  readonly end: number;
}

export type TraceSubscriber = (batch: TraceBatch) => void;

/** Extra payload of a hypercall record. */
export interface HypercallExtra {
  op: string;
  args: Record<string, unknown>;
  out?: Record<string, unknown>;
}

export class Trace {
  /** Checked before every emit on hot paths: recording off costs one branch. */
  on = false;
  /** The chunk being written. */
  chunk = new TraceChunk(0);
  /** Full chunks not yet handed to subscribers; the first may be partly delivered. The machine flushes between events when there are some. */
  readonly waiting: TraceChunk[] = [];
  private delivered = 0;
  private readonly subscribers: TraceSubscriber[] = [];
  /** Set by the machine: the virtual time stamped on each record. */
  now: () => number = () => 0;

  get count(): number {
    return this.chunk.firstSeq + this.chunk.length;
  }

  /**
   * Continues the trace inside `chunk` after its first `length` records, as if
   * this machine had written them: the same run executed again with recording
   * off up to here (a host seeking back) picks up the records it already holds.
   * Records after `length` in that chunk are dropped.
   */
  resumeInto(chunk: TraceChunk, length: number): void {
    if (length < 0 || length > chunk.length) throw new RangeError(`resumeInto: the chunk holds ${chunk.length} records, asked to keep ${length}`);
    chunk.length = length;
    if (chunk.extra.length > length) chunk.extra.length = length;
    this.chunk = chunk;
    this.waiting.length = 0;
    this.delivered = length;
  }

  subscribe(fn: TraceSubscriber): () => void {
    this.subscribers.push(fn);
    this.on = true;
    return () => {
      const i = this.subscribers.indexOf(fn);
      if (i >= 0) this.subscribers.splice(i, 1);
      this.on = this.subscribers.length > 0;
    };
  }

  emit(kind: number, dom: number, vcpu: number, port: number, x0: number, x1: number, x2: number, extra?: object): void {
    let c = this.chunk;
    if (c.length === TRACE_CHUNK) {
      this.waiting.push(c);
      c = this.chunk = new TraceChunk(c.firstSeq + TRACE_CHUNK);
    }
    const i = c.length++;
    c.t[i] = this.now();
    c.kind[i] = kind;
    c.dom[i] = dom;
    c.vcpu[i] = vcpu;
    c.port[i] = port;
    c.x0[i] = x0;
    c.x1[i] = x1;
    c.x2[i] = x2;
    if (extra !== undefined) c.extra[i] = extra;
  }

  /**
   * Hands every record not yet delivered to the subscribers. The machine
   * flushes only between events, so a record may still be completed (a
   * hypercall's result) until then.
   */
  flush(): void {
    if (this.waiting.length > 0) {
      for (const c of this.waiting) {
        this.deliver(c, this.delivered);
        this.delivered = 0;
      }
      this.waiting.length = 0; // only when chunks filled up: keeps the common case allocation-free
    }
    this.deliver(this.chunk, this.delivered);
    this.delivered = this.chunk.length;
  }

  private deliver(c: TraceChunk, start: number): void {
    if (start >= c.length) return;
    const batch: TraceBatch = { chunk: c, start, end: c.length };
    for (const fn of this.subscribers) fn(batch);
  }
}

/**
 * Op names of hypercall records, by code: evtchn ops 0..14, grant ops 100+,
 * others 200+, Xen 2.0.0's evtchn ops 400 + cmd. HYPERCALL_OP_CODES maps a
 * name back to today's op only: 2.0.0's ops reuse names under other codes and
 * register with byName = false.
 */
export const HYPERCALL_OP_NAMES = new Map<number, string>();
export const HYPERCALL_OP_CODES = new Map<string, number>();
export function registerHypercallOp(code: number, name: string, byName = true): void {
  HYPERCALL_OP_NAMES.set(code, name);
  if (byName) HYPERCALL_OP_CODES.set(name, code);
}

/** Decodes record i of a chunk into its object form. */
export function decodeRecord(c: TraceChunk, i: number): TraceRecord {
  const seq = c.firstSeq + i;
  const t = c.t[i]!;
  const dom = c.dom[i]!;
  const vcpu = c.vcpu[i]!;
  const port = c.port[i]!;
  const x0 = c.x0[i]!;
  const x1 = c.x1[i]!;
  const x2 = c.x2[i]!;
  const extra = c.extra[i];
  switch (KIND_NAMES[c.kind[i]!]) {
    case 'hypercall': {
      const e = extra as HypercallExtra | undefined;
      const op = e?.op ?? HYPERCALL_OP_NAMES.get(x0) ?? `op${x0}`;
      const rec: TraceRecord = { seq, t, kind: 'hypercall', dom, vcpu, op, args: e?.args ?? { port }, ret: retName(x1) };
      if (e?.out !== undefined) rec.out = e.out;
      return rec;
    }
    case 'bit': {
      const field = BIT_NAMES[x0]!;
      const by = x2 === BY_GUEST ? 'guest' : 'xen';
      // Per-vCPU fields (upcall flags, selector, FIFO ready/head) name their vCPU; bitmap bits do not.
      return vcpu >= 0 ? { seq, t, kind: 'bit', dom, vcpu, field, index: port, value: x1, by } : { seq, t, kind: 'bit', dom, field, index: port, value: x1, by };
    }
    case 'upcall':
      return { seq, t, kind: 'upcall', dom, vcpu };
    case 'handler':
      return { seq, t, kind: 'handler', dom, vcpu, port };
    case 'port': {
      const state = ECS_NAMES[x0] ?? `state${x0}`;
      const rec: TraceRecord = { seq, t, kind: 'port', dom, port, state };
      if (state === 'unbound') rec.remote_dom = x1;
      else if (state === 'interdomain') {
        rec.remote_dom = x1;
        rec.remote_port = x2;
      } else if (state === 'virq') rec.virq = x1;
      else if (state === 'pirq') rec.pirq = x1;
      if (state !== 'free' && state !== 'reserved') rec.vcpu = vcpu;
      return rec;
    }
    case 'raise':
      return x0 === RAISE_PIRQ ? { seq, t, kind: 'raise', dom, vcpu, port, pirq: x1 } : { seq, t, kind: 'raise', dom, vcpu, port, virq: x1 };
    case 'grant_entry':
      return { seq, t, kind: 'grant_entry', dom, ref: port, flags: x0, domid: x1, frame: x2 >>> 0, by: vcpu === BY_GUEST ? 'guest' : 'xen' };
    case 'ring': {
      const e = extra as { ring: string; idx: Record<string, number> };
      return { seq, t, kind: 'ring', dom, ring: e.ring, op: RING_OPS[x0]!, result: x1, idx: e.idx };
    }
    case 'domain': {
      const e = extra as { reason?: string; name?: string } | undefined;
      const rec: TraceRecord = { seq, t, kind: 'domain', dom, event: DOMAIN_EVENTS[x0]! };
      if (e?.reason !== undefined) rec.reason = e.reason;
      if (e?.name !== undefined) rec.name = e.name;
      return rec;
    }
    case 'ctrl_msg': {
      const type = x0 & 0xff;
      const subtype = (x0 >>> 8) & 0xff;
      return {
        seq,
        t,
        kind: 'ctrl_msg',
        dom,
        ring: x1 & CTRL_RX ? 'rx' : 'tx',
        op: x1 & CTRL_TAKE ? 'take' : 'put',
        who: x1 & CTRL_BY_XEND ? 'xend' : 'guest',
        idx: port >>> 0,
        type,
        subtype,
        id: (x0 >>> 16) & 0xff,
        length: x0 >>> 24,
        type_name: cmsgTypeName(type),
        subtype_name: cmsgName(type, subtype),
      };
    }
    case 'xs_msg': {
      const type = port >>> 0;
      const text = (extra as { text?: string } | undefined)?.text ?? '';
      return { seq, t, kind: 'xs_msg', dom, dir: vcpu === XS_RSP ? 'rsp' : 'req', type, type_name: xsTypeName(type), req_id: x0 >>> 0, tx_id: x1 >>> 0, len: x2 >>> 0, text };
    }
    case 'cons':
      return { seq, t, kind: 'cons', dom, dir: vcpu === CONS_IN ? 'in' : 'out', count: x0, idx: port >>> 0, text: (extra as { text?: string } | undefined)?.text ?? '' };
    case 'fault': {
      const where = vcpu >= 0 && port >= 0 ? { vcpu, port } : vcpu >= 0 ? { vcpu } : port >= 0 ? { port } : {};
      return { seq, t, kind: 'fault', dom, ...where, fault: FAULTS[x0] ?? 'stall', event: FAULT_EVENTS[x1] ?? 'armed', count: x2, ...(extra as FaultExtra | undefined) };
    }
    default:
      return { seq, t, kind: 'note', dom, text: (extra as { text?: string } | undefined)?.text ?? '' };
  }
}

/** Keeps every record in memory (the chunks themselves, no copies). */
export class TraceStore {
  readonly chunks: TraceChunk[] = [];
  /** Records delivered so far in each chunk. */
  private readonly ends: number[] = [];
  count = 0;
  readonly subscriber: TraceSubscriber = (b) => {
    const n = this.chunks.length;
    if (this.chunks[n - 1] !== b.chunk) {
      this.chunks.push(b.chunk);
      this.ends.push(b.end);
    } else this.ends[n - 1] = b.end;
    this.count += b.end - b.start;
  };

  *records(): IterableIterator<TraceRecord> {
    for (let k = 0; k < this.chunks.length; k++) {
      const c = this.chunks[k]!;
      for (let i = 0; i < this.ends[k]!; i++) yield decodeRecord(c, i);
    }
  }
}
