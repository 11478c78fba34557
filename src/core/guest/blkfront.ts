/**
 * A guest's block frontend, after Linux's drivers/block/xen-blkfront.c (the
 * handshake, the shadow table of requests by id, response handling) and
 * Mini-OS's blkfront.c (a small driver with no block layer above it: callers
 * hand buffers in, and a frontend-initiated close).
 *
 * Handshake (blkback_changed / talk_to_blkback / blkfront_connect):
 *  - backend InitWait: a zeroed ring page, SHARED_RING_INIT + FRONT_RING_INIT,
 *    granted to the backend; alloc_unbound towards it; ring-ref,
 *    event-channel and protocol in one transaction (again on EAGAIN); Initialised;
 *  - backend Connected: read sectors, info, sector-size and the features;
 *    Connected; queued requests go out.
 *  - close(): let outstanding requests finish, Closing, wait for the
 *    backend to close, Closed, wait for it to be Closed (it has unmapped the
 *    ring then), close the port, end the ring's grant, remove ring-ref and
 *    event-channel (Mini-OS's shutdown_blkfront). A backend that closes first
 *    is followed to Closed (blkfront_closing).
 *
 * There is no guest block layer: the caller's bytes are bounced through a
 * small pool of the kernel's own pages (guest frames for the grants to
 * name), one page per segment, granted for the request and ended after its
 * response. Sector numbers are blkif's 512-byte units; offsets and lengths
 * must be whole logical sectors (`sector-size`). Requests are not checked
 * against the disk's end here (as Mini-OS): the backend refuses them.
 */
import {
  BLKIF_MAX_SEGMENTS_PER_REQUEST,
  BLKIF_OP_DISCARD,
  BLKIF_OP_FLUSH_DISKCACHE,
  BLKIF_OP_NAMES,
  BLKIF_OP_READ,
  BLKIF_OP_WRITE,
  BLKIF_OP_WRITE_BARRIER,
  BLKIF_RING_ENTRY_SIZE,
  BLKIF_RING_SIZE,
  BLKIF_RSP_EOPNOTSUPP,
  BLKIF_RSP_ERROR,
  BLKIF_RSP_OKAY,
  BLKIF_SECTOR_SHIFT,
  BLKIF_SECTOR_SIZE,
  BLKIF_SECTORS_PER_PAGE,
  BLKIF_XS,
  blkifStatusName,
  decodeResponse,
  encodeDiscard,
  encodeRequest,
  VDISK_READONLY,
  XEN_IO_PROTO_ABI_NATIVE,
  type BlkifRequest,
} from '../abi/blkif.js';
import { DOMID_SELF } from '../abi/domid.js';
import { retName } from '../abi/errno.js';
import { PAGE_SIZE } from '../abi/layout.js';
import {
  XenbusStateClosed,
  XenbusStateClosing,
  XenbusStateConnected,
  XenbusStateInitialised,
  XenbusStateInitialising,
  XenbusStateInitWait,
  XenbusStateUnknown,
} from '../abi/xenbus.js';
import type { Guest } from './guest.js';
import { FrontRing } from './ring.js';
import { XenbusDevice, type XenbusDriver } from './xenbus_device.js';
import type { XsClient } from './xs_client.js';

/** What the backend published before Connected. */
export interface BlkInfo {
  /** Size in 512-byte sectors (the `sectors` key). */
  readonly sectors: number;
  /** Logical sector size in bytes. */
  readonly sectorSize: number;
  readonly physicalSectorSize: number;
  /** The raw VDISK_* bits of `info`. */
  readonly info: number;
  readonly readOnly: boolean;
}

export interface BlkFeatures {
  flushCache: boolean;
  barrier: boolean;
  discard: boolean;
  discardGranularity: number;
}

export interface BlkFrontStats {
  /** Requests put on the ring. */
  requests: number;
  /** Events sent to the backend (push-and-check said so). */
  notifies: number;
  responses: number;
  /** Events received from the backend. */
  events: number;
  /** Times a request found the ring full and had to wait for a response. */
  ringFull: number;
  /** Responses naming no outstanding request, or the wrong operation. */
  badResponses: number;
  /** Grants the backend still had mapped when they were ended (kept, never reused). */
  grantsStillMapped: number;
}

