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
  XS_DIRECTORY,
  XS_ERROR,
  XS_GET_DOMAIN_PATH,
  XS_GET_PERMS,
  XS_MKDIR,
  XS_READ,
  XS_RING_REQ,
  XS_RING_RSP,
  XS_RM,
  XS_SET_PERMS,
  XS_TRANSACTION_END,
  XS_TRANSACTION_START,
  XS_UNWATCH,
  XS_WATCH,
  XS_WATCH_EVENT,
  XS_WRITE,
  XSD_SOCKMSG_SIZE,
  XsRingIndexes,
  readSockmsg,
} from '../abi/xs_wire.js';
import { ringGet, ringPut } from '../util/byte_ring.js';
import { utf8, utf8Decode } from '../util/bytes.js';

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

/** XBT_NIL: not in a transaction. */
export const XBT_NIL = 0;

export interface XenbusReply {
  readonly type: number;
  readonly reqId: number;
  readonly txId: number;
  readonly payload: Uint8Array;
}

/** err is the XS_ERROR string ("ENOENT", "EACCES", ...) or undefined on success. */
export type XsCallback<T> = (err: string | undefined, value: T) => void;
export type WatchHandler = (path: string, token: string) => void;

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

export class Xenbus {
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
  private readonly watches = new Map<string, WatchHandler>();
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
  request(type: number, payload: Uint8Array, cb: (reply: XenbusReply) => void, txId = XBT_NIL): void {
    if (payload.length > XENSTORE_PAYLOAD_MAX) throw new RangeError(`a ${payload.length}-byte payload: xenstore takes at most ${XENSTORE_PAYLOAD_MAX}`);
    this.stats.requests++;
    this.waiting.push({ type, txId, payload, cb });
    this.assignIds();
    this.pump(false);
  }

  // -------------------------------------------------------------------------
  // The helpers of xenbus.c, callback style

  read(path: string, cb: XsCallback<string>, tx = XBT_NIL): void {
    this.readBytes(path, (err, v) => cb(err, err ? '' : utf8Decode(v)), tx);
  }

  readBytes(path: string, cb: XsCallback<Uint8Array>, tx = XBT_NIL): void {
    this.request(XS_READ, strings(path), (r) => (isError(r) ? cb(errorOf(r), new Uint8Array(0)) : cb(undefined, r.payload)), tx);
  }

  /** xenbus_write: "<path>\0<value>", the value without a NUL. */
  write(path: string, value: string | Uint8Array, cb?: XsCallback<void>, tx = XBT_NIL): void {
    const v = typeof value === 'string' ? encode(value) : value;
    const p = encode(path);
    const payload = new Uint8Array(p.length + 1 + v.length);
    payload.set(p);
    payload.set(v, p.length + 1);
    this.request(XS_WRITE, payload, ack(cb), tx);
  }

  mkdir(path: string, cb?: XsCallback<void>, tx = XBT_NIL): void {
    this.request(XS_MKDIR, strings(path), ack(cb), tx);
  }

  rm(path: string, cb?: XsCallback<void>, tx = XBT_NIL): void {
    this.request(XS_RM, strings(path), ack(cb), tx);
  }

  /** xenbus_ls: the child names. */
  directory(path: string, cb: XsCallback<string[]>, tx = XBT_NIL): void {
    this.request(XS_DIRECTORY, strings(path), (r) => (isError(r) ? cb(errorOf(r), []) : cb(undefined, splitStrings(r.payload))), tx);
  }

  /** xenbus_get_perms: "<r|w|b|n><domid>" per entry, owner first. */
  getPerms(path: string, cb: XsCallback<string[]>, tx = XBT_NIL): void {
    this.request(XS_GET_PERMS, strings(path), (r) => (isError(r) ? cb(errorOf(r), []) : cb(undefined, splitStrings(r.payload))), tx);
  }

  /** XS_SET_PERMS with the whole list (xenbus_set_perms sends one entry). */
  setPerms(path: string, perms: readonly string[], cb?: XsCallback<void>, tx = XBT_NIL): void {
    this.request(XS_SET_PERMS, strings(path, ...perms), ack(cb), tx);
  }

  getDomainPath(domid: number, cb: XsCallback<string>): void {
    this.request(XS_GET_DOMAIN_PATH, strings(String(domid)), (r) => (isError(r) ? cb(errorOf(r), '') : cb(undefined, stripNul(r.payload))));
  }

