/**
 * xenconsoled, the console daemon in dom0 (tools/console/daemon/io.c): for
 * each domain it maps the console page, binds the console port, marks the
 * page XENCONSOLE_CONNECTED, and on each event drains out[] into the
 * domain's console buffer (buffer_append) and feeds typed input into in[]
 * (handle_tty_read, at most 80 bytes a read, never more than the ring has free).
 *
 * Where io.c sends an event after every drain and every input read, this
 * sends one per batch. The per-domain rate limit (30 events per 200 ms, then
 * the port stays masked) is not modelled.
 *
 * With the trace on, each drain of out[] and each read put into in[] is a
 * `cons` record (the bytes, and out_cons or in_prod after the move).
 */
import { RingPass } from '../util/ring_pass.js';
import { XENCONS_IN, XENCONS_IN_SIZE, XENCONS_OUT, XENCONS_OUT_SIZE, XENCONSOLE_CONNECTED, XenconsIndexes } from '../abi/console_ring.js';
import { ringGet, ringPut } from '../util/byte_ring.js';
import { utf8Decode } from '../util/bytes.js';
import { CONS_IN, CONS_OUT, CONS_TEXT_MAX, TK, traceText, type Trace } from '../sim/trace.js';

// Module-local copies of the imported constants and helpers used on the hot path: read once here,
// they cost nothing per byte whatever the module loader does with imports.
const IN = XENCONS_IN;
const IN_SIZE = XENCONS_IN_SIZE;
const OUT = XENCONS_OUT;
const OUT_SIZE = XENCONS_OUT_SIZE;
const copyOut = ringGet;
const copyIn = ringPut;

/** sizeof(msg) in handle_tty_read: input bytes taken from the tty per read. */
export const TTY_READ_CHUNK = 80;

export interface XenconsoledOptions {
  /**
   * The buffer limit (max_capacity, xenconsoled --buffer-size): while this
   * many output bytes have gathered and not all been read, the console's
   * events are not taken, so the ring fills and the guest waits. 0: no limit.
   */
  bufferMax?: number;
  /** Where cons records go (the machine's trace); none: nothing is recorded. */
  trace?: Trace;
}

export interface ConsoleStats {
  /** Output bytes taken from out[]. */
  output: number;
  /** Input bytes put into in[]. */
  input: number;
  notifies: number;
  /** Events that found out_prod - out_cons over the ring size: ignored, as buffer_append does. */
  badIndexes: number;
}

/** One domain's console as xenconsoled holds it (struct console). */
export class ConsoleConn {
  readonly idx: XenconsIndexes;
  readonly stats: ConsoleStats = { output: 0, input: 0, notifies: 0, badIndexes: 0 };
  /** Every output chunk as it is drained (the log file and the tty client see the same bytes). */
  onOutput: ((bytes: Uint8Array) => void) | undefined;
  /** Where every move of bytes through the ring is recorded, when it is on. */
  trace: Trace | undefined;
  /** struct buffer: data[consumed, size) is output not yet read. */
  private data = new Uint8Array(4096);
  private size = 0;
  private consumed = 0;
  /** Typed input not yet on the ring (what waits in the pty). */
  private readonly tty: Uint8Array[] = [];
  private ttyOff = 0;
  /** An event came while the buffer was full: take it once there is room. */
  private eventPending = false;
  private readonly pass = new RingPass();
  private readonly drainAndFeed = (): void => {
    if (this.eventPending && this.bufferAvailable()) {
      this.eventPending = false;
      this.bufferAppend();
    }
    this.ttyRead();
  };

  constructor(
    readonly domid: number,
    readonly page: Uint8Array,
    /** xenevtchn_notify on xenconsoled's end of the console port. */
    public notify: () => void,
    /** xenconsoled's local port for this console (0 when the caller does not track it). */
    readonly localPort: number,
    readonly bufferMax: number,
    trace?: Trace,
  ) {
    this.trace = trace;
    this.idx = new XenconsIndexes(page);
    this.idx.connection = XENCONSOLE_CONNECTED;
  }

  /** The console port fired. */
  onNotify(): void {
    this.eventPending = true;
    this.service();
  }

  /** Bytes typed at the console (the pty master): they reach in[] as room allows. */
  type(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.tty.push(bytes.slice());
    this.service();
  }

  /** Output waiting to be read. */
  unread(): number {
    return this.size - this.consumed;
  }

  /** Typed input not yet on the ring. */
  inputWaiting(): number {
    let n = 0;
    for (const b of this.tty) n += b.length;
    return n - this.ttyOff;
  }

