/**
 * The EVTCHNOP_* operations, as xen/common/event_channel.c does them: the
 * checks of each op in Xen's order (so the first failing check picks the
 * errno), port allocation, close, send, VIRQ/PIRQ delivery and reset.
 * Every op returns 0, a port number, or a negated errno, and never throws;
 * a failed op changes no port state.
 */
import { DOMID_SELF } from '../abi/domid.js';
import { EACCES, EAGAIN, EBUSY, EEXIST, EINVAL, ENOENT, ENOSPC, ENOSYS, EOPNOTSUPP, EPERM, ESRCH } from '../abi/errno.js';
import {
  ECS_FREE,
  ECS_INTERDOMAIN,
  ECS_IPI,
  ECS_PIRQ,
  ECS_RESERVED,
  ECS_TO_EVTCHNSTAT,
  ECS_UNBOUND,
  ECS_VIRQ,
  EVTCHN_FIFO_CONTROL_BLOCK_SIZE,
  EVTCHN_FIFO_LINK_BITS,
  EVTCHN_FIFO_MAX_EVENT_ARRAY_PAGES,
  EVTCHN_FIFO_PRIORITY_DEFAULT,
  EVTCHN_FIFO_PRIORITY_MIN,
  EVTCHN_FIFO_EVENT_WORDS_PER_PAGE,
  EVTCHNSTAT_NAMES,
  NR_VIRQS,
  VIRQ_GLOBAL,
  VIRQ_PER_VCPU,
  VIRQS,
  type EvtchnStatName,
} from '../abi/evtchn.js';
import { PAGE_SIZE } from '../abi/layout.js';
import { RAISE_PIRQ, RAISE_VIRQ, TK } from '../sim/trace.js';
import type { Domain } from './domain.js';
import type { PortOps } from './port_ops.js';
import type { EventContext } from './upcall.js';

/** What the event-channel code needs from the machine. */
export interface EvtchnHost extends EventContext {
  domain(domid: number): Domain | undefined;
  readonly ops2l: PortOps;
  readonly opsFifo: PortOps;
  /** The domain that handles a global VIRQ (the hardware domain unless changed). */
  virqHandler(virq: number): number;
  /** Called when a vCPU binds VIRQ_TIMER, so its periodic timer runs. */
  timerBound(d: Domain, vcpu: number): void;
}

export function portIsValid(d: Domain, port: number): boolean {
  return port >= 0 && port < d.ports.valid;
}

/** evtchn_usable: bound to something and not consumed by Xen. */
export function portUsable(d: Domain, port: number): boolean {
  return d.ports.xenConsumer[port] === 0 && d.ports.state[port]! > ECS_RESERVED;
}

/** The ABI's set-pending on a usable port, notifying vCPU `vcpu` (evtchn_port_set_pending). */
export function setPortPending(d: Domain, vcpu: number, port: number): void {
  if (portUsable(d, port)) d.ops.setPending(d, d.vcpus[vcpu]!, port);
}

/**
 * A notification reaching `port` of `d` (a send, a VIRQ, a PIRQ): set
 * pending, unless a fault a scenario armed takes it (port_faults.ts).
 */
export function notifyPort(d: Domain, vcpu: number, port: number): void {
  if (!portUsable(d, port)) return;
  if (d.portFaults !== null && d.portFaults.intercept(d, vcpu, port)) return;
  d.ops.setPending(d, d.vcpus[vcpu]!, port);
}

function lookup(hv: EvtchnHost, caller: Domain, domid: number): Domain | undefined {
  return domid === DOMID_SELF ? caller : hv.domain(domid);
}

/** XSM dummy policy, XSM_TARGET: oneself, or a control domain on anyone. */
function mayActOn(caller: Domain, d: Domain): boolean {
  return caller === d || caller.privileged;
}

/** Port limit of a domain under its ABI (max_evtchns) and its own max_evtchn_port. */
function portLimit(d: Domain): number {
  return Math.min(d.maxEvtchnPort + 1, d.ops.maxPorts);
}

/** get_free_port: the lowest free port, allocating buckets as needed. Does not claim it. */
export function getFreePort(d: Domain): number {
  if (d.dying) return -EINVAL;
  const ports = d.ports;
  const limit = portLimit(d);
  let firstBusy = -1;
  for (let port = ports.firstMaybeFree; port < limit; port++) {
    if (port >= ports.valid) {
      ports.allocateBucketsThrough(port);
      ports.firstMaybeFree = firstBusy >= 0 ? firstBusy : port;
      return port;
    }
    if (ports.state[port] !== ECS_FREE) continue;
    // FIFO: a freed port whose word is still linked waits for the guest to unlink it.
    if (d.ops.isBusy(d, port)) {
      if (firstBusy < 0) firstBusy = port;
      continue;
    }
    ports.firstMaybeFree = firstBusy >= 0 ? firstBusy : port;
    return port;
  }
  return -ENOSPC;
}

