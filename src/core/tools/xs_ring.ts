/**
 * xenstored's side of a domain's ring page (readchn, writechn,
 * domain_can_read/write in tools/xenstored/domain.c). Each call reads both
 * indexes once, refuses indexes more than a ring apart (the domain has
 * scribbled on them), and copies one contiguous chunk: from the consumer to
 * the end of the data or of the buffer, whichever comes first.
 *
 * Unlike xenstored, which sends an event after every chunk, this end only
 * notes that an index moved; the daemon sends one event per batch.
 */
import { XENSTORE_RING_SIZE, XS_RING_REQ, XS_RING_RSP, XsRingIndexes } from '../abi/xs_wire.js';
import { ringGet, ringPut } from '../util/byte_ring.js';

// Module-local copies of the imported constants and helpers used on the hot path: read once here,
// they cost nothing per byte whatever the module loader does with imports.
const SIZE = XENSTORE_RING_SIZE;
const REQ = XS_RING_REQ;
const RSP = XS_RING_RSP;
const copyOut = ringGet;
const copyIn = ringPut;

export class XsRing {
  readonly idx: XsRingIndexes;
  /** An index moved since the last takeMoved(): the other end should hear of it. */
  private moved = false;

  constructor(
    readonly page: Uint8Array,
    /** EVTCHNOP_send on xenstored's end of the domain's store channel. */
    public notify: () => void,
  ) {
    this.idx = new XsRingIndexes(page);
  }

  /** check_indexes: a producer at most one ring ahead of its consumer. */
  private static sane(cons: number, prod: number): boolean {
    return ((prod - cons) >>> 0) <= SIZE;
  }

  /** domain_can_read: request bytes are waiting. */
  canRead(): boolean {
    return this.idx.reqCons !== this.idx.reqProd;
  }

  /** domain_can_write: the reply ring is not full. */
  canWrite(): boolean {
    return ((this.idx.rspProd - this.idx.rspCons) >>> 0) !== SIZE;
  }

  /** readchn: up to `len` request bytes into dst at off; -1 for insane indexes. */
  read(dst: Uint8Array, off: number, len: number): number {
    const cons = this.idx.reqCons;
    const prod = this.idx.reqProd;
    if (!XsRing.sane(cons, prod)) return -1;
    // get_input_chunk: up to the end of the buffer, and no further than the producer.
    const n = Math.min(len, SIZE - (cons & (SIZE - 1)), (prod - cons) >>> 0);
    if (n === 0) return 0;
    copyOut(this.page, REQ, SIZE, cons, dst, off, n);
    this.idx.reqCons = cons + n;
    this.moved = true;
    return n;
  }

  /** writechn: up to `len` bytes of src from off onto the reply ring; -1 for insane indexes. */
  write(src: Uint8Array, off: number, len: number): number {
    const cons = this.idx.rspCons;
    const prod = this.idx.rspProd;
    if (!XsRing.sane(cons, prod)) return -1;
    // get_output_chunk: up to the end of the buffer, and no further than the free space.
    const n = Math.min(len, SIZE - (prod & (SIZE - 1)), SIZE - ((prod - cons) >>> 0));
    if (n === 0) return 0;
    copyIn(this.page, RSP, SIZE, prod, src, off, n);
    this.idx.rspProd = prod + n;
    this.moved = true;
    return n;
  }

  /** Something changed on the page the other end must hear about (xenstored notifies directly there). */
  markMoved(): void {
    this.moved = true;
  }

  /** True once after any index moved. */
  takeMoved(): boolean {
    const m = this.moved;
    this.moved = false;
    return m;
  }

  /** The index part of domain_conn_reset: all four back to 0. */
  resetIndexes(): void {
    this.idx.reqCons = 0;
    this.idx.reqProd = 0;
    this.idx.rspCons = 0;
    this.idx.rspProd = 0;
  }
}
