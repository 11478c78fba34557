/**
 * One client of xenstored (struct connection in tools/xenstored/core.h): a
 * domain's ring or a tools socket. It carries the identity permissions are
 * checked against, its watches, its open transactions, the message being
 * read and the queue of replies and watch events waiting to go out.
 */
import {
  XENSTORE_SERVER_FEATURE_DOMID_ANY,
  XENSTORE_SERVER_FEATURE_ERROR,
  XENSTORE_SERVER_FEATURE_WATCHDEPTH,
  XSD_SOCKMSG_SIZE,
} from '../abi/xs_wire.js';
import type { XsTransaction } from './xs_store.js';

/** XENSTORE_FEATURES (domain.c): what xenstored offers each domain; reconnection is not among them. */
export const XENSTORE_FEATURES = XENSTORE_SERVER_FEATURE_ERROR | XENSTORE_SERVER_FEATURE_WATCHDEPTH | XENSTORE_SERVER_FEATURE_DOMID_ANY;

/** A message as xenstored handles it: the header fields and the payload. */
export interface XsMsg {
  type: number;
  reqId: number;
  txId: number;
  payload: Uint8Array;
}

/** struct watch: a canonical path, a token, a depth (-1: unlimited) and how much of the path to strip for a relative watch. */
export interface XsWatch {
  readonly node: string;
  readonly token: string;
  readonly depth: number;
  readonly prefixLen: number;
}

/** A message queued for output, header and payload in one buffer; `used` bytes already written. */
export interface XsOut {
  readonly bytes: Uint8Array;
  used: number;
  readonly watchEvent: boolean;
}

/** A message being read off a ring: the header first, then `len` payload bytes. */
export class XsInBuffer {
  readonly hdr = new Uint8Array(XSD_SOCKMSG_SIZE);
  inHdr = true;
  used = 0;
  payload: Uint8Array = new Uint8Array(0);
}

export class XsConnection {
  readonly watches: XsWatch[] = [];
  /** Open transactions by id, oldest first. */
  readonly transactions = new Map<number, XsTransaction>();
  /** next_transaction_id (u32); id 0 means "no transaction" and is never handed out. */
  nextTransactionId = 0;
  /** The transaction of the request being processed (conn->transaction). */
  transaction: XsTransaction | undefined;
  /** The request being answered: its req_id and tx_id are echoed; cleared once answered (conn->in). */
  current: XsMsg | undefined;
  readonly out: XsOut[] = [];
  /** Replies queued but not yet written out (the "outstanding" quota). */
  outstanding = 0;
  readonly input = new XsInBuffer();
  /** ignore_connection: no more reading or writing. */
  ignored = false;
  /** XS_SET_TARGET: a device model's connection acts for its target domain. */
  target: XsConnection | undefined;

  constructor(
    /** The domid permissions are checked against (conn->id). */
    readonly id: number,
    /** Where relative paths point: /local/domain/<domid>. */
    readonly implicitPath: string,
    readonly kind: 'ring' | 'socket',
  ) {}

  /** conn_free_buffered_data and the per-connection cleanups of ignore_connection / domain_conn_reset. */
  reset(): void {
    this.watches.length = 0;
    this.transactions.clear();
    this.transaction = undefined;
    this.out.length = 0;
    this.outstanding = 0;
    this.input.inHdr = true;
    this.input.used = 0;
    this.current = undefined;
  }
}
