/**
 * Runs a generated command list against the real core and the reference
 * model (model.ts) side by side, and checks after every command:
 *
 *  - results: every hypercall's ret and output agree with the model;
 *  - exact state: the shared_info bytes Xen and the guest own (2-level
 *    pending/mask bitmaps, per-vCPU upcall_pending/upcall_mask/pending_sel),
 *    the FIFO event words and control blocks, and the delivery counts;
 *  - invariants read straight from the raw pages (independent of the model):
 *    a pending bit only on a bound port, selector/ready bits only with
 *    upcall_pending, a closed port is closed/vCPU 0/not pending,
 *    bind_interdomain leaves the new port pending, a notification to a masked
 *    port raises no upcall, a send on an unbound port changes nothing, a failed
 *    op changes nothing (apart from Xen's 64-port bucket growth, §2.4/§3.1);
 *  - over each run of the clock: masked ports gain no deliveries, no port gains
 *    more deliveries than notifications it received (coalescing), and a port
 *    notified while deliverable is delivered (no event lost);
 *  - status of every valid port agrees with the model after each run.
 *
 * Time discipline: commands run 5 µs into a 10 ms timer period; a run
 * advances whole periods, so the model knows the order of what happens in it
 * (the upcalls already due, ~1–1.5 µs later, then per period every VIRQ_TIMER
 * tick and the upcalls it causes) without depending on the PRNG's jitter. A
 * short run (100 ns, never reaching the upcall latency) must deliver nothing.
 *
 * The core is only driven through its public surface: hypercall(), the
 * guest library's local mask operations, Hypervisor.run/destroy and the
 * Xen-side raise functions for VIRQs and PIRQs.
 */
import { Hypervisor } from '../../../src/core/hv/hypervisor.js';
import type { Domain } from '../../../src/core/hv/domain.js';
import { defaultKernel, type DefaultKernel } from '../../../src/core/guest/kernel.js';
import { hypercall, OPS, type HypercallResult } from '../../../src/core/hv/hypercall.js';
import * as evtchn from '../../../src/core/hv/event_channel.js';
import { DOMID_SELF, FIFO_WORDS, Model, virqType, type DomSpec, type MDomain, type StatusOut } from './model.js';

// ---------------------------------------------------------------- commands

/** Picks are small numbers resolved against the model's state when the command runs, so shrinking keeps them meaningful. */
export type Cmd =
  | { op: 'alloc_unbound'; d: number; dom: number; remote: number }
  | { op: 'fill'; d: number; n: number; remote: number }
  | { op: 'connect'; d: number; peer: number; byDom0: boolean }
  | { op: 'grow_fail'; d: number; by: number }
  | { op: 'mask_peer_send'; d: number; port: number }
  | { op: 'move_virq'; d: number; virq: number; vcpu: number }
  | { op: 'bind_interdomain'; d: number; pick: number }
  | { op: 'bind_virq'; d: number; virq: number; vcpu: number }
  | { op: 'bind_ipi'; d: number; vcpu: number }
  | { op: 'bind_pirq'; d: number; pirq: number }
  | { op: 'close'; d: number; port: number }
  | { op: 'send'; d: number; port: number }
  | { op: 'bind_vcpu'; d: number; port: number; vcpu: number }
  | { op: 'unmask'; d: number; port: number }
  | { op: 'status'; d: number; dom: number; port: number }
  | { op: 'reset'; d: number; dom: number }
  | { op: 'set_priority'; d: number; port: number; priority: number }
  | { op: 'mask'; d: number; port: number }
  | { op: 'clear_mask'; d: number; port: number }
  | { op: 'upcall_mask'; d: number; vcpu: number; on: boolean }
  | { op: 'raise_virq'; d: number; virq: number; vcpu: number }
  | { op: 'raise_pirq'; d: number; pirq: number }
  | { op: 'run'; periods: number }
  | { op: 'run_short' }
  | { op: 'destroy'; d: number };

export interface WorldSpec {
  seed: number;
  doms: DomSpec[];
}

// ---------------------------------------------------------------- raw page readers (byte offsets from the reference, §5.1, §6.1)

const PENDING_U32 = 2048 / 4;
const MASK_U32 = 2560 / 4;
const FIFO_P = 0x80000000;
const FIFO_M = 0x40000000;
const FIFO_L = 0x20000000;
const FIFO_LINK = 0x1ffff;
/** DefaultKernel's own pages (allocKernelPage, from gfn 768): FIFO control blocks per vCPU, then event-array page 0. */
const KERNEL_FIRST_GFN = 768;

const u32 = (page: Uint8Array): Uint32Array => new Uint32Array(page.buffer, page.byteOffset, 1024);

function controlBlock(d: Domain, vcpu: number): Uint32Array {
  return u32(d.memory.frame(KERNEL_FIRST_GFN + vcpu)!);
}
function eventArray(d: Domain): Uint32Array {
  return u32(d.memory.frame(KERNEL_FIRST_GFN + d.vcpus.length)!);
}
function rawPending(d: Domain, abi: '2l' | 'fifo', p: number): boolean {
  if (abi === 'fifo') return p < FIFO_WORDS && (eventArray(d)[p]! & FIFO_P) !== 0;
  const s = new Uint32Array(d.sharedInfo.buffer);
  return ((s[PENDING_U32 + (p >>> 5)]! >>> (p & 31)) & 1) !== 0;
}

