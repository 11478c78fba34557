/**
 * dom0's block backend, after Linux's drivers/block/xen-blkback (xenbus.c
 * for the handshake, blkback.c for the ring), serving a guest's blkfront
 * from an in-memory disk image.
 *
 * Handshake (blkif.h's state diagram, xen_blkbk_probe / frontend_changed /
 * connect_ring / connect):
 *  - probe: publish the features and transport parameters, then InitWait
 *    (a missing image is xenbus_dev_fatal: the device goes Closing);
 *  - frontend Initialised or Connected: read protocol, event-channel,
 *    ring-ref; map the ring's grant; bind_interdomain; then sectors, info,
 *    sector-size, physical-sector-size in one transaction, and Connected;
 *  - frontend Closing: Closing. Frontend Closed: disconnect (unbind the
 *    port, unmap the ring), then Closed. Frontend Initialising while we are
 *    Closed: InitWait again (reconnect). remove(): disconnect.
 *
 * Data moves by grant map/unmap per segment, as blkback does without
 * persistent grants: a disk write maps the guest's frame read-only (the
 * backend only reads it), a disk read maps it writable, and the guest's grant
 * entry shows GTF_reading/GTF_writing while mapped. gnttab_copy (qemu's qdisk)
 * would need a bounce page in dom0's memory, since the image is not dom0
 * memory, and copy every byte twice.
 *
 * Linux publishes feature-flush-cache/barrier/discard inside connect()'s
 * transaction; here they go before InitWait, where blkif.h's diagram puts
 * "Publish backend features and transport parameters".
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
  BLKIF_RSP_EOPNOTSUPP,
  BLKIF_RSP_ERROR,
  BLKIF_RSP_OKAY,
  BLKIF_SECTOR_SHIFT,
  BLKIF_SECTOR_SIZE,
  BLKIF_SECTORS_PER_PAGE,
  BLKIF_XS,
  decodeDiscard,
  decodeRequest,
  encodeResponse,
  VDISK_CDROM,
  VDISK_READONLY,
  VDISK_REMOVABLE,
  XEN_IO_PROTO_ABI_NATIVE,
  XEN_IO_PROTO_ABI_X86_32,
  XEN_IO_PROTO_ABI_X86_64,
  type BlkifRequest,
} from '../abi/blkif.js';
import { retName } from '../abi/errno.js';
import { GNTMAP_host_map, GNTMAP_readonly } from '../abi/grant.js';
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
import { BackRing } from '../guest/ring.js';
import type { XenbusDevice } from '../guest/xenbus_device.js';
import type { BackendEnv, BackendInstance, BackendProbe } from './xenbus_backend.js';

export interface DiskImageOptions {
  /** Writes, flushes and discards answer BLKIF_RSP_ERROR (blkback's xen_vbd_translate). */
  readonly readOnly?: boolean;
  /** Initial bytes, copied to the start of the image. */
  readonly content?: Uint8Array;
  /** The device can discard (feature-discard=1); default true. */
  readonly discard?: boolean;
  /** VDISK_CDROM / VDISK_REMOVABLE in `info`. */
  readonly cdrom?: boolean;
  readonly removable?: boolean;
}

/** The backing store: `sectors` logical sectors of `sectorSize` bytes, in memory. */
export class DiskImage {
  readonly bytes: Uint8Array;
  readonly readOnly: boolean;
  readonly discard: boolean;
  readonly cdrom: boolean;
  readonly removable: boolean;
  /** Cache flushes the backend asked for (flush and barrier requests). */
  flushes = 0;

  constructor(
    readonly sectors: number,
    readonly sectorSize = BLKIF_SECTOR_SIZE,
    opts: DiskImageOptions = {},
  ) {
    if (!Number.isInteger(sectors) || sectors < 0) throw new RangeError(`a disk has a whole number of sectors, not ${sectors}`);
    // blkif.h: sector-size is a power of two, at least 512; a segment never spans pages, so at most a page.
    if (!Number.isInteger(sectorSize) || sectorSize < BLKIF_SECTOR_SIZE || sectorSize > PAGE_SIZE || (sectorSize & (sectorSize - 1)) !== 0) {
      throw new RangeError(`sector-size must be a power of two from 512 to ${PAGE_SIZE}, not ${sectorSize}`);
    }
    this.bytes = new Uint8Array(sectors * sectorSize);
    if (opts.content !== undefined) {
      if (opts.content.length > this.bytes.length) throw new RangeError(`${opts.content.length} bytes of content do not fit a ${this.bytes.length}-byte disk`);
      this.bytes.set(opts.content);
    }
    this.readOnly = opts.readOnly ?? false;
    this.discard = opts.discard ?? true;
    this.cdrom = opts.cdrom ?? false;
    this.removable = opts.removable ?? false;
  }

