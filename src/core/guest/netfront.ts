/**
 * A guest's network frontend, after Linux's xen-netfront.c (the handshake
 * and the ring discipline) and Mini-OS's netfront.c (rx buffers granted once
 * and re-posted with the same grant, responses matched by id).
 *
 * Handshake (netback_changed): when the backend reaches InitWait and offers
 * feature-rx-copy, set up both rings on fresh pages, grant them to the
 * backend, alloc_unbound one port towards it, write tx-ring-ref, rx-ring-ref,
 * event-channel, request-rx-copy and feature-rx-notify in one transaction
 * (started again on EAGAIN), kick the port, post the rx buffers and go
 * straight to Connected; the backend connects when it sees that. Frames go
 * out once the backend is Connected too.
 *
 * Transmit copies a frame into a half-page buffer of a small pool, grants
 * that frame read-only for this one request, and pushes (notifying only if
 * the ring says so); the grant ends when the response comes back. A frame
 * larger than a buffer goes as several slots chained by NETTXF_more_data if
 * the backend offered feature-sg. Frames that find no free buffer wait in a
 * queue of txQueueLen (Linux's default txqueuelen, 1000); beyond it they are
 * dropped. No feature-sg is written: received packets must fit one rx slot
 * (Mini-OS without GSO writes none either).
 *
 * The page pool is the guest kernel's (256 pages shared by every driver), so
 * a vif uses 2 ring pages, `rxBuffers` rx pages and `txPages` tx pages: 34 by
 * default. The pool has no free, so a NetFront takes its pages once; after
 * close() it stays closed (make a new one to connect again).
 */
import { DOMID_SELF } from '../abi/domid.js';
import { PAGE_SIZE } from '../abi/layout.js';
import {
  NETIF_FRONTEND_KEYS as FK,
  NETIF_RSP_DROPPED,
  NETIF_RSP_NULL,
  NETIF_RSP_OKAY,
  NETIF_RX_SLOT_SIZE,
  NETIF_TX_SLOT_SIZE,
  NETRXF_extra_info,
  NETRXF_more_data,
  NETTXF_more_data,
  XEN_NETIF_MAX_TX_SIZE,
  XEN_NETIF_NR_SLOTS_MIN,
  formatMac,
  parseMac,
  readRxResponse,
  readTxResponse,
  writeRxRequest,
  writeTxRequest,
  type NetifTxRequest,
} from '../abi/netif.js';
import {
  XenbusStateClosed,
  XenbusStateClosing,
  XenbusStateConnected,
  XenbusStateInitialising,
  XenbusStateInitWait,
  XenbusStateUnknown,
} from '../abi/xenbus.js';
import type { Guest } from './guest.js';
import { FrontRing } from './ring.js';
import { XenbusDevice } from './xenbus_device.js';
import type { XsClient } from './xs_client.js';

/** Rx pages posted to the backend (Mini-OS posts one per slot; we cannot afford 256 pages). */
export const NETFRONT_RX_BUFFERS = 16;
/** Tx pages; each holds two buffers. */
export const NETFRONT_TX_PAGES = 16;
/** One tx buffer: half a page, enough for any frame the bridge carries. */
export const NETFRONT_TX_BUFFER_BYTES = PAGE_SIZE / 2;
/** Frames waiting for a tx buffer before more are dropped (Linux's default txqueuelen). */
export const NETFRONT_TX_QUEUE_LEN = 1000;

export interface NetFrontOptions {
  rxBuffers?: number;
  txPages?: number;
  txQueueLen?: number;
}

export interface NetFrontStats {
  /** Packets the backend answered NETIF_RSP_OKAY, and their bytes. */
  txPackets: number;
  txBytes: number;
  /** Packets the backend answered with an error (or an answer with an unknown id). */
  txErrors: number;
  /** Frames dropped here: queue full, too big, closed. */
  txDropped: number;
  rxPackets: number;
  rxBytes: number;
  /** Rx responses with an error status, bad offset/size, or an unknown id. */
  rxErrors: number;
  /** EVTCHNOP_send on the device's port, all of them, and by cause. */
  notifies: number;
  txNotifies: number;
  rxNotifies: number;
  /** Events taken on the port. */
  events: number;
}

export type NetFrontPhase = 'idle' | 'connecting' | 'waiting' | 'connected' | 'closing' | 'closed' | 'failed';

