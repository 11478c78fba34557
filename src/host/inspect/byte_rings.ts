/**
 * The modern byte-ring pages a PV domU gets from the toolstack: the console
 * ring (io/console.h, struct xencons_interface) and the xenstore ring
 * (io/xs_wire.h, struct xenstore_domain_interface), with the bytes between
 * each consumer and producer shown as text or decoded xsd_sockmsg messages.
 */
import type { PageView, RingView } from '../../contract/inspect.js';
import {
  XENCONS_CONNECTION,
  XENCONS_IN,
  XENCONS_IN_CONS,
  XENCONS_IN_PROD,
  XENCONS_IN_SIZE,
  XENCONS_INTERFACE_LAYOUT,
  XENCONS_INTERFACE_SIZE,
  XENCONS_OUT,
  XENCONS_OUT_CONS,
  XENCONS_OUT_PROD,
  XENCONS_OUT_SIZE,
} from '../../core/abi/console_ring.js';
import type { LayoutField } from '../../core/abi/layout.js';
import {
  XENSTORE_DOMAIN_INTERFACE_LAYOUT,
  XENSTORE_DOMAIN_INTERFACE_SIZE,
  XENSTORE_ERROR_NAMES,
  XENSTORE_RING_SIZE,
  XS_RING_CONNECTION,
  XS_RING_ERROR,
  XS_RING_REQ,
  XS_RING_REQ_CONS,
  XS_RING_REQ_PROD,
  XS_RING_RSP,
  XS_RING_RSP_CONS,
  XS_RING_RSP_PROD,
  XS_RING_SERVER_FEATURES,
  XSD_SOCKMSG_SIZE,
  readSockmsg,
  xsTypeName,
} from '../../core/abi/xs_wire.js';
import { flagNames, quoteBytes, readU32 } from './format.js';
import { annotate, pageView } from './page.js';

/** The bytes [cons, prod) of a ring of `size` bytes at `base` (at most `size` of them: a larger gap is an index error). */
export function bytesInFlight(page: Uint8Array, base: number, size: number, cons: number, prod: number): Uint8Array {
  const n = Math.min((prod - cons) >>> 0, size);
  const out = new Uint8Array(n);
  for (let k = 0; k < n; k++) out[k] = page[base + ((cons + k) & (size - 1))]!;
  return out;
}

function inFlightText(page: Uint8Array, base: number, size: number, cons: number, prod: number): string {
  const gap = (prod - cons) >>> 0;
  if (gap > size) return `index error: prod − cons = ${gap}, more than the ${size}-byte ring holds`;
  if (gap === 0) return 'empty';
  return `${gap} byte${gap > 1 ? 's' : ''} in flight: ${quoteBytes(bytesInFlight(page, base, size, cons, prod))}`;
}

const XS_FEATURES: readonly (readonly [number, string])[] = [
  [1, 'XENSTORE_SERVER_FEATURE_RECONNECTION'],
  [2, 'XENSTORE_SERVER_FEATURE_ERROR'],
  [4, 'XENSTORE_SERVER_FEATURE_WATCHDEPTH'],
  [8, 'XENSTORE_SERVER_FEATURE_DOMID_ANY'],
];

// ---- the console ring ----

function formatConsole(page: Uint8Array, f: LayoutField): string | undefined {
  switch (f.field) {
    case 'in':
      return inFlightText(page, XENCONS_IN, XENCONS_IN_SIZE, readU32(page, XENCONS_IN_CONS), readU32(page, XENCONS_IN_PROD));
    case 'out':
      return inFlightText(page, XENCONS_OUT, XENCONS_OUT_SIZE, readU32(page, XENCONS_OUT_CONS), readU32(page, XENCONS_OUT_PROD));
    case 'connection': {
      const c = page[XENCONS_CONNECTION]!;
      return c === 0 ? '0 (XENCONSOLE_CONNECTED)' : c === 1 ? '1 (XENCONSOLE_DISCONNECTED)' : String(c);
    }
    default:
      return undefined;
  }
}

export function consoleRingPage(page: Uint8Array, mfn: number, gfn: number): PageView {
  return pageView({ name: 'console ring (xencons_interface)', page, base: 0, length: XENCONS_INTERFACE_SIZE, fields: annotate(page, XENCONS_INTERFACE_LAYOUT, formatConsole), mfn, gfn });
}

function byteRing(name: string, page: Uint8Array, base: number, size: number, consAt: number, prodAt: number, consName: string, prodName: string): RingView {
  const cons = readU32(page, consAt);
  const prod = readU32(page, prodAt);
  const slots = cons === prod ? [] : [{ index: cons, summary: inFlightText(page, base, size, cons, prod) }];
  return { name, shape: 'bytes', size, indexes: [{ name: consName, value: cons }, { name: prodName, value: prod }], slots };
}

