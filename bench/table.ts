/** The benchmarks' rows and the fixed-width table `npm run bench` and `npm run bench:ui` print. */

export interface Row {
  name: string;
  value: number;
  unit: string;
  target: string;
  /** null: informational, no target. */
  pass: boolean | null;
  note?: string;
}

/** A figure as the table shows it: millions as 1.23M, thousands grouped, small numbers with `small` decimals. */
export function fmtNum(x: number, small = 2): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 1e6) return `${(x / 1e6).toFixed(2)}M`;
  if (a >= 1e4) return Math.round(x).toLocaleString('en-US');
  if (a >= 100) return x.toFixed(0);
  if (a >= 1) return x.toFixed(small);
  return x.toFixed(small + 1);
}

/** Prints the rows as a table, then each row's note and any further notes. */
export function printTable(rows: readonly Row[], notes: readonly string[] = [], small = 2): void {
  const head = ['benchmark', 'figure', 'unit', 'target', 'result'];
  const body = rows.map((r) => [r.name, fmtNum(r.value, small), r.unit, r.target, r.pass === null ? '' : r.pass ? 'PASS' : 'FAIL']);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 1 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const b of body) console.log(line(b));
  const withNotes = rows.filter((r) => r.note !== undefined);
  if (withNotes.length > 0 || notes.length > 0) console.log('');
  for (const r of withNotes) console.log(`${r.name.trim()}: ${r.note}`);
  for (const n of notes) console.log(n);
}
