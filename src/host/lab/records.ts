/**
 * The event list's pages: decoded records with a one-line summary, in seq
 * order, matching a filter in the trace filter language
 * (src/core/sim/filter.ts, docs/filter.md; '' is every record). A filter
 * that does not parse answers with its error (where, and what is wrong)
 * and no rows. The records a filter matched are remembered, so paging
 * through them, or asking again as the trace grows, scans only what is new.
 */
import { compileFilter, parseFilter, type FilterError, type RecordPredicate } from '../../core/sim/filter.js';
import { HostError } from '../../contract/api.js';
import type { RecordIndex, RecordsPage } from '../../contract/session.js';
import { recordRow, type XenVersion } from './record_summary.js';
import type { TraceLog } from './trace_log.js';

/** Most rows in one page. */
export const MAX_PAGE_ROWS = 1000;

/** The seqs matching one filter text, as far as the trace has been scanned. */
interface Matches {
  text: string;
  test: RecordPredicate;
  seqs: number[];
  scanned: number;
}

export class RecordPages {
  private last: Matches | undefined;

  constructor(
    private readonly log: TraceLog,
    private readonly xen: XenVersion,
  ) {}

  page(filter: string, from: number, count: number): RecordsPage {
    const n = Math.min(count, MAX_PAGE_ROWS);
    const log = this.log;
    if (filter.trim() === '') {
      const rows = [];
      for (let seq = from; seq < Math.min(log.count, from + n); seq++) rows.push(recordRow(log.record(seq)!, this.xen));
      return { total: log.count, from, rows };
    }
    const m = this.matches(filter);
    if ('error' in m) {
      const { start, end, message } = m.error;
      return { total: 0, from, rows: [], filterError: { start, end, message } };
    }
    const rows = m.seqs.slice(from, from + n).map((seq) => recordRow(log.record(seq)!, this.xen));
    return { total: m.seqs.length, from, rows };
  }

  /** Where record `seq` stands among the matches of `filter` (the first match after it when it does not match). */
  index(filter: string, seq: number): RecordIndex {
    const log = this.log;
    if (filter.trim() === '') return { index: Math.min(seq, log.count), matches: seq < log.count, total: log.count };
    const m = this.matches(filter);
    if ('error' in m) throw new HostError('input', `the filter does not parse: ${m.error.message} (at ${m.error.start + 1})`);
    // Matches are in seq order: a binary search for the first one at or after seq.
    let lo = 0;
    let hi = m.seqs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (m.seqs[mid]! < seq) lo = mid + 1;
      else hi = mid;
    }
    return { index: lo, matches: m.seqs[lo] === seq, total: m.seqs.length };
  }

  /** The filter's matches over the whole trace so far (scanning only records not yet scanned), or its parse error. */
  private matches(filter: string): Matches | { error: FilterError } {
    let m = this.last;
    if (m === undefined || m.text !== filter) {
      const parsed = parseFilter(filter, { xen: this.xen });
      if (!parsed.ok) return { error: parsed.error };
      m = { text: filter, test: compileFilter(parsed.filter), seqs: [], scanned: 0 };
      this.last = m;
    }
    const log = this.log;
    for (; m.scanned < log.count; m.scanned++) if (m.test(log.record(m.scanned)!)) m.seqs.push(m.scanned);
    return m;
  }
}