// ---------------------------------------------------------------- statistics (to show the properties are exercised)

export const stats = {
  commands: 0,
  okOps: 0,
  failedOps: 0,
  interdomainBinds: 0,
  notifications: 0,
  sendCmds: 0,
  runs: 0,
  deliveries: 0,
  livenessChecked: 0,
  maskedRunChecks: 0,
  maskedNotifications: 0,
  droppedUnboundSends: 0,
  bucketGrowthOnFailure: 0,
  closes: 0,
  statusCompared: 0,
  destroys: 0,
  resets: 0,
};
export function resetStats(): void {
  for (const k of Object.keys(stats) as (keyof typeof stats)[]) stats[k] = 0;
}

class PropertyFailure extends Error {}

// ---------------------------------------------------------------- the runner

const PERIOD = 10_000_000; // default VIRQ_TIMER period
const OFFSET = 5_000; // commands run at this offset into a timer period, far from any tick

export class Runner {
  readonly hv: Hypervisor;
  readonly model = new Model();
  readonly doms: Domain[] = [];
  readonly log: string[] = [];
  private shortRunNs = 0;

  constructor(world: WorldSpec) {
    this.hv = new Hypervisor({ seed: world.seed });
    world.doms.forEach((spec, i) => {
      const cfg: Parameters<Hypervisor['createDomain']>[0] = { name: i === 0 ? 'dom0' : `guest${i}`, vcpus: spec.vcpus };
      if (spec.maxEvtchnPort !== undefined) cfg.maxEvtchnPort = spec.maxEvtchnPort;
      if (spec.pirqs !== undefined) cfg.pirqs = spec.pirqs;
      this.doms.push(this.hv.createDomain(cfg, defaultKernel(spec.abi)));
      this.model.addDomain(spec);
      this.log.push(`create d${i} vcpus=${spec.vcpus} abi=${spec.abi}${spec.maxEvtchnPort !== undefined ? ` max_evtchn_port=${spec.maxEvtchnPort}` : ''}`);
    });
    this.hv.runUntil(OFFSET);
    this.checkAll('after boot');
  }

  // ---- failure reporting

  fail(msg: string): never {
    throw new PropertyFailure(`${msg}\n--- transcript (resolved commands, last 60) ---\n${this.log.slice(-60).join('\n')}`);
  }

  private eq(actual: unknown, expected: unknown, what: string): void {
    const a = JSON.stringify(actual);
    const e = JSON.stringify(expected);
    if (a !== e) this.fail(`${what}: core ${a}, model ${e}`);
  }

  // ---- helpers

  private kernel(i: number): DefaultKernel {
    return this.doms[i]!.kernel as DefaultKernel;
  }

  private call(caller: number, name: string, args: Record<string, number>): HypercallResult {
    return hypercall(this.hv, this.doms[caller]!, OPS.get(name)!, args as never);
  }

  /** Status of a port of domain `id`, asked by dom0 (always permitted). */
  private coreStatus(id: number, port: number): StatusOut {
    const r = this.call(0, 'status', { dom: id, port });
    return r.ret < 0 ? { ret: r.ret } : { ret: 0, ...(r.out as object) };
  }

  /** Number of valid ports, found by probing status at bucket boundaries (valid ports come in buckets of 64). */
  private coreValid(id: number): number {
    let n = 0;
    while (this.coreStatus(id, n).ret === 0) n += 64;
    return n;
  }

  private pickDom(i: number): number {
    const opts = [DOMID_SELF, ...this.model.doms.map((d) => d.id), 9];
    return opts[i % opts.length]!;
  }

  /**
   * A port of model domain `d`: usually one in a preferred state (sendable, or able to receive),
   * else any bound one, sometimes port 0, a free, the first invalid or a far invalid port.
   */
  private pickPort(d: MDomain, pick: number, prefer: 'any' | 'send' | 'receive' = 'any'): number {
    if (pick < 0) return -1 - pick; // an exact port, from a compound command
    const bound: number[] = [];
    const preferred: number[] = [];
    for (let p = 1; p < d.valid; p++) {
      if (!this.model.isBound(d, p)) continue;
      bound.push(p);
      const st = d.ports[p]!.state;
      if (prefer === 'send' ? st === 'interdomain' || st === 'ipi' : prefer === 'receive' && st !== 'unbound') preferred.push(p);
    }
    const k = pick % 8;
    const i = Math.floor(pick / 8);
    if (k < 5 && preferred.length > 0) return preferred[i % preferred.length]!;
    if (k < 7 && bound.length > 0) return bound[i % bound.length]!;
    let free = d.valid - 1;
    for (let p = 1; p < d.valid; p++) {
      if (d.ports[p]!.state === 'free') {
        free = p;
        break;
      }
    }
    const extras = [0, free, d.valid, 4095, 5000];
    return extras[i % extras.length]!;
  }

