// session.recordIndex through the lab host and its real worker: where a record stands among a
// filter's matches (the event list scrolling to a record chosen in another view), a record the
// filter hides, the whole trace without a filter, a filter that does not parse, bad parameters.
// And the record pages' kind prefilter: skipping records of kinds a filter cannot match (without
// decoding them) finds exactly what the compiled filter finds over every record.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HostError } from '../../src/contract/api.js';
import { compileFilter, parseFilter } from '../../src/core/sim/filter.js';
import { createLabHost } from '../../src/host/lab_host.js';
import { filterKinds, RecordPages } from '../../src/host/lab/records.js';
import { TRACE_KINDS, TraceLog } from '../../src/host/lab/trace_log.js';
import { runScenario } from '../../src/scenario/runner.js';
import { loadScenario } from '../../src/scenario/stepform.js';

const dir = mkdtempSync(join(tmpdir(), 'xenlab-index-'));
const h = createLabHost({ mode: 'web', version: '0.0.0-test', roots: [{ name: 'work', path: dir }], dataDir: join(dir, 'data') });
afterAll(async () => {
  await h.close();
  rmSync(dir, { recursive: true, force: true });
});

async function failure(p: Promise<unknown>): Promise<HostError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof HostError) return e;
    throw e;
  }
  throw new Error('expected the request to fail');
}

describe('session.recordIndex', () => {
  it("answers a record's place among a filter's matches", async () => {
    const text = readFileSync(join(import.meta.dirname, '../../scenarios/minios-shutdown.yaml'), 'utf8');
    const r = await h.request('session.open', { file: 'minios-shutdown.yaml', text, lang: 'yaml' });
    expect(r.ok).toBe(true);
    await h.request('session.seek', { position: 100 });
    const sends = (await h.request('session.records', { filter: 'op==send', from: 0, count: 1000 })).rows.map((x) => x.seq);
    expect(sends.length).toBeGreaterThan(3);
    expect(await h.request('session.recordIndex', { filter: 'op==send', seq: sends[2]! })).toEqual({ index: 2, matches: true, total: sends.length });
    // A record the filter hides: the place of the next match.
    expect(await h.request('session.recordIndex', { filter: 'op==send', seq: sends[2]! + 1 })).toEqual({ index: 3, matches: false, total: sends.length });
    expect(await h.request('session.recordIndex', { filter: 'op==send', seq: 1e9 })).toEqual({ index: sends.length, matches: false, total: sends.length });
    const count = (await h.request('session.records', { filter: '', from: 0, count: 0 })).total;
    expect(await h.request('session.recordIndex', { filter: '', seq: 7 })).toEqual({ index: 7, matches: true, total: count });
    const bad = await failure(h.request('session.recordIndex', { filter: 'prot==5', seq: 1 }));
    expect(bad.code).toBe('input');
    expect(bad.message).toContain("unknown field 'prot' — did you mean 'port'?");
    expect(await failure(h.request('session.recordIndex', { filter: '', seq: -1 }))).toMatchObject({ code: 'bad-request' });
    expect(await failure(h.request('session.recordIndex', { seq: 1 } as never))).toMatchObject({ code: 'bad-request' });
  });
});

describe('record pages: the kind prefilter', () => {
  const kinds = (f: string): string[] => {
    const p = parseFilter(f);
    if (!p.ok) throw new Error(p.error.message);
    const mask = filterKinds(p.filter.expr);
    return TRACE_KINDS.filter((_, k) => ((mask >>> k) & 1) !== 0);
  };

  it('reads the kinds a filter can match from its kind conditions', () => {
    expect(kinds('kind==hypercall && op==send')).toEqual(['hypercall']);
    expect(kinds('kind==upcall || kind==handler')).toEqual(['upcall', 'handler']);
    expect(kinds('!(kind==bit)')).toHaveLength(TRACE_KINDS.length - 1);
    expect(kinds('kind!=bit && kind!=port')).toHaveLength(TRACE_KINDS.length - 2);
    expect(kinds('dom==1 && port==1')).toHaveLength(TRACE_KINDS.length);
    expect(kinds('!(kind==bit && dom==1)')).toHaveLength(TRACE_KINDS.length);
    expect(kinds('kind==bit && kind==port')).toEqual([]);
  });

  it('finds exactly what the compiled filter finds over every record', () => {
    const log = new TraceLog();
    const text = readFileSync(join(import.meta.dirname, '../../scenarios/split-drivers.yaml'), 'utf8');
    runScenario(loadScenario('split-drivers.yaml', text), { onMachine: (hv) => void hv.trace.subscribe(log.subscriber) });
    expect(log.count).toBeGreaterThan(1000);
    const all = Array.from({ length: log.count }, (_, seq) => log.record(seq)!);
    for (const f of [
      'kind==hypercall && op==send',
      'kind==upcall || kind==handler && dom==1',
      '!(kind==bit) && dom==0',
      'kind!=bit && kind!=xs_msg && port',
      '!(kind==ring || kind==grant_entry) && t > 1ms',
      'kind==bit && kind==port',
      'op==send || kind=="handler"',
    ]) {
      const p = parseFilter(f);
      if (!p.ok) throw new Error(p.error.message);
      const expected = all.filter(compileFilter(p.filter)).map((r) => r.seq);
      const pages = new RecordPages(log, '4');
      const got = pages.page(f, 0, 1000);
      expect(got.total, f).toBe(expected.length);
      expect(got.rows.map((r) => r.seq), f).toEqual(expected.slice(0, 1000));
    }
  });
});
