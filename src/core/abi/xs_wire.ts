/**
 * The xenstore wire protocol, as xen/include/public/io/xs_wire.h: the
 * message types, the 16-byte xsd_sockmsg header, errors carried as errno
 * names, and struct xenstore_domain_interface, the ring page a domain shares
 * with xenstored (two 1 KiB byte rings and their free-running u32 indexes).
 * The permission bits are from tools/include/xenstore_lib.h, which the
 * daemon and every client share.
 */
import { E2BIG, EACCES, EAGAIN, EBUSY, EEXIST, EINVAL, ENOENT, ENOMEM, ENOSPC, ENOSYS, EPERM } from './errno.js';
import type { LayoutField } from './layout.js';

// ---------------------------------------------------------------------------
// enum xsd_sockmsg_type

export const XS_CONTROL = 0;
/** The old name of XS_CONTROL. */
export const XS_DEBUG = XS_CONTROL;
export const XS_DIRECTORY = 1;
export const XS_READ = 2;
export const XS_GET_PERMS = 3;
export const XS_WATCH = 4;
export const XS_UNWATCH = 5;
export const XS_TRANSACTION_START = 6;
export const XS_TRANSACTION_END = 7;
export const XS_INTRODUCE = 8;
export const XS_RELEASE = 9;
export const XS_GET_DOMAIN_PATH = 10;
export const XS_WRITE = 11;
export const XS_MKDIR = 12;
export const XS_RM = 13;
export const XS_SET_PERMS = 14;
export const XS_WATCH_EVENT = 15;
export const XS_ERROR = 16;
export const XS_IS_DOMAIN_INTRODUCED = 17;
export const XS_RESUME = 18;
export const XS_SET_TARGET = 19;
/** 20 was XS_RESTRICT, since removed: the number stays unused. */
export const XS_RESET_WATCHES = XS_SET_TARGET + 2;
export const XS_DIRECTORY_PART = 22;
export const XS_GET_FEATURE = 23;
export const XS_SET_FEATURE = 24;
export const XS_GET_QUOTA = 25;
export const XS_SET_QUOTA = 26;
/** Number of valid types (one past the last). */
export const XS_TYPE_COUNT = 27;
/** A type the header promises will never be valid. */
export const XS_INVALID = 0xffff;

/** The names xenstored's wire_funcs table gives each type (its trace prints them without the XS_ prefix). */
const TYPE_NAMES: readonly (string | undefined)[] = [
  'CONTROL',
  'DIRECTORY',
  'READ',
  'GET_PERMS',
  'WATCH',
  'UNWATCH',
  'TRANSACTION_START',
  'TRANSACTION_END',
  'INTRODUCE',
  'RELEASE',
  'GET_DOMAIN_PATH',
  'WRITE',
  'MKDIR',
  'RM',
  'SET_PERMS',
  'WATCH_EVENT',
  'ERROR',
  'IS_DOMAIN_INTRODUCED',
  'RESUME',
  'SET_TARGET',
  undefined,
  'RESET_WATCHES',
  'DIRECTORY_PART',
  'GET_FEATURE',
  'SET_FEATURE',
  'GET_QUOTA',
  'SET_QUOTA',
];

/** "XS_READ", or "type 20" for a number with no type. */
export function xsTypeName(type: number): string {
  const n = TYPE_NAMES[type];
  return n === undefined ? `type ${type}` : `XS_${n}`;
}

/** The type number of "XS_READ" (or "READ"), or undefined. */
export function xsTypeByName(name: string): number | undefined {
  const bare = name.startsWith('XS_') ? name.slice(3) : name;
  if (bare === 'DEBUG') return XS_DEBUG;
  const i = TYPE_NAMES.indexOf(bare);
  return i < 0 ? undefined : i;
}

/** enum xs_watch_type: the order of the two strings in a WATCH_EVENT payload. */
export const XS_WATCH_PATH = 0;
export const XS_WATCH_TOKEN = 1;

// ---------------------------------------------------------------------------
// Errors travel as the errno's name ("ENOENT\0"), so both ends may number them differently.

// The errno values below and in errno.ts are Xen's (xen/include/public/errno.h); only the names go on the wire.
export const EIO = 5;
export const EISDIR = 21;
export const EROFS = 30;
export const ENOTEMPTY = 39;
export const EISCONN = 106;