  // ---- snapshots (failed ops, dropped sends)

  private snapshot(): { valid: number[]; status: string[][]; shared: Uint8Array[]; fifo: Uint8Array[][]; deliveries: number[][] } {
    const s = { valid: [] as number[], status: [] as string[][], shared: [] as Uint8Array[], fifo: [] as Uint8Array[][], deliveries: [] as number[][] };
    this.model.doms.forEach((md, i) => {
      if (!md.alive) return;
      const d = this.doms[i]!;
      const valid = this.coreValid(i);
      s.valid[i] = valid;
      s.status[i] = Array.from({ length: valid }, (_, p) => JSON.stringify(this.coreStatus(i, p)));
      s.shared[i] = d.sharedInfo.slice();
      s.fifo[i] = Array.from({ length: d.vcpus.length + 1 }, (_, k) => d.memory.frame(KERNEL_FIRST_GFN + k)!.slice());
      s.deliveries[i] = Array.from({ length: Math.max(valid, this.kernel(i).delivered.length) }, (_, p) => this.kernel(i).deliveries(p));
    });
    return s;
  }

  /** Nothing changed since `before`, except port storage growing by whole 64-port buckets of closed ports, as the model predicts. */
  private unchangedSince(before: ReturnType<Runner['snapshot']>, what: string, allowGrowth: boolean): void {
    const after = this.snapshot();
    this.model.doms.forEach((md, i) => {
      if (!md.alive) return;
      const vb = before.valid[i]!;
      const va = after.valid[i]!;
      if (va !== vb) {
        if (!allowGrowth) this.fail(`${what}: d${i} port storage changed from ${vb} to ${va} valid ports`);
        if (va % 64 !== 0 || va < vb) this.fail(`${what}: d${i} valid ports went ${vb} -> ${va}`);
        if (va !== md.valid) this.fail(`${what}: d${i} grew to ${va} valid ports, model says ${md.valid}`);
        stats.bucketGrowthOnFailure++;
      }
      for (let p = 0; p < va; p++) {
        const b = p < vb ? before.status[i]![p]! : JSON.stringify({ ret: 0, status: 'closed', vcpu: 0 });
        if (after.status[i]![p] !== b) this.fail(`${what}: d${i} port ${p} status changed: ${b} -> ${after.status[i]![p]}`);
      }
      const sb = before.shared[i]!;
      const sa = after.shared[i]!;
      for (let k = 0; k < sb.length; k++) if (sb[k] !== sa[k]) this.fail(`${what}: d${i} shared_info byte ${k} changed ${sb[k]} -> ${sa[k]}`);
      before.fifo[i]!.forEach((pb, n) => {
        const pa = after.fifo[i]![n]!;
        for (let k = 0; k < pb.length; k++) if (pb[k] !== pa[k]) this.fail(`${what}: d${i} FIFO page ${n} byte ${k} changed`);
      });
      const db = before.deliveries[i]!;
      const da = after.deliveries[i]!;
      for (let p = 0; p < Math.max(db.length, da.length); p++) {
        if ((db[p] ?? 0) !== (da[p] ?? 0)) this.fail(`${what}: d${i} deliveries(${p}) changed ${db[p] ?? 0} -> ${da[p] ?? 0}`);
      }
    });
  }

  // ---- exact comparison with the model

  private compareState(where: string): void {
    this.model.doms.forEach((md, i) => {
      if (!md.alive) return;
      const d = this.doms[i]!;
      const s = new Uint32Array(d.sharedInfo.buffer);
      for (let w = 0; w < 128; w++) {
        if (s[PENDING_U32 + w] !== md.pend[w]) this.fail(`${where}: d${i} 2L pending word ${w} (ports ${w * 32}..${w * 32 + 31}): core ${hex(s[PENDING_U32 + w]!)}, model ${hex(md.pend[w]!)}`);
        if (s[MASK_U32 + w] !== md.mask[w]) this.fail(`${where}: d${i} 2L mask word ${w}: core ${hex(s[MASK_U32 + w]!)}, model ${hex(md.mask[w]!)}`);
      }
      md.vcpus.forEach((mv, v) => {
        const up = d.sharedInfo[v * 64]!;
        const um = d.sharedInfo[v * 64 + 1]!;
        const sel: [number, number] = [s[(v * 64 + 8) / 4]!, s[(v * 64 + 12) / 4]!];
        if (up !== (mv.up ? 1 : 0)) this.fail(`${where}: d${i} vcpu${v} upcall_pending core ${up}, model ${mv.up ? 1 : 0}`);
        if (um !== (mv.um ? 1 : 0)) this.fail(`${where}: d${i} vcpu${v} upcall_mask core ${um}, model ${mv.um ? 1 : 0}`);
        if (sel[0] !== mv.sel[0] || sel[1] !== mv.sel[1]) this.fail(`${where}: d${i} vcpu${v} pending_sel core ${hex(sel[1])}${hex(sel[0])}, model ${hex(mv.sel[1])}${hex(mv.sel[0])}`);
        if (md.abi === 'fifo') {
          const cb = controlBlock(d, v);
          if (cb[0] !== mv.ready) this.fail(`${where}: d${i} vcpu${v} FIFO ready core ${hex(cb[0]!)}, model ${hex(mv.ready)}`);
          for (let q = 0; q < 16; q++) if (cb[2 + q] !== mv.head[q]) this.fail(`${where}: d${i} vcpu${v} FIFO head[${q}] core ${cb[2 + q]}, model ${mv.head[q]}`);
        }
      });
      if (md.abi === 'fifo') {
        const arr = eventArray(d);
        for (let p = 0; p < FIFO_WORDS; p++) {
          const w = md.fifo[p]!;
          const want = ((w.p ? FIFO_P : 0) | (w.m ? FIFO_M : 0) | (w.l ? FIFO_L : 0) | w.link) >>> 0;
          if (arr[p] !== want) this.fail(`${where}: d${i} FIFO word of port ${p}: core ${fifoWord(arr[p]!)}, model ${fifoWord(want)}`);
        }
      }
      const k = this.kernel(i);
      const n = Math.max(md.valid, k.delivered.length);
      for (let p = 0; p < n; p++) {
        const want = md.deliveries[p] ?? 0;
        if (k.deliveries(p) !== want) this.fail(`${where}: d${i} deliveries(${p}) core ${k.deliveries(p)}, model ${want}`);
      }
    });
  }

