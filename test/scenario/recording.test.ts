/**
 * Recordings: record → JSON → read back → replay gives the same trace hash,
 * for plain runs and for live sessions with typed console input; a tampered
 * recording (input, seed, scenario text) is caught at the record where the
 * runs part, both records shown; malformed files give clear problems, never
 * a crash.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TraceStore, type TraceBatch } from '../../src/core/sim/trace.js';
import { findDivergence } from '../../src/core/sim/trace_hash.js';
import { ScenarioInputError } from '../../src/scenario/errors.js';
import { startLive } from '../../src/scenario/live.js';
import {
  base64Decode,
  base64Encode,
  decodeColumns,
  parseRecording,
  Recorder,
  recordingToJson,
  RecordingError,
  recordRun,
  replay,
  type Recording,
} from '../../src/scenario/recording.js';
import { runScenario } from '../../src/scenario/runner.js';
import { loadScenario } from '../../src/scenario/stepform.js';

const SCENARIOS = join(import.meta.dirname, '../../scenarios');
const MS = 1e6;
const enc = (s: string) => new TextEncoder().encode(s);

/** Plan 9 with its steps stopped before the root prompt is answered: the answer is typed live. */
const PLAN9 = `name: Plan 9 waits at its root prompt
xen: "2.0"
domains:
  - name: dom0
  - name: plan9
    kernel: plan9
steps:
  - run: 5ms
`;

/** Records a live Plan 9 session: "local\\r" at 8 ms, a command at 13 ms, then 5 ms more. */
function recordLive(opts: { text?: string; seed?: number; advances?: number[]; keep?: number } = {}): Recording {
  const text = opts.text ?? PLAN9;
  const rec = new Recorder('plan9-live.yaml', text, opts.keep === undefined ? {} : { keep: opts.keep });
  const s = startLive(loadScenario('plan9-live.yaml', text), { ...(opts.seed === undefined ? {} : { seed: opts.seed }), onMachine: (hv) => void rec.attach(hv.trace) });
  for (const a of opts.advances ?? [3 * MS]) s.advance(a);
  s.type(1, enc('local\r'));
  s.advance(5 * MS);
  s.type(1, enc('echo hello\r'));
  s.advance(5 * MS);
  s.close();
  return rec.finish(s.hv.seed, s.inputs);
}

/** The trace of a replay, kept (to compare with another run's). */
function replayStore(r: Recording): { store: TraceStore; result: ReturnType<typeof replay> } {
  const store = new TraceStore();
  const result = replay(r, { onBatch: (b: TraceBatch) => store.subscriber(b) });
  return { store, result };
}

const segs = (s: TraceStore) => s.chunks.map((c) => ({ chunk: c, start: 0, end: c.length }));

function problems(f: () => unknown): { path: string; message: string; line: number; col: number }[] {
  try {
    f();
  } catch (e) {
    if (e instanceof RecordingError) return e.problems;
    throw e;
  }
  throw new Error('expected a RecordingError');
}

