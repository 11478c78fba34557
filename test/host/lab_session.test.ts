// A lab session driven directly (no worker): units, step back and seek giving the same machine
// again, consoles with their resets, the streamed trace with its cause column, typed input
// replayed after a step back, failures with their places, the trace's truncation.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventName, Events } from '../../src/contract/api.js';
import { HostError } from '../../src/contract/api.js';
import { fromBase64, unpackTraceColumns } from '../../src/contract/trace_batch.js';
import { compileScenario } from '../../src/host/lab/compile.js';
import { LabSession, type SessionSink } from '../../src/host/lab/session.js';

const SCENARIOS = join(import.meta.dirname, '../../scenarios');
const dec = (b64: string) => new TextDecoder().decode(fromBase64(b64));

const PLAN9_WAITS = `name: Plan 9 waits at its root prompt
xen: "2.0"
domains:
  - name: dom0
  - name: plan9
    kernel: plan9
steps:
  - run: 5ms
`;

class Collect implements SessionSink {
  events: { name: EventName; payload: unknown }[] = [];
  event<E extends EventName>(name: E, payload: Events[E]): void {
    this.events.push({ name, payload });
  }
  busy(): void {}
  of<E extends EventName>(name: E): Events[E][] {
    return this.events.filter((e) => e.name === name).map((e) => e.payload as Events[E]);
  }
  /** What a terminal for `domid` shows, applying resets. */
  console(domid: number): string {
    let text = '';
    for (const c of this.of('session.console')) {
      if (c.domid !== domid) continue;
      text = c.reset ? dec(c.data) : text + dec(c.data);
    }
    return text;
  }
  /** The UI's view of the trace: batches applied with their truncation. */
  trace(): { seqs: number; kinds: number[]; causes: number[] } {
    const kinds: number[] = [];
    const causes: number[] = [];
    for (const b of this.of('session.trace')) {
      if (b.truncate !== undefined) {
        kinds.length = Math.min(kinds.length, b.truncate);
        causes.length = Math.min(causes.length, b.truncate);
      }
      expect(b.first).toBe(kinds.length);
      const cols = unpackTraceColumns(fromBase64(b.columns), b.count);
      kinds.push(...cols.kind);
      causes.push(...cols.cause);
    }
    return { seqs: kinds.length, kinds, causes };
  }
}

let sessions: LabSession[] = [];
afterEach(() => {
  for (const s of sessions) s.close();
  sessions = [];
});

async function open(text: string, file = 'test.yaml', sink = new Collect()): Promise<{ s: LabSession; sink: Collect }> {
  const c = await compileScenario(file, text, file.endsWith('.ts') ? 'typescript' : 'yaml');
  if (!c.ok) throw new Error(JSON.stringify(c.problems));
  const s = LabSession.start(c.compiled, sink);
  sessions.push(s);
  return { s, sink };
}

