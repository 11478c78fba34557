/**
 * The guest's half of a Xen 2.0 shutdown, as XenLinux 2.0's reboot.c
 * (linux-2.6.9-xen-sparse/arch/xen/kernel/reboot.c at 2.0.0), for any guest
 * that runs the control interface (ctrl_if) and wants to be shut down by xend:
 *
 *  1. The CMSG_SHUTDOWN receiver runs in the rx tasklet (registered with
 *     flags 0). If no shutdown is under way and the subtype is poweroff (0),
 *     reboot (1) or suspend (2), it records the subtype and schedules the
 *     work; otherwise it prints "Ignore spurious shutdown request". Either
 *     way it answers at once by echoing the request (length 0).
 *  2. The work runs in process context some time later (keventd, then the
 *     system's own halt or shutdown program: a delay on the virtual clock).
 *     Poweroff and reboot: the system prints what it prints going down, then
 *     machine_power_off / machine_restart force-flush the console (upcalls
 *     blocked, the responses reaped by hand) and make
 *     sched_op(SCHEDOP_shutdown | reason << 8). Suspend: __do_suspend blocks
 *     upcalls and makes the same hypercall with SHUTDOWN_suspend, with no
 *     console flush. (The suspend record, the device suspend/resume order and
 *     the resume itself are not modelled: a suspended domain stays shut down.)
 *
 * Xen then records the reason, stops the domain and raises VIRQ_DOM_EXC in
 * dom0, where xend reaps it (tools/dom0.ts).
 */
import { CMSG_SHUTDOWN, CMSG_SHUTDOWN_POWEROFF, CMSG_SHUTDOWN_REBOOT, CMSG_SHUTDOWN_SUSPEND, SHUTDOWN_poweroff, SHUTDOWN_reboot, SHUTDOWN_suspend, type CtrlMsg } from '../abi/ctrl_if.js';
import { utf8 } from '../util/bytes.js';
import type { GuestCtrlIf } from './ctrl_if.js';
import type { Guest } from './guest.js';
import type { XenCons } from './xencons.js';

/** shutting_down when no shutdown is under way. */
export const NOT_SHUTTING_DOWN = -1;
/** Default time from an accepted request to the final hypercall (keventd and the halt program), ns. */
export const DEFAULT_SHUTDOWN_DELAY_NS = 10_000_000;
/** The console flush spins for the controller: first poll after 1 µs, doubling up to 1 ms. */
const SPIN_FIRST_NS = 1_000;
const SPIN_MAX_NS = 1_000_000;
/** A paused guest runs nothing: the work looks again this often until it is unpaused. */
const PAUSED_RETRY_NS = 1_000_000;

export interface Xen2RebootOptions {
  /** The console driver: printk goes through it, and it is force-flushed before a poweroff or reboot. */
  cons?: XenCons;
  /** Virtual time from accepting a request to the final hypercall; default 10 ms. */
  delayNs?: number;
  /** What the system prints on its way down (its halt or reboot program), before the flush; default nothing. */
  halting?: (reason: number) => string;
}

/** What the module did, for inspection and tests. */
export type RebootStage = 'idle' | 'requested' | 'flushing' | 'done';

export class Xen2Reboot {
  /** shutting_down: -1, or the CMSG_SHUTDOWN subtype being carried out. */
  shuttingDown = NOT_SHUTTING_DOWN;
  stage: RebootStage = 'idle';
  /** Requests answered, and how many of them were ignored as spurious. */
  requests = 0;
  ignored = 0;
  /** The ret of the final sched_op, once made. */
  hypercallRet: number | undefined;
  private readonly cons: XenCons | undefined;
  private readonly delayNs: number;
  private readonly halting: ((reason: number) => string) | undefined;
  private spinNs = SPIN_FIRST_NS;

  /** setup_shutdown_event: register the CMSG_SHUTDOWN receiver in interrupt context. */
  constructor(
    private readonly kernel: Guest,
    private readonly ctrl: GuestCtrlIf,
    opts: Xen2RebootOptions = {},
  ) {
    this.cons = opts.cons;
    this.delayNs = opts.delayNs ?? DEFAULT_SHUTDOWN_DELAY_NS;
    this.halting = opts.halting;
    ctrl.registerReceiver(CMSG_SHUTDOWN, this.handler, 0);
  }

  /** printk: through the console driver when there is one. */
  private printk(text: string): void {
    this.cons?.kernelWrite(utf8(text));
  }

  /** shutdown_handler: accept or ignore, then echo the request as the response. */
  private readonly handler = (msg: CtrlMsg): void => {
    this.requests++;
    const st = msg.subtype;
    if (this.shuttingDown === NOT_SHUTTING_DOWN && (st === CMSG_SHUTDOWN_POWEROFF || st === CMSG_SHUTDOWN_REBOOT || st === CMSG_SHUTDOWN_SUSPEND)) {
      this.shuttingDown = st;
      this.stage = 'requested';
      this.kernel.hv.schedule(this.delayNs, this.work); // schedule_work(&shutdown_work)
    } else {
      this.ignored++;
      this.printk('Ignore spurious shutdown request\n');
    }
    this.ctrl.sendResponse(msg);
  };

  /** __shutdown_handler, and what it starts, once the domain's vCPU runs again. */
  private readonly work = (): void => {
    const d = this.kernel.d;
    if (d.state !== 'running') return; // shut down or destroyed meanwhile: nothing runs any more
    if (d.pauseCount > 0) {
      this.kernel.hv.schedule(PAUSED_RETRY_NS, this.work);
      return;
    }
    if (this.shuttingDown === CMSG_SHUTDOWN_SUSPEND) {
      // __do_suspend: __cli(), devices and ctrl_if suspended, then HYPERVISOR_suspend.
      this.kernel.setUpcallMask(0, true);
      this.finish(SHUTDOWN_suspend);
      return;
    }
    // shutdown_process: /sbin/halt -p or /sbin/shutdown -r now, then sys_reboot → machine_power_off / machine_restart.
    const text = this.halting?.(this.shuttingDown);
    if (text !== undefined && text !== '') this.printk(text);
    this.kernel.setUpcallMask(0, true); // xencons_force_flush's cli(): nothing is delivered from here on
    this.stage = 'flushing';
    this.spinNs = SPIN_FIRST_NS;
    this.flushThenHalt();
  };

  /** xencons_force_flush (spinning on the virtual clock while the ring is full), then the hypercall. */
  private readonly flushThenHalt = (): void => {
    const d = this.kernel.d;
    if (d.state !== 'running') return;
    if (this.cons !== undefined && !this.cons.forceFlush()) {
      this.kernel.hv.schedule(this.spinNs, this.flushThenHalt);
      this.spinNs = Math.min(this.spinNs * 2, SPIN_MAX_NS);
      return;
    }
    this.finish(this.shuttingDown === CMSG_SHUTDOWN_REBOOT ? SHUTDOWN_reboot : SHUTDOWN_poweroff);
  };

  /** HYPERVISOR_shutdown / HYPERVISOR_reboot / HYPERVISOR_suspend: sched_op(SCHEDOP_shutdown | reason << 8). */
  private finish(reason: number): void {
    this.stage = 'done';
    this.hypercallRet = this.kernel.call('sched_shutdown', { reason }).ret;
  }
}
