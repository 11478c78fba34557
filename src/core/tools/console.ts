/**
 * xend's console controller for one domain, as console.ConsoleController at
 * 2.0.0 (tools/python/xen/xend/server/console.py): guest output (CMSG_CONSOLE
 * requests) is appended to a 64 KiB buffer and handed to the one connected
 * client; client input is cut into CMSG_CONSOLE requests of at most 60 bytes
 * with id 0. The TCP listener on port 9600 + domid is represented by its
 * number only; a client is anything that accepts bytes.
 *
 * With the trace on (the channel's port carries it), each CMSG_CONSOLE payload
 * taken off tx_ring and each one put on rx_ring is a `cons` record whose index
 * is the control ring's after the message (tx_req_cons, rx_req_prod).
 */
import { CMSG_CONSOLE, CMSG_CONSOLE_DATA, CTRL_MSG_LENGTH, CTRL_MSG_MAX_PAYLOAD, CTRL_MSG_PAYLOAD, rxSlotOffset, type CtrlMsg } from '../abi/ctrl_if.js';
import { CONS_IN, CONS_OUT, CONS_TEXT_MAX, TK, traceText } from '../sim/trace.js';
import type { Channel, ChannelDevice } from './channel.js';
import type { XendLogger } from './log.js';
import { XuBuffer } from './xu.js';

// CONSOLE_PORT_BASE (xend/server/params.py): a domain's console listens on 9600 + domid.
export { CONSOLE_PORT_BASE } from '../abi/xen2.js';

/** A connected console client (the TCP connection): takes bytes, returns how many it took. */
export interface ConsoleClient {
  write(bytes: Uint8Array): number;
}

export type ConsoleStatus = 'new' | 'listening' | 'connected' | 'closed';

export class ConsoleController implements ChannelDevice {
  status: ConsoleStatus = 'new';
  /** Guest output waiting for a client. */
  readonly rbuf = new XuBuffer();
  /** Client input waiting for room on the ring. */
  readonly wbuf = new XuBuffer();
  /** Output bytes lost because rbuf was full (xu.buffer.write truncates silently). */
  outputDropped = 0;
  /** Input bytes lost because wbuf was full. */
  inputDropped = 0;
  private conn: ConsoleClient | undefined;

  constructor(
    readonly channel: Channel,
    readonly dom: number,
    readonly consolePort: number,
    private readonly log: XendLogger,
  ) {
    channel.registerDevice([CMSG_CONSOLE], this);
    this.status = 'listening';
    log('console', `Created console domain=${dom} port=${consolePort}`);
  }

  connected(): boolean {
    return this.status === 'connected';
  }

  /** connect: 0, or -1 if closed or someone is already connected ("Cannot connect to console"). */
  connect(client: ConsoleClient): number {
    if (this.status === 'closed' || this.connected()) {
      this.log('console', `Cannot connect to console ${this.consolePort} on domain ${this.dom}`);
      return -1;
    }
    this.conn = client;
    this.status = 'connected';
    this.log('console', `Console connected ${this.consolePort}`);
    this.handleOutput();
    return 0;
  }

  /** disconnect: back to listening; output waits in rbuf again. */
  disconnect(): void {
    if (this.status === 'closed') return;
    this.conn = undefined;
    this.status = 'listening';
    this.log('console', `Console disconnected ${this.consolePort}`);
  }

  /** Output bytes waiting in rbuf, taken without a client (for a polling reader). */
  read(max = 1024): Uint8Array {
    return this.rbuf.read(max);
  }

  /** requestReceived: the payload into rbuf (what does not fit is lost), then out to the client; the channel echoes the request. */
  requestReceived(msg: CtrlMsg): boolean {
    const len = Math.min(msg.length, CTRL_MSG_MAX_PAYLOAD);
    const trace = this.channel.port.trace;
    if (trace?.on) trace.emit(TK.cons, this.dom, CONS_OUT, this.channel.port.txReqCons | 0, len, 0, 0, { text: traceText(msg.msg, 0, len, CONS_TEXT_MAX) });
    const n = this.rbuf.writeBytes(msg.msg, 0, len);
    if (n < len) {
      this.outputDropped += len - n;
      this.log('console-overflow', `console output buffer full: ${len - n} of ${len} bytes dropped`);
      if (trace?.on) trace.emit(TK.note, this.dom, -1, -1, 0, 0, 0, { text: `xend: console output buffer full: ${len - n} of ${len} bytes dropped` });
    }
    this.handleOutput();
    return false;
  }

  /** responseReceived: the guest's acknowledgements of input carry nothing of interest. */
  responseReceived(): void {}

  /** produceRequests: wbuf into CMSG_CONSOLE requests of up to 60 bytes, id 0, while the channel takes them. */
  produceRequests(): number {
    let work = 0;
    // writeReady: the channel is open, nothing is queued and the ring has room, so each goes straight onto it.
    const port = this.channel.port;
    while (!this.wbuf.empty() && this.channel.writeReady()) {
      port.writeRequestFromBuffer(CMSG_CONSOLE, CMSG_CONSOLE_DATA, 0, this.wbuf, CTRL_MSG_MAX_PAYLOAD);
      if (port.trace?.on) this.traceInput();
      work++;
    }
    return work;
  }

  /** A `cons` record for the message just put on rx_ring (its payload, as in the slot). */
  private traceInput(): void {
    const port = this.channel.port;
    const idx = port.rxReqProd;
    const o = rxSlotOffset((idx - 1) >>> 0);
    const page = port.page;
    const n = page[o + CTRL_MSG_LENGTH]!;
    const p = o + CTRL_MSG_PAYLOAD;
    port.trace!.emit(TK.cons, this.dom, CONS_IN, idx | 0, n, 0, 0, { text: traceText(page, p, p + n, CONS_TEXT_MAX) });
  }

  /**
   * handleInput: bytes from the client into wbuf (what does not fit is lost),
   * as many requests as fit onto the ring, and one notify if any went.
   * Returns the bytes accepted.
   */
  handleInput(data: Uint8Array): number {
    if (this.status === 'closed') return 0;
    const n = this.wbuf.write(data);
    if (n < data.length) {
      this.inputDropped += data.length - n;
      this.log('console-input-overflow', `console input buffer full: ${data.length - n} of ${data.length} bytes dropped`);
    }
    if (this.produceRequests() > 0) this.channel.notify();
    return n;
  }

  /** handleOutput: drain rbuf into the client while it takes bytes. */
  handleOutput(): void {
    if (!this.conn) return;
    while (!this.rbuf.empty()) {
      const taken = this.conn.write(this.rbuf.peek());
      if (taken <= 0) break; // xend would spin here; a stalled client just leaves the bytes waiting
      this.rbuf.discard(taken);
    }
  }

  close(): void {
    this.lostChannel();
  }

  /** lostChannel: closed for good; the client is dropped. */
  lostChannel(): void {
    if (this.status === 'closed') return;
    this.status = 'closed';
    this.conn = undefined;
    this.channel.deregisterDevice(this);
    this.log('console', `Closed console ${this.consolePort}`);
  }
}
