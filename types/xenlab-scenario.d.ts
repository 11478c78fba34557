/**
 * Typings of XenLab's TypeScript scenario API (docs/typescript-scenarios.md).
 *
 *   import { scenario, kernel } from 'xenlab';
 *   export default scenario({ name: '...', domains: [...], steps: [...] }, (lab) => { ... });
 *
 * An exercise's solution (docs/exercises.md) is written the same way and ends with
 *   export default solution({ steps: [...], kernels: { guest: kernel('mine', { ... }) } });
 *
 * A scenario file runs in a sandbox: no files, network, processes, timers or clocks; only this
 * module can be imported. Time and randomness come from the simulation (k.now(), k.random()).
 * Editors pick these typings up when this file is part of the project (tsconfig "include"), or
 * with a reference at the top of a scenario:  /// <reference path="…/types/xenlab-scenario.d.ts" />
 */
declare module 'xenlab' {
  // ---- values, as the YAML step form writes them ----

  /** `$name`: a value saved by an earlier step's `save`. */
  export type Ref = `$${string}`;
  /** A domain: its name, its numeric id, `DOMID_SELF` (also `DOMID_IO`, `DOMID_XEN`, ...) or a `$name`. */
  export type DomainRef = string | number;
  /** A number, or a `$name` saved earlier. */
  export type Num = number | Ref;
  /** A VIRQ by number or name (`VIRQ_TIMER`, `VIRQ_DEBUG`, `VIRQ_DOM_EXC`, ...), or a `$name`. */
  export type VirqRef = number | `VIRQ_${string}` | Ref;
  /** `250ns`, `10us`, `1ms`, `2s`, or a number of ns. */
  export type Duration = number | `${number}${'ns' | 'us' | 'µs' | 'ms' | 's'}`;
  /** Grant flags: a number, a name, `GNTMAP_host_map|GNTMAP_readonly`, or a list of names. */
  export type GrantFlags = number | string | readonly string[];
  /** An expected value: compared partially (maps by the keys written). `ret` as 0, a number or `-EINVAL`. */
  export type Expected = number | string | boolean | null | readonly Expected[] | { readonly [key: string]: Expected };

  // ---- the document ----

  /** A kernel of this file (what `kernel()` returns), or one of XenLab's. */
  export type KernelRef = 'default' | 'plan9' | 'minios' | CustomKernel;
  /** The name of a kernel defined with `kernel()` in this file. */
  export type CustomKernel = string & { readonly __xenlabKernel?: true };

  export interface BlockDevice {
    /** 512-byte sectors (default 128). */
    sectors?: number;
    /** Text at the start of the image. */
    content?: string;
    /** A read-only disk answers writes with BLKIF_RSP_ERROR. */
    readonly?: boolean;
  }

  export interface NetworkDevice {
    /** Default 00:16:3e:00:<domid>:<index>. */
    mac?: string;
  }

  export interface Domain {
    /** Used to refer to it in steps; the first domain is dom0 (id 0), the rest get ids 1, 2, ... */
    name: string;
    /** The kernel it boots (default: the default kernel, which counts deliveries per port). Custom kernels: guests only. */
    kernel?: KernelRef;
    /** 1..32 (Xen 2.0: 1). */
    vcpus?: number;
    /** PIRQs it may bind (dom0 may bind all). */
    pirqs?: number[];
    /** MiB as a number, or `64MiB`, `1GiB`, `4096KiB`. */
    memory?: number | string;
    /** Default 1023 for a domU. */
    max_evtchn_port?: number;
    cmdline?: string;
    /** Split devices, for `kernel: 'minios'` guests on a modern Xen. */
    devices?: { block?: BlockDevice[]; network?: NetworkDevice[] };
  }

  /** What most steps may carry: expected results and names to save result fields under. */
  export interface StepExtras {
    /** Compared partially: only the keys written. */
    expect?: { readonly [field: string]: Expected };
    /** `{ <result field>: <name> }`; later steps use the value as `$name`. */
    save?: { readonly [field: string]: string };
  }

