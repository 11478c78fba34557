/**
 * Split-driver shared rings (io/ring.h): the 64-byte sring header (req_prod,
 * req_event, rsp_prod, rsp_event) of every ring page a domain shares that
 * the inspector can find:
 *
 *  - the rings of a Mini-OS guest's blkfront and netfront (their pages and
 *    private indexes are the driver's), decoded as blkif / netif slots;
 *  - ring pages a backend maps from them (the same bytes, found by page);
 *  - any other granted page that is mapped by its grantee and carries an
 *    sring header as SHARED_RING_INIT and the ring macros leave it (a
 *    scenario's ring_init): header only, since the page alone does not
 *    say how big a slot is.
 */
import type { FieldAnnotation, PageView, RingView } from '../../contract/inspect.js';
import { BLKIF_OP_NAMES, blkifStatusName, decodeRequest, decodeResponse } from '../../core/abi/blkif.js';
import { GRANT_ENTRIES_PER_FRAME, GRANT_ENTRY_FLAGS, GRANT_ENTRY_V1_SIZE, GTF_reading, GTF_writing } from '../../core/abi/grant.js';
import { SRING_HEADER_SIZE, SRING_LAYOUT, SRING_REQ_EVENT, SRING_REQ_PROD, SRING_RSP_EVENT, SRING_RSP_PROD } from '../../core/abi/layout.js';
import { NETIF_RSP_NAMES, readRxRequest, readRxResponse, readTxRequest, readTxResponse } from '../../core/abi/netif.js';
import { MiniOsKernel } from '../../core/guest/minios.js';
import type { FrontRing } from '../../core/guest/ring.js';
import type { Domain } from '../../core/hv/domain.js';
import type { Hypervisor } from '../../core/hv/hypervisor.js';
import { readU16, readU32 } from './format.js';
import { annotate, pageView } from './page.js';

type SringKind = 'blkif' | 'netif-tx' | 'netif-rx' | 'unknown';

/** A ring page found for a domain. */
export interface FoundSring {
  name: string;
  kind: SringKind;
  page: Uint8Array;
  /** The page's gfn in the domain inspected (undefined for a page it maps from another), and its machine frame. */
  gfn: number | undefined;
  mfn: number | undefined;
  /** The frontend's ring, when the simulation holds it: its size and private indexes. */
  front: FrontRing | undefined;
}

/** The rings a Mini-OS guest's frontends own. */
function frontendRings(d: Domain): FoundSring[] {
  const k = d.kernel;
  if (!(k instanceof MiniOsKernel)) return [];
  const out: FoundSring[] = [];
  const gfnOfRef = (ref: number): number | undefined => (ref >= 0 && ref < d.grants.nrEntries ? d.grants.entry(ref).frame : undefined);
  const ring = (name: string, kind: SringKind, front: FrontRing, gfn: number | undefined): FoundSring => ({ name, kind, page: front.sring.page, gfn, mfn: gfn === undefined ? undefined : d.memory.mfn(gfn), front });
  for (const disk of k.disks) if (disk.ring !== undefined) out.push(ring(`blkif ring (vbd ${disk.devid})`, 'blkif', disk.ring, disk.ringGfn >= 0 ? disk.ringGfn : undefined));
  for (const nic of k.nics) {
    if (nic.txRing !== undefined) out.push(ring(`netif tx ring (vif ${nic.devid})`, 'netif-tx', nic.txRing, gfnOfRef(nic.txRingRef)));
    if (nic.rxRing !== undefined) out.push(ring(`netif rx ring (vif ${nic.devid})`, 'netif-rx', nic.rxRing, gfnOfRef(nic.rxRingRef)));
  }
  return out;
}

/**
 * Whether a page's first 64 bytes read as an sring header: SHARED_RING_INIT
 * zeroed the padding and set both event indexes to 1; afterwards an event
 * index is at most one past its producer (RING_FINAL_CHECK_FOR_*), and no
 * more requests are outstanding than a page of slots can hold.
 */
export function looksLikeSring(page: Uint8Array): boolean {
  for (let i = 20; i < SRING_HEADER_SIZE; i++) if (page[i] !== 0) return false;
  const reqProd = readU32(page, SRING_REQ_PROD);
  const reqEvent = readU32(page, SRING_REQ_EVENT);
  const rspProd = readU32(page, SRING_RSP_PROD);
  const rspEvent = readU32(page, SRING_RSP_EVENT);
  if (reqEvent === 0 || rspEvent === 0) return false;
  const notAhead = (prod: number, event: number): boolean => ((prod + 1 - event) >>> 0) < 0x80000000;
  return notAhead(reqProd, reqEvent) && notAhead(rspProd, rspEvent) && ((reqProd - rspProd) >>> 0) <= page.byteLength - SRING_HEADER_SIZE;
}

/** The page of a grant `ref` of `granter` that some domain has mapped, from that domain's maptrack. */
function mappedPage(hv: Hypervisor, granter: number, ref: number): Uint8Array | undefined {
  for (const m of hv.domains) {
    for (const e of m.grants.maptrack) if (e !== undefined && e.granter === granter && e.ref === ref) return e.page;
  }
  return undefined;
}

