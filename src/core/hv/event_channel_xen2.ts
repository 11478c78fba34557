/**
 * Event channels as Xen 2.0.0 had them (xen/common/event_channel.c and
 * xen/include/xen/event.h at the 2.0.0 release): seven ops, a per-domain
 * port table of 16 entries that doubles up to 1024, port 0 held for ever by
 * VIRQ_MISDIRECT, one virq_to_evtchn table per domain (0 = not bound, so an
 * unbound VIRQ lands on port 0), and third-party binding of both ends of an
 * inter-domain channel by a privileged caller.
 *
 * Each op makes its checks in 2.0.0's order, so the first failing check picks
 * the errno, and returns a port, 0, or a negated errno; it never throws. As in
 * 2.0.0, a failed op can still leave the port table grown (get_free_port
 * doubles the table before the op's later checks run).
 *
 * Ports are kept in today's ECS_* codes (abi/evtchn.ts) so traces and tools
 * read the same in both modes; 2.0.0's own numbering is in abi/xen2.ts.
 */
import { DOMID_SELF } from '../abi/domid.js';
import { EBUSY, EINVAL, ENOSPC, EPERM, ESRCH } from '../abi/errno.js';
import { ECS_FREE, ECS_INTERDOMAIN, ECS_PIRQ, ECS_UNBOUND, ECS_VIRQ } from '../abi/evtchn.js';
import {
  BIND_PIRQ__WILL_SHARE,
  EVTCHNSTAT_NAMES,
  IRQ_MAX_GUESTS,
  MAX_EVENT_CHANNELS,
  NR_PIRQS,
  NR_VIRQS,
  VIRQ_MISDIRECT,
  VIRQ_TIMER,
} from '../abi/xen2.js';
import { RAISE_PIRQ, RAISE_VIRQ, TK } from '../sim/trace.js';
import type { Domain, Vcpu } from './domain.js';
import type { EventContext } from './upcall.js';

/** A physical IRQ bound by guests (irq.c's irq_guest_action_t): who, and whether they share. */
export interface PirqGuestAction {
  shareable: boolean;
  /** Domain ids, in bind order (at most IRQ_MAX_GUESTS). */
  readonly guests: number[];
}

/** What the 2.0.0 event-channel code needs from the machine. */
export interface Xen2Host extends EventContext {
  domain(domid: number): Domain | undefined;
  /** Called when VIRQ_TIMER is bound, so the periodic timer runs. */
  timerBound(d: Domain, vcpu: number): void;
  /** Machine-wide: the guests bound to each physical IRQ. */
  readonly pirqActions: Map<number, PirqGuestAction>;
}

/** C's `int port = <u32 field>`: values of 2^31 and up turn negative. */
function asInt(x: number): number {
  return x | 0;
}

/** domid_t is 16 bits in 2.0.0. */
function asDomid(x: number): number {
  return x & 0xffff;
}

/** init_event_channels: port 0 is bound to VIRQ_MISDIRECT for the life of the domain. */
export function initEventChannelsXen2(hv: Xen2Host, d: Domain): void {
  const ports = d.ports;
  ports.state[0] = ECS_VIRQ;
  ports.remotePort[0] = VIRQ_MISDIRECT;
  d.vcpus[0]!.virqToPort.fill(0);
  tracePort(hv, d, 0);
}

function tracePort(hv: Xen2Host, d: Domain, port: number): void {
  if (!hv.trace.on) return;
  const p = d.ports;
  const state = p.state[port]!;
  hv.trace.emit(TK.port, d.domid, 0, port, state, state === ECS_INTERDOMAIN || state === ECS_UNBOUND ? p.remoteDom[port]! : p.remotePort[port]!, p.remotePort[port]!);
}

/** Puts a port into a state and records it. */
function setPort(hv: Xen2Host, d: Domain, port: number, state: number, remoteDom: number, remotePort: number): void {
  const ports = d.ports;
  if (ports.state[port] === ECS_FREE && state !== ECS_FREE) ports.active++;
  else if (ports.state[port] !== ECS_FREE && state === ECS_FREE) ports.active--;
  ports.state[port] = state;
  ports.remoteDom[port] = remoteDom;
  ports.remotePort[port] = remotePort;
  tracePort(hv, d, port);
}