interface TxPacket {
  readonly cb: ((status: number) => void) | undefined;
  readonly len: number;
  remaining: number;
  status: number;
}

interface TxBuf {
  readonly id: number;
  readonly gfn: number;
  readonly page: Uint8Array;
  readonly offset: number;
  gref: number;
  packet: TxPacket | undefined;
}

interface RxBuf {
  readonly id: number;
  readonly gfn: number;
  readonly page: Uint8Array;
  gref: number;
  posted: boolean;
}

interface Pending {
  readonly frame: Uint8Array;
  readonly cb: ((status: number) => void) | undefined;
}

export class NetFront {
  readonly dev: XenbusDevice;
  /** The guest's MAC from the frontend directory's `mac` key (undefined until read). */
  mac: Uint8Array | undefined;
  macString = '';
  /** Every frame received, after its buffer went back to the backend. */
  onFrame: (frame: Uint8Array) => void = () => {};
  readonly stats: NetFrontStats = { txPackets: 0, txBytes: 0, txErrors: 0, txDropped: 0, rxPackets: 0, rxBytes: 0, rxErrors: 0, notifies: 0, txNotifies: 0, rxNotifies: 0, events: 0 };
  phase: NetFrontPhase = 'idle';
  /** Why the device failed or closed badly, if it did. */
  error: string | undefined;
  /** What the backend offered. */
  backendSg = false;
  /** The device's port in this guest, 0 when none. */
  port = 0;
  txRingRef = -1;
  rxRingRef = -1;
  txRing: FrontRing | undefined;
  rxRing: FrontRing | undefined;
  /** Grant refs that could not be ended at teardown because the backend still mapped them. */
  readonly grantsStillMapped: number[] = [];
  /** While true, consumed rx buffers are kept instead of posted again (a guest not keeping up). */
  rxPaused = false;

  readonly devid: number;
  private readonly rxCount: number;
  private readonly txPages: number;
  private readonly txQueueLen: number;
  private txRingGfn = -1;
  private rxRingGfn = -1;
  private readonly txBufs: TxBuf[] = [];
  private readonly freeTx: TxBuf[] = [];
  private readonly rxBufs: RxBuf[] = [];
  private readonly backlog: Pending[] = [];
  private onReady: ((err?: string) => void) | undefined;
  private closeCb: ((err?: string) => void) | undefined;

  constructor(
    readonly kernel: Guest,
    readonly xs: XsClient,
    /** The frontend directory, e.g. /local/domain/1/device/vif/0. */
    readonly nodename: string,
    opts: NetFrontOptions = {},
  ) {
    this.dev = new XenbusDevice(xs, nodename, 'frontend', { otherendChanged: (_d, state) => this.backendChanged(state) });
    const last = nodename.slice(nodename.lastIndexOf('/') + 1);
    this.devid = /^\d+$/.test(last) ? Number(last) : 0;
    this.rxCount = opts.rxBuffers ?? NETFRONT_RX_BUFFERS;
    this.txPages = opts.txPages ?? NETFRONT_TX_PAGES;
    this.txQueueLen = opts.txQueueLen ?? NETFRONT_TX_QUEUE_LEN;
  }

  /** The vif's name in dom0 (vif<domid>.<devid>), used for the rings' trace names. */
  get vifName(): string {
    return `vif${this.kernel.d.domid}.${this.devid}`;
  }

  /** Frames waiting for a tx buffer. */
  get queued(): number {
    return this.backlog.length;
  }

  /** Reads the MAC, then talks to the backend; `onReady` once the backend is Connected, or with why not. */
  start(onReady?: (err?: string) => void): void {
    this.onReady = onReady;
    this.xs.read(`${this.nodename}/${FK.mac}`, (err, value) => {
      const mac = err === undefined ? parseMac(value) : undefined;
      if (mac === undefined) return this.failed(`parsing ${this.nodename}/mac: ${err ?? `"${value}"`}`, true);
      this.mac = mac;
      this.macString = formatMac(mac);
      this.dev.start((e) => {
        if (e !== undefined) this.failed(e, false);
      });
    });
  }

