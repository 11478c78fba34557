/**
 * The default guest kernel: enables upcalls on every vCPU at boot, switches
 * to FIFO when asked (init_control per vCPU, event-array pages on demand, as
 * Linux does), and on each upcall runs the dispatch loop of its current ABI,
 * counting deliveries per port. Under Xen 2.0 it runs XenLinux 2.0's loop.
 */
import type { Domain } from '../hv/domain.js';
import type { Hypervisor } from '../hv/hypervisor.js';
import { handleEvents2l } from './events_2l.js';
import { handleEventsFifo } from './events_fifo.js';
import { evtchnDoUpcallXen2 } from './events_xen2.js';
import { Guest } from './guest.js';

export type EventAbi = '2l' | 'fifo';

export class DefaultKernel extends Guest {
  /** The upcall handler of this domain's Xen, picked once. */
  private readonly dispatch: (vcpu: number) => void;

  constructor(hv: Hypervisor, d: Domain, private readonly abi: EventAbi = '2l') {
    super(hv, d);
    if (d.xen === '2.0') {
      if (abi !== '2l') throw new RangeError('Xen 2.0 has only the 2-level event ABI');
      this.dispatch = () => evtchnDoUpcallXen2(this);
    } else this.dispatch = (vcpu) => this.upcallLinux(vcpu);
  }

  boot(): void {
    if (this.abi === 'fifo') this.initFifo();
    for (let v = 0; v < this.d.vcpus.length; v++) this.setUpcallMask(v, false);
  }

  /** xen_evtchn_fifo_init: a control block per vCPU, then the first page of event words. */
  private initFifo(): void {
    for (let v = 0; v < this.d.vcpus.length; v++) {
      const r = this.call('init_control', { control_gfn: this.allocKernelPage(), offset: 0, vcpu: v });
      if (r.ret !== 0) throw new Error(`init_control failed: ${r.ret}`);
    }
    this.ensureEventWords(1);
  }

  /** Adds event-array pages until `port` has a word (evtchn_fifo_setup). */
  private ensureEventWords(port: number): void {
    const array = this.d.fifoArray;
    if (array === null) return;
    while (array.length * 1024 <= port) {
      if (this.call('expand_array', { array_gfn: this.allocKernelPage() }).ret !== 0) return;
    }
  }

  override afterHypercall(op: string, args: Readonly<Record<string, unknown>>, ret: number, out: Readonly<Record<string, unknown>> | undefined): void {
    super.afterHypercall(op, args, ret, out);
    if (ret < 0 || this.d.ops.name !== 'fifo') return;
    const port = (out?.port ?? out?.local_port) as number | undefined;
    if (port !== undefined) this.ensureEventWords(port);
  }

  upcall(vcpu: number): void {
    this.dispatch(vcpu);
  }

  // xen_evtchn_do_upcall: clear upcall_pending before each scan; loop while it was set again.
  private upcallLinux(vcpu: number): void {
    const v = this.d.vcpus[vcpu]!;
    do {
      this.clearUpcallPending(vcpu);
      if (this.d.ops.name === 'fifo') handleEventsFifo(this, vcpu);
      else handleEvents2l(this, vcpu);
    } while (v.upcallPending !== 0);
  }
}

/** Kernel factory for Hypervisor.createDomain. */
export function defaultKernel(abi: EventAbi = '2l') {
  return (hv: Hypervisor, d: Domain): DefaultKernel => new DefaultKernel(hv, d, abi);
}
