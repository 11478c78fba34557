/**
 * The controller's low-level helpers, as xen.lowlevel.xu at 2.0.0
 * (tools/python/xen/lowlevel/xu/xu.c): `port`, dom0's end of one domain's
 * control rings with its private consumer indexes and mirrored producers, and
 * `buffer`, the 64 KiB byte ring xend keeps console data in.
 */
import {
  CONTROL_RING_SIZE,
  CTRL_MSG_ID,
  CTRL_MSG_LENGTH,
  CTRL_MSG_MAX_PAYLOAD,
  CTRL_MSG_PAYLOAD,
  CTRL_MSG_SUBTYPE,
  CTRL_MSG_TYPE,
  ControlIfIndexes,
  readCtrlMsg,
  writeCtrlMsg,
  rxSlotOffset,
  txSlotOffset,
  type CtrlMsg,
} from '../abi/ctrl_if.js';
import { CTRL_BY_XEND, CTRL_PUT, CTRL_RX, CTRL_TAKE, CTRL_TX, TK, emitCtrlMsg, type Trace } from '../sim/trace.js';
import type { XendLogKind, XendLogger } from './log.js';

export interface XuPortOptions {
  /** Where ctrl_msg records go (the machine's trace); none: nothing is recorded. */
  trace?: Trace;
  /** The domain whose control rings these are, for the records. */
  dom?: number;
}

/**
 * xu.port: the controller reads guest requests from tx_ring and answers in
 * their slots; it writes its own requests to rx_ring and reads the guest's
 * answers there. The producers it writes (tx_resp_prod, rx_req_prod) are kept
 * in the object and stored to the page; the guest's producers are read from
 * the page each time.
 */
export class XuPort {
  txReqCons = 0;
  txRespProd = 0;
  rxReqProd = 0;
  rxRespCons = 0;
  readonly shared: ControlIfIndexes;
  /** Where every message xend puts on or takes off a ring is recorded, when it is on (the console's records too). */
  trace: Trace | undefined;
  /** The domain whose rings these are. */
  dom: number;

  /**
   * @param page   the domain's shared_info page as mapped by xc_map_foreign_range; control_if_t at +2048
   * @param notify xc_evtchn_send on dom0's end of the control channel
   */
  constructor(
    readonly page: Uint8Array,
    private readonly notifyRemote: () => void,
    private readonly log: XendLogger,
    opts: XuPortOptions = {},
  ) {
    this.trace = opts.trace;
    this.dom = opts.dom ?? 0;
    this.shared = new ControlIfIndexes(page);
    this.connect();
  }

  /** __xu_port_connect's sync: start where the shared responses stand. */
  connect(): void {
    this.txRespProd = this.shared.txRespProd;
    this.txReqCons = this.shared.txRespProd;
    this.rxReqProd = this.shared.rxReqProd;
    this.rxRespCons = this.shared.rxRespProd;
  }

  notify(): void {
    this.notifyRemote();
  }

  /** request_to_read: one is published, and reading it keeps us within 8 of our responses. */
  requestToRead(): boolean {
    const c = this.txReqCons;
    return c !== this.shared.txReqProd && ((c - this.txRespProd) >>> 0) !== CONTROL_RING_SIZE;
  }

  /** read_request: a copy of the next guest request, its length clamped to 60; undefined if none. */
  readRequest(): CtrlMsg | undefined {
    if (!this.requestToRead()) return undefined;
    if (this.trace?.on) emitCtrlMsg(this.trace, this.dom, CTRL_TX | CTRL_TAKE | CTRL_BY_XEND, this.txReqCons, this.page, txSlotOffset(this.txReqCons));
    const msg = this.clamped(readCtrlMsg(this.page, txSlotOffset(this.txReqCons)), 'request');
    this.txReqCons = (this.txReqCons + 1) >>> 0;
    return msg;
  }

  /** space_to_write_response: a request has been read and not yet answered. */
  spaceToWriteResponse(): boolean {
    return this.txRespProd !== this.txReqCons;
  }

