// `xenlab check`: every exercise of the pack graded against its reference solution (exit 0, 100%)
// and its wrong one (exit 1, the expected check failing), the --json report's shape, bad input
// (exit 2, positions, no stack trace), ERROR for a kernel that loops forever (stopped by the
// sandbox's time limit, not a hang) or throws. Runs the command in-process; two cases spawn the
// built CLI to see the real exit code and stderr.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { checkCommand, CHECK_HELP } from '../../src/cli/check.js';
import { UsageError } from '../../src/cli/common.js';
import { ScenarioInputError } from '../../src/scenario/errors.js';

// The first TypeScript file a worker loads pays for the compiler (seconds on a busy machine): not a hang.
vi.setConfig({ testTimeout: 60_000 });

const ROOT = join(import.meta.dirname, '../..');
const EXERCISES = join(ROOT, 'scenarios/exercises');
const SOLUTIONS = join(ROOT, 'test/exercises');
const BROKEN = join(import.meta.dirname, 'broken-solutions');
const BIN = join(ROOT, 'bin/xenlab.mjs');

interface Outcome {
  code: number;
  out: string;
}

/** Runs `xenlab check ARGS` in this process, capturing what it prints. */
async function check(...args: string[]): Promise<Outcome> {
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  });
  try {
    const code = await checkCommand(args);
    return { code, out };
  } finally {
    spy.mockRestore();
  }
}

interface JsonReport {
  path: string;
  result: string;
  earned: number;
  total: number;
  percent: number;
  checks: { id: string; title: string; result: string; points: number; earned: number; message: string; file?: string; line?: number; col?: number }[];
  console: string;
  solution?: string;
  seed?: number;
  notes?: string[];
}

async function checkJson(...args: string[]): Promise<{ code: number; report: JsonReport }> {
  const r = await check(...args, '--json');
  return { code: r.code, report: JSON.parse(r.out) as JsonReport };
}