export interface BlkFrontOptions {
  /** Kernel pages the bounce pool may take (lazily); at least 11 (one full request). Default 32. */
  readonly maxDataPages?: number;
}

export type BlkCallback<T> = (err: string | undefined, value: T) => void;

/** One ring request waiting to go, or on the ring. */
interface Chunk {
  readonly op: number;
  readonly sector: number;
  /** 512-byte sectors moved (read/write) or discarded. */
  readonly nrSectors: number;
  /** Bytes to write, or where read bytes land. */
  readonly data?: Uint8Array;
  /** A request the caller laid out itself (segments and all). */
  readonly raw?: Omit<BlkifRequest, 'id'>;
  readonly done: (status: number) => void;
}

/** blk_shadow: what an outstanding id stands for. */
interface Shadow {
  readonly chunk: Chunk;
  readonly op: number;
  readonly refs: number[];
  readonly gfns: number[];
}

type Phase = 'idle' | 'initialising' | 'initialised' | 'connected' | 'closing' | 'closed';
type CloseStep = 'drain' | 'wait-closing' | 'wait-closed';

export class BlkFront implements XenbusDriver {
  readonly dev: XenbusDevice;
  /** The device number: the last component of the nodename, also the requests' handle. */
  readonly devid: number;
  phase: Phase = 'idle';
  info: BlkInfo | undefined;
  readonly features: BlkFeatures = { flushCache: false, barrier: false, discard: false, discardGranularity: 0 };
  readonly stats: BlkFrontStats = { requests: 0, notifies: 0, responses: 0, events: 0, ringFull: 0, badResponses: 0, grantsStillMapped: 0 };
  /** What the driver would print (its dev_warn/pr_alert lines). */
  readonly log: string[] = [];
  ring: FrontRing | undefined;
  /** The ring page's frame and grant ref (-1 when not granted), and our end of the event channel (0 when none). */
  ringGfn = -1;
  ringRef = -1;
  port = 0;
  private readonly shadow: (Shadow | undefined)[] = [];
  private readonly freeIds: number[] = [];
  private readonly queue: Chunk[] = [];
  private readonly whenConnected: ((err?: string) => void)[] = [];
  private readonly freePages: number[] = [];
  private dataPages = 0;
  private maxDataPages: number;
  private pagesOut = 0;
  private onReady: ((err?: string) => void) | undefined;
  private closeStep: CloseStep | undefined;
  private closeCbs: ((err?: string) => void)[] = [];
  private closeErr: string | undefined;
  private connectPending = false;

  constructor(
    readonly kernel: Guest,
    readonly xs: XsClient,
    /** The frontend directory, /local/domain/<fe>/device/vbd/<devid>. */
    readonly nodename: string,
    opts: BlkFrontOptions = {},
  ) {
    this.dev = new XenbusDevice(xs, nodename, 'frontend', this);
    const last = nodename.slice(nodename.lastIndexOf('/') + 1);
    this.devid = /^\d+$/.test(last) ? Number(last) : 0;
    this.maxDataPages = Math.max(BLKIF_MAX_SEGMENTS_PER_REQUEST, opts.maxDataPages ?? BLKIF_RING_SIZE);
  }

  /** The backend's domain (after start() has read it). */
  get backendId(): number {
    return this.dev.otherendId;
  }

  /** Requests waiting for a ring slot (or for pages or grant refs). */
  get waiting(): number {
    return this.queue.length;
  }

  /** Requests on the ring without a response yet. */
  get inFlight(): number {
    return this.shadow.reduce((n, s) => n + (s === undefined ? 0 : 1), 0);
  }

  /** Bounce pages taken from the kernel so far. */
  get pagesAllocated(): number {
    return this.dataPages;
  }