/**
 * xsd_errors[], in the header's order (new ones are only ever appended).
 * xenstored sends the first entry, EINVAL, for an errno missing from the table.
 */
export const XSD_ERRORS: readonly { readonly errnum: number; readonly name: string }[] = [
  { errnum: EINVAL, name: 'EINVAL' },
  { errnum: EACCES, name: 'EACCES' },
  { errnum: EEXIST, name: 'EEXIST' },
  { errnum: EISDIR, name: 'EISDIR' },
  { errnum: ENOENT, name: 'ENOENT' },
  { errnum: ENOMEM, name: 'ENOMEM' },
  { errnum: ENOSPC, name: 'ENOSPC' },
  { errnum: EIO, name: 'EIO' },
  { errnum: ENOTEMPTY, name: 'ENOTEMPTY' },
  { errnum: ENOSYS, name: 'ENOSYS' },
  { errnum: EROFS, name: 'EROFS' },
  { errnum: EBUSY, name: 'EBUSY' },
  { errnum: EAGAIN, name: 'EAGAIN' },
  { errnum: EISCONN, name: 'EISCONN' },
  { errnum: E2BIG, name: 'E2BIG' },
  { errnum: EPERM, name: 'EPERM' },
];

/** The string an XS_ERROR reply carries for `errnum` (send_error: EINVAL when untranslatable). */
export function xsdErrorName(errnum: number): string {
  for (const e of XSD_ERRORS) if (e.errnum === errnum) return e.name;
  return 'EINVAL';
}

/** The errno value of an XS_ERROR string, or undefined for a name not in the table. */
export function xsdErrorValue(name: string): number | undefined {
  return XSD_ERRORS.find((e) => e.name === name)?.errnum;
}

// ---------------------------------------------------------------------------
// struct xsd_sockmsg (16 bytes, then `len` payload bytes, usually NUL-terminated strings)

export const XSD_SOCKMSG_TYPE = 0;
export const XSD_SOCKMSG_REQ_ID = 4;
export const XSD_SOCKMSG_TX_ID = 8;
export const XSD_SOCKMSG_LEN = 12;
export const XSD_SOCKMSG_SIZE = 16;

export const XSD_SOCKMSG_LAYOUT: readonly LayoutField[] = [
  { field: 'type', offset: XSD_SOCKMSG_TYPE, size: 4, description: 'XS_* message type; XS_ERROR or XS_WATCH_EVENT in replies' },
  { field: 'req_id', offset: XSD_SOCKMSG_REQ_ID, size: 4, description: "requester's identifier, echoed in the reply (0 in watch events)" },
  { field: 'tx_id', offset: XSD_SOCKMSG_TX_ID, size: 4, description: 'transaction id (0: not in a transaction), echoed in the reply' },
  { field: 'len', offset: XSD_SOCKMSG_LEN, size: 4, description: 'payload bytes after this header (at most XENSTORE_PAYLOAD_MAX)' },
];

/** A header as numbers. */
export interface XsdSockmsg {
  type: number;
  reqId: number;
  txId: number;
  len: number;
}

function getU32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

function putU32(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = (v >>> 8) & 0xff;
  b[at + 2] = (v >>> 16) & 0xff;
  b[at + 3] = (v >>> 24) & 0xff;
}

/** Reads the four little-endian u32 fields at `off`. */
export function readSockmsg(bytes: Uint8Array, off = 0): XsdSockmsg {
  return {
    type: getU32(bytes, off + XSD_SOCKMSG_TYPE),
    reqId: getU32(bytes, off + XSD_SOCKMSG_REQ_ID),
    txId: getU32(bytes, off + XSD_SOCKMSG_TX_ID),
    len: getU32(bytes, off + XSD_SOCKMSG_LEN),
  };
}

/** Writes the header at `off`. */
export function writeSockmsg(bytes: Uint8Array, h: XsdSockmsg, off = 0): void {
  putU32(bytes, off + XSD_SOCKMSG_TYPE, h.type);
  putU32(bytes, off + XSD_SOCKMSG_REQ_ID, h.reqId);
  putU32(bytes, off + XSD_SOCKMSG_TX_ID, h.txId);
  putU32(bytes, off + XSD_SOCKMSG_LEN, h.len);
}

