/**
 * What a check (and an until's port condition) compares of a port: its state,
 * notify vCPU, FIFO priority, the kernel's delivery count, and its pending,
 * masked and FIFO linked bits as the domain's ABI keeps them.
 */
import { ECS_NAMES, FIFO_L } from '../core/abi/evtchn.js';
import type { Domain } from '../core/hv/domain.js';
import { portIsValid } from '../core/hv/event_channel.js';
import { eventPage } from '../core/hv/event_fifo.js';

export const PORT_FACT_KEYS = ['state', 'vcpu', 'priority', 'delivered', 'pending', 'masked', 'linked'] as const;
export type PortFactKey = (typeof PORT_FACT_KEYS)[number];

/** A kernel that counts deliveries per port (every kernel built on the guest library). */
interface Counting {
  deliveries(port: number): number;
}

/** One fact of a port, read straight from the domain (no allocation). */
export function portFact(d: Domain, port: number, key: PortFactKey): string | number | boolean {
  const valid = portIsValid(d, port);
  switch (key) {
    case 'state':
      return valid ? ECS_NAMES[d.ports.state[port]!]! : 'free';
    case 'vcpu':
      return valid ? d.ports.notifyVcpu[port]! : 0;
    case 'priority':
      return valid ? d.ports.priority[port]! : 7;
    case 'delivered':
      return (d.kernel as unknown as Counting | null)?.deliveries(port) ?? 0;
    case 'pending':
      if (d.ops.name === 'fifo') return eventPage(d, port) !== undefined && d.ops.isPending(d, port);
      return port < d.ops.maxPorts && d.ops.isPending(d, port);
    case 'masked':
      if (d.ops.name === 'fifo') return eventPage(d, port) === undefined || d.ops.isMasked(d, port);
      return port >= d.ops.maxPorts || d.ops.isMasked(d, port);
    case 'linked': {
      if (d.ops.name !== 'fifo') return false;
      const page = eventPage(d, port);
      return page !== undefined && (page[port & 1023]! & FIFO_L) !== 0;
    }
  }
}

/** Every fact of a port, for a check and for messages. */
export function portFacts(d: Domain, port: number): Record<PortFactKey, string | number | boolean> {
  const out = {} as Record<PortFactKey, string | number | boolean>;
  for (const k of PORT_FACT_KEYS) out[k] = portFact(d, port, k);
  return out;
}