  /**
   * Queues a frame for the backend. `cb` gets the packet's NETIF_RSP_* status
   * once the backend answered (or NETIF_RSP_DROPPED if it never went). False
   * when the frame was dropped at once.
   */
  send(frame: Uint8Array, cb?: (status: number) => void): boolean {
    const drop = (): false => {
      this.stats.txDropped++;
      cb?.(NETIF_RSP_DROPPED);
      return false;
    };
    if (this.phase === 'closing' || this.phase === 'closed' || this.phase === 'failed') return drop();
    const slots = this.slotsFor(frame.length);
    // xennet_start_xmit: a packet the backend could not take is dropped here ("rides the rocket").
    if (frame.length > XEN_NETIF_MAX_TX_SIZE || slots > XEN_NETIF_NR_SLOTS_MIN || (slots > 1 && !this.backendSg && this.phase === 'connected')) return drop();
    if (this.phase === 'connected' && this.backlog.length === 0 && this.canTransmit(slots)) {
      this.transmit(frame, cb);
      this.pushTx();
      return true;
    }
    if (this.backlog.length >= this.txQueueLen) return drop();
    this.backlog.push({ frame: frame.slice(), cb });
    return true;
  }

  /**
   * A hand-made tx request, for showing what the backend does with a bad
   * one: one buffer holds `frame`; `fields` replace the request's gref,
   * offset, flags or size (the id stays the buffer's). False if not
   * connected or no buffer is free.
   */
  sendRaw(fields: Partial<Omit<NetifTxRequest, 'id'>>, frame: Uint8Array, cb?: (status: number) => void): boolean {
    if (this.phase !== 'connected' || !this.canTransmit(1)) return false;
    const b = this.takeBuffer(frame.subarray(0, NETFRONT_TX_BUFFER_BYTES), { cb, len: frame.length, remaining: 1, status: NETIF_RSP_OKAY });
    if (b === undefined) return false;
    this.txRing!.produceRequest((slot) =>
      writeTxRequest(slot, { gref: fields.gref ?? b.gref, offset: fields.offset ?? b.offset, flags: fields.flags ?? 0, id: b.id, size: fields.size ?? frame.length }),
    );
    this.pushTx();
    return true;
  }

  /** Starts posting consumed rx buffers again (see rxPaused). */
  resumeRx(): void {
    this.rxPaused = false;
    if (this.rxRing !== undefined && this.port !== 0) this.postRx();
  }

  /**
   * xennet_remove's bus close: Closing, Closed once the backend is Closing,
   * then, once it is Closed, the port is closed and every grant ended. `cb`
   * gets an error if some grant was still mapped by the backend.
   */
  close(cb?: (err?: string) => void): void {
    if (this.phase === 'closed') {
      cb?.(this.grantsStillMapped.length > 0 ? this.grantError() : undefined);
      return;
    }
    this.closeCb = cb;
    this.phase = 'closing';
    this.dev.switchState(XenbusStateClosing);
  }

  // ---------------------------------------------------------------------------
  // The handshake

  /** netback_changed. */
  private backendChanged(state: number): void {
    const own = this.dev.state;
    switch (state) {
      case XenbusStateInitWait:
        if ((own === XenbusStateUnknown || own === XenbusStateInitialising) && this.phase === 'idle') this.connect();
        break;
      case XenbusStateConnected:
        if (own === XenbusStateConnected && this.phase === 'waiting') {
          this.phase = 'connected';
          this.drainBacklog();
          this.ready(undefined);
        }
        break;
      case XenbusStateClosed:
        if (own === XenbusStateClosed) {
          this.finishClose();
          break;
        }
        this.frontendClosed(true);
        break;
      case XenbusStateClosing:
        this.frontendClosed(false);
        break;
      case XenbusStateUnknown:
        // The backend's directory went away: nothing more will come from it.
        if (this.phase !== 'idle') this.finishClose();
        break;
      default:
        break;
    }
  }

  /** xenbus_frontend_closed: the backend is going; follow it to Closed. */
  private frontendClosed(backendClosed: boolean): void {
    if (this.phase !== 'closing') {
      this.ready(`the backend closed the device before it connected (${this.dev.otherend})`);
      if (this.phase !== 'closed') this.phase = 'closing';
    }
    this.dev.switchState(XenbusStateClosed, () => {
      if (backendClosed) this.finishClose();
    });
  }

  /** xennet_connect → talk_to_netback. */
  private connect(): void {
    this.phase = 'connecting';
    this.readUnsigned('feature-rx-copy', (rxCopy) => {
      if (rxCopy === 0) return this.failed('backend does not support copying receive path', false);
      this.readUnsigned('feature-sg', (sg) => {
        this.backendSg = sg > 0;
        const err = this.setupRings();
        if (err !== undefined) return this.failed(err, true);
        this.publish();
      });
    });
  }

