/**
 * The xenstore client calls every xenbus user makes (xenbus.c's helpers:
 * read, write, directory, watch, transactions, switch_state), callback style,
 * over one abstract `request`. Two transports implement it: a guest's ring
 * (guest/xenbus.ts) and a dom0 process's socket to xenstored
 * (tools/xs_socket_client.ts), so a backend driver in dom0 and a frontend in
 * a guest speak the same API, as Linux's xenbus does on both sides.
 */
import {
  XS_DIRECTORY,
  XS_ERROR,
  XS_GET_DOMAIN_PATH,
  XS_GET_PERMS,
  XS_MKDIR,
  XS_READ,
  XS_RM,
  XS_SET_PERMS,
  XS_TRANSACTION_END,
  XS_TRANSACTION_START,
  XS_UNWATCH,
  XS_WATCH,
  XS_WRITE,
} from '../abi/xs_wire.js';
import { utf8, utf8Decode } from '../util/bytes.js';

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

export abstract class XsClient {
  /** Watch handlers by token. */
  protected readonly watches = new Map<string, WatchHandler>();

  /** Send `payload` as a message of `type` and call `cb` with the reply to it. */
  abstract request(type: number, payload: Uint8Array, cb: (reply: XenbusReply) => void, txId?: number): void;

  /** A watch event arrived: its handler, or false when no watch has that token. */
  protected deliverWatchEvent(payload: Uint8Array): boolean {
    const [path = '', token = ''] = splitStrings(payload);
    const handler = this.watches.get(token);
    if (handler === undefined) return false;
    handler(path, token);
    return true;
  }

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
}

/** A string's UTF-8 bytes; ASCII (every path) without the general encoder. */
export function encode(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) return utf8(text);
    out[i] = c;
  }
  return out;
}

/** NUL-terminated UTF-8 strings, concatenated. */
export function strings(...parts: string[]): Uint8Array {
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

export function splitStrings(payload: Uint8Array): string[] {
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