  /**
   * xenbus_watch_path_token: the watch is registered before the request goes,
   * so the event xenstored fires as soon as the watch is set finds it.
   */
  watch(path: string, token: string, onEvent: WatchHandler, cb?: XsCallback<void>): void {
    this.watches.set(token, onEvent);
    this.request(XS_WATCH, strings(path, token), ack(cb));
  }

  /** xenbus_unwatch_path_token: the handler goes once xenstored has agreed. */
  unwatch(path: string, token: string, cb?: XsCallback<void>): void {
    this.request(XS_UNWATCH, strings(path, token), (r) => {
      if (!isError(r)) this.watches.delete(token);
      ack(cb)(r);
    });
  }

  /** xenbus_transaction_start: the new transaction id. An empty string is sent, as Mini-OS does. */
  transactionStart(cb: XsCallback<number>): void {
    this.request(XS_TRANSACTION_START, strings(''), (r) => (isError(r) ? cb(errorOf(r), XBT_NIL) : cb(undefined, Number(stripNul(r.payload)))));
  }

  /** xenbus_transaction_end: EAGAIN is no error but a request to retry (value true). */
  transactionEnd(tx: number, abort: boolean, cb: XsCallback<boolean>): void {
    this.request(
      XS_TRANSACTION_END,
      strings(abort ? 'F' : 'T'),
      (r) => {
        const err = isError(r) ? errorOf(r) : undefined;
        if (err === 'EAGAIN') cb(undefined, true);
        else cb(err, false);
      },
      tx,
    );
  }

  /**
   * A whole transaction: start, run `body` with the id, commit when it calls
   * done() (abort with done(true)), and start over while the commit answers EAGAIN.
   */
  transaction(body: (tx: number, done: (abort?: boolean) => void) => void, cb?: XsCallback<number>): void {
    let attempts = 0;
    const attempt = (): void => {
      attempts++;
      this.transactionStart((err, tx) => {
        if (err) return cb?.(err, attempts);
        body(tx, (abort = false) => {
          this.transactionEnd(tx, abort, (e, retry) => {
            if (e) cb?.(e, attempts);
            else if (retry) attempt();
            else cb?.(undefined, attempts);
          });
        });
      });
    };
    attempt();
  }

  /** xenbus_switch_state: in a transaction, read `path` and write the new state unless it is already there. */
  switchState(path: string, state: number, cb?: XsCallback<void>): void {
    let firstErr: string | undefined;
    this.transaction(
      (tx, done) => {
        this.read(
          path,
          (err, cur) => {
            firstErr = err;
            if (err || Number(cur.charCodeAt(0) - 48) === state) return done();
            this.write(path, String(state), (e) => {
              firstErr = e;
              done();
            }, tx);
          },
          tx,
        );
      },
      (err) => cb?.(firstErr ?? err),
    );
  }

  // -------------------------------------------------------------------------

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
      const [path = '', token = ''] = splitStrings(payload);
      const handler = this.watches.get(token);
      if (handler) handler(path, token);
      else this.stats.unexpectedEvents++;
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

/** A string's UTF-8 bytes; ASCII (every path) without the general encoder. */
function encode(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) return utf8(text);
    out[i] = c;
  }
  return out;
}

/** NUL-terminated UTF-8 strings, concatenated. */
function strings(...parts: string[]): Uint8Array {
  const enc = parts.map(encode);
  let n = 0;
  for (const e of enc) n += e.length + 1;
  const out = new Uint8Array(n);
  let at = 0;
  for (const e of enc) {
    out.set(e, at);
    at += e.length + 1;
  }
  return out;
}

function splitStrings(payload: Uint8Array): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < payload.length; i++) {
    if (payload[i] === 0) {
      out.push(utf8Decode(payload.subarray(start, i)));
      start = i + 1;
    }
  }
  return out;
}

function stripNul(payload: Uint8Array): string {
  const end = payload.indexOf(0);
  return utf8Decode(end < 0 ? payload : payload.subarray(0, end));
}

function isError(r: XenbusReply): boolean {
  return r.type === XS_ERROR;
}

/** errmsg: the error string of an XS_ERROR reply. */
function errorOf(r: XenbusReply): string {
  return stripNul(r.payload);
}

function ack(cb: XsCallback<void> | undefined): (r: XenbusReply) => void {
  return (r) => cb?.(isError(r) ? errorOf(r) : undefined, undefined);
}