/** Puts a port into a bound state, with the trace record every state change gets. */
function bindPort(hv: EvtchnHost, d: Domain, port: number, state: number, remote: number, remotePort: number, vcpu: number): void {
  const ports = d.ports;
  if (ports.state[port] === ECS_FREE) ports.active++;
  ports.state[port] = state;
  ports.remoteDom[port] = state === ECS_UNBOUND || state === ECS_INTERDOMAIN ? remote : 0;
  ports.remotePort[port] = state === ECS_UNBOUND || state === ECS_IPI ? 0 : state === ECS_INTERDOMAIN ? remotePort : remote;
  ports.notifyVcpu[port] = vcpu;
  ports.priority[port] = EVTCHN_FIFO_PRIORITY_DEFAULT;
  tracePort(hv, d, port);
}

function tracePort(hv: EvtchnHost, d: Domain, port: number): void {
  if (!hv.trace.on) return;
  const p = d.ports;
  hv.trace.emit(TK.port, d.domid, p.notifyVcpu[port]!, port, p.state[port]!, p.state[port] === ECS_INTERDOMAIN || p.state[port] === ECS_UNBOUND ? p.remoteDom[port]! : p.remotePort[port]!, p.remotePort[port]!);
}

/** evtchn_free: clear pending, back to FREE, notify vCPU 0. The mask bit is the guest's. */
function freePort(hv: EvtchnHost, d: Domain, port: number): void {
  const ports = d.ports;
  d.ops.clearPending(d, port);
  ports.fifoStash[port] = 0;
  ports.state[port] = ECS_FREE;
  ports.notifyVcpu[port] = 0;
  ports.xenConsumer[port] = 0;
  ports.remoteDom[port] = 0;
  ports.remotePort[port] = 0;
  ports.active--;
  if (port < ports.firstMaybeFree) ports.firstMaybeFree = port;
  tracePort(hv, d, port);
}

// EVTCHNOP_alloc_unbound: the port is chosen before the permission check, as in Xen.
export function allocUnbound(hv: EvtchnHost, caller: Domain, dom: number, remoteDom: number): number {
  const d = lookup(hv, caller, dom);
  if (d === undefined) return -ESRCH;
  const port = getFreePort(d);
  if (port < 0) return port;
  if (!mayActOn(caller, d)) return -EPERM;
  // DOMID_SELF names the caller, not `dom`; remote_dom is not checked.
  bindPort(hv, d, port, ECS_UNBOUND, remoteDom === DOMID_SELF ? caller.domid : remoteDom, 0, 0);
  return port;
}

// EVTCHNOP_bind_interdomain
export function bindInterdomain(hv: EvtchnHost, ld: Domain, remoteDom: number, remotePort: number): number {
  const rd = lookup(hv, ld, remoteDom);
  if (rd === undefined) return -ESRCH;
  const lport = getFreePort(ld);
  if (lport < 0) return lport;
  if (!portIsValid(rd, remotePort)) return -EINVAL;
  if (rd.ports.state[remotePort] !== ECS_UNBOUND || rd.ports.remoteDom[remotePort] !== ld.domid) return -EINVAL;
  bindPort(hv, ld, lport, ECS_INTERDOMAIN, rd.domid, remotePort, 0);
  // The remote end keeps its notify vCPU, priority and bits.
  const rp = rd.ports;
  rp.state[remotePort] = ECS_INTERDOMAIN;
  rp.remoteDom[remotePort] = ld.domid;
  rp.remotePort[remotePort] = lport;
  tracePort(hv, rd, remotePort);
  // Always pending: covers sends the peer made while the port was unbound.
  setPortPending(ld, 0, lport);
  return lport;
}

// EVTCHNOP_bind_virq
export function bindVirq(hv: EvtchnHost, d: Domain, virq: number, vcpu: number): number {
  if (!Number.isInteger(virq) || virq < 0 || virq >= NR_VIRQS) return -EINVAL;
  const type = VIRQS[virq]!.type;
  if (type !== VIRQ_PER_VCPU && vcpu !== 0) return -EINVAL;
  const v = d.vcpus[vcpu];
  if (v === undefined) return -ENOENT;
  if (type === VIRQ_GLOBAL && hv.virqHandler(virq) !== d.domid) return -EBUSY;
  if (v.virqToPort[virq] !== 0) return -EEXIST;
  const port = getFreePort(d);
  if (port < 0) return port;
  bindPort(hv, d, port, ECS_VIRQ, virq, 0, vcpu);
  v.virqToPort[virq] = port;
  if (virq === 0) hv.timerBound(d, vcpu);
  return port;
}

