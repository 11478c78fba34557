/**
 * The guest end of the Xen 2.0 control interface, as XenLinux's ctrl_if.c
 * (linux-2.6.9-xen-sparse/arch/xen/kernel/ctrl_if.c at 2.0.0): requests out on
 * tx_ring with an id per callback, controller requests in on rx_ring handed to
 * one receiver per type, responses written back into the request's slot.
 *
 * The consumer indexes are private (not in shared memory). The simulation is
 * single-threaded, so Linux's contexts are modelled explicitly:
 *  - "interrupts off" (spin_lock_irqsave and softirq context) is a depth count;
 *    an interrupt that arrives meanwhile runs when the depth drops to 0, as a
 *    tasklet never nests inside another on one CPU;
 *  - process context (a blocked sender woken up, keventd running deferred
 *    handlers) runs after the tasklets, in the order it became runnable.
 */
import { EAGAIN } from '../abi/errno.js';
import {
  CONTROL_RING_SIZE,
  CTRL_MSG_ID,
  CTRL_MSG_ID_NONE,
  CTRL_MSG_LENGTH,
  CTRL_MSG_MAX_PAYLOAD,
  CTRL_MSG_PAYLOAD,
  CTRL_MSG_SUBTYPE,
  CTRL_MSG_TYPE,
  ControlIfIndexes,
  copyCtrlMsg,
  readCtrlMsg,
  writeCtrlMsg,
  rxSlotOffset,
  txSlotOffset,
  type CtrlMsg,
} from '../abi/ctrl_if.js';
import { CTRL_BY_GUEST, CTRL_PUT, CTRL_RX, CTRL_TAKE, CTRL_TX, TK, emitCtrlMsg, type Trace } from '../sim/trace.js';

/** ctrl_msg_handler_t: the message and the caller's cookie (0 for receivers). */
export type CtrlMsgHandler = (msg: CtrlMsg, id: number) => void;
/** A task on ctrl_if_tx_tq, run when a full tx ring gets a free slot. */
export type SpaceCallback = () => void;

/** ctrl_if_register_receiver flag: run the handler in process context (keventd), not in the rx tasklet. */
export const CALLBACK_IN_BLOCKING_CONTEXT = 1;

interface TxCallback {
  readonly fn: CtrlMsgHandler;
  readonly id: number;
}

interface BlockedSend {
  readonly msg: CtrlMsg;
  readonly hnd: CtrlMsgHandler | undefined;
  readonly id: number;
  readonly onSent: ((msg: CtrlMsg) => void) | undefined;
}

export interface GuestCtrlIfOptions {
  /** Where ctrl_msg records go (the machine's trace); none: nothing is recorded. */
  trace?: Trace;
  /** The guest's domid, for the records. */
  dom?: number;
}

export class GuestCtrlIf {
  /** Where every message put on or taken off a ring is recorded, when it is on. */
  trace: Trace | undefined;
  dom: number;
  /** ctrl_if_tx_resp_cons: next controller response on tx_ring not yet consumed. */
  txRespCons = 0;
  /** ctrl_if_rx_req_cons: next controller request on rx_ring not yet consumed. */
  rxReqCons = 0;
  readonly shared: ControlIfIndexes;
  /** What the guest would have printk'd, and what the simulation refused to do (see rxTasklet). */
  readonly log: string[] = [];

  /** ctrl_if_txmsg_id_mapping[8]: the callback for each id in flight. */
  private readonly txIdMapping: (TxCallback | undefined)[] = new Array<TxCallback | undefined>(CONTROL_RING_SIZE).fill(undefined);
  private readonly rxHandlers: CtrlMsgHandler[];
  private readonly rxBlocking: boolean[] = new Array<boolean>(256).fill(false);
  /** ctrl_if_rxmsg_deferred: requests for blocking-context receivers, waiting for keventd. */
  private readonly rxDeferred: CtrlMsg[] = [];
  /** ctrl_if_tx_wait: senders blocked on a full ring. */
  private readonly txWait: BlockedSend[] = [];
  /** ctrl_if_tx_tq. */
  private readonly txTaskQueue: SpaceCallback[] = [];
  /** Process-context work that is runnable (woken senders, keventd, woken response waiters). */
  private readonly runnable: (() => void)[] = [];
  private irqsOff = 0;
  private irqPending = false;