  /** xenbus_read_unsigned on the backend's directory: 0 when missing or not a number. */
  private readUnsigned(key: string, cb: (v: number) => void): void {
    this.dev.readOtherend(key, (err, v) => cb(err === undefined && /^\d+$/.test(v) ? Number(v) : 0));
  }

  /** setup_netfront: both rings initialised and granted, buffers ready, a port for the backend. */
  private setupRings(): string | undefined {
    const k = this.kernel;
    const be = this.dev.otherendId;
    try {
      if (this.txRingGfn < 0) this.txRingGfn = k.allocKernelPage();
      if (this.rxRingGfn < 0) this.rxRingGfn = k.allocKernelPage();
      for (let p = this.txBufs.length / 2; p < this.txPages; p++) {
        const gfn = k.allocKernelPage();
        const page = k.d.memory.frame(gfn)!;
        for (let h = 0; h < 2; h++) {
          this.txBufs.push({ id: p * 2 + h, gfn, page, offset: h * NETFRONT_TX_BUFFER_BYTES, gref: -1, packet: undefined });
        }
      }
      for (let i = this.rxBufs.length; i < this.rxCount; i++) {
        const gfn = k.allocKernelPage();
        this.rxBufs.push({ id: i, gfn, page: k.d.memory.frame(gfn)!, gref: -1, posted: false });
      }
    } catch {
      return 'allocating the rings and buffers: the kernel page pool is exhausted';
    }
    this.freeTx.length = 0;
    for (let i = this.txBufs.length - 1; i >= 0; i--) this.freeTx.push(this.txBufs[i]!);
    const trace = { trace: k.hv.trace, domid: k.d.domid };
    this.txRing = FrontRing.create(k.d.memory.frame(this.txRingGfn)!, NETIF_TX_SLOT_SIZE, { ...trace, name: `${this.vifName}-tx` });
    this.rxRing = FrontRing.create(k.d.memory.frame(this.rxRingGfn)!, NETIF_RX_SLOT_SIZE, { ...trace, name: `${this.vifName}-rx` });
    // xenbus_grant_ring: writable grants of both ring pages to the backend.
    this.txRingRef = k.grantAccess(be, this.txRingGfn, false);
    this.rxRingRef = k.grantAccess(be, this.rxRingGfn, false);
    if (this.txRingRef < 0 || this.rxRingRef < 0) return 'granting access to ring page: the grant table is full';
    // Mini-OS grants each rx page once, writable, and posts it again with the same ref.
    for (const b of this.rxBufs) {
      b.gref = k.grantAccess(be, b.gfn, false);
      b.posted = false;
      if (b.gref < 0) return 'granting rx buffers: the grant table is full';
    }
    // xenbus_alloc_evtchn, then bind_evtchn_to_irqhandler.
    const r = k.call('alloc_unbound', { dom: DOMID_SELF, remote_dom: be });
    if (r.ret < 0) return `allocating an event channel for domain ${be}: ${r.ret}`;
    this.port = r.out!.port as number;
    k.portHandlers.set(this.port, () => this.onEvent());
    return undefined;
  }

  /** The keys in one transaction, then the kick, the rx buffers and Connected (xennet_connect's order). */
  private publish(): void {
    const keys: [string, string][] = [
      [FK.txRingRef, String(this.txRingRef)],
      [FK.rxRingRef, String(this.rxRingRef)],
      [FK.eventChannel, String(this.port)],
      [FK.requestRxCopy, '1'],
      [FK.featureRxNotify, '1'],
    ];
    let failure: string | undefined;
    this.xs.transaction(
      (tx, done) => {
        const next = (i: number): void => {
          if (i === keys.length) return done();
          const [k, v] = keys[i]!;
          this.dev.write(k, v, (err) => {
            if (err !== undefined) {
              failure = `writing ${k}: ${err}`;
              return done(true);
            }
            next(i + 1);
          }, tx);
        };
        next(0);
      },
      (err) => {
        if (failure !== undefined || err !== undefined) return this.failed(failure ?? `completing transaction: ${err}`, true);
        if (this.phase !== 'connecting') return;
        this.phase = 'waiting';
        this.notify('tx');
        this.postRx();
        this.dev.switchState(XenbusStateConnected);
      },
    );
  }

