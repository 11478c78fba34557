/**
 * What a lab session drives: a scenario executing one unit at a time — a
 * scenario step, or one machine event (an upcall, a timer tick, a callback)
 * while a step waits on virtual time or after the script ends. This is the
 * scenario layer's Execution (src/scenario/execution.ts); the session uses it
 * through this narrow shape. The machine is deterministic, so an engine made
 * again with the same scenario, seed and logged inputs and taken to a
 * position is in the same state as the one that got there first: step back
 * and seek rely on it.
 */
import type { Hypervisor } from '../../core/hv/hypervisor.js';
import type { ExecInput, ExecutionOptions, Unit } from '../../scenario/execution.js';
import type { Scenario } from '../../scenario/model.js';
import type { Failure, RunResult, TypeResult } from '../../scenario/runner.js';

export type { ExecInput, Unit };

export interface Engine {
  /** Takes exactly one unit; `idle` when there is nothing left to do (position unchanged). */
  next(): Unit;
  /** Units taken since the start. */
  readonly position: number;
  /** The next scenario step (steps.length once the script is done). */
  readonly stepIndex: number;
  readonly scriptDone: boolean;
  /** The step that waits on virtual time (run, until, at, every), if one does. */
  readonly waitingStep: number | undefined;
  /** Virtual time, ns. */
  readonly now: number;
  readonly hv: Hypervisor;
  /** Takes units until every step has run. */
  runScript(): void;
  /** Takes every unit due at or before virtual time `t`; once the script is done the clock then moves to `t`. */
  runUntilTime(t: number): number;
  /** When the next unit would happen (a ready step: now); Infinity when nothing can. */
  nextUnitTime(): number;
  /** Bytes typed at a domain's console now; logged as an input. */
  type(domid: number, bytes: Uint8Array): TypeResult;
  /** Every input: those given at construction (replayed as the position passes them) and those since. */
  inputs(): readonly ExecInput[];
  /** The steps' outcome so far (failures, step results, console texts). */
  result(): RunResult;
  /** The failures so far: what the stream needs ~30 times a second, without result()'s console texts. */
  failures(): readonly Failure[];
}

export type EngineOptions = ExecutionOptions;

/** How an engine is made: `new Engine(scenario, options)`. */
export type EngineConstructor = new (sc: Scenario, opts: EngineOptions) => Engine;
