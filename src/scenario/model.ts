/**
 * The compiled form of a scenario: what the runner executes. Every value
 * keeps the place it came from, so a failure can point back at the text.
 */
import type { ShutdownReason } from '../core/abi/domid.js';
import type { OpSpec } from '../core/hv/hypercall.js';
import type { Filter } from '../core/sim/filter.js';
import type { Pos } from './errors.js';

export type Abi = '2l' | 'fifo';
/** Which hypervisor's rules: Xen 2.0.0 (2004) or today's (the default). */
export type XenVersion = '2.0' | '4';

/** A number known now, or a `$name` saved by an earlier step. */
export interface NumArg {
  readonly value?: number;
  readonly ref?: string;
  readonly pos: Pos;
  readonly path: string;
}

/** gnttab_copy's source or dest. */
export interface CopySideArgs {
  readonly ref?: NumArg;
  readonly gmfn?: NumArg;
  readonly domid: NumArg;
  readonly offset: NumArg;
}

export type ArgValue = NumArg | CopySideArgs;

/** An expected value, partial: only what is written is compared. */
export type ExpectNode =
  | { readonly pos: Pos; readonly path: string; readonly scalar: NumArg | string | boolean | null }
  | { readonly pos: Pos; readonly path: string; readonly map: ReadonlyMap<string, ExpectNode> }
  | { readonly pos: Pos; readonly path: string; readonly list: readonly ExpectNode[] };

export interface SaveSpec {
  /** Result field path, e.g. "port" or "u.interdomain.port". */
  readonly field: string;
  readonly name: string;
  readonly pos: Pos;
  readonly path: string;
}

/** The guest kernel a domain boots: the default one, or Plan 9 on Xen 2.0. */
export type KernelName = 'default' | 'plan9' | 'minios';

/** A virtual disk: blkfront in the guest, blkback in dom0 serving an in-memory image. */
export interface BlockDeviceSpec {
  readonly devid: number;
  readonly sectors: number;
  /** Bytes written at the start of the image, as text. */
  readonly content: string;
  readonly readonly: boolean;
  readonly pos: Pos;
}

/** A network interface: netfront in the guest, netback in dom0 on its bridge. */
export interface NetworkDeviceSpec {
  readonly devid: number;
  readonly mac: string;
  readonly pos: Pos;
}

export interface DeviceSpecs {
  readonly block: readonly BlockDeviceSpec[];
  readonly network: readonly NetworkDeviceSpec[];
}

export interface DomainSpec {
  readonly name: string;
  readonly kernel: KernelName;
  readonly domid: number;
  readonly vcpus: number;
  readonly pirqs: readonly number[];
  readonly memoryPages: number;
  readonly maxEvtchnPort?: number;
  readonly cmdline: string;
  readonly devices: DeviceSpecs;
  readonly pos: Pos;
}

/** A duration or a count as written, with where it was written. */
export interface Timed {
  readonly value: number;
  readonly pos: Pos;
  readonly path: string;
}

/**
 * When a step happens: `at` an absolute virtual time (the clock runs on to it
 * first), and `repeat` times, `every` apart (each repetition starts `every`
 * after the one before started).
 */
export interface StepTiming {
  /** Virtual time, ns. */
  readonly at?: Timed;
  /** ns between the starts of two repetitions (0: one after the other, at once). */
  readonly every?: Timed;
  /** How many times, at least 1. */
  readonly repeat?: Timed;
}

interface StepBase {
  readonly pos: Pos;
  readonly path: string;
  /** The step as a short line, for listings. */
  readonly label: string;
  readonly expect?: ExpectNode;
  readonly save?: readonly SaveSpec[];
  readonly timing?: StepTiming;
}

export type LifecycleAction = 'pause' | 'unpause' | 'shutdown' | 'destroy';

/** xm shutdown's reasons in Xen 2.0 (XendDomain.domain_shutdown): halt goes out as poweroff. */
export const XEND_SHUTDOWN_REASONS = ['poweroff', 'reboot', 'suspend', 'halt'] as const;
/** A shutdown step's reason: the hypervisor's (today) or xend's (Xen 2.0). */
export type LifecycleReason = ShutdownReason | (typeof XEND_SHUTDOWN_REASONS)[number];