  /** Reads (and removes) up to `max` bytes of output, as handle_tty_write does for the client. */
  take(max = Infinity): Uint8Array {
    const n = Math.min(max, this.unread());
    const out = this.data.slice(this.consumed, this.consumed + n);
    this.consumed += n;
    if (this.consumed === this.size) this.consumed = this.size = 0; // buffer_advance
    if (this.eventPending) this.service();
    return out;
  }

  /** The unread output as text (not removed). */
  text(): string {
    return utf8Decode(this.data.subarray(this.consumed, this.size));
  }

  /** buffer_available. */
  private bufferAvailable(): boolean {
    return this.bufferMax === 0 || this.size < this.bufferMax;
  }

  private service(): void {
    if (this.pass.run(this.drainAndFeed)) {
      this.stats.notifies++;
      this.notify();
    }
  }


  /** buffer_append: everything between out_cons and out_prod, unless that claims more than the ring holds. */
  private bufferAppend(): void {
    const cons = this.idx.outCons;
    const prod = this.idx.outProd;
    const n = (prod - cons) >>> 0;
    if (n === 0) return;
    if (n > OUT_SIZE) {
      this.stats.badIndexes++;
      if (this.trace?.on) this.trace.emit(TK.note, this.domid, -1, -1, 0, 0, 0, { text: `xenconsoled: out_prod ${prod} - out_cons ${cons} is more than the ring holds; ignored` });
      return;
    }
    this.reserve(n);
    copyOut(this.page, OUT, OUT_SIZE, cons, this.data, this.size, n);
    const chunk = this.data.subarray(this.size, this.size + n);
    this.size += n;
    this.idx.outCons = prod;
    this.pass.moved = true;
    this.stats.output += n;
    if (this.trace?.on) this.trace.emit(TK.cons, this.domid, CONS_OUT, prod | 0, n, 0, 0, { text: traceText(chunk, 0, n, CONS_TEXT_MAX) });
    this.onOutput?.(chunk);
  }

  private reserve(n: number): void {
    if (this.data.length - this.size >= n) return;
    const next = new Uint8Array(Math.max(this.data.length * 2, this.size + n + 1024));
    next.set(this.data.subarray(0, this.size));
    this.data = next;
  }

  /** handle_tty_read, repeated while input waits and in[] has room: 80 bytes at most per read. */
  private ttyRead(): void {
    while (this.tty.length > 0) {
      const cons = this.idx.inCons;
      const prod = this.idx.inProd;
      const used = (prod - cons) >>> 0;
      // ring_free_bytes: a ring claiming more than it holds is "screwed" and gets nothing.
      const free = used > IN_SIZE ? 0 : IN_SIZE - used;
      if (free === 0) return;
      const head = this.tty[0]!;
      const n = Math.min(free, TTY_READ_CHUNK, head.length - this.ttyOff);
      copyIn(this.page, IN, IN_SIZE, prod, head, this.ttyOff, n);
      this.idx.inProd = prod + n;
      this.pass.moved = true;
      this.stats.input += n;
      if (this.trace?.on) this.trace.emit(TK.cons, this.domid, CONS_IN, (prod + n) | 0, n, 0, 0, { text: traceText(head, this.ttyOff, this.ttyOff + n, CONS_TEXT_MAX) });
      this.ttyOff += n;
      if (this.ttyOff === head.length) {
        this.tty.shift();
        this.ttyOff = 0;
      }
    }
  }
}

export class Xenconsoled {
  readonly consoles = new Map<number, ConsoleConn>();
  readonly bufferMax: number;
  /** Handed to each console attached from now on (ConsoleConn.trace). */
  trace: Trace | undefined;

  constructor(opts: XenconsoledOptions = {}) {
    this.bufferMax = opts.bufferMax ?? 0;
    this.trace = opts.trace;
  }

  /**
   * console_create_ring, once the page is mapped (grant GNTTAB_RESERVED_CONSOLE
   * or the ring-ref frame) and the port bound: the page says CONNECTED from now on.
   */
  attach(domid: number, page: Uint8Array, notify: () => void, localPort = 0): ConsoleConn {
    if (this.consoles.has(domid)) throw new Error(`domain ${domid} already has a console`);
    const c = new ConsoleConn(domid, page, notify, localPort, this.bufferMax, this.trace);
    this.consoles.set(domid, c);
    return c;
  }

  /** The domain is gone (cleanup_domain). */
  detach(domid: number): void {
    this.consoles.delete(domid);
  }

  get(domid: number): ConsoleConn {
    const c = this.consoles.get(domid);
    if (!c) throw new Error(`domain ${domid} has no console`);
    return c;
  }

  /** The domain's console port fired at xenconsoled's end. */
  onNotify(domid: number): void {
    this.consoles.get(domid)?.onNotify();
  }

  /** Same, found by local port. */
  onPort(localPort: number): void {
    for (const c of this.consoles.values()) if (c.localPort === localPort) c.onNotify();
  }
}
