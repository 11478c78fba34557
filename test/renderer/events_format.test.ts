// The event list's pure logic: times and domains as the columns write them, the filter a
// right-click builds (checked with the core's own filter over a real run's records: "filter by"
// keeps the record, "exclude" drops it, "and" narrows), the history, the detail pane's rows, a
// filter error's suggested fix, and the scroll arithmetic of a list taller than the browser lays out.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileFilter, fieldFilter, parseFilter } from '../../src/core/sim/filter.js';
import { TraceStore, type TraceRecord } from '../../src/core/sim/trace.js';
import { runScenario } from '../../src/scenario/runner.js';
import { loadScenario } from '../../src/scenario/stepform.js';
import {
  cellField,
  composeFilter,
  copyText,
  detailRows,
  domainLabel,
  formatTime,
  HISTORY_MAX,
  isFilterField,
  KIND_DOCS,
  KIND_LABELS,
  MAX_SCROLL_PX,
  pushHistory,
  readHistory,
  ScrollModel,
  suggestionFix,
} from '../../src/renderer/src/views/events/format.js';

function run(name: string): TraceRecord[] {
  const store = new TraceStore();
  const text = readFileSync(join(import.meta.dirname, '../../scenarios', name), 'utf8');
  runScenario(loadScenario(name, text), { onMachine: (hv) => void hv.trace.subscribe(store.subscriber) });
  return [...store.records()];
}

function matches(filter: string, r: TraceRecord, xen: '2.0' | '4' = '4'): boolean {
  const p = parseFilter(filter, { xen });
  if (!p.ok) throw new Error(`${filter}: ${p.error.message}`);
  return compileFilter(p.filter)(r);
}

describe('the event list: columns', () => {
  it('writes times in the unit that keeps them short, to the nanosecond', () => {
    expect(formatTime(0)).toBe('0 ns');
    expect(formatTime(999)).toBe('999 ns');
    expect(formatTime(1_284)).toBe('1.284 µs');
    expect(formatTime(5_000_000)).toBe('5.000000 ms');
    expect(formatTime(5_001_491)).toBe('5.001491 ms');
    expect(formatTime(5_240_000_000)).toBe('5.240000000 s');
    expect(formatTime(5_240_001_140)).toBe('5.240001140 s');
    expect(formatTime(12_400_961_415)).toBe('12.400961415 s');
  });

  it("names domains from the topology, Xen's reserved ids by their names, and leaves 'no domain' empty", () => {
    const names = new Map([
      [0, 'dom0'],
      [1, 'plan9'],
    ]);
    expect(domainLabel(1, names)).toBe('plan9');
    expect(domainLabel(7, names)).toBe('dom 7');
    expect(domainLabel(0x7ff0, names)).toBe('DOMID_SELF');
    expect(domainLabel(0x7ff2, names)).toBe('DOMID_XEN');
    expect(domainLabel(-1, names)).toBe('');
  });

  it('maps each cell to a field the filter language names', () => {
    for (const kind of ['hypercall', 'bit', 'upcall', 'handler', 'port', 'raise', 'grant_entry', 'ring', 'domain', 'note', 'ctrl_msg', 'xs_msg', 'cons', 'fault']) {
      for (const col of ['seq', 'time', 'dom', 'vcpu', 'kind', 'summary'] as const) expect(isFilterField(cellField(col, kind)), `${col} of ${kind}`).toBe(true);
    }
    expect(cellField('summary', 'hypercall')).toBe('op');
    expect(KIND_DOCS.get('hypercall')).toBe('a hypercall and its result');
    for (const kind of Object.keys(KIND_LABELS)) expect(KIND_DOCS.get(kind), kind).toBeTruthy();
    expect(cellField('time', 'bit')).toBe('t');
  });
});