/**
 * get_free_port: the lowest FREE port below the table size; if there is none,
 * the table doubles (16, 32, ... 1024) and the first new port is returned.
 * The port is not claimed. A full 1024-entry table gives -ENOSPC.
 */
export function getFreePortXen2(d: Domain): number {
  const ports = d.ports;
  const max = ports.valid;
  const state = ports.state;
  for (let port = 0; port < max; port++) if (state[port] === ECS_FREE) return port;
  if (max >= MAX_EVENT_CHANNELS) return -ENOSPC;
  ports.growTo(max * 2);
  return max;
}

// EVTCHNOP_alloc_unbound: a port of the caller's, waiting for `dom`. `dom` is
// stored as given (DOMID_SELF is not translated and no domain is looked up).
export function allocUnboundXen2(hv: Xen2Host, caller: Domain, dom: number): number {
  const port = getFreePortXen2(caller);
  if (port < 0) return port;
  setPort(hv, caller, port, ECS_UNBOUND, asDomid(dom), 0);
  return port;
}

export interface BindInterdomainResult {
  ret: number;
  port1?: number;
  port2?: number;
}

// EVTCHNOP_bind_interdomain: connect <dom1,port1> with <dom2,port2>; a port of 0 means "allocate one".
export function bindInterdomainXen2(hv: Xen2Host, caller: Domain, dom1In: number, dom2In: number, port1In: number, port2In: number): BindInterdomainResult {
  let dom1 = asDomid(dom1In);
  let dom2 = asDomid(dom2In);
  const reqPort1 = asInt(port1In);
  const reqPort2 = asInt(port2In);
  const priv = caller.privileged;

  if (!priv && dom1 !== DOMID_SELF) return { ret: -EPERM };
  if (reqPort1 < 0 || reqPort2 < 0) return { ret: -EINVAL };
  if (dom1 === DOMID_SELF) dom1 = caller.domid;
  if (dom2 === DOMID_SELF) dom2 = caller.domid;
  const d1 = hv.domain(dom1);
  const d2 = hv.domain(dom2);
  if (d1 === undefined || d2 === undefined) return { ret: -ESRCH };

  let port1 = reqPort1;
  let port2 = reqPort2;
  // A port of ours: allocate it, or check it is inside the table.
  if (port1 === 0) {
    port1 = getFreePortXen2(d1);
    if (port1 < 0) return { ret: port1 };
  } else if (port1 >= d1.ports.valid) return { ret: -EINVAL };

  if (port2 === 0) {
    // port1 must not be handed out again when both ends are in one domain.
    const saved = d1.ports.state[port1]!;
    d1.ports.state[port1] = ECS_INTERDOMAIN;
    port2 = getFreePortXen2(d2);
    d1.ports.state[port1] = saved;
    if (port2 < 0) return { ret: port2 };
  } else if (port2 >= d2.ports.valid) return { ret: -EINVAL };

  const p1 = d1.ports;
  switch (p1.state[port1]) {
    case ECS_FREE:
      break;
    case ECS_UNBOUND:
      if (p1.remoteDom[port1] !== dom2) return { ret: -EINVAL };
      break;
    case ECS_INTERDOMAIN:
      // Already connected: to this peer (and this port, if one was named) it is the same channel.
      if (p1.remoteDom[port1] !== dom2) return { ret: -EINVAL };
      if (p1.remotePort[port1] !== port2 && reqPort2 !== 0) return { ret: -EINVAL };
      return { ret: 0, port1, port2: p1.remotePort[port1]! };
    default:
      return { ret: -EINVAL };
  }

  const p2 = d2.ports;
  switch (p2.state[port2]) {
    case ECS_FREE:
      // 2.0.0 tests dom2 against DOMID_SELF after replacing DOMID_SELF with the
      // caller's id, so this test never passes: an unprivileged caller cannot
      // bind to a FREE port at all.
      if (!priv && dom2 !== DOMID_SELF) return { ret: -EPERM };
      break;
    case ECS_UNBOUND:
      if (p2.remoteDom[port2] !== dom1) return { ret: -EINVAL };
      break;
    case ECS_INTERDOMAIN:
      if (p2.remoteDom[port2] !== dom1) return { ret: -EINVAL };
      if (p2.remotePort[port2] !== port1 && reqPort1 !== 0) return { ret: -EINVAL };
      return { ret: 0, port1: p2.remotePort[port2]!, port2 };
    default:
      return { ret: -EINVAL };
  }

  // Both ends check out. No pending bit is set: that was the June 2004 behaviour.
  setPort(hv, d1, port1, ECS_INTERDOMAIN, dom2, port2);
  setPort(hv, d2, port2, ECS_INTERDOMAIN, dom1, port1);
  return { ret: 0, port1, port2 };
}

