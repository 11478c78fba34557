/**
 * dom0's kernel under Xen 2.0 with xend running in it. When xend starts it
 * binds VIRQ_DOM_EXC (SrvDaemon.listenVirq), so it hears when a domain shuts
 * down. For each guest that uses the control interface, xend binds both ends
 * of its control channel (bind_interdomain naming dom0 and the guest, guest
 * end on port 1 as 2.0 xend asked), writes the guest's end into start_info,
 * and maps the guest's control rings; when dom0's end fires, xend handles one
 * batch. When VIRQ_DOM_EXC fires, xend reaps (XendDomain.reap): every domain
 * found shut down is logged with its reason and, unless it suspended,
 * destroyed with its control channel closed.
 */
import { DOMID_SELF } from '../abi/domid.js';
import * as xen2 from '../abi/xen2.js';
import { DefaultKernel } from '../guest/kernel.js';
import type { Domain } from '../hv/domain.js';
import type { Hypervisor } from '../hv/hypervisor.js';
import { DOM0_PROMPT, Dom0Shell } from './dom0_shell.js';
import { domainLogger } from './log.js';
import { Xend, type ConsoleClient, type ResponseHandler, type ShutdownReason } from './xend.js';

/** What reap did with one domain. */
export interface Reaped {
  readonly domid: number;
  readonly name: string;
  /** xend's name for the shutdown code: poweroff, reboot, suspend, or "?". */
  readonly reason: string;
  /** Destroyed (poweroff, reboot, other codes), or left for the save (suspend). */
  readonly destroyed: boolean;
}

export class Xen2Dom0Kernel extends DefaultKernel {
  readonly xend = new Xend();
  /** dom0's end of each control channel, to the guest's domid. */
  private readonly ctrlPorts = new Map<number, number>();
  /** The other way round: the guest's domid to dom0's end. */
  private readonly portOfDom = new Map<number, number>();
  /** What dom0 itself prints (to Xen's console in 2.0). */
  readonly console: string[] = [];
  /** dom0's port for VIRQ_DOM_EXC (xend's virq channel); 0 until bound. */
  domExcPort = 0;
  /** Every domain reap has dealt with, in order. */
  readonly reaped: Reaped[] = [];
  /** The lines dom0 and xend printed to Xen's console (xl dmesg). */
  readonly dmesgLines: string[] = [];
  /** The shell on dom0's console. */
  readonly shell: Dom0Shell;

  constructor(hv: Hypervisor, d: Domain) {
    super(hv, d);
    if (d.xen !== '2.0') throw new RangeError('xend is the Xen 2.0 control software (xen: "2.0")');
    this.shell = new Dom0Shell({
      hv,
      write: (t) => void this.console.push(t),
      shutdown: (g) => {
        if (!this.xend.has(g.domid)) return `${g.name} has no control channel (xend asks over it with CMSG_SHUTDOWN)`;
        this.shutdownDomain(g.domid, 'poweroff');
        return undefined;
      },
      destroy: (g) => (g.domid === 0 || g.dying ? this.hv.destroy(g) : this.destroyDomain(g)),
      dmesg: () => this.dmesgLines,
    });
  }

  /** A line to Xen's console (dom0's console in 2.0), kept for xl dmesg. */
  printk(line: string): void {
    // At a fresh prompt the line goes above it, and the prompt stays last.
    if (this.shell.atEmptyPrompt && this.console.at(-1) === DOM0_PROMPT) this.console.splice(this.console.length - 1, 0, line);
    else this.console.push(line);
    this.dmesgLines.push(line);
  }

  /** Upcalls on, then xend starts: channelFactory.virqChannel(VIRQ_DOM_EXC). */
  override boot(): void {
    super.boot();
    const r = this.call('bind_virq', { virq: xen2.VIRQ_DOM_EXC });
    if (r.ret < 0) throw new Error(`xend: bind_virq(VIRQ_DOM_EXC) failed: ${r.ret}`);
    this.domExcPort = r.out!.port as number;
    this.dmesgLines.push(`xend: listening for VIRQ_DOM_EXC on port ${this.domExcPort}\n`);
    this.shell.start();
  }

  /** createDomChannel before the guest boots: returns dom0's end, or a negated errno. */
  createControlChannel(guest: Domain, client?: ConsoleClient): number {
    const r = this.call('bind_interdomain', { dom1: DOMID_SELF, dom2: guest.domid, port1: 0, port2: 1 });
    if (r.ret < 0) return r.ret;
    const local = r.out!.port1 as number;
    const remote = r.out!.port2 as number;
    this.hv.setDomainControllerEvtchn(guest, remote);
    const ch = this.xend.createDomChannel(guest.domid, guest.sharedInfo, () => void this.send(local), { trace: this.hv.trace });
    if (client !== undefined) ch.console.connect(client);
    this.ctrlPorts.set(local, guest.domid);
    this.portOfDom.set(guest.domid, local);
    this.printk(`xend: domain ${guest.domid} (${guest.name}): control channel dom0:${local} <-> ${guest.name}:${remote}, console on tcp port ${ch.console.consolePort}\n`);
    return local;
  }

