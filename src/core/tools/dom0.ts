/**
 * dom0's kernel under Xen 2.0 with xend running in it: for each guest that
 * uses the control interface, xend binds both ends of its control channel
 * (bind_interdomain naming dom0 and the guest, guest end on port 1 as 2.0
 * xend asked), writes the guest's end into start_info, and maps the guest's
 * control rings; when dom0's end fires, xend handles one batch.
 */
import { DOMID_SELF } from '../abi/domid.js';
import { DefaultKernel } from '../guest/kernel.js';
import type { Domain } from '../hv/domain.js';
import type { Hypervisor } from '../hv/hypervisor.js';
import { Xend, type ConsoleClient } from './xend.js';

export class Xen2Dom0Kernel extends DefaultKernel {
  readonly xend = new Xend();
  /** dom0's end of each control channel, to the guest's domid. */
  private readonly ctrlPorts = new Map<number, number>();
  /** What dom0 itself prints (to Xen's console in 2.0). */
  readonly console: string[] = [];

  constructor(hv: Hypervisor, d: Domain) {
    super(hv, d);
    if (d.xen !== '2.0') throw new RangeError('xend is the Xen 2.0 control software (xen: "2.0")');
  }

  /** createDomChannel before the guest boots: returns dom0's end, or a negated errno. */
  createControlChannel(guest: Domain, client?: ConsoleClient): number {
    const r = this.call('bind_interdomain', { dom1: DOMID_SELF, dom2: guest.domid, port1: 0, port2: 1 });
    if (r.ret < 0) return r.ret;
    const local = r.out!.port1 as number;
    const remote = r.out!.port2 as number;
    this.hv.setDomainControllerEvtchn(guest, remote);
    const ch = this.xend.createDomChannel(guest.domid, guest.sharedInfo, () => void this.send(local));
    if (client !== undefined) ch.console.connect(client);
    this.ctrlPorts.set(local, guest.domid);
    this.console.push(`xend: domain ${guest.domid} (${guest.name}): control channel dom0:${local} <-> ${guest.name}:${remote}, console on tcp port ${ch.console.consolePort}\n`);
    return local;
  }

  override onEvent(port: number, vcpu: number): void {
    super.onEvent(port, vcpu);
    const dom = this.ctrlPorts.get(port);
    if (dom !== undefined) this.xend.notification(dom);
  }
}

export function xen2Dom0Kernel() {
  return (hv: Hypervisor, d: Domain): Xen2Dom0Kernel => new Xen2Dom0Kernel(hv, d);
}