describe('record and replay', () => {
  for (const name of ['shared-channel', 'plan9-boot', 'minios-console', 'virq-timer', 'fifo-priorities', 'grant-tables', 'dom0-shell', 'xen2-shutdown']) {
    it(`${name}.yaml: recorded, written, read back and replayed with the same trace hash`, () => {
      const file = `scenarios/${name}.yaml`;
      const { result, recording } = recordRun(file, readFileSync(join(SCENARIOS, `${name}.yaml`), 'utf8'));
      expect(recording.trace.records).toBeGreaterThan(10);
      const json = recordingToJson(recording);
      const back = parseRecording('r.json', json);
      expect(recordingToJson(back)).toBe(json); // the format is stable
      const r = replay(back);
      expect(r.ok).toBe(true);
      expect(r.replayed).toEqual({ records: recording.trace.records, hash: recording.trace.hash, block: recording.trace.block, blocks: recording.trace.blocks });
      expect(r.result.steps).toEqual(result.steps);
      expect(r.divergence).toBeUndefined();
    });
  }

  it('records a live session: each typed input with its virtual time, the clock advances merged, the live part in the hash', () => {
    const rec = recordLive();
    // Each input also has the execution's position when it came (units taken), going forward.
    const positions = rec.inputs.map((i) => i.position!);
    expect(positions.every((p, n) => Number.isInteger(p) && p >= (positions[n - 1] ?? 0))).toBe(true);
    expect(positions[1]).toBe(positions[0]); // typed where the advance before it ended
    expect(rec.inputs.map(({ position: _, ...i }) => ({ ...i, bytes: i.kind === 'type' ? new TextDecoder().decode(i.bytes) : undefined }))).toEqual([
      { kind: 'advance', t: 8 * MS, bytes: undefined },
      { kind: 'type', t: 8 * MS, domid: 1, bytes: 'local\r' },
      { kind: 'advance', t: 13 * MS, bytes: undefined },
      { kind: 'type', t: 13 * MS, domid: 1, bytes: 'echo hello\r' },
      { kind: 'advance', t: 18 * MS, bytes: undefined },
    ]);
    const json = recordingToJson(rec);
    expect(json).toContain(`{"t":8000000,"kind":"type","domid":1,"text":"local\\r","position":${positions[1]!}}`);
    expect(parseRecording('live.json', json).inputs.map((i) => i.position)).toEqual(positions);
    // A recording made before positions existed still loads and replays.
    const older = parseRecording('old.json', json.replace(/,"position":\d+/g, ''));
    expect(older.inputs.every((i) => i.position === undefined)).toBe(true);
    expect(replay(older).ok).toBe(true);
    const { store, result } = replayStore(parseRecording('live.json', json));
    expect(result.ok).toBe(true);
    // The replay's trace has the console echoing what was typed.
    const cons = [...store.records()].filter((r) => r.kind === 'cons').map((r) => (r as { text: string }).text).join('');
    expect(cons).toContain('hello');
    // Without the typing, the trace is shorter: the input is what the hash covers.
    expect(recordRun('p.yaml', PLAN9).recording.trace.records).toBeLessThan(rec.trace.records);
  });

  it('how the clock was advanced between inputs does not matter: the same virtual times give the same trace', () => {
    const a = recordLive({ advances: [3 * MS] });
    const b = recordLive({ advances: [MS, 0, 1.5 * MS, 0.5 * MS] });
    expect(b.trace.hash).toBe(a.trace.hash);
  });

  it('bytes that are not UTF-8 are kept in base64 and replay the same', () => {
    const text = PLAN9;
    const rec = new Recorder('p.yaml', text);
    const s = startLive(loadScenario('p.yaml', text), { onMachine: (hv) => void rec.attach(hv.trace) });
    s.type(1, new Uint8Array([0xff, 0x01, 0x0d]));
    s.advance(2 * MS);
    const json = recordingToJson(rec.finish(s.hv.seed, s.inputs));
    expect(json).toContain('"base64":"/wEN"');
    expect(replay(parseRecording('p.json', json)).ok).toBe(true);
  });
});

