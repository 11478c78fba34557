/**
 * The Xen 2.0 guest console driver for a domain other than dom0, as XenLinux's
 * console.c (linux-2.6.9-xen-sparse/drivers/xen/console/console.c at 2.0.0):
 * kernel printk and the tty share one 4096-byte transmit buffer, which is
 * flushed to the controller as CMSG_CONSOLE/CMSG_CONSOLE_DATA messages of at
 * most 60 bytes; input arrives as CMSG_CONSOLE requests and is acknowledged
 * with an empty response. (dom0 writes to Xen's own console instead.)
 */
import { EAGAIN } from '../abi/errno.js';
import { CMSG_CONSOLE, CMSG_CONSOLE_DATA, CTRL_MSG_MAX_PAYLOAD, payloadOf, type CtrlMsg } from '../abi/ctrl_if.js';
import type { GuestCtrlIf } from './ctrl_if.js';

export const WBUF_SIZE = 4096;
const WBUF_MASK = WBUF_SIZE - 1;
const NL = 0x0a;
const CR = 0x0d;

export class XenCons {
  /** wc, wp: free-running consumer and producer indexes into wbuf (unsigned int). */
  wc = 0;
  wp = 0;
  /** A pending XON/XOFF character (0: none). */
  xChar = 0;
  /** printk bytes dropped because wbuf was full (console.c drops them without a count). */
  kernelDropped = 0;
  /** Messages sent, for the inspector. */
  messagesSent = 0;
  private readonly wbuf = new Uint8Array(WBUF_SIZE);
  /** xencons_tty: where input goes while the tty is open. */
  private tty: ((bytes: Uint8Array) => void) | undefined;

  constructor(readonly ctrl: GuestCtrlIf) {
    ctrl.registerReceiver(CMSG_CONSOLE, this.rx, 0);
  }

  /** Bytes waiting in wbuf (chars_in_buffer). */
  pending(): number {
    return (this.wp - this.wc) >>> 0;
  }

  /** xencons_write_room. */
  writeRoom(): number {
    return WBUF_SIZE - this.pending();
  }

  /**
   * kcons_write (printk): a '\r' goes in after every '\n'; once 4095 bytes are
   * pending the rest of the string is dropped. Returns the input bytes taken.
   */
  kernelWrite(bytes: Uint8Array): number {
    return this.ctrl.withIrqsOff(() => {
      let i = 0;
      for (; i < bytes.length; i++) {
        if (this.pending() >= WBUF_SIZE - 1) break;
        this.put(bytes[i]!);
        if (bytes[i] === NL) this.put(CR); // unchecked, so a '\n' at 4094 fills all 4096
      }
      this.kernelDropped += bytes.length - i;
      this.flush();
      return i;
    });
  }

  /**
   * xencons_write (user space via the tty): no CR added (the line discipline
   * does that); takes bytes until wbuf is full and returns how many, so the
   * writer sees back-pressure and nothing is lost. Only tty index 0 is real:
   * writes to the others are swallowed and reported as written.
   */
  ttyWrite(bytes: Uint8Array, index = 0): number {
    if (index !== 0) return bytes.length;
    return this.ctrl.withIrqsOff(() => {
      // __xencons_put_char until wbuf is full, copied a run at a time (up to the wrap).
      const n = Math.min(bytes.length, WBUF_SIZE - this.pending());
      const wbuf = this.wbuf;
      let i = 0;
      while (i < n) {
        const at = this.wp & WBUF_MASK;
        const run = Math.min(n - i, WBUF_SIZE - at);
        for (let j = 0; j < run; j++) wbuf[at + j] = bytes[i + j]!;
        i += run;
        this.wp = (this.wp + run) >>> 0;
      }
      if (i !== 0) this.flush();
      return i;
    });
  }

  /** xencons_send_xchar: queue an XON/XOFF character, sent ahead of wbuf. */
  sendXChar(ch: number): void {
    this.ctrl.withIrqsOff(() => {
      this.xChar = ch & 0xff;
      this.flush();
    });
  }