  /**
   * Starts the handshake: watch the backend's state and follow it. onReady
   * is called once: with no argument when Connected, or with why not.
   * After close() has finished it starts again (Initialising; blkback answers InitWait).
   */
  start(onReady?: (err?: string) => void): void {
    if (this.phase !== 'idle' && this.phase !== 'closed') {
      onReady?.(`${this.nodename} is already started`);
      return;
    }
    const again = this.phase === 'closed';
    this.phase = 'idle';
    this.onReady = onReady;
    this.closeStep = undefined;
    this.closeErr = undefined;
    this.dev.start((err) => {
      if (err !== undefined) this.ready(`${this.nodename}: ${err}`);
    });
    if (again) this.dev.switchState(XenbusStateInitialising);
  }

  /** Reads `count` 512-byte sectors from `sector`. */
  read(sector: number, count: number, cb: BlkCallback<Uint8Array>): void {
    this.whenUp((err) => {
      if (err !== undefined) return cb(err, new Uint8Array(0));
      const bad = this.checkRange(sector, count);
      if (bad !== undefined) return cb(bad, new Uint8Array(0));
      const out = new Uint8Array(count * BLKIF_SECTOR_SIZE);
      this.queueRw(BLKIF_OP_READ, sector, out, (e) => cb(e, out));
    });
  }

  /**
   * Writes `data` (whole logical sectors) from `sector` (512-byte units).
   * A write of more than 11 pages goes as several requests, each done or
   * refused on its own: one running past the disk's end still writes the
   * pieces that lie inside (the error is reported).
   */
  write(sector: number, data: Uint8Array, cb: BlkCallback<void>): void {
    const copy = data.slice(); // the caller may reuse its buffer before the request goes
    this.whenUp((err) => {
      if (err !== undefined) return cb(err, undefined);
      const bad = copy.length % BLKIF_SECTOR_SIZE !== 0 ? `EINVAL: ${copy.length} bytes are not whole sectors` : this.checkRange(sector, copy.length >> BLKIF_SECTOR_SHIFT);
      if (bad !== undefined) return cb(bad, undefined);
      this.queueRw(BLKIF_OP_WRITE, sector, copy, (e) => cb(e, undefined));
    });
  }

  /**
   * Commits the backend's cache: BLKIF_OP_FLUSH_DISKCACHE, else an empty
   * BLKIF_OP_WRITE_BARRIER, else nothing to do. As blkfront, a flush the
   * backend cannot do (EOPNOTSUPP, or an error on the empty request) turns
   * the feature off and is not an error.
   */
  flush(cb: BlkCallback<void>): void {
    this.whenUp((err) => {
      if (err !== undefined) return cb(err, undefined);
      const op = this.features.flushCache ? BLKIF_OP_FLUSH_DISKCACHE : this.features.barrier ? BLKIF_OP_WRITE_BARRIER : -1;
      if (op < 0) return cb(undefined, undefined);
      this.enqueue({
        op,
        sector: 0,
        nrSectors: 0,
        done: (status) => {
          if (status === BLKIF_RSP_EOPNOTSUPP || status === BLKIF_RSP_ERROR) {
            this.log.push(`blkfront: ${this.nodename}: empty ${BLKIF_OP_NAMES[op]} op failed (${blkifStatusName(status)}): flushing turned off`);
            if (op === BLKIF_OP_FLUSH_DISKCACHE) this.features.flushCache = false;
            else this.features.barrier = false;
            return cb(undefined, undefined);
          }
          cb(status === BLKIF_RSP_OKAY ? undefined : blkifStatusName(status), undefined);
        },
      });
      this.kick();
    });
  }

  /** BLKIF_OP_DISCARD of `count` sectors from `sector` (only if the backend offered feature-discard). */
  discard(sector: number, count: number, cb: BlkCallback<void>): void {
    this.whenUp((err) => {
      if (err !== undefined) return cb(err, undefined);
      if (!this.features.discard) return cb('EOPNOTSUPP: the backend offers no discard', undefined);
      const bad = this.checkRange(sector, count);
      if (bad !== undefined) return cb(bad, undefined);
      this.enqueue({
        op: BLKIF_OP_DISCARD,
        sector,
        nrSectors: count,
        done: (status) => {
          if (status === BLKIF_RSP_EOPNOTSUPP) this.features.discard = false;
          cb(status === BLKIF_RSP_OKAY ? undefined : blkifStatusName(status), undefined);
        },
      });
      this.kick();
    });
  }

