/**
 * The event list's rows, paged from the host: the decoded records matching
 * the applied filter, fetched for the part of the list in view
 * (session.records), kept in a bounded cache of pages, dropped when the
 * session steps back before them. Requests are bounded: at most two in
 * flight, no more than one started every `minIntervalMs`, a page that
 * grows (the end of a live trace) asked again for its new rows only and at
 * most every `tailIntervalMs`; none for rows out of view.
 *
 * Without a filter the list is the whole trace: row i is record i, its count
 * is the trace store's, and its seq/time/domain/kind columns are read from
 * the trace store at once (only the summary waits for a page). With a
 * filter the count is the host's, asked again (throttled) as records
 * arrive — by asking for the rows after the last known match, which says
 * the new count and brings the new rows at once.
 */
import type { RecordIndex, RecordRow, RecordsPage } from '../../../../contract/session.js';

/** What the pager asks of the host (ctx.host's session.records and session.recordIndex). */
export interface PagerHost {
  records(filter: string, from: number, count: number): Promise<RecordsPage>;
  recordIndex(filter: string, seq: number): Promise<RecordIndex>;
}

export interface PagerOptions {
  pageRows?: number;
  maxInFlight?: number;
  minIntervalMs?: number;
  tailIntervalMs?: number;
  /** Pages kept; beyond, those farthest from the view go. */
  maxPages?: number;
  now?: () => number;
  later?: (fn: () => void, ms: number) => unknown;
}

/** How long a page the host refused is left alone. */
const RETRY_AFTER_MS = 2000;

export class RecordPager {
  readonly pageRows: number;
  private readonly maxInFlight: number;
  private readonly minIntervalMs: number;
  private readonly tailIntervalMs: number;
  private readonly maxPages: number;
  private readonly now: () => number;
  private readonly later: (fn: () => void, ms: number) => unknown;

  /** The applied filter ('' = every record). */
  filter = '';
  /** Records matching the filter so far; undefined while the host has not said. */
  total: number | undefined = 0;
  /** The host refused (a filter error it found, no session): what it said. */
  error: { message: string; start?: number; end?: number } | undefined;
  /** Called when rows, the total or the error changed. */
  onChange: () => void = () => {};
  /** Requests sent so far (for tests and the perf figures). */
  requests = 0;

  private traceCount = 0;
  /** Bumped whenever cached rows and answers on their way stop being valid. */
  private gen = 0;
  private readonly pages = new Map<number, RecordRow[]>();
  /** When each page was last answered or refused (a short page is asked again as the list grows, not sooner than tailIntervalMs). */
  private readonly askedAt = new Map<number, number>();
  private readonly inFlightPages = new Set<number>();
  private inFlight = 0;
  private lastStart = -Infinity;
  private timer = false;
  private visibleFirst = 0;
  private visibleEnd = 0;
  /** Filtered: the trace grew or was cut since the total was last asked. */
  private totalStale = false;
  private totalInFlight = false;
  private lastTotalAt = -Infinity;

  constructor(
    private readonly host: PagerHost,
    opts: PagerOptions = {},
  ) {
    this.pageRows = opts.pageRows ?? 100;
    this.maxInFlight = opts.maxInFlight ?? 2;
    this.minIntervalMs = opts.minIntervalMs ?? 40;
    this.tailIntervalMs = opts.tailIntervalMs ?? 60;
    this.maxPages = opts.maxPages ?? 120;
    this.now = opts.now ?? (() => performance.now());
    this.later = opts.later ?? ((fn, ms) => setTimeout(fn, ms));
  }

  get filtered(): boolean {
    return this.filter.trim() !== '';
  }

  /** A new filter (or a new session: `traceCount` 0): everything cached goes. */
  setFilter(filter: string, traceCount = this.traceCount): void {
    this.gen++;
    this.filter = filter.trim();
    this.traceCount = traceCount;
    this.pages.clear();
    this.askedAt.clear();
    this.dropInFlight();
    this.error = undefined;
    this.total = this.filtered ? undefined : traceCount;
    this.totalStale = this.filtered;
    this.lastTotalAt = -Infinity;
    this.pump();
    this.onChange();
  }

