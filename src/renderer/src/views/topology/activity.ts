/**
 * Notifications as the topology animates them. HandlerScanner reads the
 * streamed trace columns for handler records and the record each points at
 * (its `cause`: the send hypercall or the VIRQ/PIRQ raise that made its port
 * pending). Activity turns them into what is drawn: a dot travelling along
 * the channel's edge, at most one per edge every DOT_GAP_MS, MAX_DOTS in all,
 * and none on an edge busier than DOT_RATE_LIMIT a second; beyond that each
 * notification only warms its edge (heat, decaying) and counts toward its
 * rate, so thousands a second show as a hot edge with a rate, not thousands
 * of dots. Pure and allocation-free per record.
 */
import type { TraceColumns } from '../../../../contract/trace_batch.js';

/** What made a handler's port pending: a hypercall (a send, an unmask…) by `causeDom`, a raise (VIRQ/PIRQ), or nothing known. */
export type CauseKind = 'hypercall' | 'raise' | 'none';

export type HandlerFn = (dom: number, port: number, causeDom: number, cause: CauseKind) => void;

/** At most this many of the newest records are looked at in one scan (older ones are not animated). */
export const SCAN_BACKLOG = 20_000;

export class HandlerScanner {
  /** Records looked at so far. */
  scanned = 0;

  constructor(
    private readonly handler: number,
    private readonly hypercall: number,
    private readonly raise: number,
  ) {}

  static forKinds(traceKinds: readonly string[]): HandlerScanner {
    return new HandlerScanner(traceKinds.indexOf('handler'), traceKinds.indexOf('hypercall'), traceKinds.indexOf('raise'));
  }

  /** Records below this are not animated even when they arrive later (the catch-up after a seek or a replay). */
  private quiet = 0;

  /** Nothing before `count` is animated (a new session, a view that was hidden). */
  skipTo(count: number): void {
    this.scanned = count;
  }

  /** Records up to `records` (the session's count after a jump) are streamed as a catch-up: not animated. */
  quietUntil(records: number): void {
    this.quiet = records;
  }

  /** Calls `fn` for each handler record in [scanned, count); returns how many records were looked at. */
  scan(cols: TraceColumns, count: number, fn: HandlerFn): number {
    if (count < this.scanned) this.scanned = count; // the session stepped back
    const from = Math.max(this.scanned, this.quiet, count - SCAN_BACKLOG);
    const { kind, dom, port, cause } = cols;
    for (let i = from; i < count; i++) {
      if (kind[i] !== this.handler) continue;
      const c = cause[i]!;
      let ck: CauseKind = 'none';
      let cd = -1;
      if (c >= 0 && c < count) {
        const k = kind[c];
        ck = k === this.hypercall ? 'hypercall' : k === this.raise ? 'raise' : 'none';
        cd = dom[c]!;
      }
      fn(dom[i]!, port[i]!, cd, ck);
    }
    const n = Math.max(0, count - from);
    this.scanned = count;
    return n;
  }
}

export const DOT_MS = 650;
export const DOT_GAP_MS = 140;
export const MAX_DOTS = 48;
/** Above this many notifications a second an edge shows heat and its rate only: dots would be a blur. */
export const DOT_RATE_LIMIT = 12;
/** Heat added by one notification (1 is the most), and how fast it halves. */
export const HEAT_STEP = 0.3;
export const HEAT_HALF_LIFE_MS = 350;
const RATE_WINDOW_MS = 500;

export interface Dot {
  alive: boolean;
  edge: string;
  /** Travelling from end a to end b (else b to a). */
  toB: boolean;
  born: number;
}

interface EdgeActivity {
  heat: number;
  lastDot: number;
  windowStart: number;
  windowCount: number;
  /** Notifications a second over the last full window. */
  rate: number;
}

export class Activity {
  readonly dots: Dot[] = Array.from({ length: MAX_DOTS }, () => ({ alive: false, edge: '', toB: true, born: 0 }));
  private readonly edges = new Map<string, EdgeActivity>();
  private readonly ports = new Map<number, { heat: number }>();
  private last = 0;
  /** Notifications seen since the start (drawn or not). */
  notified = 0;
  /** Dots started since the start. */
  dotsStarted = 0;