// EVTCHNOP_bind_virq: idempotent; VIRQ_MISDIRECT is always port 0.
export function bindVirqXen2(hv: Xen2Host, d: Domain, virqIn: number): number {
  const virq = virqIn >>> 0;
  if (virq >= NR_VIRQS) return -EINVAL;
  const v = d.vcpus[0]!;
  const bound = v.virqToPort[virq]!;
  if (bound !== 0) return bound;
  if (virq === VIRQ_MISDIRECT) return 0;
  const port = getFreePortXen2(d);
  if (port < 0) return port;
  setPort(hv, d, port, ECS_VIRQ, 0, virq);
  v.virqToPort[virq] = port;
  if (virq === VIRQ_TIMER) hv.timerBound(d, 0);
  return port;
}

/** pirq_guest_bind: physical-device permission, then the sharing rules of irq.c. */
function pirqGuestBind(hv: Xen2Host, d: Domain, pirq: number, willShare: boolean): number {
  if (!d.pirqsAllowed.has(pirq)) return -EPERM;
  const action = hv.pirqActions.get(pirq);
  if (action === undefined) {
    hv.pirqActions.set(pirq, { shareable: willShare, guests: [d.domid] });
    return 0;
  }
  if (!willShare || !action.shareable) return -EBUSY;
  if (action.guests.length === IRQ_MAX_GUESTS) return -EBUSY;
  action.guests.push(d.domid);
  return 0;
}

function pirqGuestUnbind(hv: Xen2Host, d: Domain, pirq: number): void {
  const action = hv.pirqActions.get(pirq);
  if (action === undefined) return;
  const i = action.guests.indexOf(d.domid);
  if (i >= 0) action.guests.splice(i, 1);
  if (action.guests.length === 0) hv.pirqActions.delete(pirq);
}

// EVTCHNOP_bind_pirq: range, an existing binding (returned as is), a free port, then permission and sharing.
export function bindPirqXen2(hv: Xen2Host, d: Domain, pirqIn: number, flags: number): number {
  const pirq = pirqIn >>> 0;
  if (pirq >= NR_PIRQS) return -EINVAL;
  const bound = d.pirqToPort.get(pirq);
  if (bound !== undefined) return bound;
  const port = getFreePortXen2(d);
  if (port < 0) return port;
  const rc = pirqGuestBind(hv, d, pirq, (flags & BIND_PIRQ__WILL_SHARE) !== 0);
  if (rc !== 0) return rc;
  d.pirqToPort.set(pirq, port);
  setPort(hv, d, port, ECS_PIRQ, 0, pirq);
  return port;
}

/** __evtchn_close: port 0 (VIRQ_MISDIRECT) can never be closed. The pending bit is left as it is. */
export function closePortXen2(hv: Xen2Host, d: Domain, portIn: number): number {
  const port = asInt(portIn);
  const ports = d.ports;
  if (port <= 0 || port >= ports.valid) return -EINVAL;
  switch (ports.state[port]) {
    case ECS_FREE:
      return -EINVAL;
    case ECS_PIRQ: {
      const pirq = ports.remotePort[port]!;
      pirqGuestUnbind(hv, d, pirq);
      d.pirqToPort.delete(pirq);
      break;
    }
    case ECS_VIRQ:
      d.vcpus[0]!.virqToPort[ports.remotePort[port]!] = 0;
      break;
    case ECS_INTERDOMAIN: {
      // The peer waits again, for the closer; no event tells it so.
      const rd = hv.domain(ports.remoteDom[port]!);
      if (rd !== undefined) setPort(hv, rd, ports.remotePort[port]!, ECS_UNBOUND, d.domid, 0);
      break;
    }
    default:
      break; // UNBOUND: nothing more to undo
  }
  setPort(hv, d, port, ECS_FREE, 0, 0);
  return 0;
}

/** `dom` as close and status take it: DOMID_SELF, or any domain for a privileged caller. */
function lookupPrivileged(hv: Xen2Host, caller: Domain, domIn: number): Domain | number {
  const dom = asDomid(domIn);
  if (dom === DOMID_SELF) return caller;
  if (!caller.privileged) return -EPERM;
  return hv.domain(dom) ?? -ESRCH;
}

