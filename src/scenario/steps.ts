/**
 * What a scenario's steps do: the machine built from its domains, and each
 * step performed on it, with expectations and checks compared partially
 * (only what is written). When steps happen is the Execution's business
 * (execution.ts).
 */
import { DOMID_SELF, SHUTDOWN_REASONS, type ShutdownReason } from '../core/abi/domid.js';
import { EINVAL, ESRCH, retName } from '../core/abi/errno.js';
import { VIRQS, VIRQ_PER_VCPU } from '../core/abi/evtchn.js';
import { gntstByName } from '../core/abi/grant.js';
import { defaultKernel, type DefaultKernel } from '../core/guest/kernel.js';
import { MiniOsKernel, miniosKernel } from '../core/guest/minios.js';
import { Plan9Kernel, plan9Kernel } from '../core/guest/plan9.js';
import { Xen2Dom0Kernel, xen2Dom0Kernel } from '../core/tools/dom0.js';
import { Dom0Kernel } from '../core/tools/dom0_modern.js';
import { DiskImage } from '../core/tools/blkback.js';
import { BLKIF_SECTOR_SIZE } from '../core/abi/blkif.js';
import type { ShutdownReason as XendShutdownReason } from '../core/tools/xend.js';
import { utf8, utf8Decode } from '../core/util/bytes.js';
import { BackRing, FrontRing } from '../core/guest/ring.js';
import type { Domain } from '../core/hv/domain.js';
import { endAccess, grantAccess } from '../core/hv/grant_table.js';
import { hypercall, OPS, type ResolvedArgs } from '../core/hv/hypercall.js';
import { Hypervisor } from '../core/hv/hypervisor.js';
import { sendGuestPirqXen2, sendGuestVirqXen2 } from '../core/hv/event_channel_xen2.js';
import * as xen2 from '../core/abi/xen2.js';
import { sendGuestDomainVirq, sendGuestPirq, sendGuestVcpuVirq } from '../core/hv/event_channel.js';
import type { XsStore } from '../core/tools/xs_store.js';
import { armPortFault } from '../core/hv/port_faults.js';
import { FAULT, FAULT_EVENT, TK } from '../core/sim/trace.js';
import type { Pos } from './errors.js';
import type { ArgValue, ExpectNode, NumArg, Scenario, Step } from './model.js';
import type { Failure, RunOptions, RunResult, StepResult } from './runner.js';
import { FinalExpectations } from './final_expect.js';
import { portFacts } from './port_facts.js';
import { ScriptKernel } from './script_kernel.js';
import { ConsoleLog } from './console_log.js';

interface RingPair {
  front?: { domid: number; ring: FrontRing };
  back?: { domid: number; ring: BackRing };
}

/**
 * A scenario's machine and what its steps do to it: builds the domains, then
 * performs one step at a time for an Execution (execution.ts), which decides
 * when (virtual time, waiting steps). Failures are collected, never thrown.
 */
export class StepRunner {
  readonly hv: Hypervisor;
  readonly failures: Failure[] = [];
  readonly results: StepResult[] = [];
  private readonly vars = new Map<string, number>();
  private readonly rings = new Map<string, RingPair>();
  private stepOk = true;
  /** The step's label with its $names replaced by their values, when it has any. */
  private liveLabel: string | undefined;

  private readonly onConsole: RunOptions['onConsole'];

