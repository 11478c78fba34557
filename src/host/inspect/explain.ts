/**
 * explainPort: why an event on a port was or was not delivered, answered
 * from the bits in shared memory in the order the delivery path tests them
 * (event_2l.c / event_fifo.c, then vcpu_mark_events_pending and the upcall
 * injection, then the guest's scan), each step citing where the test is
 * made. With the run's trace it also cites the records behind the verdict:
 * the last send or raise, Xen setting the pending bit, the handler run.
 */
import type { ExplainStep, Explanation } from '../../contract/inspect.js';
import { ECS_FREE, ECS_INTERDOMAIN, ECS_IPI, ECS_PIRQ, ECS_RESERVED, ECS_UNBOUND, ECS_VIRQ } from '../../core/abi/evtchn.js';
import { Guest } from '../../core/guest/guest.js';
import type { Domain, Vcpu } from '../../core/hv/domain.js';
import type { Hypervisor } from '../../core/hv/hypervisor.js';
import { behindText, fifoFacts, type FifoFacts } from './explain_fifo.js';
import { portHistory, type PortHistory } from './explain_history.js';
import { domLabel, raisedBy, SRC, virqName } from './explain_words.js';
import { domainOf } from './inspect.js';
import { recordAt, type TraceLookback } from './trace_lookback.js';

/** Everything the verdict is made from. */
interface Ctx {
  hv: Hypervisor;
  d: Domain;
  port: number;
  /** The vCPU Xen notifies for this port (notify_vcpu_id; vcpu_data[0] in Xen 2.0). */
  v: Vcpu;
  dom: string;
  hist: PortHistory | undefined;
  trace: TraceLookback | undefined;
  steps: ExplainStep[];
  records: number[];
}

const BOUND = new Set([ECS_INTERDOMAIN, ECS_VIRQ, ECS_PIRQ, ECS_IPI]);

function cite(ctx: Ctx, ...seqs: number[]): void {
  for (const s of seqs) if (s >= 0 && !ctx.records.includes(s)) ctx.records.push(s);
}

function explanation(ctx: Ctx, verdict: string, deliverable: boolean): Explanation {
  return { domid: ctx.d.domid, port: ctx.port, verdict, deliverable, steps: ctx.steps, records: [...ctx.records].sort((a, b) => a - b) };
}

// ---- the port itself ----

function boundStep(ctx: Ctx): void {
  const { d, port } = ctx;
  const ports = d.ports;
  const state = ports.state[port]!;
  const by = raisedBy(ctx.hv, d, port);
  let detail: string;
  switch (state) {
    case ECS_INTERDOMAIN:
      detail = `ECS_INTERDOMAIN: connected to ${domLabel(ctx.hv, ports.remoteDom[port]!)} port ${ports.remotePort[port]}; ${by.text}`;
      break;
    case ECS_VIRQ:
      detail = `ECS_VIRQ: bound to ${virqName(d, ports.remotePort[port]!).name}; ${by.text}`;
      break;
    case ECS_PIRQ:
      detail = `ECS_PIRQ: bound to physical IRQ ${ports.remotePort[port]}; ${by.text}`;
      break;
    case ECS_IPI:
      detail = `ECS_IPI: ${by.text}`;
      break;
    case ECS_UNBOUND:
      detail = `ECS_UNBOUND: waiting for ${domLabel(ctx.hv, ports.remoteDom[port]!)} to bind it; a send on an unbound port is dropped`;
      break;
    case ECS_RESERVED:
      detail = 'ECS_RESERVED: port 0 is reserved by Xen';
      break;
    default:
      detail = 'ECS_FREE: the port is not in use (EVTCHNSTAT_closed)';
  }
  ctx.steps.push({ check: 'port is bound', ok: BOUND.has(state), detail, source: by.source });
}

