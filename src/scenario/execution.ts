/**
 * A scenario executed one unit at a time: the spine of runScenario, of live
 * sessions, and of a host that steps, plays in real time or seeks.
 *
 * A unit is exactly one of:
 *  - a step of the script (`{ kind: 'step', index }`): an instant step (a
 *    hypercall, a check, a type ...) is one unit; a waiting step ends with its
 *    step unit;
 *  - one machine event (`{ kind: 'event', t }`: an upcall, a timer tick, a
 *    callback), dispatched while a step waits on virtual time, or once the
 *    script is done;
 *  - nothing (`{ kind: 'idle' }`): the script is done and no event is queued.
 *    An idle unit is not counted in `position`.
 *
 * When a waiting step completes:
 *  - `run: D` fixes its end, now + D, when it starts; every event due up to
 *    then is dispatched, one per unit; then its step unit sets the clock to
 *    the end. A run with no event due is one unit (its step unit).
 *  - `at: T` (a step modifier): before the step, every event due up to T is
 *    dispatched one per unit; the step itself happens in the unit that sets
 *    the clock to T. An `at` already past is a failure; the step happens then.
 *  - `repeat: N` with `every: E`: repetition r (from 0) is due at
 *    start + r * E and waits as `at` does; each repetition ends with its own
 *    step unit. Without `every`, repetitions follow each other at once.
 *
 * When the last step ends (in its unit; at once for a script without steps),
 * the scenario's top-level `expect` block is compared.
 *
 * Inputs from outside (text typed at a console, the clock run on by a host)
 * are logged with the position they came at, so a fresh Execution given the
 * log replays them at the same positions: advancing it to any position gives
 * the same trace, consoles and clock. That is how a host steps back or
 * seeks: it executes again to position N.
 */
import type { Hypervisor } from '../core/hv/hypervisor.js';
import type { Scenario, Step } from './model.js';
import type { Failure, RunOptions, RunResult } from './runner.js';
import { StepRunner, typeAtConsole, type TypeResult } from './steps.js';

export type { StepRunner } from './steps.js';
import { fmtNs } from './time.js';
import { watchUntil, type Watch } from './until.js';

/** What one call of Execution.next() did. */
export type Unit = { readonly kind: 'step'; readonly index: number; readonly repetition?: number } | { readonly kind: 'event'; readonly t: number } | { readonly kind: 'idle' };

/**
 * An input from outside, at the position (units taken) and virtual time it
 * came: bytes typed at a console (`type`), or the clock run on to `t` with no
 * event due on the way, once the script was done (`advance`).
 */
export type ExecInput =
  | { readonly kind: 'type'; readonly position: number; readonly t: number; readonly domid: number; readonly bytes: Uint8Array }
  | { readonly kind: 'advance'; readonly position: number; readonly t: number };

export interface ExecutionOptions extends RunOptions {
  /** Inputs of an earlier execution of the same scenario and seed, re-applied as `position` reaches each one's. */
  inputs?: readonly ExecInput[];
  /** Called after each unit (and once at position 0), inputs due there applied: a host notes what the position holds. */
  onUnit?: (position: number) => void;
  /**
   * Called once, right after the top-level expect block is compared (in the
   * unit that ends the last step): a grader compares more there (exercise.ts).
   */
  onFinal?: (runner: StepRunner) => void;
}

// The phase of the step in progress.
/** Waiting for the (repetition's) due time. */
const WAIT = 0;
/** Due now: the action happens next. */
const ACT = 1;
/** The action began and waits on virtual time (run). */
const HOLD = 2;

// What take() did.
const NONE = 0;
const EVENT = 1;
const STEP = 2;

