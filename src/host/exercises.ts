/**
 * Exercises for the desktop app and the CLI: list the exercises under a
 * folder, open one, grade a solution against it (docs/exercises.md).
 *
 * Exercises are YAML or TypeScript scenarios with an `exercise:` block;
 * solutions are YAML (`steps: [...]`) or TypeScript (`export default
 * solution({ ... })`, run in the sandbox). Listing and opening read files
 * only (a TypeScript exercise's block is read from its source text, without
 * running it); grading runs the exercise, in the sandbox where it or the
 * solution is TypeScript.
 */
import { readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join } from 'node:path';
import type * as TS from 'typescript';
import type { CheckOutcome as ContractCheckOutcome, ExerciseInfo, ExerciseReport } from '../contract/exercise.js';
import { formatProblem, ScenarioInputError, type Problem } from '../scenario/errors.js';
import { DEFAULT_MAX_UNITS, errorReport, exerciseInfo, gradeExercise, loadErrorReport, loadYamlSolution, type Solution } from '../scenario/exercise.js';
import type { Scenario } from '../scenario/model.js';
import type { RunOptions } from '../scenario/runner.js';
import { ScriptError } from '../scenario/script_kernel.js';
import { loadScenario } from '../scenario/stepform.js';
import { EXERCISE_FIELDS } from '../scenario/spec.js';
import { FileError, readScenarioText } from './files.js';
import type { SandboxLimits } from './sandbox.js';
import { isTypeScriptScenario, TsScenario } from './ts_scenario.js';
import { TsSolution } from './ts_solution.js';

export type { ExerciseInfo, ExerciseReport };

/**
 * A report with what the contract does not carry yet (additive): the solution
 * graded, the seed (so a report can be reproduced), and notes — what the run
 * noticed that is not graded, such as the student's own `expect`s that did
 * not hold, which help a student find a mistake.
 */
export type GradedReport = ExerciseReport & { solution?: string; seed?: number; notes?: string[] };

/** How long a graded run may take in real time (a TypeScript kernel slow on every event); past it, ERROR. */
export const DEFAULT_WALL_MS = 20_000;

export interface CheckOptions {
  seed?: number;
  /** The sandbox's limits for TypeScript exercises and solutions (per entry: 2 s, 64 MiB by default). */
  limits?: SandboxLimits;
  /** Units the run may take before it is a run timeout. */
  maxUnits?: number;
  /** Real time the whole run may take, in ms. */
  wallMs?: number;
}

/** Thrown when a file is a scenario but not an exercise. */
export function notAnExercise(file: string): ScenarioInputError {
  return new ScenarioInputError([{ file, line: 1, col: 1, path: '', message: 'this is a scenario, not an exercise: it has no exercise: block', hint: 'run it with xenlab run; an exercise adds exercise: { title, level, goal, checks }' }]);
}

// ---- listing and opening ----

/** Every exercise under `root` (recursively), in path order; one that does not load says why in its goal. */
export function listExercises(root: string): ExerciseInfo[] {
  return exerciseFiles(root)
    .map((file) => readInfo(file, readText(file)))
    .filter((i): i is ExerciseInfo => i !== undefined);
}

/** One exercise, and its text for the editor. Throws FileError if it cannot be read, ScenarioInputError if it is no exercise. */
export function openExercise(path: string): ExerciseInfo & { text: string } {
  const text = readScenarioText(path);
  const info = readInfo(path, text);
  if (info === undefined) throw notAnExercise(path);
  return { ...info, text };
}

function readText(file: string): string | undefined {
  try {
    return readScenarioText(file);
  } catch (e) {
    if (e instanceof FileError || e instanceof ScenarioInputError) return undefined;
    throw e;
  }
}

/** Files that may hold exercises: YAML and TypeScript (not .d.ts), sorted by path with numbers in order. */
function exerciseFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names.sort(byName)) {
      if (name.startsWith('.') || name === 'node_modules') continue;
      const p = join(dir, name);
      let isDir: boolean;
      try {
        isDir = statSync(p).isDirectory();
      } catch {
        continue;
      }
      if (isDir) walk(p);
      else if (/\.ya?ml$/i.test(name) || isTypeScriptScenario(name)) out.push(p);
    }
  };
  walk(root);
  return out;
}

