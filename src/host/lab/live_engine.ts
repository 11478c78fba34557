/**
 * A temporary Engine over today's LiveSession, until the scenario layer's
 * incremental Execution lands (swap the import in session.ts). LiveSession
 * runs a whole script in its constructor, so here the whole script is one
 * unit: position 0 is nothing run, the first unit runs the script, every
 * later unit is one machine event (Hypervisor.step).
 *
 * At position 0 `hv` is a preview machine: the scenario's domains created
 * and booted with no step run and nobody listening (its trace and consoles
 * go nowhere; a TypeScript scenario's custom kernels are not booted in it),
 * so the topology has something to show. The first unit
 * builds the real machine, which tells RunOptions.onMachine.
 */
import type { Hypervisor } from '../../core/hv/hypervisor.js';
import { LiveError, LiveSession } from '../../scenario/live.js';
import type { Scenario } from '../../scenario/model.js';
import { runScenario, type RunResult, type TypeResult } from '../../scenario/runner.js';
import type { Engine, EngineOptions, ExecInput, Unit } from './engine.js';

export class LiveEngine implements Engine {
  private live: LiveSession | undefined;
  private preview: Hypervisor | undefined;
  private pos = 0;
  private readonly log: ExecInput[];
  /** Index in `log` of the next input to replay. */
  private replayAt = 0;

  constructor(
    private readonly sc: Scenario,
    private readonly opts: EngineOptions,
  ) {
    this.log = [...(opts.inputs ?? [])].sort((a, b) => a.position - b.position);
  }

  get position(): number {
    return this.pos;
  }

  get stepIndex(): number {
    return this.live === undefined ? 0 : this.sc.steps.length;
  }

  get scriptDone(): boolean {
    return this.live !== undefined;
  }

  get waitingStep(): number | undefined {
    return undefined;
  }

  get now(): number {
    return this.hv.now;
  }

  get hv(): Hypervisor {
    if (this.live !== undefined) return this.live.hv;
    // Custom kernels (a TypeScript scenario's) keep state in their sandbox: the preview boots the built-in ones.
    this.preview ??= runScenario({ ...this.sc, steps: [] }, this.opts.seed === undefined ? {} : { seed: this.opts.seed }).hv;
    return this.preview;
  }

  next(): Unit {
    if (this.live === undefined) {
      const { inputs: _i, ...run } = this.opts;
      this.live = new LiveSession(this.sc, run);
      this.preview = undefined;
      this.pos = 1;
      this.replayDue();
      return { kind: 'step', index: Math.max(0, this.sc.steps.length - 1) };
    }
    if (!this.live.hv.step()) return { kind: 'idle' };
    this.pos++;
    this.replayDue();
    return { kind: 'event', t: this.live.hv.now };
  }

  runScript(): void {
    if (this.live === undefined) this.next();
  }

  runUntilTime(t: number): void {
    this.runScript();
    const hv = this.live!.hv;
    while (hv.queue.size > 0 && hv.queue.peekTime() <= t) this.next();
    if (t > hv.now) hv.runUntil(t); // nothing is due before t: only the clock moves
  }

  type(domid: number, bytes: Uint8Array): TypeResult {
    if (this.live === undefined) return { ok: false, message: 'the machine has not started yet: take a step (F10) or run (F5) first' };
    const t = this.live.hv.now;
    const r = this.typeNow(domid, bytes);
    if (r.ok) {
      // Typing here makes a new future: inputs logged after this position are dropped.
      this.log.splice(this.replayAt);
      this.log.push({ position: this.pos, t, domid, bytes: bytes.slice() });
      this.replayAt = this.log.length;
    }
    return r;
  }

  inputs(): readonly ExecInput[] {
    return this.log;
  }

  result(): RunResult {
    if (this.live === undefined) return { ok: true, failures: [], steps: [], consoles: {}, hv: this.hv };
    return this.live.result;
  }

  private typeNow(domid: number, bytes: Uint8Array): TypeResult {
    try {
      return { ok: true, accepted: this.live!.type(domid, bytes) };
    } catch (e) {
      if (e instanceof LiveError) return { ok: false, message: e.message };
      throw e;
    }
  }

  /** Inputs logged at the position reached, typed again at the clock they were typed at. */
  private replayDue(): void {
    const hv = this.live!.hv;
    while (this.replayAt < this.log.length && this.log[this.replayAt]!.position <= this.pos) {
      const inp = this.log[this.replayAt++]!;
      if (inp.t > hv.now) hv.runUntil(inp.t);
      this.typeNow(inp.domid, inp.bytes);
    }
  }
}
