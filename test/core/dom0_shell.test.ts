/**
 * The shell on dom0's console (tools/dom0_shell.ts) in both modes: xl's
 * commands, lsevtchn, the xenstore-* tools over xenstored's socket, xl dmesg,
 * errors as a shell gives them, and line editing (backspace, history, tab).
 */
import { describe, expect, it } from 'vitest';
import { nulStrings, XS_WATCH, XS_WATCH_EVENT } from '../../src/core/abi/xs_wire.js';
import type { MiniOsKernel } from '../../src/core/guest/minios.js';
import { Dom0Kernel } from '../../src/core/tools/dom0_modern.js';
import { Xen2Dom0Kernel } from '../../src/core/tools/dom0.js';
import { DOM0_PROMPT, xlState } from '../../src/core/tools/dom0_shell.js';
import { runScenario, type RunResult } from '../../src/scenario/runner.js';
import { loadScenario } from '../../src/scenario/stepform.js';

const MODERN = 'name: t\ndomains:\n  - name: dom0\n  - name: minios\n    kernel: minios\n  - name: bare\nsteps:\n  - run: 5ms\n';
const XEN2 = 'name: t\nxen: "2.0"\ndomains:\n  - name: dom0\n  - name: plan9\n    kernel: plan9\nsteps:\n  - run: 5ms\n';

function run(base: string, lines: string[], after = ''): RunResult {
  const steps = lines.map((l) => `  - type: { domain: dom0, text: ${JSON.stringify(l)} }\n`).join('');
  return runScenario(loadScenario('s.yaml', base + steps + after));
}

/** dom0's console after the boot banner and first prompt. */
function typed(r: RunResult): string {
  const c = r.consoles.dom0!;
  return c.slice(c.indexOf(DOM0_PROMPT) + DOM0_PROMPT.length);
}

