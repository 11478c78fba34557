/**
 * The Chrome trace-event export: valid JSON with the fields each phase needs,
 * one name per lane, slices that nest on every thread, and every notification
 * an arrow from the slice that raised it to the handler that took it — none
 * left dangling. Checked over every example scenario.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DOMID_XEN } from '../../src/core/abi/domid.js';
import { TraceStore, type TraceBatch } from '../../src/core/sim/trace.js';
import { chromeTrace, ChromeTraceEncoder, DISPLAY_STEP_NS } from '../../src/scenario/chrome_trace.js';
import { runScenario } from '../../src/scenario/runner.js';
import { loadScenario } from '../../src/scenario/stepform.js';

const SCENARIOS = join(import.meta.dirname, '../../scenarios');

interface Ev {
  name: string;
  cat?: string;
  ph: string;
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  id?: number;
  bp?: string;
  s?: string;
  args?: Record<string, unknown>;
}

function run(name: string, text?: string): { store: TraceStore; batches: TraceBatch[]; xen: '2.0' | '4' } {
  const sc = loadScenario(`${name}.yaml`, text ?? readFileSync(join(SCENARIOS, `${name}.yaml`), 'utf8'));
  const store = new TraceStore();
  const batches: TraceBatch[] = [];
  runScenario(sc, {
    onMachine: (hv) =>
      void hv.trace.subscribe((b) => {
        store.subscriber(b);
        batches.push({ ...b });
      }),
  });
  return { store, batches, xen: sc.xen };
}

function exportOf(name: string, text?: string): { json: string; doc: { traceEvents: Ev[]; displayTimeUnit: string; otherData: Record<string, unknown> }; store: TraceStore } {
  const { store, batches, xen } = run(name, text);
  const json = [...chromeTrace(batches, { xen, otherData: { file: name } })].join('');
  return { json, doc: JSON.parse(json) as never, store };
}

/** The deepest X slice of a thread that holds ts strictly inside. */
function enclosing(events: Ev[], pid: number, tid: number, ts: number): Ev | undefined {
  let best: Ev | undefined;
  for (const e of events) if (e.ph === 'X' && e.pid === pid && e.tid === tid && e.ts < ts && ts < e.ts + e.dur! && (best === undefined || e.ts >= best.ts)) best = e;
  return best;
}

const NAMES = readdirSync(SCENARIOS)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => f.slice(0, -5));