  /** A hypercall by op name with Xen's argument names (see docs/step-form.md for each op). */
  export interface HypercallStep extends StepExtras {
    as: DomainRef;
    op: string;
    /** Numbers, names (domains, VIRQs, flags) or `$name`s; gnttab_copy's source and dest are objects. */
    args?: { readonly [arg: string]: number | string | readonly string[] | { readonly [field: string]: number | string } };
    /** The calling vCPU (default 0). */
    vcpu?: number;
  }

  export interface PortCheck {
    domain: DomainRef;
    port: Num;
    state?: 'free' | 'reserved' | 'unbound' | 'interdomain' | 'pirq' | 'virq' | 'ipi';
    pending?: boolean;
    masked?: boolean;
    delivered?: Expected;
    vcpu?: Expected;
    linked?: boolean;
    priority?: Expected;
  }

  export interface VcpuCheck {
    domain: DomainRef;
    vcpu: Num;
    upcall_pending?: boolean;
    upcall_mask?: boolean;
    pending_sel?: Expected[];
    ready?: Expected[];
  }

  export interface ConsoleCheck {
    domain: DomainRef;
    /** Text the console output contains. */
    console: string;
  }

  /** When a step happens (any step may say): `at` a virtual time; `repeat` times, `every` apart. */
  export interface Timing {
    /** Absolute virtual time: the clock runs on to it first, delivering every event due. */
    at?: Duration;
    /** Do the step this many times (1..1000000); each repetition has its own result. */
    repeat?: number;
    /** With repeat: the time between the starts of two repetitions. */
    every?: Duration;
  }

  /** How many: exactly, or a range (either bound may be left out). */
  export type Count = number | { min?: number; max?: number };

  /** A lifecycle state an `until` waits for. */
  export type DomainState = 'running' | 'paused' | 'shutdown' | 'dying' | 'destroyed';

  /** XenbusState names (io/xenbus.h), short or long. */
  export type XenbusStateName =
    | 'Unknown' | 'Initialising' | 'InitWait' | 'Initialised' | 'Connected' | 'Closing' | 'Closed' | 'Reconfiguring' | 'Reconfigured'
    | `XenbusState${'Unknown' | 'Initialising' | 'InitWait' | 'Initialised' | 'Connected' | 'Closing' | 'Closed' | 'Reconfiguring' | 'Reconfigured'}`;

  /** What an `until` waits for (one condition), and how long at most (default 1s of virtual time). */
  export type UntilCondition = (
    | { console: { domain: DomainRef; matches: string } | { domain: DomainRef; contains: string } }
    | { port: Omit<PortCheck, 'state'> & { state?: PortCheck['state'] } }
    | { xenbus: { domain: DomainRef; device: 'vbd' | 'vif'; index?: number; end?: 'frontend' | 'backend'; state: XenbusStateName } | { path: string; state: XenbusStateName } }
    | { domain: DomainRef; state: DomainState }
  ) & { timeout?: Duration };

  /** A fault, for labs about races and back-pressure (docs/step-form.md). */
  export type Fault =
    | { drop_notify: { domain: DomainRef; port: Num; count?: number } }
    | { delay_notify: { domain: DomainRef; port: Num; by: Duration; count?: number } }
    | { fill_ring: { ring: string; notify_port?: Num } | { console: DomainRef; text?: string } }
    | { stall: { domain: DomainRef; backend: 'console' | 'xenstore' | 'block' | 'network' | 'xend'; for: Duration } };

