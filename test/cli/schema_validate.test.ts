// `xenlab schema` and `xenlab validate`, run through the built CLI (bin/xenlab.mjs) as a user would.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/xenlab.mjs');
const EXAMPLE = join(ROOT, 'scenarios/shared-channel.yaml');
const SHIPPED = join(ROOT, 'schema/scenario.schema.json');

function xenlab(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: ROOT });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'xenlab-schema-'));
}

function scenarioFile(text: string, name = 's.yaml'): string {
  const f = join(tmp(), name);
  writeFileSync(f, text);
  return f;
}

const NO_STACK = /\n\s+at /;

describe('xenlab schema', () => {
  it('prints the JSON Schema, 2-space indented, the same as the shipped file', () => {
    const r = xenlab('schema');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { $schema: string; $id: string; definitions: object };
    expect(j.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(r.out).toMatch(/^\{\n {2}"\$schema"/);
    expect(r.out).toBe(readFileSync(SHIPPED, 'utf8'));
  });

  it('-o FILE writes it atomically (no temporary file left beside it)', () => {
    const dir = tmp();
    const out = join(dir, 'scenario.schema.json');
    const r = xenlab('schema', '-o', out);
    expect(r.code).toBe(0);
    expect(r.out).toBe('');
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(SHIPPED, 'utf8'));
    expect(readdirSync(dir)).toEqual(['scenario.schema.json']);
  });

  it('exits 2 with a message, not a stack trace, for an unwritable place or bad options', () => {
    for (const args of [['schema', '-o', '/nonexistent/dir/s.json'], ['schema', 'extra'], ['schema', '--bogus'], ['schema', '-o']]) {
      const r = xenlab(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err, args.join(' ')).toMatch(/^xenlab: /);
      expect(r.err, args.join(' ')).not.toMatch(NO_STACK);
    }
  });

  it('--help says how to use it in an editor', () => {
    const r = xenlab('schema', '--help');
    expect(r.code).toBe(0);
    expect(r.out).toContain('yaml-language-server: $schema=');
  });
});

describe('xenlab validate', () => {
  it('prints "FILE: ok" for every sound file and exits 0', () => {
    const examples = readdirSync(join(ROOT, 'scenarios'))
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => join('scenarios', f));
    const r = xenlab('validate', ...examples);
    expect(r.code, r.out + r.err).toBe(0);
    for (const f of examples) expect(r.out).toContain(`${f}: ok\n`);
    expect(r.out).toContain(`${examples.length} files: ${examples.length} ok, 0 with problems`);
  });

  it('runs nothing: a scenario whose expectation would fail is still sound', () => {
    const f = scenarioFile('name: t\ndomains: [{ name: dom0 }]\nsteps:\n  - { as: dom0, op: send, args: { port: 5 }, expect: { ret: 0 } }\n');
    const r = xenlab('validate', f);
    expect(r.code).toBe(0);
    expect(r.out).toBe(`${f}: ok\n`);
  });

  it('prints each problem as file:line:col: path: message (with the suggestion) and exits 2', () => {
    const f = scenarioFile('name: x\ndomains: [{ name: dom0 }]\nsteps:\n  - { as: dom0, op: sned }\n');
    const r = xenlab('validate', f);
    expect(r.code).toBe(2);
    expect(r.out).toBe(`${f}:4:21: steps[0].op: unknown op "sned" (did you mean "send"?)\n`);
    expect(r.err).toBe('');
  });

  it('checks every file it is given: one bad file makes the exit code 2', () => {
    const bad = join(ROOT, 'test/scenario/broken/misspelt-virq.yaml');
    const r = xenlab('validate', EXAMPLE, bad);
    expect(r.code).toBe(2);
    expect(r.out).toContain(`${EXAMPLE}: ok\n`);
    expect(r.out).toMatch(/misspelt-virq\.yaml:\d+:\d+: steps\[0\]\.args\.virq: unknown VIRQ "VIRQ_TIMR" \(did you mean "VIRQ_TIMER"\?\)/);
    expect(r.out).toContain('2 files: 1 ok, 1 with problems');
  });

  it('--json gives ok and each file with its problems', () => {
    const bad = scenarioFile('name: t\nabbi: fifo\ndomains: [{ name: dom0 }]\n');
    const r = xenlab('validate', '--json', EXAMPLE, bad);
    expect(r.code).toBe(2);
    const j = JSON.parse(r.out) as { ok: boolean; files: { file: string; ok: boolean; problems: { line: number; col: number; path: string; message: string; hint?: string }[] }[] };
    expect(j.ok).toBe(false);
    expect(j.files[0]).toEqual({ file: EXAMPLE, ok: true, problems: [] });
    expect(j.files[1]).toMatchObject({ file: bad, ok: false });
    expect(j.files[1]!.problems).toEqual([{ file: bad, line: 2, col: 1, path: 'abbi', message: 'unknown key "abbi" in the scenario', hint: 'did you mean "abi"?' }]);
  });

  it('reports a file it cannot read, and binary garbage, without a stack trace', () => {
    const binary = scenarioFile('name: t\n\0\x01\x02', 'b.yaml');
    const r = xenlab('validate', '/nonexistent/s.yaml', binary);
    expect(r.code).toBe(2);
    expect(r.out).toContain('xenlab: cannot read /nonexistent/s.yaml: no such file');
    expect(r.out).toContain(`${binary}:2:1: this is not a text file (it contains a NUL byte)`);
    expect(r.out + r.err).not.toMatch(NO_STACK);
    const j = JSON.parse(xenlab('validate', '--json', '/nonexistent/s.yaml').out) as { files: { error?: string }[] };
    expect(j.files[0]!.error).toMatch(/no such file/);
  });

  it('exits 2 for no file or a bad option', () => {
    for (const args of [['validate'], ['validate', '--bogus', EXAMPLE]]) {
      const r = xenlab(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(/^xenlab: /);
      expect(r.err).not.toMatch(NO_STACK);
    }
  });

  it('is listed in xenlab --help, with schema', () => {
    const r = xenlab('--help');
    expect(r.out).toContain('xenlab validate FILE...');
    expect(r.out).toContain('xenlab schema [-o FILE]');
  });
});
