/**
 * The trace in the Chrome trace-event format (the JSON that Perfetto,
 * ui.perfetto.dev, and chrome://tracing open), made in pieces as records
 * come, so a trace of any length is encoded in flat memory.
 *
 * Lanes: one process per domain (pid = domid + 1, named by the domain's name,
 * sorted by domid) with a thread per vCPU and one "domain" thread for what
 * concerns the domain as a whole (port states, bits of the pending and mask
 * bitmaps, grants, rings, control and console messages, notes); and a "Xen"
 * process (pid = DOMID_XEN + 1) whose "hypervisor" thread holds VIRQ and PIRQ
 * raises.
 *
 * Events: hypercalls, upcalls and event handlers are complete slices ('X';
 * a hypercall's args are its op, args, ret and out), raises are slices on
 * Xen's lane, every other record is an instant ('i', thread-scoped — bits
 * leave "s" out, the format's default —; domain lifecycle process-wide), and each notification is a flow arrow ('s' then 'f' with
 * "bp": "e") from the slice that set the port pending — EVTCHNOP_send, a
 * VIRQ/PIRQ raise, or another hypercall that raises the event — to the
 * handler that takes it in the receiving domain. A notification nobody
 * handles draws no arrow (its 's' is written only once its handler runs).
 *
 * Time: ts is virtual time in µs (ns / 1000). Everything the machine does in
 * one event happens at the same virtual instant, so records at one instant
 * are laid DISPLAY_STEP_NS apart (the display time catches up with virtual
 * time as soon as there is a gap): slices get a width, nest, and arrows bind
 * to them. Each event's args carry the record's exact virtual time `t` (ns)
 * and its `seq`.
 *
 * Order: slices and instants come in ts order; metadata ('M') comes when a
 * lane is first used; a flow's 's' comes just before its 'f'.
 */
import { DOMID_XEN } from '../core/abi/domid.js';
import { VIRQS } from '../core/abi/evtchn.js';
import { VIRQS as VIRQS_XEN2 } from '../core/abi/xen2.js';
import { BIT, BY_GUEST, RAISE_PIRQ, TK, decodeRecord, type TraceBatch, type TraceChunk, type TraceRecord } from '../core/sim/trace.js';
import type { XenVersion } from './model.js';
import { PendingNotifications } from './trace_cause.js';

/** Display spacing of records at the same virtual instant, ns. */
export const DISPLAY_STEP_NS = 4;
/** Where in a slice its flow events sit: inside it, clear of its edges and its children. */
const FLOW_OFFSET_NS = 2;

export interface ChromeTraceOptions {
  /** Which Xen's VIRQ names to use (default "4"). */
  xen?: XenVersion;
  /** Put in the file's "otherData" (what was run: file, seed, …). */
  otherData?: Record<string, unknown>;
}

const XEN_PID = DOMID_XEN + 1;
/** Threads per process: lane 0 is the domain-wide lane, lane v + 1 is vCPU v. */
const LANES = 4096;

const BIT_NAMES: string[] = [];
for (const [name, code] of Object.entries(BIT)) BIT_NAMES[code] = name;

// Plain constants for the per-record switch (an imported object's fields may be behind getters once bundled for tests).
const K_HYPERCALL = TK.hypercall;
const K_RAISE = TK.raise;
const K_UPCALL = TK.upcall;
const K_HANDLER = TK.handler;
const K_BIT = TK.bit;
const B_UPCALL_MASK = BIT.evtchn_upcall_mask;
const B_PENDING = BIT.evtchn_pending;
const B_FIFO_PENDING = BIT.fifo_pending;

/** A slice whose end is not known yet; its place in the output is held. */
interface Slice {
  readonly kind: 'hypercall' | 'raise' | 'upcall' | 'handler';
  readonly name: string;
  readonly pid: number;
  readonly tid: number;
  readonly start: number;
  /** The args object's JSON. */
  readonly args: string;
  readonly slot: Slot;
}

interface Slot {
  text: string | undefined;
}

