/**
 * Split-driver shared rings, as xen/include/public/io/ring.h: a 64-byte
 * header (req_prod, req_event, rsp_prod, rsp_event) then a power-of-two
 * number of slots; each end keeps private indexes. Indexes are free-running
 * 32-bit counters; a slot is idx & (size - 1).
 */
import { PAGE_SIZE, SRING_HEADER_SIZE, SRING_REQ_EVENT, SRING_REQ_PROD, SRING_RSP_EVENT, SRING_RSP_PROD } from '../abi/layout.js';
import { RING_OPS, TK, type RingOpName, type Trace } from '../sim/trace.js';

/** __RING_SIZE: slots that fit after the header, rounded down to a power of two. */
export function ringSize(entryBytes: number, pageBytes = PAGE_SIZE): number {
  const fit = Math.floor((pageBytes - SRING_HEADER_SIZE) / entryBytes);
  if (fit < 1) return 0;
  return 2 ** Math.floor(Math.log2(fit));
}

/** The shared header, read and written in place on the page. */
export class SharedRing {
  private readonly u32: Uint32Array;
  constructor(readonly page: Uint8Array) {
    this.u32 = new Uint32Array(page.buffer, page.byteOffset, SRING_HEADER_SIZE >> 2);
  }
  get reqProd(): number {
    return this.u32[SRING_REQ_PROD >> 2]!;
  }
  set reqProd(v: number) {
    this.u32[SRING_REQ_PROD >> 2] = v >>> 0;
  }
  get reqEvent(): number {
    return this.u32[SRING_REQ_EVENT >> 2]!;
  }
  set reqEvent(v: number) {
    this.u32[SRING_REQ_EVENT >> 2] = v >>> 0;
  }
  get rspProd(): number {
    return this.u32[SRING_RSP_PROD >> 2]!;
  }
  set rspProd(v: number) {
    this.u32[SRING_RSP_PROD >> 2] = v >>> 0;
  }
  get rspEvent(): number {
    return this.u32[SRING_RSP_EVENT >> 2]!;
  }
  set rspEvent(v: number) {
    this.u32[SRING_RSP_EVENT >> 2] = v >>> 0;
  }

  /** SHARED_RING_INIT: producers 0, event indexes 1, the rest of the header zeroed. */
  init(): void {
    this.page.fill(0, 0, SRING_HEADER_SIZE);
    this.reqEvent = 1;
    this.rspEvent = 1;
  }
}

/** notify iff the event index lies in (old, new], all modulo 2^32. */
export function needsNotify(newProd: number, oldProd: number, event: number): boolean {
  return ((newProd - event) >>> 0) < ((newProd - oldProd) >>> 0);
}

interface RingTraceCtx {
  readonly trace: Trace;
  readonly domid: number;
  readonly name: string;
}

function traceRing(ctx: RingTraceCtx | undefined, op: RingOpName, result: number, idx: Record<string, number>): void {
  if (ctx?.trace.on) ctx.trace.emit(TK.ring, ctx.domid, -1, -1, RING_OPS.indexOf(op), result, 0, { ring: ctx.name, idx });
}

abstract class RingEnd {
  readonly sring: SharedRing;
  readonly size: number;
  constructor(
    page: Uint8Array,
    readonly entryBytes: number,
    protected readonly tr?: RingTraceCtx,
  ) {
    this.sring = new SharedRing(page);
    this.size = ringSize(entryBytes, page.byteLength);
    if (this.size === 0) throw new RangeError(`a ${entryBytes}-byte entry does not fit a ring page`);
  }

  /** The bytes of slot idx & (size - 1). */
  slot(idx: number): Uint8Array {
    const off = SRING_HEADER_SIZE + ((idx & (this.size - 1)) * this.entryBytes);
    return this.sring.page.subarray(off, off + this.entryBytes);
  }
}

/** The frontend: produces requests, consumes responses. */
export class FrontRing extends RingEnd {
  reqProdPvt = 0;
  rspCons = 0;

  /** FRONT_RING_INIT, after SHARED_RING_INIT on the page (only the frontend initialises it). */
  static create(page: Uint8Array, entryBytes: number, tr?: RingTraceCtx): FrontRing {
    const r = new FrontRing(page, entryBytes, tr);
    r.sring.init();
    traceRing(tr, 'init', r.size, { req_prod: 0, req_event: 1, rsp_prod: 0, rsp_event: 1 });
    return r;
  }