  export type Step = Timing &
    (
      | HypercallStep
      | { check: PortCheck | VcpuCheck | ConsoleCheck }
      | { run: Duration }
      | { until: UntilCondition }
      | ({ fault: Fault } & Pick<StepExtras, 'expect'>)
      | ({ pause: DomainRef | { domain: DomainRef } } & StepExtras)
      | ({ unpause: DomainRef | { domain: DomainRef } } & StepExtras)
      | ({ destroy: DomainRef | { domain: DomainRef } } & StepExtras)
      | ({ shutdown: DomainRef | { domain: DomainRef; reason?: string } } & StepExtras)
      | ({ as: DomainRef; mask: Num } & StepExtras)
      | ({ as: DomainRef; clear_mask: Num } & StepExtras)
      | ({ as: DomainRef; upcall_mask: { vcpu?: Num; value: boolean } } & StepExtras)
      | ({ as: DomainRef; grant_access: { ref: Num; domid: DomainRef; frame: Num; readonly?: boolean } } & StepExtras)
      | ({ as: DomainRef; end_access: Num } & StepExtras)
      | { virq: { domain: DomainRef; virq: VirqRef; vcpu?: Num } }
      | { pirq: { domain: DomainRef; pirq: Num } }
      | { type: { domain: DomainRef; text: string } }
      | ({ as: DomainRef; ring_init: { ring: string; gfn: Num; entry_size?: Num } } & StepExtras)
      | ({ as: DomainRef; ring_attach: { ring: string; handle: Num; entry_size?: Num } } & StepExtras)
      | ({ as: DomainRef; ring_request: { ring: string; count?: Num } } & StepExtras)
      | ({ as: DomainRef; ring_respond: { ring: string; count?: Num } } & StepExtras)
      | ({ as: DomainRef; ring_push: { ring: string; notify_port?: Num } } & StepExtras)
      | ({ as: DomainRef; ring_consume: { ring: string; max?: Num } } & StepExtras)
      | ({ as: DomainRef; ring_final_check: { ring: string } } & StepExtras)
      | SolutionPlaceholder
    );

  /**
   * In an exercise: where the student's steps go when it is graded (xenlab check --solution FILE);
   * without a solution it does nothing. `saves`: the $names the student's steps must save.
   */
  export interface SolutionPlaceholder {
    solution: string;
    saves?: string[];
  }

  /** What must hold when the steps are done (the top-level `expect`). */
  export interface FinalExpect {
    /** By domain name (or id): text the console output contains or not, a line it matches, how many lines. */
    consoles?: { readonly [domain: string]: { contains?: string | string[]; not_contains?: string | string[]; matches?: string | string[]; lines?: Count } };
    /** Port checks, as the check step's. */
    ports?: PortCheck[];
    /** By domain name (or id): what the machine counted over the run. */
    counters?: { readonly [domain: string]: { upcalls?: Count; hypercalls?: Count; sends?: Count; deliveries?: Count | { readonly [port: string]: Count } } };
    /** How many trace records a filter (docs/filter.md) selects. */
    trace?: { filter: string; count: Count }[];
  }

  /** A graded check: an id, a title, points, the checks it requires, and one assertion. */
  export type ExerciseCheck = {
    /** Lower-case letters, digits, - and _; unique in the exercise. */
    id: string;
    title: string;
    /** 1..1000 (default 1): all of them when the check succeeds, none otherwise. */
    points?: number;
    /** Ids of earlier checks that must succeed for this one to be evaluated (else it is a SKIP). */
    requires?: string[];
  } & (
    | { port: PortCheck }
    | { vcpu: VcpuCheck }
    | { console: { domain: DomainRef; contains?: string | string[]; not_contains?: string | string[]; matches?: string | string[]; lines?: Count } }
    | { counters: { domain: DomainRef; upcalls?: Count; hypercalls?: Count; sends?: Count; deliveries?: Count | { readonly [port: string]: Count } } }
    | { trace: { filter: string; count: Count } }
  );