  constructor(readonly sc: Scenario, opts: RunOptions) {
    this.onConsole = opts.onConsole;
    this.hv = new Hypervisor({ seed: opts.seed ?? sc.seed, xen: sc.xen });
    opts.onMachine?.(this.hv);
    // Counters and trace counts read the trace from the start.
    this.final = sc.expect === undefined ? undefined : new FinalExpectations(sc.expect, this.hv);
    for (const d of sc.domains) {
      const cfg = { name: d.name, vcpus: d.vcpus, pirqs: d.pirqs, memoryPages: d.memoryPages, cmdline: d.cmdline };
      const dom = this.hv.createDomain(d.maxEvtchnPort === undefined ? cfg : { ...cfg, maxEvtchnPort: d.maxEvtchnPort });
      if (d.kernel === 'plan9') {
        // xend builds the control channel and writes it into start_info before the kernel boots.
        const out = this.consoleOf(dom.name, dom.domid);
        this.dom0Xend()!.createControlChannel(dom, { write: (b) => out(b) });
      } else if (d.kernel === 'minios') {
        // The toolstack lays out the store and console rings and fills start_info before the kernel boots.
        const out = this.consoleOf(dom.name, dom.domid);
        const k0 = this.dom0Modern()!;
        k0.buildGuest(dom, (b) => void out(b));
        // The toolstack adds the domain's devices before its kernel boots, as xl create does.
        this.attachDevices(dom, d);
      } else if (d.domid !== 0 && sc.xen === '4') {
        // No frontend driver in the guest: the toolstack still adds its devices, and the steps play the frontend.
        this.attachDevices(dom, d);
      }
      const custom = opts.kernels?.get(d.name);
      if (custom !== undefined) {
        const out = this.consoleOf(dom.name, dom.domid);
        // A custom kernel that takes control messages gets a control channel from xend, as a plan9 guest does.
        if (custom.controlChannel === true) this.dom0Xend()?.createControlChannel(dom, { write: (b) => out(b) });
        this.hv.boot(dom, (hv, dd) => custom(hv, dd, (b) => void out(b)));
      } else this.hv.boot(dom, this.kernelFor(d.kernel, d.domid, sc));
    }
    this.hv.trace.flush();
  }

  /** xl create's disks and vifs: the toolstack adds the domain's devices before its kernel boots. */
  private attachDevices(dom: Domain, d: Scenario['domains'][number]): void {
    const k0 = this.dom0Modern();
    if (k0 === undefined) return;
    for (const b of d.devices.block) k0.attachDisk(dom, b.devid, new DiskImage(b.sectors, BLKIF_SECTOR_SIZE, { readOnly: b.readonly, content: utf8(b.content) }));
    for (const n of d.devices.network) k0.attachVif(dom, n.devid, n.mac);
  }

  /** Console bytes by domain name, in arrival order. */
  private readonly consoles = new Map<string, ConsoleLog>();

  private consoleOf(name: string, domid: number): (bytes: Uint8Array) => number {
    const log = new ConsoleLog();
    this.consoles.set(name, log);
    return (b) => {
      log.append(b);
      this.onConsole?.(domid, b);
      return b.length;
    };
  }

  private kernelFor(name: Scenario['domains'][number]['kernel'], domid: number, sc: Scenario) {
    if (name === 'plan9') return plan9Kernel();
    if (name === 'minios') return miniosKernel();
    if (domid === 0 && sc.xen === '2.0') return xen2Dom0Kernel();
    if (domid === 0) return (hv: Hypervisor, d: Domain) => new Dom0Kernel(hv, d, sc.abi);
    return defaultKernel(sc.abi);
  }

  /** dom0's kernel when it runs xenstored and xenconsoled (modern Xen), else undefined. */
  private dom0Modern(): Dom0Kernel | undefined {
    const k = this.hv.domain(0)?.kernel;
    return k instanceof Dom0Kernel ? k : undefined;
  }

  /** dom0's kernel when it runs xend (Xen 2.0), else undefined. */
  private dom0Xend(): Xen2Dom0Kernel | undefined {
    const k = this.hv.domain(0)?.kernel;
    return k instanceof Xen2Dom0Kernel ? k : undefined;
  }

  consoleTexts(): Record<string, string> {
    const out: Record<string, string> = {};
    const xend = this.dom0Xend();
    if (xend !== undefined) out[this.hv.domain(0)!.name] = xend.console.join('');
    const modern = this.dom0Modern();
    if (modern !== undefined) out[this.hv.domain(0)!.name] = modern.console.join('');
    for (const [name, log] of this.consoles) out[name] = utf8Decode(log.view());
    return out;
  }

  fail(at: { pos: Pos; path: string }, message: string, expected?: unknown, found?: unknown): void {
    this.stepOk = false;
    const f: Failure = { file: at.pos.file ?? this.sc.file, line: at.pos.line, col: at.pos.col, path: at.path, message };
    if (expected !== undefined) f.expected = expected;
    if (found !== undefined) f.found = found;
    this.failures.push(f);
  }

  /**
   * Where `until` steps have read each console to, by domain name: a guest's
   * as a byte count, dom0's as its text up to there.
   */
  readonly consoleRead = new Map<string, number | string>();