  /** The `sectors` key: the size in 512-byte units, whatever the sector size. */
  get sectors512(): number {
    return this.bytes.length >> BLKIF_SECTOR_SHIFT;
  }
}

/** What blkback counts (its sysfs statistics, plus the ring's notifications). */
export interface BlkbackStats {
  /** Requests taken off the ring, of any kind. */
  requests: number;
  reads: number;
  writes: number;
  /** Flush and barrier requests (st_f_req). */
  flushes: number;
  discards: number;
  /** 512-byte sectors moved. */
  sectorsRead: number;
  sectorsWritten: number;
  /** Responses with BLKIF_RSP_ERROR, and with BLKIF_RSP_EOPNOTSUPP. */
  errors: number;
  unsupported: number;
  responses: number;
  /** Events sent to the frontend (push-and-check said so). */
  notifies: number;
  /** Events received from the frontend. */
  events: number;
}

/** One vbd's backend: the driver instance the backend bus made for backend/vbd/<fe>/<devid>. */
export class Blkback implements BackendInstance {
  readonly stats: BlkbackStats = {
    requests: 0,
    reads: 0,
    writes: 0,
    flushes: 0,
    discards: 0,
    sectorsRead: 0,
    sectorsWritten: 0,
    errors: 0,
    unsupported: 0,
    responses: 0,
    notifies: 0,
    events: 0,
  };
  /** The mapped ring, its map handle, and dom0's end of the event channel (0 when unbound). */
  ring: BackRing | undefined;
  ringHandle = -1;
  port = 0;
  /** The frontend's `protocol` ("" when it wrote none). */
  protocol = '';
  /** Set when the frontend published more requests than the ring holds: the ring is no longer served. */
  halted = false;
  /** `mode` without "w", or a read-only image. */
  readOnly = false;
  /** Why the last request was refused, for the curious. */
  lastError = '';
  private gen = 0;
  private connecting = false;
  private removed = false;

  constructor(
    private readonly env: BackendEnv,
    readonly dev: XenbusDevice,
    readonly frontendId: number,
    readonly devid: number,
    readonly image: DiskImage | undefined,
    private readonly onRemove?: () => void,
  ) {}

  /** xen_blkbk_probe (with the disk already known): features, then InitWait. */
  probe(): void {
    const image = this.image;
    if (image === undefined) {
      this.fatal(`no disk image for vbd ${this.devid} of domain ${this.frontendId}`);
      return;
    }
    const dev = this.dev;
    dev.readOwn(BLKIF_XS.mode, (errMode, mode) => {
      // backend_changed: read-only unless `mode` has a "w" (no mode: the image decides).
      this.readOnly = image.readOnly || (errMode === undefined && !mode.includes('w'));
      dev.readOwn(BLKIF_XS.discardEnable, (errDiscard, discardEnable) => {
        const discard = image.discard && (errDiscard !== undefined || Number(discardEnable) !== 0);
        const keys: [string, string][] = [
          [BLKIF_XS.featureFlushCache, '1'],
          [BLKIF_XS.featureBarrier, '1'],
        ];
        if (discard) {
          keys.push([BLKIF_XS.discardGranularity, String(image.sectorSize)], [BLKIF_XS.discardAlignment, '0'], [BLKIF_XS.discardSecure, '0']);
        }
        // No feature-max-indirect-segments: blkif.h says a backend without BLKIF_OP_INDIRECT must not write it.
        keys.push([BLKIF_XS.featureDiscard, discard ? '1' : '0'], [BLKIF_XS.multiQueueMaxQueues, '1'], [BLKIF_XS.maxRingPageOrder, '0']);
        this.writeKeys(keys, undefined, (err) => {
          if (this.removed) return;
          if (err !== undefined) return this.fatal(`writing features: ${err}`);
          dev.switchState(XenbusStateInitWait);
        });
      });
    });
  }