function vcpuStep(ctx: Ctx): void {
  const { d, port, v } = ctx;
  if (d.xen === '2.0') {
    ctx.steps.push({ check: 'vCPU', ok: true, detail: 'Xen 2.0 has one vCPU per domain: events go to vcpu_data[0]', source: SRC.set2 });
    return;
  }
  const how = d.ports.state[port] === ECS_VIRQ ? 'bind_virq, or bind_vcpu for a per-domain VIRQ' : d.ports.state[port] === ECS_IPI ? 'bind_ipi; fixed' : 'bind_vcpu; 0 by default';
  ctx.steps.push({ check: 'vCPU', ok: true, detail: `Xen notifies vCPU ${v.id} for this port (notify_vcpu_id, set by ${how})`, source: SRC.bindVcpu });
}

// ---- 2-level ----

interface Facts2l {
  pending: boolean;
  masked: boolean;
  word: number;
  selector: boolean;
  /** Linux guests: whether the guest's scan on vCPU v takes this port (cpu_evtchn_mask); undefined otherwise. */
  routed: boolean | undefined;
  routedTo: number | undefined;
}

function facts2l(ctx: Ctx): Facts2l {
  const { d, port, v } = ctx;
  const s32 = d.shared32;
  const bit = 1 << (port & 31);
  const word = port >>> d.selShift;
  const f: Facts2l = {
    pending: (s32[d.pendingU32 + (port >>> 5)]! & bit) !== 0,
    masked: (s32[d.maskU32 + (port >>> 5)]! & bit) !== 0,
    word,
    selector: (s32[v.selU32 + (word >>> 5)]! & (1 << (word & 31))) !== 0,
    routed: undefined,
    routedTo: undefined,
  };
  const k = d.kernel;
  if (k instanceof Guest && d.xen === '4') {
    const routedOn = (vc: number): boolean => ((k.cpuMask[vc]?.[port >>> 5] ?? 0) & bit) !== 0;
    f.routed = routedOn(v.id);
    f.routedTo = d.vcpus.find((x) => routedOn(x.id))?.id;
  }
  return f;
}

function steps2l(ctx: Ctx, f: Facts2l): void {
  const { d, port, v } = ctx;
  const old = d.xen === '2.0';
  const setSrc = old ? SRC.set2 : SRC.set2l;
  const at = (offset: number): string => `shared_info byte ${offset + (port >>> 3)}, bit ${port & 7}`;
  ctx.steps.push({
    check: `evtchn_pending[${port}]`,
    ok: f.pending,
    detail: f.pending ? `bit ${port} of evtchn_pending (${at(d.layout.pendingOffset)}) is set: Xen's test-and-set marked the port pending` : `bit ${port} of evtchn_pending (${at(d.layout.pendingOffset)}) is clear: nothing is pending`,
    source: setSrc,
  });
  ctx.steps.push({
    check: `evtchn_mask[${port}]`,
    ok: !f.masked,
    detail: f.masked ? `bit ${port} of evtchn_mask (${at(d.layout.maskOffset)}) is set: the guest masked the port, so Xen stops after the pending bit: no selector bit, no upcall` : `bit ${port} of evtchn_mask is clear: the port is unmasked`,
    source: setSrc,
  });
  const sel = old ? 'evtchn_pending_sel' : `vcpu_info[${v.id}].evtchn_pending_sel`;
  ctx.steps.push({
    check: 'selector bit',
    ok: f.selector,
    detail: `bit ${f.word} of ${sel} (word ${f.word} of evtchn_pending holds ports ${f.word * d.layout.bitsPerWord}–${(f.word + 1) * d.layout.bitsPerWord - 1}) is ${f.selector ? 'set' : 'clear'}`,
    source: setSrc,
  });
}

