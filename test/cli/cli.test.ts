// Runs the built CLI (dist/cli/xenlab.mjs through bin/xenlab.mjs) as a user would.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = join(import.meta.dirname, '../../bin/xenlab.mjs');
const EXAMPLE = join(import.meta.dirname, '../../scenarios/shared-channel.yaml');

function xenlab(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function scenarioFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'xenlab-cli-'));
  const f = join(dir, 's.yaml');
  writeFileSync(f, text);
  return f;
}

const FAILING = `name: wrong expectation
domains: [{ name: dom0 }, { name: guest }]
steps:
  - as: guest
    op: send
    args: { port: 5 }
    expect: { ret: 0 }
`;

describe('xenlab run', () => {
  it('exits 0 and lists every step when all expectations hold', () => {
    const r = xenlab('run', EXAMPLE);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/12 steps, all held/);
  });

  it('exits 1 with file:line:col, expected and found when an expectation fails', () => {
    const f = scenarioFile(FAILING);
    const r = xenlab('run', f);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`${f}:7:20: steps[0].expect.ret: ret: expected 0, found -EINVAL`);
  });

  it('exits 2 with a position for input that cannot run, and runs nothing', () => {
    const f = scenarioFile('name: x\ndomains: [{ name: dom0 }]\nsteps:\n  - { as: dom0, op: sned }\n');
    const r = xenlab('run', f);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${f}:4:21: steps[0].op: unknown op "sned" (did you mean "send"?)`);
    expect(r.err).not.toMatch(/at .*\.m?js:\d+/); // no stack trace
  });

  it('exits 2 for a missing file, binary garbage and bad options, without a stack trace', () => {
    for (const args of [['run', '/nonexistent/s.yaml'], ['run', process.execPath], ['run', EXAMPLE, '--seed', 'x'], ['run', EXAMPLE, '--bogus'], ['frob']]) {
      const r = xenlab(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err, args.join(' ')).toMatch(/\S/);
      expect(r.err, args.join(' ')).not.toMatch(/\n\s+at /);
    }
  });

  it('--json prints ok, failures and each step result', () => {
    const r = xenlab('run', EXAMPLE, '--json');
    const j = JSON.parse(r.out) as { ok: boolean; failures: unknown[]; steps: { ret?: string; out?: Record<string, unknown> }[] };
    expect(j.ok).toBe(true);
    expect(j.failures).toEqual([]);
    expect(j.steps[0]).toMatchObject({ ret: '0', out: { port: 1 } });
    expect(j.steps[1]).toMatchObject({ out: { local_port: 1 } });
  });

  it('--json reports failures with their positions and exits 1', () => {
    const r = xenlab('run', scenarioFile(FAILING), '--json');
    expect(r.code).toBe(1);
    const j = JSON.parse(r.out) as { ok: boolean; failures: { line: number; col: number; expected: unknown; found: unknown }[] };
    expect(j.ok).toBe(false);
    expect(j.failures[0]).toMatchObject({ line: 7, col: 20, expected: 0, found: '-EINVAL' });
  });

  it('the same scenario and seed give byte-identical JSONL traces; another seed changes the timing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'xenlab-trace-'));
    const [a, b, c] = ['a', 'b', 'c'].map((n) => join(dir, `${n}.jsonl`));
    expect(xenlab('run', EXAMPLE, '--trace', a!).code).toBe(0);
    expect(xenlab('run', EXAMPLE, '--trace', b!).code).toBe(0);
    expect(xenlab('run', EXAMPLE, '--trace', c!, '--seed', '7').code).toBe(0);
    const ta = readFileSync(a!, 'utf8');
    expect(ta).toBe(readFileSync(b!, 'utf8'));
    expect(ta).not.toBe(readFileSync(c!, 'utf8'));
    const records = ta.trim().split('\n').map((l) => JSON.parse(l) as { seq: number; kind: string });
    expect(records.map((r) => r.seq)).toEqual(records.map((_, i) => i));
    expect(new Set(records.map((r) => r.kind))).toEqual(new Set(['domain', 'bit', 'hypercall', 'port', 'upcall', 'handler']));
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('prints each console after the steps: Plan 9 booting on Xen 2.0, answered at its root prompt', () => {
    const plan9 = join(import.meta.dirname, '../../scenarios/plan9-boot.yaml');
    const r = xenlab('run', plan9);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/── console of dom0 ─+\nxend: domain 1 \(plan9\): control channel dom0:2 <-> plan9:1, console on tcp port 9601/);
    expect(r.out).toMatch(/── console of plan9 ─+\n\nPlan 9 from Bell Labs on Xen 2\.0\n/);
    expect(r.out).toContain('root is from (local, tcp)[local]: local\nfossil: root from local disk');
    const j = JSON.parse(xenlab('run', plan9, '--json').out) as { xen: string; consoles: Record<string, string> };
    expect(j.xen).toBe('2.0');
    // The raw stream keeps what printk wrote: a "\r" after every "\n" (console.c's kcons_write).
    expect(j.consoles.plan9).toContain('init: starting /bin/rc\n\rterm% ');
  });

  it('leaves no trace file behind when the trace cannot be written', () => {
    const r = xenlab('run', EXAMPLE, '--trace', '/nonexistent-dir/t.jsonl');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/cannot write/);
    expect(existsSync('/nonexistent-dir/t.jsonl')).toBe(false);
  });
});
