/**
 * The Xen 2.0 shutdown path end to end (reference 6.7 and 7.4; reboot.c and
 * XendDomain.reap at 2.0.0): sched_op(SCHEDOP_shutdown) in Xen, the guest's
 * CMSG_SHUTDOWN receiver and orderly halt, xencons_force_flush, and xend's
 * VIRQ_DOM_EXC binding and reap — on the real machine.
 */
import { describe, expect, it } from 'vitest';
import { CMSG_SHUTDOWN, CMSG_SHUTDOWN_POWEROFF, ctrlMsg, type CtrlMsg } from '../../src/core/abi/ctrl_if.js';
import { ENOSYS } from '../../src/core/abi/errno.js';
import * as xen2 from '../../src/core/abi/xen2.js';
import { GuestCtrlIf } from '../../src/core/guest/ctrl_if.js';
import { DefaultKernel } from '../../src/core/guest/kernel.js';
import { Plan9Kernel, plan9Kernel } from '../../src/core/guest/plan9.js';
import { DEFAULT_SHUTDOWN_DELAY_NS, NOT_SHUTTING_DOWN, Xen2Reboot } from '../../src/core/guest/reboot_xen2.js';
import { XenCons } from '../../src/core/guest/xencons.js';
import type { Domain } from '../../src/core/hv/domain.js';
import { schedOpXen2 } from '../../src/core/hv/hypercall_xen2.js';
import { Hypervisor } from '../../src/core/hv/hypervisor.js';
import { TraceStore } from '../../src/core/sim/trace.js';
import { Xen2Dom0Kernel, xen2Dom0Kernel } from '../../src/core/tools/dom0.js';
import { utf8Decode } from '../../src/core/util/bytes.js';
import { bytesOf, consoleRig, textOf } from './ctrl_if_rig.js';
import { guest2, k2, newXen2, op2 } from './xen2_helpers.js';

/** A Xen 2.0 machine whose dom0 runs xend, with a collecting console client per guest. */
function machine() {
  const hv = new Hypervisor({ seed: 1, xen: '2.0' });
  const dom0 = hv.createDomain({ name: 'dom0' }, xen2Dom0Kernel());
  const x = dom0.kernel as Xen2Dom0Kernel;
  const outputs = new Map<number, number[]>();
  /** A guest with a control channel, booted with `kernel`. */
  const guest = (name: string, kernel: (hv: Hypervisor, d: Domain) => DefaultKernel = plan9Kernel()): Domain => {
    const d = hv.createDomain({ name });
    const out: number[] = [];
    outputs.set(d.domid, out);
    x.createControlChannel(d, {
      write(b) {
        for (const v of b) out.push(v);
        return b.length;
      },
    });
    hv.boot(d, kernel);
    return d;
  };
  const consoleText = (d: Domain): string => utf8Decode(Uint8Array.from(outputs.get(d.domid) ?? []));
  return { hv, dom0, x, guest, consoleText };
}

/** A guest kernel with ctrl_if, the console and the reboot module, whose halt prints `farewell`. */
class ChattyKernel extends DefaultKernel {
  ctrlPort = 0;
  ctrl!: GuestCtrlIf;
  cons!: XenCons;
  reboot!: Xen2Reboot;
  constructor(
    hv: Hypervisor,
    d: Domain,
    private readonly farewell: string,
  ) {
    super(hv, d);
  }
  override boot(): void {
    super.boot();
    this.ctrlPort = this.hv.domainControllerEvtchn(this.d);
    this.ctrl = new GuestCtrlIf(this.d.sharedInfo, () => void this.send(this.ctrlPort));
    this.cons = new XenCons(this.ctrl);
    this.reboot = new Xen2Reboot(this, this.ctrl, { cons: this.cons, delayNs: 1_000_000, halting: () => this.farewell });
  }
  override onEvent(port: number, vcpu: number): void {
    super.onEvent(port, vcpu);
    if (port === this.ctrlPort) this.ctrl.interrupt();
  }
}