  /** frontend_changed. */
  otherendChanged(dev: XenbusDevice, state: number): void {
    if (this.removed) return;
    switch (state) {
      case XenbusStateInitialising:
        if (dev.state === XenbusStateClosed) {
          this.env.log(`xen-blkback: ${dev.nodename}: prepare for reconnect`);
          dev.switchState(XenbusStateInitWait);
        }
        break;
      case XenbusStateInitialised:
      case XenbusStateConnected:
        // Two watch events in quick succession may skip Initialised: connect on either, once.
        if (dev.state === XenbusStateConnected || this.connecting || this.image === undefined) break;
        this.disconnect();
        this.connectRing();
        break;
      case XenbusStateClosing:
        // A connect still reading the frontend's keys must not end in Connected now.
        this.gen++;
        this.connecting = false;
        dev.switchState(XenbusStateClosing);
        break;
      case XenbusStateClosed:
        this.disconnect();
        dev.switchState(XenbusStateClosed);
        break;
      case XenbusStateUnknown:
        // The frontend's directory went away: Linux unregisters the device, which disconnects.
        this.disconnect();
        break;
      default:
        this.fatal(`saw state ${state} at frontend`);
    }
  }

  /** xen_blkbk_remove: the backend directory went away. */
  remove(): void {
    this.removed = true;
    this.disconnect();
    this.onRemove?.();
  }

  /** The frontend notified us (xen_blkif_be_int, then the ring's kthread). */
  onEvent(): void {
    this.stats.events++;
    this.serve();
  }

  // ---------------------------------------------------------------------------
  // Connection

  /** connect_ring and read_per_ring_refs, then xen_blkif_map, then connect. */
  private connectRing(): void {
    const dev = this.dev;
    const gen = this.gen;
    this.connecting = true;
    const keys = [BLKIF_XS.protocol, BLKIF_XS.multiQueueNumQueues, BLKIF_XS.eventChannel, BLKIF_XS.ringPageOrder, BLKIF_XS.ringRef, `${BLKIF_XS.ringRef}0`];
    const got: Record<string, string | undefined> = {};
    const readNext = (i: number): void => {
      if (i === keys.length) return this.gotRingKeys(gen, got);
      dev.readOtherend(keys[i]!, (err, v) => {
        got[keys[i]!] = err === undefined ? v : undefined;
        readNext(i + 1);
      });
    };
    readNext(0);
  }

  private gotRingKeys(gen: number, got: Record<string, string | undefined>): void {
    if (gen !== this.gen || this.removed) return;
    this.connecting = false;
    const dev = this.dev;
    const protocol = got[BLKIF_XS.protocol];
    this.protocol = protocol ?? '';
    if (protocol !== undefined && protocol !== XEN_IO_PROTO_ABI_NATIVE && protocol !== XEN_IO_PROTO_ABI_X86_64) {
      // Linux would translate x86_32 requests; this backend only lays out the native (x86-64) structs.
      return this.fatal(protocol === XEN_IO_PROTO_ABI_X86_32 ? `fe protocol ${protocol} not supported here (x86-64 layouts only)` : `unknown fe protocol ${protocol}`);
    }
    const queues = got[BLKIF_XS.multiQueueNumQueues];
    if (queues !== undefined && Number(queues) !== 1) return this.fatal(`guest requested ${queues} queues, exceeding the maximum of 1.`);
    const evtchn = parseUnsigned(got[BLKIF_XS.eventChannel]);
    if (evtchn === undefined) return this.fatal(`reading ${dev.otherend}/${BLKIF_XS.eventChannel}`);
    const order = got[BLKIF_XS.ringPageOrder];
    let refKey: string = BLKIF_XS.ringRef;
    if (order !== undefined) {
      // With ring-page-order present the refs are ring-ref0..N, even for order 0 (read_per_ring_refs).
      if (parseUnsigned(order) !== 0) return this.fatal(`${dev.otherend}/request ${order} ring page order exceed max:0`);
      refKey = `${BLKIF_XS.ringRef}0`;
    }
    const ref = parseUnsigned(got[refKey]);
    if (ref === undefined) return this.fatal(`reading ${dev.otherend}/${refKey}`);

    // xen_blkif_map: map the ring page, then bind the event channel.
    const m = this.env.call('gnttab_map_grant_ref', { host_addr: 0, flags: GNTMAP_host_map, ref, dom: this.frontendId });
    const status = m.out?.status as string | undefined;
    const handle = m.out?.handle as number | undefined;
    const page = status === 'GNTST_okay' && handle !== undefined ? this.env.mapped(handle) : undefined;
    if (page === undefined) return this.fatal(`mapping ring-ref ${ref} port ${evtchn}: ${status ?? retName(m.ret)}`);
    this.ringHandle = handle!;
    const b = this.env.call('bind_interdomain', { remote_dom: this.frontendId, remote_port: evtchn });
    if (b.ret < 0) {
      this.unmapRing();
      return this.fatal(`binding event-channel ${evtchn} of domain ${this.frontendId}: ${retName(b.ret)}`);
    }
    this.port = b.out!.local_port as number;
    this.ring = BackRing.attach(page, BLKIF_RING_ENTRY_SIZE, this.env.trace && { trace: this.env.trace, domid: this.env.domid, name: `vbd/${this.frontendId}/${this.devid}` });
    this.halted = false;
    this.env.onPort(this.port, () => this.onEvent());
    this.env.log(`xen-blkback: ${dev.nodename}: ring-ref ${ref}, event-channel ${evtchn} (dom0 port ${this.port}), protocol ${protocol ?? 'unspecified, assuming default'}`);
    this.connect(gen);
  }

