// The Execution (src/scenario/execution.ts): a scenario one unit at a time. These tests hold it to
// what runScenario did before it existed (byte for byte), to its unit semantics, to runUntilTime's
// bound, and to the replay invariant a host's seek relies on: re-executing with the logged inputs to
// the same position gives the same trace, consoles and clock.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TraceHasher } from '../../src/core/sim/trace_hash.js';
import { Execution, type ExecInput, type Unit } from '../../src/scenario/execution.js';
import type { Scenario } from '../../src/scenario/model.js';
import { runScenario } from '../../src/scenario/runner.js';
import { loadScenario } from '../../src/scenario/stepform.js';

const SCENARIOS = join(import.meta.dirname, '../../scenarios');
const MS = 1e6;

/** Trace hash, record count and a hash of the result of each example, taken from `xenlab run` before the Execution existed. */
const BEFORE = JSON.parse(readFileSync(join(import.meta.dirname, 'golden/runs-before-execution.json'), 'utf8')) as Record<string, { records: number; trace: string; result: string }>;

function scenario(file: string): Scenario {
  return loadScenario(file, readFileSync(join(SCENARIOS, file), 'utf8'));
}

const enc = (s: string) => new TextEncoder().encode(s);

describe('runScenario on the Execution', () => {
  it.each(Object.keys(BEFORE))('%s: the same trace and result as before the refactor, byte for byte', (file) => {
    const hasher = new TraceHasher();
    const r = runScenario(scenario(file), { onMachine: (hv) => void hv.trace.subscribe(hasher.subscriber) });
    const d = hasher.finish();
    const result = createHash('sha256')
      .update(JSON.stringify({ ok: r.ok, failures: r.failures, steps: r.steps, consoles: r.consoles }))
      .digest('hex')
      .slice(0, 16);
    expect({ records: d.records, trace: d.hash, result }).toEqual(BEFORE[file]);
  });
});

const TWO = `name: two guests
domains:
  - name: dom0
  - name: guest
steps:
  - { as: guest, op: alloc_unbound, args: { dom: DOMID_SELF, remote_dom: dom0 }, save: { port: gport } }
  - { as: dom0, op: bind_interdomain, args: { remote_dom: guest, remote_port: $gport }, save: { local_port: dport } }
  - run: 1ms
  - { as: dom0, op: send, args: { port: $dport } }
  - run: 1ms
  - { check: { domain: guest, port: $gport, delivered: 1 } }
`;

describe('units', () => {
  it('a step is one unit; a run dispatches each due event as a unit, then ends with its own', () => {
    const e = new Execution(loadScenario('two.yaml', TWO));
    expect([e.position, e.stepIndex, e.scriptDone, e.waitingStep]).toEqual([0, 0, false, undefined]);
    expect(e.next()).toEqual({ kind: 'step', index: 0 });
    expect(e.next()).toEqual({ kind: 'step', index: 1 });
    // bind_interdomain set dom0's new port pending: its upcall is the run's one event.
    const u = e.next();
    expect(u.kind).toBe('event');
    expect(e.waitingStep).toBe(2);
    expect(e.stepIndex).toBe(2);
    expect(e.now).toBe((u as { t: number }).t);
    expect(e.now).toBeGreaterThan(0);
    expect(e.now).toBeLessThan(1 * MS);
    expect(e.next()).toEqual({ kind: 'step', index: 2 });
    expect(e.now).toBe(1 * MS);
    expect(e.waitingStep).toBeUndefined();
    expect(e.next()).toEqual({ kind: 'step', index: 3 });
    const units: Unit[] = [];
    while (!e.scriptDone) units.push(e.next());
    expect(units.map((x) => x.kind)).toEqual(['event', 'step', 'step']);
    expect(e.position).toBe(8);
    expect(e.result().ok).toBe(true);
    // Nothing queued: idle, and idle is not counted.
    expect(e.next()).toEqual({ kind: 'idle' });
    expect(e.position).toBe(8);
  });

  it('a run with no event due still takes one unit, and sets the clock', () => {
    const e = new Execution(loadScenario('r.yaml', 'name: r\ndomains: [{ name: dom0 }]\nsteps:\n  - run: 5ms\n  - run: 0\n'));
    expect(e.next()).toEqual({ kind: 'step', index: 0 });
    expect(e.now).toBe(5 * MS);
    expect(e.next()).toEqual({ kind: 'step', index: 1 });
    expect(e.scriptDone).toBe(true);
    expect(e.position).toBe(2);
  });

  it('after the script, each machine event is a unit (a guest with VIRQ_TIMER bound ticks on)', () => {
    const e = new Execution(loadScenario('t.yaml', 'name: t\ndomains: [{ name: dom0 }, { name: g }]\nsteps:\n  - { as: g, op: bind_virq, args: { virq: VIRQ_TIMER, vcpu: 0 } }\n'));
    e.runScript();
    const ts: number[] = [];
    for (let i = 0; i < 4; i++) {
      const u = e.next();
      expect(u.kind).toBe('event');
      ts.push(e.now);
    }
    expect(ts[0]).toBe(10 * MS); // the 100 Hz tick, then its upcall
    expect(ts).toEqual([...ts].sort((a, b) => a - b));
  });

  it('result() is available at any time: the steps so far', () => {
    const e = new Execution(loadScenario('two.yaml', TWO));
    e.next();
    expect(e.result().steps.map((s) => s.index)).toEqual([0]);
    e.runScript();
    expect(e.result().steps.map((s) => s.index)).toEqual([0, 1, 2, 3, 4, 5]);
  });
});