/** The step in progress. */
interface Active {
  readonly index: number;
  readonly step: Step;
  /** Repetitions in all, and ns between their starts (undefined: one after the other at once). */
  readonly reps: number;
  readonly every: number | undefined;
  /** When repetition 0 is due. */
  readonly start: number;
  rep: number;
  phase: number;
  /** WAIT: when the repetition is due. */
  due: number;
  /** HOLD: when the action ends (run), or gives up (until). */
  end: number;
  /** HOLD of an until: its condition. */
  watch: Watch | undefined;
  /** When the action began (the StepResult's t). */
  began: number;
  /** The repetition's action phase has begun (its failures count from there). */
  started: boolean;
}

export class Execution {
  readonly hv: Hypervisor;
  private readonly runner: StepRunner;
  private readonly steps: readonly Step[];
  private units = 0;
  private index = 0;
  private active: Active | undefined;
  /** The last unit taken, for next()'s answer. */
  private lastEventT = 0;
  private lastRepetition: number | undefined;
  private lastStep = 0;
  private readonly log: ExecInput[] = [];
  private readonly replaying: readonly ExecInput[];
  private replayAt = 0;
  private readonly problems: string[] = [];
  private readonly onUnit: ((position: number) => void) | undefined;
  private readonly onFinal: ((runner: StepRunner) => void) | undefined;

  constructor(
    readonly sc: Scenario,
    opts: ExecutionOptions = {},
  ) {
    this.runner = new StepRunner(sc, opts);
    this.hv = this.runner.hv;
    this.steps = sc.steps;
    this.onFinal = opts.onFinal;
    this.replaying = opts.inputs === undefined ? [] : [...opts.inputs].sort((a, b) => a.position - b.position);
    if (this.steps.length === 0) this.final();
    this.applyInputs();
    this.hv.trace.flush();
    this.onUnit = opts.onUnit;
    this.onUnit?.(0);
  }

  /** Units taken so far (idle units not counted). */
  get position(): number {
    return this.units;
  }

  /** The step that comes next (or is in progress); steps.length once the script is done. */
  get stepIndex(): number {
    return this.index;
  }

  get scriptDone(): boolean {
    return this.index >= this.steps.length;
  }

  /** The step in progress across units (waiting on virtual time), if any. */
  get waitingStep(): number | undefined {
    return this.active?.index;
  }

  /** Virtual time, ns. */
  get now(): number {
    return this.hv.now;
  }

  /** Inputs applied so far, in order, with their positions (what a later Execution replays). */
  inputs(): readonly ExecInput[] {
    return this.log;
  }

  /** Inputs given to the constructor that could not be re-applied as logged (the run diverged), each saying why. */
  inputProblems(): readonly string[] {
    return this.problems;
  }

  /** The outcome so far: failures, step results, each console's text. */
  result(): RunResult {
    return this.runner.result();
  }

  /** The failures so far, without the rest of result() (which decodes every console's whole text). */
  failures(): readonly Failure[] {
    return this.runner.failures;
  }

  /** Takes one unit (see the file's comment). */
  next(): Unit {
    const did = this.take();
    this.hv.trace.flush();
    if (did === EVENT) return { kind: 'event', t: this.lastEventT };
    if (did === STEP) return this.lastRepetition === undefined ? { kind: 'step', index: this.lastStep } : { kind: 'step', index: this.lastStep, repetition: this.lastRepetition };
    return { kind: 'idle' };
  }

  /** Takes units until the script is done. */
  runScript(): void {
    while (!this.scriptDone) this.take();
    this.hv.trace.flush();
  }

  /** Takes at most `units` units towards the end of the script; whether it is done. */
  runScriptFor(units: number): boolean {
    for (let n = 0; n < units && !this.scriptDone; n++) this.take();
    this.hv.trace.flush();
    return this.scriptDone;
  }

  /**
   * Takes units while the next one happens at or before virtual time `t`
   * (a host pacing the run by a clock); once the script is done, the clock
   * then reaches `t`. Returns the units taken.
   */
  runUntilTime(t: number): number {
    if (!Number.isFinite(t)) throw new RangeError(`runUntilTime expects a finite virtual time in ns, found ${t}`);
    let n = 0;
    while (this.nextUnitTime() <= t && this.take() !== NONE) n++;
    if (this.scriptDone && t > this.hv.now) {
      this.hv.runUntil(t);
      this.logAdvance(t);
    }
    this.hv.trace.flush();
    return n;
  }