  /** Invariants read from the raw pages, checked against status (not the model). */
  private checkInvariants(where: string): void {
    this.model.doms.forEach((md, i) => {
      if (!md.alive) return;
      const d = this.doms[i]!;
      const s = new Uint32Array(d.sharedInfo.buffer);
      // Pending bits only on bound ports.
      const pendingPorts: number[] = [];
      if (md.abi === '2l') {
        for (let w = 0; w < 128; w++) {
          const bits = s[PENDING_U32 + w]!;
          for (let b = 0; b < 32; b++) if ((bits >>> b) & 1) pendingPorts.push(w * 32 + b);
        }
      } else {
        const arr = eventArray(d);
        for (let p = 0; p < FIFO_WORDS; p++) if ((arr[p]! & FIFO_P) !== 0) pendingPorts.push(p);
      }
      for (const p of pendingPorts) {
        const st = this.coreStatus(i, p);
        if (st.ret !== 0 || st.status === 'closed') this.fail(`${where}: d${i} port ${p} is pending but not bound (status ${JSON.stringify(st)})`);
      }
      // Selector / ready bits only while an upcall is owed.
      for (let v = 0; v < d.vcpus.length; v++) {
        const up = d.sharedInfo[v * 64]!;
        const sel = s[(v * 64 + 8) / 4]! | s[(v * 64 + 12) / 4]!;
        if (sel !== 0 && up === 0) this.fail(`${where}: d${i} vcpu${v} has selector bits ${hex(sel)} without upcall_pending`);
        if (md.abi === 'fifo' && controlBlock(d, v)[0] !== 0 && up === 0) this.fail(`${where}: d${i} vcpu${v} has FIFO ready bits without upcall_pending`);
      }
    });
  }

  private compareAllStatus(where: string): void {
    this.model.doms.forEach((md, i) => {
      if (!md.alive) return;
      const valid = this.coreValid(i);
      if (valid !== md.valid) this.fail(`${where}: d${i} has ${valid} valid ports, model ${md.valid}`);
      for (let p = 0; p < valid; p++) {
        this.eq(this.coreStatus(i, p), this.model.status(this.model.doms[0]!, i, p), `${where}: status d${i} port ${p}`);
        stats.statusCompared++;
      }
    });
  }

  checkAll(where: string): void {
    this.compareState(where);
    this.checkInvariants(where);
  }

  finish(): void {
    stats.notifications += this.model.notifications;
    this.compareAllStatus('end');
    this.checkAll('end');
  }

  // ---- hypercall plumbing

  /** Runs a hypercall on the core and its model twin; a predicted failure is checked to change nothing. */
  private hcall(caller: number, name: string, args: Record<string, number>, model: () => number | StatusOut, show: string): HypercallResult {
    // The model is consulted first; for a predicted failure the core is snapshotted before it runs.
    const m = model();
    const mret = typeof m === 'number' ? Math.min(m, 0) : m.ret;
    const before = mret < 0 ? this.snapshot() : undefined;
    const r = this.call(caller, name, args);
    const port = typeof m === 'number' && m > 0 ? m : undefined;
    this.log.push(`d${caller}.${name}(${show}) -> ${r.ret}${r.out !== undefined ? ` ${JSON.stringify(r.out)}` : ''}`);
    if (r.ret !== mret) this.fail(`d${caller}.${name}(${show}) returned ${r.ret}, model ${mret}`);
    if (port !== undefined) {
      const got = (r.out?.port ?? r.out?.local_port) as number;
      if (got !== port) this.fail(`d${caller}.${name}(${show}) gave port ${got}, model ${port}`);
    }
    if (typeof m !== 'number') this.eq({ ret: r.ret, ...(r.out ?? {}) }, m, `d${caller}.${name}(${show}) output`);
    if (before !== undefined) {
      stats.failedOps++;
      this.unchangedSince(before, `failed d${caller}.${name}(${show}) = ${r.ret}`, true);
    } else stats.okOps++;
    return r;
  }