  /**
   * Puts a request laid out by the caller on the ring (its id is ours to
   * choose); cb gets the response's status. For exercising the backend's
   * checks: the segments' grant refs are the caller's business.
   */
  submitRaw(req: Omit<BlkifRequest, 'id'>, cb: (status: number) => void): void {
    this.whenUp((err) => {
      if (err !== undefined) return cb(BLKIF_RSP_ERROR);
      this.enqueue({ op: req.operation, sector: req.sectorNumber, nrSectors: 0, raw: req, done: cb });
      this.kick();
    });
  }

  /** Closes the device (Closing → Closed at both ends), then frees the ring and port. */
  close(cb?: (err?: string) => void): void {
    if (cb !== undefined) this.closeCbs.push(cb);
    if (this.phase === 'idle' || this.phase === 'closed') return this.finishClose();
    if (this.closeStep !== undefined) return;
    const wasConnected = this.phase === 'connected';
    this.phase = 'closing';
    this.failPendingOps('ENODEV: the device is closing');
    if (!wasConnected) this.queue.splice(0).forEach((c) => c.done(BLKIF_RSP_ERROR));
    this.closeStep = 'drain';
    this.closeProgress();
  }

  // ---------------------------------------------------------------------------
  // xenbus

  /** blkback_changed. */
  otherendChanged(_dev: XenbusDevice, state: number): void {
    if (this.closeStep !== undefined) return this.closeProgress();
    switch (state) {
      case XenbusStateInitWait:
        if (this.phase === 'idle') this.talkToBackend();
        break;
      case XenbusStateConnected:
        // A backend may skip InitWait: do its work first (blkif.h's note on skipped states).
        if (this.phase === 'idle') {
          this.connectPending = true;
          this.talkToBackend();
        } else if (this.phase === 'initialising') this.connectPending = true;
        else if (this.phase === 'initialised') this.connect();
        break;
      case XenbusStateClosed:
        // A backend left Closed by an earlier connection: ask it to start over (as Mini-OS's
        // shutdown_blkfront leaves the device, in Initialising).
        if (this.phase === 'idle') this.dev.switchState(XenbusStateInitialising);
        else this.backendClosing(state);
        break;
      case XenbusStateClosing:
        this.backendClosing(state);
        break;
      default:
        // Initialising, Initialised, Reconfiguring, Reconfigured, Unknown: nothing to do.
        break;
    }
  }

  /** talk_to_blkback: set up the ring and event channel, publish them, Initialised. */
  private talkToBackend(): void {
    this.phase = 'initialising';
    const k = this.kernel;
    const be = this.backendId;
    if (this.ringGfn < 0) {
      try {
        this.ringGfn = k.allocKernelPage();
      } catch {
        return this.fail('allocating the ring page: kernel page pool exhausted');
      }
    }
    const page = k.d.memory.frame(this.ringGfn)!;
    page.fill(0);
    this.ring = FrontRing.create(page, BLKIF_RING_ENTRY_SIZE, { trace: k.hv.trace, domid: k.d.domid, name: `vbd/${this.devid}` });
    this.shadow.length = 0;
    this.freeIds.length = 0;
    // Ids index the shadow table; the lowest free one goes first.
    for (let id = this.ring.size - 1; id >= 0; id--) {
      this.shadow.push(undefined);
      this.freeIds.push(id);
    }
    this.ringRef = k.grantAccess(be, this.ringGfn, false);
    if (this.ringRef < 0) return this.fail('granting access to ring page: no free grant reference');
    const r = k.call('alloc_unbound', { dom: DOMID_SELF, remote_dom: be });
    if (r.ret < 0) return this.fail(`allocating an event channel to domain ${be}: ${retName(r.ret)}`);
    this.port = r.out!.port as number;
    k.portHandlers.set(this.port, () => this.onEvent());

    let firstErr: string | undefined;
    const keys: [string, string][] = [
      [BLKIF_XS.ringRef, String(this.ringRef)],
      [BLKIF_XS.eventChannel, String(this.port)],
      [BLKIF_XS.protocol, XEN_IO_PROTO_ABI_NATIVE],
    ];
    this.xs.transaction(
      (tx, done) => {
        const next = (i: number): void => {
          if (i === keys.length) return done();
          this.dev.write(keys[i]![0], keys[i]![1], (err) => {
            if (err !== undefined) {
              firstErr = `writing ${keys[i]![0]}: ${err}`;
              return done(true);
            }
            next(i + 1);
          }, tx);
        };
        next(0);
      },
      (err) => {
        if (this.phase !== 'initialising') return;
        if (firstErr !== undefined || err !== undefined) return this.fail(`completing transaction: ${firstErr ?? err}`);
        this.phase = 'initialised';
        this.dev.switchState(XenbusStateInitialised);
        if (this.connectPending || this.dev.otherendState === XenbusStateConnected) this.connect();
      },
    );
  }

