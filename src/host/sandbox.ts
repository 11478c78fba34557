/**
 * A sandbox for untrusted scenario code: QuickJS compiled to WebAssembly
 * (quickjs-emscripten), one WebAssembly instance per sandbox. Code inside sees
 * only the ECMAScript built-ins and what the host hands it: no files,
 * network, process, timers or clock. Each entry from the host (an evaluation,
 * a call) may run for `timeLimitMs` of wall-clock time before QuickJS's
 * interrupt handler stops it; the instance's whole heap is a WebAssembly
 * memory that cannot grow past `memoryLimitBytes` (QuickJS's own malloc limit
 * cannot be trusted in the Emscripten build: it does not add up allocation
 * sizes); QuickJS's stack limit turns runaway recursion into an error.
 *
 * A sandbox that ran out of time or memory, or crashed, is dead: every later
 * use throws. The host process is unaffected, and other sandboxes too (each
 * has its own instance and memory).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { newQuickJSWASMModuleFromVariant, newVariant, RELEASE_SYNC, type QuickJSContext, type QuickJSHandle, type QuickJSRuntime } from 'quickjs-emscripten';

export interface SandboxLimits {
  /** Wall-clock milliseconds one entry into the sandbox (an evaluation or a call) may run; default 2000. */
  timeLimitMs?: number;
  /** The sandbox's whole heap in bytes (its WebAssembly memory), at least 32 MiB; default 64 MiB. */
  memoryLimitBytes?: number;
  /** QuickJS's stack limit in bytes (deep recursion stops with an error); default 128 KiB. */
  stackLimitBytes?: number;
}

export const DEFAULT_LIMITS: Readonly<Required<SandboxLimits>> = { timeLimitMs: 2000, memoryLimitBytes: 64 * 2 ** 20, stackLimitBytes: 128 * 2 ** 10 };

/** Why sandbox code failed: it threw, ran out of time, memory or stack, or the sandbox is dead. */
export type SandboxFailure = 'thrown' | 'timeout' | 'memory' | 'stack' | 'dead';

/** A stack frame of sandbox code: a function name and a 1-based line and column in the file given to eval. */
export interface Frame {
  fn: string;
  file: string;
  line: number;
  col: number;
}

export class SandboxError extends Error {
  constructor(
    readonly kind: SandboxFailure,
    message: string,
    /** Innermost first, as QuickJS reports them. */
    readonly frames: readonly Frame[] = [],
    /** The error's name inside the sandbox (TypeError, ReferenceError, ...), for kind 'thrown'. */
    readonly errorName = '',
  ) {
    super(message);
    this.name = 'SandboxError';
  }
}

/** A value that lives in the sandbox (a function to call later, a module's namespace); freed with the sandbox or its context. */
export class SandboxValue {
  constructor(readonly handle: QuickJSHandle) {}
}

/** A host function the sandbox may call: arguments arrive as plain values (numbers, strings, JSON-like objects). */
export type HostFunction = (...args: unknown[]) => unknown;

/** Values that cross into the sandbox: JSON-like data, host functions, and values kept from the sandbox. */
export type HostValue = undefined | null | boolean | number | string | HostFunction | SandboxValue | readonly HostValue[] | { readonly [k: string]: HostValue };

// WebAssembly's types are not in this project's libs (ES2022 + Node's); the two constructors used here.
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => WasmModule;
  Memory: new (limits: { initial: number; maximum: number }) => object;
};
type WasmModule = object;

const PAGE = 65536;
/** The Emscripten build's initial heap (its INITIAL_MEMORY): the smallest memory the instance accepts. */
const INITIAL_PAGES = 256;
const MIN_MEMORY = 32 * 2 ** 20;

let compiled: WasmModule | undefined;

/** QuickJS's WebAssembly module, compiled once per process and instantiated per sandbox. */
function wasmModule(): WasmModule {
  if (compiled === undefined) {
    const fromHere = createRequire(import.meta.url);
    const fromQuickjs = createRequire(fromHere.resolve('quickjs-emscripten'));
    compiled = new WebAssembly.Module(readFileSync(fromQuickjs.resolve('@jitl/quickjs-wasmfile-release-sync/wasm')));
  }
  return compiled;
}

