/**
 * A guest's xenbus driver, after Mini-OS's xenbus/xenbus.c: requests are
 * written into req[] of the store page with a request id from a table of 32
 * (a request waits for a free id, as allocate_xenbus_id blocks), replies are
 * matched to their request by req_id, and watch events are handed to the
 * watch registered under their token.
 *
 * Two things are done the way Linux's xenbus_comms.c does them instead, so
 * that no message size can wedge the ring: a request longer than the free
 * space is written in pieces as xenstored takes bytes (Mini-OS waits for
 * the whole message to fit, and cannot send one over 1024 bytes at all), and
 * a reply is taken off the ring as it arrives (Mini-OS waits for all of it to
 * be on the ring, so a reply over 1008 bytes would never be read).
 *
 * "Blocking" is a queue: a request that cannot go yet waits and is retried
 * whenever the store channel fires (`onNotify`). Callbacks run from there.
 * One event is sent per batch, after both indexes have been dealt with.
 */
import { RingPass } from '../util/ring_pass.js';
import {
  encodeSockmsg,
  XENSTORE_PAYLOAD_MAX,
  XENSTORE_RING_SIZE,
  XS_RING_REQ,
  XS_RING_RSP,
  XS_WATCH_EVENT,
  XSD_SOCKMSG_SIZE,
  XsRingIndexes,
  readSockmsg,
} from '../abi/xs_wire.js';
import { ringGet, ringPut } from '../util/byte_ring.js';
import { XBT_NIL, XsClient, type XenbusReply } from './xs_client.js';

export { XBT_NIL, type WatchHandler, type XenbusReply, type XsCallback } from './xs_client.js';

// Module-local copies of the imported constants and helpers used on the hot path: read once here,
// they cost nothing per byte whatever the module loader does with imports.
const SIZE = XENSTORE_RING_SIZE;
const REQ = XS_RING_REQ;
const RSP = XS_RING_RSP;
const HDR = XSD_SOCKMSG_SIZE;
const copyOut = ringGet;
const copyIn = ringPut;
const header = readSockmsg;
const message = encodeSockmsg;

/** NR_REQS in Mini-OS: request ids in flight at once. */
export const XENBUS_NR_REQS = 32;

interface Waiting {
  readonly type: number;
  readonly txId: number;
  readonly payload: Uint8Array;
  readonly cb: (reply: XenbusReply) => void;
}

export interface XenbusStats {
  requests: number;
  replies: number;
  events: number;
  /** Replies whose req_id matches no request in flight (Mini-OS would write through a stale slot). */
  unexpectedReplies: number;
  /** Watch events whose token matches no registered watch ("unexpected watch token"). */
  unexpectedEvents: number;
  notifies: number;
}

export class Xenbus extends XsClient {
  readonly idx: XsRingIndexes;
  readonly stats: XenbusStats = { requests: 0, replies: 0, events: 0, unexpectedReplies: 0, unexpectedEvents: 0, notifies: 0 };
  /** Set when the reply ring can no longer be trusted (indexes more than a ring apart, a length over the limit); nothing more is read. */
  error: string | undefined;
  /** Encoded requests with an id, oldest first; the head may be partly written. */
  private readonly outgoing: { bytes: Uint8Array; used: number }[] = [];
  /** Requests still waiting for an id. */
  private readonly waiting: Waiting[] = [];
  private readonly inFlight: (((reply: XenbusReply) => void) | undefined)[];
  private live = 0;
  private probe = 0;
  private readonly hdr = new Uint8Array(HDR);
  private hdrUsed = 0;
  private body: Uint8Array | undefined;
  private bodyUsed = 0;
  private readonly pass = new RingPass();
  private readonly readAndWrite = (): void => {
    this.readReplies();
    this.writeRequests();
  };
  private readonly writeOnly = (): void => this.writeRequests();

  constructor(
    readonly page: Uint8Array,
    /** EVTCHNOP_send on the store port (start_info.store_evtchn). */
    public notify: () => void,
    readonly maxRequests = XENBUS_NR_REQS,
  ) {
    super();
    this.idx = new XsRingIndexes(page);
    this.inFlight = new Array<((reply: XenbusReply) => void) | undefined>(maxRequests).fill(undefined);
  }

  /** The store port fired: take replies and events, write what waits, notify once if an index moved. */
  onNotify(): void {
    this.pump();
  }

  /** Requests written or waiting without a reply yet. */
  pending(): number {
    return this.live + this.waiting.length;
  }

