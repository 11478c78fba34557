/**
 * The event list's pages: decoded records with a one-line summary, in seq
 * order, matching a filter in the trace filter language
 * (src/core/sim/filter.ts, docs/filter.md; '' is every record). A filter
 * that does not parse answers with its error (where, and what is wrong)
 * and no rows. The records a filter matched are remembered, so paging
 * through them, or asking again as the trace grows, scans only what is new.
 */
import { compileFilter, parseFilter, type FilterError, type FilterExpr, type RecordPredicate } from '../../core/sim/filter.js';
import { HostError } from '../../contract/api.js';
import type { RecordIndex, RecordsPage } from '../../contract/session.js';
import { recordRow, type XenVersion } from './record_summary.js';
import { TRACE_KINDS, type TraceLog } from './trace_log.js';

/** Most rows in one page. */
export const MAX_PAGE_ROWS = 1000;

/** The seqs matching one filter text, as far as the trace has been scanned. */
interface Matches {
  text: string;
  test: RecordPredicate;
  /** Bit k set: records of kind k (TRACE_KINDS) may match; the others are skipped without being decoded. */
  kinds: number;
  seqs: number[];
  scanned: number;
}

const ALL_KINDS = (1 << TRACE_KINDS.length) - 1;

/**
 * The kinds of record a filter can match, from its kind conditions
 * (`kind==hypercall && op==send` can only match hypercalls): decoding is
 * what costs when a filter scans a million records, and most filters name
 * a kind. Anything else may match any kind.
 */
export function filterKinds(e: FilterExpr): number {
  switch (e.type) {
    case 'and':
      return filterKinds(e.left) & filterKinds(e.right);
    case 'or':
      return filterKinds(e.left) | filterKinds(e.right);
    case 'not':
      // Only a kind condition negates exactly.
      return e.expr.type === 'compare' && kindCompared(e.expr) !== undefined ? ALL_KINDS & ~filterKinds(e.expr) : ALL_KINDS;
    case 'compare': {
      const k = kindCompared(e);
      if (k === undefined) return ALL_KINDS;
      return e.op === '==' ? 1 << k : ALL_KINDS & ~(1 << k);
    }
    default:
      return ALL_KINDS;
  }
}

/** The kind number a `kind==x` or `kind!=x` condition names. */
function kindCompared(e: Extract<FilterExpr, { type: 'compare' }>): number | undefined {
  if (e.field !== 'kind' || (e.op !== '==' && e.op !== '!=') || e.value.type === 'number') return undefined;
  const k = TRACE_KINDS.indexOf(e.value.type === 'name' ? e.value.name : e.value.value);
  return k < 0 ? undefined : k;
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
      m = { text: filter, test: compileFilter(parsed.filter), kinds: filterKinds(parsed.filter.expr), seqs: [], scanned: 0 };
      this.last = m;
    }
    const log = this.log;
    const { kinds, test, seqs } = m;
    let seq = m.scanned;
    for (; seq < log.count; seq++) if (((kinds >>> log.kind(seq)) & 1) !== 0 && test(log.record(seq)!)) seqs.push(seq);
    m.scanned = seq;
    return m;
  }
}