export class Sandbox {
  readonly limits: Readonly<Required<SandboxLimits>>;
  private rt: QuickJSRuntime | undefined;
  private ctx: QuickJSContext | undefined;
  private readonly kept: QuickJSHandle[] = [];
  /** Nesting of host→sandbox entries; the deadline is set by the outermost one. */
  private depth = 0;
  private deadline = Infinity;
  private interrupted = false;
  private deadWhy: string | undefined;

  private constructor(rt: QuickJSRuntime, limits: Required<SandboxLimits>) {
    this.limits = limits;
    this.rt = rt;
    rt.setMaxStackSize(limits.stackLimitBytes);
    // Single large allocations fail early here; the memory's maximum bounds the total.
    rt.setMemoryLimit(limits.memoryLimitBytes);
    rt.setInterruptHandler(() => {
      if (this.depth === 0 || performance.now() <= this.deadline) return false;
      this.interrupted = true;
      return true;
    });
    this.ctx = rt.newContext();
  }

  /** A fresh sandbox with its own QuickJS instance and heap. */
  static async create(limits: SandboxLimits = {}): Promise<Sandbox> {
    const l: Required<SandboxLimits> = { ...DEFAULT_LIMITS, ...limits };
    if (!(l.timeLimitMs > 0)) throw new RangeError(`the time limit must be positive, not ${l.timeLimitMs} ms`);
    if (!(l.memoryLimitBytes >= MIN_MEMORY)) throw new RangeError(`the memory limit must be at least ${MIN_MEMORY / 2 ** 20} MiB, not ${l.memoryLimitBytes} bytes`);
    if (!(l.stackLimitBytes >= 16384)) throw new RangeError(`the stack limit must be at least 16 KiB, not ${l.stackLimitBytes} bytes`);
    const memory = new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: Math.max(INITIAL_PAGES, Math.floor(l.memoryLimitBytes / PAGE)) });
    const mod = await newQuickJSWASMModuleFromVariant(newVariant(RELEASE_SYNC, { wasmModule: wasmModule(), wasmMemory: memory }));
    return new Sandbox(mod.newRuntime(), l);
  }

  get alive(): boolean {
    return this.deadWhy === undefined && this.ctx !== undefined;
  }

  /** Evaluates a global script; returns its completion value, kept in the sandbox. */
  evalScript(code: string, file: string): SandboxValue {
    return this.keep(this.enter((ctx) => this.unwrap(ctx, ctx.evalCode(code, file, { type: 'global', strict: true }))));
  }

  /**
   * Evaluates an ES module; `modules` are the only ones it may import (by exact name).
   * Returns its namespace, after its top-level await (if any) settled.
   */
  evalModule(code: string, file: string, modules: ReadonlyMap<string, string>): SandboxValue {
    this.rt!.setModuleLoader(
      (name) => modules.get(name) ?? { error: new Error(`cannot import "${name}": a scenario may import only ${[...modules.keys()].map((m) => `"${m}"`).join(', ')}`) },
      (_base, name) => name,
    );
    return this.keep(
      this.enter((ctx) => {
        const result = this.unwrap(ctx, ctx.evalCode(code, file, { type: 'module', strict: true }));
        return this.settle(ctx, result);
      }),
    );
  }

  /** Calls a sandbox function with host values; returns its result as a plain value (JSON-like). */
  call(fn: SandboxValue, args: readonly HostValue[]): unknown {
    return this.enter((ctx) => {
      const handles = args.map((a) => this.toHandle(ctx, a));
      try {
        const result = this.unwrap(ctx, ctx.callFunction(fn.handle, ctx.undefined, ...handles));
        const settled = this.settle(ctx, result);
        try {
          return this.fromHandle(ctx, settled);
        } finally {
          settled.dispose();
        }
      } finally {
        for (const h of handles) h.dispose();
      }
    });
  }

  /** Calls a sandbox function with host values, keeping its result in the sandbox. */
  callKeep(fn: SandboxValue, args: readonly HostValue[]): SandboxValue {
    return this.keep(
      this.enter((ctx) => {
        const handles = args.map((a) => this.toHandle(ctx, a));
        try {
          return this.settle(ctx, this.unwrap(ctx, ctx.callFunction(fn.handle, ctx.undefined, ...handles)));
        } finally {
          for (const h of handles) h.dispose();
        }
      }),
    );
  }

  /** A property of a kept value, kept too. */
  get(v: SandboxValue, key: string): SandboxValue {
    return this.keep(this.enter((ctx) => ctx.getProp(v.handle, key)));
  }

  /** The type of a kept value, as `typeof` says. */
  typeOf(v: SandboxValue): string {
    return this.enter((ctx) => ctx.typeof(v.handle));
  }

  /**
   * A fresh context (new globals, nothing evaluated) in the same instance and heap; values kept
   * from the old one are freed.
   */
  reset(): void {
    if (this.deadWhy !== undefined || this.ctx === undefined || this.rt === undefined) throw new SandboxError('dead', `the scenario's sandbox is stopped (${this.deadWhy ?? 'disposed'})`);
    for (const h of this.kept) if (h.alive) h.dispose();
    this.kept.length = 0;
    this.ctx.dispose();
    this.ctx = this.rt.newContext();
  }

  /** Frees the instance; safe to call twice, and after the sandbox died. */
  dispose(): void {
    const ctx = this.ctx;
    const rt = this.rt;
    this.ctx = undefined;
    this.rt = undefined;
    this.deadWhy ??= 'the sandbox was disposed';
    if (ctx === undefined || rt === undefined) return;
    try {
      for (const h of this.kept) if (h.alive) h.dispose();
      ctx.dispose();
      rt.dispose();
    } catch {
      // A crashed instance may not free cleanly; it is garbage either way.
    }
    this.kept.length = 0;
  }

  // ---- inside ----

  private keep(h: QuickJSHandle): SandboxValue {
    this.kept.push(h);
    return new SandboxValue(h);
  }

  /** Runs `f` as an entry into the sandbox: deadline set by the outermost entry, failures turned into SandboxErrors. */
  private enter<T>(f: (ctx: QuickJSContext) => T): T {
    if (this.deadWhy !== undefined || this.ctx === undefined) throw new SandboxError('dead', `the scenario's sandbox is stopped (${this.deadWhy ?? 'disposed'})`);
    const ctx = this.ctx;
    if (this.depth === 0) {
      this.deadline = performance.now() + this.limits.timeLimitMs;
      this.interrupted = false;
    }
    this.depth++;
    try {
      return f(ctx);
    } catch (e) {
      if (e instanceof SandboxError) {
        if (e.kind === 'timeout' || e.kind === 'memory') this.deadWhy ??= e.message;
        throw e;
      }
      // A host exception through the WebAssembly frames (the host's own stack ran out, or the
      // instance trapped): the instance's state cannot be trusted any more.
      const why = e instanceof RangeError ? 'scenario code nested calls too deeply for the host (stack overflow)' : `the sandbox crashed: ${e instanceof Error ? e.message : String(e)}`;
      this.deadWhy = why;
      throw new SandboxError(e instanceof RangeError ? 'stack' : 'dead', why);
    } finally {
      this.depth--;
    }
  }

  /** The value of a call result, or a SandboxError describing its exception. */
  private unwrap(ctx: QuickJSContext, r: { value: QuickJSHandle; error?: undefined } | { error: QuickJSHandle; value?: undefined }): QuickJSHandle {
    if (r.error === undefined) return r.value;
    const err = r.error;
    try {
      throw this.describe(ctx, err);
    } finally {
      err.dispose();
    }
  }

  /** A promise's outcome after running pending jobs (a plain value is returned as it is). */
  private settle(ctx: QuickJSContext, h: QuickJSHandle): QuickJSHandle {
    let state = ctx.getPromiseState(h);
    if (state.type === 'fulfilled' && state.notAPromise === true) return h;
    if (state.type === 'pending') {
      const jobs = this.rt!.executePendingJobs();
      if (jobs.error !== undefined) {
        h.dispose();
        const err = jobs.error;
        try {
          throw this.describe(ctx, err);
        } finally {
          err.dispose();
        }
      }
      state = ctx.getPromiseState(h);
    }
    h.dispose();
    if (state.type === 'pending') throw new SandboxError('thrown', 'scenario code awaited something that never came (a scenario has nothing outside to wait for)');
    if (state.type === 'rejected') {
      const err = state.error;
      try {
        throw this.describe(ctx, err);
      } finally {
        err.dispose();
      }
    }
    return state.value;
  }

  private describe(ctx: QuickJSContext, err: QuickJSHandle): SandboxError {
    const timedOut = this.interrupted;
    let name = '';
    let message: string;
    let stack = '';
    if (ctx.typeof(err) === 'object' && !isNull(ctx, err)) {
      name = this.stringProp(ctx, err, 'name');
      message = this.stringProp(ctx, err, 'message');
      stack = this.stringProp(ctx, err, 'stack');
    } else if (isNull(ctx, err)) {
      // QuickJS throws null when it cannot even allocate the error.
      return new SandboxError('memory', `scenario code used more than its ${fmtBytes(this.limits.memoryLimitBytes)} of memory`);
    } else {
      message = this.stringOf(ctx, err);
    }
    const frames = parseFrames(stack);
    if (timedOut && name === 'InternalError' && message === 'interrupted') {
      return new SandboxError('timeout', `scenario code ran for more than ${fmtMs(this.limits.timeLimitMs)}`, frames);
    }
    if (name === 'InternalError' && message === 'out of memory') return new SandboxError('memory', `scenario code used more than its ${fmtBytes(this.limits.memoryLimitBytes)} of memory`, frames);
    if (name === 'InternalError' && message === 'stack overflow') return new SandboxError('stack', 'scenario code recursed too deeply (stack overflow)', frames);
    return new SandboxError('thrown', message, frames, name);
  }

  /** A property as text (a getter runs under the entry's deadline, like any sandbox code). */
  private stringProp(ctx: QuickJSContext, h: QuickJSHandle, key: string): string {
    const p = ctx.getProp(h, key);
    try {
      return this.stringOf(ctx, p);
    } finally {
      p.dispose();
    }
  }

  private stringOf(ctx: QuickJSContext, h: QuickJSHandle): string {
    const t = ctx.typeof(h);
    if (t === 'string') return ctx.getString(h);
    if (t === 'number') return String(ctx.getNumber(h));
    if (t === 'undefined') return '';
    if (t === 'boolean' || t === 'symbol' || t === 'bigint') return String(ctx.dump(h));
    return 'a non-error value';
  }

  /** Host value → sandbox value (JSON-like data; functions become host functions). */
  private toHandle(ctx: QuickJSContext, v: HostValue): QuickJSHandle {
    if (v === undefined) return ctx.undefined;
    if (v === null) return ctx.null;
    if (v === true) return ctx.true;
    if (v === false) return ctx.false;
    if (typeof v === 'number') return ctx.newNumber(v);
    if (typeof v === 'string') return ctx.newString(v);
    if (v instanceof SandboxValue) return v.handle.dup();
    if (typeof v === 'function') {
      const fn = v;
      return ctx.newFunction(fn.name, (...args) => {
        const plain = args.map((a) => this.fromHandle(ctx, a));
        return this.toHandle(ctx, fn(...plain) as HostValue);
      });
    }
    if (Array.isArray(v)) {
      const arr = ctx.newArray();
      (v as readonly HostValue[]).forEach((item, i) => {
        const h = this.toHandle(ctx, item);
        ctx.setProp(arr, i, h);
        h.dispose();
      });
      return arr;
    }
    const obj = ctx.newObject();
    for (const [k, item] of Object.entries(v as Record<string, HostValue>)) {
      const h = this.toHandle(ctx, item);
      ctx.setProp(obj, k, h);
      h.dispose();
    }
    return obj;
  }

  /** Sandbox value → plain host value: numbers and strings directly, anything else through JSON inside the sandbox. */
  private fromHandle(ctx: QuickJSContext, h: QuickJSHandle): unknown {
    switch (ctx.typeof(h)) {
      case 'number':
        return ctx.getNumber(h);
      case 'string':
        return ctx.getString(h);
      case 'undefined':
        return undefined;
      case 'boolean':
        return ctx.dump(h) as boolean;
      case 'function':
        return undefined;
      default:
        return ctx.dump(h);
    }
  }
}

function isNull(ctx: QuickJSContext, h: QuickJSHandle): boolean {
  return ctx.sameValue(h, ctx.null);
}

/** QuickJS stack lines: "    at name (file:line:col)" or "    at file:line:col". */
export function parseFrames(stack: string): Frame[] {
  const frames: Frame[] = [];
  for (const line of stack.split('\n')) {
    const m = /^\s*at (?:(.*?) \()?(.*?):(\d+)(?::(\d+))?\)?\s*$/.exec(line);
    if (m === null) continue;
    frames.push({ fn: m[1] ?? '', file: m[2]!, line: Number(m[3]), col: m[4] === undefined ? 1 : Number(m[4]) });
  }
  return frames;
}

function fmtMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

function fmtBytes(n: number): string {
  return n % 2 ** 20 === 0 ? `${n / 2 ** 20} MiB` : `${n} bytes`;
}
