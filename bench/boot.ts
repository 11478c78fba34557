/**
 * "1,000 guests booting at once reach their prompts", for bench/index.ts
 * (`--only=boot`). Each machine is built the way src/scenario/runner.ts
 * builds it: dom0's kernel first, then every guest's control path laid out
 * by dom0 (Xen 2.0: xend's createControlChannel; modern: buildGuest), then
 * the guest's kernel booted. Virtual time then runs in 1 ms slices until
 * every guest's console shows its prompt.
 */
import type { Domain } from '../src/core/hv/domain.js';
import { Hypervisor } from '../src/core/hv/hypervisor.js';
import { miniosKernel, MINIOS_PROMPT } from '../src/core/guest/minios.js';
import { plan9Kernel, PLAN9_ROOT_PROMPT } from '../src/core/guest/plan9.js';
import { xen2Dom0Kernel, type Xen2Dom0Kernel } from '../src/core/tools/dom0.js';
import { dom0Kernel, type Dom0Kernel } from '../src/core/tools/dom0_modern.js';
import { utf8Decode } from '../src/core/util/bytes.js';
import type { Row } from './table.js';

const nowNs = (): bigint => process.hrtime.bigint();

/** Console text per guest, and which guests' consoles show `prompt` yet. */
class Consoles {
  readonly text: string[] = [];
  readonly done: boolean[] = [];
  reached = 0;
  /** Virtual time when the last prompt arrived. */
  lastAt = 0;
  hv: Hypervisor | undefined;
  constructor(readonly prompt: string) {}
  sink(i: number): (b: Uint8Array) => number {
    this.text[i] = '';
    this.done[i] = false;
    return (b) => {
      const t = (this.text[i] += utf8Decode(b));
      if (!this.done[i] && t.includes(this.prompt)) {
        this.done[i] = true;
        this.reached++;
        this.lastAt = this.hv?.now ?? 0;
      }
      return b.length;
    };
  }
}

interface BootResult {
  buildNs: number;
  runNs: number;
  virtualNs: number;
  reached: number;
  dom0Ports: number;
}

/** Runs 1 ms slices until every console shows its prompt (or `limitNs` of virtual time pass). */
function runUntil(hv: Hypervisor, c: Consoles, n: number, limitNs: number): void {
  while (c.reached < n && hv.now < limitNs) hv.run(1_000_000);
}

function bootXen2(n: number): BootResult {
  const t0 = nowNs();
  const hv = new Hypervisor({ seed: 1, xen: '2.0' });
  const dom0 = hv.createDomain({ name: 'dom0' });
  hv.boot(dom0, xen2Dom0Kernel());
  const x = dom0.kernel as Xen2Dom0Kernel;
  const c = new Consoles(PLAN9_ROOT_PROMPT);
  c.hv = hv;
  const guests: Domain[] = [];
  for (let i = 0; i < n; i++) {
    const g = hv.createDomain({ name: `plan9-${i + 1}` });
    const out = c.sink(i);
    const local = x.createControlChannel(g, { write: (b) => out(b) });
    if (local < 0) throw new Error(`xen 2.0 boot bench: control channel for guest ${i + 1} failed: ${local} (dom0 has ${dom0.ports.active} ports)`);
    guests.push(g);
  }
  for (const g of guests) hv.boot(g, plan9Kernel());
  const t1 = nowNs();
  const v0 = hv.now;
  runUntil(hv, c, n, v0 + 10e9);
  const t2 = nowNs();
  return { buildNs: Number(t1 - t0), runNs: Number(t2 - t1), virtualNs: c.lastAt - v0, reached: c.reached, dom0Ports: dom0.ports.active };
}

function bootModern(n: number): BootResult {
  const t0 = nowNs();
  const hv = new Hypervisor({ seed: 1 });
  const dom0 = hv.createDomain({ name: 'dom0' });
  hv.boot(dom0, dom0Kernel());
  const k = dom0.kernel as Dom0Kernel;
  const c = new Consoles(MINIOS_PROMPT);
  c.hv = hv;
  const guests: Domain[] = [];
  for (let i = 0; i < n; i++) {
    const g = hv.createDomain({ name: `minios-${i + 1}` });
    k.buildGuest(g, c.sink(i));
    guests.push(g);
  }
  for (const g of guests) hv.boot(g, miniosKernel());
  const t1 = nowNs();
  const v0 = hv.now;
  runUntil(hv, c, n, v0 + 10e9);
  const t2 = nowNs();
  return { buildNs: Number(t1 - t0), runNs: Number(t2 - t1), virtualNs: c.lastAt - v0, reached: c.reached, dom0Ports: dom0.ports.active };
}

export function benchBoot(rows: Row[], n = 1000): void {
  for (const [label, fn, prompt] of [
    [`Xen 2.0: xend + ${n} plan9 guests reach the root prompt`, bootXen2, 'root is from'],
    [`modern: dom0 + ${n} minios guests reach minios>`, bootModern, 'minios>'],
  ] as const) {
    let r: BootResult;
    try {
      r = fn(n);
    } catch (e) {
      rows.push({ name: `6. ${label}`, value: NaN, unit: 's', target: '< 5', pass: false, note: (e as Error).message });
      continue;
    }
    const wall = (r.buildNs + r.runNs) / 1e9;
    const ok = r.reached === n;
    rows.push({
      name: `6. ${label}`,
      value: wall,
      unit: 's',
      target: '< 5',
      pass: ok && wall < 5,
      note: `${r.reached}/${n} consoles show "${prompt}"; build ${(r.buildNs / 1e9).toFixed(2)} s, run ${(r.runNs / 1e9).toFixed(2)} s; dom0 ports in use ${r.dom0Ports}${fn === bootXen2 ? ' of the 1024 a Xen 2.0 port table can hold' : ''}`,
    });
    rows.push({ name: '   virtual time to the last prompt', value: r.virtualNs / 1e3, unit: 'us', target: '-', pass: null });
  }
}