/** Every ring page of `d`: its own (as a frontend) and those it maps (as a backend). */
export function findSrings(hv: Hypervisor, d: Domain): FoundSring[] {
  const known = new Map<Uint8Array, FoundSring>();
  for (const x of hv.domains) for (const r of frontendRings(x)) known.set(r.page, r);
  const out: FoundSring[] = [];
  const seen = new Set<Uint8Array>();
  const add = (r: FoundSring): void => {
    if (seen.has(r.page)) return;
    seen.add(r.page);
    out.push(r);
  };
  for (const r of frontendRings(d)) add(r);
  // Granted pages the grantee has mapped (GTF_reading set by Xen's map).
  const frames = d.grants.frames;
  for (let k = 0; k < frames.length; k++) {
    for (let e = 0; e < GRANT_ENTRIES_PER_FRAME; e++) {
      if ((readU16(frames[k]!, e * GRANT_ENTRY_V1_SIZE + GRANT_ENTRY_FLAGS) & (GTF_reading | GTF_writing)) === 0) continue;
      const ref = k * GRANT_ENTRIES_PER_FRAME + e;
      const ent = d.grants.entry(ref);
      const page = mappedPage(hv, d.domid, ref);
      if (page === undefined || known.has(page) || !looksLikeSring(page)) continue;
      add({ name: `sring (grant ref ${ref} to dom${ent.domid})`, kind: 'unknown', page, gfn: ent.frame, mfn: d.memory.mfn(ent.frame), front: undefined });
    }
  }
  // Pages this domain maps from others: a backend's view of the same rings.
  for (const m of d.grants.maptrack) {
    if (m === undefined) continue;
    const k = known.get(m.page);
    if (k !== undefined) add({ ...k, name: `${k.name}, mapped from dom${m.granter} ref ${m.ref}`, gfn: undefined });
    else if (looksLikeSring(m.page)) {
      const granter = hv.domain(m.granter);
      const mfn = granter === undefined ? undefined : granter.memory.mfn(granter.grants.entry(m.ref).frame);
      add({ name: `sring mapped from dom${m.granter} ref ${m.ref}`, kind: 'unknown', page: m.page, gfn: undefined, mfn, front: undefined });
    }
  }
  return out;
}

function blkifRequest(slot: Uint8Array): string {
  const r = decodeRequest(slot);
  const op = BLKIF_OP_NAMES[r.operation] ?? `operation ${r.operation}`;
  const segs = r.seg.map((s) => `gref ${s.gref} sectors ${s.firstSect}–${s.lastSect}`).join(', ');
  return `request ${op} id ${r.id} handle ${r.handle} sector ${r.sectorNumber} nr_segments ${r.nrSegments}${segs === '' ? '' : ` (${segs})`}`;
}

function blkifResponse(slot: Uint8Array): string {
  const r = decodeResponse(slot);
  return `response id ${r.id} ${BLKIF_OP_NAMES[r.operation] ?? `operation ${r.operation}`} ${blkifStatusName(r.status)}`;
}

function netifStatus(status: number): string {
  return NETIF_RSP_NAMES[status] ?? String(status);
}

/** A request slot and a response slot, decoded by the ring's protocol. */
function decoder(kind: SringKind): { req: (s: Uint8Array) => string; rsp: (s: Uint8Array) => string } | undefined {
  switch (kind) {
    case 'blkif':
      return { req: blkifRequest, rsp: blkifResponse };
    case 'netif-tx':
      return {
        req: (s) => {
          const r = readTxRequest(s);
          return `request id ${r.id} gref ${r.gref} offset ${r.offset} flags ${r.flags} size ${r.size}`;
        },
        rsp: (s) => {
          const r = readTxResponse(s);
          return `response id ${r.id} status ${netifStatus(r.status)}`;
        },
      };
    case 'netif-rx':
      return {
        req: (s) => {
          const r = readRxRequest(s);
          return `request id ${r.id} gref ${r.gref}`;
        },
        rsp: (s) => {
          const r = readRxResponse(s);
          return `response id ${r.id} offset ${r.offset} flags ${r.flags} status ${r.status < 0 ? netifStatus(r.status) : `${r.status} bytes`}`;
        },
      };
    default:
      return undefined;
  }
}

export function sringView(r: FoundSring): RingView {
  const p = r.page;
  const reqProd = readU32(p, SRING_REQ_PROD);
  const rspProd = readU32(p, SRING_RSP_PROD);
  const indexes = [
    { name: 'req_prod', value: reqProd },
    { name: 'req_event', value: readU32(p, SRING_REQ_EVENT) },
    { name: 'rsp_prod', value: rspProd },
    { name: 'rsp_event', value: readU32(p, SRING_RSP_EVENT) },
  ];
  const slots: { index: number; summary: string }[] = [];
  const front = r.front;
  const dec = decoder(r.kind);
  if (front !== undefined) {
    indexes.push({ name: 'req_prod_pvt (frontend)', value: front.reqProdPvt }, { name: 'rsp_cons (frontend)', value: front.rspCons });
    if (dec !== undefined) {
      const size = front.size;
      // Responses the frontend has not taken yet, then requests without a response.
      for (let i = front.rspCons; i !== rspProd && slots.length < size; i = (i + 1) >>> 0) slots.push({ index: i, summary: `slot ${i & (size - 1)}: ${dec.rsp(front.slot(i))}` });
      for (let i = rspProd; i !== reqProd && ((i - rspProd) >>> 0) < size; i = (i + 1) >>> 0) slots.push({ index: i, summary: `slot ${i & (size - 1)}: ${dec.req(front.slot(i))}` });
    }
  }
  return { name: r.name, shape: 'sring', size: front?.size ?? 0, indexes, slots };
}

export function sringPage(r: FoundSring): PageView {
  const fields: FieldAnnotation[] = annotate(r.page, SRING_LAYOUT, (page, f) => {
    if (f.field === 'ring[]') return r.front === undefined ? 'slots (size unknown)' : `${r.front.size} slots of ${r.front.entryBytes} bytes`;
    return undefined;
  });
  return pageView({ name: r.name, page: r.page, base: 0, length: r.page.byteLength, fields, ...(r.gfn === undefined ? {} : { gfn: r.gfn }), ...(r.mfn === undefined ? {} : { mfn: r.mfn }) });
}
