/**
 * dom0's backend bus for one device type (xenbus_probe_backend.c): a watch
 * on <dom0 home>/backend/<type>; whenever it fires, the device directories
 * under it (backend/<type>/<frontend domid>/<devid>) are listed, a driver
 * instance is made for each new one that has its `frontend` key, and a
 * device whose directory is gone is removed.
 */
import { domainPath } from '../abi/xenbus.js';
import { XenbusDevice, type XenbusDriver } from '../guest/xenbus_device.js';
import type { XsClient } from '../guest/xs_client.js';
import type { Trace } from '../sim/trace.js';

/** A backend driver instance for one device. */
export interface BackendInstance extends XenbusDriver {
  /** The device's directory went away, or dom0 tears it down: unmap, unbind, forget. */
  remove(): void;
}

export type BackendProbe = (dev: XenbusDevice, frontendId: number, devid: number) => BackendInstance;

export class XenbusBackendBus {
  readonly devices = new Map<string, { dev: XenbusDevice; driver: BackendInstance }>();
  readonly root: string;

  constructor(
    private readonly xs: XsClient,
    backendDomid: number,
    readonly type: string,
    private readonly probe: BackendProbe,
  ) {
    this.root = `${domainPath(backendDomid)}/backend/${type}`;
    xs.watch(this.root, `backend:${type}`, () => this.rescan());
  }

  /** Lists backend/<type>/<fe>/<devid> and starts or removes devices to match. */
  rescan(): void {
    this.xs.directory(this.root, (err, fes) => {
      const seen = new Set<string>();
      let outstanding = err === undefined ? fes.length : 0;
      const done = (): void => {
        if (--outstanding > 0) return;
        for (const [path, d] of this.devices) {
          if (seen.has(path)) continue;
          this.devices.delete(path);
          d.dev.stop();
          d.driver.remove();
        }
      };
      if (outstanding === 0) {
        outstanding = 1;
        done();
        return;
      }
      for (const fe of fes) {
        this.xs.directory(`${this.root}/${fe}`, (e2, devids) => {
          if (e2 === undefined) {
            for (const devid of devids) {
              const path = `${this.root}/${fe}/${devid}`;
              seen.add(path);
              if (!this.devices.has(path) && /^\d+$/.test(fe) && /^\d+$/.test(devid)) this.add(path, Number(fe), Number(devid));
            }
          }
          done();
        });
      }
    });
  }

  private add(path: string, fe: number, devid: number): void {
    // Reserve the slot now: a second watch event before the reads below finish must not add it twice.
    const entry = { dev: undefined as unknown as XenbusDevice, driver: undefined as unknown as BackendInstance };
    this.devices.set(path, entry);
    const driver: XenbusDriver = { otherendChanged: (dev, state) => entry.driver.otherendChanged(dev, state) };
    entry.dev = new XenbusDevice(this.xs, path, 'backend', driver);
    entry.driver = this.probe(entry.dev, fe, devid);
    entry.dev.start();
  }
}

/** What a backend driver in dom0 gets from dom0's kernel. */
export interface BackendEnv {
  /** The backend's domain (dom0). */
  readonly domid: number;
  /** The machine's trace, for the backend's ring records. */
  readonly trace?: Trace;
  /**
   * A hypercall as the backend's domain, by op name with Xen's argument names
   * (gnttab_map_grant_ref, gnttab_unmap_grant_ref, gnttab_copy with
   * { source, dest } sides, bind_interdomain, close, ...).
   */
  call(op: string, args: Readonly<Record<string, number | object>>): { ret: number; out?: Readonly<Record<string, unknown>> };
  /** EVTCHNOP_send on a local port. */
  send(port: number): number;
  /** Run `fn` when an event arrives on local port `port` (bind_evtchn_to_irqhandler); undefined unbinds. */
  onPort(port: number, fn: (() => void) | undefined): void;
  /** The page a gnttab_map_grant_ref handle maps, or undefined (what the mapping's host address reaches). */
  mapped(handle: number): Uint8Array | undefined;
  /** A page of the backend's own memory, for bounce buffers: its gfn (for gnttab_copy's gmfn) and bytes. */
  allocPage(): { gfn: number; page: Uint8Array };
  /** A line for dom0's kernel log (xl dmesg). */
  log(line: string): void;
}
