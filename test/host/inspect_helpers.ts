/**
 * Runs an example scenario (all of it, or its steps up to a line of the
 * file) with a trace store subscribed from the machine's start, for the
 * inspector and explain tests.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { fromBase64 } from '../../src/contract/trace_batch.js';
import type { PageView } from '../../src/contract/inspect.js';
import type { Hypervisor } from '../../src/core/hv/hypervisor.js';
import { TraceStore, type TraceRecord } from '../../src/core/sim/trace.js';
import { traceStoreLookback, type TraceLookback } from '../../src/host/inspect/index.js';
import { runScenario } from '../../src/scenario/runner.js';
import { loadScenario } from '../../src/scenario/stepform.js';

const SCENARIOS = join(import.meta.dirname, '../../scenarios');

export interface Ran {
  hv: Hypervisor;
  store: TraceStore;
  trace: TraceLookback;
  records: TraceRecord[];
}

/**
 * scenarios/<name>.yaml, run through the step that starts on line `throughLine`
 * (every step when omitted). Its own checks must hold: they pin the state
 * the test then inspects.
 */
export function runExample(name: string, throughLine?: number): Ran {
  const file = `${name}.yaml`;
  const sc = loadScenario(file, readFileSync(join(SCENARIOS, file), 'utf8'));
  const steps = throughLine === undefined ? sc.steps : sc.steps.filter((s) => s.pos.line <= throughLine);
  if (throughLine !== undefined) expect(steps.at(-1)?.pos.line, `${file} has a step on line ${throughLine}`).toBe(throughLine);
  const store = new TraceStore();
  const r = runScenario({ ...sc, steps }, { onMachine: (hv) => void hv.trace.subscribe(store.subscriber) });
  expect(r.failures).toEqual([]);
  return { hv: r.hv, store, trace: traceStoreLookback(store), records: [...store.records()] };
}

/** A page of the view by name (it must be there). */
export function page(pages: readonly PageView[], name: string): PageView {
  const p = pages.find((x) => x.name === name);
  expect(p, `page "${name}" among ${pages.map((x) => x.name).join(', ')}`).toBeDefined();
  return p!;
}

/** The field `name` of a page (it must be there). */
export function field(p: PageView, name: string): PageView['fields'][number] {
  const f = p.fields.find((x) => x.name === name);
  expect(f, `field "${name}" of ${p.name}`).toBeDefined();
  return f!;
}

/** The set bits of a base64 bit grid, lowest first. */
export function setBits(b64: string): number[] {
  const bytes = fromBase64(b64);
  const out: number[] = [];
  bytes.forEach((b, i) => {
    for (let k = 0; k < 8; k++) if ((b >> k) & 1) out.push(i * 8 + k);
  });
  return out;
}
