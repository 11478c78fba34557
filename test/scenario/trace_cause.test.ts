// The cause column: each handler record points at the send (or VIRQ raise) that made its port
// pending — the same rule the Chrome trace export draws as flow arrows, now shared.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeRecord, type TraceBatch, type TraceRecord } from '../../src/core/sim/trace.js';
import { chromeTrace } from '../../src/scenario/chrome_trace.js';
import { runScenario } from '../../src/scenario/runner.js';
import { loadScenario } from '../../src/scenario/stepform.js';
import { TraceCauses } from '../../src/scenario/trace_cause.js';

function run(name: string): { records: TraceRecord[]; causes: number[]; batches: TraceBatch[] } {
  const sc = loadScenario(`${name}.yaml`, readFileSync(join(import.meta.dirname, '../../scenarios', `${name}.yaml`), 'utf8'));
  const rule = new TraceCauses();
  const records: TraceRecord[] = [];
  const causes: number[] = [];
  const batches: TraceBatch[] = [];
  runScenario(sc, {
    onMachine: (hv) =>
      void hv.trace.subscribe((b) => {
        batches.push({ chunk: b.chunk, start: b.start, end: b.end });
        for (let i = b.start; i < b.end; i++) {
          records.push(decodeRecord(b.chunk, i));
          causes.push(rule.next(b.chunk, i));
        }
      }),
  });
  return { records, causes, batches };
}

describe('trace causes', () => {
  it('points each handler of an interdomain notification at the EVTCHNOP_send to its peer', () => {
    const { records, causes } = run('shared-channel');
    const handlers = records.filter((r) => r.kind === 'handler');
    expect(handlers.length).toBeGreaterThan(0);
    let linked = 0;
    for (const h of handlers) {
      const c = causes[h.seq]!;
      if (c < 0) continue;
      linked++;
      const cause = records[c]!;
      expect(c).toBeLessThan(h.seq);
      if (cause.kind === 'hypercall') {
        expect(cause.op).toMatch(/send|bind|unmask/);
      } else expect(cause.kind).toBe('raise');
    }
    expect(linked).toBeGreaterThan(0);
  });

  it('points a timer tick handler at its VIRQ_TIMER raise, in the same domain and port', () => {
    const { records, causes } = run('virq-timer');
    const linked = records.filter((r) => r.kind === 'handler' && causes[r.seq]! >= 0);
    expect(linked.length).toBeGreaterThan(0);
    for (const h of linked) {
      const cause = records[causes[h.seq]!]!;
      if (cause.kind !== 'raise') continue;
      expect(cause.dom).toBe(h.dom);
      expect(cause.port).toBe((h as { port: number }).port);
    }
  });

  it('links exactly the handlers the Chrome trace draws an arrow to', () => {
    const { records, causes, batches } = run('shared-channel');
    const doc = JSON.parse([...chromeTrace(batches)].join('')) as { traceEvents: { ph: string; cat?: string; name?: string; args?: { seq?: number }; ts?: number; pid?: number; tid?: number }[] };
    const ev = doc.traceEvents;
    // An arrow ends ('f') inside the handler slice it binds to.
    const handlerSlices = ev.filter((e) => e.ph === 'X' && e.cat === 'handler');
    const arrows = ev.filter((e) => e.ph === 'f');
    const withArrow = new Set<number>();
    for (const f of arrows) {
      const h = handlerSlices.find((s) => s.pid === f.pid && s.tid === f.tid && s.ts! <= f.ts! && f.ts! < s.ts! + 0.01);
      if (h?.args?.seq !== undefined) withArrow.add(h.args.seq);
    }
    const withCause = new Set(records.filter((r) => r.kind === 'handler' && causes[r.seq]! >= 0).map((r) => r.seq));
    expect(withArrow.size).toBeGreaterThan(0);
    expect(withCause).toEqual(withArrow);
  });
});