function guestStep2l(ctx: Ctx, f: Facts2l): void {
  if (ctx.d.xen === '2.0') {
    ctx.steps.push({ check: 'guest scan', ok: true, detail: 'XenLinux 2.0 takes every pending, unmasked port of each selector word, lowest first', source: SRC.linux2 });
    return;
  }
  if (f.routed === undefined) return;
  const to = f.routedTo === undefined ? 'no vCPU' : `vCPU ${f.routedTo}`;
  ctx.steps.push({
    check: `guest routes the port to vCPU ${ctx.v.id}`,
    ok: f.routed,
    detail: f.routed ? `the guest's cpu_evtchn_mask routes port ${ctx.port} to vCPU ${ctx.v.id}, whose scan handles it` : `the guest routes port ${ctx.port} to ${to}, so vCPU ${ctx.v.id}'s scan skips it`,
    source: SRC.linux2l,
  });
}

// ---- the upcall: common to both ABIs ----

interface UpcallFacts {
  upcallPending: boolean;
  upcallMask: boolean;
  runnable: boolean;
  scheduled: boolean;
}

function upcallSteps(ctx: Ctx): UpcallFacts {
  const { d, v } = ctx;
  const old = d.xen === '2.0';
  const slot = old ? 'vcpu_data[0]' : `vcpu_info[${v.id}]`;
  const u: UpcallFacts = { upcallPending: v.upcallPending !== 0, upcallMask: v.upcallMask !== 0, runnable: d.runnable, scheduled: v.upcallScheduled };
  ctx.steps.push({
    check: 'evtchn_upcall_pending',
    ok: u.upcallPending,
    detail: u.upcallPending ? `${slot}.evtchn_upcall_pending is set: an upcall is asked for` : `${slot}.evtchn_upcall_pending is clear: no upcall is asked for`,
    source: old ? SRC.set2 : SRC.markPending,
  });
  ctx.steps.push({
    check: 'evtchn_upcall_mask',
    ok: !u.upcallMask,
    detail: u.upcallMask ? `${slot}.evtchn_upcall_mask is set: the guest has events off ("interrupts off"), so Xen does not inject the upcall` : `${slot}.evtchn_upcall_mask is clear: events are on`,
    source: old ? SRC.inject2 : SRC.inject,
  });
  ctx.steps.push({ check: 'domain runnable', ok: u.runnable, detail: runnableText(ctx), source: d.state === 'running' ? (old ? SRC.pause2 : SRC.pause) : SRC.shutdown });
  return u;
}

function runnableText(ctx: Ctx): string {
  const d = ctx.d;
  if (d.state === 'shutdown') return `${ctx.dom} has shut down (${d.shutdownReason ?? `code ${d.shutdownCode}`}): its vCPUs do not run`;
  if (d.state !== 'running') return `${ctx.dom} is ${d.state}: its vCPUs do not run`;
  if (d.pauseCount > 0) return `${ctx.dom} is paused by the toolstack (pause count ${d.pauseCount}): no vCPU runs, so no upcall can be injected`;
  return `${ctx.dom} is running`;
}

/** Why an upcall cannot run now, as a clause with the record behind it; undefined when nothing stops it. */
function upcallBlocker(ctx: Ctx, u: UpcallFacts): { text: string; seq: number } | undefined {
  const d = ctx.d;
  const who = d.xen === '2.0' ? 'the domain' : `vCPU ${ctx.v.id}`;
  if (d.state === 'shutdown' || d.dying) return { text: `${ctx.dom} has ${d.state === 'shutdown' ? 'shut down' : 'died'}: its vCPUs never run again, so it is never delivered`, seq: -1 };
  if (d.pauseCount > 0) {
    return { text: `${ctx.dom} is paused by the toolstack (pause count ${d.pauseCount}): no vCPU runs, so Xen cannot inject the upcall; it runs when the domain is unpaused`, seq: ctx.hist?.pause ?? -1 };
  }
  if (u.upcallMask) {
    return { text: `${who} has events off: its evtchn_upcall_mask is set (the guest's "interrupts off" flag), so Xen does not inject the upcall; it runs as soon as the guest clears the mask`, seq: ctx.hist?.upcallMaskSet ?? -1 };
  }
  return undefined;
}

// ---- what the trace says ----