  /**
   * The virtual time at which the next unit would end (an event's time, a
   * step's); Infinity when nothing can happen. Changes nothing.
   */
  nextUnitTime(): number {
    const hv = this.hv;
    const next = hv.queue.peekTime();
    const a = this.active;
    if (a === undefined && this.scriptDone) return next;
    const s = a?.step ?? this.steps[this.index]!;
    let phase = a?.phase ?? (s.timing?.at === undefined ? ACT : WAIT);
    let now = hv.now;
    if (phase === WAIT) {
      const due = a?.due ?? s.timing!.at!.value;
      if (next <= due) return next;
      now = Math.max(now, due);
      phase = ACT;
    }
    if (phase === ACT) {
      if (s.kind === 'run') return Math.min(next, now + s.ns);
      if (s.kind !== 'until') return now;
      // The watch the step would start: a condition that already holds (or cannot be watched) ends it at once.
      const w = watchUntil(this.runner, s.condition, true);
      return w === undefined || w.holds() ? now : Math.min(next, now + s.timeout);
    }
    if (a!.watch !== undefined && a!.watch.holds()) return now;
    return Math.min(next, a!.end);
  }

  /** Bytes typed at a domain's console now, as a `type` step types them; logged with the position when the console took them. */
  type(domid: number, bytes: Uint8Array): TypeResult {
    const t = this.hv.now;
    const r = typeAtConsole(this.hv, domid, bytes);
    if (r.ok) this.log.push({ kind: 'type', position: this.units, t, domid, bytes: bytes.slice() });
    this.hv.trace.flush();
    return r;
  }

  // ---- the units ----

  /** One unit: NONE when nothing can happen, else EVENT or STEP. */
  private take(): number {
    const did = this.unit();
    if (did !== NONE) {
      this.units++;
      this.applyInputs();
      this.onUnit?.(this.units);
    }
    return did;
  }

  private unit(): number {
    const hv = this.hv;
    let a = this.active;
    if (a === undefined) {
      if (this.scriptDone) return hv.stepUntil(Infinity) ? this.event() : NONE;
      a = this.begin();
    }
    for (;;) {
      switch (a.phase) {
        case WAIT:
          if (hv.stepUntil(a.due)) return this.event();
          if (a.due > hv.now) hv.runUntil(a.due);
          this.startRepetition(a);
          this.late(a);
          break;
        case ACT: {
          if (!a.started) this.startRepetition(a);
          const s = a.step;
          if (s.kind === 'run') {
            a.end = hv.now + s.ns;
            a.phase = HOLD;
            break;
          }
          if (s.kind === 'until') {
            a.watch = watchUntil(this.runner, s.condition, false);
            if (a.watch === undefined) return this.finish(a, undefined);
            a.end = hv.now + s.timeout;
            a.phase = HOLD;
            break;
          }
          return this.finish(a, this.runner.perform(s));
        }
        default: {
          const s = a.step;
          if (s.kind === 'until') {
            const w = a.watch!;
            if (w.holds()) {
              w.commit();
              return this.finish(a, { waited: hv.now - a.began, ...w.out() });
            }
            if (hv.stepUntil(a.end)) return this.event();
            hv.runUntil(a.end);
            this.runner.fail(s.condition, `${w.missed()} (waited ${fmtNs(s.timeout)}, the timeout)`);
            return this.finish(a, { waited: s.timeout });
          }
          if (hv.stepUntil(a.end)) return this.event();
          hv.runUntil(a.end);
          return this.finish(a, undefined);
        }
      }
    }
  }

  private event(): number {
    this.lastEventT = this.hv.now;
    return EVENT;
  }