  /**
   * xenbus_msg_reply without the blocking: send `payload` as a message of
   * `type`, and call `cb` with the reply that carries its req_id.
   */
  override request(type: number, payload: Uint8Array, cb: (reply: XenbusReply) => void, txId = XBT_NIL): void {
    if (payload.length > XENSTORE_PAYLOAD_MAX) throw new RangeError(`a ${payload.length}-byte payload: xenstore takes at most ${XENSTORE_PAYLOAD_MAX}`);
    this.stats.requests++;
    this.waiting.push({ type, txId, payload, cb });
    this.assignIds();
    this.pump(false);
  }

  /** allocate_xenbus_id for each waiting request while ids are free (round-robin from the last one given). */
  private assignIds(): void {
    while (this.waiting.length > 0 && this.live < this.maxRequests) {
      const w = this.waiting.shift()!;
      let id = this.probe;
      while (this.inFlight[id] !== undefined) id = (id + 1) % this.maxRequests;
      this.inFlight[id] = w.cb;
      this.live++;
      this.probe = (id + 1) % this.maxRequests;
      this.outgoing.push({ bytes: message(w.type, id, w.txId, w.payload), used: 0 });
    }
  }

  /** Writes waiting requests; with `read`, takes replies first. Re-entered (from a callback), it leaves the work to the running pass. */
  private pump(read = true): void {
    if (this.pass.run(read ? this.readAndWrite : this.writeOnly)) {
      this.stats.notifies++;
      this.notify();
    }
  }


  /** xb_write, Linux-style: copy into req[] as much as is free, publish req_prod. */
  private writeRequests(): void {
    while (this.outgoing.length > 0) {
      const cons = this.idx.reqCons;
      const prod = this.idx.reqProd;
      const space = SIZE - ((prod - cons) >>> 0);
      if (space <= 0) return;
      const head = this.outgoing[0]!;
      const n = Math.min(space, head.bytes.length - head.used);
      copyIn(this.page, REQ, SIZE, prod, head.bytes, head.used, n);
      this.idx.reqProd = prod + n;
      this.pass.moved = true;
      head.used += n;
      if (head.used === head.bytes.length) this.outgoing.shift();
    }
  }

  /** The reading half of xenbus_thread_func: header, then body, consuming as bytes arrive. */
  private readReplies(): void {
    while (this.error === undefined) {
      const cons = this.idx.rspCons;
      const avail = (this.idx.rspProd - cons) >>> 0;
      if (avail > SIZE) {
        this.error = `rsp indexes ${this.idx.rspProd} and ${cons} are more than a ring apart`;
        return;
      }
      if (avail === 0) return;
      if (this.body === undefined) {
        const n = Math.min(avail, HDR - this.hdrUsed);
        copyOut(this.page, RSP, SIZE, cons, this.hdr, this.hdrUsed, n);
        this.consume(cons, n);
        this.hdrUsed += n;
        if (this.hdrUsed < HDR) continue;
        const len = header(this.hdr).len;
        if (len > XENSTORE_PAYLOAD_MAX) {
          this.error = `reply of ${len} bytes: over XENSTORE_PAYLOAD_MAX`;
          return;
        }
        this.body = new Uint8Array(len);
        this.bodyUsed = 0;
      } else {
        const n = Math.min(avail, this.body.length - this.bodyUsed);
        copyOut(this.page, RSP, SIZE, cons, this.body, this.bodyUsed, n);
        this.consume(cons, n);
        this.bodyUsed += n;
      }
      if (this.body.length === this.bodyUsed) this.dispatch();
    }
  }

  private consume(cons: number, n: number): void {
    this.idx.rspCons = cons + n;
    this.pass.moved = true;
  }

  private dispatch(): void {
    const h = header(this.hdr);
    const payload = this.body!;
    this.body = undefined;
    this.hdrUsed = 0;
    if (h.type === XS_WATCH_EVENT) {
      this.stats.events++;
      if (!this.deliverWatchEvent(payload)) this.stats.unexpectedEvents++;
      return;
    }
    const cb = h.reqId < this.maxRequests ? this.inFlight[h.reqId] : undefined;
    if (!cb) {
      this.stats.unexpectedReplies++;
      return;
    }
    this.stats.replies++;
    this.inFlight[h.reqId] = undefined;
    this.live--;
    this.assignIds();
    cb({ type: h.type, reqId: h.reqId, txId: h.txId, payload });
  }
}