  /**
   * xencons_force_flush for a guest other than dom0 (machine_power_off and
   * machine_restart call it before the final hypercall), as one pass of its
   * loop: while bytes are pending and the transmitter is not empty, reap the
   * controller's responses by hand (ctrl_if_discard_responses: no callbacks)
   * and push the next chunk of up to 60 bytes. The caller must have blocked
   * upcalls (cli), as 2.0.0 does.
   *
   * Returns true when the loop ends, false when the ring is full: the real
   * loop spins there until the controller answers, so the caller comes back
   * later on the virtual clock. As in 2.0.0, the loop also ends when every
   * request has been answered even if bytes are still in wbuf (the condition
   * tests the transmitter, and only a full ring leaves bytes behind).
   */
  forceFlush(): boolean {
    while (this.wc !== this.wp && !this.ctrl.transmitterEmpty()) {
      this.ctrl.discardResponses();
      const at = this.wc & WBUF_MASK;
      const sz = Math.min(this.pending(), CTRL_MSG_MAX_PAYLOAD, WBUF_SIZE - at);
      if (this.send(this.wbuf, at, sz) !== 0) return false;
      this.wc = (this.wc + sz) >>> 0;
    }
    return true;
  }

  /**
   * A fault for labs about back-pressure: `pattern` is written through the
   * tty, 60 bytes at a time, until the control interface's tx ring is full
   * (CONTROL_RING_SIZE requests xend has not taken). Output after it waits in
   * wbuf until xend answers and frees slots. Returns the messages sent.
   */
  fillTxRing(pattern: Uint8Array): number {
    if (pattern.length === 0) throw new RangeError('the fill pattern is empty');
    const before = this.messagesSent;
    const chunk = new Uint8Array(CTRL_MSG_MAX_PAYLOAD);
    let at = 0;
    while (!this.ctrl.txFull() && this.pending() === 0) {
      for (let i = 0; i < chunk.length; i++) chunk[i] = pattern[(at + i) % pattern.length]!;
      at = (at + chunk.length) % pattern.length;
      if (this.ttyWrite(chunk) === 0) break;
    }
    return this.messagesSent - before;
  }

  /** xencons_flush_buffer: throw away what has not been sent. */
  flushBuffer(): void {
    this.wc = this.wp = 0;
  }

  /** xencons_open: input now goes to `onInput`; pending output is pushed. */
  open(onInput: (bytes: Uint8Array) => void): void {
    this.ctrl.withIrqsOff(() => {
      this.tty ??= onInput;
      this.flush();
    });
  }

  /** xencons_close (last close): input is dropped again (but still acknowledged). */
  close(): void {
    this.tty = undefined;
  }

  private put(b: number): void {
    this.wbuf[this.wp & WBUF_MASK] = b;
    this.wp = (this.wp + 1) >>> 0;
  }

  /**
   * __xencons_tx_flush for a non-dom0 guest: the x_char first, then chunks of
   * min(pending, 60, bytes to the end of wbuf), each a CMSG_CONSOLE_DATA
   * message with no callback. When the ring is full the bytes stay in wbuf
   * and the flush task is queued for when a tx slot frees.
   */
  private flush(): void {
    while (this.xChar !== 0) {
      const rc = this.send(Uint8Array.of(this.xChar), 0, 1);
      if (rc === 0) this.xChar = 0;
      else if (this.ctrl.enqueueSpaceCallback(this.flushTask)) break;
    }
    while (this.wc !== this.wp) {
      const at = this.wc & WBUF_MASK;
      const sz = Math.min(this.pending(), CTRL_MSG_MAX_PAYLOAD, WBUF_SIZE - at);
      const rc = this.send(this.wbuf, at, sz);
      if (rc === 0) this.wc = (this.wc + sz) >>> 0;
      else if (this.ctrl.enqueueSpaceCallback(this.flushTask)) break;
    }
  }

  /** A CMSG_CONSOLE_DATA message of `n` bytes of `src` from `at`, no callback (ctrl_if_send_message_noblock(&msg, NULL, 0)). */
  private send(src: Uint8Array, at: number, n: number): number {
    const rc = this.ctrl.sendBytesNoblock(CMSG_CONSOLE, CMSG_CONSOLE_DATA, src, at, n);
    if (rc === 0) this.messagesSent++;
    else if (rc !== -EAGAIN) throw new Error(`console send failed: ${rc}`);
    return rc;
  }

  /** xencons_tx_flush_task_routine: the space callback. */
  private readonly flushTask = (): void => {
    this.ctrl.withIrqsOff(() => this.flush());
  };

  /** xencons_rx: input bytes to the tty in order (dropped if none is open), then an empty response. */
  private readonly rx = (msg: CtrlMsg): void => {
    this.ctrl.withIrqsOff(() => {
      if (this.tty && msg.length > 0) this.tty(payloadOf(msg));
    });
    msg.length = 0;
    this.ctrl.sendResponse(msg);
  };
}