  /** connect(): the device's size and properties in one transaction, then Connected. */
  private connect(gen: number): void {
    const image = this.image!;
    const info = (image.cdrom ? VDISK_CDROM : 0) | (image.removable ? VDISK_REMOVABLE : 0) | (this.readOnly ? VDISK_READONLY : 0);
    const keys: [string, string][] = [
      [BLKIF_XS.sectors, String(image.sectors512)],
      [BLKIF_XS.info, String(info)],
      [BLKIF_XS.sectorSize, String(image.sectorSize)],
      [BLKIF_XS.physicalSectorSize, String(image.sectorSize)],
    ];
    let firstErr: string | undefined;
    this.dev.xs.transaction(
      (tx, done) =>
        this.writeKeys(keys, tx, (err) => {
          firstErr = err;
          done(err !== undefined);
        }),
      (err) => {
        if (gen !== this.gen || this.removed) return;
        if (firstErr !== undefined || err !== undefined) return this.fatal(`ending transaction: ${firstErr ?? err}`);
        this.dev.switchState(XenbusStateConnected);
      },
    );
  }

  /** xen_blkif_disconnect: unbind the port, unmap the ring. Idempotent. */
  private disconnect(): void {
    this.gen++;
    this.connecting = false;
    if (this.port !== 0) {
      this.env.onPort(this.port, undefined);
      this.env.call('close', { port: this.port });
      this.port = 0;
    }
    this.unmapRing();
  }

  private unmapRing(): void {
    if (this.ringHandle >= 0) this.env.call('gnttab_unmap_grant_ref', { host_addr: 0, dev_bus_addr: 0, handle: this.ringHandle });
    this.ringHandle = -1;
    this.ring = undefined;
  }

  /** xenbus_dev_fatal: the message under error/<nodename>/error in our home, then Closing. */
  private fatal(message: string): void {
    this.env.log(`xen-blkback: ${this.dev.nodename}: ${message}`);
    this.dev.fatal(message);
  }

  /** Writes key/value pairs under our directory one after another; the first error stops it. */
  private writeKeys(keys: readonly [string, string][], tx: number | undefined, cb: (err: string | undefined) => void): void {
    const next = (i: number): void => {
      if (i === keys.length) return cb(undefined);
      const [k, v] = keys[i]!;
      this.dev.write(k, v, (err) => (err !== undefined ? cb(`${k}: ${err}`) : next(i + 1)), tx);
    };
    next(0);
  }

  // ---------------------------------------------------------------------------
  // The ring (blkback.c)

  /** do_block_io_op: serve until the final check finds nothing more. */
  private serve(): void {
    for (;;) {
      const ring = this.ring;
      if (ring === undefined || this.halted) return;
      // RING_REQUEST_PROD_OVERFLOW: a frontend claiming more requests than the ring holds is not served again.
      const rp = ring.sring.reqProd;
      if (((rp - ring.rspProdPvt) >>> 0) > ring.size) {
        this.halted = true;
        this.env.log(`xen-blkback: Frontend provided bogus ring requests (${rp} - ${ring.rspProdPvt} = ${(rp - ring.rspProdPvt) >>> 0}). Halting ring processing on ${this.dev.nodename}`);
        return;
      }
      for (;;) {
        const slot = ring.consumeRequest();
        if (slot === undefined) break;
        this.dispatch(slot);
        if (this.ring !== ring) return;
      }
      if (ring.finalCheckForRequests() === 0) return;
    }
  }

