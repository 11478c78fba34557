/**
 * portStatus: what EVTCHNOP_status (event_channel.c's evtchn_status) says of
 * a port, with the pending and mask bits behind it (FIFO: the event word's
 * P and M, its priority and whether it is linked on a queue).
 */
import type { PortStatus } from '../../contract/inspect.js';
import { ECS_INTERDOMAIN, ECS_PIRQ, ECS_TO_EVTCHNSTAT, ECS_UNBOUND, ECS_VIRQ, EVTCHNSTAT_NAMES, FIFO_L, FIFO_M, FIFO_P } from '../../core/abi/evtchn.js';
import type { Domain } from '../../core/hv/domain.js';
import { eventPage } from '../../core/hv/event_fifo.js';
import type { Hypervisor } from '../../core/hv/hypervisor.js';
import { domainOf } from './inspect.js';

/** The port's bits as the guest's shared memory holds them. FIFO without an event word: not pending, masked (is_masked). */
export function portBits(d: Domain, port: number): { pending: boolean; masked: boolean; linked: boolean; word: number | undefined } {
  if (d.ops.name === 'fifo') {
    const page = eventPage(d, port);
    if (page === undefined) return { pending: false, masked: true, linked: false, word: undefined };
    const w = page[port & 1023]!;
    return { pending: (w & FIFO_P) !== 0, masked: (w & FIFO_M) !== 0, linked: (w & FIFO_L) !== 0, word: w >>> 0 };
  }
  if (port >= d.layout.nrPorts) return { pending: false, masked: true, linked: false, word: undefined };
  return { pending: d.ops.isPending(d, port), masked: d.ops.isMasked(d, port), linked: false, word: undefined };
}

/** Throws a RangeError for a port the domain has no storage for (EVTCHNOP_status's -EINVAL). */
export function checkPort(d: Domain, port: number): void {
  if (!Number.isInteger(port) || port < 0 || port >= d.ports.valid) {
    throw new RangeError(`port ${String(port)} is not valid in ${d.name} (EVTCHNOP_status would return -EINVAL): it has ports 0..${d.ports.valid - 1}`);
  }
}

export function portStatus(hv: Hypervisor, domid: number, port: number): PortStatus {
  const d = domainOf(hv, domid);
  checkPort(d, port);
  const ports = d.ports;
  const state = ports.state[port]!;
  const bits = portBits(d, port);
  const detail: Record<string, number> = {};
  // The status union's members by their last name: u.unbound.dom, u.interdomain.dom/.port, u.virq, u.pirq.
  if (state === ECS_UNBOUND) detail.dom = ports.remoteDom[port]!;
  else if (state === ECS_INTERDOMAIN) {
    detail.dom = ports.remoteDom[port]!;
    detail.port = ports.remotePort[port]!;
  } else if (state === ECS_VIRQ) detail.virq = ports.remotePort[port]!;
  else if (state === ECS_PIRQ) detail.pirq = ports.remotePort[port]!;
  const out: PortStatus = {
    domid: d.domid,
    port,
    status: EVTCHNSTAT_NAMES[ECS_TO_EVTCHNSTAT[state]!]!,
    // Xen 2.0.0's status has no vcpu field: its one vCPU is 0.
    vcpu: d.xen === '2.0' ? 0 : ports.notifyVcpu[port]!,
    pending: bits.pending,
    masked: bits.masked,
    detail,
  };
  if (d.ops.name === 'fifo') {
    out.priority = ports.priority[port]!;
    out.linked = bits.linked;
  }
  return out;
}