function describeRecord(ctx: Ctx, seq: number): string {
  const r = ctx.trace === undefined ? undefined : recordAt(ctx.trace, seq);
  if (r === undefined) return `record ${seq}`;
  if (r.kind === 'hypercall') {
    if (r.op === 'bind_interdomain') return `its own EVTCHNOP_bind_interdomain (seq ${seq}), which always marks the new port pending`;
    return `${domLabel(ctx.hv, r.dom)}'s EVTCHNOP_${r.op} on port ${Number(r.args.port ?? r.args.local_port)} (seq ${seq})`;
  }
  if (r.kind === 'raise') return r.pirq !== undefined ? `physical IRQ ${r.pirq} (seq ${seq})` : `Xen raising ${virqName(ctx.d, r.virq ?? 0).name} (seq ${seq})`;
  return `record ${seq}`;
}

/** The verdict for a port that is not pending now, from the trace when there is one. */
function notPendingVerdict(ctx: Ctx, blocker: { text: string; seq: number } | undefined, what: string): Explanation {
  const { port } = ctx;
  const h = ctx.hist;
  const by = raisedBy(ctx.hv, ctx.d, port).text;
  if (blocker !== undefined) cite(ctx, blocker.seq);
  const now = blocker === undefined ? '' : ` A new event would not be delivered at once: ${blocker.text}.`;
  if (h === undefined) {
    const open = blocker === undefined ? ' With the bits as they are, an event would be delivered at once.' : now;
    return explanation(ctx, `Not pending: nothing is waiting on port ${port}; ${by}.${open}`, blocker === undefined);
  }
  cite(ctx, h.bind);
  if (h.pendingSet >= 0 && h.handler > h.pendingSet) {
    cite(ctx, h.cause, h.pendingSet, h.handler);
    const cause = h.cause >= 0 && h.cause <= h.pendingSet ? `${describeRecord(ctx, h.cause)} made Xen set ${what} (seq ${h.pendingSet})` : `Xen set ${what} (seq ${h.pendingSet})`;
    return explanation(ctx, `Delivered: ${cause} and the guest's handler ran for port ${port} (seq ${h.handler}); nothing is pending now.${now}`, true);
  }
  if (h.pendingSet >= 0) {
    cite(ctx, h.cause, h.pendingSet);
    return explanation(ctx, `Not pending, and not handled: Xen set ${what} at seq ${h.pendingSet}, but no handler ran for port ${port} afterwards; the guest cleared it without handling it.${now}`, false);
  }
  if (h.cause >= 0) {
    cite(ctx, h.cause);
    return explanation(ctx, `Raised but dropped: ${describeRecord(ctx, h.cause)} aimed an event at port ${port}, but Xen did not set ${what}.${now}`, false);
  }
  const since = h.bind >= 0 ? ` since it was bound (seq ${h.bind})` : ' in the trace';
  return explanation(ctx, `Never raised: nothing has aimed an event at port ${port}${since}; ${by}.${now}`, false);
}

// ---- the verdicts ----

function unboundVerdict(ctx: Ctx): Explanation {
  const { d, port } = ctx;
  const state = d.ports.state[port]!;
  const h = ctx.hist;
  if (h !== undefined) cite(ctx, h.bind);
  if (state === ECS_UNBOUND) {
    const r = domLabel(ctx.hv, d.ports.remoteDom[port]!);
    let dropped = '';
    if (h !== undefined && h.ownSend >= 0) {
      cite(ctx, h.ownSend);
      dropped = ` (${ctx.dom}'s send on it at seq ${h.ownSend} was dropped)`;
    }
    return explanation(ctx, `Unbound: port ${port} waits for ${r} to bind it with EVTCHNOP_bind_interdomain; until then nothing can raise it, and a send on it is silently dropped (evtchn_send)${dropped}.`, false);
  }
  if (state === ECS_RESERVED) return explanation(ctx, `Reserved: port ${port} is ECS_RESERVED (EVTCHNOP_status says closed); Xen never allocates or raises it.`, false);
  const busy = d.ops.name === 'fifo' && d.ops.isBusy(d, port) ? ' Its event word is still LINKED from before it was closed: the allocator skips the port until the guest unlinks it.' : '';
  return explanation(ctx, `Closed: port ${port} of ${ctx.dom} is not in use (EVTCHNSTAT_closed), so nothing can raise it; EVTCHNOP_send on it fails with -EINVAL.${busy}`, false);
}