describe('sched_op(SCHEDOP_shutdown) in Xen 2.0.0', () => {
  it('records the reason code, stops the domain and raises VIRQ_DOM_EXC in dom0', () => {
    const { hv, dom0 } = newXen2();
    const g = guest2(hv);
    const port = op2(hv, dom0, 'bind_virq', { virq: xen2.VIRQ_DOM_EXC }).out!.port as number;
    expect(op2(hv, g, 'sched_shutdown', { reason: 1 }).ret).toBe(0);
    expect(g.state).toBe('shutdown');
    expect(g.shutdownCode).toBe(1);
    expect(g.shutdownReason).toBe('reboot');
    expect(g.runnable).toBe(false);
    expect(dom0.ops.isPending(dom0, port)).toBe(true);
    hv.run(1_000_000);
    expect(k2(dom0).deliveries(port)).toBe(1);
  });

  it('takes any 8-bit code, as domain_shutdown does; codes past suspend have no name', () => {
    const { hv } = newXen2();
    const g = guest2(hv);
    const store = new TraceStore();
    hv.trace.subscribe(store.subscriber);
    expect(op2(hv, g, 'sched_shutdown', { reason: 7 }).ret).toBe(0);
    hv.trace.flush();
    expect(g.shutdownCode).toBe(7);
    expect(g.shutdownReason).toBeNull();
    const recs = [...store.records()];
    expect(recs.find((r) => r.kind === 'hypercall')).toMatchObject({ op: 'sched_shutdown', args: { reason: 7 }, ret: '0' });
    expect(recs.find((r) => r.kind === 'domain' && r.event === 'shutdown')).toMatchObject({ reason: 'code 7' });
  });

  it('decodes the raw argument word: command in bits 0..7, reason in 8..15; yield is 0, others -ENOSYS', () => {
    const { hv } = newXen2();
    const g = guest2(hv);
    expect(schedOpXen2(hv, g, xen2.SCHEDOP_yield)).toBe(0);
    expect(schedOpXen2(hv, g, xen2.SCHEDOP_block)).toBe(-ENOSYS);
    expect(schedOpXen2(hv, g, 9)).toBe(-ENOSYS);
    expect(g.state).toBe('running');
    expect(schedOpXen2(hv, g, xen2.SCHEDOP_shutdown | (2 << xen2.SCHEDOP_reasonshift) | 0x10000)).toBe(0);
    expect([g.state, g.shutdownCode, g.shutdownReason]).toEqual(['shutdown', 2, 'suspend']);
  });

  it('dom0 shutting down raises nothing (Xen halts or reboots the machine)', () => {
    const { hv, dom0 } = newXen2();
    const port = op2(hv, dom0, 'bind_virq', { virq: xen2.VIRQ_DOM_EXC }).out!.port as number;
    op2(hv, dom0, 'sched_shutdown', { reason: 0 });
    expect(dom0.ops.isPending(dom0, port)).toBe(false);
  });
});

