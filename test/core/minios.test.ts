// The modern control path wired: dom0's toolstack (xenstored + xenconsoled) builds a Mini-OS
// guest, which finds its store and console in start_info and runs a shell on its console.
import { describe, expect, it } from 'vitest';
import { DOMID_SELF } from '../../src/core/abi/domid.js';
import { START_INFO_CONSOLE_EVTCHN, START_INFO_CONSOLE_MFN, START_INFO_STORE_EVTCHN, START_INFO_STORE_MFN } from '../../src/core/abi/layout.js';
import { MiniOsKernel, miniosKernel, readStartInfoRings } from '../../src/core/guest/minios.js';
import { hypercall, OPS } from '../../src/core/hv/hypercall.js';
import { Hypervisor, START_INFO_GFN } from '../../src/core/hv/hypervisor.js';
import { CONSOLE_GFN, Dom0Kernel, dom0Kernel, STORE_GFN } from '../../src/core/tools/dom0_modern.js';
import { utf8, utf8Decode } from '../../src/core/util/bytes.js';

function machine(guests = 1) {
  const hv = new Hypervisor({ seed: 1 });
  const dom0 = hv.createDomain({ name: 'dom0' }, dom0Kernel());
  const k0 = dom0.kernel as Dom0Kernel;
  const out: number[][] = [];
  const doms = [];
  for (let i = 0; i < guests; i++) {
    const d = hv.createDomain({ name: `mini${i}` });
    const bytes: number[] = [];
    out.push(bytes);
    k0.buildGuest(d, (b) => bytes.push(...b));
    hv.boot(d, miniosKernel());
    doms.push(d);
  }
  const text = (i = 0) => utf8Decode(Uint8Array.from(out[i]!));
  return { hv, dom0, k0, doms, text };
}

const status = (hv: Hypervisor, d: Parameters<typeof hypercall>[1], port: number) => hypercall(hv, d, OPS.get('status')!, { dom: DOMID_SELF, port } as never);

describe('the toolstack builds a Mini-OS guest (dom0_modern.ts)', () => {
  it('gives the guest store port 1 and console port 2, both interdomain with dom0', () => {
    const { hv, dom0, k0, doms } = machine();
    const g = doms[0]!;
    const built = k0.guests.get(g.domid)!;
    expect([built.storePort, built.consolePort]).toEqual([1, 2]);
    for (const [port, local] of [[1, built.storeLocal], [2, built.consoleLocal]] as const) {
      const r = status(hv, g, port);
      expect(r.ret).toBe(0);
      expect(r.out).toMatchObject({ status: 'interdomain', u: { interdomain: { dom: 0, port: local } } });
      expect(status(hv, dom0, local).out).toMatchObject({ status: 'interdomain', u: { interdomain: { dom: g.domid, port } } });
    }
    expect(built.storeLocal).toBe(k0.xenstored.domains.get(g.domid)!.port);
  });

  it('writes the four start_info fields byte for byte at their offsets', () => {
    const { doms } = machine();
    const g = doms[0]!;
    expect(STORE_GFN).toBe(START_INFO_GFN + 1);
    expect(CONSOLE_GFN).toBe(START_INFO_GFN + 2);
    const st = g.startInfo;
    const le = (v: number, n: number) => Array.from({ length: n }, (_, i) => Number((BigInt(v) >> BigInt(8 * i)) & 0xffn));
    const storeMfn = g.memory.mfn(STORE_GFN);
    const consMfn = g.memory.mfn(CONSOLE_GFN);
    expect([...st.subarray(START_INFO_STORE_MFN, START_INFO_STORE_MFN + 8)]).toEqual(le(storeMfn, 8));
    expect([...st.subarray(START_INFO_STORE_EVTCHN, START_INFO_STORE_EVTCHN + 4)]).toEqual([1, 0, 0, 0]);
    expect([...st.subarray(START_INFO_CONSOLE_MFN, START_INFO_CONSOLE_MFN + 8)]).toEqual(le(consMfn, 8));
    expect([...st.subarray(START_INFO_CONSOLE_EVTCHN, START_INFO_CONSOLE_EVTCHN + 4)]).toEqual([2, 0, 0, 0]);
    expect(readStartInfoRings(g)).toEqual({ storeMfn, storeEvtchn: 1, consoleMfn: consMfn, consoleEvtchn: 2 });
  });

  it('grants the console ring (ref 0) and the store ring (ref 1) to dom0', () => {
    const { doms } = machine();
    const g = doms[0]!;
    expect(g.grants.entry(0)).toMatchObject({ domid: 0, frame: CONSOLE_GFN });
    expect(g.grants.entry(1)).toMatchObject({ domid: 0, frame: STORE_GFN });
    expect(g.grants.entry(0).flags & 1).toBe(1);
    expect(g.grants.entry(1).flags & 1).toBe(1);
  });

  it('lays out the xenstore home and introduces the domain', () => {
    const { k0, doms } = machine();
    const g = doms[0]!;
    const xs = k0.xenstored;
    expect(xs.readValue('/local/domain/1/name')).toBe('mini0');
    expect(xs.readValue('/local/domain/1/store/port')).toBe('1');
    expect(xs.readValue('/local/domain/1/console/port')).toBe('2');
    expect(xs.readValue('/local/domain/1/console/ring-ref')).toBe(String(g.memory.mfn(CONSOLE_GFN)));
    expect(xs.domains.get(1)?.introduced).toBe(true);
  });

  it('gives a second guest its own ports 1 and 2 and its own console', () => {
    const { hv, k0, doms, text } = machine(2);
    hv.run(5e6);
    expect(k0.guests.get(2)).toMatchObject({ storePort: 1, consolePort: 2 });
    expect(text(0)).toContain('Mini-OS mini0 (domain 1) ready');
    expect(text(1)).toContain('Mini-OS mini1 (domain 2) ready');
    expect(doms.every((d) => (d.kernel as MiniOsKernel).storePort === 1)).toBe(true);
  });
});