  private ready(err: string | undefined): void {
    const cb = this.onReady;
    this.onReady = undefined;
    cb?.(err);
  }

  /** xenbus_dev_fatal: note it (the guest may not write error/ under its home: tried, errors ignored), then Closing. */
  private failed(message: string, fatal: boolean): void {
    this.error = message;
    if (fatal) this.dev.fatal(message);
    if (this.phase !== 'closing') this.phase = 'failed';
    this.ready(message);
  }

  // ---------------------------------------------------------------------------
  // Teardown

  private finishClose(): void {
    if (this.phase !== 'closed') this.teardown();
    const cb = this.closeCb;
    this.closeCb = undefined;
    cb?.(this.grantsStillMapped.length > 0 ? this.grantError() : undefined);
  }

  private grantError(): string {
    return `grant refs still mapped by the backend: ${this.grantsStillMapped.join(', ')}`;
  }

  /** xennet_disconnect_backend: unbind the port, end every grant (a still-mapped one is reported, not freed). */
  private teardown(): void {
    const k = this.kernel;
    this.phase = 'closed';
    this.dev.stop();
    if (this.port !== 0) {
      k.portHandlers.delete(this.port);
      k.call('close', { port: this.port });
      this.port = 0;
    }
    const end = (ref: number): void => {
      if (ref >= 0 && !k.endAccess(ref)) this.grantsStillMapped.push(ref);
    };
    end(this.txRingRef);
    end(this.rxRingRef);
    this.txRingRef = this.rxRingRef = -1;
    for (const b of this.rxBufs) {
      end(b.gref);
      b.gref = -1;
      b.posted = false;
    }
    for (const b of this.txBufs) {
      if (b.packet === undefined) continue;
      end(b.gref);
      b.gref = -1;
      const p = b.packet;
      b.packet = undefined;
      if (--p.remaining === 0) {
        this.stats.txDropped++;
        p.cb?.(NETIF_RSP_DROPPED);
      }
    }
    for (const p of this.backlog.splice(0)) {
      this.stats.txDropped++;
      p.cb?.(NETIF_RSP_DROPPED);
    }
    this.txRing = this.rxRing = undefined;
  }

  // ---------------------------------------------------------------------------
  // Transmit

  private slotsFor(len: number): number {
    return Math.max(1, Math.ceil(len / NETFRONT_TX_BUFFER_BYTES));
  }

  private canTransmit(slots: number): boolean {
    return this.txRing !== undefined && this.freeTx.length >= slots && this.txRing.freeRequests() >= slots;
  }

  /** Copies into a free buffer and grants its frame read-only to the backend. */
  private takeBuffer(bytes: Uint8Array, packet: TxPacket): TxBuf | undefined {
    const b = this.freeTx.pop();
    if (b === undefined) return undefined;
    const gref = this.kernel.grantAccess(this.dev.otherendId, b.gfn, true);
    if (gref < 0) {
      this.freeTx.push(b);
      return undefined;
    }
    b.page.set(bytes, b.offset);
    b.gref = gref;
    b.packet = packet;
    return b;
  }

  /** One packet onto the ring: first slot's size is the whole packet, the rest chained by NETTXF_more_data. */
  private transmit(frame: Uint8Array, cb: ((status: number) => void) | undefined): void {
    const slots = this.slotsFor(frame.length);
    const packet: TxPacket = { cb, len: frame.length, remaining: slots, status: NETIF_RSP_OKAY };
    for (let i = 0; i < slots; i++) {
      const chunk = frame.subarray(i * NETFRONT_TX_BUFFER_BYTES, Math.min(frame.length, (i + 1) * NETFRONT_TX_BUFFER_BYTES));
      const b = this.takeBuffer(chunk, packet);
      if (b === undefined) {
        // The grant table ran out mid-packet: the slots already made still go, marked as failed.
        packet.remaining -= slots - i;
        packet.status = NETIF_RSP_DROPPED;
        break;
      }
      this.txRing!.produceRequest((slot) =>
        writeTxRequest(slot, { gref: b.gref, offset: b.offset, flags: i < slots - 1 ? NETTXF_more_data : 0, id: b.id, size: i === 0 ? frame.length : chunk.length }),
      );
    }
    if (packet.remaining === 0) {
      this.stats.txDropped++;
      cb?.(NETIF_RSP_DROPPED);
    }
  }