  /** A notification along edge `key`; true when a dot was started for it. */
  notifyEdge(key: string, toB: boolean, now: number): boolean {
    this.notified++;
    let a = this.edges.get(key);
    if (a === undefined) this.edges.set(key, (a = { heat: 0, lastDot: -Infinity, windowStart: now, windowCount: 0, rate: 0 }));
    a.heat = Math.min(1, a.heat + HEAT_STEP);
    a.windowCount++;
    if (now - a.lastDot < DOT_GAP_MS) return false;
    const soFar = (a.windowCount * 1000) / Math.max(RATE_WINDOW_MS / 2, now - a.windowStart);
    if (Math.max(a.rate, soFar) > DOT_RATE_LIMIT) return false;
    let free: Dot | undefined;
    for (const d of this.dots) {
      if (!d.alive) {
        free = d;
        break;
      }
    }
    if (free === undefined) return false;
    a.lastDot = now;
    free.alive = true;
    free.edge = key;
    free.toB = toB;
    free.born = now;
    this.dotsStarted++;
    return true;
  }

  /** A notification that has no edge (a VIRQ from Xen, a PIRQ, an IPI, a re-raise inside a domain): the port pulses. */
  notifyPort(key: number): void {
    this.notified++;
    let p = this.ports.get(key);
    if (p === undefined) this.ports.set(key, (p = { heat: 0 }));
    p.heat = Math.min(1, p.heat + 0.6);
  }

  /** Whether a dot is flying (the picture then changes every frame; heat alone may be drawn less often). */
  get flying(): boolean {
    for (const d of this.dots) if (d.alive) return true;
    return false;
  }

  /** Moves time on: heat cools, rates close their window, dots arrive. False when nothing is left to draw. */
  tick(now: number): boolean {
    const dt = this.last === 0 ? 16 : Math.max(0, now - this.last);
    this.last = now;
    const cool = Math.pow(0.5, dt / HEAT_HALF_LIFE_MS);
    let busy = false;
    for (const [k, a] of this.edges) {
      a.heat *= cool;
      if (now - a.windowStart >= RATE_WINDOW_MS) {
        a.rate = (a.windowCount * 1000) / (now - a.windowStart);
        a.windowStart = now;
        a.windowCount = 0;
      }
      if (a.heat < 0.01 && a.rate === 0 && a.windowCount === 0 && now - a.lastDot > DOT_MS) this.edges.delete(k);
      else busy = true;
    }
    for (const [k, p] of this.ports) {
      p.heat *= cool;
      if (p.heat < 0.01) this.ports.delete(k);
      else busy = true;
    }
    for (const d of this.dots) {
      if (!d.alive) continue;
      if (now - d.born >= DOT_MS) d.alive = false;
      else busy = true;
    }
    return busy;
  }

  /** How far along its edge a dot is (0..1, eased), or -1 when it is not flying. */
  progress(d: Dot, now: number): number {
    if (!d.alive) return -1;
    const t = Math.min(1, (now - d.born) / DOT_MS);
    const e = t < 0.5 ? 2 * t * t : 1 - Math.pow(-2 * t + 2, 2) / 2;
    return d.toB ? e : 1 - e;
  }

  heat(key: string): number {
    return this.edges.get(key)?.heat ?? 0;
  }

  rate(key: string): number {
    return this.edges.get(key)?.rate ?? 0;
  }

  portHeat(key: number): number {
    return this.ports.get(key)?.heat ?? 0;
  }

  /** The edges and ports with something to draw (for the renderer to visit). */
  activeEdges(): IterableIterator<string> {
    return this.edges.keys();
  }

  activePorts(): IterableIterator<number> {
    return this.ports.keys();
  }

  clear(): void {
    this.edges.clear();
    this.ports.clear();
    for (const d of this.dots) d.alive = false;
  }
}