describe('runUntilTime', () => {
  it('takes units until the next would pass t, and never moves the clock past t', () => {
    const e = new Execution(scenario('plan9-boot.yaml'));
    let last = 0;
    for (const t of [0, 1, 1000, 250_000, 3 * MS, 3 * MS + 1, 9 * MS, 40 * MS]) {
      e.runUntilTime(t);
      expect(e.now).toBeLessThanOrEqual(t);
      expect(e.now).toBeGreaterThanOrEqual(last);
      expect(e.nextUnitTime()).toBeGreaterThan(t);
      last = e.now;
    }
    expect(e.scriptDone).toBe(true);
    // Once the script is done, the clock reaches t itself.
    expect(e.now).toBe(40 * MS);
  });

  it('gives the same run as runScenario when played to the end in slices', () => {
    const sc = scenario('minios-console.yaml');
    const whole = runScenario(sc);
    const e = new Execution(sc);
    let t = 0;
    for (; !e.scriptDone; t += 777_777) e.runUntilTime(t);
    expect(e.result().steps).toEqual(whole.steps);
    // The slice that ended the script ran the clock on to its end.
    expect(e.now).toBe(t - 777_777);
    expect(e.now).toBeGreaterThanOrEqual(whole.hv.now);
  });
});

// ---- replay by position ----

type Op = { op: 'next'; n: number } | { op: 'type'; domid: number; text: string } | { op: 'until'; dt: number };

interface Snapshot {
  position: number;
  now: number;
  trace: string;
  records: number;
  consoles: Record<string, string>;
  steps: string;
}

function snapshot(e: Execution, hasher: TraceHasher): Snapshot {
  const d = hasher.digest();
  const r = e.result();
  return { position: e.position, now: e.now, trace: d.hash, records: d.records, consoles: r.consoles, steps: JSON.stringify(r.steps) };
}

function apply(e: Execution, op: Op): void {
  if (op.op === 'next') for (let i = 0; i < op.n; i++) e.next();
  else if (op.op === 'type') e.type(op.domid, enc(op.text));
  else e.runUntilTime(e.now + op.dt);
}

const REPLAYED = ['plan9-boot.yaml', 'minios-console.yaml', 'shared-channel.yaml', 'dom0-shell.yaml', 'pause-defers-upcalls.yaml', 'xen2-shutdown.yaml', 'until-console.yaml', 'ring-backpressure.yaml', 'xen2-stalled-xend.yaml', 'timing-every.yaml', 'final-expect.yaml'];