  /** blkfront_connect: the backend's device properties, then Connected. */
  private connect(): void {
    this.connectPending = false;
    const keys = [BLKIF_XS.sectors, BLKIF_XS.info, BLKIF_XS.sectorSize];
    this.dev.gatherOtherend(keys, (err, v) => {
      if (this.phase !== 'initialised') return;
      const sectors = Number(v[BLKIF_XS.sectors]);
      const info = Number(v[BLKIF_XS.info]);
      const sectorSize = Number(v[BLKIF_XS.sectorSize]);
      if (err !== undefined || !Number.isSafeInteger(sectors) || !Number.isInteger(info) || !Number.isInteger(sectorSize) || sectorSize < BLKIF_SECTOR_SIZE) {
        return this.fail(`reading backend fields at ${this.dev.otherend}${err !== undefined ? `: ${err}` : ''}`);
      }
      const optional = [BLKIF_XS.physicalSectorSize, BLKIF_XS.featureFlushCache, BLKIF_XS.featureBarrier, BLKIF_XS.featureDiscard, BLKIF_XS.discardGranularity];
      const got: Record<string, string | undefined> = {};
      const next = (i: number): void => {
        if (this.phase !== 'initialised') return;
        if (i < optional.length) {
          this.dev.readOtherend(optional[i]!, (e, value) => {
            got[optional[i]!] = e === undefined ? value : undefined;
            next(i + 1);
          });
          return;
        }
        const flag = (key: string): boolean => Number(got[key] ?? '0') !== 0;
        this.features.flushCache = flag(BLKIF_XS.featureFlushCache);
        this.features.barrier = flag(BLKIF_XS.featureBarrier);
        this.features.discard = flag(BLKIF_XS.featureDiscard);
        this.features.discardGranularity = Number(got[BLKIF_XS.discardGranularity] ?? sectorSize) || sectorSize;
        const pss = Number(got[BLKIF_XS.physicalSectorSize] ?? sectorSize) || sectorSize;
        this.info = { sectors, sectorSize, physicalSectorSize: pss, info, readOnly: (info & VDISK_READONLY) !== 0 };
        this.phase = 'connected';
        this.dev.switchState(XenbusStateConnected);
        this.whenConnected.splice(0).forEach((fn) => fn());
        this.kick();
        this.ready();
      };
      next(0);
    });
  }

  /** blkfront_closing: the backend is going away; follow it to Closed. */
  private backendClosing(state: number): void {
    if (this.phase === 'closed') return;
    const before = this.phase;
    this.phase = 'closing';
    this.failPendingOps(`ENODEV: the backend went to ${state === XenbusStateClosing ? 'Closing' : 'Closed'}`);
    // Requests not on the ring yet never will be; those on it are failed once the backend has let go.
    this.queue.splice(0).forEach((c) => c.done(BLKIF_RSP_ERROR));
    if (before !== 'connected') this.closeErr = `backend ${this.dev.otherend} closed before connecting${this.dev.error !== undefined ? ` (${this.dev.error})` : ''}`;
    this.closeStep = 'wait-closing';
    this.closeProgress();
  }