  /** The trace store's count changed; `truncated`: records from that seq on were dropped first. */
  setTraceCount(count: number, truncated?: number): void {
    const grew = count > this.traceCount;
    this.traceCount = count;
    if (truncated !== undefined) this.truncate(truncated);
    if (!this.filtered) this.setTotal(count);
    else if (grew || truncated !== undefined) this.totalStale = true;
    this.pump();
    this.onChange();
  }

  /** The part of the list in view (rows [first, end)); pages for it are fetched. */
  setVisible(first: number, end: number): void {
    this.visibleFirst = first;
    this.visibleEnd = end;
    this.pump();
  }

  /** Row `i` of the list, when its page is here. */
  row(i: number): RecordRow | undefined {
    return this.pages.get(Math.floor(i / this.pageRows))?.[i % this.pageRows];
  }

  /**
   * The rows a list following the end shows: up to the last row here, when
   * that is in the last two pages (so the newest rows appear with their
   * summaries, a round trip late, rather than blank). The pager must be told
   * the true end is in view (setVisible) for it to be fetched.
   */
  followTotal(): number {
    const total = this.total ?? 0;
    if (total === 0) return 0;
    const last = Math.floor((total - 1) / this.pageRows);
    for (let p = last; p >= Math.max(0, last - 1); p--) {
      const rows = this.pages.get(p);
      if (rows !== undefined && rows.length > 0) return Math.min(total, p * this.pageRows + rows.length);
    }
    return total;
  }

  /** Where record `seq` is in the list (and whether it passes the filter); undefined when the host cannot say. */
  async locate(seq: number): Promise<RecordIndex | undefined> {
    if (!this.filtered) return { index: Math.min(seq, this.traceCount), matches: seq < this.traceCount, total: this.traceCount };
    const gen = this.gen;
    try {
      this.requests++;
      const r = await this.host.recordIndex(this.filter, seq);
      if (gen !== this.gen) return undefined;
      this.setTotal(r.total);
      return r;
    } catch {
      return undefined;
    }
  }

  // ---- the cache

  private truncate(cut: number): void {
    this.gen++; // answers on their way may hold the dropped records
    this.dropInFlight();
    this.askedAt.clear();
    for (const [p, rows] of this.pages) {
      const keep = rows.findIndex((r) => r.seq >= cut);
      if (keep === 0) this.pages.delete(p);
      else if (keep > 0) rows.length = keep;
    }
    if (!this.filtered || this.total === undefined) return;
    // Matches are in seq order: the first page cut short ends them, as far as the cache knows.
    for (const p of [...this.pages.keys()].sort((a, b) => a - b)) {
      const rows = this.pages.get(p)!;
      if (rows.length < this.pageRows) {
        this.setTotal(Math.min(this.total, p * this.pageRows + rows.length));
        break;
      }
    }
  }

  private setTotal(total: number): void {
    if (total === this.total) return;
    const shorter = this.total !== undefined && total < this.total;
    this.total = total;
    if (!shorter) return;
    // Rows past the total are gone (a shorter trace).
    for (const [p, rows] of this.pages) {
      const keep = total - p * this.pageRows;
      if (keep <= 0) this.pages.delete(p);
      else if (rows.length > keep) rows.length = keep;
    }
  }

  /** Puts rows [from, from + rows.length) in their pages, where they follow on from what a page holds. */
  private store(from: number, rows: readonly RecordRow[]): void {
    for (let k = 0; k < rows.length; k++) {
      const i = from + k;
      const p = Math.floor(i / this.pageRows);
      const off = i % this.pageRows;
      let page = this.pages.get(p);
      if (page === undefined && off === 0) this.pages.set(p, (page = []));
      if (page === undefined || page.length < off) continue; // not next to what is held: fetched when in view
      page[off] = rows[k]!;
    }
  }

  /** Rows page p holds once complete, as far as the total is known. */
  private expected(p: number): number {
    return Math.max(0, Math.min(this.pageRows, (this.total ?? 0) - p * this.pageRows));
  }