describe('a tampered recording', () => {
  const json = recordingToJson(recordLive());

  it('typed input changed: the runs diverge where the console first sees it, both records shown', () => {
    const edited = json.replace('"text":"echo hello\\r"', '"text":"echo jello\\r"');
    expect(edited).not.toBe(json);
    const r = replay(parseRecording('t.json', edited));
    expect(r.ok).toBe(false);
    const d = r.divergence!;
    expect(d.exact).toBe(true);
    expect(d.recorded!.t).toBe(13 * MS);
    expect(d.replayed!.t).toBe(13 * MS);
    expect(d.recorded).not.toEqual(d.replayed);
    // The same seq as comparing the two runs' full traces directly.
    const original = replayStore(parseRecording('o.json', json)).store;
    const changed = replayStore(parseRecording('t.json', edited)).store;
    expect(d.seq).toBe(findDivergence(segs(original), segs(changed))!.seq);
    expect(d.replayed).toEqual([...changed.records()][d.seq]);
    expect(d.recorded).toEqual([...original.records()][d.seq]);
  });

  it('seed changed: diverges at the first upcall whose jitter differs', () => {
    const edited = json.replace('"seed": 1,', '"seed": 2,');
    const r = replay(parseRecording('t.json', edited));
    expect(r.ok).toBe(false);
    const other = replayStore(parseRecording('t.json', edited)).store;
    const original = replayStore(parseRecording('o.json', json)).store;
    const want = findDivergence(segs(original), segs(other))!;
    expect(r.divergence).toMatchObject({ seq: want.seq, exact: true, recorded: want.a, replayed: want.b });
    expect(r.divergence!.recorded!.t).not.toBe(r.divergence!.replayed!.t);
  });

  it('scenario text edited: a step added shows where the traces part', () => {
    const rec = parseRecording('o.json', json);
    const text = PLAN9.replace('  - run: 5ms\n', '  - run: 5ms\n  - { as: plan9, op: status, args: { dom: DOMID_SELF, port: 1 } }\n');
    const edited = recordingToJson({ ...rec, scenario: text });
    const r = replay(parseRecording('t.json', edited));
    expect(r.ok).toBe(false);
    expect(r.divergence!.replayed).toMatchObject({ kind: 'hypercall', op: 'status', t: 5 * MS });
    expect(r.divergence!.recorded!.t).toBeGreaterThanOrEqual(5 * MS);
  });

  it('an input moved later in time is caught', () => {
    const edited = json.replace('{"t":13000000,"kind":"advance"}', '{"t":14000000,"kind":"advance"}').replace('{"t":13000000,"kind":"type"', '{"t":14000000,"kind":"type"');
    expect(edited).not.toBe(json);
    const r = replay(parseRecording('t.json', edited));
    expect(r.ok).toBe(false);
    expect(r.divergence!.exact).toBe(true);
  });

  it('a recording that kept only hashes still names the block where the runs part', () => {
    const rec = recordLive({ keep: 10 });
    expect(rec.trace.kept).toBeUndefined();
    const text = recordingToJson(rec);
    expect(text).not.toContain('"data"');
    const r = replay(parseRecording('t.json', text.replace('"seed": 1,', '"seed": 2,')));
    expect(r.ok).toBe(false);
    expect(r.divergence).toMatchObject({ exact: false, block: 0, seq: 0, recorded: undefined });
    expect(r.divergence!.why).toMatch(/keeps only the hashes/);
  });

  it('kept records edited by hand are noticed (they no longer match the hash) and not shown', () => {
    const rec = parseRecording('o.json', json);
    const data = rec.trace.kept!.data.slice();
    data[40] = data[40]! ^ 1;
    const edited = parseRecording('t.json', recordingToJson({ ...rec, seed: 2, trace: { ...rec.trace, kept: { data, extras: rec.trace.kept!.extras } } }));
    const r = replay(edited);
    expect(r.ok).toBe(false);
    expect(r.divergence!.exact).toBe(false);
    expect(r.divergence!.why).toMatch(/cannot be read|do not match its hash/);
  });

  it('an input the replay cannot apply is reported, and the hash tells the runs apart', () => {
    const edited = json.replace('"kind":"type","domid":1,"text":"local', '"kind":"type","domid":7,"text":"local');
    const r = replay(parseRecording('t.json', edited));
    expect(r.ok).toBe(false);
    expect(r.inputProblems).toEqual([expect.stringMatching(/^inputs\[1\]: typing at domain 7 failed: there is no domain 7/)]);
  });

  it('a scenario that no longer loads throws its problems (positions in the recorded file name)', () => {
    const rec = parseRecording('o.json', json);
    expect(() => replay({ ...rec, scenario: 'name: x\ndomains: []\nsteps: [{ as: dom0, op: sned }]\n' })).toThrow(ScenarioInputError);
  });
});

