/**
 * What the topology view writes about domains and ports: a port's label
 * (what the guest uses it for, else what its EVTCHNSTAT state says), its
 * other end, where its events come from, and one sentence for screen
 * readers and tooltips. Pure: no DOM.
 */
import type { DomainState, Topology, TopologyDomain, TopologyPort } from '../../../../contract/session.js';

/** Where a port's events come from: another domain's send, Xen (a VIRQ), hardware (a PIRQ), the domain itself (an IPI). */
export type PortSource = 'channel' | 'xen' | 'hardware' | 'ipi' | 'none';

export function portSource(p: TopologyPort): PortSource {
  switch (p.state) {
    case 'interdomain':
      return 'channel';
    case 'virq':
      return 'xen';
    case 'pirq':
      return 'hardware';
    case 'ipi':
      return 'ipi';
    default:
      return 'none';
  }
}

/** The short badge drawn before a port's label for the sources that are not a channel. */
export const SOURCE_BADGE: Partial<Record<PortSource, { text: string; title: string }>> = {
  xen: { text: 'Xen', title: 'a VIRQ: Xen raises it (send_guest_vcpu_virq / send_guest_global_virq)' },
  hardware: { text: 'IRQ', title: 'a PIRQ: a physical interrupt raises it (send_guest_pirq)' },
  ipi: { text: 'IPI', title: "an IPI: the domain's own vCPUs send it to each other (EVTCHNOP_send on an ECS_IPI port)" },
};

/** A domain's name as the diagram refers to it: its name, or "dom7" when the topology does not know it. */
export function domainName(t: Topology | undefined, domid: number): string {
  return t?.domains.find((d) => d.domid === domid)?.name ?? `dom${domid}`;
}

/** The label a port row shows: the guest's use when known ("control channel", "VIRQ_TIMER"), else its state. */
export function portLabel(p: TopologyPort): string {
  if (p.label !== undefined) return p.label;
  switch (p.state) {
    case 'interdomain':
      return 'interdomain';
    case 'unbound':
      return 'unbound';
    case 'virq':
      return `VIRQ ${p.virq ?? '?'}`;
    case 'pirq':
      return `PIRQ ${p.pirq ?? '?'}`;
    case 'ipi':
      return `to vCPU ${p.vcpu}`;
    default:
      return p.state;
  }
}

/** The other end, as the row's right-hand text: "dom0:2", "for guest" (unbound), "" when it has none. */
export function peerText(p: TopologyPort, nameOf: (domid: number) => string): string {
  if (p.state === 'interdomain' && p.remoteDom !== undefined) return `${nameOf(p.remoteDom)}:${p.remotePort ?? '?'}`;
  if (p.state === 'unbound' && p.remoteDom !== undefined) return `for ${nameOf(p.remoteDom)}`;
  if (p.state === 'pirq' && p.label !== undefined && p.pirq !== undefined) return `PIRQ ${p.pirq}`;
  return '';
}

/** One sentence about a port: its state, other end, use, bits (aria-label, tooltip). */
export function portSentence(d: TopologyDomain, p: TopologyPort, nameOf: (domid: number) => string): string {
  const parts = [`port ${p.port} of ${d.name}`];
  switch (p.state) {
    case 'interdomain':
      parts.push(`interdomain, connected to ${nameOf(p.remoteDom ?? -1)} port ${p.remotePort ?? '?'}`);
      break;
    case 'unbound':
      parts.push(`unbound, waiting for ${nameOf(p.remoteDom ?? -1)} to bind it`);
      break;
    case 'virq':
      parts.push(`bound to ${p.label ?? `VIRQ ${p.virq}`}, raised by Xen`);
      break;
    case 'pirq':
      parts.push(`bound to physical IRQ ${p.pirq ?? '?'}`);
      break;
    case 'ipi':
      parts.push('an IPI between its vCPUs');
      break;
    default:
      parts.push(p.state);
  }
  if (p.label !== undefined && p.state !== 'virq') parts.push(p.label);
  if (d.vcpus > 1) parts.push(`notifies vCPU ${p.vcpu}`);
  parts.push(p.pending ? 'pending' : 'not pending');
  if (p.masked) parts.push('masked');
  return parts.join(', ');
}

export const DOMAIN_STATE_TEXT: Record<DomainState, string> = {
  running: 'running',
  paused: 'paused',
  shutdown: 'shut down',
  dying: 'dying',
  destroyed: 'destroyed',
};

/** The second line of a domain's header: "2L · 2 vCPUs · 4 ports · minios" (the kernel last: it may be long). */
export function domainMeta(d: TopologyDomain): string {
  const ports = shownPorts(d).length;
  return [d.abi === 'fifo' ? 'FIFO' : '2L', `${d.vcpus} vCPU${d.vcpus === 1 ? '' : 's'}`, `${ports} port${ports === 1 ? '' : 's'}`, d.kernel].join(' · ');
}

/** The ports a domain box lists: all but the reserved port 0 (it never carries an event). */
export function shownPorts(d: TopologyDomain): TopologyPort[] {
  return d.ports.filter((p) => p.state !== 'reserved');
}

/** A collapsed domain's one line: "5 ports · 1 pending · 1 masked". */
export function portSummary(d: TopologyDomain): string {
  const ports = shownPorts(d);
  const pending = ports.filter((p) => p.pending).length;
  const masked = ports.filter((p) => p.masked).length;
  const parts = [ports.length === 0 ? 'no ports' : `${ports.length} port${ports.length === 1 ? '' : 's'}`];
  if (pending > 0) parts.push(`${pending} pending`);
  if (masked > 0) parts.push(`${masked} masked`);
  return parts.join(' · ');
}

/** "1.2k/s" for an edge's rate. */
export function rateText(perSecond: number): string {
  if (perSecond >= 9950) return `${(perSecond / 1000).toFixed(0)}k/s`;
  if (perSecond >= 1000) return `${(perSecond / 1000).toFixed(1)}k/s`;
  return `${Math.round(perSecond)}/s`;
}