  /** A setup step failed: xenbus_dev_fatal (Closing), then close as the backend follows. */
  private fail(message: string): void {
    this.log.push(`blkfront: ${this.nodename}: ${message}`);
    this.closeErr = message;
    this.dev.fatal(message);
    this.phase = 'closing';
    this.failPendingOps(`ENODEV: ${message}`);
    this.queue.splice(0).forEach((c) => c.done(BLKIF_RSP_ERROR));
    this.closeStep = 'wait-closing';
    this.closeProgress();
  }

  /** Moves the close along as far as the backend's state allows. */
  private closeProgress(): void {
    const be = this.dev.otherendState;
    const gone = be === XenbusStateUnknown && this.dev.otherendId >= 0;
    if (this.closeStep === 'drain') {
      this.kick();
      if (this.queue.length > 0 || this.inFlight > 0) return;
      this.closeStep = 'wait-closing';
      this.dev.switchState(XenbusStateClosing);
    }
    if (this.closeStep === 'wait-closing') {
      if (be !== XenbusStateClosing && be !== XenbusStateClosed && !gone) return;
      this.closeStep = 'wait-closed';
      this.dev.switchState(XenbusStateClosed);
    }
    if (this.closeStep === 'wait-closed') {
      if (be !== XenbusStateClosed && !gone) return;
      this.closeStep = undefined;
      this.teardown();
    }
  }

  /** free_blkfront: the backend has unmapped the ring: unbind, end the grant, forget the keys. */
  private teardown(): void {
    const k = this.kernel;
    if (this.port !== 0) {
      k.portHandlers.delete(this.port);
      k.call('close', { port: this.port });
      this.port = 0;
    }
    // Requests still on the ring will get no response now.
    this.shadow.forEach((s, id) => {
      if (s === undefined) return;
      this.release(id, s);
      s.chunk.done(BLKIF_RSP_ERROR);
    });
    if (this.ringRef >= 0) {
      if (!k.endAccess(this.ringRef)) {
        this.stats.grantsStillMapped++;
        this.closeErr ??= `ring grant ${this.ringRef} still mapped by domain ${this.backendId}`;
        this.log.push(`blkfront: ${this.nodename}: ${this.closeErr}`);
        this.ringGfn = -1; // the backend may still write it: never reuse the page
      }
      this.ringRef = -1;
    }
    this.ring = undefined;
    this.xs.rm(`${this.nodename}/${BLKIF_XS.ringRef}`);
    this.xs.rm(`${this.nodename}/${BLKIF_XS.eventChannel}`);
    this.dev.stop();
    this.phase = 'closed';
    this.finishClose();
  }

  private finishClose(): void {
    const err = this.closeErr;
    this.ready(err ?? 'closed before connecting');
    this.closeCbs.splice(0).forEach((cb) => cb(err));
  }

  private ready(err?: string): void {
    const cb = this.onReady;
    this.onReady = undefined;
    cb?.(err);
  }

  // ---------------------------------------------------------------------------
  // Requests

  private whenUp(fn: (err?: string) => void): void {
    if (this.phase === 'connected') fn();
    else if (this.phase === 'idle' || this.phase === 'initialising' || this.phase === 'initialised') this.whenConnected.push(fn);
    else fn(`ENODEV: ${this.nodename} is ${this.phase}`);
  }

  private failPendingOps(err: string): void {
    this.whenConnected.splice(0).forEach((fn) => fn(err));
  }

  private checkRange(sector: number, count: number): string | undefined {
    if (!Number.isSafeInteger(sector) || sector < 0 || !Number.isSafeInteger(count) || count <= 0) return `EINVAL: sector ${sector}, count ${count}`;
    const per = this.info!.sectorSize >> BLKIF_SECTOR_SHIFT;
    if (sector % per !== 0 || count % per !== 0) return `EINVAL: not aligned to ${this.info!.sectorSize}-byte sectors`;
    return undefined;
  }