/** Header and payload in one buffer, as they go onto a ring or a socket. */
export function encodeSockmsg(type: number, reqId: number, txId: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(XSD_SOCKMSG_SIZE + payload.length);
  putU32(out, XSD_SOCKMSG_TYPE, type);
  putU32(out, XSD_SOCKMSG_REQ_ID, reqId);
  putU32(out, XSD_SOCKMSG_TX_ID, txId);
  putU32(out, XSD_SOCKMSG_LEN, payload.length);
  out.set(payload, XSD_SOCKMSG_SIZE);
  return out;
}

// ---------------------------------------------------------------------------
// Limits

/** "Violating this is very bad": xenstored drops a connection that announces more. */
export const XENSTORE_PAYLOAD_MAX = 4096;
/** Declared by the header; today's xenstored only enforces its path-max quota (see xs_quota). */
export const XENSTORE_ABS_PATH_MAX = 3072;
export const XENSTORE_REL_PATH_MAX = 2048;

// ---------------------------------------------------------------------------
// struct xenstore_domain_interface (2080 bytes at the start of the ring page)

export const XENSTORE_RING_SIZE = 1024;

/** MASK_XENSTORE_IDX: the byte of a ring that a free-running index points at. */
export function maskXenstoreIdx(idx: number): number {
  return idx & (XENSTORE_RING_SIZE - 1);
}

export const XS_RING_REQ = 0;
export const XS_RING_RSP = 1024;
export const XS_RING_REQ_CONS = 2048;
export const XS_RING_REQ_PROD = 2052;
export const XS_RING_RSP_CONS = 2056;
export const XS_RING_RSP_PROD = 2060;
export const XS_RING_SERVER_FEATURES = 2064;
export const XS_RING_CONNECTION = 2068;
export const XS_RING_ERROR = 2072;
export const XS_RING_EVTCHN_PORT = 2076;
export const XENSTORE_DOMAIN_INTERFACE_SIZE = 2080;

export const XENSTORE_SERVER_FEATURE_RECONNECTION = 1;
export const XENSTORE_SERVER_FEATURE_ERROR = 2;
export const XENSTORE_SERVER_FEATURE_WATCHDEPTH = 4;
export const XENSTORE_SERVER_FEATURE_DOMID_ANY = 8;

export const XENSTORE_CONNECTED = 0;
export const XENSTORE_RECONNECT = 1;

export const XENSTORE_ERROR_NONE = 0;
export const XENSTORE_ERROR_COMM = 1;
export const XENSTORE_ERROR_RINGIDX = 2;
export const XENSTORE_ERROR_PROTO = 3;

export const XENSTORE_ERROR_NAMES: readonly string[] = ['XENSTORE_ERROR_NONE', 'XENSTORE_ERROR_COMM', 'XENSTORE_ERROR_RINGIDX', 'XENSTORE_ERROR_PROTO'];

export const XENSTORE_DOMAIN_INTERFACE_LAYOUT: readonly LayoutField[] = [
  { field: 'req', offset: XS_RING_REQ, size: XENSTORE_RING_SIZE, description: 'requests to xenstored, a byte ring' },
  { field: 'rsp', offset: XS_RING_RSP, size: XENSTORE_RING_SIZE, description: 'replies and watch events from xenstored, a byte ring' },
  { field: 'req_cons', offset: XS_RING_REQ_CONS, size: 4, description: 'request bytes xenstored has taken (written by xenstored)' },
  { field: 'req_prod', offset: XS_RING_REQ_PROD, size: 4, description: 'request bytes the guest has put (written by the guest)' },
  { field: 'rsp_cons', offset: XS_RING_RSP_CONS, size: 4, description: 'reply bytes the guest has taken (written by the guest)' },
  { field: 'rsp_prod', offset: XS_RING_RSP_PROD, size: 4, description: 'reply bytes xenstored has put (written by xenstored)' },
  { field: 'server_features', offset: XS_RING_SERVER_FEATURES, size: 4, description: 'XENSTORE_SERVER_FEATURE_* bits xenstored supports' },
  { field: 'connection', offset: XS_RING_CONNECTION, size: 4, description: 'XENSTORE_CONNECTED (0) or XENSTORE_RECONNECT (1)' },
  { field: 'error', offset: XS_RING_ERROR, size: 4, description: 'why xenstored stopped serving the ring: XENSTORE_ERROR_*' },
  { field: 'evtchn_port', offset: XS_RING_EVTCHN_PORT, size: 4, description: 'port Xen filled in for dom0less domains; 0: use the one from XS_INTRODUCE' },
];

