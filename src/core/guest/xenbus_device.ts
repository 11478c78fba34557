/**
 * One end of a split device as xenbus sees it (Linux's struct xenbus_device,
 * xenbus_probe.c and xenbus_client.c): its own directory in xenstore
 * (`nodename`), the other end's directory (`otherend`, read from the
 * `backend` or `frontend` key) and domid, and the XenbusState handshake: the
 * driver is told each time the other end's `state` changes, and moves its
 * own with `switchState`. The same class serves frontends in guests (over
 * their store ring) and backends in dom0 (over xenstored's socket).
 */
import { parseXenbusState, XenbusStateUnknown } from '../abi/xenbus.js';
import type { XsCallback, XsClient } from './xs_client.js';

export interface XenbusDriver {
  /** otherend_changed: the other end wrote a new state (the value read after its watch fired). */
  otherendChanged(dev: XenbusDevice, state: number): void;
}

export class XenbusDevice {
  /** The state this end last wrote. */
  state = XenbusStateUnknown;
  /** The other end's state as last read. */
  otherendState = XenbusStateUnknown;
  /** The other end's directory and domain (-1 until read). */
  otherend = '';
  otherendId = -1;
  /** Why the device could not start or failed (xenbus_dev_fatal's message), if it did. */
  error: string | undefined;
  /** Every state this end wrote and the other end was seen in, oldest first: "fe:3", "be:4". */
  readonly history: string[] = [];
  private watching = false;

  constructor(
    readonly xs: XsClient,
    /** This end's directory, absolute: /local/domain/<fe>/device/vbd/51712 or .../backend/vbd/<fe>/<devid>. */
    readonly nodename: string,
    /** 'frontend' for a frontend (its otherend key is `backend`), 'backend' for a backend. */
    readonly role: 'frontend' | 'backend',
    private readonly driver: XenbusDriver,
  ) {}

  /** talk_to_otherend: read the other end's path and domid, then watch its state. */
  start(cb?: XsCallback<void>): void {
    const key = this.role === 'frontend' ? 'backend' : 'frontend';
    this.xs.read(`${this.nodename}/${key}`, (err, path) => {
      if (err !== undefined) return this.fail(`reading ${this.nodename}/${key}: ${err}`, cb);
      this.xs.read(`${this.nodename}/${key}-id`, (err2, id) => {
        if (err2 !== undefined) return this.fail(`reading ${this.nodename}/${key}-id: ${err2}`, cb);
        if (!/^\d+$/.test(id)) return this.fail(`${this.nodename}/${key}-id is "${id}", not a domid`, cb);
        this.otherend = path;
        this.otherendId = Number(id);
        this.watching = true;
        // watch_otherend: the event xenstored sends as the watch is set reads the current state.
        this.xs.watch(`${path}/state`, this.token, () => this.readOtherendState(), (e) => cb?.(e, undefined));
      });
    });
  }

  /** Stops watching the other end (the device is going away). */
  stop(): void {
    if (!this.watching) return;
    this.watching = false;
    this.xs.unwatch(`${this.otherend}/state`, this.token);
  }

  /** xenbus_switch_state: write `state` under our own directory (no write if it is already there). */
  switchState(state: number, cb?: XsCallback<void>): void {
    if (state === this.state) {
      cb?.(undefined, undefined);
      return;
    }
    this.state = state;
    this.history.push(`${this.role === 'frontend' ? 'fe' : 'be'}:${state}`);
    this.xs.switchState(`${this.nodename}/state`, state, cb);
  }

  /** xenbus_printf into our own directory. */
  write(key: string, value: string, cb?: XsCallback<void>, tx?: number): void {
    this.xs.write(`${this.nodename}/${key}`, value, cb, tx);
  }

  readOwn(key: string, cb: XsCallback<string>): void {
    this.xs.read(`${this.nodename}/${key}`, cb);
  }

  readOtherend(key: string, cb: XsCallback<string>): void {
    this.xs.read(`${this.otherend}/${key}`, cb);
  }

  /** xenbus_gather: several keys of the other end; the first error stops it. */
  gatherOtherend(keys: readonly string[], cb: XsCallback<Record<string, string>>): void {
    const out: Record<string, string> = {};
    const next = (i: number): void => {
      if (i === keys.length) return cb(undefined, out);
      const k = keys[i]!;
      this.readOtherend(k, (err, v) => {
        if (err !== undefined) return cb(`${this.otherend}/${k}: ${err}`, out);
        out[k] = v;
        next(i + 1);
      });
    };
    next(0);
  }

  /**
   * xenbus_dev_fatal: the message goes to error/<nodename>/error under this
   * end's domain home (a guest may lack the right to write it: then it is only
   * noted here), and the device moves to Closing so the other end tears down.
   */
  fatal(message: string, errno?: number): void {
    this.error = message;
    const m = /^(\/local\/domain\/\d+)\/(.*)$/.exec(this.nodename);
    if (m !== null) this.xs.write(`${m[1]}/error/${m[2]}/error`, errno === undefined ? message : `${errno} ${message}`, () => {});
    this.switchState(5 /* XenbusStateClosing */);
  }

  private get token(): string {
    return `otherend:${this.nodename}`;
  }

  private readOtherendState(): void {
    if (!this.watching) return;
    this.xs.read(`${this.otherend}/state`, (err, value) => {
      // A missing node reads as Unknown (the other end's directory went away), as xenbus_read_driver_state does.
      const state = err !== undefined ? XenbusStateUnknown : parseXenbusState(value);
      if (state === this.otherendState || !this.watching) return;
      this.otherendState = state;
      this.history.push(`${this.role === 'frontend' ? 'be' : 'fe'}:${state}`);
      this.driver.otherendChanged(this, state);
    });
  }

  private fail(message: string, cb?: XsCallback<void>): void {
    this.error = message;
    cb?.(message, undefined);
  }
}