  /** Each guest's console bytes by domain name (what its console client received, in order). */
  consoleBytes(name: string): ConsoleLog | undefined {
    return this.consoles.get(name);
  }

  /** dom0's console, as its kernel's writes (a shell, and under Xen 2.0 xend's messages); undefined if it has none. */
  dom0Console(): readonly string[] | undefined {
    return (this.dom0Xend() ?? this.dom0Modern())?.console;
  }

  /** xenstored's database (modern Xen), or undefined. */
  xenstore(): XsStore | undefined {
    return this.dom0Modern()?.xenstored.store;
  }

  /** A domain's name by id, from the scenario if it is gone. */
  nameOf(id: number): string | undefined {
    return this.hv.domain(id)?.name ?? this.sc.domains.find((x) => x.domid === id)?.name;
  }

  /** The number an argument stands for now, or undefined, without a failure (to look ahead). */
  peekValue(a: NumArg): number | undefined {
    return a.value ?? this.vars.get(a.ref!);
  }

  /** The number an argument stands for now; undefined (with a failure) for a $name never set. */
  value(a: NumArg): number | undefined {
    if (a.value !== undefined) return a.value;
    const v = this.vars.get(a.ref!);
    if (v === undefined) this.fail(a, `$${a.ref} has no value: the step that saves it did not produce it`);
    return v;
  }

  domain(a: NumArg): Domain | undefined {
    const id = this.value(a);
    if (id === undefined) return undefined;
    const d = this.hv.domain(id);
    if (d === undefined) this.fail(a, `domain ${id} does not exist (any more)`);
    return d;
  }

  private readonly final: FinalExpectations | undefined;

  /** The steps are done: the top-level expect block is compared (once). */
  checkFinal(): void {
    this.beginStep();
    this.final?.check(this);
  }

  /** A check step's comparison, outside any step (the final expect's ports). */
  checkNow(s: Extract<Step, { kind: 'check' }>): void {
    this.check(s);
  }

  /** The outcome so far: failures, step results and each console's text. */
  result(): RunResult {
    return { ok: this.failures.length === 0, failures: this.failures, steps: this.results, consoles: this.consoleTexts(), hv: this.hv };
  }

  /** The domain a guest-side step runs in: it must exist and its vCPUs must be running. */
  private actor(a: NumArg): Domain | undefined {
    const d = this.domain(a);
    if (d === undefined) return undefined;
    if (!d.runnable) {
      this.fail(a, `${d.name} is ${d.state === 'running' ? 'paused' : d.state === 'shutdown' ? 'shut down' : d.state}: its vCPUs do not run, so it cannot act`);
      return undefined;
    }
    return d;
  }

  /** Starts a step (or one repetition of it): its failures count from here. */
  beginStep(): void {
    this.stepOk = true;
    this.liveLabel = undefined;
  }

  /** Ends a step begun at virtual time `t`: its expect and save on `result`, then its StepResult. */
  endStep(s: Step, index: number, t: number, result: Record<string, unknown> | undefined, repetition?: number): void {
    if (result !== undefined) {
      if (s.expect !== undefined) this.compare(s.expect, result, '');
      for (const save of s.save ?? []) {
        const v = pick(result, save.field);
        if (typeof v === 'number') this.vars.set(save.name, v);
        else this.fail(save, `cannot save "${save.field}": this step gave ${v === undefined ? 'no such field' : JSON.stringify(v)}${typeof result.ret === 'string' && result.ret !== '0' ? ` (it returned ${result.ret})` : ''}`);
      }
    }
    const r: StepResult = { index, line: s.pos.line, action: actionOf(s), label: this.liveLabel ?? s.label, t, ok: this.stepOk };
    if (repetition !== undefined) r.repetition = repetition;
    if (result !== undefined) {
      const { ret, ...out } = result;
      if (typeof ret === 'string') r.ret = ret;
      if (Object.keys(out).length > 0) r.out = out;
    }
    this.results.push(r);
  }