// EVTCHNOP_close
export function closeXen2(hv: Xen2Host, caller: Domain, dom: number, port: number): number {
  const d = lookupPrivileged(hv, caller, dom);
  if (typeof d === 'number') return d;
  return closePortXen2(hv, d, port);
}

// EVTCHNOP_send: only an INTERDOMAIN port; the remote end goes pending.
export function sendXen2(hv: Xen2Host, d: Domain, localPort: number): number {
  const lport = asInt(localPort);
  const ports = d.ports;
  if (lport < 0 || lport >= ports.valid || ports.state[lport] !== ECS_INTERDOMAIN) return -EINVAL;
  const rd = hv.domain(ports.remoteDom[lport]!)!;
  notifyPortXen2(rd, rd.vcpus[0]!, ports.remotePort[lport]!);
  return 0;
}

export type Xen2StatusName = (typeof EVTCHNSTAT_NAMES)[number];

export interface Xen2Status {
  ret: number;
  status?: Xen2StatusName;
  u?: { unbound?: { dom: number }; interdomain?: { dom: number; port: number }; pirq?: number; virq?: number };
}

// EVTCHNOP_status
export function statusXen2(hv: Xen2Host, caller: Domain, dom: number, portIn: number): Xen2Status {
  const d = lookupPrivileged(hv, caller, dom);
  if (typeof d === 'number') return { ret: d };
  const port = asInt(portIn);
  const ports = d.ports;
  if (port < 0 || port >= ports.valid) return { ret: -EINVAL };
  switch (ports.state[port]) {
    case ECS_UNBOUND:
      return { ret: 0, status: 'unbound', u: { unbound: { dom: ports.remoteDom[port]! } } };
    case ECS_INTERDOMAIN:
      return { ret: 0, status: 'interdomain', u: { interdomain: { dom: ports.remoteDom[port]!, port: ports.remotePort[port]! } } };
    case ECS_PIRQ:
      return { ret: 0, status: 'pirq', u: { pirq: ports.remotePort[port]! } };
    case ECS_VIRQ:
      return { ret: 0, status: 'virq', u: { virq: ports.remotePort[port]! } };
    default:
      return { ret: 0, status: 'closed' };
  }
}

/** send_guest_virq: evtchn_set_pending on virq_to_evtchn[virq], which is port 0 when nothing is bound. */
export function sendGuestVirqXen2(hv: Xen2Host, d: Domain, virq: number): void {
  const v = d.vcpus[0]!;
  const port = v.virqToPort[virq]!;
  if (hv.trace.on) hv.trace.emit(TK.raise, d.domid, 0, port, RAISE_VIRQ, virq, 0);
  notifyPortXen2(d, v, port);
}

/** send_guest_pirq for one domain; a PIRQ it has not bound does not reach it (returns 0). */
export function sendGuestPirqXen2(hv: Xen2Host, d: Domain, pirq: number): number {
  const port = d.pirqToPort.get(pirq) ?? 0;
  if (hv.trace.on) hv.trace.emit(TK.raise, d.domid, 0, port, RAISE_PIRQ, pirq, 0);
  if (port !== 0) notifyPortXen2(d, d.vcpus[0]!, port);
  return port;
}

/** evtchn_set_pending for a notification, unless a fault a scenario armed takes it (port_faults.ts). */
function notifyPortXen2(d: Domain, v: Vcpu, port: number): void {
  if (d.portFaults !== null && d.portFaults.intercept(d, v.id, port)) return;
  d.ops.setPending(d, v, port);
}

/** A physical IRQ fired: every guest bound to it (irq.c's do_IRQ_guest), in bind order. */
export function raisePirqXen2(hv: Xen2Host, pirq: number): void {
  const action = hv.pirqActions.get(pirq);
  if (action === undefined) return;
  for (const domid of [...action.guests]) {
    const d = hv.domain(domid);
    if (d !== undefined) sendGuestPirqXen2(hv, d, pirq);
  }
}

/** destroy_event_channels: every port closed, lowest first (port 0 and free ports refuse, harmlessly). */
export function destroyEventChannelsXen2(hv: Xen2Host, d: Domain): void {
  const max = d.ports.valid;
  for (let port = 0; port < max; port++) closePortXen2(hv, d, port);
}