function byName(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/** An exercise's info from its text, undefined when the file is not an exercise. */
function readInfo(file: string, text: string | undefined): ExerciseInfo | undefined {
  if (text === undefined) return undefined;
  if (isTypeScriptScenario(file)) return tsInfo(file, text);
  if (!/^exercise\s*:/m.test(text)) return undefined;
  try {
    const sc = loadScenario(file, text);
    return sc.exercise === undefined ? undefined : exerciseInfo(sc, file);
  } catch (e) {
    if (e instanceof ScenarioInputError) return brokenInfo(file, e.problems);
    throw e;
  }
}

/** What the list shows for an exercise that does not load: its file name, and why in the goal. */
function brokenInfo(file: string, problems: readonly Problem[]): ExerciseInfo {
  const first = problems[0];
  return {
    path: file,
    title: basename(file),
    level: 1,
    goal: `This exercise does not load: ${first === undefined ? 'it has problems' : formatProblem(first)}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`,
    hints: [],
    solutionParts: [],
    checks: [],
  };
}

let tsSync: typeof TS | undefined;

/** The TypeScript compiler, loaded synchronously (listing must not wait). */
function typescriptSync(): typeof TS {
  tsSync ??= createRequire(import.meta.url)('typescript') as typeof TS;
  return tsSync;
}

/**
 * A TypeScript exercise's info, read from its source without running it: the
 * `exercise` property of the object literal given to scenario(). Values that
 * are not literals (computed in code) are shown as the file says nothing.
 */
function tsInfo(file: string, text: string): ExerciseInfo | undefined {
  if (!/\bexercise\s*:/.test(text)) return undefined;
  const ts = typescriptSync();
  const source = ts.createSourceFile(basename(file), text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const consts = new Map<string, TS.Expression>();
  for (const st of source.statements) if (ts.isVariableStatement(st)) for (const d of st.declarationList.declarations) if (ts.isIdentifier(d.name) && d.initializer !== undefined) consts.set(d.name.text, d.initializer);
  let doc: TS.Expression | undefined;
  const visit = (n: TS.Node): void => {
    if (doc !== undefined) return;
    if (ts.isCallExpression(n) && ts.isIdentifier(n.expression) && n.expression.text === 'scenario') doc = n.arguments[0];
    else ts.forEachChild(n, visit);
  };
  visit(source);
  const value = (e: TS.Expression | undefined, depth = 0): unknown => {
    if (e === undefined || depth > 32) return undefined;
    if (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e)) return e.text;
    if (ts.isNumericLiteral(e)) return Number(e.text);
    if (e.kind === ts.SyntaxKind.TrueKeyword) return true;
    if (e.kind === ts.SyntaxKind.FalseKeyword) return false;
    if (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isSatisfiesExpression(e)) return value(e.expression, depth + 1);
    if (ts.isIdentifier(e)) return value(consts.get(e.text), depth + 1);
    if (ts.isBinaryExpression(e) && e.operatorToken.kind === ts.SyntaxKind.PlusToken) {
      // Long texts are often written as 'a' + 'b'.
      const l = value(e.left, depth + 1);
      const r = value(e.right, depth + 1);
      return typeof l === 'string' && typeof r === 'string' ? l + r : undefined;
    }
    if (ts.isArrayLiteralExpression(e)) return e.elements.map((x) => value(x, depth + 1));
    if (ts.isObjectLiteralExpression(e)) {
      const o: Record<string, unknown> = {};
      for (const p of e.properties) if (ts.isPropertyAssignment(p) && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name))) o[p.name.text] = value(p.initializer, depth + 1);
      return o;
    }
    return undefined;
  };
  const d = value(doc) as { exercise?: Record<string, unknown>; steps?: unknown[] } | undefined;
  const ex = d?.exercise;
  if (ex === undefined || typeof ex !== 'object') return undefined;
  const str = (v: unknown, dflt: string): string => (typeof v === 'string' && v !== '' ? v : dflt);
  const levels = EXERCISE_FIELDS.level!.kind;
  const maxLevel = levels.t === 'int' && typeof levels.max === 'number' ? levels.max : 5;
  const level = typeof ex.level === 'number' && Number.isInteger(ex.level) && ex.level >= 1 && ex.level <= maxLevel ? ex.level : 1;
  const checks = Array.isArray(ex.checks) ? (ex.checks as unknown[]) : [];
  const kernels = Array.isArray(ex.kernels) ? (ex.kernels as unknown[]).filter((k): k is string => typeof k === 'string') : [];
  const hasSteps = Array.isArray(d?.steps) && d.steps.some((s) => typeof s === 'object' && s !== null && 'solution' in s);
  return {
    path: file,
    title: str(ex.title, basename(file)),
    level,
    goal: str(ex.goal, 'Open the exercise to read its goal.'),
    hints: Array.isArray(ex.hints) ? (ex.hints as unknown[]).filter((h): h is string => typeof h === 'string') : [],
    solutionParts: [...(hasSteps ? ['steps'] : []), ...kernels.map((k) => `kernel handler for ${k}`)],
    checks: checks.map((c, i) => {
      const o = (typeof c === 'object' && c !== null ? c : {}) as Record<string, unknown>;
      return { id: str(o.id, `check-${i + 1}`), title: str(o.title, str(o.id, `check ${i + 1}`)), points: typeof o.points === 'number' ? o.points : 1 };
    }),
  };
}