  /** Starts the next step of the script. */
  private begin(): Active {
    const s = this.steps[this.index]!;
    const tm = s.timing;
    const start = tm?.at?.value ?? this.hv.now;
    const a: Active = {
      index: this.index,
      step: s,
      reps: tm?.repeat?.value ?? 1,
      every: tm?.every?.value,
      start,
      rep: 0,
      phase: tm?.at === undefined ? ACT : WAIT,
      due: start,
      end: 0,
      watch: undefined,
      began: 0,
      started: false,
    };
    this.active = a;
    return a;
  }

  /** The repetition's action begins now. */
  private startRepetition(a: Active): void {
    a.phase = ACT;
    a.started = true;
    a.began = this.hv.now;
    this.runner.beginStep();
  }

  /** A repetition due before now (an `at` already past, or the one before ran over): a failure, and it happens now. */
  private late(a: Active): void {
    if (a.due >= this.hv.now) return;
    const tm = a.step.timing!;
    if (a.rep === 0 && tm.at !== undefined) {
      this.runner.fail(tm.at, `at ${fmtNs(a.due)} is in the past: the clock was at ${fmtNs(this.hv.now)} when this step came (a step before it ran later than that); it happened then`);
    } else if (tm.every !== undefined) {
      this.runner.fail(tm.every, `repetition ${a.rep + 1} was due at ${fmtNs(a.due)}, but the one before ended at ${fmtNs(this.hv.now)}; it happened then`);
    }
  }

  /** Ends the repetition in progress: its StepResult, then the next repetition or the next step. */
  private finish(a: Active, result: Record<string, unknown> | undefined): number {
    const repetition = a.reps > 1 ? a.rep + 1 : undefined;
    this.runner.endStep(a.step, a.index, a.began, result, repetition);
    this.lastStep = a.index;
    this.lastRepetition = repetition;
    a.rep++;
    a.started = false;
    a.watch = undefined;
    if (a.rep < a.reps) {
      if (a.every === undefined) a.phase = ACT;
      else {
        a.phase = WAIT;
        a.due = a.start + a.rep * a.every;
      }
    } else {
      this.active = undefined;
      this.index++;
      // The script is done: the top-level expect block is compared in this unit.
      if (this.index === this.steps.length) this.final();
    }
    return STEP;
  }

  /** The script is done: the top-level expect block, then whoever asked to compare more. */
  private final(): void {
    this.runner.checkFinal();
    this.onFinal?.(this.runner);
  }

  // ---- inputs ----

  /** Re-applies the given inputs whose position has come. */
  private applyInputs(): void {
    const list = this.replaying;
    while (this.replayAt < list.length && list[this.replayAt]!.position <= this.units) {
      const n = this.replayAt++;
      const inp = list[n]!;
      const hv = this.hv;
      if (inp.kind === 'advance') {
        if (inp.t <= hv.now) continue;
        if (!this.scriptDone || hv.queue.peekTime() <= inp.t) {
          this.problems.push(`inputs[${n}]: the clock ran on to ${fmtNs(inp.t)} at position ${inp.position}, but here ${this.scriptDone ? `an event is due at ${fmtNs(hv.queue.peekTime())}` : 'the script is not done'}; not applied`);
          continue;
        }
        hv.runUntil(inp.t);
        this.logAdvance(inp.t);
        continue;
      }
      if (inp.t !== hv.now) this.problems.push(`inputs[${n}]: typed at ${fmtNs(inp.t)}, but here the clock was at ${fmtNs(hv.now)} at position ${inp.position}; typed then`);
      const r = this.type(inp.domid, inp.bytes);
      if (!r.ok) this.problems.push(`inputs[${n}]: typing at domain ${inp.domid} failed: ${r.message}`);
    }
  }

  /** Logs the clock run on to `t` (consecutive advances at one position merge). */
  private logAdvance(t: number): void {
    const last = this.log.at(-1);
    if (last?.kind === 'advance' && last.position === this.units) this.log[this.log.length - 1] = { kind: 'advance', position: this.units, t };
    else this.log.push({ kind: 'advance', position: this.units, t });
  }
}