describe('a lab session', () => {
  it('starts paused at position 0, takes one unit per step, and runs the script to the root prompt', async () => {
    const { s, sink } = await open(readFileSync(join(SCENARIOS, 'plan9-boot.yaml'), 'utf8'), 'plan9-boot.yaml');
    expect(s.status()).toMatchObject({ state: 'paused', position: 0, scriptDone: false, stepIndex: 0 });
    expect(s.info().consoles.map((c) => [c.name, c.kind])).toEqual([
      ['dom0', 'shell'],
      ['plan9', 'xend'],
    ]);
    const st = s.control('step');
    expect(st.position).toBe(1);
    // The first step is `run: 5ms`: its events are units of their own, so it is still being waited in.
    expect(st.waiting).toBe(0);
    let last = st;
    while (!last.scriptDone) last = s.control('step');
    expect(last.failures).toBe(0);
    expect(last.position).toBeGreaterThan(10);
    expect(sink.console(1)).toContain('Plan 9 from Bell Labs on Xen 2.0');
    expect(sink.console(1)).toContain('term% ');
    expect(sink.console(0)).not.toBe('');
    expect(sink.trace().seqs).toBe(last.records);
  });

  it('steps one unit at a time, and back again to the same state', async () => {
    const { s, sink } = await open(PLAN9_WAITS);
    const at0 = { status: s.status(), console: sink.console(1), topology: JSON.stringify(s.topology().domains) };
    s.control('step');
    const at1 = { status: s.status(), console: sink.console(1), topology: JSON.stringify(s.topology().domains) };
    for (let i = 0; i < 5; i++) s.control('step');
    expect(s.status().position).toBe(6);
    expect(s.status().now).toBeGreaterThan(at1.status.now);
    for (let i = 0; i < 5; i++) s.control('stepBack');
    const back = s.status();
    expect(back.position).toBe(1);
    expect(back.now).toBe(at1.status.now);
    expect(back.records).toBe(at1.status.records);
    expect(sink.console(1)).toBe(at1.console);
    expect(JSON.stringify(s.topology().domains)).toBe(at1.topology);
    expect(sink.trace().seqs).toBe(at1.status.records);
    s.control('stepBack');
    expect(s.status()).toMatchObject({ position: 0, records: at0.status.records, now: at0.status.now });
    expect(sink.console(1)).toBe(at0.console);
    expect(sink.trace().seqs).toBe(at0.status.records);
  });

  it('seeks forward and back, giving the same records as stepping there', async () => {
    const { s, sink } = await open(PLAN9_WAITS);
    s.seek(40);
    const a = sink.trace();
    s.seek(3);
    s.seek(40);
    const b = sink.trace();
    expect(s.status().position).toBe(40);
    expect(b).toEqual(a);
  });

  it.each(['bind-interdomain.yaml', 'final-expect.yaml', 'minios-console.yaml'])(
    '%s: going back and forth gives the records, causes and consoles a session taken straight there has',
    async (file) => {
      const text = readFileSync(join(SCENARIOS, file), 'utf8');
      const a = await open(text, file);
      a.s.seek(300);
      a.s.seek(120);
      a.s.seek(57);
      a.s.seek(300);
      const b = await open(text, file);
      b.s.seek(300);
      expect(a.s.status().records).toBe(b.s.status().records);
      expect(a.sink.trace()).toEqual(b.sink.trace());
      for (const c of a.s.info().consoles) expect(a.sink.console(c.domid), c.name).toBe(b.sink.console(c.domid));
      expect(a.s.status().failures).toBe(b.s.status().failures);
    },
  );

  it("gives handler records the seq of the send or raise that made their port pending", async () => {
    const { s, sink } = await open(PLAN9_WAITS);
    s.seek(60);
    const tr = sink.trace();
    const kindNames = s.info().traceKinds;
    const handlers = tr.kinds.map((k, seq) => ({ k: kindNames[k], seq })).filter((r) => r.k === 'handler');
    expect(handlers.length).toBeGreaterThan(0);
    let linked = 0;
    for (const h of handlers) {
      const cause = tr.causes[h.seq]!;
      if (cause < 0) continue;
      linked++;
      expect(cause).toBeLessThan(h.seq);
      expect(['hypercall', 'raise']).toContain(kindNames[tr.kinds[cause]!]);
      const rec = s.record(h.seq);
      expect(rec.cause).toBe(cause);
    }
    expect(linked).toBeGreaterThan(0);
  });

  it('types at a console, and replays what was typed when it steps back and forth over it', async () => {
    const { s, sink } = await open(PLAN9_WAITS);
    s.control('step');
    expect(sink.console(1)).toContain('root is from (local, tcp)[local]: ');
    expect(s.type(1, 'local\r').accepted).toBe(6);
    s.seek(400);
    expect(sink.console(1)).toContain('init: starting /bin/rc');
    const text = sink.console(1);
    const records = s.status().records;
    s.seek(1);
    expect(sink.console(1)).not.toContain('init: starting');
    s.seek(400);
    expect(sink.console(1)).toBe(text);
    expect(s.status().records).toBe(records);
  });

  it('refuses console input for an unknown domain, with a message', async () => {
    const { s } = await open(PLAN9_WAITS);
    s.control('step');
    const e = (() => {
      try {
        s.type(7, 'x');
      } catch (err) {
        return err as HostError;
      }
      return undefined;
    })();
    expect(e).toBeInstanceOf(HostError);
    expect(e!.code).toBe('input');
    expect(e!.message).toMatch(/domain 7 has no console here \(consoles: dom0 \(0\), plan9 \(1\)\)/);
  });

  it('refuses input to a destroyed domain, saying so', async () => {
    const { s } = await open(`name: gone
domains:
  - name: dom0
  - name: mini
    kernel: minios
steps:
  - run: 5ms
  - destroy: mini
`);
    expect(s.seek(500).scriptDone).toBe(true);
    expect(() => s.type(1, 'help\r')).toThrow(/mini \(domain 1\) has been destroyed/);
    expect(s.info().consoles.find((c) => c.domid === 1)?.alive).toBe(false);
  });

  it('streams failures with their line and column', async () => {
    const { s, sink } = await open(`name: fails
domains:
  - name: dom0
  - name: a
steps:
  - as: a
    op: alloc_unbound
    args: { dom: DOMID_SELF, remote_dom: dom0 }
    expect: { ret: -EINVAL }
`);
    s.control('step');
    const f = sink.of('session.failure');
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ line: 9, position: 1 });
    expect(s.status().failures).toBe(1);
  });

  it('runs in real time, and pauses', async () => {
    const { s } = await open(PLAN9_WAITS);
    s.control('run');
    await new Promise((r) => setTimeout(r, 300));
    const st = s.control('pause');
    expect(st.state).toBe('paused');
    expect(st.position).toBeGreaterThan(1);
    // 300 ms of real time after the 5 ms script, give or take the timer's granularity.
    expect(st.now).toBeGreaterThan(5e6 + 100e6);
    expect(st.now).toBeLessThan(5e6 + 2000e6);
  });

  it('runs a fixed number of units per second', async () => {
    const { s } = await open(PLAN9_WAITS);
    s.setSpeed({ mode: 'units', perSecond: 20 });
    s.control('run');
    await new Promise((r) => setTimeout(r, 500));
    const st = s.control('pause');
    expect(st.position).toBeGreaterThanOrEqual(3);
    expect(st.position).toBeLessThanOrEqual(20);
  });

  it('refuses a speed that makes no sense', async () => {
    const { s } = await open(PLAN9_WAITS);
    expect(() => s.setSpeed({ mode: 'units', perSecond: 0 })).toThrow(/units per second/);
  });

  it('answers pages of records with summaries, filtered in the filter language, with its errors', async () => {
    const { s } = await open(PLAN9_WAITS);
    s.control('step');
    const page = s.records('', 0, 20);
    expect(page.total).toBe(s.status().records);
    expect(page.rows).toHaveLength(20);
    expect(page.rows[0]!.seq).toBe(0);
    expect(page.rows.every((r) => r.summary.length > 0)).toBe(true);
    const sends = s.records('kind==hypercall && op==send', 0, 1000);
    expect(sends.total).toBeGreaterThan(0);
    expect(sends.rows.every((r) => r.kind === 'hypercall' && r.fields.op === 'send')).toBe(true);
    // The trace grows: asking again counts the new records too.
    const before = s.records('dom==1', 0, 1).total;
    s.seek(100);
    expect(s.records('dom==1', 0, 1).total).toBeGreaterThan(before);
    // Names are Xen 2.0's here: VIRQ_TIMER is 1 (the first tick comes at 10 ms).
    const timer = s.records('kind==raise && virq==VIRQ_TIMER', 0, 5);
    expect(timer.total).toBeGreaterThan(0);
    expect(timer.rows[0]!.summary).toMatch(/^VIRQ_TIMER → dom 1/);
    const bad = s.records('dom==', 0, 20);
    expect(bad.rows).toEqual([]);
    expect(bad.filterError).toMatchObject({ start: 5 });
    expect(bad.filterError!.message.length).toBeGreaterThan(0);
  });

  it('writes a recording that replays to the same trace', async () => {
    const { replay, parseRecording } = await import('../../src/scenario/recording.js');
    const { s } = await open(PLAN9_WAITS, 'waits.yaml');
    s.control('step');
    s.type(1, 'local\r');
    s.seek(300);
    const rec = parseRecording('r.json', s.recordingJson());
    expect(rec.inputs.some((i) => i.kind === 'type')).toBe(true);
    expect(replay(rec).ok).toBe(true);
  });

  it('opens a recording and replays it to its end', async () => {
    const { s } = await open(PLAN9_WAITS, 'waits.yaml');
    s.control('step');
    s.type(1, 'local\r');
    s.seek(300);
    const json = s.recordingJson();
    const sink = new Collect();
    const r = await LabSession.fromRecording('r.json', json, sink);
    sessions.push(r);
    expect(r.info().replay).toBe(true);
    // Nothing streams before the UI has the answer; the next flush brings the consoles from the start.
    expect(sink.events).toEqual([]);
    await new Promise((res) => setTimeout(res, 100));
    expect(sink.console(1)).toContain('init: starting /bin/rc');
    expect(r.status().state).toBe('paused');
  });
});