  private pushTx(): void {
    if (this.txRing !== undefined && this.txRing.pushRequestsAndCheckNotify()) this.notify('tx');
  }

  private drainBacklog(): void {
    if (this.phase !== 'connected') return;
    let sent = false;
    while (this.backlog.length > 0) {
      const head = this.backlog[0]!;
      const slots = this.slotsFor(head.frame.length);
      if (slots > 1 && !this.backendSg) {
        this.backlog.shift();
        this.stats.txDropped++;
        head.cb?.(NETIF_RSP_DROPPED);
        continue;
      }
      if (!this.canTransmit(slots)) break;
      this.backlog.shift();
      this.transmit(head.frame, head.cb);
      sent = true;
    }
    if (sent) this.pushTx();
  }

  private notify(why: 'tx' | 'rx'): void {
    if (this.port === 0) return;
    this.kernel.send(this.port);
    this.stats.notifies++;
    if (why === 'tx') this.stats.txNotifies++;
    else this.stats.rxNotifies++;
  }

  // ---------------------------------------------------------------------------
  // The interrupt: tx completions, then received frames (xennet_interrupt)

  private onEvent(): void {
    this.stats.events++;
    this.txGc();
    this.rxPoll();
  }

  /** xennet_tx_buf_gc: end each answered request's grant and free its buffer, until the final check finds nothing. */
  private txGc(): void {
    const ring = this.txRing;
    if (ring === undefined) return;
    do {
      for (let slot = ring.consumeResponse(); slot !== undefined; slot = ring.consumeResponse()) {
        const r = readTxResponse(slot);
        if (r.status === NETIF_RSP_NULL) continue;
        const b = this.txBufs[r.id];
        if (b === undefined || b.packet === undefined) {
          this.stats.txErrors++;
          continue;
        }
        const p = b.packet;
        b.packet = undefined;
        if (!this.kernel.endAccess(b.gref)) this.grantsStillMapped.push(b.gref);
        b.gref = -1;
        this.freeTx.push(b);
        if (r.status !== NETIF_RSP_OKAY && p.status === NETIF_RSP_OKAY) p.status = r.status;
        if (--p.remaining > 0) continue;
        if (p.status === NETIF_RSP_OKAY) {
          this.stats.txPackets++;
          this.stats.txBytes += p.len;
        } else this.stats.txErrors++;
        p.cb?.(p.status);
      }
    } while (ring.finalCheckForResponses() > 0);
    this.drainBacklog();
  }

  /** xennet_poll: take each response, copy the frame out, post the buffers again in one push, then hand the frames up. */
  private rxPoll(): void {
    const ring = this.rxRing;
    if (ring === undefined) return;
    const frames: Uint8Array[] = [];
    do {
      for (let slot = ring.consumeResponse(); slot !== undefined; slot = ring.consumeResponse()) {
        const r = readRxResponse(slot);
        const b = this.rxBufs[r.id];
        if (b === undefined || !b.posted) {
          this.stats.rxErrors++;
          continue;
        }
        b.posted = false;
        // Multi-slot packets are not asked for (no feature-sg here) and never sent by our backend.
        if (r.status <= 0 || r.offset + r.status > PAGE_SIZE || (r.flags & (NETRXF_more_data | NETRXF_extra_info)) !== 0) {
          this.stats.rxErrors++;
          continue;
        }
        frames.push(b.page.slice(r.offset, r.offset + r.status));
        this.stats.rxPackets++;
        this.stats.rxBytes += r.status;
      }
    } while (ring.finalCheckForResponses() > 0);
    if (!this.rxPaused) this.postRx();
    for (const f of frames) this.onFrame(f);
  }

  /** xennet_alloc_rx_buffers: every idle buffer back on the ring, one push, notify if the backend asked. */
  private postRx(): void {
    const ring = this.rxRing;
    if (ring === undefined) return;
    let posted = 0;
    for (const b of this.rxBufs) {
      if (b.posted || b.gref < 0) continue;
      if (!ring.produceRequest((slot) => writeRxRequest(slot, { id: b.id, gref: b.gref }))) break;
      b.posted = true;
      posted++;
    }
    if (posted > 0 && ring.pushRequestsAndCheckNotify()) this.notify('rx');
  }
}