// EVTCHNOP_bind_ipi
export function bindIpi(hv: EvtchnHost, d: Domain, vcpu: number): number {
  if (d.vcpus[vcpu] === undefined) return -ENOENT;
  const port = getFreePort(d);
  if (port < 0) return port;
  bindPort(hv, d, port, ECS_IPI, 0, 0, vcpu);
  return port;
}

// EVTCHNOP_bind_pirq (x86): range, I/O permission, duplicate, then a port.
export function bindPirq(hv: EvtchnHost, d: Domain, pirq: number): number {
  if (!Number.isInteger(pirq) || pirq < 0 || pirq >= d.nrPirqs) return -EINVAL;
  if (!d.pirqsAllowed.has(pirq)) return -EPERM;
  if (d.pirqToPort.has(pirq)) return -EEXIST;
  const port = getFreePort(d);
  if (port < 0) return port;
  bindPort(hv, d, port, ECS_PIRQ, pirq, 0, 0);
  d.pirqToPort.set(pirq, port);
  return port;
}

/** evtchn_close; `guest` is false when Xen closes ports itself (domain destruction). */
export function close(hv: EvtchnHost, d: Domain, port: number, guest = true): number {
  if (!portIsValid(d, port)) return -EINVAL;
  const ports = d.ports;
  if (guest && ports.xenConsumer[port] !== 0) return -EINVAL;
  switch (ports.state[port]) {
    case ECS_FREE:
    case ECS_RESERVED:
      return -EINVAL;
    case ECS_PIRQ:
      d.pirqToPort.delete(ports.remotePort[port]!);
      break;
    case ECS_VIRQ: {
      const virq = ports.remotePort[port]!;
      const v = VIRQS[virq]!.type === VIRQ_PER_VCPU ? d.vcpus[ports.notifyVcpu[port]!]! : d.vcpus[0]!;
      if (v.virqToPort[virq] === port) v.virqToPort[virq] = 0;
      break;
    }
    case ECS_INTERDOMAIN: {
      // The peer's end goes back to UNBOUND, waiting for this domain to bind again.
      const rd = hv.domain(ports.remoteDom[port]!);
      const rport = ports.remotePort[port]!;
      if (rd !== undefined && !(rd === d && rport === port)) {
        rd.ports.state[rport] = ECS_UNBOUND;
        rd.ports.remoteDom[rport] = d.domid;
        rd.ports.remotePort[rport] = 0;
        tracePort(hv, rd, rport);
      }
      break;
    }
    default:
      break; // UNBOUND, IPI: nothing more to undo
  }
  freePort(hv, d, port);
  return 0;
}

// EVTCHNOP_send
export function send(hv: EvtchnHost, d: Domain, port: number): number {
  if (!(port < d.ports.valid && port >= 0)) return -EINVAL;
  const ports = d.ports;
  if (ports.xenConsumer[port] !== 0) return -EINVAL;
  switch (ports.state[port]) {
    case ECS_INTERDOMAIN: {
      const rd = hv.domain(ports.remoteDom[port]!)!;
      const rport = ports.remotePort[port]!;
      notifyPort(rd, rd.ports.notifyVcpu[rport]!, rport);
      return 0;
    }
    case ECS_IPI:
      notifyPort(d, ports.notifyVcpu[port]!, port);
      return 0;
    case ECS_UNBOUND:
      return 0; // dropped: bind_interdomain makes up for it
    default:
      return -EINVAL;
  }
}

export interface EvtchnStatus {
  ret: number;
  status?: EvtchnStatName;
  vcpu?: number;
  u?: { unbound?: { dom: number }; interdomain?: { dom: number; port: number }; pirq?: number; virq?: number };
}