  /** Does an instant step; returns its result record (ret as an errno name, out fields) or undefined. */
  perform(s: Step): Record<string, unknown> | undefined {
    const hv = this.hv;
    switch (s.kind) {
      case 'hypercall': {
        const d = this.actor(s.as);
        if (d === undefined) return undefined;
        const args = this.resolveArgs(s.args);
        if (args === undefined) return undefined;
        this.liveLabel = `${d.name} ${s.op.name} ${Object.entries(args).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(' ')}`.trim();
        const r = hypercall(hv, d, s.op, args as ResolvedArgs, s.vcpu);
        return { ret: retName(r.ret), ...r.out };
      }
      case 'mask':
      case 'clear_mask': {
        const d = this.actor(s.as);
        const port = this.value(s.port);
        if (d === undefined || port === undefined) return undefined;
        const k = kernel(d);
        const ok = s.kind === 'mask' ? k.maskPort(port) : k.clearMask(port);
        if (!ok) this.fail(s.port, `port ${port} has no mask bit in ${d.name}'s shared memory${d.ops.name === 'fifo' ? ' (no event word yet)' : ''}`);
        return { ret: ok ? '0' : retName(-EINVAL) };
      }
      case 'upcall_mask': {
        const d = this.actor(s.as);
        const vcpu = this.value(s.vcpu);
        if (d === undefined || vcpu === undefined) return undefined;
        if (d.vcpus[vcpu] === undefined) {
          this.fail(s.vcpu, `${d.name} has no vCPU ${vcpu}`, `0..${d.vcpus.length - 1}`, vcpu);
          return undefined;
        }
        kernel(d).setUpcallMask(vcpu, s.value);
        return { ret: '0' };
      }
      case 'grant_access': {
        const d = this.actor(s.as);
        const [ref, domid, frame] = [this.value(s.ref), this.value(s.domid), this.value(s.frame)];
        if (d === undefined || ref === undefined || domid === undefined || frame === undefined) return undefined;
        const ok = grantAccess(hv, d, ref, domid === DOMID_SELF ? d.domid : domid, frame, s.readonly);
        if (!ok) this.fail(s.ref, `grant ref ${ref} is outside ${d.name}'s grant table (${d.grants.nrEntries} entries)`);
        return { ret: ok ? '0' : retName(-EINVAL) };
      }
      case 'end_access': {
        const d = this.actor(s.as);
        const ref = this.value(s.ref);
        if (d === undefined || ref === undefined) return undefined;
        const ok = endAccess(hv, d, ref);
        return { ret: ok ? '0' : retName(-EINVAL) };
      }
      case 'ring':
        return this.ringStep(s);
      case 'fault':
        return this.fault(s);
      case 'check':
        this.check(s);
        return undefined;
      case 'run':
      case 'until':
        return undefined; // the Execution advances the clock, one event at a time
      case 'solution':
        return undefined; // an exercise's placeholder without a solution: nothing to do
      case 'lifecycle': {
        const id = this.value(s.domain);
        if (id === undefined) return undefined;
        const d = hv.domain(id);
        if (d === undefined) return { ret: retName(-ESRCH) };
        if (s.action === 'shutdown' && hv.xen === '2.0') return this.xmShutdown(s, d);
        const ret =
          s.action === 'pause' ? hv.pause(d) : s.action === 'unpause' ? hv.unpause(d) : s.action === 'destroy' ? hv.destroy(d) : hv.shutdown(d, (s.reason ?? SHUTDOWN_REASONS[0]) as ShutdownReason);
        if (ret !== 0 && s.expect === undefined) this.fail(s, `${s.action} of ${d.name} failed with ${retName(ret)}`);
        return { ret: retName(ret) };
      }
      case 'virq': {
        const d = this.domain(s.domain);
        const [virq, vcpu] = [this.value(s.virq), this.value(s.vcpu)];
        if (d === undefined || virq === undefined || vcpu === undefined) return undefined;
        const info = (hv.xen === '2.0' ? xen2.VIRQS : VIRQS)[virq];
        if (info === undefined || d.vcpus[vcpu] === undefined) {
          this.fail(s, info === undefined ? `there is no VIRQ ${virq}` : `${d.name} has no vCPU ${vcpu}`);
          return undefined;
        }
        if (hv.xen === '2.0') sendGuestVirqXen2(hv, d, virq);
        else if (VIRQS[virq]!.type === VIRQ_PER_VCPU) sendGuestVcpuVirq(hv, d, vcpu, virq);
        else sendGuestDomainVirq(hv, d, virq);
        return undefined;
      }
      case 'type': {
        const id = this.value(s.domain);
        if (id === undefined) return undefined;
        const r = typeAtConsole(hv, id, utf8(s.text));
        if (!r.ok) {
          this.fail(s.domain, r.message);
          return undefined;
        }
        return { ret: '0', accepted: r.accepted };
      }
      case 'pirq': {
        const d = this.domain(s.domain);
        const pirq = this.value(s.pirq);
        if (d === undefined || pirq === undefined) return undefined;
        const port = hv.xen === '2.0' ? sendGuestPirqXen2(hv, d, pirq) : sendGuestPirq(hv, d, pirq);
        return { ret: '0', port };
      }
    }
  }

