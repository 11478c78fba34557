/**
 * A guest's end of the PV console ring, after Mini-OS's
 * console/xencons_ring.c: output is copied into out[] while there is room
 * and out_prod published after the bytes; input is taken from in[] up to
 * in_prod, in_cons published, and the backend told.
 *
 * xencons_ring_send returns how much fitted; Mini-OS's console_print ignores
 * that and loses the rest when the ring is full. `write` does what Linux's
 * hvc_xen driver achieves by retrying: the rest waits here and goes out each
 * time xenconsoled's event says it has made room, so nothing is lost.
 */
import { RingPass } from '../util/ring_pass.js';
import { XENCONS_IN, XENCONS_IN_SIZE, XENCONS_OUT, XENCONS_OUT_SIZE, XenconsIndexes } from '../abi/console_ring.js';
import { ringGet, ringPut } from '../util/byte_ring.js';

// Module-local copies of the imported constants and helpers used on the hot path: read once here,
// they cost nothing per byte whatever the module loader does with imports.
const IN = XENCONS_IN;
const IN_SIZE = XENCONS_IN_SIZE;
const OUT = XENCONS_OUT;
const OUT_SIZE = XENCONS_OUT_SIZE;
const copyOut = ringGet;
const copyIn = ringPut;

export interface XenconsRingStats {
  /** Bytes copied into out[]. */
  sent: number;
  /** Bytes taken from in[]. */
  received: number;
  notifies: number;
}

export class XenconsRing {
  readonly idx: XenconsIndexes;
  readonly stats: XenconsRingStats = { sent: 0, received: 0, notifies: 0 };
  /** Set when an index pair is more than a ring apart (Mini-OS's BUG_ON); the ring is left alone after that. */
  error: string | undefined;
  /** Output that did not fit yet, oldest first; the head may be partly sent. */
  private readonly backlog: Uint8Array[] = [];
  private backlogOff = 0;
  private backlogBytes = 0;
  private readonly pass = new RingPass();
  private readonly inAndOut = (): void => {
    this.takeInput();
    this.flush();
  };

  constructor(
    readonly page: Uint8Array,
    /** EVTCHNOP_send on the console port (start_info.console.domU.evtchn). */
    public notify: () => void,
    /** xencons_rx: where typed input goes, in order. */
    public onInput: (bytes: Uint8Array) => void = () => {},
  ) {
    this.idx = new XenconsIndexes(page);
  }

  /** Output bytes waiting for room on the ring. */
  pending(): number {
    return this.backlogBytes;
  }

  /**
   * xencons_ring_send_no_notify: copy as much of bytes[off, off+len) as
   * fits, publish out_prod after it, return how much went.
   */
  sendNoNotify(bytes: Uint8Array, off = 0, len = bytes.length - off): number {
    if (this.error !== undefined) return 0;
    const cons = this.idx.outCons;
    const prod = this.idx.outProd;
    const used = (prod - cons) >>> 0;
    if (used > OUT_SIZE) {
      this.error = `out indexes ${prod} and ${cons} are more than a ring apart`;
      return 0;
    }
    const n = Math.min(len, OUT_SIZE - used);
    if (n === 0) return 0;
    copyIn(this.page, OUT, OUT_SIZE, prod, bytes, off, n);
    this.idx.outProd = prod + n;
    this.stats.sent += n;
    return n;
  }

  /** xencons_ring_send: the same, then always an event (Mini-OS does not avoid it). */
  send(bytes: Uint8Array): number {
    const n = this.sendNoNotify(bytes);
    this.sendEvent();
    return n;
  }

  /**
   * Output that is never lost: what does not fit waits, in order, behind
   * anything already waiting. One event if any byte reached the ring.
   */
  write(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    let off = 0;
    if (this.backlog.length === 0) {
      // Nothing queued ahead: straight onto the ring, only the rest is kept.
      off = this.sendNoNotify(bytes);
      if (off > 0) this.pass.moved = true;
    }
    if (off < bytes.length) {
      this.backlog.push(bytes.slice(off));
      this.backlogBytes += bytes.length - off;
    }
    this.pump();
  }

  /**
   * A fault for labs about back-pressure: the driver copies `pattern` into
   * out[] again and again until the ring is full (out_prod - out_cons is the
   * ring's size), then sends its event. Output written after it waits here
   * until xenconsoled makes room. Returns the bytes put in.
   */
  fill(pattern: Uint8Array): number {
    if (pattern.length === 0) throw new RangeError('the fill pattern is empty');
    let n = 0;
    for (let k = this.sendNoNotify(pattern); k > 0; k = this.sendNoNotify(pattern)) n += k;
    if (n > 0) this.sendEvent();
    return n;
  }

  /** Bytes in out[] that xenconsoled has not taken yet. */
  outUsed(): number {
    return (this.idx.outProd - this.idx.outCons) >>> 0;
  }

  /** The console port fired: take input, move waiting output, one event if an index moved. */
  onNotify(): void {
    this.pump();
  }

  private pump(): void {
    if (this.pass.run(this.inAndOut)) this.sendEvent();
  }


  private sendEvent(): void {
    this.stats.notifies++;
    this.notify();
  }

  /** Move backlog into out[] while it fits. */
  private flush(): void {
    while (this.backlog.length > 0) {
      const head = this.backlog[0]!;
      const n = this.sendNoNotify(head, this.backlogOff, head.length - this.backlogOff);
      if (n === 0) return;
      this.pass.moved = true;
      this.backlogBytes -= n;
      this.backlogOff += n;
      if (this.backlogOff === head.length) {
        this.backlog.shift();
        this.backlogOff = 0;
      }
    }
  }

  /** console_handle_input: in[] from in_cons to in_prod to onInput, then in_cons. */
  private takeInput(): void {
    if (this.error !== undefined) return;
    const cons = this.idx.inCons;
    const prod = this.idx.inProd;
    const n = (prod - cons) >>> 0;
    if (n > IN_SIZE) {
      this.error = `in indexes ${prod} and ${cons} are more than a ring apart`;
      return;
    }
    if (n === 0) return;
    const bytes = new Uint8Array(n);
    copyOut(this.page, IN, IN_SIZE, cons, bytes, 0, n);
    this.idx.inCons = prod;
    this.pass.moved = true;
    this.stats.received += n;
    this.onInput(bytes);
  }
}

/**
 * console_print's line ending: every "\n" goes out as "\r\n" (Mini-OS turns
 * each newline into a carriage return followed by the newline).
 */
export function crlf(bytes: Uint8Array): Uint8Array {
  let nl = 0;
  for (const b of bytes) if (b === 0x0a) nl++;
  if (nl === 0) return bytes;
  const out = new Uint8Array(bytes.length + nl);
  let at = 0;
  for (const b of bytes) {
    if (b === 0x0a) out[at++] = 0x0d;
    out[at++] = b;
  }
  return out;
}
