/**
 * The FIFO half of explain: the tests of event_fifo.c's
 * evtchn_fifo_set_pending in its order (an event word, a control block,
 * PENDING, MASKED, LINKED onto the queue of the port's priority, READY and
 * HEAD in the control block, BUSY), and where the event stands in its queue.
 */
import type { ExplainStep } from '../../contract/inspect.js';
import { EVTCHN_FIFO_EVENT_WORDS_PER_PAGE, EVTCHN_FIFO_LINK_MASK, FIFO_B, FIFO_L, FIFO_M, FIFO_P } from '../../core/abi/evtchn.js';
import { FIFO_CB_HEAD, FIFO_CB_READY } from '../../core/abi/layout.js';
import { Guest } from '../../core/guest/guest.js';
import type { Domain, Vcpu } from '../../core/hv/domain.js';
import { eventPage } from '../../core/hv/event_fifo.js';
import { setBits32 } from './format.js';
import { describeEventWord } from './fifo.js';
import { SRC } from './explain_words.js';

/** Where a linked event stands: its queue, what is ahead of it, which higher-priority queues are ready. */
export interface QueuePlace {
  vcpu: number;
  priority: number;
  /** Ports ahead of it in its own queue, head first; undefined when the chain from HEAD does not reach it. */
  ahead: number[] | undefined;
  /** Higher-priority queues (lower numbers) with their READY bit set, and each one's head. */
  higherReady: { priority: number; head: number }[];
  readyBit: boolean;
}

export interface FifoFacts {
  hasWord: boolean;
  stash: boolean;
  hasControlBlock: boolean;
  pending: boolean;
  masked: boolean;
  linked: boolean;
  busy: boolean;
  place: QueuePlace | undefined;
  steps: ExplainStep[];
}

const MAX_WALK = 1 << 17;

/** The head the guest will take next from queue q of vCPU v: its own copy if it has one, else HEAD[q]. */
function queueHead(d: Domain, v: Vcpu, q: number): number {
  const k = d.kernel;
  const local = k instanceof Guest ? (k.fifoHeads[v.id]?.[q] ?? 0) : 0;
  if (local !== 0) return local;
  const fv = v.fifo!;
  return fv.controlPage![fv.controlIndex + (FIFO_CB_HEAD >> 2) + q]!;
}

function wordOf(d: Domain, port: number): number | undefined {
  const page = eventPage(d, port);
  return page === undefined ? undefined : page[port & (EVTCHN_FIFO_EVENT_WORDS_PER_PAGE - 1)]!;
}

/** Follows LINK from the queue's head while words stay LINKED; the ports before `port`, or undefined. */
function portsAhead(d: Domain, head: number, port: number): number[] | undefined {
  const ahead: number[] = [];
  for (let p = head, n = 0; p !== 0 && n < MAX_WALK; n++) {
    if (p === port) return ahead;
    const w = wordOf(d, p);
    if (w === undefined || (w & FIFO_L) === 0) return undefined;
    ahead.push(p);
    p = w & EVTCHN_FIFO_LINK_MASK;
  }
  return undefined;
}

function queuePlace(d: Domain, port: number): QueuePlace | undefined {
  const ports = d.ports;
  const v = d.vcpus[ports.lastVcpu[port]!];
  if (v?.fifo?.controlPage == null) return undefined;
  const q = ports.lastPriority[port]!;
  const cb = v.fifo.controlPage;
  const ready = cb[v.fifo.controlIndex + (FIFO_CB_READY >> 2)]!;
  const higherReady = setBits32(ready & ((1 << q) - 1)).map((hq) => ({ priority: hq, head: queueHead(d, v, hq) }));
  return { vcpu: v.id, priority: q, ahead: portsAhead(d, queueHead(d, v, q), port), higherReady, readyBit: ((ready >>> q) & 1) !== 0 };
}

/** "behind priority 0 (port 1) and priority 7 (port 2), and port 9 in its own queue", or ''. */
export function behindText(place: QueuePlace): string {
  const parts: string[] = [];
  if (place.higherReady.length > 0) parts.push(`the ready queue${place.higherReady.length > 1 ? 's' : ''} of ${place.higherReady.map((h) => `priority ${h.priority} (head port ${h.head})`).join(' and ')}`);
  if (place.ahead !== undefined && place.ahead.length > 0) parts.push(`port${place.ahead.length > 1 ? 's' : ''} ${place.ahead.join(', ')} ahead of it in its own queue`);
  return parts.join(', and ');
}

/** BUSY: Xen holds it on a tail word while it rewrites LINK (try_set_link). */
function busyStep(busy: boolean): ExplainStep {
  return { check: 'BUSY (B, bit 28)', ok: !busy, detail: busy ? 'B is set: Xen is rewriting LINK; the guest must wait before unmasking' : 'B is clear', source: SRC.setFifo };
}