// ---- grading ----

/**
 * Grades `solution` (its file name, for positions, and its text: what the
 * editor holds, saved or not) against the exercise at `path`; no solution
 * grades the exercise as it is. A solution that does not load is an ERROR
 * report pointing at it. Throws FileError (the exercise cannot be read) or
 * ScenarioInputError (it does not load, or is no exercise).
 */
export async function checkExercise(path: string, solution?: { file: string; text: string }, opts: CheckOptions = {}): Promise<GradedReport> {
  const exercise = await loadExercise(path, readScenarioText(path), opts.limits);
  try {
    return await grade(path, exercise, solution, opts);
  } finally {
    exercise.ts?.dispose();
  }
}

/** A loaded exercise: its scenario, and the sandboxed file when it is TypeScript. */
export interface LoadedExercise {
  readonly scenario: Scenario;
  readonly ts?: TsScenario;
}

/** Loads an exercise from its text; throws ScenarioInputError when it does not load or is no exercise. */
export async function loadExercise(file: string, text: string, limits: SandboxLimits = {}): Promise<LoadedExercise> {
  if (isTypeScriptScenario(file)) {
    const ts = await TsScenario.load(file, text, limits).catch((e: unknown) => {
      throw e instanceof ScriptError ? new ScenarioInputError([{ file, line: 1, col: 1, path: '', message: e.message }]) : e;
    });
    if (ts.scenario.exercise === undefined) {
      ts.dispose();
      throw notAnExercise(file);
    }
    return { scenario: ts.scenario, ts };
  }
  const scenario = loadScenario(file, text);
  if (scenario.exercise === undefined) throw notAnExercise(file);
  return { scenario };
}

async function grade(path: string, exercise: LoadedExercise, given: { file: string; text: string } | undefined, opts: CheckOptions): Promise<GradedReport> {
  const sc = exercise.scenario;
  const base = { path, seed: opts.seed ?? sc.seed };
  let solution: Solution | undefined;
  let tsSolution: TsSolution | undefined;
  if (given !== undefined) {
    try {
      if (isTypeScriptScenario(given.file)) {
        tsSolution = await TsSolution.load(sc, given.file, given.text, opts.limits);
        solution = tsSolution.solution;
      } else solution = loadYamlSolution(sc, given.file, given.text);
    } catch (e) {
      const solutionFile = { ...base, solution: given.file };
      if (e instanceof ScenarioInputError) return loadErrorReport(sc, e.problems, solutionFile);
      if (e instanceof ScriptError || e instanceof RangeError) return errorReport(sc, { message: `the solution does not load: ${e.message}`, file: given.file }, solutionFile);
      throw e;
    }
  }
  try {
    const kernels = new Map<string, NonNullable<RunOptions['kernels']> extends ReadonlyMap<string, infer F> ? F : never>();
    for (const [d, k] of exercise.ts?.kernels() ?? []) kernels.set(d, k);
    for (const [d, k] of tsSolution?.kernels() ?? []) kernels.set(d, k);
    const wallMs = opts.wallMs ?? DEFAULT_WALL_MS;
    const deadline = performance.now() + wallMs;
    const report = gradeExercise(sc, {
      path,
      seed: base.seed,
      kernels,
      maxUnits: opts.maxUnits ?? DEFAULT_MAX_UNITS,
      stop: () => (performance.now() > deadline ? `a run timeout: the run took more than ${wallMs / 1000} s of real time` : undefined),
      ...(solution === undefined ? {} : { solution }),
    });
    return report satisfies GradedReport & { checks: ContractCheckOutcome[] };
  } finally {
    tsSolution?.dispose();
  }
}