describe('Mini-OS (minios.ts)', () => {
  it('prints its banner through xenconsoled, in order, with \\r\\n line ends', () => {
    const { hv, text } = machine();
    hv.run(5e6);
    const t = text();
    const want = ['Xen Minimal OS (pv)\r\n', 'store_evtchn: 1', 'console.evtchn: 2', 'evtchn: VIRQ_TIMER on port 3\r\n', 'xenbus: initialised on port 1', 'console: initialised on port 2', 'ready\r\nminios> '];
    let at = -1;
    for (const w of want) {
      const i = t.indexOf(w);
      expect(i, w).toBeGreaterThan(at);
      at = i;
    }
    expect(t.endsWith('minios> ')).toBe(true);
  });

  it('carries long output whole and in order (more than the 2048-byte out[] ring)', () => {
    const { hv, doms, text } = machine();
    hv.run(5e6);
    const k = doms[0]!.kernel as MiniOsKernel;
    const before = text().length;
    let s = '';
    for (let i = 0; i < 400; i++) s += `line ${i}\n`;
    k.print(s);
    hv.run(20e6);
    expect(text().slice(before)).toBe(s.replace(/\n/g, '\r\n'));
  });

  it('counts timer ticks (VIRQ_TIMER at 100 Hz) and reports uptime', () => {
    const { hv, k0, doms, text } = machine();
    hv.run(100e6);
    const k = doms[0]!.kernel as MiniOsKernel;
    expect(k.ticks).toBeGreaterThanOrEqual(9);
    k0.typeAt(1, utf8('uptime\r'));
    hv.run(1e6);
    expect(text()).toMatch(/up 0\.10\ds \(\d+ ns\), \d+ timer ticks\r\nminios> $/);
  });

  it('runs typed commands: help, evtchn, status, send, mask, unmask, xenstore-read, unknown', () => {
    const { hv, k0, doms, text } = machine();
    hv.run(5e6);
    const g = doms[0]!;
    const type = (s: string) => {
      const from = text().length;
      k0.typeAt(1, utf8(`${s}\r`));
      hv.run(5e6);
      return text().slice(from);
    };
    expect(type('help')).toContain('xenstore-read PATH');
    const ev = type('evtchn');
    expect(ev).toContain('evtchn\r\n'); // echoed
    expect(ev).toMatch(/port 1: interdomain dom0 port \d+ vcpu 0 \(xenstore/);
    expect(ev).toMatch(/port 2: interdomain dom0 port \d+ vcpu 0 \(console/);
    expect(ev).toMatch(/port 3: virq 0 vcpu 0 \(VIRQ_TIMER/);
    expect(type('status 1')).toContain('port 1: interdomain dom0 port');
    expect(type('status 9')).toContain('port 9: closed vcpu 0');
    expect(type('status 100')).toContain('port 100: -EINVAL');
    expect(type('mask 3')).toContain('mask: port 3 masked');
    expect(g.ops.isMasked(g, 3)).toBe(true);
    expect(type('unmask 3')).toContain('unmask: port 3 unmasked');
    expect(g.ops.isMasked(g, 3)).toBe(false);
    const sendsBefore = (k0.deliveries(k0.guests.get(1)!.storeLocal));
    expect(type('send 1')).toContain('send: event sent on port 1');
    expect(k0.deliveries(k0.guests.get(1)!.storeLocal)).toBeGreaterThan(sendsBefore);
    expect(type('send')).toContain('send: usage: send PORT');
    expect(type('xenstore-read name')).toBe('xenstore-read name\r\nmini0\r\nminios> ');
    expect(type('xenstore-read /local/domain/1/console/port')).toContain('\r\n2\r\nminios> ');
    expect(type('xenstore-read nothing/here')).toContain('xenstore-read: nothing/here: ENOENT');
    expect(type('foo')).toBe('foo\r\nminios: foo: command not found\r\nminios> ');
  });

  it('refuses to boot on Xen 2.0, and without a modern dom0 toolstack the fields stay 0', () => {
    const hv2 = new Hypervisor({ seed: 1, xen: '2.0' });
    hv2.createDomain({ name: 'dom0' });
    const d2 = hv2.createDomain({ name: 'g' });
    expect(() => hv2.boot(d2, miniosKernel())).toThrow(/modern Xen/);
    const hv = new Hypervisor({ seed: 1 });
    hv.createDomain({ name: 'dom0' }, dom0Kernel());
    const d = hv.createDomain({ name: 'bare' }, miniosKernel());
    expect(readStartInfoRings(d)).toEqual({ storeMfn: 0, storeEvtchn: 0, consoleMfn: 0, consoleEvtchn: 0 });
    expect((d.kernel as MiniOsKernel).cons).toBeUndefined();
  });
});