describe('xend in dom0: VIRQ_DOM_EXC and reap', () => {
  it('binds VIRQ_DOM_EXC when it starts: dom0 port 1, before any control channel', () => {
    const { hv, dom0, x, guest } = machine();
    expect(x.domExcPort).toBe(1);
    expect(op2(hv, dom0, 'status', { port: 1 })).toMatchObject({ ret: 0, out: { status: 'virq', u: { virq: xen2.VIRQ_DOM_EXC } } });
    const g = guest('plan9');
    expect(x.controlPort(g.domid)).toBe(2);
  });

  it('reaps a domain that shut itself down: logs the reason, closes the channel and dom0 end, destroys it', () => {
    const { hv, dom0, x } = machine();
    const g = guest2(hv, { name: 'selfish' });
    op2(hv, g, 'sched_shutdown', { reason: 0 });
    hv.run(1_000_000);
    expect(hv.domain(g.domid)).toBeUndefined();
    expect(x.reaped).toEqual([{ domid: g.domid, name: 'selfish', reason: 'poweroff', destroyed: true }]);
    expect(x.console.join('')).toContain(`xend: domain ${g.domid} (selfish) shut down (poweroff): destroyed`);
    expect(x.xend.log.filter((e) => e.kind === 'reap').map((e) => e.text)).toEqual([
      `reap: domain died name=selfish id=${g.domid}; shutdown reason=poweroff`,
      'Destroying domain: name=selfish',
    ]);
    expect(op2(hv, dom0, 'status', { dom: g.domid, port: 0 }).ret).toBeLessThan(0);
  });

  it('names unknown codes "?" and still destroys; leaves a suspended domain for the save', () => {
    const { hv, x } = machine();
    const a = guest2(hv, { name: 'odd' });
    const b = guest2(hv, { name: 'sleeper' });
    op2(hv, a, 'sched_shutdown', { reason: 9 });
    op2(hv, b, 'sched_shutdown', { reason: 2 });
    hv.run(1_000_000);
    expect(x.reaped).toEqual([
      { domid: a.domid, name: 'odd', reason: '?', destroyed: true },
      { domid: b.domid, name: 'sleeper', reason: 'suspend', destroyed: false },
    ]);
    expect(hv.domain(b.domid)?.state).toBe('shutdown');
    expect(x.console.join('')).toContain(`xend: domain ${b.domid} (sleeper) suspended`);
  });

  it('reaps after the batch of notifications it came with, so a dying guest’s last console bytes are read first', () => {
    const { hv, x, guest, consoleText } = machine();
    const g = guest('chatty', (h, d) => new ChattyKernel(h, d, 'last words\n'));
    hv.run(1_000_000);
    x.shutdownDomain(g.domid, 'poweroff');
    hv.run(5_000_000);
    expect(hv.domain(g.domid)).toBeUndefined();
    expect(consoleText(g)).toBe('last words\n\r');
  });
});