  /**
   * @param page   the 4096-byte shared_info page; control_if_t is at byte 2048
   * @param notify EVTCHNOP_send on the control port (start_info.domain_controller_evtchn)
   */
  constructor(
    readonly page: Uint8Array,
    private readonly notify: () => void,
    opts: GuestCtrlIfOptions = {},
  ) {
    this.trace = opts.trace;
    this.dom = opts.dom ?? 0;
    this.shared = new ControlIfIndexes(page);
    const dflt = this.defaultHandler;
    this.rxHandlers = new Array<CtrlMsgHandler>(256).fill(dflt);
    this.resume();
  }

  /**
   * ctrl_if_resume's index sync. At 2.0.0 the rx consumer is taken from
   * rx_resp_prod (not rx_req_prod): requests the guest had consumed but not
   * yet answered are consumed again.
   */
  resume(): void {
    this.txRespCons = this.shared.txRespProd;
    this.rxReqCons = this.shared.rxRespProd;
  }

  /** TX_FULL: eight requests are out whose responses the guest has not consumed. */
  txFull(): boolean {
    return ((this.shared.txReqProd - this.txRespCons) >>> 0) === CONTROL_RING_SIZE;
  }

  /** The ids (0..7) that have a callback waiting. */
  idsInFlight(): number[] {
    const out: number[] = [];
    this.txIdMapping.forEach((e, i) => {
      if (e) out.push(i);
    });
    return out;
  }

  /**
   * ctrl_if_send_message_noblock: -EAGAIN when the ring is full; otherwise
   * stamps msg.id (lowest free id with a callback, 0xFF without), copies the
   * 64 bytes into the next tx slot, bumps tx_req_prod and notifies.
   */
  sendMessageNoblock(msg: CtrlMsg, hnd?: CtrlMsgHandler, id = 0): number {
    this.irqsOff++;
    let rc = -EAGAIN;
    try {
      if (!this.txFull()) {
        msg.id = hnd ? this.allocId(hnd, id) : CTRL_MSG_ID_NONE;
        const prod = this.shared.txReqProd;
        writeCtrlMsg(this.page, txSlotOffset(prod), msg);
        if (this.trace?.on) emitCtrlMsg(this.trace, this.dom, CTRL_TX | CTRL_PUT | CTRL_BY_GUEST, prod, this.page, txSlotOffset(prod));
        this.shared.txReqProd = prod + 1;
        rc = 0;
      }
    } finally {
      this.irqsOff--;
    }
    if (this.irqsOff === 0) this.leaveAtomic();
    if (rc === 0) this.notify();
    return rc;
  }

  /**
   * sendMessageNoblock of a message without a callback (id 0xFF) whose
   * payload is `n` bytes of `src` from `at`, built straight in the ring slot:
   * the same 64 bytes (payload zero-filled to 60) without a CtrlMsg. The
   * console driver's path. -EAGAIN when the ring is full.
   */
  sendBytesNoblock(type: number, subtype: number, src: Uint8Array, at: number, n: number): number {
    if (n > CTRL_MSG_MAX_PAYLOAD) throw new RangeError(`payload of ${n} bytes: a control message holds ${CTRL_MSG_MAX_PAYLOAD}`);
    this.irqsOff++;
    let rc = -EAGAIN;
    try {
      if (!this.txFull()) {
        const prod = this.shared.txReqProd;
        const page = this.page;
        const o = txSlotOffset(prod);
        page[o + CTRL_MSG_TYPE] = type;
        page[o + CTRL_MSG_SUBTYPE] = subtype;
        page[o + CTRL_MSG_ID] = CTRL_MSG_ID_NONE;
        page[o + CTRL_MSG_LENGTH] = n;
        const p = o + CTRL_MSG_PAYLOAD;
        let i = 0;
        for (; i < n; i++) page[p + i] = src[at + i]!;
        for (; i < CTRL_MSG_MAX_PAYLOAD; i++) page[p + i] = 0;
        if (this.trace?.on) emitCtrlMsg(this.trace, this.dom, CTRL_TX | CTRL_PUT | CTRL_BY_GUEST, prod, page, o);
        this.shared.txReqProd = prod + 1;
        rc = 0;
      }
    } finally {
      this.irqsOff--;
    }
    if (this.irqsOff === 0) this.leaveAtomic();
    if (rc === 0) this.notify();
    return rc;
  }