function verdict2l(ctx: Ctx, f: Facts2l, u: UpcallFacts): Explanation {
  const { port, v } = ctx;
  const sel = ctx.d.xen === '2.0' ? 'evtchn_pending_sel' : `vCPU ${v.id}'s evtchn_pending_sel`;
  const blocker = upcallBlocker(ctx, u);
  if (!f.pending) {
    const masked = { text: `the port is masked (bit ${port} of evtchn_mask), so it would only go pending`, seq: ctx.hist?.maskSet ?? -1 };
    return notPendingVerdict(ctx, f.masked ? masked : blocker, 'the pending bit');
  }
  const h = ctx.hist;
  if (h !== undefined) cite(ctx, h.cause, h.pendingSet);
  if (f.masked) {
    if (h !== undefined) cite(ctx, h.maskSet);
    return explanation(ctx, `Pending but masked: the guest set bit ${port} of evtchn_mask; Xen set the pending bit but not the selector, so no upcall. EVTCHNOP_unmask would deliver it.`, false);
  }
  if (f.routed === false) {
    return explanation(ctx, `Pending, but routed elsewhere: Xen flags it on vCPU ${v.id}, and the guest routes port ${port} to ${f.routedTo === undefined ? 'no vCPU' : `vCPU ${f.routedTo}`} (cpu_evtchn_mask), so vCPU ${v.id}'s scan skips it.`, false);
  }
  if (!f.selector) {
    return explanation(
      ctx,
      `Pending and unmasked, but bit ${f.word} of ${sel} is clear, so no scan will look at it: the mask was cleared in shared memory without EVTCHNOP_unmask (which sets the selector bit for a pending port), and later sends coalesce into the pending bit. Masking it again and then EVTCHNOP_unmask delivers it.`,
      false,
    );
  }
  if (!u.upcallPending) {
    return explanation(ctx, `Pending with selector bit ${f.word} set, but evtchn_upcall_pending is clear: no upcall is asked for; the guest finds the port at its next scan (its next upcall).`, false);
  }
  if (blocker !== undefined) {
    cite(ctx, blocker.seq);
    return explanation(ctx, `Pending, but not delivered yet: ${blocker.text}. Pending bit, selector bit ${f.word} and evtchn_upcall_pending are all set.`, false);
  }
  return explanation(ctx, `Pending and on its way: Xen set the pending bit, selector bit ${f.word} and evtchn_upcall_pending${ctx.d.xen === '2.0' ? '' : ` of vCPU ${v.id}`}; events are on and the domain runs, so ${u.scheduled ? 'the upcall is queued' : 'an upcall is due'} and the guest will handle port ${port}.`, true);
}