  /**
   * Xen 2.0's shutdown is xend's (xm shutdown): CMSG_SHUTDOWN over the
   * domain's control channel, answered and carried out by the guest when time
   * runs. A domain without a channel cannot be asked.
   */
  private xmShutdown(s: Extract<Step, { kind: 'lifecycle' }>, d: Domain): Record<string, unknown> | undefined {
    const x = this.dom0Xend();
    if (x === undefined || !x.xend.has(d.domid)) {
      this.fail(
        s.domain,
        `${d.name} has no control channel: in Xen 2.0 the toolstack (xend) asks a domain to shut down over it (CMSG_SHUTDOWN), and only kernel: plan9 guests have one; ` +
          `a guest can shut itself down with op: sched_shutdown, or the toolstack can destroy it`,
      );
      return undefined;
    }
    const id = x.shutdownDomain(d.domid, (s.reason ?? 'poweroff') as XendShutdownReason);
    return { ret: '0', id };
  }

  private resolveArgs(args: ReadonlyMap<string, ArgValue>): Record<string, unknown> | undefined {
    const out: Record<string, unknown> = {};
    for (const [k, a] of args) {
      if ('pos' in a) {
        const v = this.value(a);
        if (v === undefined) return undefined;
        out[k] = v;
      } else {
        const side: Record<string, number> = {};
        for (const [sk, sa] of Object.entries(a) as [string, NumArg][]) {
          const v = this.value(sa);
          if (v === undefined) return undefined;
          side[sk] = v;
        }
        out[k] = side;
      }
    }
    return out;
  }

  private ringStep(s: Extract<Step, { kind: 'ring' }>): Record<string, unknown> | undefined {
    const d = this.actor(s.as);
    if (d === undefined) return undefined;
    const pair = this.rings.get(s.ring) ?? {};
    this.rings.set(s.ring, pair);
    const arg = (k: string, dflt: number): number | undefined => {
      const a = s.args.get(k);
      return a === undefined ? dflt : this.value(a);
    };
    const tr = { trace: this.hv.trace, domid: d.domid, name: s.ring };
    const front = pair.front?.domid === d.domid ? pair.front.ring : undefined;
    const back = pair.back?.domid === d.domid ? pair.back.ring : undefined;
    const needEnd = (what: string): Record<string, unknown> | undefined => {
      this.fail(s, `${d.name} is not the ${what} of ring "${s.ring}"`, what, pair.front?.domid === d.domid ? 'frontend' : pair.back?.domid === d.domid ? 'backend' : 'neither end');
      return undefined;
    };
    switch (s.action) {
      case 'init': {
        const gfn = arg('gfn', -1);
        const size = arg('entry_size', 64);
        const page = gfn === undefined ? undefined : d.memory.frame(gfn);
        if (page === undefined || size === undefined || size < 1) {
          this.fail(s, `${d.name} has no frame ${gfn}`);
          return undefined;
        }
        const ring = FrontRing.create(page, size, tr);
        pair.front = { domid: d.domid, ring };
        return { ret: '0', size: ring.size };
      }
      case 'attach': {
        const handle = arg('handle', -1);
        const size = arg('entry_size', 64);
        const m = handle === undefined ? undefined : d.grants.maptrack[handle];
        if (m === undefined || size === undefined) {
          this.fail(s, `${d.name} has no grant mapping with handle ${handle}`);
          return undefined;
        }
        const ring = BackRing.attach(m.page, size, tr);
        pair.back = { domid: d.domid, ring };
        return { ret: '0', size: ring.size };
      }
      case 'request': {
        if (front === undefined) return needEnd('frontend');
        const count = arg('count', 1) ?? 1;
        let produced = 0;
        while (produced < count && front.produceRequest((slot) => new DataView(slot.buffer, slot.byteOffset).setUint32(0, front.reqProdPvt, true))) produced++;
        return { ret: '0', produced };
      }
      case 'respond': {
        if (back === undefined) return needEnd('backend');
        const count = arg('count', 1) ?? 1;
        for (let i = 0; i < count; i++) back.produceResponse((slot) => new DataView(slot.buffer, slot.byteOffset).setUint32(0, back.rspProdPvt, true));
        return { ret: '0', produced: count };
      }
      case 'push': {
        const notify = front ? front.pushRequestsAndCheckNotify() : back ? back.pushResponsesAndCheckNotify() : undefined;
        if (notify === undefined) return needEnd('frontend or backend');
        const port = s.args.get('notify_port');
        if (notify && port !== undefined) {
          const p = this.value(port);
          if (p !== undefined) hypercall(this.hv, d, opSend, { port: p } as ResolvedArgs);
        }
        return { ret: '0', notify };
      }
      case 'consume': {
        let consumed = 0;
        const max = arg('max', Infinity) ?? Infinity;
        if (back !== undefined) while (consumed < max && back.consumeRequest() !== undefined) consumed++;
        else if (front !== undefined) while (consumed < max && front.consumeResponse() !== undefined) consumed++;
        else return needEnd('frontend or backend');
        return { ret: '0', consumed };
      }
      case 'final_check': {
        const work = back ? back.finalCheckForRequests() : front ? front.finalCheckForResponses() : undefined;
        if (work === undefined) return needEnd('frontend or backend');
        return { ret: '0', work };
      }
    }
  }