export type RingAction = 'init' | 'attach' | 'request' | 'push' | 'consume' | 'respond' | 'final_check';

/** A domain's lifecycle state, as an `until` waits for it. */
export type DomainUntilState = 'running' | 'paused' | 'shutdown' | 'dying' | 'destroyed';

/** What an `until` waits for. */
export type UntilCondition =
  /** A line of new console output matching `matches` (a RegExp source) or containing `contains`. */
  | { readonly kind: 'console'; readonly domain: NumArg; readonly matches?: string; readonly contains?: string; readonly pos: Pos; readonly path: string }
  /** A port whose fields compare as a check's do. */
  | { readonly kind: 'port'; readonly domain: NumArg; readonly port: NumArg; readonly checks: ReadonlyMap<string, ExpectNode>; readonly pos: Pos; readonly path: string }
  /**
   * A XenbusState in a xenstore state node: a device of `domain` (its
   * frontend's directory, or dom0's backend directory for it), or `path`.
   */
  | {
      readonly kind: 'xenbus';
      readonly domain?: NumArg;
      readonly device?: { readonly type: 'vbd' | 'vif'; readonly devid: number; readonly end: 'frontend' | 'backend' };
      /** Or a state node's full xenstore path. */
      readonly node?: string;
      readonly state: number;
      readonly pos: Pos;
      readonly path: string;
    }
  | { readonly kind: 'domain'; readonly domain: NumArg; readonly state: DomainUntilState; readonly pos: Pos; readonly path: string };

/** A fault a `fault` step injects. */
export type FaultSpec =
  | { readonly kind: 'drop_notify' | 'delay_notify'; readonly domain: NumArg; readonly port: NumArg; readonly count: number; readonly by: number }
  /** A scenario ring filled with requests by its frontend. */
  | { readonly kind: 'fill_ring'; readonly ring: string; readonly notifyPort?: NumArg }
  /** A guest's console ring filled by its console driver with `text`, over and over. */
  | { readonly kind: 'fill_console'; readonly domain: NumArg; readonly text: string }
  | { readonly kind: 'stall'; readonly domain: NumArg; readonly backend: string; readonly ns: number };

export type Step =
  | (StepBase & { readonly kind: 'hypercall'; readonly as: NumArg; readonly vcpu: number; readonly op: OpSpec; readonly args: ReadonlyMap<string, ArgValue> })
  | (StepBase & { readonly kind: 'mask' | 'clear_mask'; readonly as: NumArg; readonly port: NumArg })
  | (StepBase & { readonly kind: 'upcall_mask'; readonly as: NumArg; readonly vcpu: NumArg; readonly value: boolean })
  | (StepBase & { readonly kind: 'grant_access'; readonly as: NumArg; readonly ref: NumArg; readonly domid: NumArg; readonly frame: NumArg; readonly readonly: boolean })
  | (StepBase & { readonly kind: 'end_access'; readonly as: NumArg; readonly ref: NumArg })
  | (StepBase & { readonly kind: 'ring'; readonly as: NumArg; readonly action: RingAction; readonly ring: string; readonly args: ReadonlyMap<string, NumArg> })
  | (StepBase & { readonly kind: 'check'; readonly domain: NumArg; readonly port?: NumArg; readonly vcpu?: NumArg; readonly checks: ReadonlyMap<string, ExpectNode> })
  | (StepBase & { readonly kind: 'run'; readonly ns: number })
  | (StepBase & { readonly kind: 'until'; readonly condition: UntilCondition; readonly timeout: number })
  | (StepBase & { readonly kind: 'lifecycle'; readonly action: LifecycleAction; readonly domain: NumArg; readonly reason?: LifecycleReason })
  | (StepBase & { readonly kind: 'virq'; readonly domain: NumArg; readonly virq: NumArg; readonly vcpu: NumArg })
  | (StepBase & { readonly kind: 'pirq'; readonly domain: NumArg; readonly pirq: NumArg })
  | (StepBase & { readonly kind: 'type'; readonly domain: NumArg; readonly text: string })
  | (StepBase & { readonly kind: 'fault'; readonly fault: FaultSpec })
  | (StepBase & { readonly kind: 'solution'; readonly prompt: string; readonly saves: readonly SaveName[]; readonly context: SolutionContext });