describe('chrome-trace export', () => {
  for (const name of NAMES) {
    it(`${name}: well formed — fields per phase, one name per lane, nesting slices, ts in order, flows paired`, () => {
      const { doc, store } = exportOf(name);
      expect(doc.displayTimeUnit).toBe('ns');
      expect(doc.otherData).toMatchObject({ generator: 'xenlab', file: name });
      const evs = doc.traceEvents;
      expect(Array.isArray(evs)).toBe(true);
      let lastTs = -Infinity;
      const procNames = new Map<number, number>();
      const threadNames = new Map<string, number>();
      for (const e of evs) {
        expect(typeof e.name, JSON.stringify(e)).toBe('string');
        expect(typeof e.pid).toBe('number');
        expect(typeof e.tid).toBe('number');
        expect(['M', 'X', 'i', 's', 'f']).toContain(e.ph);
        if (e.ph === 'M') {
          if (e.name === 'process_name') procNames.set(e.pid, (procNames.get(e.pid) ?? 0) + 1);
          if (e.name === 'thread_name') threadNames.set(`${e.pid}/${e.tid}`, (threadNames.get(`${e.pid}/${e.tid}`) ?? 0) + 1);
          expect(e.args).toBeDefined();
          continue;
        }
        expect(typeof e.ts).toBe('number');
        expect(typeof e.cat).toBe('string');
        if (e.ph === 'X') {
          expect(typeof e.dur).toBe('number');
          expect(e.dur!).toBeGreaterThan(0);
        }
        if (e.ph === 'i') expect([undefined, 't', 'p']).toContain(e.s);
        if (e.ph === 's' || e.ph === 'f') expect(typeof e.id).toBe('number');
        if (e.ph === 'f') expect(e.bp).toBe('e');
        // Slices, instants and flow ends come in ts order (a flow's start is written with its end).
        if (e.ph !== 's') {
          expect(e.ts, JSON.stringify(e)).toBeGreaterThanOrEqual(lastTs);
          lastTs = e.ts;
        }
        // Threads are named before their first event.
        expect(threadNames.get(`${e.pid}/${e.tid}`), `thread ${e.tid} named before use`).toBe(1);
      }
      // Every lane used is named exactly once (a process by its domain's create record, which in Xen 2.0 comes after its port 0).
      const used = new Set(evs.filter((e) => e.ph !== 'M').map((e) => e.pid));
      for (const pid of used) expect(procNames.get(pid), `process ${pid}`).toBe(1);
      expect([...procNames.values()].every((n) => n === 1)).toBe(true);
      expect([...threadNames.values()].every((n) => n === 1)).toBe(true);

      // Domains are processes pid = domid + 1 named after them; Xen is DOMID_XEN + 1.
      const created = [...store.records()].filter((r) => r.kind === 'domain' && r.event === 'create') as { dom: number; name: string }[];
      const pnames = new Map(evs.filter((e) => e.name === 'process_name').map((e) => [e.pid, (e.args as { name: string }).name]));
      for (const d of created) expect(pnames.get(d.dom + 1)).toBe(d.name);
      if (pnames.has(DOMID_XEN + 1)) expect(pnames.get(DOMID_XEN + 1)).toBe('Xen');

      // Slices on a thread nest: each starts inside or after the previous, never straddling an end.
      const byThread = new Map<number, Ev[]>();
      for (const e of evs) if (e.ph === 'X') (byThread.get(e.tid) ?? byThread.set(e.tid, []).get(e.tid)!).push(e);
      for (const list of byThread.values()) {
        const stack: Ev[] = [];
        for (const e of list) {
          while (stack.length > 0 && stack.at(-1)!.ts + stack.at(-1)!.dur! <= e.ts + 1e-9) stack.pop();
          const parent = stack.at(-1);
          if (parent !== undefined) expect(e.ts + e.dur!, `${e.name} inside ${parent.name}`).toBeLessThanOrEqual(parent.ts + parent.dur! + 1e-9);
          stack.push(e);
        }
      }

      // Flows: every start has its finish and the other way round; each binds to the right kind of slice.
      const starts = new Map(evs.filter((e) => e.ph === 's').map((e) => [e.id!, e]));
      const ends = new Map(evs.filter((e) => e.ph === 'f').map((e) => [e.id!, e]));
      expect(starts.size).toBe(evs.filter((e) => e.ph === 's').length);
      expect([...starts.keys()].sort()).toEqual([...ends.keys()].sort());
      for (const [id, s] of starts) {
        const f = ends.get(id)!;
        expect(f.name).toBe(s.name);
        expect(f.cat).toBe(s.cat);
        expect(f.ts).toBeGreaterThan(s.ts);
        expect(['hypercall', 'raise']).toContain(enclosing(evs, s.pid, s.tid, s.ts)?.cat);
        expect(enclosing(evs, f.pid, f.tid, f.ts)?.cat).toBe('handler');
      }

      // Each event carries its record's exact time; display time never runs behind it.
      const records = [...store.records()];
      for (const e of evs) {
        const seq = e.args?.seq;
        if (typeof seq !== 'number') continue;
        expect(e.args!.t).toBe(records[seq]!.t);
        expect(e.ts * 1000).toBeGreaterThanOrEqual(records[seq]!.t - 1e-6);
      }
    });
  }

  it("shared-channel: dom0's send is an arrow to the guest's handler of port 1", () => {
    const { doc } = exportOf('shared-channel');
    const evs = doc.traceEvents;
    const send = evs.find((e) => e.ph === 'X' && e.name === 'send' && e.pid === 1)!;
    expect(send.args).toMatchObject({ op: 'send', args: { port: 1 }, ret: '0' });
    const s = evs.find((e) => e.ph === 's' && e.pid === 1 && e.ts > send.ts && e.ts < send.ts + send.dur!)!;
    expect(s).toBeDefined();
    const f = evs.find((e) => e.ph === 'f' && e.id === s.id)!;
    expect(f.pid).toBe(2); // the guest, domid 1
    const handler = enclosing(evs, f.pid, f.tid, f.ts)!;
    expect(handler).toMatchObject({ name: 'handler 1', cat: 'handler', args: { port: 1, vcpu: 0 } });
    // The handler runs inside the guest's upcall on the same vCPU lane.
    const upcall = evs.find((e) => e.ph === 'X' && e.cat === 'upcall' && e.tid === handler.tid && e.ts < handler.ts && handler.ts < e.ts + e.dur!);
    expect(upcall).toBeDefined();
    const threadName = evs.find((e) => e.name === 'thread_name' && e.tid === handler.tid)!;
    expect(threadName.args).toEqual({ name: 'vCPU 0' });
  });

  it("virq-timer: each VIRQ_TIMER raise is a slice on Xen's lane with an arrow to the guest's handler", () => {
    const { doc } = exportOf('virq-timer');
    const evs = doc.traceEvents;
    const raises = evs.filter((e) => e.ph === 'X' && e.cat === 'raise' && e.name === 'VIRQ_TIMER → dom 1');
    expect(raises.length).toBeGreaterThanOrEqual(14);
    expect(raises.every((r) => r.pid === DOMID_XEN + 1)).toBe(true);
    const flowsFromRaises = evs.filter((e) => e.ph === 's' && enclosing(evs, e.pid, e.tid, e.ts)?.cat === 'raise');
    // One arrow per tick handled (the last tick of the 100 ms run is handled 1 ms later, and so on).
    expect(flowsFromRaises.length).toBeGreaterThanOrEqual(14);
  });

  it('lifecycle events are process-wide instants; hypercall args are the op, its args, ret and out', () => {
    const { doc } = exportOf('shared-channel');
    const evs = doc.traceEvents;
    expect(evs.find((e) => e.ph === 'i' && e.name === 'create' && e.pid === 2)).toMatchObject({ s: 'p', cat: 'domain', args: { name: 'guest' } });
    expect(evs.find((e) => e.ph === 'X' && e.name === 'alloc_unbound')!.args).toMatchObject({ op: 'alloc_unbound', ret: '0', out: { port: 1 }, args: { remote_dom: 0 } });
  });

  it('the same records give the same text however they are batched', () => {
    const { store, batches } = run('plan9-boot');
    const whole = [...chromeTrace(batches)].join('');
    const one: TraceBatch[] = [];
    for (const c of store.chunks) for (let i = 0; i < c.length; i++) one.push({ chunk: c, start: i, end: i + 1 });
    expect([...chromeTrace(one)].join('')).toBe(whole);
  });

  it('a notification never handled (its port closed while masked) draws no arrow', () => {
    const text = `name: masked then closed
domains: [{ name: dom0 }, { name: guest }]
steps:
  - { as: guest, op: alloc_unbound, args: { dom: DOMID_SELF, remote_dom: dom0 }, save: { port: g } }
  - { as: dom0, op: bind_interdomain, args: { remote_dom: guest, remote_port: $g }, save: { local_port: d } }
  - run: 1ms
  - { as: guest, mask: $g }
  - { as: dom0, op: send, args: { port: $d } }
  - run: 1ms
  - { as: guest, op: close, args: { port: $g } }
  - run: 1ms
`;
    const { doc, store } = exportOf('masked', text);
    const sends = doc.traceEvents.filter((e) => e.ph === 'X' && e.name === 'send');
    expect(sends).toHaveLength(1);
    // The send set the guest's pending bit...
    expect([...store.records()].some((r) => r.kind === 'bit' && r.dom === 1 && r.field === 'evtchn_pending' && r.value === 1 && r.t >= 1e6)).toBe(true);
    // ...but no handler took it: no arrow starts in the send.
    expect(doc.traceEvents.filter((e) => e.ph === 's' && e.ts > sends[0]!.ts && e.ts < sends[0]!.ts + sends[0]!.dur!)).toEqual([]);
  });

  it(`records at one virtual instant are shown ${DISPLAY_STEP_NS} ns apart, and catch up after a gap`, () => {
    const { doc } = exportOf('shared-channel');
    const evs = doc.traceEvents.filter((e) => e.ph === 'i' || e.ph === 'X');
    const at0 = evs.filter((e) => e.args?.t === 0).map((e) => Math.round(e.ts * 1000));
    expect(at0.slice(0, 3)).toEqual([0, DISPLAY_STEP_NS, 2 * DISPLAY_STEP_NS]);
    const later = evs.find((e) => e.args?.t === 1_000_000)!;
    expect(later.ts).toBe(1000);
  });

  it('an encoder refuses records after its end', () => {
    const enc = new ChromeTraceEncoder();
    enc.begin();
    enc.end();
    const { batches } = run('shared-channel');
    expect(() => enc.batch(batches[0]!)).toThrow(/after end/);
  });
});