interface WaitingFlow {
  readonly pid: number;
  readonly tid: number;
  readonly ts: number;
}

/** ns as µs with three decimals (exact for whole ns). */
function ts(ns: number): string {
  if (ns >= 0 && ns <= Number.MAX_SAFE_INTEGER && ns === Math.floor(ns)) {
    const us = Math.floor(ns / 1000);
    const r = ns - us * 1000;
    return `${us}.${r < 10 ? '00' : r < 100 ? '0' : ''}${r}`;
  }
  return (ns / 1000).toFixed(3);
}

function q(s: string): string {
  return JSON.stringify(s);
}

export class ChromeTraceEncoder {
  private readonly virqName: (n: number) => string;
  private readonly otherData: Record<string, unknown>;
  /** Events in ts order, some still waiting for their slice to end. */
  private queue: (string | Slot)[] = [];
  private head = 0;
  /** Events ready to be handed out, each after its separator. */
  private out = '';
  /** What goes before the next event: nothing before the first. */
  private sep = '';
  private lastT = -Infinity;
  private lastD = -Infinity;
  /** Open slices per thread, innermost last. */
  private readonly stacks = new Map<number, Slice[]>();
  /** The threads with an open slice. */
  private readonly openStacks = new Set<Slice[]>();
  /** The fixed parts of bit instants, by field, index, value (0 or 1), thread and writer. */
  private readonly bitHeads = new Map<number, string>();
  /** The open hypercall or raise: what a pending bit set now is caused by. */
  private leaf: Slice | undefined;
  /** Notifications not yet handled, by receiving (domain, port) (the rule shared with the lab's cause column: trace_cause.ts). */
  private readonly flows = new PendingNotifications<WaitingFlow>();
  private nextFlow = 1;
  private readonly seenPids = new Set<number>();
  private readonly namedPids = new Set<number>();
  private readonly seenTids = new Set<number>();
  private ended = false;

  constructor(opts: ChromeTraceOptions = {}) {
    const table = opts.xen === '2.0' ? VIRQS_XEN2 : VIRQS;
    this.virqName = (n) => table.find((v) => v.num === n)?.name ?? `VIRQ ${n}`;
    this.otherData = { generator: 'xenlab', time: 'virtual; ts in µs, records at one instant shown 4 ns apart (exact ns in args.t)', ...opts.otherData };
  }

  /** The start of the file. */
  begin(): string {
    return `{"displayTimeUnit":"ns","otherData":${JSON.stringify(this.otherData)},"traceEvents":[\n`;
  }

  /** The events for a batch of records (possibly none yet: slices are written when they end). */
  batch(b: TraceBatch): string {
    if (this.ended) throw new Error('ChromeTraceEncoder: records after end()');
    const c = b.chunk;
    for (let i = b.start; i < b.end; i++) this.record(c, i);
    return this.take();
  }

  /** Closes whatever is open and ends the file. */
  end(): string {
    if (!this.ended) {
      this.closeAll(this.lastD + DISPLAY_STEP_NS);
      this.flows.clear();
      for (const pid of this.seenPids) if (pid !== XEN_PID) this.nameProcess(pid, `domain ${pid - 1}`, pid - 1);
      this.ended = true;
    }
    return `${this.take()}\n]}\n`;
  }

  private take(): string {
    this.drain();
    const text = this.out;
    this.out = '';
    return text;
  }

  private drain(): void {
    const qq = this.queue;
    let h = this.head;
    while (h < qq.length) {
      const e = qq[h]!;
      if (typeof e === 'string') this.emit(e);
      else if (e.text !== undefined) this.emit(e.text);
      else break;
      h++;
    }
    if (h === qq.length) {
      this.queue = [];
      this.head = 0;
    } else if (h > 4096 && h * 2 > qq.length) {
      this.queue = qq.slice(h);
      this.head = 0;
    } else this.head = h;
  }

  private emit(event: string): void {
    this.out += this.sep + event;
    this.sep = ',\n';
  }

  // ---- lanes