  /**
   * ctrl_if_send_message_block without real blocking: 'sent' when it went out
   * at once; otherwise the caller counts as asleep on ctrl_if_tx_wait, and the
   * message is retried (and onSent called) each time a full ring frees a slot.
   */
  sendMessageBlock(msg: CtrlMsg, hnd?: CtrlMsgHandler, id = 0, onSent?: (msg: CtrlMsg) => void): 'sent' | 'blocked' {
    if (this.sendMessageNoblock(msg, hnd, id) === 0) {
      onSent?.(msg);
      return 'sent';
    }
    this.txWait.push({ msg: copyCtrlMsg(msg), hnd, id, onSent });
    return 'blocked';
  }

  /**
   * ctrl_if_send_message_and_get_response: a blocking send whose callback
   * copies the response (the ring slot is reused once the callback returns);
   * the waiting caller gets the copy in process context.
   */
  sendMessageAndGetResponse(msg: CtrlMsg, onResponse: (rmsg: CtrlMsg) => void): 'sent' | 'blocked' {
    const getResponse: CtrlMsgHandler = (rsp) => {
      const copy = copyCtrlMsg(rsp);
      this.runnable.push(() => onResponse(copy));
    };
    return this.sendMessageBlock(msg, getResponse, 0);
  }

  /**
   * ctrl_if_enqueue_space_callback: 0 at once if the ring has room (the task
   * may still run); otherwise queue it once and return the re-checked full
   * state (1: the task will run when a slot frees).
   */
  enqueueSpaceCallback(task: SpaceCallback): number {
    if (!this.txFull()) return 0;
    if (!this.txTaskQueue.includes(task)) this.txTaskQueue.push(task);
    return this.txFull() ? 1 : 0;
  }

  /**
   * ctrl_if_send_response: never blocks and never checks for room, because it
   * answers a request already consumed; writes rx_ring[rx_resp_prod], bumps
   * rx_resp_prod and notifies.
   */
  sendResponse(msg: CtrlMsg): void {
    this.irqsOff++;
    try {
      const prod = this.shared.rxRespProd;
      if (prod === this.rxReqCons) this.warn(`ctrl_if: response id ${msg.id} written with no request consumed to answer`);
      writeCtrlMsg(this.page, rxSlotOffset(prod), msg);
      if (this.trace?.on) emitCtrlMsg(this.trace, this.dom, CTRL_RX | CTRL_PUT | CTRL_BY_GUEST, prod, this.page, rxSlotOffset(prod));
      this.shared.rxRespProd = prod + 1;
    } finally {
      this.irqsOff--;
    }
    if (this.irqsOff === 0) this.leaveAtomic();
    this.notify();
  }

  /** ctrl_if_register_receiver: true on success; false (old handler kept) if a non-default one is there. */
  registerReceiver(type: number, hnd: CtrlMsgHandler, flags = 0): boolean {
    const t = type & 0xff;
    if (this.rxHandlers[t] !== this.defaultHandler) {
      this.log.push(`Receiver already established for control messages of type ${t}.`);
      return false;
    }
    this.rxHandlers[t] = hnd;
    this.rxBlocking[t] = flags === CALLBACK_IN_BLOCKING_CONTEXT;
    return true;
  }

  /** ctrl_if_unregister_receiver: back to the default handler, if `hnd` is the one registered. */
  unregisterReceiver(type: number, hnd: CtrlMsgHandler): void {
    const t = type & 0xff;
    if (this.rxHandlers[t] !== hnd) {
      this.log.push(`Receiver is not registered for control messages of type ${t}.`);
      return;
    }
    this.rxHandlers[t] = this.defaultHandler;
  }