// EVTCHNOP_status
export function status(hv: EvtchnHost, caller: Domain, dom: number, port: number): EvtchnStatus {
  const d = lookup(hv, caller, dom);
  if (d === undefined) return { ret: -ESRCH };
  if (!portIsValid(d, port)) return { ret: -EINVAL };
  if (!mayActOn(caller, d)) return { ret: -EPERM };
  const ports = d.ports;
  const state = ports.state[port]!;
  const out: EvtchnStatus = { ret: 0, status: EVTCHNSTAT_NAMES[ECS_TO_EVTCHNSTAT[state]!]!, vcpu: ports.notifyVcpu[port]! };
  if (state === ECS_UNBOUND) out.u = { unbound: { dom: ports.remoteDom[port]! } };
  else if (state === ECS_INTERDOMAIN) out.u = { interdomain: { dom: ports.remoteDom[port]!, port: ports.remotePort[port]! } };
  else if (state === ECS_PIRQ) out.u = { pirq: ports.remotePort[port]! };
  else if (state === ECS_VIRQ) out.u = { virq: ports.remotePort[port]! };
  return out;
}

// EVTCHNOP_bind_vcpu: the vCPU is checked before the port.
export function bindVcpu(hv: EvtchnHost, d: Domain, port: number, vcpu: number): number {
  if (d.vcpus[vcpu] === undefined) return -ENOENT;
  if (!portIsValid(d, port)) return -EINVAL;
  const ports = d.ports;
  if (ports.xenConsumer[port] !== 0) return -EINVAL;
  switch (ports.state[port]) {
    case ECS_VIRQ:
      if (VIRQS[ports.remotePort[port]!]!.type === VIRQ_PER_VCPU) return -EINVAL;
      break;
    case ECS_UNBOUND:
    case ECS_INTERDOMAIN:
    case ECS_PIRQ:
      break;
    default:
      return -EINVAL;
  }
  if (ports.notifyVcpu[port] !== vcpu) {
    ports.notifyVcpu[port] = vcpu;
    tracePort(hv, d, port);
  }
  return 0;
}

// EVTCHNOP_unmask: a valid but unusable port is silently ignored.
export function unmask(d: Domain, port: number): number {
  if (!portIsValid(d, port)) return -EINVAL;
  if (portUsable(d, port)) d.ops.unmask(d, port);
  return 0;
}

/** Closes every port a guest could close, as evtchn_reset's loop does; returns how many remain. */
function closeAllGuestPorts(hv: EvtchnHost, d: Domain): number {
  const ports = d.ports;
  for (let port = 1; port < ports.valid; port++) {
    if (ports.state[port]! > ECS_RESERVED && ports.xenConsumer[port] === 0) close(hv, d, port, true);
  }
  let remaining = 0;
  for (let port = 1; port < ports.valid; port++) if (ports.state[port]! > ECS_RESERVED && ports.xenConsumer[port] === 0) remaining++;
  return remaining;
}

// EVTCHNOP_reset / reset_cont. Our reset never needs preempting, so reset_cont always finds none in progress.
export function reset(hv: EvtchnHost, caller: Domain, dom: number, cont: boolean): number {
  const d = lookup(hv, caller, dom);
  if (d === undefined) return -ESRCH;
  if (!mayActOn(caller, d)) return -EPERM;
  if (d !== caller && d.pauseCount === 0) return -EINVAL;
  if (cont) return -EBUSY;
  if (closeAllGuestPorts(hv, d) !== 0) return -EAGAIN; // raced with new binds
  if (d.ops === hv.opsFifo) fifoDestroy(hv, d);
  return 0;
}

/** Back to the 2-level ABI: FIFO state goes, as evtchn_fifo_destroy. */
function fifoDestroy(hv: EvtchnHost, d: Domain): void {
  d.fifoArray = null;
  for (const v of d.vcpus) v.fifo = null;
  d.ops = hv.ops2l;
}

// EVTCHNOP_init_control (event_fifo.c's evtchn_fifo_init_control)
export function initControl(hv: EvtchnHost, d: Domain, controlGfn: number, offset: number, vcpu: number): { ret: number; link_bits?: number } {
  const v = d.vcpus[vcpu];
  if (v === undefined) return { ret: -ENOENT };
  if (offset < 0 || offset > PAGE_SIZE - EVTCHN_FIFO_CONTROL_BLOCK_SIZE) return { ret: -EINVAL };
  if ((offset & 7) !== 0) return { ret: -EINVAL };
  const page = d.memory.frame(controlGfn);
  if (page === undefined) return { ret: -EINVAL }; // a bad gfn leaves the domain on 2-level
  const firstCall = d.ops !== hv.opsFifo;
  if (!firstCall && v.fifo?.controlPage) return { ret: -EINVAL };
  if (firstCall) {
    for (const each of d.vcpus) each.fifo = d.newFifoVcpu();
    d.fifoArray = [];
    // Ports pending under 2-level are carried over and raised when their page arrives.
    const ports = d.ports;
    for (let port = 1; port < ports.valid; port++) {
      ports.fifoStash[port] = hv.ops2l.isPending(d, port) ? 1 : 0;
      ports.priority[port] = EVTCHN_FIFO_PRIORITY_DEFAULT;
    }
    d.ops = hv.opsFifo;
  }
  const fv = v.fifo!;
  fv.controlPage = new Uint32Array(page.buffer, page.byteOffset, PAGE_SIZE >> 2);
  fv.controlIndex = offset >> 2;
  return { ret: 0, link_bits: EVTCHN_FIFO_LINK_BITS };
}