  /**
   * A domain's process. It is named by its create record (a Xen 2.0 domain
   * may have a record or two before it), or at the end for one that never
   * had one; metadata may come anywhere in the file.
   */
  private pidOf(dom: number): number {
    const pid = dom >= 0 && dom < DOMID_XEN ? dom + 1 : XEN_PID;
    if (!this.seenPids.has(pid)) {
      this.seenPids.add(pid);
      if (pid === XEN_PID) this.nameProcess(pid, 'Xen', DOMID_XEN);
    }
    return pid;
  }

  private nameProcess(pid: number, name: string, sort: number): void {
    if (this.namedPids.has(pid)) return;
    this.namedPids.add(pid);
    this.queue.push(`{"name":"process_name","ph":"M","pid":${pid},"tid":${pid * LANES},"args":{"name":${q(name)}}}`);
    this.queue.push(`{"name":"process_sort_index","ph":"M","pid":${pid},"tid":${pid * LANES},"args":{"sort_index":${sort}}}`);
  }

  /** The thread of lane `lane` (0: the domain-wide lane or Xen's; v + 1: vCPU v) of a process. */
  private tidOf(pid: number, lane: number): number {
    const l = lane >= 0 && lane < LANES ? lane : 0;
    const tid = pid * LANES + l;
    if (!this.seenTids.has(tid)) {
      this.seenTids.add(tid);
      const name = pid === XEN_PID ? 'hypervisor' : l === 0 ? 'domain' : `vCPU ${l - 1}`;
      this.queue.push(`{"name":"thread_name","ph":"M","pid":${pid},"tid":${tid},"args":{"name":${q(name)}}}`);
      this.queue.push(`{"name":"thread_sort_index","ph":"M","pid":${pid},"tid":${tid},"args":{"sort_index":${l}}}`);
    }
    return tid;
  }

  // ---- slices

  private open(kind: Slice['kind'], name: string, pid: number, tid: number, start: number, args: string): Slice {
    const slot: Slot = { text: undefined };
    const s: Slice = { kind, name, pid, tid, start, args, slot };
    let st = this.stacks.get(tid);
    if (st === undefined) this.stacks.set(tid, (st = []));
    st.push(s);
    this.openStacks.add(st);
    this.queue.push(slot);
    return s;
  }

  private close(s: Slice, end: number): void {
    const dur = Math.max(end - s.start, 1);
    s.slot.text = `{"name":${q(s.name)},"cat":"${s.kind}","ph":"X","ts":${ts(s.start)},"dur":${(dur / 1000).toFixed(3)},"pid":${s.pid},"tid":${s.tid},"args":${s.args}}`;
    const st = this.stacks.get(s.tid)!;
    const at = st.lastIndexOf(s);
    // Anything opened inside it ends with it.
    for (let k = st.length - 1; k > at; k--) this.close(st[k]!, end);
    if (at >= 0) st.length = at;
    if (st.length === 0) this.openStacks.delete(st);
    if (this.leaf === s) this.leaf = undefined;
  }

  private closeLeaf(end: number): void {
    if (this.leaf !== undefined) this.close(this.leaf, end);
  }

  /** Closes the innermost open slices of a thread down to (and with) the last of `kind`; returns whether there was one. */
  private closeDownTo(tid: number, kind: Slice['kind'], end: number): boolean {
    const st = this.stacks.get(tid);
    if (st === undefined) return false;
    for (let k = st.length - 1; k >= 0; k--) {
      if (st[k]!.kind === kind) {
        this.close(st[k]!, end);
        return true;
      }
    }
    return false;
  }

  private closeAll(end: number): void {
    for (const st of [...this.openStacks]) if (st.length > 0) this.close(st[0]!, end);
    this.openStacks.clear();
    this.leaf = undefined;
  }

  // ---- records