  /** Injects a fault (faults in docs/step-form.md). */
  private fault(s: Extract<Step, { kind: 'fault' }>): Record<string, unknown> | undefined {
    const f = s.fault;
    const hv = this.hv;
    switch (f.kind) {
      case 'drop_notify':
      case 'delay_notify': {
        const d = this.domain(f.domain);
        const port = this.value(f.port);
        if (d === undefined || port === undefined) return undefined;
        armPortFault(hv, d, port, f.kind, f.count, f.by);
        return { ret: '0' };
      }
      case 'fill_ring': {
        const pair = this.rings.get(f.ring);
        const front = pair?.front;
        if (front === undefined) {
          this.fail(s, `ring "${f.ring}" has no frontend${pair === undefined ? '' : ' yet'}: fill_ring fills it with the frontend's requests (ring_init first)`);
          return undefined;
        }
        const d = this.hv.domain(front.domid);
        if (d === undefined || !d.runnable) {
          this.fail(s, `the frontend of ring "${f.ring}" (domain ${front.domid}) does not run, so it cannot produce requests`);
          return undefined;
        }
        const ring = front.ring;
        let produced = 0;
        while (ring.produceRequest((slot) => new DataView(slot.buffer, slot.byteOffset).setUint32(0, ring.reqProdPvt, true))) produced++;
        if (hv.trace.on) hv.trace.emit(TK.fault, d.domid, -1, -1, FAULT.fill_ring, FAULT_EVENT.filled, produced, { ring: f.ring });
        const notify = ring.pushRequestsAndCheckNotify();
        if (notify && f.notifyPort !== undefined) {
          const p = this.value(f.notifyPort);
          if (p !== undefined) hypercall(hv, d, opSend, { port: p } as ResolvedArgs);
        }
        return { ret: '0', produced, notify };
      }
      case 'fill_console': {
        const d = this.actor(f.domain);
        if (d === undefined) return undefined;
        const k = d.kernel;
        const pattern = utf8(f.text);
        let out: Record<string, unknown>;
        let count: number;
        if (k instanceof MiniOsKernel && k.cons !== undefined) {
          count = k.cons.fill(pattern);
          out = { ret: '0', filled: count };
        } else if (k instanceof Plan9Kernel && k.cons !== undefined) {
          count = k.cons.fillTxRing(pattern);
          out = { ret: '0', messages: count };
        } else {
          this.fail(f.domain, `${d.name} has no console ring to fill (give it kernel: minios, or kernel: plan9 under xen: "2.0")`);
          return undefined;
        }
        if (hv.trace.on) hv.trace.emit(TK.fault, d.domid, -1, -1, FAULT.fill_ring, FAULT_EVENT.filled, count, { ring: 'console' });
        return out;
      }
      case 'stall': {
        const d = this.domain(f.domain);
        if (d === undefined) return undefined;
        const k0 = this.dom0Xend() ?? this.dom0Modern();
        const r = k0 === undefined ? 'dom0 runs no backends here (its default kernel)' : k0.stallBackend(f.backend, d.domid, f.ns);
        if (typeof r === 'string') {
          this.fail(s, `cannot stall ${d.name}'s ${f.backend} backend: ${r.replace(`domain ${d.domid}`, d.name)}`);
          return undefined;
        }
        return { ret: '0', ports: r };
      }
    }
  }

