// xenlab run --record, xenlab replay and xenlab export, through the built CLI (dist/cli/xenlab.mjs via bin/xenlab.mjs).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = join(import.meta.dirname, '../../bin/xenlab.mjs');
const SCENARIOS = join(import.meta.dirname, '../../scenarios');

function xenlab(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'xenlab-rec-'));
}

/** A recording of a scenario, made by the CLI; returns its path. */
function record(name: string, dir = tmp()): string {
  const rec = join(dir, `${name}.rec.json`);
  const r = xenlab('run', join(SCENARIOS, `${name}.yaml`), '--record', rec);
  expect(r.code, r.err).toBe(0);
  return rec;
}

const noStack = (s: string) => expect(s).not.toMatch(/\n\s+at /);

describe('xenlab run --record and xenlab replay', () => {
  it('records a run and replays it: exit 0, the hash the same', () => {
    const rec = record('plan9-boot');
    const doc = JSON.parse(readFileSync(rec, 'utf8')) as { format: string; version: number; seed: number; trace: { records: number; hash: string } };
    expect(doc).toMatchObject({ format: 'xenlab-recording', version: 1, seed: 1 });
    const r = xenlab('replay', rec);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`${doc.trace.records} trace records, hash ${doc.trace.hash}: the same as recorded`);
    const j = xenlab('replay', rec, '--json');
    expect(j.code).toBe(0);
    const want = { records: doc.trace.records, hash: doc.trace.hash };
    expect(JSON.parse(j.out)).toMatchObject({ ok: true, recorded: want, replayed: want, input_problems: [] });
  });

  it('a tampered recording: exit 1, the record where the runs diverge, both versions side by side', () => {
    const rec = record('shared-channel');
    const tampered = join(tmp(), 't.json');
    writeFileSync(tampered, readFileSync(rec, 'utf8').replace('"seed": 1,', '"seed": 5,'));
    const r = xenlab('replay', tampered);
    expect(r.code, r.err).toBe(1);
    const m = /the runs diverge at record (\d+)/.exec(r.out);
    expect(m, r.out).not.toBeNull();
    expect(r.out).toMatch(/field\s+recorded\s+replayed/);
    expect(r.out).toMatch(new RegExp(`\\n\\s+seq\\s+${m![1]}\\s+${m![1]}\\n`));
    expect(r.out).toMatch(/\n {2}\* t\s+\d+\s+\d+\n/); // the time differs, and is marked
    const j = JSON.parse(xenlab('replay', tampered, '--json').out) as { ok: boolean; divergence: { seq: number; recorded: { t: number }; replayed: { t: number } } };
    expect(j.ok).toBe(false);
    expect(j.divergence.seq).toBe(Number(m![1]));
    expect(j.divergence.recorded.t).not.toBe(j.divergence.replayed.t);
  });

  it('a recording whose scenario no longer loads, or that is not a recording: exit 2 with the problem, no stack trace', () => {
    const rec = record('shared-channel');
    const dir = tmp();
    const broken = join(dir, 'b.json');
    const doc = JSON.parse(readFileSync(rec, 'utf8')) as { scenario: string };
    doc.scenario = doc.scenario.replace('op: bind_interdomain', 'op: bind_interdomian');
    writeFileSync(broken, JSON.stringify(doc));
    let r = xenlab('replay', broken);
    expect(r.code).toBe(2);
    expect(r.err).toContain('no longer loads');
    expect(r.err).toContain('unknown op "bind_interdomian"');
    noStack(r.err);

    const v2 = join(dir, 'v2.json');
    writeFileSync(v2, readFileSync(rec, 'utf8').replace('"version": 1', '"version": 2'));
    r = xenlab('replay', v2);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${v2}:3:14: version: version 2 is newer than this xenlab reads (version 1)`);

    for (const args of [['replay'], ['replay', '/nonexistent/r.json'], ['replay', join(SCENARIOS, 'shared-channel.yaml')], ['replay', process.execPath], ['replay', rec, '--bogus'], ['replay', rec, rec]]) {
      r = xenlab(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err, args.join(' ')).toMatch(/\S/);
      noStack(r.err);
    }
    expect(xenlab('replay', join(SCENARIOS, 'shared-channel.yaml')).err).toMatch(/this is not JSON/);
  });

  it('--record to a place that cannot be written: exit 2 before anything runs; a failed run leaves no file', () => {
    const r = xenlab('run', join(SCENARIOS, 'shared-channel.yaml'), '--record', '/nonexistent/dir/r.json');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/cannot write \/nonexistent\/dir\/r.json/);
    expect(r.out).toBe('');
    const dir = tmp();
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'name: x\ndomains: [{ name: dom0 }]\nsteps:\n  - { as: dom0, op: sned }\n');
    expect(xenlab('run', bad, '--record', join(dir, 'r.json')).code).toBe(2);
    expect(readdirSync(dir)).toEqual(['bad.yaml']);
  });
});

describe('xenlab export', () => {
  it('jsonl of a recording and of its scenario is exactly what run --trace writes', () => {
    const dir = tmp();
    const rec = record('minios-console', dir);
    const traced = join(dir, 'run.jsonl');
    expect(xenlab('run', join(SCENARIOS, 'minios-console.yaml'), '--trace', traced).code).toBe(0);
    const fromRec = join(dir, 'rec.jsonl');
    const r = xenlab('export', rec, '--format', 'jsonl', '-o', fromRec);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^\d+ trace records written to .*rec\.jsonl \(jsonl\)\n$/);
    expect(readFileSync(fromRec, 'utf8')).toBe(readFileSync(traced, 'utf8'));
    const toStdout = xenlab('export', join(SCENARIOS, 'minios-console.yaml'), '--format', 'jsonl');
    expect(toStdout.code).toBe(0);
    expect(toStdout.out).toBe(readFileSync(traced, 'utf8'));
    // --seed for a scenario, as run --seed.
    const seeded = join(dir, 'seed7.jsonl');
    expect(xenlab('run', join(SCENARIOS, 'minios-console.yaml'), '--seed', '7', '--trace', seeded).code).toBe(0);
    expect(xenlab('export', join(SCENARIOS, 'minios-console.yaml'), '--format', 'jsonl', '--seed', '7').out).toBe(readFileSync(seeded, 'utf8'));
  });

  it('chrome-trace parses, with a process per domain and the notification arrows', () => {
    const dir = tmp();
    const rec = record('shared-channel', dir);
    const out = join(dir, 't.json');
    const r = xenlab('export', rec, '--format', 'chrome-trace', '-o', out);
    expect(r.code, r.err).toBe(0);
    const doc = JSON.parse(readFileSync(out, 'utf8')) as { traceEvents: { name: string; ph: string; pid: number; args?: { name?: string } }[] };
    const procs = doc.traceEvents.filter((e) => e.name === 'process_name').map((e) => [e.pid, e.args?.name]);
    expect(procs).toEqual([
      [1, 'dom0'],
      [2, 'guest'],
    ]);
    expect(doc.traceEvents.filter((e) => e.ph === 's').length).toBeGreaterThan(0);
    expect(doc.traceEvents.filter((e) => e.ph === 's').length).toBe(doc.traceEvents.filter((e) => e.ph === 'f').length);
    // To standard output, the same bytes.
    expect(xenlab('export', rec, '--format', 'chrome-trace').out).toBe(readFileSync(out, 'utf8'));
  });

  it('bad arguments and unreadable input: exit 2, nothing written', () => {
    const dir = tmp();
    const rec = record('shared-channel', dir);
    const before = readdirSync(dir).sort();
    for (const args of [
      ['export'],
      ['export', rec],
      ['export', rec, '--format', 'svg'],
      ['export', rec, '--format', 'jsonl', '--seed', '3'],
      ['export', join(SCENARIOS, 'shared-channel.yaml'), '--format', 'jsonl', '--seed', 'x'],
      ['export', '/nonexistent/x.yaml', '--format', 'jsonl'],
      ['export', rec, '--format', 'jsonl', '-o', '/nonexistent/dir/out.jsonl'],
      ['export', rec, rec, '--format', 'jsonl'],
      ['export', rec, '--format', 'jsonl', '--bogus'],
    ]) {
      const r = xenlab(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err, args.join(' ')).toMatch(/^xenlab: /);
      noStack(r.err);
    }
    expect(readdirSync(dir).sort()).toEqual(before);
  });

  it('a failure during the export leaves the target as it was and no temporary file', () => {
    const dir = tmp();
    const rec = record('shared-channel', dir);
    // A recording whose scenario no longer loads: the output file is opened, then the replay fails.
    const doc = JSON.parse(readFileSync(rec, 'utf8')) as { scenario: string };
    doc.scenario = doc.scenario.replace('op: bind_interdomain', 'op: bind_interdomian');
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, JSON.stringify(doc));
    const target = join(dir, 'out.json');
    writeFileSync(target, 'the old file\n');
    const r = xenlab('export', broken, '--format', 'chrome-trace', '-o', target);
    expect(r.code).toBe(2);
    expect(r.err).toContain('unknown op "bind_interdomian"');
    expect(readFileSync(target, 'utf8')).toBe('the old file\n');
    expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
    expect(existsSync(target)).toBe(true);
  });

  it('exporting a tampered recording warns that the replay diverged, and still writes its trace', () => {
    const dir = tmp();
    const rec = record('shared-channel', dir);
    const tampered = join(dir, 't.json');
    writeFileSync(tampered, readFileSync(rec, 'utf8').replace('"seed": 1,', '"seed": 5,'));
    const r = xenlab('export', tampered, '--format', 'jsonl', '-o', join(dir, 't.jsonl'));
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/warning: the replay of .* diverges from the recording at record \d+/);
    expect(readFileSync(join(dir, 't.jsonl'), 'utf8')).toBe(xenlab('export', join(SCENARIOS, 'shared-channel.yaml'), '--format', 'jsonl', '--seed', '5').out);
  });

  it('main help lists replay and export; each command has --help', () => {
    const h = xenlab('--help');
    expect(h.out).toContain('xenlab replay REC');
    expect(h.out).toContain('xenlab export REC|FILE --format jsonl|chrome-trace');
    expect(xenlab('replay', '--help').out).toMatch(/^xenlab replay REC/);
    expect(xenlab('export', '--help').out).toMatch(/^xenlab export REC\|FILE/);
    expect(xenlab('run', '--help').out).toContain('--record OUT');
  });
});