  /** The port and domain a notification on (d, port) would reach, from the model's state before it happens. */
  private sendTarget(md: MDomain, port: number): { d: MDomain; port: number } | undefined {
    const p = md.ports[port];
    if (p === undefined) return undefined;
    if (p.state === 'ipi') return { d: md, port };
    if (p.state === 'interdomain') return { d: this.model.dom(p.remoteDom)!, port: p.remotePort };
    return undefined;
  }

  /** Xen notifies `target`: if its port is masked, no upcall byte, selector or ready bit may change (§5.2, §6.3). */
  private notification(target: { d: MDomain; port: number } | undefined, act: () => void): void {
    if (target === undefined || !this.model.isBound(target.d, target.port) || !this.model.masked(target.d, target.port)) {
      act();
      return;
    }
    stats.maskedNotifications++;
    const d = this.doms[target.d.id]!;
    const n = d.vcpus.length;
    const info = d.sharedInfo.slice(0, n * 64);
    const ready = target.d.abi === 'fifo' ? Array.from({ length: n }, (_, v) => controlBlock(d, v)[0]) : [];
    act();
    const info2 = d.sharedInfo.slice(0, n * 64);
    for (let k = 0; k < info.length; k++) {
      if (k % 64 >= 16) continue; // time fields are not the event machinery's
      if (info[k] !== info2[k]) this.fail(`notification to masked d${target.d.id} port ${target.port} changed vcpu_info byte ${k}`);
    }
    if (target.d.abi === 'fifo') this.eq(Array.from({ length: n }, (_, v) => controlBlock(d, v)[0]), ready, `notification to masked d${target.d.id} port ${target.port}: FIFO ready`);
  }

  // ---- commands

  exec(c: Cmd): void {
    stats.commands++;
    const m = this.model;
    if ('d' in c) {
      const md = m.doms[c.d % m.doms.length]!;
      if (!md.alive && c.op !== 'destroy') return; // a destroyed domain makes no hypercalls
      this.execOn(c, md.id, md);
    } else if (c.op === 'run') this.run(c.periods);
    else this.runShort();
    this.checkAll(`after ${this.log[this.log.length - 1] ?? c.op}`);
  }

