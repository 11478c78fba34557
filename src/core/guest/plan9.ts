/**
 * The story XenLab was born from: a Plan 9 kernel booting on Xen 2.0. It binds
 * its timer VIRQ, finds its control channel in start_info
 * (domain_controller_evtchn, as the 2004 Plan 9 builder wrote it), brings its
 * console up over the control interface (CMSG_CONSOLE through ctrl_if), prints
 * a boot banner and asks where root is; the answer typed into its console lets
 * the boot go on to a shell prompt. When xend asks it to shut down
 * (CMSG_SHUTDOWN), XenLinux 2.0's reboot.c logic (reboot_xen2.ts) answers,
 * halts in order and makes SCHEDOP_shutdown. Only the Xen-facing behaviour is modelled;
 * the banner is in Plan 9's style, not a transcript of a real boot.
 */
import { LineInput } from './line_input.js';
import * as xen2 from '../abi/xen2.js';
import type { Domain } from '../hv/domain.js';
import type { Hypervisor } from '../hv/hypervisor.js';
import { utf8 } from '../util/bytes.js';
import { GuestCtrlIf } from './ctrl_if.js';
import { DefaultKernel } from './kernel.js';
import { Xen2Reboot } from './reboot_xen2.js';
import { XenCons } from './xencons.js';

export const PLAN9_ROOT_PROMPT = 'root is from (local, tcp)[local]: ';

export class Plan9Kernel extends DefaultKernel {
  ctrlPort = 0;
  virqTimerPort = 0;
  ticks = 0;
  ctrl: GuestCtrlIf | undefined;
  cons: XenCons | undefined;
  /** The CMSG_SHUTDOWN receiver and the way down (XenLinux 2.0's reboot.c, reused). */
  reboot: Xen2Reboot | undefined;
  /** Where the boot is: waiting for the root answer, then at the rc prompt. */
  stage: 'booting' | 'root' | 'rc' | 'halting' = 'booting';
  private readonly lineInput = new LineInput((text) => this.print(text), (line) => this.onLine(line));

  constructor(hv: Hypervisor, d: Domain) {
    super(hv, d);
    if (d.xen !== '2.0') throw new RangeError('the plan9 kernel boots on Xen 2.0 (xen: "2.0")');
  }

  override boot(): void {
    super.boot(); // upcalls on
    const tp = this.call('bind_virq', { virq: xen2.VIRQ_TIMER });
    this.virqTimerPort = (tp.out?.port as number | undefined) ?? 0;
    this.ctrlPort = this.hv.domainControllerEvtchn(this.d);
    const ctrl = new GuestCtrlIf(this.d.sharedInfo, () => void this.send(this.ctrlPort), { trace: this.hv.trace, dom: this.d.domid });
    const cons = new XenCons(ctrl);
    this.ctrl = ctrl;
    this.cons = cons;
    this.reboot = new Xen2Reboot(this, ctrl, { cons, halting: (reason) => this.halting(reason) });
    cons.open((bytes) => this.lineInput.feed(bytes));
    const pages = this.d.memory.nrPages;
    this.print(
      `\nPlan 9 from Bell Labs on Xen 2.0\n` +
        `xen: ${pages} pages (${(pages * 4) >> 10}MB), shared_info at mfn ${this.hv.sharedInfoMfn(this.d).toString(16)}\n` +
        `evtchn: VIRQ_TIMER on port ${this.virqTimerPort}; control channel on port ${this.ctrlPort} (start_info.domain_controller_evtchn)\n` +
        `ctrl_if: console over the control interface, 60-byte CMSG_CONSOLE messages\n` +
        `cpu0: 1 vCPU, ${this.hv.xen === '2.0' ? 'Xen 2.0.0' : 'Xen'} paravirtual\n` +
        PLAN9_ROOT_PROMPT,
    );
    this.stage = 'root';
  }

  /** What Plan 9 prints going down when xend asks it to (poweroff 0, reboot 1). */
  private halting(reason: number): string {
    this.stage = 'halting';
    return `\nxen: the domain controller asks for a ${reason === 1 ? 'reboot' : 'power off'}\nfshalt: file systems halted\n${reason === 1 ? 'rebooting...' : 'power off'}\n`;
  }

  /** printk through the console driver ('\r' after every '\n'). */
  print(text: string): void {
    this.cons?.kernelWrite(utf8(text));
  }

  override onEvent(port: number, vcpu: number): void {
    super.onEvent(port, vcpu);
    if (port === this.ctrlPort) this.ctrl?.interrupt();
    else if (port === this.virqTimerPort) this.ticks++;
  }

  private onLine(line: string): void {
    if (this.stage === 'halting') return; // going down: nobody reads the console any more
    if (this.stage === 'root') {
      const root = line === '' ? 'local' : line;
      if (root !== 'local' && root !== 'tcp') {
        this.print(`boot: unknown root ${root}\n${PLAN9_ROOT_PROMPT}`);
        return;
      }
      this.stage = 'rc';
      this.print(
        root === 'local'
          ? `fossil: root from local disk, ${this.ticks} ticks since boot\ninit: starting /bin/rc\nterm% `
          : `ipconfig: no network device (the Xen 2.0 netif is not modelled)\ninit: starting /bin/rc\nterm% `,
      );
      return;
    }
    if (line === '') {
      this.print('term% ');
      return;
    }
    const [cmd, ...rest] = line.split(/\s+/);
    if (cmd === 'echo') this.print(`${rest.join(' ')}\n`);
    else if (cmd === 'date') this.print(`${(this.hv.now / 1e9).toFixed(3)}s since boot, ${this.ticks} timer ticks\n`);
    else this.print(`rc: ${cmd ?? ''}: file does not exist\n`);
    this.print('term% ');
  }
}

export function plan9Kernel() {
  return (hv: Hypervisor, d: Domain): Plan9Kernel => new Plan9Kernel(hv, d);
}