  /** The current value of each checkable field of a port or vCPU. */
  private check(s: Extract<Step, { kind: 'check' }>): void {
    const wantConsole = s.checks.get('console');
    if (wantConsole !== undefined && 'scalar' in wantConsole) {
      // What the console client received stays readable after the domain is gone.
      const id = this.value(s.domain);
      if (id === undefined) return;
      const name = this.hv.domain(id)?.name ?? this.sc.domains.find((x) => x.domid === id)?.name;
      if (name === undefined) {
        this.fail(s.domain, `domain ${id} does not exist (any more)`);
        return;
      }
      const text = this.consoleTexts()[name];
      if (text === undefined) this.fail(wantConsole, `${name} has no console`);
      else if (!text.includes(String(wantConsole.scalar))) this.fail(wantConsole, `console: expected to contain ${JSON.stringify(wantConsole.scalar)}, found ${JSON.stringify(text.slice(-200))}`, wantConsole.scalar, text);
      return;
    }
    const d = this.domain(s.domain);
    if (d === undefined) return;
    const actual: Record<string, unknown> = {};
    if (s.port !== undefined) {
      const port = this.value(s.port);
      if (port === undefined) return;
      if (d.ops.name !== 'fifo' && port >= d.ops.maxPorts) {
        this.fail(s.port, `port ${port} is beyond the 2-level ABI's ${d.ops.maxPorts} ports`);
        return;
      }
      Object.assign(actual, portFacts(d, port));
    } else {
      const vcpu = this.value(s.vcpu!);
      if (vcpu === undefined) return;
      const v = d.vcpus[vcpu];
      if (v === undefined) {
        this.fail(s.vcpu!, `${d.name} has no vCPU ${vcpu}`, `0..${d.vcpus.length - 1}`, vcpu);
        return;
      }
      actual.upcall_pending = v.upcallPending !== 0;
      actual.upcall_mask = v.upcallMask !== 0;
      const sel: number[] = [];
      const selectorBits = d.layout.nrPorts / d.layout.bitsPerWord; // 64 on x86-64, 32 in Xen 2.0
      for (let w = 0; w < selectorBits; w++) if ((d.shared32[v.selU32 + (w >>> 5)]! >>> (w & 31)) & 1) sel.push(w);
      actual.pending_sel = sel;
      const ready: number[] = [];
      const cb = v.fifo?.controlPage;
      if (cb) for (let q = 0; q < 16; q++) if ((cb[v.fifo!.controlIndex]! >>> q) & 1) ready.push(q);
      actual.ready = ready;
    }
    for (const [key, node] of s.checks) this.compare(node, actual[key], key);
  }