export function fifoFacts(d: Domain, port: number, v: Vcpu): FifoFacts {
  const steps: ExplainStep[] = [];
  const arrayPages = d.fifoArray?.length ?? 0;
  const w = wordOf(d, port);
  const stash = d.ports.fifoStash[port] !== 0;
  const out: FifoFacts = { hasWord: w !== undefined, stash, hasControlBlock: v.fifo?.controlPage != null, pending: false, masked: true, linked: false, busy: false, place: undefined, steps };
  const k = port >>> 10;
  const i = port & (EVTCHN_FIFO_EVENT_WORDS_PER_PAGE - 1);
  if (w === undefined) {
    steps.push({
      check: 'event word',
      ok: false,
      detail: `port ${port} has no event word: the event array has ${arrayPages} page${arrayPages === 1 ? '' : 's'} (ports 0–${arrayPages * EVTCHN_FIFO_EVENT_WORDS_PER_PAGE - 1}); Xen keeps events in the port's pending stash (now ${stash ? 'set' : 'clear'}) until EVTCHNOP_expand_array adds page ${k}`,
      source: SRC.wordFifo,
    });
    return out;
  }
  steps.push({ check: 'event word', ok: true, detail: `event_array[${k}][${i}] (byte ${i * 4} of event-array page ${k}): ${describeEventWord(w)}`, source: SRC.wordFifo });
  steps.push({
    check: 'control block',
    ok: out.hasControlBlock,
    detail: out.hasControlBlock ? `vCPU ${v.id} has a control block (EVTCHNOP_init_control)` : `vCPU ${v.id} has no control block, so evtchn_fifo_set_pending drops events for it (P is not even set)`,
    source: out.hasControlBlock ? SRC.initFifo : SRC.setFifo,
  });
  out.pending = (w & FIFO_P) !== 0;
  out.masked = (w & FIFO_M) !== 0;
  out.linked = (w & FIFO_L) !== 0;
  out.busy = (w & FIFO_B) !== 0;
  steps.push({ check: 'PENDING (P, bit 31)', ok: out.pending, detail: out.pending ? `P is set: Xen's test-and-set marked the event pending` : 'P is clear: no event is pending', source: SRC.setFifo });
  steps.push({
    check: 'MASKED (M, bit 30)',
    ok: !out.masked,
    detail: out.masked ? 'M is set: the guest masked the port, so Xen sets P but does not link the event on a queue' : 'M is clear: a pending event is linked on its queue',
    source: SRC.setFifo,
  });
  const place = out.linked ? queuePlace(d, port) : undefined;
  out.place = place;
  const prio = d.ports.priority[port]!;
  if (out.linked && place !== undefined) {
    const moved = prio !== place.priority ? `; its priority is now ${prio}, but a linked event stays on the queue it was linked on` : '';
    const pos = place.ahead === undefined ? 'not reachable from the queue head (the guest is unlinking it)' : place.ahead.length === 0 ? 'at the head' : `behind ${place.ahead.join(', ')}`;
    steps.push({ check: 'LINKED (L, bit 29)', ok: true, detail: `L is set: the event is on vCPU ${place.vcpu}'s priority-${place.priority} queue, ${pos}${moved}`, source: SRC.setFifo });
    steps.push(busyStep(out.busy));
    steps.push({
      check: `READY bit ${place.priority}`,
      ok: place.readyBit,
      detail: place.readyBit ? `bit ${place.priority} of vCPU ${place.vcpu}'s control block ready is set: the queue has events` : `bit ${place.priority} of ready is clear: the guest has taken the ready bits (it finds the queue as it drains)`,
      source: SRC.setFifo,
    });
    const behind = behindText(place);
    steps.push({
      check: 'queue order',
      ok: behind === '',
      detail: behind === '' ? 'nothing of higher priority is ready: the guest serves this queue next' : `it waits behind ${behind}: the guest serves the lowest READY bit (highest priority) first, one event at a time`,
      source: SRC.linuxFifo,
    });
  } else {
    steps.push({
      check: 'LINKED (L, bit 29)',
      ok: false,
      detail: out.pending && !out.masked ? 'L is clear: the pending event is on no queue (M was cleared without EVTCHNOP_unmask, which links a pending event)' : `L is clear: the event is on no queue (priority ${prio} on vCPU ${v.id} when it is linked)`,
      source: out.pending && !out.masked ? SRC.unmaskFifo : SRC.setFifo,
    });
    steps.push(busyStep(out.busy));
  }
  return out;
}
