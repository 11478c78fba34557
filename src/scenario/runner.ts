/**
 * Runs a compiled scenario on a fresh machine: its steps in order, `run`
 * advancing virtual time, expectations and checks compared partially (only
 * what is written). Failures are collected, never thrown. The work is an
 * Execution's (execution.ts), which can also go one unit at a time; what
 * each step does is in steps.ts.
 */
import type { Domain, GuestKernel } from '../core/hv/domain.js';
import type { Hypervisor } from '../core/hv/hypervisor.js';
import { Execution } from './execution.js';
import type { Scenario } from './model.js';

export { typeAtConsole, type TypeResult } from './steps.js';

export interface Failure {
  file: string;
  line: number;
  col: number;
  path: string;
  message: string;
  expected?: unknown;
  found?: unknown;
}

export interface StepResult {
  index: number;
  line: number;
  /** What the step does: the op's name for a hypercall, else the step's key (check, run, mask, ring_push, ...). */
  action: string;
  label: string;
  /** Virtual time when the step ran, ns (a waiting step: when it began). */
  t: number;
  /** Steps with `repeat`: which repetition this is, from 1. */
  repetition?: number;
  ret?: string;
  out?: Record<string, unknown>;
  ok: boolean;
}

export interface RunResult {
  ok: boolean;
  failures: Failure[];
  steps: StepResult[];
  /** Each domain's console output so far, by domain name (domains with a console only). */
  consoles: Record<string, string>;
  hv: Hypervisor;
}

/**
 * A custom kernel for a domain; `console` writes to the domain's console as
 * the run shows it. One marked `controlChannel` takes control messages: under
 * Xen 2.0, xend makes its domain a control channel before it boots.
 */
export type KernelFactoryOption = ((hv: Hypervisor, d: Domain, console: (bytes: Uint8Array) => void) => GuestKernel) & { readonly controlChannel?: boolean };

export interface RunOptions {
  seed?: number;
  /** Called with the machine before any domain exists (to subscribe to the trace). */
  onMachine?: (hv: Hypervisor) => void;
  /** Called with each chunk of a guest's console output as it arrives (dom0's console is its kernel's `console`). */
  onConsole?: (domid: number, bytes: Uint8Array) => void;
  /**
   * Kernels by domain name that replace the scenario's (a TypeScript scenario's custom kernels);
   * `console` writes to the domain's console as the run shows it.
   */
  kernels?: ReadonlyMap<string, KernelFactoryOption>;
}

/** Runs a scenario; never throws for anything the scenario does. */
export function runScenario(sc: Scenario, opts: RunOptions = {}): RunResult {
  const exec = new Execution(sc, opts);
  exec.runScript();
  return exec.result();
}
