/**
 * The lab host: what one UI window (an Electron window, a web page's
 * connection) talks to. It answers every request of the contract
 * (src/contract/api.ts) and streams that window's session events to the
 * listeners given to `on`. The simulation runs in a worker thread of its
 * own (lab/worker.ts), so this object never blocks its caller's thread.
 *
 * The desktop app's main process and the web server (src/web) each create
 * one per window or connection and wire it to their transport.
 */
import { HostError, type EventName, type Events, type HostApi, type HostMode, type Params, type RequestName, type Result } from '../contract/api.js';
import { isEventName } from '../contract/bridge.js';
import { dispatch, type DialogProvider, type DispatchContext } from './lab/dispatch.js';
import { Drafts } from './lab/drafts.js';
import { FileService } from './lab/file_service.js';
import { WorkerClient, type WorkerClientOptions } from './lab/worker_client.js';

export type { DialogProvider } from './lab/dispatch.js';
export { UNIMPLEMENTED_REQUESTS } from './lab/dispatch.js';

export interface LabHostOptions {
  mode: HostMode;
  version: string;
  /** Folders the UI may browse (in web mode, the only ones it may read or write). */
  roots: { name: string; path: string }[];
  /** Where recent files and drafts are kept. */
  dataDir: string;
  /** Native open/save dialogs (Electron); web mode has none. */
  dialogs?: DialogProvider;
}

export interface LabHost extends HostApi {
  /** Stops the session and its worker; later requests are refused. */
  close(): Promise<void>;
}

/** The event names a host streams (anything else from a worker is dropped). */

class Host implements LabHost {
  private readonly listeners = new Map<string, Set<(payload: never) => void>>();
  private readonly cx: DispatchContext;
  private closed = false;

  constructor(opts: LabHostOptions, workerOptions: WorkerClientOptions) {
    const files = new FileService(opts.mode, opts.roots, opts.dataDir);
    const worker = new WorkerClient(
      (event, payload) => this.emit(event, payload),
      (message) => this.emit('session.ended', { message }),
      workerOptions,
    );
    this.cx = { mode: opts.mode, version: opts.version, files, drafts: new Drafts(opts.dataDir, files), worker, dialogs: opts.dialogs };
    // A window opens a scenario first thing: have the simulation's thread ready for it.
    worker.warm();
  }

  async request<K extends RequestName>(name: K, params: Params<K>): Promise<Result<K>> {
    if (this.closed) throw new HostError('no-session', 'this lab host has been closed');
    return (await dispatch(name, params, this.cx)) as Result<K>;
  }

  on<E extends EventName>(name: E, listener: (payload: Events[E]) => void): () => void {
    if (!isEventName(name)) throw new HostError('bad-request', `unknown event "${String(name)}"`);
    let set = this.listeners.get(name);
    if (set === undefined) this.listeners.set(name, (set = new Set()));
    set.add(listener as (payload: never) => void);
    return () => void set.delete(listener as (payload: never) => void);
  }

  /** Hands an event to this window's listeners (the main process sends menu commands this way too). */
  emit(name: string, payload: unknown): void {
    if (!isEventName(name)) return;
    for (const l of [...(this.listeners.get(name) ?? [])]) {
      try {
        (l as (p: unknown) => void)(payload);
      } catch (e) {
        console.error(`xenlab: a listener of ${name} failed:`, e);
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    await this.cx.worker.close();
  }
}

export function createLabHost(opts: LabHostOptions): LabHost {
  return new Host(opts, {});
}

/** A host with its worker's watchdog and heap limit set (tests, and hosts that know better). */
export function createLabHostWith(opts: LabHostOptions, workerOptions: WorkerClientOptions): LabHost {
  return new Host(opts, workerOptions);
}