/** Each exercise with its reference and wrong solutions, and the checks the wrong one fails. */
const PACK = readdirSync(EXERCISES)
  .filter((f) => /\.(ya?ml|ts)$/.test(f))
  .sort()
  .map((file) => {
    const name = file.replace(/\.(ya?ml|ts)$/, '');
    const dir = join(SOLUTIONS, name);
    const of = (base: string) => readdirSync(dir).find((f) => f.startsWith(`${base}.`))!;
    const wrong = join(dir, of('wrong'));
    const fails = /^(?:#|\/\/) fails: (.+)$/m.exec(readFileSync(wrong, 'utf8'))![1]!.split(',').map((s) => s.trim());
    return { name, exercise: join(EXERCISES, file), solution: join(dir, of('solution')), wrong, fails };
  });

afterEach(() => {
  delete process.env.XENLAB_SANDBOX_TIME_MS;
});

describe('the exercise pack', () => {
  it('has at least 12 exercises, each with a reference and a wrong solution', () => {
    expect(PACK.length).toBeGreaterThanOrEqual(12);
  });

  for (const ex of PACK) {
    it(`${ex.name}: the reference solution passes every check (exit 0, 100%)`, async () => {
      const { code, report } = await checkJson(ex.exercise, '--solution', ex.solution);
      expect(report.checks.filter((c) => c.result !== 'SUCCESS').map((c) => `${c.id}: ${c.message}`)).toEqual([]);
      expect(report.notes ?? [], 'the reference solution\'s own expectations hold too').toEqual([]);
      expect([code, report.result, report.percent]).toEqual([0, 'SUCCESS', 100]);
      expect(report.console.endsWith('Test result: SUCCESS\n')).toBe(true);
    });

    it(`${ex.name}: the wrong solution fails ${ex.fails.join(' and ')} (exit 1)`, async () => {
      const { code, report } = await checkJson(ex.exercise, '--solution', ex.wrong);
      expect(code).toBe(1);
      expect(report.result).toBe('FAILURE');
      const failed = report.checks.filter((c) => c.result === 'FAILURE').map((c) => c.id);
      expect(failed).toEqual(ex.fails);
      // Each failure points at its check's assertion in the exercise file (a .ts exercise's too).
      for (const c of report.checks.filter((x) => x.result === 'FAILURE')) expect([c.file, c.line! > 0, c.col! > 0]).toEqual([ex.exercise, true, true]);
      expect(report.checks.some((c) => c.result === 'ERROR')).toBe(false);
      expect(report.percent).toBeLessThan(100);
      expect(report.console.endsWith('Test result: FAILURE\n')).toBe(true);
    });
  }
});

describe('the report', () => {
  it('prints each check with its result, points and why, the total and percentage, and the Test result line', async () => {
    const ex = PACK.find((p) => p.name === '01-virq-timer')!;
    const { code, out } = await check(ex.exercise, '--solution', ex.wrong);
    expect(code).toBe(1);
    const lines = out.split('\n');
    expect(lines[1]).toMatch(/^ {2}FAILURE {2}0\/2 {2}bound +guest bound VIRQ_TIMER on vCPU 0$/);
    expect(out).toMatch(/trace records matching .*: expected 1, found 0 \(scenarios\/exercises\/01-virq-timer\.yaml:\d+:\d+\)/);
    expect(out).toMatch(/ {2}SKIP {5}0\/1 {2}port +the port saved as timer/);
    expect(out).toContain('Total: 0 of 6 points, 0%');
    expect(out.endsWith('Test result: FAILURE\n')).toBe(true);
  });

  it('--json prints the ExerciseReport: path, result, earned, total, percent, checks, console (and solution, seed, notes)', async () => {
    const ex = PACK.find((p) => p.name === '02-interdomain-channel')!;
    const { report } = await checkJson(ex.exercise, '--solution', ex.wrong, '--seed', '9');
    expect(Object.keys(report)).toEqual(['path', 'result', 'earned', 'total', 'percent', 'checks', 'console', 'solution', 'seed', 'notes']);
    expect(report).toMatchObject({ path: ex.exercise, result: 'FAILURE', earned: 0, total: 8, percent: 0, solution: ex.wrong, seed: 9 });
    for (const c of report.checks) {
      expect(['SUCCESS', 'SKIP', 'FAILURE', 'ERROR']).toContain(c.result);
      expect(Object.keys(c).slice(0, 6)).toEqual(['id', 'title', 'points', 'result', 'earned', 'message']);
    }
    expect(report.checks[0]).toMatchObject({ id: 'allocated', result: 'FAILURE', file: ex.exercise, line: expect.any(Number) as number, col: expect.any(Number) as number });
    expect(report.notes!.some((n) => n.includes('returned -EINVAL'))).toBe(true);
  });

  it('is the same, byte for byte, for the same exercise, solution and seed', async () => {
    const ex = PACK.find((p) => p.name === '07-ctrl-if-ids')!;
    const a = await check(ex.exercise, '--solution', ex.wrong, '--json');
    const b = await check(ex.exercise, '--solution', ex.wrong, '--json');
    expect(a.out).toBe(b.out);
  });

  it('grades the exercise as it is without a solution (every check fails or is skipped)', async () => {
    const { code, report } = await checkJson(PACK[0]!.exercise);
    expect(code).toBe(1);
    expect(report.solution).toBeUndefined();
    expect(report.checks.map((c) => c.result)).toEqual(['FAILURE', 'SKIP', 'SKIP']);
  });
});

describe('ERROR', () => {
  it('a solution that does not load: every check ERROR, exit 2, pointing at the solution file', async () => {
    const { code, report } = await checkJson(PACK[0]!.exercise, '--solution', join(BROKEN, 'unknown-op.yaml'));
    expect(code).toBe(2);
    expect(report.result).toBe('ERROR');
    expect(report.checks.every((c) => c.result === 'ERROR')).toBe(true);
    expect(report.checks[0]).toMatchObject({ file: join(BROKEN, 'unknown-op.yaml'), line: 4, col: 9 });
    expect(report.checks[0]!.message).toBe('the solution does not load: steps[0].op: unknown op "bind_vriq" (did you mean "bind_virq"?)');
  });

  it('a kernel that loops forever is stopped at the sandbox time limit: ERROR, not a hang', async () => {
    process.env.XENLAB_SANDBOX_TIME_MS = '300';
    const ex = PACK.find((p) => p.name === '06-console-over-ctrl-if')!;
    const t0 = performance.now();
    const { code, report } = await checkJson(ex.exercise, '--solution', join(BROKEN, 'loops-forever.ts'));
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(code).toBe(2);
    expect(report.result).toBe('ERROR');
    expect(report.checks[0]!.message).toMatch(/^the run stopped, a sandbox time limit: .*loops-forever\.ts:\d+:\d+: scenario code ran for more than 300 ms \(in boot of kernel "spinner" in domain guest/);
    expect(report.checks[0]).toMatchObject({ file: expect.stringMatching(/loops-forever\.ts$/) as string, line: expect.any(Number) as number });
  });

  it('a kernel that throws stops the run: ERROR naming the handler and the line', async () => {
    const ex = PACK.find((p) => p.name === '07-ctrl-if-ids')!;
    const { code, report } = await checkJson(ex.exercise, '--solution', join(BROKEN, 'throws.ts'));
    expect(code).toBe(2);
    expect(report.checks[0]!.message).toMatch(/^the run stopped, a crash: .*throws\.ts:9:\d+: Error: no table for id 0 \(in onControlResponse of kernel "asker"/);
  });
});

describe('bad input', () => {
  it('--help shows the command\'s help', async () => {
    const r = await check('--help');
    expect(r).toEqual({ code: 0, out: CHECK_HELP });
  });

  it('refuses a missing exercise, a solution file that cannot be read, and a bad seed, saying why', async () => {
    expect(() => checkCommand([])).toThrow(UsageError);
    expect(() => checkCommand([PACK[0]!.exercise, '--solution', join(BROKEN, 'nope.yaml')])).toThrow(/cannot read .*nope\.yaml: no such file/);
    expect(() => checkCommand([PACK[0]!.exercise, '--seed', 'x'])).toThrow(/--seed expects a whole number/);
    await expect(checkCommand([join(EXERCISES, 'nope.yaml')])).rejects.toThrow(/cannot read .*nope\.yaml: no such file/);
  });

  it('refuses a scenario that is not an exercise, at its first line', async () => {
    const err = await Promise.resolve(checkCommand([join(ROOT, 'scenarios/masking.yaml')])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ScenarioInputError);
    expect((err as ScenarioInputError).problems[0]).toMatchObject({ line: 1, col: 1, message: 'this is a scenario, not an exercise: it has no exercise: block' });
  });

  it('the built CLI: exit 2 and file:line:col for an exercise that does not load, no stack trace', () => {
    const p = spawnSync(process.execPath, [BIN, 'check', 'test/scenario/broken/exercise-duplicate-check-id.yaml'], { cwd: ROOT, encoding: 'utf8' });
    expect(p.status).toBe(2);
    expect(p.stderr).toBe('test/scenario/broken/exercise-duplicate-check-id.yaml:15:13: exercise.checks[1].id: check id "a" is used twice (each check has its own id)\n1 problem; nothing was run\n');
  });

  it('the built CLI: exit 2 and the report for a solution that does not load', () => {
    const p = spawnSync(process.execPath, [BIN, 'check', 'scenarios/exercises/01-virq-timer.yaml', '--solution', 'test/cli/broken-solutions/unknown-op.yaml'], { cwd: ROOT, encoding: 'utf8' });
    expect(p.status).toBe(2);
    expect(p.stderr).toBe('');
    expect(p.stdout).toContain('  ERROR    0/2  bound  guest bound VIRQ_TIMER on vCPU 0\n');
    expect(p.stdout).toContain('(test/cli/broken-solutions/unknown-op.yaml:4:9)');
    expect(p.stdout.endsWith('Test result: ERROR\n')).toBe(true);
  });
});