  /** Splits a transfer into requests of at most 11 page-sized segments; cb once all are answered. */
  private queueRw(op: number, sector: number, data: Uint8Array, cb: (err: string | undefined) => void): void {
    const perRequest = BLKIF_MAX_SEGMENTS_PER_REQUEST * BLKIF_SECTORS_PER_PAGE;
    const total = data.length >> BLKIF_SECTOR_SHIFT;
    let left = Math.ceil(total / perRequest);
    let firstErr: string | undefined;
    for (let at = 0; at < total; at += perRequest) {
      const n = Math.min(perRequest, total - at);
      this.enqueue({
        op,
        sector: sector + at,
        nrSectors: n,
        data: data.subarray(at * BLKIF_SECTOR_SIZE, (at + n) * BLKIF_SECTOR_SIZE),
        done: (status) => {
          if (status !== BLKIF_RSP_OKAY) firstErr ??= blkifStatusName(status);
          if (--left === 0) cb(firstErr);
        },
      });
    }
    this.kick();
  }

  private enqueue(c: Chunk): void {
    this.queue.push(c);
  }

  /** kick_pending_request_queues: as many waiting requests as fit, then one push (and maybe one notify). */
  private kick(): void {
    const ring = this.ring;
    if (ring === undefined || (this.phase !== 'connected' && this.closeStep !== 'drain')) return;
    let produced = 0;
    while (this.queue.length > 0) {
      if (ring.full()) {
        this.stats.ringFull++;
        break;
      }
      const r = this.issue(this.queue[0]!);
      if (r === 'wait') break;
      this.queue.shift();
      if (r === 'sent') produced++;
    }
    if (produced > 0 && ring.pushRequestsAndCheckNotify()) {
      this.stats.notifies++;
      this.kernel.send(this.port);
    }
  }

  /** blkif_queue_request: one request into the next slot ('wait' when pages or grant refs are short). */
  private issue(c: Chunk): 'sent' | 'wait' | 'failed' {
    const ring = this.ring!;
    const k = this.kernel;
    const nseg = c.data === undefined ? 0 : Math.ceil(c.nrSectors / BLKIF_SECTORS_PER_PAGE);
    const gfns: number[] = [];
    for (let i = 0; i < nseg; i++) {
      const gfn = this.takePage();
      if (gfn === undefined) {
        gfns.forEach((g) => this.freePages.push(g));
        this.pagesOut -= gfns.length;
        if (this.pagesOut === 0) return this.refuseChunk(c, `no ${nseg} bounce pages to be had`);
        return 'wait';
      }
      gfns.push(gfn);
    }
    // A disk write only needs the backend to read the page (blkfront grants it read-only).
    const readonly = c.op !== BLKIF_OP_READ;
    const refs: number[] = [];
    for (const gfn of gfns) {
      const ref = k.grantAccess(this.backendId, gfn, readonly);
      if (ref < 0) {
        refs.forEach((r) => k.endAccess(r));
        gfns.forEach((g) => this.freePages.push(g));
        this.pagesOut -= gfns.length;
        if (this.inFlight === 0) return this.refuseChunk(c, 'no free grant references');
        return 'wait';
      }
      refs.push(ref);
    }
    if (c.op !== BLKIF_OP_READ && c.data !== undefined) {
      gfns.forEach((gfn, i) => {
        const page = k.d.memory.frame(gfn)!;
        page.set(c.data!.subarray(i * PAGE_SIZE, Math.min((i + 1) * PAGE_SIZE, c.data!.length)));
      });
    }
    const id = this.freeIds.pop()!;
    this.shadow[id] = { chunk: c, op: c.op, refs, gfns };
    const handle = this.devid & 0xffff;
    ring.produceRequest((slot) => {
      if (c.raw !== undefined) encodeRequest(slot, { ...c.raw, id });
      else if (c.op === BLKIF_OP_DISCARD) encodeDiscard(slot, { operation: c.op, flag: 0, handle, id, sectorNumber: c.sector, nrSectors: c.nrSectors });
      else {
        const seg = refs.map((gref, i) => {
          const n = Math.min(BLKIF_SECTORS_PER_PAGE, c.nrSectors - i * BLKIF_SECTORS_PER_PAGE);
          return { gref, firstSect: 0, lastSect: n - 1 };
        });
        encodeRequest(slot, { operation: c.op, nrSegments: seg.length, handle, id, sectorNumber: c.sector, seg });
      }
    });
    this.stats.requests++;
    return 'sent';
  }