describe('the guest: reboot.c', () => {
  it('echoes CMSG_SHUTDOWN at once (same type, subtype, id; length 0) and halts after the delay', () => {
    const { hv, x, guest } = machine();
    const g = guest('plan9');
    hv.run(5_000_000);
    const answers: CtrlMsg[] = [];
    const id = x.shutdownDomain(g.domid, 'poweroff', (m) => answers.push({ ...m }));
    hv.run(100_000);
    expect(answers).toHaveLength(1);
    expect(answers[0]).toMatchObject({ type: CMSG_SHUTDOWN, subtype: CMSG_SHUTDOWN_POWEROFF, id, length: 0 });
    const k = g.kernel as Plan9Kernel;
    expect(k.reboot!.shuttingDown).toBe(CMSG_SHUTDOWN_POWEROFF);
    expect(g.state).toBe('running');
    hv.run(DEFAULT_SHUTDOWN_DELAY_NS);
    expect(k.reboot!.stage).toBe('done');
    expect(hv.domain(g.domid)).toBeUndefined();
    expect(x.reaped[0]).toMatchObject({ reason: 'poweroff', destroyed: true });
  });

  it('ignores a request while one is under way, and an unknown subtype, answering both', () => {
    const { hv, x, guest, consoleText } = machine();
    const g = guest('plan9');
    hv.run(5_000_000);
    let answered = 0;
    x.shutdownDomain(g.domid, 'reboot', () => answered++);
    x.shutdownDomain(g.domid, 'poweroff', () => answered++);
    hv.run(100_000);
    const k = g.kernel as Plan9Kernel;
    expect(answered).toBe(2);
    expect(k.reboot!.ignored).toBe(1);
    expect(k.reboot!.shuttingDown).toBe(1);
    expect(consoleText(g)).toContain('Ignore spurious shutdown request\n\r');
    // A subtype 2.0.0 does not define (SYSRQ came later) is ignored the same way.
    x.xend.get(g.domid).channel.writeRequest(ctrlMsg(CMSG_SHUTDOWN, 3, 200));
    hv.run(100_000);
    expect(k.reboot!.ignored).toBe(2);
    hv.run(DEFAULT_SHUTDOWN_DELAY_NS);
    expect(g.shutdownCode).toBe(1);
    expect(x.reaped[0]).toMatchObject({ reason: 'reboot', destroyed: true });
    expect(consoleText(g)).toContain('the domain controller asks for a reboot');
  });

  it('a spurious request alone does nothing but print and answer', () => {
    const { hv, x, guest } = machine();
    const g = guest('plan9');
    hv.run(5_000_000);
    x.xend.get(g.domid).channel.writeRequest(ctrlMsg(CMSG_SHUTDOWN, 7, 9));
    hv.run(50_000_000);
    expect(g.state).toBe('running');
    expect((g.kernel as Plan9Kernel).reboot!.shuttingDown).toBe(NOT_SHUTTING_DOWN);
  });

  it('suspend: no console flush, SHUTDOWN_suspend, and xend leaves the domain for the save', () => {
    const { hv, x, guest } = machine();
    const g = guest('plan9');
    hv.run(5_000_000);
    x.shutdownDomain(g.domid, 'suspend');
    hv.run(DEFAULT_SHUTDOWN_DELAY_NS + 1_000_000);
    expect([g.state, g.shutdownCode]).toEqual(['shutdown', 2]);
    expect(hv.domain(g.domid)).toBe(g);
    expect(x.xend.has(g.domid)).toBe(true);
    expect(x.reaped).toEqual([{ domid: g.domid, name: 'plan9', reason: 'suspend', destroyed: false }]);
  });

  it('waits while its domain is paused, and goes on when it is unpaused', () => {
    const { hv, x, guest } = machine();
    const g = guest('plan9');
    hv.run(5_000_000);
    x.shutdownDomain(g.domid, 'poweroff');
    hv.run(100_000);
    hv.pause(g);
    hv.run(30_000_000);
    expect(g.state).toBe('running');
    hv.unpause(g);
    hv.run(2_000_000);
    expect(hv.domain(g.domid)).toBeUndefined();
  });

  it('force-flushes a console backlog bigger than the ring before the hypercall, spinning for xend', () => {
    const farewell = Array.from({ length: 60 }, (_, i) => `line ${String(i).padStart(2, '0')} of the last words\n`).join('');
    const { hv, x, guest, consoleText } = machine();
    const g = guest('chatty', (h, d) => new ChattyKernel(h, d, farewell));
    hv.run(1_000_000);
    const k = g.kernel as ChattyKernel;
    const passes: boolean[] = [];
    const realFlush = k.cons.forceFlush.bind(k.cons);
    k.cons.forceFlush = () => {
      const done = realFlush();
      passes.push(done);
      expect(g.vcpus[0]!.upcallMask).toBe(1); // cli(): no upcall while it spins
      return done;
    };
    x.shutdownDomain(g.domid, 'poweroff');
    hv.run(10_000_000);
    // The halt printed ~2 KiB: 8 messages went out, the rest waited in wbuf behind a full ring.
    expect(passes.filter((p) => !p).length).toBeGreaterThan(1);
    expect(passes.at(-1)).toBe(true);
    expect(hv.domain(g.domid)).toBeUndefined();
    expect(consoleText(g)).toBe(farewell.replaceAll('\n', '\n\r'));
  });
});

describe('xencons_force_flush', () => {
  it('reaps responses by hand and pushes chunks; false while the ring is full', () => {
    const r = consoleRig();
    const text = 'x'.repeat(60 * 10);
    r.cons.ttyWrite(bytesOf(text)); // 8 messages out, 120 bytes left in wbuf
    expect(r.guest.txFull()).toBe(true);
    expect(r.cons.forceFlush()).toBe(false); // nothing answered yet: it would spin
    r.xendNotify(); // xend answers all 8 (the guest takes no interrupt)
    expect(r.cons.forceFlush()).toBe(true);
    expect(r.cons.pending()).toBe(0);
    r.settle();
    expect(textOf(r.output)).toBe(text);
  });

  it('as in 2.0.0, stops with bytes left when the transmitter is already empty', () => {
    const r = consoleRig();
    r.cons.ttyWrite(bytesOf('y'.repeat(60 * 9)));
    r.xendNotify();
    r.guest.discardResponses(); // every request answered and reaped: transmitter empty
    expect(r.cons.pending()).toBe(60);
    expect(r.cons.forceFlush()).toBe(true);
    expect(r.cons.pending()).toBe(60);
  });
});
