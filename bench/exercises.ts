/**
 * Grading the exercise pack, for bench/index.ts (`--only=exercises`): every exercise of
 * scenarios/exercises with its reference solution, as the desktop app's host grades it
 * (checkExercise: files read, TypeScript transpiled and run in the sandbox), and the YAML ones
 * in the scenario layer alone (gradeExercise). Each report is checked: 100% or the row fails.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkExercise } from '../src/host/exercises.js';
import { gradeExercise, loadYamlSolution } from '../src/scenario/exercise.js';
import { loadScenario } from '../src/scenario/stepform.js';
import type { Row } from './table.js';

const ROOT = join(import.meta.dirname, '..');
const EXERCISES = join(ROOT, 'scenarios/exercises');
const SOLUTIONS = join(ROOT, 'test/exercises');
const nowNs = (): bigint => process.hrtime.bigint();

function pack(): { exercise: string; solution: string }[] {
  return readdirSync(EXERCISES)
    .sort()
    .map((f) => {
      const dir = join(SOLUTIONS, f.replace(/\.(ya?ml|ts)$/, ''));
      return { exercise: join(EXERCISES, f), solution: join(dir, readdirSync(dir).find((s) => s.startsWith('solution.'))!) };
    });
}

export async function benchExercises(rows: Row[]): Promise<void> {
  const all = pack();
  // Once to load the TypeScript compiler and QuickJS (what the first check in a session pays), then timed.
  const t0 = nowNs();
  let ok = true;
  for (const p of all) ok &&= (await checkExercise(p.exercise, { file: p.solution, text: readFileSync(p.solution, 'utf8') })).percent === 100;
  const cold = Number(nowNs() - t0) / 1e6;
  const t1 = nowNs();
  for (const p of all) ok &&= (await checkExercise(p.exercise, { file: p.solution, text: readFileSync(p.solution, 'utf8') })).percent === 100;
  const warm = Number(nowNs() - t1) / 1e6;
  rows.push({ name: `grade the exercise pack (${all.length}, first time)`, value: Math.round(cold), unit: 'ms', target: '< 10000', pass: ok && cold < 10_000, note: 'includes loading the TypeScript compiler and QuickJS once' });
  rows.push({ name: `grade the exercise pack (${all.length}, again)`, value: Math.round(warm), unit: 'ms', target: '< 3000', pass: ok && warm < 3000 });

  // The scenario layer alone: the YAML exercises with YAML solutions, loaded once, graded 20 times.
  const yaml = all.filter((p) => p.exercise.endsWith('.yaml') && p.solution.endsWith('.yaml'));
  const loaded = yaml.map((p) => {
    const sc = loadScenario(p.exercise, readFileSync(p.exercise, 'utf8'));
    return { sc, solution: loadYamlSolution(sc, p.solution, readFileSync(p.solution, 'utf8')) };
  });
  const rounds = 20;
  const t2 = nowNs();
  for (let i = 0; i < rounds; i++) for (const l of loaded) ok &&= gradeExercise(l.sc, { solution: l.solution }).percent === 100;
  const each = Number(nowNs() - t2) / 1e6 / (rounds * loaded.length);
  rows.push({ name: 'grade one YAML exercise (scenario layer)', value: Number(each.toFixed(1)), unit: 'ms', target: '< 100', pass: ok && each < 100, note: `mean over ${loaded.length} exercises x ${rounds}` });
}