  private evict(): void {
    if (this.pages.size <= this.maxPages) return;
    const centre = (this.visibleFirst + this.visibleEnd) / 2 / this.pageRows;
    const far = [...this.pages.keys()].sort((a, b) => Math.abs(b - centre) - Math.abs(a - centre));
    for (const p of far.slice(0, this.pages.size - this.maxPages)) {
      this.pages.delete(p);
      this.askedAt.delete(p);
    }
  }

  // ---- fetching

  private dropInFlight(): void {
    this.inFlight = 0;
    this.inFlightPages.clear();
    this.totalInFlight = false;
  }

  /** The first page in view that is missing or short (one asked a moment ago waits tailIntervalMs). */
  private nextPage(now: number): { page: number; wait: number } | undefined {
    if (this.visibleEnd <= this.visibleFirst) return undefined;
    const p0 = Math.floor(this.visibleFirst / this.pageRows);
    const p1 = Math.floor((this.visibleEnd - 1) / this.pageRows);
    let soonest: { page: number; wait: number } | undefined;
    for (let p = p0; p <= p1; p++) {
      if (this.inFlightPages.has(p) || (this.pages.get(p)?.length ?? 0) >= this.expected(p)) continue;
      const asked = this.askedAt.get(p);
      const wait = asked === undefined ? 0 : asked + this.tailIntervalMs - now;
      if (wait <= 0) return { page: p, wait: 0 };
      if (soonest === undefined || wait < soonest.wait) soonest = { page: p, wait };
    }
    return soonest;
  }

  private pump(): void {
    if (this.inFlight >= this.maxInFlight) return; // an answer pumps again
    const now = this.now();
    const gap = this.lastStart + this.minIntervalMs - now;
    if (gap > 0) return this.wake(gap);
    if (this.filtered && this.totalStale && !this.totalInFlight) {
      const wait = this.lastTotalAt + this.tailIntervalMs - now;
      if (this.total === undefined || wait <= 0) return this.askTotal(now);
      this.wake(wait);
    }
    const next = this.nextPage(now);
    if (next === undefined) return;
    if (next.wait > 0) return this.wake(next.wait);
    this.askPage(next.page, now);
  }

  private wake(ms: number): void {
    if (this.timer) return;
    this.timer = true;
    this.later(
      () => {
        this.timer = false;
        this.pump();
      },
      Math.max(1, Math.ceil(ms)),
    );
  }

  private send(from: number, page: number, now: number, done?: () => void): void {
    const gen = this.gen;
    this.inFlightPages.add(page);
    this.inFlight++;
    this.lastStart = now;
    this.requests++;
    this.host.records(this.filter, from, this.pageRows).then(
      (r) => {
        if (gen !== this.gen) return;
        done?.();
        this.answered(page, r);
      },
      (e: unknown) => {
        if (gen !== this.gen) return;
        done?.();
        this.failed(page, e);
      },
    );
  }

  /** Page p's rows, from the first one it lacks. */
  private askPage(p: number, now: number): void {
    this.send(p * this.pageRows + (this.pages.get(p)?.length ?? 0), p, now);
    this.pump();
  }

  /** Filtered: the rows after the last known match, whose answer says the new total. */
  private askTotal(now: number): void {
    const from = this.total ?? 0;
    this.totalStale = false;
    this.totalInFlight = true;
    this.lastTotalAt = now;
    this.send(from, Math.floor(from / this.pageRows), now, () => (this.totalInFlight = false));
  }

  private answered(p: number, r: RecordsPage): void {
    this.inFlight--;
    this.inFlightPages.delete(p);
    this.askedAt.set(p, this.now());
    if (r.filterError !== undefined) {
      this.error = { ...r.filterError };
      this.setTotal(0);
      this.onChange();
      return;
    }
    this.error = undefined;
    if (this.filtered) this.setTotal(r.total);
    this.store(r.from, r.rows);
    this.evict();
    this.onChange();
    this.pump();
  }

  private failed(p: number, e: unknown): void {
    this.inFlight--;
    this.inFlightPages.delete(p);
    // Not again for a while: no retry loop against a host that refuses.
    this.askedAt.set(p, this.now() + RETRY_AFTER_MS);
    this.error = { message: e instanceof Error ? e.message : String(e) };
    this.onChange();
  }
}
