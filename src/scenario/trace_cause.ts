/**
 * Which record a notification follows from. A port becomes pending while a
 * hypercall (EVTCHNOP_send, or another op that raises the event) or a VIRQ /
 * PIRQ raise is being carried out; the handler the receiving guest later runs
 * for that port is its effect. Two readers share this rule: the Chrome trace
 * export (chrome_trace.ts) draws it as a flow arrow, and the lab host streams
 * it as each record's `cause` (the timeline's arrows).
 *
 * The rule, record by record:
 *  - a hypercall or a raise opens the "current cause" until the instant ends
 *    or the next hypercall, raise, upcall or handler record begins;
 *  - a pending bit set by Xen (evtchn_pending, or FIFO's P bit) while a cause
 *    is open queues that cause on the (domain, port) it set;
 *  - the handler for (domain, port) takes what waits there; an upcall is
 *    caused by the oldest notification still waiting in its domain;
 *  - a port freed, or its domain destroyed, drops what waits on it.
 */
import { BIT, BY_GUEST, DOMAIN_EVENTS, TK, type TraceChunk } from '../core/sim/trace.js';
import { ECS_FREE } from '../core/abi/evtchn.js';

/** Notifications kept per port while none is handled. */
export const MAX_WAITING = 16;

/**
 * Notifications not yet handled, by receiving (domain, port), each carrying
 * whatever its reader needs to point back at its cause (a seq, a slice).
 */
export class PendingNotifications<T> {
  /** By receiving domain, then port: an upcall looks only at its own domain's. */
  private readonly byDom = new Map<number, Map<number, T[]>>();

  /** Queues `from` on (dom, port); set again without a handler in between, only the latest MAX_WAITING are kept. */
  add(dom: number, port: number, from: T): void {
    let ports = this.byDom.get(dom);
    if (ports === undefined) this.byDom.set(dom, (ports = new Map<number, T[]>()));
    let w = ports.get(port);
    if (w === undefined) ports.set(port, (w = []));
    else if (w.length >= MAX_WAITING) w.shift();
    w.push(from);
  }

  /** What waits on (dom, port), oldest first, removed; undefined when nothing does. */
  take(dom: number, port: number): T[] | undefined {
    const ports = this.byDom.get(dom);
    const w = ports?.get(port);
    if (w !== undefined) ports!.delete(port);
    return w;
  }

  /** The oldest notification waiting anywhere in `dom` (left in place). */
  oldestIn(dom: number, order: (x: T) => number): T | undefined {
    const ports = this.byDom.get(dom);
    if (ports === undefined) return undefined;
    let best: T | undefined;
    for (const w of ports.values()) {
      if (w.length === 0) continue;
      if (best === undefined || order(w[0]!) < order(best)) best = w[0];
    }
    return best;
  }

  dropPort(dom: number, port: number): void {
    this.byDom.get(dom)?.delete(port);
  }

  dropDomain(dom: number): void {
    this.byDom.delete(dom);
  }

  clear(): void {
    this.byDom.clear();
  }

  /** A copy that goes on independently (the queues' items are shared, so keep them immutable). */
  copy(): PendingNotifications<T> {
    const c = new PendingNotifications<T>();
    for (const [dom, ports] of this.byDom) c.byDom.set(dom, new Map([...ports].map(([port, w]) => [port, [...w]])));
    return c;
  }
}

const K_HYPERCALL = TK.hypercall;
const K_RAISE = TK.raise;
const K_UPCALL = TK.upcall;
const K_HANDLER = TK.handler;
const K_BIT = TK.bit;
const K_PORT = TK.port;
const K_DOMAIN = TK.domain;
const B_UPCALL_MASK = BIT.evtchn_upcall_mask;
const B_PENDING = BIT.evtchn_pending;
const B_FIFO_PENDING = BIT.fifo_pending;
const D_DESTROY = DOMAIN_EVENTS.indexOf('destroy');

/** Gives each record, in order, the seq of the record it follows from (-1: none). */
export class TraceCauses {
  private waiting = new PendingNotifications<number>();
  private lastT = -Infinity;
  /** The open hypercall or raise (its seq), or -1. */
  private leaf = -1;
  /** (dom, vcpu) pairs inside an upcall: the guest's iret closes what is open. */
  private inUpcall = new Set<number>();

  /** The rule as it stands, to go on from later (a host that seeks back restores one). */
  copy(): TraceCauses {
    const c = new TraceCauses();
    c.waiting = this.waiting.copy();
    c.lastT = this.lastT;
    c.leaf = this.leaf;
    c.inUpcall = new Set(this.inUpcall);
    return c;
  }

  /** The cause of record i of chunk c; call once per record, in seq order. */
  next(c: TraceChunk, i: number): number {
    const t = c.t[i]!;
    if (t !== this.lastT) {
      // A new instant: what was open ended with the last one.
      this.lastT = t;
      this.leaf = -1;
      this.inUpcall.clear();
    }
    const seq = c.firstSeq + i;
    const dom = c.dom[i]!;
    switch (c.kind[i]) {
      case K_HYPERCALL:
      case K_RAISE:
        this.leaf = seq;
        return -1;
      case K_UPCALL:
        this.leaf = -1;
        this.inUpcall.add(dom * 4096 + (c.vcpu[i]! & 4095));
        return this.waiting.oldestIn(dom, (s) => s) ?? -1;
      case K_HANDLER: {
        this.leaf = -1;
        const w = this.waiting.take(dom, c.port[i]!);
        return w === undefined ? -1 : w[0]!;
      }
      case K_BIT: {
        const field = c.x0[i]!;
        const value = c.x1[i]!;
        const byGuest = c.x2[i] === BY_GUEST;
        const vcpu = c.vcpu[i]!;
        if (field === B_UPCALL_MASK && value === 0 && byGuest && vcpu >= 0) {
          if (this.inUpcall.delete(dom * 4096 + (vcpu & 4095))) this.leaf = -1;
        } else if ((field === B_PENDING || field === B_FIFO_PENDING) && value === 1 && !byGuest && this.leaf >= 0) {
          this.waiting.add(dom, c.port[i]!, this.leaf);
        }
        return -1;
      }
      case K_PORT:
        if (c.x0[i] === ECS_FREE) this.waiting.dropPort(dom, c.port[i]!);
        return -1;
      case K_DOMAIN:
        if (c.x0[i] === D_DESTROY) this.waiting.dropDomain(dom);
        return -1;
      default:
        return -1;
    }
  }
}