  /** dom0's end of a guest's control channel, or undefined. */
  controlPort(domid: number): number | undefined {
    return this.portOfDom.get(domid);
  }

  /**
   * xm shutdown (XendDomain.domain_shutdown → DomainController.shutdown):
   * CMSG_SHUTDOWN over the guest's control channel. Returns the request's id;
   * throws if the domain has no channel. Restart policies are not modelled.
   */
  shutdownDomain(domid: number, reason: ShutdownReason, onResponse?: ResponseHandler): number {
    return this.xend.shutdown(domid, reason, onResponse);
  }

  /**
   * A fault for labs about back-pressure: xend stops serving domain `domid`'s
   * control channel for `ns` of virtual time, as a descheduled xend would:
   * the channel's notifications are ignored (its console output, its replies
   * wait on the control rings), and when the time is up xend runs and takes
   * what waits. Returns dom0's port it stalled, or why it cannot.
   */
  stallBackend(backend: string, domid: number, ns: number): number[] | string {
    if (backend !== 'xend') return `dom0 runs xend on Xen 2.0: the console and every other message travel on the control channel, so stall backend: xend`;
    const port = this.portOfDom.get(domid);
    if (port === undefined) return `domain ${domid} has no control channel to xend (only kernel: plan9 guests have one)`;
    this.stallPorts([port], ns, backend);
    return [port];
  }

  override onEvent(port: number, vcpu: number): void {
    super.onEvent(port, vcpu);
    if (!this.stalled(port)) this.route(port);
  }

  /** A stalled backend runs again: its drivers, then its daemons, see the port. */
  protected override resumePort(port: number, vcpu: number): void {
    super.resumePort(port, vcpu);
    this.route(port);
  }

  /** dom0's ends of guests' channels to the software serving them. */
  private route(port: number): void {
    if (port === this.domExcPort) {
      // VirqClient.virqReceived injects 'xend.virq', which the event server
      // delivers from the reactor afterwards: reap runs once this batch of
      // notifications is handled, so a dying guest's last console output is read first.
      this.hv.schedule(0, () => this.reap());
      return;
    }
    const dom = this.ctrlPorts.get(port);
    if (dom !== undefined) this.xend.notification(dom);
  }

  /**
   * XendDomain.reap: every domain (dom0 aside) that has shut down is logged
   * with xend's name for its reason. A suspended one is left for the save
   * (not modelled: it stays shut down until destroyed, and each later reap
   * reports it again, as xend's did); any other is destroyed
   * (final_domain_destroy). Crashed domains are not modelled.
   */
  reap(): Reaped[] {
    const out: Reaped[] = [];
    for (const d of this.hv.domains) {
      if (d.domid === 0 || d.state !== 'shutdown') continue;
      const log = domainLogger(this.xend.log, d.domid);
      const reason = xen2.XEN2_SHUTDOWN_REASON_NAMES[d.shutdownCode] ?? '?';
      log('reap', `reap: domain died name=${d.name} id=${d.domid}; shutdown reason=${reason}`);
      let destroyed = false;
      if (reason === 'suspend') {
        log('reap', `reap: domain ${d.domid} suspended; left for the save`);
        this.printk(`xend: domain ${d.domid} (${d.name}) suspended\n`);
      } else {
        this.destroyDomain(d);
        destroyed = true;
        this.printk(`xend: domain ${d.domid} (${d.name}) shut down (${reason}): destroyed\n`);
      }
      const r: Reaped = { domid: d.domid, name: d.name, reason, destroyed };
      out.push(r);
      this.reaped.push(r);
    }
    return out;
  }

  /**
   * final_domain_destroy → XendDomainInfo.destroy: the control channel is
   * closed (its devices go with it, and dropping xu.port closes dom0's end),
   * then the domain is destroyed. Returns the destroy's result.
   */
  destroyDomain(d: Domain): number {
    const log = domainLogger(this.xend.log, d.domid);
    log('reap', `Destroying domain: name=${d.name}`);
    this.closeControlChannel(d.domid);
    return this.hv.destroy(d);
  }

  /** Close xend's channel to a domain and dom0's end of it (xu_port_dealloc's evtchn close). */
  closeControlChannel(domid: number): void {
    if (this.xend.has(domid)) this.xend.closeDomChannel(domid);
    const local = this.portOfDom.get(domid);
    if (local === undefined) return;
    this.portOfDom.delete(domid);
    this.ctrlPorts.delete(local);
    this.call('close', { dom: DOMID_SELF, port: local });
  }
}

export function xen2Dom0Kernel() {
  return (hv: Hypervisor, d: Domain): Xen2Dom0Kernel => new Xen2Dom0Kernel(hv, d);
}
