/**
 * A domain's event-channel port structures (struct evtchn in sched.h), kept
 * as columns of typed arrays. Storage grows in buckets of 64 ports as Xen's
 * does, so memory follows the ports in use; `valid` is Xen's valid_evtchns.
 */
import { ECS_FREE, ECS_RESERVED, EVTCHNS_PER_BUCKET, EVTCHN_FIFO_PRIORITY_DEFAULT } from '../abi/evtchn.js';

export class PortTable {
  /** Ports with storage: a port p is valid iff p < valid (port_is_valid). */
  valid = 0;
  /** Non-free ports, port 0 excepted (active_evtchns). */
  active = 0;
  /** Every port below this one is not FREE: where the search for a free port starts. */
  firstMaybeFree = 1;

  state = new Uint8Array(0);
  notifyVcpu = new Uint16Array(0);
  /** UNBOUND: the domain allowed to bind; INTERDOMAIN: the peer domain. */
  remoteDom = new Uint16Array(0);
  /** INTERDOMAIN: the peer's port; VIRQ: the virq; PIRQ: the pirq. */
  remotePort = new Uint32Array(0);
  priority = new Uint8Array(0);
  /** FIFO: pending but no event word yet (struct evtchn.pending). */
  fifoStash = new Uint8Array(0);
  /** FIFO: the queue the event was last linked on (fifo_lastq). */
  lastVcpu = new Uint16Array(0);
  lastPriority = new Uint8Array(0);
  /** Non-zero when Xen itself consumes this end (xen_consumer). */
  xenConsumer = new Uint8Array(0);

  /**
   * Today's table: the first bucket, port 0 reserved. With `initialPorts`
   * (Xen 2.0.0's INIT_EVENT_CHANNELS), exactly that many FREE ports, grown
   * later by growTo; the 2.0 code binds port 0 itself.
   */
  constructor(initialPorts?: number) {
    if (initialPorts !== undefined) {
      this.growTo(initialPorts);
      this.firstMaybeFree = 0;
      return;
    }
    this.allocateBucketsThrough(0);
    this.state[0] = ECS_RESERVED;
  }

  /** Gives storage to exactly the ports below `valid` (Xen 2.0.0's table, which doubles). */
  growTo(valid: number): void {
    if (valid <= this.valid) return;
    if (valid > this.state.length) this.resize(valid);
    for (let p = this.valid; p < valid; p++) {
      this.priority[p] = EVTCHN_FIFO_PRIORITY_DEFAULT;
      this.lastPriority[p] = EVTCHN_FIFO_PRIORITY_DEFAULT;
    }
    this.valid = valid;
  }

  /** Gives storage to every port up to and including `port`, bucket by bucket. */
  allocateBucketsThrough(port: number): void {
    const valid = (Math.floor(port / EVTCHNS_PER_BUCKET) + 1) * EVTCHNS_PER_BUCKET;
    if (valid <= this.valid) return;
    if (valid > this.state.length) this.resize(Math.max(valid, Math.min(this.state.length * 2, valid * 2)));
    for (let p = this.valid; p < valid; p++) {
      this.priority[p] = EVTCHN_FIFO_PRIORITY_DEFAULT;
      this.lastPriority[p] = EVTCHN_FIFO_PRIORITY_DEFAULT;
    }
    this.valid = valid;
  }

  /** Bytes of port storage held now. */
  bytes(): number {
    const n = this.state.length;
    return n * (1 + 2 + 2 + 4 + 1 + 1 + 2 + 1 + 1);
  }

  private resize(n: number): void {
    this.state = grow(this.state, new Uint8Array(n));
    this.notifyVcpu = grow(this.notifyVcpu, new Uint16Array(n));
    this.remoteDom = grow(this.remoteDom, new Uint16Array(n));
    this.remotePort = grow(this.remotePort, new Uint32Array(n));
    this.priority = grow(this.priority, new Uint8Array(n));
    this.fifoStash = grow(this.fifoStash, new Uint8Array(n));
    this.lastVcpu = grow(this.lastVcpu, new Uint16Array(n));
    this.lastPriority = grow(this.lastPriority, new Uint8Array(n));
    this.xenConsumer = grow(this.xenConsumer, new Uint8Array(n));
  }

  isFree(port: number): boolean {
    return this.state[port] === ECS_FREE;
  }
}

function grow<T extends Uint8Array | Uint16Array | Uint32Array>(old: T, bigger: T): T {
  bigger.set(old);
  return bigger;
}