  private execOn(c: Cmd & { d: number }, i: number, md: MDomain): void {
    const m = this.model;
    const k = this.kernel(i);
    switch (c.op) {
      case 'alloc_unbound': {
        const dom = this.pickDom(c.dom);
        const remote = this.pickDom(c.remote);
        this.hcall(i, 'alloc_unbound', { dom, remote_dom: remote }, () => m.allocUnbound(md, dom, remote), `dom=${domName(dom)}, remote_dom=${domName(remote)}`);
        break;
      }
      case 'fill':
        for (let n = 0; n < c.n && md.valid < 900; n++) {
          const remote = this.pickDom(c.remote + n);
          this.hcall(i, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: remote }, () => m.allocUnbound(md, DOMID_SELF, remote), `dom=SELF, remote_dom=${domName(remote)}`);
        }
        break;
      case 'move_virq': {
        // A per-domain or global VIRQ bound on vCPU 0, moved with bind_vcpu, then raised: it follows its notify vCPU (§3.15).
        this.execOn({ op: 'bind_virq', d: i, virq: c.virq, vcpu: 0 }, i, md);
        const owner = virqType(c.virq) === 'global' ? m.dom(0)! : md;
        const p = owner.vcpus[0]!.virqToPort[c.virq]!;
        if (p !== 0 && owner === md) this.execOn({ op: 'bind_vcpu', d: i, port: -1 - p, vcpu: c.vcpu }, i, md);
        this.execOn({ op: 'raise_virq', d: i, virq: c.virq, vcpu: 0 }, i, md);
        break;
      }
      case 'mask_peer_send': {
        // The receiving guest masks its end, then this domain notifies it (§5.2 / §6.3: pending, no upcall).
        const port = this.pickPort(md, c.port, 'send');
        const t = this.sendTarget(md, port);
        if (t !== undefined) this.execOn({ op: 'mask', d: t.d.id, port: -1 - t.port }, t.d.id, t.d);
        this.execOn({ op: 'send', d: i, port: -1 - port }, i, md);
        break;
      }
      case 'grow_fail': {
        // Fill every port of the current bucket, then make an op fail after it has allocated
        // the next bucket: Xen keeps the new storage (§2.4, §3.1), nothing else may change.
        for (let n = 0; n < 64; n++) {
          let free = false;
          for (let p = 1; p < md.valid; p++) if (md.ports[p]!.state === 'free' && !(md.abi === 'fifo' && md.fifo[p]!.l)) free = true;
          if (!free) break;
          const r = this.hcall(i, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 }, () => m.allocUnbound(md, DOMID_SELF, 0), 'dom=SELF, remote_dom=0');
          if (r.ret !== 0) break;
        }
        const other = m.doms[c.by % m.doms.length]!;
        if (other !== md && !other.privileged && other.alive) {
          // An unprivileged domain allocating in this one: the port is chosen before -EPERM.
          this.hcall(other.id, 'alloc_unbound', { dom: i, remote_dom: 0 }, () => m.allocUnbound(other, i, 0), `dom=${i}, remote_dom=0`);
        } else {
          // bind_interdomain to port 0 (reserved): the local port is chosen before -EINVAL.
          this.hcall(i, 'bind_interdomain', { remote_dom: 0, remote_port: 0 }, () => m.bindInterdomain(md, 0, 0), 'remote_dom=0, remote_port=0');
        }
        break;
      }
      case 'connect': {
        // The usual split-driver handshake (§13.4): an unbound port for the peer, which binds it.
        const peer = m.doms[c.peer % m.doms.length]!;
        if (!peer.alive) break;
        const maker = c.byDom0 ? 0 : i;
        const dom = c.byDom0 ? i : DOMID_SELF;
        const r = this.hcall(maker, 'alloc_unbound', { dom, remote_dom: peer.id }, () => m.allocUnbound(m.doms[maker]!, dom, peer.id), `dom=${domName(dom)}, remote_dom=${peer.id}`);
        if (r.ret !== 0) break;
        const port = r.out!.port as number;
        const b = this.hcall(peer.id, 'bind_interdomain', { remote_dom: i, remote_port: port }, () => m.bindInterdomain(peer, i, port), `remote_dom=${i}, remote_port=${port}`);
        if (b.ret === 0) stats.interdomainBinds++;
        break;
      }
      case 'bind_interdomain': {
        const { dom, port } = this.pickInterdomainTarget(md, c.pick);
        const target = dom === DOMID_SELF ? md : m.dom(dom);
        const r = this.hcall(i, 'bind_interdomain', { remote_dom: dom, remote_port: port }, () => m.bindInterdomain(md, dom, port), `remote_dom=${domName(dom)}, remote_port=${port}`);
        if (r.ret === 0) {
          stats.interdomainBinds++;
          const lp = r.out!.local_port as number;
          // §3.2 step 7: the binder's new port is always left pending.
          if (!rawPending(this.doms[i]!, md.abi, lp)) this.fail(`bind_interdomain: d${i} new port ${lp} is not pending`);
          const st = this.coreStatus(target!.id, port);
          this.eq(st, { ret: 0, status: 'interdomain', vcpu: target!.ports[port]!.vcpu, u: { interdomain: { dom: i, port: lp } } }, `bind_interdomain: remote end d${target!.id}:${port}`);
        }
        break;
      }
      case 'bind_virq':
        this.hcall(i, 'bind_virq', { virq: c.virq, vcpu: c.vcpu }, () => m.bindVirq(md, c.virq, c.vcpu), `virq=${c.virq}, vcpu=${c.vcpu}`);
        break;
      case 'bind_ipi':
        this.hcall(i, 'bind_ipi', { vcpu: c.vcpu }, () => m.bindIpi(md, c.vcpu), `vcpu=${c.vcpu}`);
        break;
      case 'bind_pirq':
        this.hcall(i, 'bind_pirq', { pirq: c.pirq, flags: 0 }, () => m.bindPirq(md, c.pirq), `pirq=${c.pirq}`);
        break;
      case 'close': {
        const port = this.pickPort(md, c.port);
        const peer = md.ports[port]?.state === 'interdomain' ? { dom: md.ports[port].remoteDom, port: md.ports[port].remotePort } : undefined;
        const r = this.hcall(i, 'close', { port }, () => m.close(md, port, true), `port=${port}`);
        if (r.ret === 0) {
          stats.closes++;
          // §3.6: free and clean.
          this.eq(this.coreStatus(i, port), { ret: 0, status: 'closed', vcpu: 0 }, `close: d${i} port ${port} status`);
          if (rawPending(this.doms[i]!, md.abi, port)) this.fail(`close: d${i} port ${port} still has its pending bit`);
          if (peer !== undefined && m.dom(peer.dom) !== undefined && !(peer.dom === i && peer.port === port)) {
            const rp = m.doms[peer.dom]!.ports[peer.port]!;
            this.eq(this.coreStatus(peer.dom, peer.port), { ret: 0, status: 'unbound', vcpu: rp.vcpu, u: { unbound: { dom: i } } }, `close: peer d${peer.dom}:${peer.port}`);
          }
        }
        break;
      }
      case 'send': {
        stats.sendCmds++;
        const port = this.pickPort(md, c.port, 'send');
        const unbound = md.ports[port]?.state === 'unbound';
        const before = unbound ? this.snapshot() : undefined;
        this.notification(this.sendTarget(md, port), () => {
          this.hcall(i, 'send', { port }, () => m.send(md, port), `port=${port}`);
        });
        if (before !== undefined) {
          // §3.7: a send on an unbound port is silently dropped.
          stats.droppedUnboundSends++;
          this.unchangedSince(before, `send on unbound d${i}:${port}`, false);
        }
        break;
      }
      case 'bind_vcpu': {
        const port = this.pickPort(md, c.port, 'receive');
        this.hcall(i, 'bind_vcpu', { port, vcpu: c.vcpu }, () => m.bindVcpu(md, port, c.vcpu), `port=${port}, vcpu=${c.vcpu}`);
        break;
      }
      case 'unmask': {
        const port = this.pickPort(md, c.port, 'receive');
        this.hcall(i, 'unmask', { port }, () => m.unmask(md, port), `port=${port}`);
        break;
      }
      case 'status': {
        const dom = this.pickDom(c.dom);
        const td = dom === DOMID_SELF ? md : m.dom(dom);
        const port = td !== undefined ? this.pickPort(td, c.port) : c.port % 70;
        this.hcall(i, 'status', { dom, port }, () => m.status(md, dom, port), `dom=${domName(dom)}, port=${port}`);
        stats.statusCompared++;
        break;
      }
      case 'reset': {
        const dom = this.pickDom(c.dom);
        const r = this.hcall(i, 'reset', { dom }, () => m.reset(md, dom), `dom=${domName(dom)}`);
        if (r.ret === 0) stats.resets++;
        break;
      }
      case 'set_priority': {
        const port = this.pickPort(md, c.port, 'receive');
        this.hcall(i, 'set_priority', { port, priority: c.priority }, () => m.setPriority(md, port, c.priority), `port=${port}, priority=${c.priority}`);
        break;
      }
      case 'mask':
      case 'clear_mask': {
        const port = this.pickPort(md, c.port, 'receive');
        const on = c.op === 'mask';
        const want = m.guestMask(md, port, on);
        const got = on ? k.maskPort(port) : k.clearMask(port);
        this.log.push(`d${i} guest ${c.op}(${port}) -> ${got}`);
        if (got !== want) this.fail(`d${i} guest ${c.op}(${port}) returned ${got}, model ${want}`);
        break;
      }
      case 'upcall_mask': {
        const v = c.vcpu % md.vcpus.length;
        m.setUpcallMask(md, v, c.on);
        k.setUpcallMask(v, c.on);
        this.log.push(`d${i} guest upcall_mask(vcpu${v}, ${c.on ? 1 : 0})`);
        break;
      }
      case 'raise_virq': {
        const type = virqType(c.virq);
        const v = c.vcpu % md.vcpus.length;
        const d = this.doms[i]!;
        if (type === 'vcpu') {
          const p = md.vcpus[v]!.virqToPort[c.virq]!;
          this.notification(p !== 0 ? { d: md, port: p } : undefined, () => evtchn.sendGuestVcpuVirq(this.hv, d, v, c.virq));
          m.raiseVcpuVirq(md, v, c.virq);
          this.log.push(`xen raises virq ${c.virq} on d${i} vcpu${v}`);
        } else if (type === 'domain') {
          const p = md.vcpus[0]!.virqToPort[c.virq]!;
          this.notification(p !== 0 ? { d: md, port: p } : undefined, () => evtchn.sendGuestDomainVirq(this.hv, d, c.virq));
          m.raiseDomainVirq(md, c.virq);
          this.log.push(`xen raises virq ${c.virq} on d${i}`);
        } else {
          const d0 = m.dom(0)!;
          const p = d0.vcpus[0]!.virqToPort[c.virq]!;
          this.notification(p !== 0 ? { d: d0, port: p } : undefined, () => evtchn.sendGlobalVirq(this.hv, c.virq));
          m.raiseDomainVirq(d0, c.virq);
          this.log.push(`xen raises global virq ${c.virq}`);
        }
        break;
      }
      case 'raise_pirq': {
        const p = md.pirqToPort.get(c.pirq);
        this.notification(p !== undefined ? { d: md, port: p } : undefined, () => evtchn.sendGuestPirq(this.hv, this.doms[i]!, c.pirq));
        m.raisePirq(md, c.pirq);
        this.log.push(`xen raises pirq ${c.pirq} on d${i}`);
        break;
      }
      case 'destroy': {
        const d = this.doms[i]!;
        const want = i === 0 || !md.alive ? -22 : 0; // domain_kill refuses dom0 (the caller itself)
        const before = want < 0 && md.alive ? this.snapshot() : undefined;
        const ret = this.hv.destroy(d);
        this.log.push(`destroy d${i} -> ${ret}`);
        if (ret !== want) this.fail(`destroy d${i} returned ${ret}, expected ${want}`);
        if (want === 0) {
          m.destroy(md);
          stats.destroys++;
        }
        if (before !== undefined) this.unchangedSince(before, `failed destroy d${i}`, false);
        break;
      }
    }
  }

  private pickInterdomainTarget(md: MDomain, pick: number): { dom: number; port: number } {
    const m = this.model;
    const good: { dom: number; port: number }[] = [];
    for (const d of m.doms) {
      if (!d.alive) continue;
      for (let p = 1; p < d.valid; p++) {
        const port = d.ports[p]!;
        if (port.state === 'unbound' && port.remoteDom === md.id) good.push({ dom: d === md && pick % 2 === 0 ? DOMID_SELF : d.id, port: p });
      }
    }
    const i = Math.floor(pick / 4);
    if (pick % 4 !== 3 && good.length > 0) return good[i % good.length]!;
    // Targets that must fail: a bound or free port, port 0, an invalid port, no such domain, a dead domain.
    const others = m.doms.filter((d) => d.alive);
    const od = others[i % others.length]!;
    const bad = [
      { dom: od.id, port: (i * 7) % (od.valid + 3) },
      { dom: od.id, port: 0 },
      { dom: 9, port: 1 },
      { dom: DOMID_SELF, port: od.valid + 64 },
      ...m.doms.filter((d) => !d.alive).map((d) => ({ dom: d.id, port: 1 })),
    ];
    return bad[Math.floor(i / 3) % bad.length]!;
  }

  /** Advance whole timer periods: first the upcalls already due, then each period's tick and its upcalls. */
  private run(periods: number): void {
    const m = this.model;
    const hv = this.hv;
    // Before: what the invariants need.
    const start = m.doms.map((md, i) => {
      if (!md.alive) return undefined;
      const k = this.kernel(i);
      return {
        deliveries: Array.from({ length: md.valid }, (_, p) => k.deliveries(p)),
        masked: Array.from({ length: md.valid }, (_, p) => m.masked(md, p)),
        owed: md.owed.slice(),
        hazard: md.hazard.slice(),
        bound: Array.from({ length: md.valid }, (_, p) => m.isBound(md, p)),
        vcpu: md.ports.map((p) => p.vcpu),
        um: md.vcpus.map((v) => v.um),
        timerTicks: new Map(md.vcpus.filter((v) => v.timerArmed && v.virqToPort[0] !== 0).map((v) => [v.virqToPort[0]!, periods])),
      };
    });
    stats.runs++;
    const target = (Math.floor(hv.now / PERIOD) + periods) * PERIOD + OFFSET;
    hv.runUntil(target);
    this.shortRunNs = 0;
    m.takeUpcalls();
    for (let n = 0; n < periods; n++) {
      m.tick();
      m.takeUpcalls();
    }
    this.log.push(`run ${periods} timer period(s) -> t=${hv.now}`);
    const where = `after run ${periods}`;
    this.compareState(where);
    start.forEach((s, i) => {
      if (s === undefined) return;
      const md = m.doms[i]!;
      const k = this.kernel(i);
      for (let p = 0; p < s.deliveries.length; p++) {
        const delta = k.deliveries(p) - s.deliveries[p]!;
        stats.deliveries += delta;
        // A masked port never raises an upcall and gains no deliveries while masked.
        if (s.masked[p] && s.bound[p]) {
          stats.maskedRunChecks++;
          if (delta !== 0) this.fail(`${where}: d${i} port ${p} was masked but got ${delta} deliveries`);
        }
        // No event invented: at most one delivery for what was owed (notifications coalesce) plus one per timer tick.
        const allowed = (s.owed[p] ? 1 : 0) + (s.timerTicks.get(p) ?? 0);
        if (delta > allowed) this.fail(`${where}: d${i} port ${p} got ${delta} deliveries for ${allowed} notification(s)`);
        // No event lost: notified while deliverable -> delivered.
        if (s.bound[p] && s.owed[p] && !s.hazard[p] && !s.masked[p] && !s.um[s.vcpu[p]!]) {
          stats.livenessChecked++;
          if (delta < 1) this.fail(`${where}: d${i} port ${p} (notify vcpu${s.vcpu[p]}) was notified while deliverable but not delivered`);
        }
      }
      // Every vCPU with upcalls enabled has taken its upcall.
      const d = this.doms[i]!;
      const sh = new Uint32Array(d.sharedInfo.buffer);
      md.vcpus.forEach((mv, v) => {
        if (mv.um) return;
        if (d.sharedInfo[v * 64] !== 0) this.fail(`${where}: d${i} vcpu${v} still has upcall_pending with upcalls enabled`);
        if ((sh[(v * 64 + 8) / 4]! | sh[(v * 64 + 12) / 4]!) !== 0) this.fail(`${where}: d${i} vcpu${v} still has selector bits with upcalls enabled`);
      });
    });
    this.compareAllStatus(where);
  }

  /** Less time than the upcall latency: nothing may be delivered yet. */
  private runShort(): void {
    if (this.shortRunNs + 100 >= 900) {
      this.log.push('run 100ns (skipped: would reach the upcall latency)');
      return;
    }
    this.shortRunNs += 100;
    this.hv.run(100);
    this.log.push(`run 100ns -> t=${this.hv.now}`);
  }
}

function hex(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}

function fifoWord(w: number): string {
  const f = (b: number, s: string): string => ((w & b) !== 0 ? s : '-');
  return `${f(FIFO_P, 'P')}${f(FIFO_M, 'M')}${f(FIFO_L, 'L')} link=${w & FIFO_LINK}`;
}

function domName(id: number): string {
  return id === DOMID_SELF ? 'SELF' : String(id);
}