  private refuseChunk(c: Chunk, why: string): 'failed' {
    this.log.push(`blkfront: ${this.nodename}: ${BLKIF_OP_NAMES[c.op] ?? c.op} of ${c.nrSectors} sectors refused: ${why}`);
    c.done(BLKIF_RSP_ERROR);
    return 'failed';
  }

  private takePage(): number | undefined {
    let gfn = this.freePages.pop();
    if (gfn === undefined && this.dataPages < this.maxDataPages) {
      try {
        gfn = this.kernel.allocKernelPage();
        this.dataPages++;
      } catch {
        this.maxDataPages = this.dataPages; // the kernel has no more to give
      }
    }
    if (gfn !== undefined) this.pagesOut++;
    return gfn;
  }

  /** End the request's grants and give its pages back (a page the backend still maps is never reused). */
  private release(id: number, s: Shadow): void {
    this.shadow[id] = undefined;
    this.freeIds.push(id);
    s.refs.forEach((ref, i) => {
      this.pagesOut--;
      if (this.kernel.endAccess(ref)) this.freePages.push(s.gfns[i]!);
      else {
        this.stats.grantsStillMapped++;
        this.log.push(`blkfront: ${this.nodename}: grant ${ref} still in use by domain ${this.backendId}`);
      }
    });
  }

  /** blkif_interrupt: take every response, then final-check (or, with nothing outstanding, just re-arm rsp_event). */
  private onEvent(): void {
    this.stats.events++;
    const ring = this.ring;
    if (ring === undefined) return;
    const completed: (() => void)[] = [];
    for (;;) {
      if (((ring.sring.rspProd - ring.rspCons) >>> 0) > ring.size) {
        // RING_RESPONSE_PROD_OVERFLOW: a backend publishing more responses than requests is not believed.
        this.stats.badResponses++;
        this.log.push(`blkfront: ${this.nodename}: illegal number of responses ${ring.sring.rspProd}`);
        return;
      }
      for (;;) {
        const slot = ring.consumeResponse();
        if (slot === undefined) break;
        const rsp = decodeResponse(slot);
        this.stats.responses++;
        const id = rsp.id < BigInt(ring.size) ? Number(rsp.id) : -1;
        const s = id >= 0 ? this.shadow[id] : undefined;
        if (s === undefined || rsp.operation !== s.op) {
          this.stats.badResponses++;
          this.log.push(`blkfront: ${this.nodename}: response ${rsp.id} (operation ${rsp.operation}) ${s === undefined ? 'references no pending request' : `has wrong operation (${rsp.operation} instead of ${s.op})`}`);
          if (s === undefined) continue;
        }
        if (s.op === BLKIF_OP_READ && rsp.status === BLKIF_RSP_OKAY && s.chunk.data !== undefined) {
          const out = s.chunk.data;
          s.gfns.forEach((gfn, i) => {
            const page = this.kernel.d.memory.frame(gfn)!;
            const at = i * PAGE_SIZE;
            out.set(page.subarray(0, Math.min(PAGE_SIZE, out.length - at)), at);
          });
        }
        this.release(id, s);
        const status = rsp.operation === s.op ? rsp.status : BLKIF_RSP_ERROR;
        completed.push(() => s.chunk.done(status));
      }
      if (ring.rspCons !== ring.reqProdPvt) {
        if (ring.finalCheckForResponses() > 0) continue;
      } else ring.sring.rspEvent = (ring.rspCons + 1) >>> 0;
      break;
    }
    this.kick();
    for (const fn of completed) fn();
    if (this.closeStep === 'drain') this.closeProgress();
    else this.kick();
  }
}