export function consoleRings(page: Uint8Array): RingView[] {
  return [
    byteRing('console ring out[] (guest → xenconsoled)', page, XENCONS_OUT, XENCONS_OUT_SIZE, XENCONS_OUT_CONS, XENCONS_OUT_PROD, 'out_cons', 'out_prod'),
    byteRing('console ring in[] (xenconsoled → guest)', page, XENCONS_IN, XENCONS_IN_SIZE, XENCONS_IN_CONS, XENCONS_IN_PROD, 'in_cons', 'in_prod'),
  ];
}

// ---- the xenstore ring ----

/** Each xsd_sockmsg between cons and prod: type name, ids, length, the start of its payload. */
function xsMessages(page: Uint8Array, base: number, cons: number, prod: number): { index: number; summary: string }[] {
  const gap = (prod - cons) >>> 0;
  if (gap === 0) return [];
  if (gap > XENSTORE_RING_SIZE) return [{ index: cons, summary: `index error: prod − cons = ${gap}, more than the ${XENSTORE_RING_SIZE}-byte ring holds` }];
  const bytes = bytesInFlight(page, base, XENSTORE_RING_SIZE, cons, prod);
  const out: { index: number; summary: string }[] = [];
  let at = 0;
  while (at < bytes.length) {
    const index = (cons + at) >>> 0;
    if (bytes.length - at < XSD_SOCKMSG_SIZE) {
      out.push({ index, summary: `part of a header: ${bytes.length - at} of ${XSD_SOCKMSG_SIZE} bytes` });
      break;
    }
    const h = readSockmsg(bytes, at);
    const have = Math.min(h.len, bytes.length - at - XSD_SOCKMSG_SIZE);
    const payload = bytes.subarray(at + XSD_SOCKMSG_SIZE, at + XSD_SOCKMSG_SIZE + Math.min(have, 64));
    const partial = have < h.len ? ` (${have} of ${h.len} payload bytes here so far)` : '';
    out.push({ index, summary: `${xsTypeName(h.type)} req_id ${h.reqId} tx_id ${h.txId} len ${h.len} ${quoteBytes(payload)}${h.len > 64 && have >= 64 ? '…' : ''}${partial}` });
    at += XSD_SOCKMSG_SIZE + h.len;
  }
  return out;
}

function formatXenstore(page: Uint8Array, f: LayoutField): string | undefined {
  switch (f.field) {
    case 'req':
    case 'rsp': {
      const [cons, prod] = f.field === 'req' ? [readU32(page, XS_RING_REQ_CONS), readU32(page, XS_RING_REQ_PROD)] : [readU32(page, XS_RING_RSP_CONS), readU32(page, XS_RING_RSP_PROD)];
      const msgs = xsMessages(page, f.offset, cons, prod);
      return msgs.length === 0 ? 'empty' : `${(prod - cons) >>> 0} bytes in flight: ${msgs.map((m) => m.summary).join('; ')}`;
    }
    case 'server_features':
      return flagNames(readU32(page, XS_RING_SERVER_FEATURES), XS_FEATURES);
    case 'connection': {
      const c = readU32(page, XS_RING_CONNECTION);
      return c === 0 ? '0 (XENSTORE_CONNECTED)' : c === 1 ? '1 (XENSTORE_RECONNECT)' : String(c);
    }
    case 'error': {
      const e = readU32(page, XS_RING_ERROR);
      return XENSTORE_ERROR_NAMES[e] !== undefined ? `${e} (${XENSTORE_ERROR_NAMES[e]})` : String(e);
    }
    default:
      return undefined;
  }
}

export function xenstoreRingPage(page: Uint8Array, mfn: number, gfn: number): PageView {
  return pageView({ name: 'xenstore ring (xenstore_domain_interface)', page, base: 0, length: XENSTORE_DOMAIN_INTERFACE_SIZE, fields: annotate(page, XENSTORE_DOMAIN_INTERFACE_LAYOUT, formatXenstore), mfn, gfn });
}

export function xenstoreRings(page: Uint8Array): RingView[] {
  const reqCons = readU32(page, XS_RING_REQ_CONS);
  const reqProd = readU32(page, XS_RING_REQ_PROD);
  const rspCons = readU32(page, XS_RING_RSP_CONS);
  const rspProd = readU32(page, XS_RING_RSP_PROD);
  return [
    {
      name: 'xenstore ring req[] (guest → xenstored)',
      shape: 'bytes',
      size: XENSTORE_RING_SIZE,
      indexes: [
        { name: 'req_cons', value: reqCons },
        { name: 'req_prod', value: reqProd },
      ],
      slots: xsMessages(page, XS_RING_REQ, reqCons, reqProd),
    },
    {
      name: 'xenstore ring rsp[] (xenstored → guest)',
      shape: 'bytes',
      size: XENSTORE_RING_SIZE,
      indexes: [
        { name: 'rsp_cons', value: rspCons },
        { name: 'rsp_prod', value: rspProd },
      ],
      slots: xsMessages(page, XS_RING_RSP, rspCons, rspProd),
    },
  ];
}