  /**
   * __do_block_io_op's switch. The request is copied out of the slot before
   * anything is checked (the frontend may still write the shared page) and
   * before the response, which reuses slots, is made.
   */
  private dispatch(slot: Uint8Array): void {
    this.stats.requests++;
    const op = slot[0]!;
    switch (op) {
      case BLKIF_OP_READ:
      case BLKIF_OP_WRITE:
      case BLKIF_OP_WRITE_BARRIER:
      case BLKIF_OP_FLUSH_DISKCACHE:
        this.rw(decodeRequest(slot));
        break;
      case BLKIF_OP_DISCARD:
        this.discard(slot);
        break;
      default: {
        // dispatch_other_io: reserved and indirect requests (no feature-max-indirect-segments offered).
        const req = decodeRequest(slot);
        this.refuse(req.id, op, BLKIF_RSP_EOPNOTSUPP, `${BLKIF_OP_NAMES[op] ?? `operation ${op}`} not supported`);
      }
    }
  }

  /** dispatch_rw_block_io, with the disk I/O done at once. */
  private rw(req: BlkifRequest): void {
    const op = req.operation;
    const image = this.image!;
    const flush = op === BLKIF_OP_FLUSH_DISKCACHE || op === BLKIF_OP_WRITE_BARRIER;
    const toDisk = op !== BLKIF_OP_READ;
    if (op === BLKIF_OP_READ) this.stats.reads++;
    else if (op === BLKIF_OP_WRITE) this.stats.writes++;
    else this.stats.flushes++;
    const nseg = req.nrSegments;
    // Only a flush or barrier may carry no data.
    if ((nseg === 0 && !flush) || nseg > BLKIF_MAX_SEGMENTS_PER_REQUEST) return this.refuse(req.id, op, BLKIF_RSP_ERROR, `bad number of segments in request (${nseg})`);
    let nrSects = 0;
    for (const s of req.seg) {
      if (s.lastSect >= BLKIF_SECTORS_PER_PAGE || s.lastSect < s.firstSect) return this.refuse(req.id, op, BLKIF_RSP_ERROR, `bad segment: sectors ${s.firstSect}..${s.lastSect} of a page`);
      nrSects += s.lastSect - s.firstSect + 1;
    }
    // xen_vbd_translate: no writing a read-only disk, nothing past its end.
    if (toDisk && this.readOnly) return this.refuse(req.id, op, BLKIF_RSP_ERROR, `${BLKIF_OP_NAMES[op]} on a read-only disk`);
    if (nrSects > 0 && req.sectorNumber + nrSects > image.sectors512) {
      return this.refuse(req.id, op, BLKIF_RSP_ERROR, `sectors ${req.sectorNumber}..${req.sectorNumber + nrSects - 1} beyond the end of the disk (${image.sectors512} sectors)`);
    }
    // Offsets and lengths in whole logical sectors (blkif.h; blkback checks sector_number and each length).
    const mask = (image.sectorSize >> BLKIF_SECTOR_SHIFT) - 1;
    for (const s of req.seg) {
      if (((req.sectorNumber | s.firstSect | (s.lastSect - s.firstSect + 1)) & mask) !== 0) return this.refuse(req.id, op, BLKIF_RSP_ERROR, `misaligned request for ${image.sectorSize}-byte sectors`);
    }
    // Every request is finished before the next is read, so a barrier's drain has nothing to wait for.
    if (flush) image.flushes++;

    // xen_blkbk_map_seg: all segments, or none.
    const handles: number[] = [];
    const pages: Uint8Array[] = [];
    for (const s of req.seg) {
      const m = this.env.call('gnttab_map_grant_ref', { host_addr: 0, flags: GNTMAP_host_map | (toDisk ? GNTMAP_readonly : 0), ref: s.gref, dom: this.frontendId });
      const handle = m.out?.handle as number | undefined;
      const page = m.out?.status === 'GNTST_okay' && handle !== undefined ? this.env.mapped(handle) : undefined;
      if (page === undefined) {
        this.unmapAll(handles);
        return this.refuse(req.id, op, BLKIF_RSP_ERROR, `invalid buffer -- could not remap grant ${s.gref}: ${String(m.out?.status)}`);
      }
      handles.push(handle!);
      pages.push(page);
    }
    let at = req.sectorNumber * BLKIF_SECTOR_SIZE;
    req.seg.forEach((s, i) => {
      const off = s.firstSect * BLKIF_SECTOR_SIZE;
      const len = (s.lastSect - s.firstSect + 1) * BLKIF_SECTOR_SIZE;
      if (toDisk) image.bytes.set(pages[i]!.subarray(off, off + len), at);
      else pages[i]!.set(image.bytes.subarray(at, at + len), off);
      at += len;
    });
    this.unmapAll(handles);
    if (toDisk) this.stats.sectorsWritten += nrSects;
    else this.stats.sectorsRead += nrSects;
    this.respond(req.id, op, BLKIF_RSP_OKAY);
  }