// EVTCHNOP_expand_array: add one event-word page, then re-raise stashed events in it.
export function expandArray(hv: EvtchnHost, d: Domain, arrayGfn: number): number {
  if (d.ops !== hv.opsFifo || d.fifoArray === null) return -EOPNOTSUPP;
  const array = d.fifoArray;
  if (array.length >= EVTCHN_FIFO_MAX_EVENT_ARRAY_PAGES) return -ENOSPC;
  const page = d.memory.frame(arrayGfn);
  if (page === undefined) return -EINVAL;
  array.push(new Uint32Array(page.buffer, page.byteOffset, PAGE_SIZE >> 2));
  const first = (array.length - 1) * EVTCHN_FIFO_EVENT_WORDS_PER_PAGE;
  const ports = d.ports;
  const end = Math.min(first + EVTCHN_FIFO_EVENT_WORDS_PER_PAGE, ports.valid);
  for (let port = first; port < end; port++) {
    if (ports.fifoStash[port] === 0) continue;
    ports.fifoStash[port] = 0;
    setPortPending(d, ports.notifyVcpu[port]!, port);
  }
  return 0;
}

// EVTCHNOP_set_priority
export function setPriority(hv: EvtchnHost, d: Domain, port: number, priority: number): number {
  if (!portIsValid(d, port)) return -EINVAL;
  if (d.ops !== hv.opsFifo) return -ENOSYS;
  if (!portUsable(d, port)) return -EACCES;
  if (!Number.isInteger(priority) || priority < 0 || priority > EVTCHN_FIFO_PRIORITY_MIN) return -EINVAL;
  d.ports.priority[port] = priority;
  return 0;
}

/** send_guest_vcpu_virq: a per-vCPU VIRQ; lost if nothing is bound. */
export function sendGuestVcpuVirq(hv: EvtchnHost, d: Domain, vcpu: number, virq: number): void {
  const port = d.vcpus[vcpu]!.virqToPort[virq]!;
  if (hv.trace.on) hv.trace.emit(TK.raise, d.domid, vcpu, port, RAISE_VIRQ, virq, 0);
  if (port !== 0) notifyPort(d, vcpu, port);
}

/** send_guest_domain_virq: a global or per-domain VIRQ, bound on vCPU 0, delivered to its notify vCPU. */
export function sendGuestDomainVirq(hv: EvtchnHost, d: Domain, virq: number): void {
  const port = d.vcpus[0]!.virqToPort[virq]!;
  const vcpu = port === 0 ? 0 : d.ports.notifyVcpu[port]!;
  if (hv.trace.on) hv.trace.emit(TK.raise, d.domid, vcpu, port, RAISE_VIRQ, virq, 0);
  if (port !== 0) notifyPort(d, vcpu, port);
}

/** send_global_virq: to the VIRQ's handler domain. */
export function sendGlobalVirq(hv: EvtchnHost, virq: number): void {
  const d = hv.domain(hv.virqHandler(virq));
  if (d !== undefined && !d.dying) sendGuestDomainVirq(hv, d, virq);
}

/** A physical IRQ fired for a domain: its bound port, if any, goes pending on its vCPU. */
export function sendGuestPirq(hv: EvtchnHost, d: Domain, pirq: number): number {
  const port = d.pirqToPort.get(pirq) ?? 0;
  const vcpu = port === 0 ? 0 : d.ports.notifyVcpu[port]!;
  if (hv.trace.on) hv.trace.emit(TK.raise, d.domid, vcpu, port, RAISE_PIRQ, pirq, 0);
  if (port !== 0) notifyPort(d, vcpu, port);
  return port;
}

/** evtchn_destroy: every port, highest first, closed as by Xen itself (guest=false). */
export function evtchnDestroy(hv: EvtchnHost, d: Domain): void {
  const ports = d.ports;
  for (let port = ports.valid - 1; port > 0; port--) {
    if (ports.state[port]! > ECS_RESERVED) close(hv, d, port, false);
  }
  if (d.ops === hv.opsFifo) fifoDestroy(hv, d);
}
