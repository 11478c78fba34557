/**
 * What a lab session drives: a scenario executing one unit at a time. A unit
 * is a scenario step, or one machine event (an upcall, a timer tick, a
 * callback) while a step waits on virtual time or after the script ends.
 * The machine is deterministic, so an engine re-created with the same
 * scenario, seed and logged inputs and taken to a position is in the same
 * state as the one that got there first (step back and seek rely on it).
 *
 * The shape is the scenario layer's incremental Execution
 * (src/scenario/execution.ts); until that lands, live_engine.ts adapts
 * today's LiveSession to it.
 */
import type { Hypervisor } from '../../core/hv/hypervisor.js';
import type { Scenario } from '../../scenario/model.js';
import type { RunOptions, RunResult, TypeResult } from '../../scenario/runner.js';

/** Bytes typed at a console, with the position and virtual time they were typed at. */
export interface ExecInput {
  readonly position: number;
  readonly t: number;
  readonly domid: number;
  readonly bytes: Uint8Array;
}

/** What one call of `next()` did. */
export type Unit = { kind: 'step'; index: number } | { kind: 'event'; t: number } | { kind: 'idle' };

export interface Engine {
  /** Takes exactly one unit; `idle` when there is nothing left to do (position unchanged). */
  next(): Unit;
  /** Units taken since the start. */
  readonly position: number;
  /** The next scenario step (steps.length once the script is done). */
  readonly stepIndex: number;
  readonly scriptDone: boolean;
  /** The step that waits on virtual time (a `run:`), if one does. */
  readonly waitingStep: number | undefined;
  /** Virtual time, ns. */
  readonly now: number;
  readonly hv: Hypervisor;
  /** Takes units until every step has run. */
  runScript(): void;
  /** Takes every unit due at or before virtual time `t`, then moves the clock to `t`. */
  runUntilTime(t: number): void;
  /** Bytes typed at a domain's console now; logged as an input. */
  type(domid: number, bytes: Uint8Array): TypeResult;
  /** Every input: those given at construction (replayed as the position passes them) and those typed since. */
  inputs(): readonly ExecInput[];
  /** The steps' outcome so far (failures, step results, console texts). */
  result(): RunResult;
}

export type EngineOptions = RunOptions & { inputs?: readonly ExecInput[] };

/** How an engine is made: `new Engine(scenario, options)`. */
export type EngineConstructor = new (sc: Scenario, opts: EngineOptions) => Engine;

/** Virtual time of the unit `next()` would take now: a ready step runs at once; Infinity when nothing is queued. */
export function nextUnitTime(e: Engine): number {
  if (!e.scriptDone && e.waitingStep === undefined) return e.now;
  const q = e.hv.queue;
  return q.size > 0 ? q.peekTime() : Infinity;
}