  /** What makes a scenario a graded exercise (docs/exercises.md). */
  export interface Exercise {
    title: string;
    /** 1 first steps, 2 practice, 3 investigate, 4 build, 5 hard. */
    level: 1 | 2 | 3 | 4 | 5;
    /** What the student is to do and why. */
    goal: string;
    /** Shown one at a time. */
    hints?: string[];
    /** Guests whose kernel the student writes (a TypeScript solution's kernels). */
    kernels?: string[];
    /** The domain whose console ends with `Test result: <RESULT>` (default: the first guest). */
    report?: DomainRef;
    /** What is graded, and nothing else. */
    checks: ExerciseCheck[];
  }

  /** The document a YAML scenario holds (docs/step-form.md). */
  export interface ScenarioDoc {
    name?: string;
    description?: string;
    /** Which hypervisor's rules: "4" (today's, the default) or "2.0". */
    xen?: '4' | '2.0';
    /** The default kernels' event ABI: 2l (default) or fifo. */
    abi?: '2l' | 'fifo';
    /** The PRNG seed; `--seed N` overrides it. */
    seed?: number;
    domains?: Domain[];
    steps?: Step[];
    expect?: FinalExpect;
    /** Makes the scenario a graded exercise. */
    exercise?: Exercise;
  }

  /** What an exercise's solution gives: steps for its placeholder, and kernels for the guests it names. */
  export interface SolutionParts {
    steps?: Step[];
    /** By guest name: what kernel() returned. */
    kernels?: { readonly [guest: string]: CustomKernel };
  }

  /** What `setup` gets: adds to the document in code (loops, computed topologies). */
  export interface Lab {
    /** Adds a domain after the document's; returns its name. */
    domain(d: Domain): string;
    /** Adds steps after the document's (problems in them point at this call). */
    step(...steps: Step[]): void;
    /** The same as the module's `kernel`. */
    kernel(name: string, handlers: KernelHandlers): CustomKernel;
  }

  /**
   * Declares the scenario: `doc` is the document (domains, steps, ...), `setup` may add to it.
   * The file's default export is what it returns: `export default scenario({...}, lab => {...})`.
   */
  export function scenario(doc: ScenarioDoc, setup?: (lab: Lab) => void): ScenarioDoc;

  /**
   * Declares an exercise's solution (docs/exercises.md): `export default solution({ steps, kernels })`.
   * Grade it with `xenlab check EXERCISE --solution FILE`.
   */
  export function solution(parts: SolutionParts): SolutionParts;

  // ---- custom kernels ----

  /** What a hypercall returns: Xen's return value (0 or a negative errno) and its result fields. */
  export interface CallResult {
    ret: number;
    out: { readonly [field: string]: unknown };
  }

  /** The guest API a custom kernel's handlers get: its own domain's view, synchronous. */
  export interface Guest {
    readonly domid: number;
    readonly name: string;
    /** How many vCPUs the domain has. */
    readonly vcpus: number;
    /** Per-domain state for the kernel to keep what it likes in. */
    readonly state: Record<string, unknown>;
    /**
     * A hypercall by op name with Xen's argument names, as in a step: `k.call('alloc_unbound', { dom: 'DOMID_SELF', remote_dom: 'pong' })`.
     * Domains may be given by name, VIRQs and flags by name. Throws for an unknown op or argument.
     */
    call(op: string, args?: { readonly [arg: string]: unknown }, vcpu?: number): CallResult;
    /** EVTCHNOP_send on a local port: 0 or a negative errno. */
    send(port: number, vcpu?: number): number;
    /** Sets the port's mask bit in shared memory (no hypercall); false if the port has none. */
    mask(port: number): boolean;
    /** Clears the mask bit directly (re-raises nothing); false if the port has none. */
    clearMask(port: number): boolean;
    /** EVTCHNOP_unmask (re-raises a pending event): 0 or a negative errno. */
    unmask(port: number): number;
    /** Writes to the domain's console (no newline added). */
    print(...values: unknown[]): void;
    /** Writes a line to the domain's console. */
    println(...values: unknown[]): void;
    /** Virtual time, ns. */
    now(): number;
    /** A number in [0, 1) from the domain's seeded PRNG: the same seed gives the same numbers. */
    random(): number;
    /** How many events the kernel took on the port so far. */
    deliveries(port: number): number;
    /**
     * Xen 2.0, for a kernel with a control handler: sends a request to the domain controller (xend)
     * on the control interface's tx ring and notifies it (ctrl_if_send_message_noblock). With
     * `reply: true` the request gets an id from ctrl_if's table (the lowest free, 0..7) and the
     * response goes to onControlResponse; otherwise its id is 0xFF. `ret` is -EAGAIN (-11) when eight
     * requests are out whose responses the kernel has not consumed yet (TX_FULL): then
     * onControlSpace runs once there is room. The payload holds at most 60 bytes.
     */
    control(msg: ControlRequest): { ret: number; id: number };
  }

