/**
 * The host's side of a session worker: starts it when first needed, sends
 * operations and matches the answers, hands its events on, and stops it when
 * it stops answering — a request (or a running session) with no word from
 * the worker for `stallMs` means a unit that never ends — or when it dies
 * (out of memory, a crash). Pending requests are then refused with a message
 * saying what happened, and `onEnded` tells the UI; the next request starts
 * a fresh worker.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { HostError } from '../../contract/api.js';
import type { FromWorker, ToWorker, WorkerOp, WorkerOps } from './worker_protocol.js';

export interface WorkerClientOptions {
  /** No word from a busy worker for this long stops it, ms. */
  stallMs?: number;
  /** The most heap the simulation may use, MiB. */
  maxHeapMb?: number;
  /** The worker's script (default: labWorkerFile()). */
  file?: string;
  /** How long one entry into a TypeScript scenario's sandbox may run, ms (default 2000). */
  sandboxTimeMs?: number;
}

export const DEFAULT_STALL_MS = 10_000;
export const DEFAULT_MAX_HEAP_MB = 2048;

/**
 * The built worker script: beside this module when it is bundled (the web
 * server's and the desktop app's builds put lab_worker.mjs / lab_worker.js
 * next to their bundle), else dist/host/lab_worker.mjs of the package
 * (npm run build:host; tests and running from source).
 */
export function labWorkerFile(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const name of ['lab_worker.mjs', 'lab_worker.js']) if (existsSync(join(here, name))) return join(here, name);
  for (let dir = here; ; dir = dirname(dir)) {
    const f = join(dir, 'dist', 'host', 'lab_worker.mjs');
    if (existsSync(join(dir, 'package.json')) && existsSync(f)) return f;
    if (dirname(dir) === dir) break;
  }
  throw new HostError('internal', `the session worker (lab_worker.mjs) is not built: run "npm run build:host" (looked beside ${here} and in dist/host of the package)`);
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

export class WorkerClient {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private lastWord = 0;
  private running = false;
  private watchdog: ReturnType<typeof setInterval> | undefined;
  private closed = false;

  constructor(
    private readonly onEvent: (event: string, payload: unknown) => void,
    private readonly onEnded: (message: string) => void,
    private readonly opts: WorkerClientOptions = {},
  ) {}

  request<K extends WorkerOp>(op: K, params: WorkerOps[K]['params']): Promise<WorkerOps[K]['result']> {
    if (this.closed) return Promise.reject(new HostError('no-session', 'the lab host is closed'));
    const w = this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.lastWord = Date.now();
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      const msg: ToWorker = { id, op, params };
      w.postMessage(msg);
    });
  }

  /** Starts the worker now, so the first scenario opens without waiting for it (a UI connects, then opens). */
  warm(): void {
    if (!this.closed) this.start();
  }

  /** Whether a worker is up (a session may be open in it). */
  get started(): boolean {
    return this.worker !== undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.stop(new HostError('no-session', 'the lab host was closed'));
  }

  private start(): Worker {
    if (this.worker !== undefined) return this.worker;
    const w = new Worker(this.opts.file ?? labWorkerFile(), {
      workerData: { sandboxTimeMs: this.opts.sandboxTimeMs },
      // The worker is a self-contained bundle: it needs none of this process's flags, and a
      // loader inherited from them (a TypeScript runner's --import) would load every module
      // of it through that loader's thread, slowing the first scenario by hundreds of ms.
      execArgv: [],
      resourceLimits: { maxOldGenerationSizeMb: this.opts.maxHeapMb ?? DEFAULT_MAX_HEAP_MB },
      stdout: false,
      stderr: false,
    });
    this.worker = w;
    this.lastWord = Date.now();
    w.on('message', (m: FromWorker) => this.onMessage(m));
    w.on('error', (e: Error) => {
      const oom = (e as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY';
      const why = oom ? `the simulation ran out of memory (the limit is ${this.opts.maxHeapMb ?? DEFAULT_MAX_HEAP_MB} MiB) and was stopped` : `the simulation crashed: ${e.message}`;
      void this.end(w, why);
    });
    w.on('exit', (code) => {
      if (this.worker === w) void this.end(w, `the simulation stopped unexpectedly (exit code ${code})`);
    });
    this.watchdog = setInterval(() => this.check(), 500);
    this.watchdog.unref();
    return w;
  }

  private onMessage(m: FromWorker): void {
    this.lastWord = Date.now();
    if (m.kind === 'busy') return;
    if (m.kind === 'event') {
      if (m.event === 'session.status') this.running = (m.payload as { state?: string }).state === 'running';
      this.onEvent(m.event, m.payload);
      return;
    }
    const p = this.pending.get(m.id);
    if (p === undefined) return;
    this.pending.delete(m.id);
    if (m.ok) p.resolve(m.result);
    else p.reject(new HostError(m.error.code, m.error.message));
  }

  private check(): void {
    if (this.worker === undefined || (this.pending.size === 0 && !this.running)) return;
    const stall = this.opts.stallMs ?? DEFAULT_STALL_MS;
    if (Date.now() - this.lastWord > stall) {
      void this.end(this.worker, `the simulation did not answer for ${Math.round(stall / 1000)} s (a step that never ends?) and was stopped`);
    }
  }

  /** Stops worker `w` for `why`: pending requests refused, the UI told. */
  private async end(w: Worker, why: string): Promise<void> {
    if (this.worker !== w) return;
    await this.stop(new HostError('internal', `${why}; open the scenario again to go on`));
    if (!this.closed) this.onEnded(`${why}.`);
  }

  private async stop(reason: HostError): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    this.running = false;
    if (this.watchdog !== undefined) clearInterval(this.watchdog);
    this.watchdog = undefined;
    for (const p of this.pending.values()) p.reject(reason);
    this.pending.clear();
    if (w !== undefined) await w.terminate();
  }
}