  private record(c: TraceChunk, i: number): void {
    const t = c.t[i]!;
    if (t !== this.lastT) {
      // A new instant: what was open ends with the last one.
      if (this.lastT !== -Infinity) this.closeAll(this.lastD + DISPLAY_STEP_NS);
      this.lastT = t;
    }
    const D = Math.max(t, this.lastD + DISPLAY_STEP_NS);
    this.lastD = D;
    const seq = c.firstSeq + i;
    const dom = c.dom[i]!;
    const vcpu = c.vcpu[i]!;
    const port = c.port[i]!;
    switch (c.kind[i]) {
      case K_HYPERCALL: {
        this.closeLeaf(D);
        const r = decodeRecord(c, i) as Extract<TraceRecord, { kind: 'hypercall' }>;
        const pid = this.pidOf(dom);
        const tid = this.tidOf(pid, vcpu + 1);
        const args: Record<string, unknown> = { op: r.op, args: r.args, ret: r.ret };
        if (r.out !== undefined) args.out = r.out;
        args.seq = seq;
        args.t = t;
        this.leaf = this.open('hypercall', r.op, pid, tid, D, JSON.stringify(args));
        return;
      }
      case K_RAISE: {
        this.closeLeaf(D);
        const pirq = c.x0[i] === RAISE_PIRQ;
        const n = c.x1[i]!;
        const pid = this.pidOf(-1);
        const tid = this.tidOf(pid, 0);
        this.pidOf(dom); // the receiving domain's lane exists before its arrow lands
        const name = pirq ? `PIRQ ${n}` : this.virqName(n);
        const args = `{"${pirq ? 'pirq' : 'virq'}":${n},"dom":${dom},"vcpu":${vcpu},"port":${port},"seq":${seq},"t":${t}}`;
        this.leaf = this.open('raise', `${name} → dom ${dom}`, pid, tid, D, args);
        return;
      }
      case K_UPCALL: {
        this.closeLeaf(D);
        const pid = this.pidOf(dom);
        const tid = this.tidOf(pid, vcpu + 1);
        this.closeDownTo(tid, 'upcall', D);
        this.open('upcall', 'upcall', pid, tid, D, `{"vcpu":${vcpu},"seq":${seq},"t":${t}}`);
        return;
      }
      case K_HANDLER: {
        this.closeLeaf(D);
        const pid = this.pidOf(dom);
        const tid = this.tidOf(pid, vcpu + 1);
        const st = this.stacks.get(tid);
        if (st !== undefined && st.length > 0 && st[st.length - 1]!.kind === 'handler') this.close(st[st.length - 1]!, D);
        this.open('handler', `handler ${port}`, pid, tid, D, `{"port":${port},"vcpu":${vcpu},"seq":${seq},"t":${t}}`);
        const waiting = this.flows.take(dom, port);
        if (waiting !== undefined) {
          for (const f of waiting) {
            const id = this.nextFlow++;
            this.queue.push(`{"name":"notify","cat":"evtchn","ph":"s","id":${id},"ts":${ts(f.ts)},"pid":${f.pid},"tid":${f.tid}}`);
            this.queue.push(`{"name":"notify","cat":"evtchn","ph":"f","bp":"e","id":${id},"ts":${ts(D + FLOW_OFFSET_NS)},"pid":${pid},"tid":${tid}}`);
          }
        }
        return;
      }
      case K_BIT: {
        const field = c.x0[i]!;
        const value = c.x1[i]!;
        const byGuest = c.x2[i] === BY_GUEST;
        const pid = this.pidOf(dom);
        const tid = this.tidOf(pid, vcpu >= 0 ? vcpu + 1 : 0);
        // A number that names the combination (tid < 2^28, field < 16, index < 2^18), when the value is 0 or 1.
        const key = (value === 0 || value === 1) && port >= -1 && port < 0x3ffff ? (((tid * 16 + field) * 2 + value) * 2 + (byGuest ? 1 : 0)) * 0x40000 + port + 1 : -1;
        let head = key < 0 ? undefined : this.bitHeads.get(key);
        if (head === undefined) {
          const name = `${BIT_NAMES[field] ?? `field ${field}`}${port >= 0 ? `[${port}]` : ''} = ${value}`;
          head = `{"name":"${name}","cat":"bit","ph":"i","pid":${pid},"tid":${tid},"args":{"by":"${byGuest ? 'guest' : 'xen'}","seq":`;
          if (this.bitHeads.size > 65536) this.bitHeads.clear();
          if (key >= 0) this.bitHeads.set(key, head);
        }
        const ev = `${head}${seq},"t":${t}},"ts":${ts(D)}}`;
        if (field === B_UPCALL_MASK && value === 0 && byGuest && vcpu >= 0) {
          // The guest's iret: the upcall (and any handler still open in it) ends here.
          const st = this.stacks.get(tid);
          const inUpcall = st?.some((s) => s.kind === 'upcall') ?? false;
          if (inUpcall) {
            this.closeLeaf(D);
            while (st!.length > 0 && st![st!.length - 1]!.kind !== 'upcall') this.close(st![st!.length - 1]!, D);
            this.queue.push(ev);
            this.closeDownTo(tid, 'upcall', D + DISPLAY_STEP_NS);
            return;
          }
        } else if ((field === B_PENDING || field === B_FIFO_PENDING) && value === 1 && !byGuest && this.leaf !== undefined) {
          this.flows.add(dom, port, { pid: this.leaf.pid, tid: this.leaf.tid, ts: this.leaf.start + FLOW_OFFSET_NS });
        }
        this.queue.push(ev);
        return;
      }
      default:
        this.instant(decodeRecord(c, i), D);
    }
  }