  /** A control message a kernel sends (k.control). */
  export interface ControlRequest {
    /** CMSG_CONSOLE (0), ... by name or number. */
    type: string | number;
    /** CMSG_CONSOLE_DATA (0), ... by name or number (default 0). */
    subtype?: string | number;
    /** Text (UTF-8) or bytes, at most 60. */
    payload?: string | number[];
    /** Ask for the response (onControlResponse gets it, matched by id). */
    reply?: boolean;
  }

  /** A custom kernel: the default kernel (upcalls on at boot, Linux's dispatch loop), plus these. */
  export interface KernelHandlers {
    /** At boot, after upcalls were enabled. */
    boot?(k: Guest): void;
    /** For each event the dispatch loop takes (its pending bit already cleared). */
    onEvent?(k: Guest, port: number, vcpu: number): void;
    /** For each event on the vCPU's VIRQ_TIMER port (bound with k.call('bind_virq', { virq: 'VIRQ_TIMER', vcpu })); instead of onEvent. */
    onTimer?(k: Guest, vcpu: number): void;
    /** Text typed at the domain's console (a `type` step, or a live console). */
    onConsoleInput?(k: Guest, text: string): void;
    /**
     * Xen 2.0 only (`xen: "2.0"`): a request from the domain controller (xend) on the control
     * interface — CMSG_CONSOLE input (when there is no onConsoleInput), CMSG_SHUTDOWN, ... The
     * toolstack makes the domain a control channel before it boots, as for Plan 9. What it returns
     * is the response's payload (text, up to 60 bytes, or nothing), sent with ctrl_if_send_response.
     */
    onControlMessage?(k: Guest, msg: ControlMessage): string | number[] | void;
    /**
     * Xen 2.0: the controller's response to a request sent with `reply: true`, matched by its id as
     * ctrl_if's tx tasklet does (the id is free again when this returns).
     */
    onControlResponse?(k: Guest, msg: ControlMessage): void;
    /** Xen 2.0: the tx ring, full when k.control last returned -EAGAIN, has room again (ctrl_if_enqueue_space_callback). */
    onControlSpace?(k: Guest): void;
  }

  /** A control message (control_msg_t) as onControlMessage gets it. */
  export interface ControlMessage {
    readonly type: number;
    readonly subtype: number;
    /** The request's id (0..255), echoed in the response. */
    readonly id: number;
    /** CMSG_CONSOLE, CMSG_SHUTDOWN, ... */
    readonly type_name: string;
    /** CMSG_CONSOLE_DATA, CMSG_SHUTDOWN_POWEROFF, ... */
    readonly subtype_name: string;
    /** The payload's bytes (at most 60). */
    readonly payload: readonly number[];
  }

  /** Defines a custom kernel; use what it returns as a domain's `kernel`. */
  export function kernel(name: string, handlers: KernelHandlers): CustomKernel;

  /** A hypercall's return value as a name: 0, -EINVAL, ... */
  export function retName(ret: number): string;
}