  /** dispatch_discard_io. */
  private discard(slot: Uint8Array): void {
    const req = decodeDiscard(slot);
    const image = this.image!;
    this.stats.discards++;
    const end = req.sectorNumber + req.nrSectors;
    if (this.readOnly || end > image.sectors512) {
      return this.refuse(req.id, BLKIF_OP_DISCARD, BLKIF_RSP_ERROR, `access denied: DISCARD [${req.sectorNumber}->${end}]`);
    }
    if (!image.discard) return this.refuse(req.id, BLKIF_OP_DISCARD, BLKIF_RSP_EOPNOTSUPP, 'discard op failed, not supported');
    // A discarded range reads back as zeroes here (as a punched hole in a file would).
    image.bytes.fill(0, req.sectorNumber * BLKIF_SECTOR_SIZE, end * BLKIF_SECTOR_SIZE);
    this.respond(req.id, BLKIF_OP_DISCARD, BLKIF_RSP_OKAY);
  }

  private unmapAll(handles: readonly number[]): void {
    for (const handle of handles) this.env.call('gnttab_unmap_grant_ref', { host_addr: 0, dev_bus_addr: 0, handle });
  }

  private refuse(id: bigint, op: number, status: number, why: string): void {
    this.lastError = why;
    this.env.log(`xen-blkback: ${this.dev.nodename}: request ${id} (${BLKIF_OP_NAMES[op] ?? `operation ${op}`}): ${why}`);
    this.respond(id, op, status);
  }

  /** make_response: one response, pushed at once; notify if push-and-check says so. */
  private respond(id: bigint, op: number, status: number): void {
    const ring = this.ring;
    if (ring === undefined) return;
    if (status === BLKIF_RSP_ERROR) this.stats.errors++;
    else if (status === BLKIF_RSP_EOPNOTSUPP) this.stats.unsupported++;
    ring.produceResponse((slot) => encodeResponse(slot, { id, operation: op, status }));
    this.stats.responses++;
    if (ring.pushResponsesAndCheckNotify()) {
      this.stats.notifies++;
      this.env.send(this.port);
    }
  }
}

/** A decimal u32 as xenbus_scanf("%u") takes it; undefined for anything else. */
function parseUnsigned(v: string | undefined): number | undefined {
  if (v === undefined || !/^\s*\d+\s*$/.test(v)) return undefined;
  const n = Number(v);
  return n <= 0xffffffff ? n : undefined;
}

/** The probe blkback registers for "vbd", with the instances it made by backend directory. */
export interface BlkbackProbe extends BackendProbe {
  readonly instances: ReadonlyMap<string, Blkback>;
}

/**
 * Dom0Kernel.registerBackend('vbd', blkbackProbe(k0.backendEnv, imageFor)):
 * one Blkback per backend/vbd/<fe>/<devid>, served from imageFor(fe, devid).
 */
export function blkbackProbe(env: BackendEnv, imageFor: (frontendId: number, devid: number) => DiskImage | undefined): BlkbackProbe {
  const instances = new Map<string, Blkback>();
  const probe = (dev: XenbusDevice, frontendId: number, devid: number): Blkback => {
    const be = new Blkback(env, dev, frontendId, devid, imageFor(frontendId, devid), () => instances.delete(dev.nodename));
    instances.set(dev.nodename, be);
    be.probe();
    return be;
  };
  return Object.assign(probe, { instances });
}