  freeRequests(): number {
    return this.size - ((this.reqProdPvt - this.rspCons) >>> 0);
  }

  full(): boolean {
    return this.freeRequests() === 0;
  }

  /** Fills the next request slot privately (RING_GET_REQUEST(req_prod_pvt++)); false when full. */
  produceRequest(fill?: (slot: Uint8Array) => void): boolean {
    if (this.full()) return false;
    const slot = this.slot(this.reqProdPvt);
    fill?.(slot);
    this.reqProdPvt = (this.reqProdPvt + 1) >>> 0;
    return true;
  }

  /** RING_PUSH_REQUESTS_AND_CHECK_NOTIFY: publish, then decide whether the backend must be told. */
  pushRequestsAndCheckNotify(): boolean {
    const old = this.sring.reqProd;
    const next = this.reqProdPvt;
    this.sring.reqProd = next;
    const notify = needsNotify(next, old, this.sring.reqEvent);
    traceRing(this.tr, 'push_requests', notify ? 1 : 0, { old, new: next, req_event: this.sring.reqEvent });
    return notify;
  }

  unconsumedResponses(): number {
    return (this.sring.rspProd - this.rspCons) >>> 0;
  }

  /** Takes the next response slot, or undefined when none is waiting. */
  consumeResponse(): Uint8Array | undefined {
    if (this.unconsumedResponses() === 0) return undefined;
    const slot = this.slot(this.rspCons);
    this.rspCons = (this.rspCons + 1) >>> 0;
    traceRing(this.tr, 'consume_response', this.rspCons, { rsp_cons: this.rspCons, rsp_prod: this.sring.rspProd });
    return slot;
  }

  /** RING_FINAL_CHECK_FOR_RESPONSES: ask to be notified of the next response, then look once more. */
  finalCheckForResponses(): number {
    let work = this.unconsumedResponses();
    if (work === 0) {
      this.sring.rspEvent = (this.rspCons + 1) >>> 0;
      work = this.unconsumedResponses();
    }
    traceRing(this.tr, 'final_check_for_responses', work, { rsp_cons: this.rspCons, rsp_event: this.sring.rspEvent });
    return work;
  }
}

/** The backend: consumes requests, produces responses. */
export class BackRing extends RingEnd {
  rspProdPvt = 0;
  reqCons = 0;

  /** BACK_RING_INIT on a page the frontend initialised. */
  static attach(page: Uint8Array, entryBytes: number, tr?: RingTraceCtx): BackRing {
    return new BackRing(page, entryBytes, tr);
  }

  /** RING_HAS_UNCONSUMED_REQUESTS: never more than the ring can hold, whatever the frontend wrote. */
  unconsumedRequests(): number {
    const published = (this.sring.reqProd - this.reqCons) >>> 0;
    const room = this.size - ((this.reqCons - this.rspProdPvt) >>> 0);
    return Math.min(published, room);
  }

  consumeRequest(): Uint8Array | undefined {
    if (this.unconsumedRequests() === 0) return undefined;
    const slot = this.slot(this.reqCons);
    this.reqCons = (this.reqCons + 1) >>> 0;
    traceRing(this.tr, 'consume_request', this.reqCons, { req_cons: this.reqCons, req_prod: this.sring.reqProd });
    return slot;
  }

  produceResponse(fill?: (slot: Uint8Array) => void): void {
    const slot = this.slot(this.rspProdPvt);
    fill?.(slot);
    this.rspProdPvt = (this.rspProdPvt + 1) >>> 0;
  }

  pushResponsesAndCheckNotify(): boolean {
    const old = this.sring.rspProd;
    const next = this.rspProdPvt;
    this.sring.rspProd = next;
    const notify = needsNotify(next, old, this.sring.rspEvent);
    traceRing(this.tr, 'push_responses', notify ? 1 : 0, { old, new: next, rsp_event: this.sring.rspEvent });
    return notify;
  }

  /** RING_FINAL_CHECK_FOR_REQUESTS. */
  finalCheckForRequests(): number {
    let work = this.unconsumedRequests();
    if (work === 0) {
      this.sring.reqEvent = (this.reqCons + 1) >>> 0;
      work = this.unconsumedRequests();
    }
    traceRing(this.tr, 'final_check_for_requests', work, { req_cons: this.reqCons, req_event: this.sring.reqEvent });
    return work;
  }
}
