/**
 * The event ABI behind one interface, as Xen's struct evtchn_port_ops:
 * 2-level (event_2l.ts) and FIFO (event_fifo.ts).
 */
import type { Domain, Vcpu } from './domain.js';

export interface PortOps {
  readonly name: '2l' | 'fifo';
  /** Ports the ABI can address (max_evtchns). */
  readonly maxPorts: number;
  /** Marks `port` pending and notifies `v` as the ABI says. The port is usable. */
  setPending(d: Domain, v: Vcpu, port: number): void;
  /** Clears the pending state of a port being freed. */
  clearPending(d: Domain, port: number): void;
  /** EVTCHNOP_unmask on a usable port. */
  unmask(d: Domain, port: number): void;
  isPending(d: Domain, port: number): boolean;
  isMasked(d: Domain, port: number): boolean;
  /** FIFO: the event word is still linked, so the port cannot be reused yet. */
  isBusy(d: Domain, port: number): boolean;
}
