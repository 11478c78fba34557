/**
 * The event list's pages: decoded records with a one-line summary, in seq
 * order, matching a filter. The filter language (src/core/sim/filter.ts,
 * docs/filter.md) is not in this branch yet: only the empty filter (every
 * record) is accepted, and any other text is answered with a filterError
 * that says so. When filter.ts lands, `matcher` compiles the text with it.
 */
import type { TraceRecord } from '../../core/sim/trace.js';
import type { RecordsPage } from '../../contract/session.js';
import { recordRow, type XenVersion } from './record_summary.js';
import type { TraceLog } from './trace_log.js';

/** Most rows in one page. */
export const MAX_PAGE_ROWS = 1000;

type Matcher = { ok: true; test: ((r: TraceRecord) => boolean) | undefined } | { ok: false; error: { start: number; end: number; message: string } };

function matcher(filter: string): Matcher {
  if (filter.trim() === '') return { ok: true, test: undefined };
  return {
    ok: false,
    error: { start: 0, end: filter.length, message: 'the filter language is not in this build yet: leave the filter empty to list every record' },
  };
}

export function recordsPage(log: TraceLog, xen: XenVersion, filter: string, from: number, count: number): RecordsPage {
  const m = matcher(filter);
  if (!m.ok) return { total: 0, from, rows: [], filterError: m.error };
  const n = Math.min(count, MAX_PAGE_ROWS);
  if (m.test === undefined) {
    const rows = [];
    for (let seq = from; seq < Math.min(log.count, from + n); seq++) rows.push(recordRow(log.record(seq)!, xen));
    return { total: log.count, from, rows };
  }
  // A filtered page: the matching records counted from the start (the event list pages through them).
  const rows = [];
  let total = 0;
  for (let seq = 0; seq < log.count; seq++) {
    const r = log.record(seq)!;
    if (!m.test(r)) continue;
    if (total >= from && rows.length < n) rows.push(recordRow(r, xen));
    total++;
  }
  return { total, from, rows };
}