function verdictFifo(ctx: Ctx, f: FifoFacts, u: UpcallFacts): Explanation {
  const { port, v } = ctx;
  const blocker = upcallBlocker(ctx, u);
  const h = ctx.hist;
  if (!f.hasWord) {
    const k = port >>> 10;
    return explanation(ctx, `Waiting for its event word: port ${port} has none yet, so Xen keeps ${f.stash ? 'its pending event' : 'any event'} in the port's pending stash and raises it when EVTCHNOP_expand_array adds event-array page ${k}.`, false);
  }
  if (!f.hasControlBlock) return explanation(ctx, `Dropped: vCPU ${v.id} has no FIFO control block (no EVTCHNOP_init_control for it), so evtchn_fifo_set_pending discards events for port ${port}.`, false);
  if (!f.pending) return notPendingVerdict(ctx, f.masked ? { text: 'MASKED is set in its event word, so it would only go pending', seq: h?.maskSet ?? -1 } : blocker, 'PENDING');
  if (h !== undefined) cite(ctx, h.cause, h.pendingSet);
  if (f.masked) {
    if (h !== undefined) cite(ctx, h.maskSet);
    return explanation(ctx, `Pending but masked: MASKED is set in port ${port}'s event word; Xen set PENDING but did not link it on a queue, so no READY bit and no upcall. EVTCHNOP_unmask would link it and deliver it.`, false);
  }
  if (!f.linked || f.place === undefined) {
    return explanation(ctx, `Pending and unmasked, but linked on no queue: MASKED was cleared in the event word without EVTCHNOP_unmask (which links a pending event), so no READY bit and no upcall. EVTCHNOP_unmask would link it now.`, false);
  }
  const place = f.place;
  const behind = behindText(place);
  const queue = `vCPU ${place.vcpu}'s priority-${place.priority} queue`;
  const order = behind === '' ? '' : ` It waits behind ${behind}: Linux's FIFO consumer serves the lowest READY bit first, so port ${port} is handled after them.`;
  if (!place.readyBit || !u.upcallPending) {
    return explanation(ctx, `Queued on ${queue}, but ${!place.readyBit ? `READY bit ${place.priority} is clear` : 'evtchn_upcall_pending is clear'}: the guest reaches it when it next drains that queue.${order}`, false);
  }
  if (blocker !== undefined) {
    cite(ctx, blocker.seq);
    return explanation(ctx, `Queued on ${queue}, but not delivered yet: ${blocker.text}.${order}`, false);
  }
  return explanation(ctx, `Queued and on its way: port ${port} is linked on ${queue} with READY bit ${place.priority} and evtchn_upcall_pending set; events are on and the domain runs, so ${u.scheduled ? 'the upcall is queued' : 'an upcall is due'}.${order}`, true);
}

function invalidPort(hv: Hypervisor, d: Domain, port: number): Explanation {
  return {
    domid: d.domid,
    port,
    verdict: `No such port: ${domLabel(hv, d.domid)} has ports 0–${d.ports.valid - 1}, so port ${port} fails port_is_valid and every operation on it returns -EINVAL.`,
    deliverable: false,
    steps: [{ check: 'port is valid', ok: false, detail: `port ${port} ≥ ${d.ports.valid} (the ports with storage)`, source: SRC.portValid }],
    records: [],
  };
}

/**
 * Why an event on `port` of domain `domid` was or was not delivered. With
 * `trace`, the verdict cites the last send or raise, Xen setting the pending
 * bit and the last handler run for the port (their seqs in `records`).
 */
export function explainPort(hv: Hypervisor, domid: number, port: number, trace?: TraceLookback): Explanation {
  const d = domainOf(hv, domid);
  if (!Number.isInteger(port) || port < 0) throw new RangeError(`a port is a number from 0 up, not ${String(port)}`);
  if (port >= d.ports.valid) return invalidPort(hv, d, port);
  const v = d.vcpus[d.xen === '2.0' ? 0 : d.ports.notifyVcpu[port]!]!;
  // The blockers worth searching the trace for are those in force now.
  const needs = { mask: d.ops.isMasked(d, port), upcallMask: v.upcallMask !== 0, pause: d.pauseCount > 0 };
  const hist = trace === undefined ? undefined : portHistory(trace, d, port, v.id, needs);
  const ctx: Ctx = { hv, d, port, v, dom: domLabel(hv, d.domid), hist, trace, steps: [], records: [] };
  boundStep(ctx);
  const state = d.ports.state[port]!;
  if (!BOUND.has(state) || state === ECS_FREE) return unboundVerdict(ctx);
  vcpuStep(ctx);
  if (d.ops.name === 'fifo') {
    const f = fifoFacts(d, port, v);
    ctx.steps.push(...f.steps);
    const u = upcallSteps(ctx);
    return verdictFifo(ctx, f, u);
  }
  const f = facts2l(ctx);
  steps2l(ctx, f);
  const u = upcallSteps(ctx);
  guestStep2l(ctx, f);
  return verdict2l(ctx, f, u);
}