describe('the event list: filters from a field', () => {
  it('replaces, narrows (wrapping a top-level ||) and excludes', () => {
    expect(composeFilter('', 'port==5', 'and', '4')).toBe('port==5');
    expect(composeFilter('kind==hypercall', 'port==5', 'replace', '4')).toBe('port==5');
    expect(composeFilter('kind==hypercall && op==send', 'port==5', 'and', '4')).toBe('kind==hypercall && op==send && port==5');
    expect(composeFilter('kind==upcall || kind==handler', 'dom==1', 'and', '4')).toBe('(kind==upcall || kind==handler) && dom==1');
    expect(composeFilter('dom==1', 'kind==bit', 'exclude', '4')).toBe('dom==1 && !(kind==bit)');
    expect(composeFilter('', '(args.dom==DOMID_SELF && args.port==1)', 'exclude', '4')).toBe('!(args.dom==DOMID_SELF && args.port==1)');
    expect(composeFilter('', '!port', 'exclude', '4')).toBe('port');
    // Not fooled by parentheses that do not wrap the whole clause.
    expect(composeFilter('', '(a==1) && (b==2)', 'exclude', '4')).toBe('!((a==1) && (b==2))');
  });

  it('over every field of every record of real runs: filter by keeps the record, exclude drops it, and narrows', () => {
    const cases: [string, '2.0' | '4'][] = [
      ['minios-shutdown.yaml', '4'],
      ['grant-tables.yaml', '4'],
      ['split-ring.yaml', '4'],
      ['xen2-shutdown.yaml', '2.0'],
      ['faults-lost-notification.yaml', '4'],
    ];
    let checked = 0;
    for (const [file, xen] of cases) {
      const records = run(file);
      const current = 'kind==hypercall || dom==0';
      for (const r of records) {
        for (const row of detailRows(r as unknown as Record<string, unknown>)) {
          if (!isFilterField(row.path)) continue;
          const clause = fieldFilter(r, row.path, { xen });
          expect(matches(composeFilter(current, clause, 'replace', xen), r, xen), `${clause} on ${JSON.stringify(r)}`).toBe(true);
          expect(matches(composeFilter(current, clause, 'exclude', xen), r, xen), `not ${clause}`).toBe(false);
          expect(matches(composeFilter(current, clause, 'and', xen), r, xen)).toBe(matches(current, r, xen));
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(2000);
  });
});

describe('the event list: history', () => {
  it('keeps applied filters most recent first, once each, at most HISTORY_MAX', () => {
    let h: string[] = [];
    for (let i = 0; i < 30; i++) h = pushHistory(h, `dom==${i}`);
    expect(h).toHaveLength(HISTORY_MAX);
    expect(h[0]).toBe('dom==29');
    h = pushHistory(h, ' dom==25 ');
    expect(h[0]).toBe('dom==25');
    expect(h.filter((x) => x === 'dom==25')).toHaveLength(1);
    expect(pushHistory(h, '  ')).toEqual(h);
  });

  it('reads back only what it wrote', () => {
    expect(readHistory(JSON.stringify(['a==1', 3, '', 'b==2']))).toEqual(['a==1', 'b==2']);
    expect(readHistory('{')).toEqual([]);
    expect(readHistory('{"a":1}')).toEqual([]);
    expect(readHistory(null)).toEqual([]);
  });
});

describe('the event list: the detail pane', () => {
  it('lists identity first, then every field, objects opened out one level deeper with their paths', () => {
    const rec = { seq: 6, t: 1_500, kind: 'hypercall', dom: 1, vcpu: 0, op: 'alloc_unbound', args: { dom: 32752, remote_dom: 0 }, ret: '0', out: { port: 1 }, summary: 'x', cause: 3 };
    const rows = detailRows(rec);
    expect(rows.map((r) => `${'  '.repeat(r.depth)}${r.path}`)).toEqual(['seq', 't', 'kind', 'dom', 'vcpu', 'op', 'args', '  args.dom', '  args.remote_dom', 'ret', 'out', '  out.port']);
    expect(rows.find((r) => r.path === 't')!.text).toBe('1.500 µs');
    expect(rows.find((r) => r.path === 'op')!.text).toBe('alloc_unbound');
    expect(rows.find((r) => r.path === 'args')!.object).toBe(true);
    expect(detailRows({ seq: 1, kind: 'note', text: 'hello world' })[2]!.text).toBe('"hello world"');
    expect(detailRows({ seq: 1, kind: 'grant_entry', flags: 25 }).find((r) => r.path === 'flags')!.text).toBe('0x19  (25)');
    expect(copyText({ port: 1 })).toBe('{"port":1}');
    expect(copyText('a b')).toBe('a b');
  });
});

describe("the event list: a filter error's fix", () => {
  it('puts the suggested name in place of the error, and the result parses', () => {
    for (const [bad, good] of [
      ['dom==1 && prot==5', 'dom==1 && port==5'],
      ['ret==EINVAL', 'ret==-EINVAL'],
      ['dom=1', 'dom==1'],
      ['op==sned', 'op==send'],
      ['args.prot==3', 'args.port==3'],
    ]) {
      const p = parseFilter(bad!);
      expect(p.ok).toBe(false);
      if (p.ok) continue;
      const fix = suggestionFix(bad!, p.error);
      expect(fix?.text, bad).toBe(good);
      expect(parseFilter(fix!.text).ok).toBe(true);
    }
    expect(suggestionFix('dom==', { start: 5, end: 5, message: 'expected a value' })).toBeUndefined();
  });
});

describe('the event list: scrolling', () => {
  it('shows the rows in view and scrolls row by row when the list fits', () => {
    const m = new ScrollModel(20);
    m.total = 100;
    m.viewHeight = 200;
    expect(m.scrollHeight).toBe(2000);
    m.scrolled(0, 45);
    expect(m.visible()).toEqual({ first: 2, end: 13, offset: 5 });
    m.reveal(20);
    expect(m.virtualTop).toBe(21 * 20 - 200);
    m.reveal(3);
    expect(m.virtualTop).toBe(60);
    m.center(50);
    expect(m.virtualTop).toBe(50 * 20 - 90);
    m.virtualTop = 10_000;
    m.clamp();
    expect(m.atEnd()).toBe(true);
    expect(m.visible().end).toBe(100);
    expect(m.pageRows).toBe(9);
  });

  it('scales a list taller than the browser allows: small moves stay row by row, a jump goes to the same place in the list', () => {
    const m = new ScrollModel(20);
    m.total = 4_000_000;
    m.viewHeight = 400;
    expect(m.scrollHeight).toBe(MAX_SCROLL_PX);
    // A wheel notch: 100 px of scroller is 100 px of list, not 100 × the scale.
    m.scrolled(1000, 1100);
    expect(m.virtualTop).toBe(100);
    // Dragging the thumb halfway: the middle of the list.
    m.scrolled(1100, (MAX_SCROLL_PX - 400) / 2);
    expect(Math.round(m.visible().first / 1000)).toBe(2000);
    expect(m.scrollTopFor()).toBe((MAX_SCROLL_PX - 400) / 2);
    // The end.
    m.scrolled(m.scrollTopFor(), MAX_SCROLL_PX - 400);
    expect(m.atEnd()).toBe(true);
    expect(m.visible().end).toBe(4_000_000);
    m.reveal(0);
    expect(m.scrollTopFor()).toBe(0);
  });
});