/** A name written in a list (a placeholder's saves, an exercise's kernels), with where. */
export interface SaveName {
  readonly name: string;
  readonly pos: Pos;
  readonly path: string;
}

/**
 * What the checker knew where an exercise's placeholder stands, so that a
 * solution's steps are compiled as if written there: the $names saved before
 * it, and the earliest virtual time the steps before it can end at.
 */
export interface SolutionContext {
  readonly saved: readonly string[];
  readonly clockMin: number;
}

/** How many: exactly (min = max), or within bounds. */
export interface CountSpec {
  readonly min: number;
  readonly max: number;
  readonly pos: Pos;
  readonly path: string;
}

/** A text (or regular expression) an expectation names, where it is written. */
export interface TextSpec {
  readonly text: string;
  readonly pos: Pos;
  readonly path: string;
}

export interface FinalConsole {
  readonly domid: number;
  readonly name: string;
  readonly contains: readonly TextSpec[];
  readonly notContains: readonly TextSpec[];
  readonly matches: readonly TextSpec[];
  readonly lines?: CountSpec;
  readonly pos: Pos;
  readonly path: string;
}

export interface FinalCounters {
  readonly domid: number;
  readonly name: string;
  readonly upcalls?: CountSpec;
  readonly hypercalls?: CountSpec;
  readonly sends?: CountSpec;
  /** All ports together, or per port. */
  readonly deliveries?: CountSpec | readonly { readonly port: NumArg; readonly count: CountSpec }[];
  readonly pos: Pos;
  readonly path: string;
}

export interface FinalTrace {
  /** The filter as written, parsed for the scenario's Xen. */
  readonly filter: Filter;
  readonly count: CountSpec;
  readonly pos: Pos;
  readonly path: string;
}

/** The top-level `expect` block: checked when the steps are done. */
export interface FinalExpect {
  readonly consoles: readonly FinalConsole[];
  /** Port checks, as check steps. */
  readonly ports: readonly Extract<Step, { kind: 'check' }>[];
  readonly counters: readonly FinalCounters[];
  readonly trace: readonly FinalTrace[];
  readonly pos: Pos;
  readonly path: string;
}

/** What a graded check asserts: a port or vCPU (as a check step), or one part of the final expect block. */
export type ExerciseAssertion =
  | { readonly kind: 'port' | 'vcpu'; readonly check: Extract<Step, { kind: 'check' }> }
  | { readonly kind: 'console' | 'counters' | 'trace'; readonly expect: FinalExpect };

export interface ExerciseCheck {
  readonly id: string;
  readonly title: string;
  readonly points: number;
  /** Ids of earlier checks that must succeed for this one to be evaluated. */
  readonly requires: readonly string[];
  readonly assert: ExerciseAssertion;
  readonly pos: Pos;
  readonly path: string;
}

/** The `exercise` block: what makes a scenario a graded exercise. */
export interface ExerciseSpec {
  readonly title: string;
  /** 1 (first steps) .. 5 (hard). */
  readonly level: number;
  readonly goal: string;
  readonly hints: readonly string[];
  /** Guests whose kernel the student writes (a TypeScript solution's custom kernel). */
  readonly kernels: readonly SaveName[];
  /** The domid whose console ends with the `Test result:` line. */
  readonly report: number;
  readonly checks: readonly ExerciseCheck[];
  readonly pos: Pos;
  readonly path: string;
}

export interface Scenario {
  readonly file: string;
  readonly name: string;
  readonly description?: string;
  readonly xen: XenVersion;
  readonly abi: Abi;
  readonly seed: number;
  readonly domains: readonly DomainSpec[];
  readonly steps: readonly Step[];
  readonly expect?: FinalExpect;
  /** Present when the scenario is a graded exercise. */
  readonly exercise?: ExerciseSpec;
}