describe('dom0 shell, modern mode', () => {
  it('prints a prompt at boot and collects dom0 console output', () => {
    const r = run(MODERN, []);
    expect(r.failures).toEqual([]);
    expect(r.consoles.dom0).toMatch(/xenstored and xenconsoled running; type help\ndom0# $/);
    expect(r.hv.domain(0)!.kernel).toBeInstanceOf(Dom0Kernel);
  });

  it('xl list: a fixed-width table with xl state flags', () => {
    const r = run(MODERN, ['xl list\r']);
    expect(r.steps.at(-1)).toMatchObject({ action: 'type', ret: '0', out: { accepted: 8 } });
    const lines = typed(r).split('\n');
    expect(lines[0]).toBe('xl list');
    expect(lines[1]).toBe(`${'Name'.padEnd(40)}    ID   Mem VCPUs     State`);
    expect(lines[2]).toBe(`${'dom0'.padEnd(40)}     0    64     1     r-----`);
    expect(lines[3]).toBe(`${'minios'.padEnd(40)}     1    64     1     -b----`);
    expect(lines[4]).toBe(`${'bare'.padEnd(40)}     2    64     1     -b----`);
    expect(lines[5]).toBe(DOM0_PROMPT);
    for (const l of lines.slice(2, 5)) expect(l.length).toBe(lines[1]!.length + 1);
  });

  it('xl shutdown writes control/shutdown; Mini-OS shuts itself down and dom0 reaps it on VIRQ_DOM_EXC', () => {
    const r = run(MODERN, ['xl shutdown minios\r'], '  - run: 5ms\n  - type: { domain: dom0, text: "xl list\\r" }\n');
    expect(r.failures).toEqual([]);
    expect(r.consoles.minios).toContain('\r\nminios: control/shutdown = "poweroff": shutting down (poweroff)\r\n');
    expect(r.hv.domain(1)).toBeUndefined();
    const k0 = r.hv.domain(0)!.kernel as Dom0Kernel;
    expect(k0.reaped).toEqual([{ domid: 1, name: 'minios', reason: 'poweroff' }]);
    // xenstored forgot the domain and its home is gone; dom0's ends of its channels are closed.
    expect(k0.xenstored.domains.has(1)).toBe(false);
    expect(k0.xenstored.readValue('/local/domain/1/name')).toBeUndefined();
    expect(k0.guests.has(1)).toBe(false);
    expect(k0.xenconsoled.consoles.has(1)).toBe(false);
    const t = typed(r);
    expect(t).toContain('Shutting down domain 1\n');
    expect(t).not.toContain(`minios${' '.repeat(35)}`);
    expect(t).toContain(`${'bare'.padEnd(40)}     2    64     1     -b----`);
  });

  it('a reboot request takes the same way, with its reason', () => {
    const r = run(MODERN, []);
    const k0 = r.hv.domain(0)!.kernel as Dom0Kernel;
    expect(k0.shutdownGuest(r.hv.domain(1)!, 'reboot')).toBeUndefined();
    expect(k0.shutdownGuest(r.hv.domain(2)!, 'reboot')).toBe('PV control interface not available');
    r.hv.run(5_000_000);
    expect(k0.reaped).toEqual([{ domid: 1, name: 'minios', reason: 'reboot' }]);
    expect(r.hv.domain(2)!.state).toBe('running');
  });

  it('control/shutdown belongs to the guest, which clears it to acknowledge the request', () => {
    const r = run(MODERN, []);
    const k0 = r.hv.domain(0)!.kernel as Dom0Kernel;
    const guest = (r.hv.domain(1)!.kernel as MiniOsKernel).xenbus!;
    let perms: string[] = [];
    guest.getPerms('control/shutdown', (err, p) => void (perms = err ? [err] : p));
    r.hv.run(1_000_000);
    expect(perms).toEqual(['n1']);
    expect(k0.shutdownGuest(r.hv.domain(1)!, 'poweroff')).toBeUndefined();
    const seen: (string | undefined)[] = [];
    // A watch on a raw socket sees each change as it happens (the reaper follows within the same microsecond).
    const sock = k0.xenstored.openSocket((m) => {
      if (m.type !== XS_WATCH_EVENT) return;
      const v = k0.xenstored.readValue('/local/domain/1/control/shutdown');
      if (seen.at(-1) !== v) seen.push(v);
    });
    sock.send(XS_WATCH, nulStrings('/local/domain/1/control/shutdown', 'ack'), 1);
    r.hv.run(5_000_000);
    // poweroff, cleared by the guest, then gone with the home when dom0 reaps the domain.
    expect(seen).toEqual(['poweroff', '', undefined]);
    expect(k0.reaped.map((x) => x.reason)).toEqual(['poweroff']);
  });

  it('xl shutdown before time runs: the node is written, the hypervisor is not called', () => {
    const r = run(MODERN, ['xl shutdown 1\r']);
    const k0 = r.hv.domain(0)!.kernel as Dom0Kernel;
    expect(k0.xenstored.readValue('/local/domain/1/control/shutdown')).toBe('poweroff');
    expect(r.hv.domain(1)!.state).toBe('running');
  });

  it('xl pause / unpause / shutdown / destroy by name or id', () => {
    const r = run(MODERN, ['xl pause minios\r', 'xl list\r']);
    expect(r.hv.domain(1)!.pauseCount).toBe(1);
    expect(typed(r)).toContain(`${'minios'.padEnd(40)}     1    64     1     --p---`);
    const r2 = run(MODERN, ['xl pause 1\r', 'xl unpause minios\r', 'xl shutdown 2\r', 'xl destroy minios\r', 'xl list\r']);
    expect(r2.hv.domain(1)).toBeUndefined();
    // bare has no xenstore home, so no PV control interface: libxl refuses, the domain runs on.
    expect(r2.hv.domain(2)!.state).toBe('running');
    const t = typed(r2);
    expect(t).toContain('xl: shutdown of bare failed: PV control interface not available\n');
    expect(t).toContain(`${'bare'.padEnd(40)}     2    64     1     -b----`);
    expect(t).not.toContain(`minios${' '.repeat(35)}`);
  });

  it('answers bad commands and arguments as the tools do', () => {
    const t = typed(run(MODERN, ['frob x\r', 'xl frob\r', 'xl pause\r', 'xl pause nosuch\r', 'xl pause dom0\r', 'xl unpause minios\r', 'lsevtchn a b\r', 'xenstore-read\r', 'xenstore-read /nope\r', 'xl list extra\r']));
    expect(t).toContain('-sh: frob: command not found\n');
    expect(t).toContain("xl: unknown command 'frob'\n");
    expect(t).toContain('usage: xl pause <Domain>\n');
    expect(t).toContain('xl: nosuch is an invalid domain identifier\n');
    expect(t).toContain('libxl: error: pause of domain 0 (dom0) failed: -EINVAL\n');
    expect(t).toContain('libxl: error: unpause of domain 1 (minios) failed: -EINVAL\n');
    expect(t).toContain('usage: lsevtchn [domid]\n');
    expect(t).toContain('Usage: xenstore-read path\n');
    expect(t).toContain("xenstore-read: couldn't read path /nope\n");
    expect(t).toContain('usage: xl list\n');
  });

  it('lsevtchn lists every bound port like xen-lsevtchn', () => {
    const t = typed(run(MODERN, ['lsevtchn minios\r', 'lsevtchn\r']));
    expect(t).toContain('lsevtchn minios\n   1: VCPU 0: Interdomain (Connected) - Remote Domain 0, Port 1\n   2: VCPU 0: Interdomain (Connected) - Remote Domain 0, Port 2\n   3: VCPU 0: Virtual IRQ 0\ndom0# ');
    // dom0's ends of minios's store and console channels.
    expect(t).toContain('lsevtchn\n   1: VCPU 0: Interdomain (Connected) - Remote Domain 1, Port 1\n   2: VCPU 0: Interdomain (Connected) - Remote Domain 1, Port 2\n   3: VCPU 0: Virtual IRQ 3\ndom0# ');
  });

  it('xenstore-read / write / ls / rm through xenstored', () => {
    const r = run(MODERN, ['xenstore-read /local/domain/1/name\r', 'xenstore-write /local/domain/1/data/x hello\r', 'xenstore-read /local/domain/1/data/x\r', 'xenstore-ls /local/domain/1\r', 'xenstore-rm /local/domain/1/data/x\r', 'xenstore-read /local/domain/1/data/x\r']);
    const t = typed(r);
    expect(t).toContain('xenstore-read /local/domain/1/name\nminios\ndom0# ');
    expect(t).toContain('xenstore-read /local/domain/1/data/x\nhello\ndom0# ');
    expect(t).toContain('\nname = "minios"\n');
    expect(t).toContain('\nstore = ""\n port = "1"\n');
    expect(t).toContain(' x = "hello"\n');
    expect(t).toMatch(/couldn't read path \/local\/domain\/1\/data\/x\ndom0# $/);
  });

  it('xl dmesg shows what dom0 logged to the hypervisor console', () => {
    const t = typed(run(MODERN, ['xl dmesg\r']));
    expect(t).toContain('(XEN) Xen version 4 (xenlab)\n');
    expect(t).toContain('(XEN) dom0: domain 1 (minios) built: xenstore on port 1 (dom0:1), console on port 2 (dom0:2)\n');
  });

  it('line editing: backspace, history with ESC [ A, tab completion', () => {
    const t = typed(run(MODERN, ['xl lisx\x7ft\r', '\x1b[A\r', 'lsev\t\r', 'xens\t', `${'\x7f'.repeat(9)}xl dm\t\r`]));
    expect(t).toContain('xl lisx\b \bt\nName');
    // The recalled line is shown and run again.
    expect(t.split('Name     ').length - 1).toBe(2);
    // A unique prefix completes with a space; an ambiguous one completes the common part.
    expect(t).toContain('lsevtchn \n   1: VCPU 0');
    expect(t).toContain(`dom0# xenstore-${'\b \b'.repeat(9)}xl dmesg \n(XEN) Xen version 4`);
  });

  it('tab on an ambiguous prefix lists the candidates', () => {
    const t = typed(run(MODERN, ['xenstore-\t']));
    expect(t).toContain('xenstore-\nxenstore-ls  xenstore-read  xenstore-write  xenstore-rm\ndom0# xenstore-');
  });

  it('history: up twice, down once', () => {
    const t = typed(run(MODERN, ['help\r', 'xl list\r', '\x1b[A\x1b[A\x1b[B\r']));
    expect(t.split('Name     ').length - 1).toBe(2);
  });

  it('xl_state flags', () => {
    const r = run(MODERN, []);
    expect(xlState(r.hv.domain(0)!)).toBe('r-----');
  });
});

describe('dom0 shell, Xen 2.0 mode', () => {
  it('shares dom0 console with xend and has no xenstore commands', () => {
    const r = run(XEN2, ['help\r', 'xenstore-ls\r', 'xl list\r', 'lsevtchn plan9\r', 'xl dmesg\r']);
    expect(r.failures).toEqual([]);
    expect(r.hv.domain(0)!.kernel).toBeInstanceOf(Xen2Dom0Kernel);
    const c = r.consoles.dom0!;
    // xend's line went above the boot prompt.
    expect(c).toMatch(/^xend: domain 1 \(plan9\): control channel dom0:2 <-> plan9:1, console on tcp port \d+\ndom0# help\n/);
    expect(c).not.toContain('xenstore-ls [PATH]');
    expect(c).toContain('-sh: xenstore-ls: command not found\n');
    expect(c).toContain(`${'plan9'.padEnd(40)}     1`);
    expect(c).toContain('   1: VCPU 0: Interdomain (Connected) - Remote Domain 0, Port ');
    expect(c).toContain('(XEN) Xen version 2.0.0 (xenlab)\n(XEN) xend: listening for VIRQ_DOM_EXC on port');
    expect(c).toContain('(XEN) xend: domain 1 (plan9): control channel');
  });

  it('xl shutdown goes through xend (CMSG_SHUTDOWN) and the guest is reaped', () => {
    const r = run(XEN2, ['xl shutdown plan9\r'], '  - run: 50ms\n  - type: { domain: dom0, text: "xl list\\r" }\n');
    expect(r.failures).toEqual([]);
    const c = r.consoles.dom0!;
    expect(c).toContain('Shutting down domain 1\n');
    // The reap's line came while the shell sat at a fresh prompt: it goes above it.
    expect(c).toContain('Shutting down domain 1\nxend: domain 1 (plan9) shut down (poweroff): destroyed\ndom0# xl list\n');
    expect(r.hv.domain(1)).toBeUndefined();
    expect(c.slice(c.lastIndexOf('xl list'))).not.toContain('plan9');
  });

  it('xl destroy closes the control channel first', () => {
    const r = run(XEN2, ['xl destroy 1\r']);
    expect(r.hv.domain(1)).toBeUndefined();
    expect((r.hv.domain(0)!.kernel as Xen2Dom0Kernel).controlPort(1)).toBeUndefined();
  });
});