  /** write_response: into the slot of the oldest unanswered request; false ("no space to write response") if none. */
  writeResponse(msg: CtrlMsg): boolean {
    if (!this.spaceToWriteResponse()) {
      this.warn('port-error', 'no space to write response');
      return false;
    }
    writeCtrlMsg(this.page, txSlotOffset(this.txRespProd), msg);
    if (this.trace?.on) emitCtrlMsg(this.trace, this.dom, CTRL_TX | CTRL_PUT | CTRL_BY_XEND, this.txRespProd, this.page, txSlotOffset(this.txRespProd));
    this.txRespProd = (this.txRespProd + 1) >>> 0;
    this.shared.txRespProd = this.txRespProd;
    return true;
  }

  /** space_to_write_request: fewer than 8 of our requests are unanswered. */
  spaceToWriteRequest(): boolean {
    return ((this.rxReqProd - this.rxRespCons) >>> 0) !== CONTROL_RING_SIZE;
  }

  /** write_request: false ("no space to write request") when 8 are unanswered. */
  writeRequest(msg: CtrlMsg): boolean {
    if (!this.spaceToWriteRequest()) {
      this.warn('port-error', 'no space to write request');
      return false;
    }
    writeCtrlMsg(this.page, rxSlotOffset(this.rxReqProd), msg);
    if (this.trace?.on) emitCtrlMsg(this.trace, this.dom, CTRL_RX | CTRL_PUT | CTRL_BY_XEND, this.rxReqProd, this.page, rxSlotOffset(this.rxReqProd));
    this.rxReqProd = (this.rxReqProd + 1) >>> 0;
    this.shared.rxReqProd = this.rxReqProd;
    return true;
  }

  /**
   * write_request of a message whose payload is the next `n` (at most 60)
   * bytes of `buf`, consumed from it: the same 64 bytes as
   * writeRequest(ctrlMsg(type, subtype, id, buf.read(n))), built in the slot.
   */
  writeRequestFromBuffer(type: number, subtype: number, id: number, buf: XuBuffer, n: number): boolean {
    if (!this.spaceToWriteRequest()) {
      this.warn('port-error', 'no space to write request');
      return false;
    }
    const page = this.page;
    const o = rxSlotOffset(this.rxReqProd);
    const len = buf.readInto(page, o + CTRL_MSG_PAYLOAD, Math.min(n, CTRL_MSG_MAX_PAYLOAD));
    page[o + CTRL_MSG_TYPE] = type;
    page[o + CTRL_MSG_SUBTYPE] = subtype;
    page[o + CTRL_MSG_ID] = id;
    page[o + CTRL_MSG_LENGTH] = len;
    page.fill(0, o + CTRL_MSG_PAYLOAD + len, o + CTRL_MSG_PAYLOAD + CTRL_MSG_MAX_PAYLOAD);
    if (this.trace?.on) emitCtrlMsg(this.trace, this.dom, CTRL_RX | CTRL_PUT | CTRL_BY_XEND, this.rxReqProd, page, o);
    this.rxReqProd = (this.rxReqProd + 1) >>> 0;
    this.shared.rxReqProd = this.rxReqProd;
    return true;
  }

  /** response_to_read: the guest published one, and it answers a request we wrote. */
  responseToRead(): boolean {
    const c = this.rxRespCons;
    return c !== this.shared.rxRespProd && c !== this.rxReqProd;
  }

  /** read_response: a copy of the next guest response, length clamped to 60; undefined if none. */
  readResponse(): CtrlMsg | undefined {
    if (!this.responseToRead()) return undefined;
    if (this.trace?.on) emitCtrlMsg(this.trace, this.dom, CTRL_RX | CTRL_TAKE | CTRL_BY_XEND, this.rxRespCons, this.page, rxSlotOffset(this.rxRespCons));
    const msg = this.clamped(readCtrlMsg(this.page, rxSlotOffset(this.rxRespCons)), 'response');
    this.rxRespCons = (this.rxRespCons + 1) >>> 0;
    return msg;
  }