  /**
   * ctrl_if_interrupt, then the tasklets it schedules: the tx tasklet if a
   * response is waiting, the rx tasklet if a request is. With interrupts off
   * (inside a locked section or a tasklet) it runs when they come back on.
   */
  interrupt(): void {
    if (this.irqsOff > 0) {
      this.irqPending = true;
      return;
    }
    this.locked(() => this.runTasklets());
  }

  /**
   * Runs `fn` as under spin_lock_irqsave: an interrupt raised inside (say a
   * notify answered synchronously) is taken after it. For the console driver.
   */
  withIrqsOff<T>(fn: () => T): T {
    return this.locked(fn);
  }

  /** ctrl_if_transmitter_empty ("dangerous"): every request's response consumed. */
  transmitterEmpty(): boolean {
    return this.shared.txReqProd === this.txRespCons;
  }

  /** ctrl_if_discard_responses ("dangerous"): skip all responses without running callbacks. */
  discardResponses(): void {
    this.txRespCons = this.shared.txRespProd;
  }

  /** ctrl_if_rxmsg_default_handler: answer at once with an empty payload. */
  private readonly defaultHandler: CtrlMsgHandler = (msg) => {
    msg.length = 0;
    this.sendResponse(msg);
  };

  private allocId(hnd: CtrlMsgHandler, cookie: number): number {
    // A free id exists: fewer than 8 requests are out, and an id is held only until its response is consumed.
    const i = this.txIdMapping.findIndex((e) => e === undefined);
    this.txIdMapping[i] = { fn: hnd, id: cookie };
    return i;
  }

  private runTasklets(): void {
    do {
      this.irqPending = false;
      if (this.txRespCons !== this.shared.txRespProd) this.txTasklet();
      if (this.rxReqCons !== this.shared.rxReqProd) this.rxTasklet();
    } while (this.irqPending);
  }

  /**
   * __ctrl_if_tx_tasklet: consume responses in slot order; for an id other
   * than 0xFF call its callback, then free the id, then step over the slot
   * (the slot may be reused as soon as the index moves). If the ring went from
   * full to not full, wake blocked senders and run the space callbacks.
   */
  private txTasklet(): void {
    const wasFull = this.txFull();
    const stop = this.txResponseLimit();
    while (this.txRespCons !== stop) {
      const at = txSlotOffset(this.txRespCons);
      if (this.trace?.on) emitCtrlMsg(this.trace, this.dom, CTRL_TX | CTRL_TAKE | CTRL_BY_GUEST, this.txRespCons, this.page, at);
      // Only a response with a callback needs the message itself (a copy, as readCtrlMsg gives).
      if (this.page[at + CTRL_MSG_ID] !== CTRL_MSG_ID_NONE) this.callTxCallback(readCtrlMsg(this.page, at));
      this.txRespCons = (this.txRespCons + 1) >>> 0;
    }
    if (wasFull && !this.txFull()) {
      this.wakeBlockedSenders();
      const tasks = this.txTaskQueue.splice(0);
      for (const task of tasks) task();
    }
  }

  /** tx_resp_prod, unless the controller claims responses to requests never sent: then only those that were. */
  private txResponseLimit(): number {
    const rp = this.shared.txRespProd;
    const outstanding = (this.shared.txReqProd - this.txRespCons) >>> 0;
    if (((rp - this.txRespCons) >>> 0) <= outstanding) return rp;
    this.warn(`ctrl_if: tx_resp_prod jumped to ${rp} with only ${outstanding} requests outstanding from ${this.txRespCons}; extra responses ignored`);
    return (this.txRespCons + outstanding) >>> 0;
  }

  private callTxCallback(msg: CtrlMsg): void {
    const entry = msg.id < CONTROL_RING_SIZE ? this.txIdMapping[msg.id] : undefined;
    if (!entry) {
      // Linux would call through a NULL (or out-of-table) pointer here.
      this.warn(`ctrl_if: response with id ${msg.id} matches no request waiting for one; ignored`);
      return;
    }
    const id = msg.id;
    entry.fn(msg, entry.id);
    this.txIdMapping[id] = undefined; // execute, then free
  }

  private wakeBlockedSenders(): void {
    const woken = this.txWait.splice(0);
    for (const w of woken) this.runnable.push(() => this.retryBlocked(w));
  }