/**
 * The u32 fields of a xenstore ring page, read and written in place. Like
 * ring.h users, this assumes a little-endian host (x86 guests, and every
 * machine XenLab runs on); the page must start 4-byte aligned, as pages do.
 */
export class XsRingIndexes {
  private readonly u32: Uint32Array;
  constructor(readonly page: Uint8Array) {
    this.u32 = new Uint32Array(page.buffer, page.byteOffset + XS_RING_REQ_CONS, (XENSTORE_DOMAIN_INTERFACE_SIZE - XS_RING_REQ_CONS) >> 2);
  }
  get reqCons(): number {
    return this.u32[0]!;
  }
  set reqCons(v: number) {
    this.u32[0] = v;
  }
  get reqProd(): number {
    return this.u32[1]!;
  }
  set reqProd(v: number) {
    this.u32[1] = v;
  }
  get rspCons(): number {
    return this.u32[2]!;
  }
  set rspCons(v: number) {
    this.u32[2] = v;
  }
  get rspProd(): number {
    return this.u32[3]!;
  }
  set rspProd(v: number) {
    this.u32[3] = v;
  }
  get serverFeatures(): number {
    return this.u32[4]!;
  }
  set serverFeatures(v: number) {
    this.u32[4] = v;
  }
  get connection(): number {
    return this.u32[5]!;
  }
  set connection(v: number) {
    this.u32[5] = v;
  }
  get error(): number {
    return this.u32[6]!;
  }
  set error(v: number) {
    this.u32[6] = v;
  }
  get evtchnPort(): number {
    return this.u32[7]!;
  }
  set evtchnPort(v: number) {
    this.u32[7] = v;
  }
}

// ---------------------------------------------------------------------------
// Node permissions (struct xs_permissions in tools/include/xenstore_lib.h)

export const XS_PERM_NONE = 0x00;
export const XS_PERM_READ = 0x01;
export const XS_PERM_WRITE = 0x02;
/** Internal to xenstored: "a missing node is fine". */
export const XS_PERM_ENOENT_OK = 0x04;
/** Internal to xenstored: the connection owns the node. */
export const XS_PERM_OWNER = 0x08;
/** Internal to xenstored: an entry naming a domain that does not exist, kept but never matched. */
export const XS_PERM_IGNORE = 0x10;

// ---------------------------------------------------------------------------
// Payload strings. xenstored treats them as bytes; one byte is one char code here, so any payload round-trips.

/** A string's bytes, one per char code (callers keep to 8-bit text; paths are ASCII by rule). */
export function latin1(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

/** Bytes as a string, one char per byte. */
export function fromLatin1(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let s = '';
  // Paths and values are mostly short: a plain loop beats making a view for apply.
  if (end - start <= 64) {
    for (let i = start; i < end; i++) s += String.fromCharCode(bytes[i]!);
    return s;
  }
  // apply takes the typed array as an argument list: far quicker than spreading it.
  for (let i = start; i < end; i += 4096) s += String.fromCharCode.apply(null, bytes.subarray(i, Math.min(end, i + 4096)) as unknown as number[]);
  return s;
}

/** Strings each followed by a NUL, the usual payload shape ("a\0b\0"). */
export function nulStrings(...parts: string[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length + 1;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    for (let i = 0; i < p.length; i++) out[at++] = p.charCodeAt(i) & 0xff;
    out[at++] = 0;
  }
  return out;
}

/** The NUL-terminated strings of a payload, in order; bytes after the last NUL are not a string and are left out (get_strings). */
export function splitNulStrings(payload: Uint8Array): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < payload.length; i++) {
    if (payload[i] === 0) {
      out.push(fromLatin1(payload, start, i));
      start = i + 1;
    }
  }
  return out;
}