  /** Every other record: an instant on the domain's lane (lifecycle: process-wide). */
  private instant(r: TraceRecord, D: number): void {
    let name: string;
    let scope = 't';
    switch (r.kind) {
      case 'port':
        name = `port ${r.port}: ${r.state}`;
        if (r.state === 'free') this.flows.dropPort(r.dom, r.port);
        break;
      case 'grant_entry':
        name = `grant ${r.ref}: flags ${r.flags}`;
        break;
      case 'ring':
        name = `${r.ring}: ${r.op}`;
        break;
      case 'domain':
        name = r.event;
        scope = 'p';
        if (r.event === 'create' && r.dom >= 0 && r.dom < DOMID_XEN) this.nameProcess(r.dom + 1, r.name ?? `domain ${r.dom}`, r.dom);
        if (r.event === 'destroy') this.flows.dropDomain(r.dom);
        break;
      case 'note':
        name = r.text.length > 80 ? `${r.text.slice(0, 77)}...` : r.text;
        break;
      case 'ctrl_msg':
        name = `${r.who} ${r.op} ${r.ring}: ${r.type_name}/${r.subtype_name}`;
        break;
      case 'xs_msg':
        name = `xenstore ${r.dir}: ${r.type_name}`;
        break;
      case 'cons':
        name = `console ${r.dir}: ${r.count} bytes`;
        break;
      case 'fault':
        name = `fault ${r.fault}: ${r.event}${r.port !== undefined ? ` (port ${r.port})` : r.ring !== undefined ? ` (${r.ring})` : ''}`;
        break;
      default:
        name = r.kind;
    }
    const pid = this.pidOf(r.dom);
    const tid = this.tidOf(pid, 0);
    const { seq, t, kind, dom, ...rest } = r;
    void kind;
    void dom;
    this.queue.push(`{"name":${q(name)},"cat":"${r.kind}","ph":"i","s":"${scope}","ts":${ts(D)},"pid":${pid},"tid":${tid},"args":${JSON.stringify({ ...rest, seq, t })}}`);
  }
}

/** A whole trace as Chrome trace-event JSON, in pieces (for tests and small traces; the host streams with the encoder). */
export function* chromeTrace(batches: Iterable<TraceBatch>, opts: ChromeTraceOptions = {}): Generator<string> {
  const enc = new ChromeTraceEncoder(opts);
  yield enc.begin();
  for (const b of batches) {
    const s = enc.batch(b);
    if (s !== '') yield s;
  }
  yield enc.end();
}
