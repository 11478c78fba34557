/**
 * Faults on notifications, for labs about races: the next deliveries to a
 * port are lost (the pending bit is never set, as if the notify never
 * happened) or late (set `by` ns later, as if the notify were held up).
 * A scenario arms them; the delivery paths (notifyPort, and Xen 2.0's) ask
 * the domain's table only when it has one, so an unarmed machine pays one
 * null check per notification. Each fault is a `fault` trace record.
 */
import { FAULT, FAULT_EVENT, TK, type Trace } from '../sim/trace.js';
import type { Domain } from './domain.js';
import { portUsable } from './event_channel.js';

/** What the faults need of the machine. */
export interface FaultHost {
  readonly trace: Trace;
  domain(domid: number): Domain | undefined;
  /** Runs `fn` `delayNs` of virtual time from now. */
  schedule(delayNs: number, fn: () => void): number;
}

export type PortFaultKind = 'drop_notify' | 'delay_notify';

interface Armed {
  readonly kind: PortFaultKind;
  /** Deliveries still to hit. */
  left: number;
  readonly by: number;
}

export class PortFaults {
  private readonly byPort = new Map<number, Armed[]>();

  constructor(private readonly hv: FaultHost) {}

  /** The faults still armed on `port`, oldest first. */
  armed(port: number): readonly { kind: PortFaultKind; left: number; by: number }[] {
    return this.byPort.get(port) ?? [];
  }

  add(port: number, f: Armed): void {
    const list = this.byPort.get(port);
    if (list === undefined) this.byPort.set(port, [f]);
    else list.push(f);
  }

  /**
   * A notification for `port` is being delivered: true when an armed fault
   * takes it (dropped, or held and set pending later).
   */
  intercept(d: Domain, vcpu: number, port: number): boolean {
    const list = this.byPort.get(port);
    if (list === undefined) return false;
    const f = list[0]!;
    f.left--;
    if (f.left === 0) {
      list.shift();
      if (list.length === 0) this.byPort.delete(port);
      if (this.byPort.size === 0) d.portFaults = null;
    }
    const trace = this.hv.trace;
    if (f.kind === 'drop_notify') {
      if (trace.on) trace.emit(TK.fault, d.domid, vcpu, port, FAULT.drop_notify, FAULT_EVENT.dropped, f.left);
      return true;
    }
    if (trace.on) trace.emit(TK.fault, d.domid, vcpu, port, FAULT.delay_notify, FAULT_EVENT.delayed, f.left, { delay: f.by });
    this.hv.schedule(f.by, () => {
      // evtchn_port_set_pending, late: only if the domain and its port are still there.
      if (this.hv.domain(d.domid) !== d || !portUsable(d, port)) return;
      if (trace.on) trace.emit(TK.fault, d.domid, vcpu, port, FAULT.delay_notify, FAULT_EVENT.delivered, 0);
      d.ops.setPending(d, d.vcpus[vcpu]!, port);
    });
    return true;
  }
}

/**
 * Arms a fault on the next `count` notifications to `port` of `d` (the
 * receiving end: the port whose pending bit Xen sets). `by`: delay_notify's
 * delay, ns.
 */
export function armPortFault(hv: FaultHost, d: Domain, port: number, kind: PortFaultKind, count: number, by = 0): void {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`count must be a whole number >= 1, not ${count}`);
  if (kind === 'delay_notify' && !(by >= 0)) throw new RangeError(`by must be >= 0 ns, not ${by}`);
  d.portFaults ??= new PortFaults(hv);
  d.portFaults.add(port, { kind, left: count, by });
  if (hv.trace.on) hv.trace.emit(TK.fault, d.domid, -1, port, FAULT[kind], FAULT_EVENT.armed, count, kind === 'delay_notify' ? { delay: by } : undefined);
}