describe('replay by position (how a host seeks)', () => {
  it('a fresh Execution given the logged inputs, advanced to the same position, has the same trace, consoles and clock', () => {
    const scs = new Map(REPLAYED.map((f) => [f, scenario(f)]));
    const opArb: fc.Arbitrary<Op> = fc.oneof(
      { weight: 4, arbitrary: fc.record({ op: fc.constant('next' as const), n: fc.integer({ min: 1, max: 40 }) }) },
      { weight: 2, arbitrary: fc.record({ op: fc.constant('type' as const), domid: fc.integer({ min: 0, max: 2 }), text: fc.constantFrom('help\r', 'xl list\r', 'local\r', 'ls\r', 'status\r', 'x') }) },
      { weight: 2, arbitrary: fc.record({ op: fc.constant('until' as const), dt: fc.integer({ min: 0, max: 20 * MS }) }) },
    );
    fc.assert(
      fc.property(fc.constantFrom(...REPLAYED), fc.array(opArb, { maxLength: 12 }), (file, ops) => {
        const sc = scs.get(file)!;
        const h1 = new TraceHasher();
        const first = new Execution(sc, { onMachine: (hv) => void hv.trace.subscribe(h1.subscriber) });
        for (const op of ops) apply(first, op);
        const want = snapshot(first, h1);
        const inputs: readonly ExecInput[] = first.inputs();

        const h2 = new TraceHasher();
        const again = new Execution(sc, { inputs, onMachine: (hv) => void hv.trace.subscribe(h2.subscriber) });
        while (again.position < want.position) again.next();
        expect(again.inputProblems()).toEqual([]);
        expect(snapshot(again, h2)).toEqual(want);
        expect(again.inputs()).toEqual(inputs);
      }),
      { numRuns: 60, seed: 4 },
    );
  });

  it('runUntilTime never passes its time, and how a host slices time does not change the run', () => {
    const scs = new Map(REPLAYED.map((f) => [f, scenario(f)]));
    fc.assert(
      fc.property(fc.constantFrom(...REPLAYED), fc.array(fc.integer({ min: 0, max: 15 * MS }), { minLength: 1, maxLength: 12 }), (file, slices) => {
        const sc = scs.get(file)!;
        const h1 = new TraceHasher();
        const sliced = new Execution(sc, { onMachine: (hv) => void hv.trace.subscribe(h1.subscriber) });
        let t = 0;
        for (const dt of slices) {
          t += dt;
          sliced.runUntilTime(t);
          expect(sliced.now).toBeLessThanOrEqual(t);
          expect(sliced.nextUnitTime()).toBeGreaterThan(t);
          if (sliced.scriptDone) expect(sliced.now).toBe(t);
        }
        const h2 = new TraceHasher();
        const whole = new Execution(sc, { onMachine: (hv) => void hv.trace.subscribe(h2.subscriber) });
        whole.runUntilTime(t);
        expect([whole.position, whole.now, h2.digest().hash]).toEqual([sliced.position, sliced.now, h1.digest().hash]);
        expect(whole.result().steps).toEqual(sliced.result().steps);
      }),
      { numRuns: 40, seed: 7 },
    );
  });

  it('seeking back: re-executing to an earlier position gives the state the run had there', () => {
    const sc = scenario('dom0-shell.yaml');
    const h = new TraceHasher();
    const e = new Execution(sc, { onMachine: (hv) => void hv.trace.subscribe(h.subscriber) });
    e.runScript();
    e.type(0, enc('xl list\r'));
    const mid = snapshot(e, h);
    const k = e.inputs().length;
    e.runUntilTime(e.now + 5 * MS);
    e.type(0, enc('lsevtchn\r'));
    const h2 = new TraceHasher();
    const back = new Execution(sc, { inputs: e.inputs().slice(0, k), onMachine: (hv) => void hv.trace.subscribe(h2.subscriber) });
    while (back.position < mid.position) back.next();
    expect(snapshot(back, h2)).toEqual(mid);
  });
});