describe('malformed recordings', () => {
  const good = recordingToJson(recordRun('scenarios/shared-channel.yaml', readFileSync(join(SCENARIOS, 'shared-channel.yaml'), 'utf8')).recording);
  const obj = () => JSON.parse(good) as Record<string, unknown> & { trace: Record<string, unknown>; inputs: unknown[] };

  it('not JSON: one problem at the place the parser stopped', () => {
    const ps = problems(() => parseRecording('bad.json', '{\n  "format": "xenlab-recording",\n  "version": 1,,\n}'));
    expect(ps).toHaveLength(1);
    expect(ps[0]!.message).toMatch(/^this is not JSON/);
    expect(ps[0]!.line).toBe(3);
    expect(problems(() => parseRecording('bad.json', 'name: a scenario\nsteps: []\n'))[0]!.message).toMatch(/not JSON/);
    expect(problems(() => parseRecording('bad.json', ''))[0]!.message).toMatch(/not JSON/);
  });

  it('not a recording, or a version this xenlab does not read', () => {
    expect(problems(() => parseRecording('r.json', '[1, 2]'))[0]!.message).toMatch(/expected a JSON object/);
    expect(problems(() => parseRecording('r.json', '{"name": "x"}'))[0]!.message).toMatch(/"format" is missing: this is not a XenLab recording/);
    expect(problems(() => parseRecording('r.json', '{"format": "chrome-trace"}'))[0]).toMatchObject({ path: 'format' });
    expect(problems(() => parseRecording('r.json', '{"format": "chrome-trace"}'))[0]!.message).toMatch(/found "chrome-trace"/);
    const v2 = problems(() => parseRecording('r.json', good.replace('"version": 1', '"version": 2')));
    expect(v2[0]).toMatchObject({ path: 'version', line: 3, col: 14, message: 'version 2 is newer than this xenlab reads (version 1)' });
    expect(problems(() => parseRecording('r.json', good.replace('"version": 1', '"version": "1"')))[0]).toMatchObject({ path: 'version', message: 'expected 1, found "1"' });
  });

  it('missing fields and wrong types: each named by its path, with expected and found, at its line', () => {
    const o = obj();
    delete (o as Record<string, unknown>).scenario;
    o.seed = 'one';
    o.trace.records = -3;
    const text = JSON.stringify(o, null, 2);
    const ps = problems(() => parseRecording('r.json', text));
    expect(ps.map((p) => [p.path, p.message])).toEqual([
      ['', '"scenario" is missing'],
      ['seed', 'expected a whole number from 0 to 4294967295, found "one"'],
      ['trace.records', `expected a whole number from 0 to ${Number.MAX_SAFE_INTEGER}, found -3`],
    ]);
    const lines = text.split('\n');
    expect(lines[ps[1]!.line - 1]).toContain('"seed"');
    expect(lines[ps[2]!.line - 1]).toContain('"records"');
  });

  it('bad inputs: kind, time, domain, bytes, order', () => {
    const o = obj();
    o.inputs = [
      { t: 5, kind: 'advance' },
      { t: 1, kind: 'advance' },
      { t: 6, kind: 'poke' },
      { t: -1, kind: 'advance' },
      { t: 7, kind: 'type', domid: 1 },
      { t: 7, kind: 'type', domid: 'dom1', text: 'x' },
      { t: 8, kind: 'type', domid: 1, base64: '***' },
      'type x',
    ];
    const ps = problems(() => parseRecording('r.json', JSON.stringify(o, null, 1)));
    expect(ps.map((p) => `${p.path}: ${p.message}`)).toEqual([
      'inputs[1].t: inputs go forward in time: 1 ns comes after an input at 5 ns',
      'inputs[2].kind: expected "advance" or "type", found "poke"',
      `inputs[3].t: expected a virtual time in ns (a number from 0 to ${Number.MAX_SAFE_INTEGER}), found -1`,
      'inputs[4]: a "type" input needs "text" (or "base64") with the bytes typed',
      'inputs[5].domid: expected a whole number from 0 to 32751, found "dom1"',
      'inputs[6].base64: expected bytes in base64, found "***"',
      'inputs[7]: expected an input: {"t": ns, "kind": "advance"} or {"t": ns, "kind": "type", "domid": N, "text": "..."}, found "type x"',
    ]);
  });

  it('a trace section that does not add up', () => {
    const o = obj();
    o.trace.blocks = [...(o.trace.blocks as string[]), '0123456789abcdef'];
    const bp = problems(() => parseRecording('r.json', JSON.stringify(o)))[0]!;
    expect(bp.path).toBe('trace.blocks');
    expect(bp.message).toMatch(/^expected 1 block hash for \d+ records in blocks of 4096, found 2$/);
    const p = obj();
    p.trace.hash = '0123456789abcdef';
    const hp = problems(() => parseRecording('r.json', JSON.stringify(p)))[0]!;
    expect(hp.path).toBe('trace.hash');
    expect(hp.message).toMatch(/does not match the block hashes/);
    const q = obj();
    q.trace.hash = 'xyz';
    expect(problems(() => parseRecording('r.json', JSON.stringify(q)))[0]).toMatchObject({ path: 'trace.hash', message: 'expected 16 hex digits, found "xyz"' });
    const r = obj();
    delete r.trace.extras;
    expect(problems(() => parseRecording('r.json', JSON.stringify(r)))[0]!.message).toMatch(/"extras" is missing/);
    const s = obj();
    s.trace.data = 'not base64!';
    expect(problems(() => parseRecording('r.json', JSON.stringify(s)))[0]!.path).toBe('trace.data');
  });

  it('random damage to a recording gives a RecordingError or a recording, never anything else', () => {
    let x = 12345;
    const rand = (n: number) => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return x % n;
    };
    const alphabet = '{}[]":,0123456789-eE.truefalsnl ';
    for (let k = 0; k < 400; k++) {
      let text = good;
      for (let m = 0; m <= rand(3); m++) {
        const at = rand(text.length);
        const op = rand(3);
        if (op === 0) text = text.slice(0, at) + text.slice(at + 1 + rand(4));
        else if (op === 1) text = text.slice(0, at) + alphabet[rand(alphabet.length)]! + text.slice(at + 1);
        else text = text.slice(0, at) + alphabet[rand(alphabet.length)]! + text.slice(at);
      }
      try {
        parseRecording('r.json', text);
      } catch (e) {
        expect(e).toBeInstanceOf(RecordingError);
        for (const p of (e as RecordingError).problems) expect(p.line).toBeGreaterThanOrEqual(1);
      }
    }
  });

  it('damaged kept records decode to a reason, never a crash', () => {
    const rec = parseRecording('r.json', good);
    const { data, extras } = rec.trace.kept!;
    const n = rec.trace.records;
    expect(Array.isArray(decodeColumns(data, extras, n))).toBe(true);
    let x = 99;
    for (let k = 0; k < 500; k++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      const d = data.slice(0, data.length - (k % 3 === 0 ? x % 7 : 0));
      d[x % d.length] = (x >>> 8) & 0xff;
      const out = decodeColumns(d, k % 5 === 0 ? [] : extras, n);
      expect(typeof out === 'string' || Array.isArray(out)).toBe(true);
    }
    expect(decodeColumns(data, extras, n + 1)).toMatch(/holds \d+ records/);
    expect(decodeColumns(data, extras, n - 1)).toMatch(/left over/);
  });

  it('base64 round trip, and refusal of what is not base64', () => {
    for (let n = 0; n < 20; n++) {
      const b = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff);
      expect(base64Decode(base64Encode(b))).toEqual(b);
      expect(base64Encode(b)).toBe(Buffer.from(b).toString('base64'));
    }
    for (const bad of ['a', 'ab=c', '====', 'ab!d', 'é===']) expect(base64Decode(bad)).toBeUndefined();
  });
});

describe('a run that fails its expectations records and replays as well', () => {
  it('the replay has the same failures', () => {
    const text = 'name: x\ndomains: [{ name: dom0 }, { name: guest }]\nsteps:\n  - { as: guest, op: send, args: { port: 5 }, expect: { ret: 0 } }\n';
    const { result, recording } = recordRun('x.yaml', text);
    expect(result.ok).toBe(false);
    const r = replay(recording);
    expect(r.ok).toBe(true);
    expect(r.result.failures).toEqual(runScenario(loadScenario('x.yaml', text)).failures);
  });
});