  /** Partial comparison: maps compare only their written keys; lists compare whole (as sets of bits for selectors). */
  private compare(exp: ExpectNode, actual: unknown, key: string): void {
    if ('map' in exp) {
      if (typeof actual !== 'object' || actual === null || Array.isArray(actual)) {
        this.fail(exp, `expected a structure, found ${fmt(actual)}`, undefined, actual);
        return;
      }
      for (const [k, sub] of exp.map) this.compare(sub, (actual as Record<string, unknown>)[k], k);
      return;
    }
    if ('list' in exp) {
      const want: unknown[] = [];
      for (const item of exp.list) {
        if (!('scalar' in item)) return this.fail(item, 'lists compare plain values only');
        want.push(this.expectedScalar(item.scalar));
      }
      const got = Array.isArray(actual) ? actual : [actual];
      const same = want.length === got.length && want.every((w, i) => w === got[i]);
      if (!same) this.fail(exp, `${key}: expected [${want.join(', ')}], found ${fmt(actual)}`, want, actual);
      return;
    }
    const want = this.expectedScalar(exp.scalar);
    let got = actual;
    if (key === 'ret' && typeof got === 'string' && typeof want === 'number') got = retValue(got);
    if (key === 'status' && typeof got === 'string' && typeof want === 'number' && got.startsWith('GNTST_')) got = gntstByName(got);
    if (want === undefined) return; // a $name without value already failed
    if (got !== want) {
      const shown = key === 'ret' && typeof want === 'number' ? retName(want) : fmt(want);
      const foundShown = key === 'ret' && typeof got === 'number' ? retName(got) : fmt(actual);
      this.fail(exp, `${key === '' ? '' : `${key}: `}expected ${shown}, found ${actual === undefined ? 'no such field' : foundShown}`, want, actual);
    }
  }

  /** An expected value as compared: a number (a $name's value), text, true/false or null. */
  expectedScalar(v: NumArg | string | boolean | null): unknown {
    if (v !== null && typeof v === 'object') return this.value(v);
    return v;
  }
}

/** What typing at a console did: the bytes the console took, or why nothing could be typed. */
export type TypeResult = { ok: true; accepted: number } | { ok: false; message: string };

/**
 * Bytes typed at a domain's console, as a `type:` step does: dom0's console
 * feeds its shell; a modern guest's goes through xenconsoled's pty into the
 * console ring; a Xen 2.0 guest's goes to xend, which sends it over the
 * control interface. Shared by the runner and live sessions (live.ts).
 */
export function typeAtConsole(hv: Hypervisor, id: number, bytes: Uint8Array): TypeResult {
  const k0 = hv.domain(0)?.kernel;
  const xend = k0 instanceof Xen2Dom0Kernel ? k0 : undefined;
  const d = hv.domain(id);
  const modern = k0 instanceof Dom0Kernel ? k0 : undefined;
  const shell = id === 0 ? (xend ?? modern)?.shell : undefined;
  if (d !== undefined && shell !== undefined) {
    // dom0's own console: its shell reads every byte.
    shell.input(bytes);
    return { ok: true, accepted: bytes.length };
  }
  if (d !== undefined && modern !== undefined && modern.xenconsoled.consoles.has(id)) {
    // xenconsoled's pty: the bytes reach in[] as room allows.
    const con = modern.xenconsoled.get(id);
    const before = con.stats.input + con.inputWaiting();
    modern.typeAt(id, bytes);
    return { ok: true, accepted: con.stats.input + con.inputWaiting() - before };
  }
  // A TypeScript scenario's custom kernel reads its console itself (its onConsoleInput), unless its console is the control interface.
  if (d?.kernel instanceof ScriptKernel && !d.kernel.consoleOverControl) return { ok: true, accepted: d.kernel.consoleInput(bytes) };
  if (d === undefined || xend === undefined || !xend.xend.has(id)) {
    return {
      ok: false,
      message:
        d === undefined
          ? `domain ${id} does not exist (any more): nothing to type at`
          : `${d.name} has no console to type at (give it kernel: minios, or kernel: plan9 under xen: "2.0"; dom0's console runs a shell)`,
    };
  }
  return { ok: true, accepted: xend.xend.consoleInput(id, bytes) };
}

const opSend = OPS.get('send')!;

function actionOf(s: Step): string {
  switch (s.kind) {
    case 'hypercall':
      return s.op.name;
    case 'lifecycle':
      return s.action;
    case 'ring':
      return `ring_${s.action}`;
    default:
      return s.kind;
  }
}

function kernel(d: Domain): DefaultKernel {
  return d.kernel as DefaultKernel;
}

function pick(obj: Record<string, unknown>, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  if (path === 'ret' && typeof cur === 'string') return retValue(cur);
  return cur;
}

function retValue(name: string): number {
  if (/^-?\d+$/.test(name)) return Number(name);
  return retFromName.get(name) ?? NaN;
}
const retFromName = new Map<string, number>();
for (let e = 1; e < 200; e++) retFromName.set(retName(-e), -e);

function fmt(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return `[${v.join(', ')}]`;
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