  /** Guest requests published but not read; more than 8 means the guest's index jumped. */
  requestsPublished(): number {
    return (this.shared.txReqProd - this.txReqCons) >>> 0;
  }

  /** Guest responses published but not read, and how many of our requests they could answer. */
  responsesPublished(): { published: number; outstanding: number } {
    return {
      published: (this.shared.rxRespProd - this.rxRespCons) >>> 0,
      outstanding: (this.rxReqProd - this.rxRespCons) >>> 0,
    };
  }

  private clamped(msg: CtrlMsg, what: string): CtrlMsg {
    if (msg.length > CTRL_MSG_MAX_PAYLOAD) {
      this.warn('length-clamped', `${what} type ${msg.type}/${msg.subtype} id ${msg.id} claims ${msg.length} payload bytes; clamped to ${CTRL_MSG_MAX_PAYLOAD}`);
      msg.length = CTRL_MSG_MAX_PAYLOAD;
    }
    return msg;
  }

  /** A message refused or cut: logged, and a note in the trace when it is on. */
  private warn(kind: XendLogKind, text: string): void {
    this.log(kind, text);
    if (this.trace?.on) this.trace.emit(TK.note, this.dom, -1, -1, 0, 0, 0, { text: `xend: ${text}` });
  }
}

/** xu.buffer's size (BUFSZ). */
export const XU_BUFFER_SIZE = 65536;
const XU_MASK = XU_BUFFER_SIZE - 1;

/**
 * xu.buffer: a 64 KiB byte ring with free-running indexes. A write takes what
 * fits and reports how much; the caller is not told what was lost.
 */
export class XuBuffer {
  prod = 0;
  cons = 0;
  private readonly buf = new Uint8Array(XU_BUFFER_SIZE);

  used(): number {
    return (this.prod - this.cons) >>> 0;
  }

  empty(): boolean {
    return this.cons === this.prod;
  }

  full(): boolean {
    return this.used() === XU_BUFFER_SIZE;
  }

  /** write: as many bytes as fit (in two pieces across the wrap); returns how many. */
  write(data: Uint8Array): number {
    return this.writeBytes(data, 0, data.length);
  }

  /** write of `n` bytes of `src` from `at`. */
  writeBytes(src: Uint8Array, at: number, n: number): number {
    const take = Math.min(n, XU_BUFFER_SIZE - this.used());
    const buf = this.buf;
    let i = 0;
    while (i < take) {
      const p = (this.prod + i) & XU_MASK;
      const run = Math.min(take - i, XU_BUFFER_SIZE - p);
      for (let j = 0; j < run; j++) buf[p + j] = src[at + i + j]!;
      i += run;
    }
    this.prod = (this.prod + take) >>> 0;
    return take;
  }

  /** peek: up to `max` bytes from the front (default 1024, as xu.c), not consumed. */
  peek(max = 1024): Uint8Array {
    const n = Math.min(this.used(), Math.max(0, max));
    const c = this.cons & XU_MASK;
    if (c + n <= XU_BUFFER_SIZE) return this.buf.slice(c, c + n);
    const out = new Uint8Array(n);
    const first = XU_BUFFER_SIZE - c;
    out.set(this.buf.subarray(c), 0);
    out.set(this.buf.subarray(0, n - first), first);
    return out;
  }

  /** read of up to `max` bytes straight into `dst` at `at`; returns how many. */
  readInto(dst: Uint8Array, at: number, max: number): number {
    const n = Math.min(this.used(), Math.max(0, max));
    const buf = this.buf;
    for (let i = 0; i < n; i++) dst[at + i] = buf[(this.cons + i) & XU_MASK]!;
    this.cons = (this.cons + n) >>> 0;
    return n;
  }

  /** read: peek, then consume what was returned. */
  read(max = 1024): Uint8Array {
    const out = this.peek(max);
    this.cons = (this.cons + out.length) >>> 0;
    return out;
  }

  /** discard: drop up to `max` bytes from the front; returns how many. */
  discard(max: number): number {
    const n = Math.min(this.used(), Math.max(0, max));
    this.cons = (this.cons + n) >>> 0;
    return n;
  }
}