  private retryBlocked(w: BlockedSend): void {
    if (this.sendMessageNoblock(w.msg, w.hnd, w.id) === 0) w.onSent?.(w.msg);
    else this.txWait.push(w); // back to sleep until the next full → not-full change
  }

  /**
   * __ctrl_if_rx_tasklet: for each request copy the 4-byte header and
   * `length` payload bytes, step over the slot, then hand the copy to the
   * receiver for its type (or queue it for keventd if that receiver blocks).
   */
  private rxTasklet(): void {
    const stop = this.rxRequestLimit();
    let deferred = false;
    while (this.rxReqCons !== stop) {
      const msg = this.copyRequest(this.rxReqCons);
      this.rxReqCons = (this.rxReqCons + 1) >>> 0;
      if (this.rxBlocking[msg.type]) {
        this.rxDeferred.push(msg);
        deferred = true;
      } else {
        this.rxHandlers[msg.type]!(msg, 0);
      }
    }
    if (deferred) this.runnable.push(() => this.runDeferredReceivers());
  }

  /** rx_req_prod, unless it jumped past what a controller could have sent (8 unanswered): then 8 this pass. */
  private rxRequestLimit(): number {
    const rp = this.shared.rxReqProd;
    if (((rp - this.rxReqCons) >>> 0) <= CONTROL_RING_SIZE) return rp;
    this.warn(`ctrl_if: rx_req_prod jumped to ${rp} from ${this.rxReqCons}; taking ${CONTROL_RING_SIZE} this pass`);
    return (this.rxReqCons + CONTROL_RING_SIZE) >>> 0;
  }

  private copyRequest(idx: number): CtrlMsg {
    const page = this.page;
    const o = rxSlotOffset(idx);
    if (this.trace?.on) emitCtrlMsg(this.trace, this.dom, CTRL_RX | CTRL_TAKE | CTRL_BY_GUEST, idx, page, o);
    const msg: CtrlMsg = { type: page[o + CTRL_MSG_TYPE]!, subtype: page[o + CTRL_MSG_SUBTYPE]!, id: page[o + CTRL_MSG_ID]!, length: page[o + CTRL_MSG_LENGTH]!, msg: new Uint8Array(CTRL_MSG_MAX_PAYLOAD) };
    let n = msg.length;
    if (n > CTRL_MSG_MAX_PAYLOAD) {
      // ctrl_if.c would copy all `length` bytes into a 60-byte buffer; the simulation stops at 60.
      this.warn(`ctrl_if: request type ${msg.type} claims ${n} payload bytes; copied ${CTRL_MSG_MAX_PAYLOAD}`);
      n = CTRL_MSG_MAX_PAYLOAD;
    }
    const p = o + CTRL_MSG_PAYLOAD;
    const dst = msg.msg;
    for (let i = 0; i < n; i++) dst[i] = page[p + i]!;
    return msg;
  }

  /** __ctrl_if_rxmsg_deferred (keventd): the queued requests, in order. */
  private runDeferredReceivers(): void {
    const msgs = this.rxDeferred.splice(0);
    for (const msg of msgs) this.rxHandlers[msg.type]!(msg, 0);
  }

  /** A message anomaly: logged, and a note in the trace when it is on (the ctrl_msg records show the slots themselves). */
  private warn(text: string): void {
    this.log.push(text);
    if (this.trace?.on) this.trace.emit(TK.note, this.dom, -1, -1, 0, 0, 0, { text });
  }

  /** Interrupts off around fn; on the way out of the outermost section, take a pending interrupt and run process context. */
  private locked<T>(fn: () => T): T {
    this.irqsOff++;
    let out: T;
    try {
      out = fn();
    } finally {
      this.irqsOff--;
    }
    if (this.irqsOff === 0) this.leaveAtomic();
    return out;
  }

  private leaveAtomic(): void {
    if (this.irqPending) {
      this.irqsOff++;
      try {
        this.runTasklets();
      } finally {
        this.irqsOff--;
      }
    }
    while (this.runnable.length > 0 && this.irqsOff === 0) {
      const next = this.runnable.shift()!;
      next();
    }
  }
}
