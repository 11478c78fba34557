/**
 * Graded exercises (docs/exercises.md): a scenario with an `exercise` block
 * whose checks are worth points, and optionally a place for the student's
 * steps (a `solution` placeholder) or guests whose kernel the student writes.
 *
 * Grading splices a solution in, runs the scenario as any other (execution.ts),
 * and when the steps are done evaluates each check, as the Xen Test Framework
 * reports a test: SUCCESS, SKIP (a check whose required check did not
 * succeed), FAILURE (it was evaluated and did not hold), ERROR (it could not
 * be evaluated: the solution does not load, the run crashed, hit a sandbox
 * limit or ran out of time). Only the checks are graded; the exercise's and
 * the solution's own `expect`s are reported as notes.
 *
 * Pure: no I/O, no clock. The same exercise, solution and seed give the same
 * report (a host's wall-clock stop, when it fires, is the one exception, and
 * the report says so).
 */
import { formatProblem, ScenarioInputError, type Problem } from './errors.js';
import { Execution, type StepRunner } from './execution.js';
import { FinalExpectations } from './final_expect.js';
import type { ExerciseCheck, Scenario, Step } from './model.js';
import type { Failure, RunOptions } from './runner.js';
import { ScriptError } from './script_kernel.js';
import { loadSolutionSteps } from './stepform.js';
import { fmtNs } from './time.js';

/** The Xen Test Framework's results, least severe first (the order the worst is taken in). */
export const EXERCISE_RESULTS = ['SUCCESS', 'SKIP', 'FAILURE', 'ERROR'] as const;
export type ExerciseResult = (typeof EXERCISE_RESULTS)[number];

// The shapes below are the UI contract's (src/contract/exercise.ts), which this layer may not
// import; the host hands them over as the contract's types, so the compiler checks they match.

export interface ExerciseInfo {
  path: string;
  title: string;
  /** 1 (first steps) .. 5 (hard). */
  level: number;
  goal: string;
  hints: string[];
  /** What the student writes: "steps", "kernel handler for <guest>". */
  solutionParts: string[];
  checks: { id: string; title: string; points: number }[];
}

export interface CheckOutcome {
  id: string;
  title: string;
  result: ExerciseResult;
  points: number;
  earned: number;
  /** Why, for the student: expected/found, or the error. */
  message: string;
  /** Where in the exercise or the solution, when it is about a line. */
  file?: string;
  line?: number;
  col?: number;
}

export interface ExerciseReport {
  path: string;
  /** The worst result of any check. */
  result: ExerciseResult;
  earned: number;
  total: number;
  /** earned / total, 0..100, rounded down to a whole percent. */
  percent: number;
  checks: CheckOutcome[];
  /** The reporting guest's console, ending with its `Test result:` line. */
  console: string;
  // Additive to the contract:
  /** The solution file graded, if any. */
  solution?: string;
  /** The seed of the run, so a report can be reproduced. */
  seed?: number;
  /** Not graded: what the run noticed besides, e.g. a step's own `expect` that did not hold (file:line:col: message). */
  notes?: string[];
}

/** A solution as the grader takes it: steps for the placeholder and guests whose kernel it supplies. */
export interface Solution {
  readonly file: string;
  readonly steps?: readonly Step[];
  /** $names its steps save. */
  readonly saved?: readonly string[];
  /** Guests (by name) whose kernel it supplies; the run's `kernels` option carries them. */
  readonly kernels?: readonly string[];
}

export interface GradeOptions {
  /** How the report names the exercise (default: the scenario's file). */
  path?: string;
  solution?: Solution;
  seed?: number;
  /** Custom kernels by domain name: a TypeScript exercise's, and the solution's. */
  kernels?: RunOptions['kernels'];
  /** Units (steps and machine events) the run may take; past it, a run timeout (ERROR). */
  maxUnits?: number;
  /** Asked every few thousand units: a reason to stop now (a host's wall-clock limit), or nothing. */
  stop?: () => string | undefined;
}

/** The units a graded run may take unless told otherwise: seconds of work, never minutes. */
export const DEFAULT_MAX_UNITS = 2_000_000;
/** How many units run between two looks at the budget and the host's stop. */
const SLICE = 4096;

export function isExercise(sc: Scenario): boolean {
  return sc.exercise !== undefined;
}

/** The placeholder where a solution's steps go, if the exercise has one. */
export function solutionPlaceholder(sc: Scenario): Extract<Step, { kind: 'solution' }> | undefined {
  return sc.steps.find((s): s is Extract<Step, { kind: 'solution' }> => s.kind === 'solution');
}

/** The exercise as the exercise list shows it. */
export function exerciseInfo(sc: Scenario, path = sc.file): ExerciseInfo {
  const ex = exerciseOf(sc);
  const parts = [...(solutionPlaceholder(sc) === undefined ? [] : ['steps']), ...ex.kernels.map((k) => `kernel handler for ${k.name}`)];
  return {
    path,
    title: ex.title,
    level: ex.level,
    goal: ex.goal,
    hints: [...ex.hints],
    solutionParts: parts,
    checks: ex.checks.map((c) => ({ id: c.id, title: c.title, points: c.points })),
  };
}

/**
 * A YAML solution (`steps: [...]`) for an exercise; throws ScenarioInputError
 * with positions in the solution file.
 */
export function loadYamlSolution(sc: Scenario, file: string, text: string): Solution {
  const at = solutionPlaceholder(sc);
  if (at === undefined) {
    const ex = exerciseOf(sc);
    const what = ex.kernels.length > 0 ? `its solution is a kernel for ${ex.kernels.map((k) => k.name).join(' and ')}, written in TypeScript (a .ts file ending with export default solution({ kernels: { ... } }))` : 'it grades the scenario as it is';
    throw new ScenarioInputError([{ file, line: 1, col: 1, path: '', message: `this exercise has no place for steps (no solution placeholder): ${what}` }]);
  }
  const { steps, saved } = loadSolutionSteps(sc, at, file, text);
  return { file, steps, saved };
}

/**
 * What is wrong with the parts a solution gives (problems at the solution
 * file's first line): kernels for guests the exercise does not ask for, a
 * kernel it asks for missing, steps where there is no placeholder.
 */
export function solutionProblems(sc: Scenario, sol: Solution): Problem[] {
  const ex = exerciseOf(sc);
  const asked = ex.kernels.map((k) => k.name);
  const at = (message: string, hint?: string): Problem => (hint === undefined ? { file: sol.file, line: 1, col: 1, path: '', message } : { file: sol.file, line: 1, col: 1, path: '', message, hint });
  const out: Problem[] = [];
  for (const k of sol.kernels ?? []) {
    if (!asked.includes(k)) out.push(at(`the solution gives a kernel for ${k}, but the exercise does not ask for one`, asked.length === 0 ? 'this exercise takes steps only' : `it asks for: ${asked.join(', ')}`));
  }
  for (const k of asked) if (!(sol.kernels ?? []).includes(k)) out.push(at(`the exercise asks for a kernel for ${k}, and the solution gives none`, `give it in solution({ kernels: { ${k}: kernel('...', { ... }) } })`));
  if ((sol.steps?.length ?? 0) > 0 && solutionPlaceholder(sc) === undefined) out.push(at('the solution gives steps, but the exercise has no place for them (no solution placeholder)', 'leave the steps out'));
  return out;
}

/** The exercise with the solution's steps in its placeholder's place (and the placeholder gone). */
export function withSolution(sc: Scenario, sol: Solution | undefined): Scenario {
  const at = solutionPlaceholder(sc);
  if (at === undefined || sol?.steps === undefined) return sc;
  const i = sc.steps.indexOf(at);
  return { ...sc, steps: [...sc.steps.slice(0, i), ...sol.steps, ...sc.steps.slice(i + 1)] };
}

/** Why a run could not be graded. */
export interface GradeError {
  message: string;
  file?: string;
  line?: number;
  col?: number;
}

/** The report of an exercise that could not be graded: every check ERROR, saying why. */
export function errorReport(sc: Scenario, why: GradeError, opts: { path?: string; solution?: string; seed?: number; console?: string } = {}): ExerciseReport {
  const ex = exerciseOf(sc);
  const checks: CheckOutcome[] = ex.checks.map((c) => ({ id: c.id, title: c.title, result: 'ERROR', points: c.points, earned: 0, ...why }));
  return report(sc, checks, opts.console ?? '', { ...opts, notes: [] });
}

/** A solution that does not load, as an ERROR report pointing at its first problem. */
export function loadErrorReport(sc: Scenario, problems: readonly Problem[], opts: { path?: string; solution?: string; seed?: number } = {}): ExerciseReport {
  const first = problems[0];
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : '';
  const what = first === undefined ? '' : `${first.path === '' ? '' : `${first.path}: `}${first.message}${first.hint === undefined ? '' : ` (${first.hint})`}`;
  const why: GradeError = first === undefined ? { message: 'the solution does not load' } : { message: `the solution does not load: ${what}${more}`, file: first.file, line: first.line, col: first.col };
  return errorReport(sc, why, opts);
}

/**
 * Runs the exercise (with the solution, when given) and grades it. Never
 * throws for anything the exercise or the solution does.
 */
export function gradeExercise(exercise: Scenario, opts: GradeOptions = {}): ExerciseReport {
  const ex = exerciseOf(exercise);
  const sol = opts.solution;
  const base = { ...(opts.path === undefined ? {} : { path: opts.path }), ...(sol === undefined ? {} : { solution: sol.file }) };
  const seed = opts.seed ?? exercise.seed;
  if (sol !== undefined) {
    const problems = solutionProblems(exercise, sol);
    if (problems.length > 0) return loadErrorReport(exercise, problems, { ...base, seed });
  }
  const sc = withSolution(exercise, sol);
  const expectations = new Map<ExerciseCheck, FinalExpectations>();
  let outcomes: CheckOutcome[] | undefined;
  let exec: Execution | undefined;
  const maxUnits = opts.maxUnits ?? DEFAULT_MAX_UNITS;
  try {
    // Kernels boot as the machine is built: a script kernel may fail already there.
    exec = new Execution(sc, {
      seed,
      ...(opts.kernels === undefined ? {} : { kernels: opts.kernels }),
      // Counters and trace counts read the trace from the start, before any domain exists.
      onMachine: (hv) => {
        for (const c of ex.checks) if ('expect' in c.assert) expectations.set(c, new FinalExpectations(c.assert.expect, hv));
      },
      onFinal: (runner) => {
        outcomes = evaluate(exercise, runner, expectations);
      },
    });
    while (!exec.runScriptFor(Math.min(SLICE, maxUnits - exec.position))) {
      const why = exec.position >= maxUnits ? `a run timeout: the run took ${maxUnits.toLocaleString('en-US')} units (steps and machine events) without finishing its steps` : opts.stop?.();
      if (why !== undefined) return errorReport(exercise, stoppedIn(exec, why), { ...base, seed, console: consoleOf(exercise, exec) });
    }
  } catch (e) {
    return errorReport(exercise, crash(e), { ...base, seed, console: exec === undefined ? '' : consoleOf(exercise, exec) });
  }
  // What failed besides the checks (theirs left the list): the steps' own expectations, an until's timeout, ...
  const notes = exec.result().failures.map(formatProblem);
  return report(exercise, outcomes ?? [], consoleOf(exercise, exec), { ...base, seed, notes });
}

// ---- evaluating the checks ----

function evaluate(sc: Scenario, runner: StepRunner, expectations: ReadonlyMap<ExerciseCheck, FinalExpectations>): CheckOutcome[] {
  const ex = exerciseOf(sc);
  const saves = solutionPlaceholder(sc)?.saves.map((s) => s.name) ?? [];
  const results = new Map<string, ExerciseResult>();
  const out: CheckOutcome[] = [];
  for (const c of ex.checks) {
    const head = { id: c.id, title: c.title, points: c.points };
    const unmet = c.requires.filter((r) => results.get(r) !== 'SUCCESS');
    if (unmet.length > 0) {
      const names = unmet.map((r) => `"${ex.checks.find((x) => x.id === r)?.title ?? r}" (${r})`);
      out.push({ ...head, result: 'SKIP', earned: 0, message: `not evaluated: it needs ${names.join(' and ')}, which did not succeed` });
      results.set(c.id, 'SKIP');
      continue;
    }
    const before = runner.failures.length;
    if ('check' in c.assert) runner.checkNow(c.assert.check);
    else expectations.get(c)!.check(runner);
    // The check's failures are its own: they leave the run's list, which holds the notes.
    const mine = runner.failures.splice(before);
    if (mine.length === 0) {
      out.push({ ...head, result: 'SUCCESS', earned: c.points, message: 'passed' });
      results.set(c.id, 'SUCCESS');
      continue;
    }
    const first = mine[0]!;
    out.push({ ...head, result: 'FAILURE', earned: 0, message: joinFound(mine.map((f) => explain(f, saves))), file: first.file, line: first.line, col: first.col });
    results.set(c.id, 'FAILURE');
  }
  return out;
}

/** A check's failure for the student; a $name the solution should have saved says so. */
function explain(f: Failure, saves: readonly string[]): string {
  const m = /^\$([A-Za-z_][A-Za-z0-9_]*) has no value/.exec(f.message);
  if (m !== null && saves.includes(m[1]!)) return `$${m[1]!} has no value: the solution's steps did not save it (save: { <field>: ${m[1]!} } on a step that succeeds)`;
  return f.message;
}

/** Several differences of one check, the same "found ..." said once: "expected A; expected B, found X". */
function joinFound(messages: readonly string[]): string {
  const split = messages.map((m) => {
    const i = m.lastIndexOf(', found ');
    return i < 0 ? { head: m, found: '' } : { head: m.slice(0, i), found: m.slice(i) };
  });
  return split.map((m, i) => (i + 1 < split.length && split[i + 1]!.found === m.found && m.found !== '' ? m.head : m.head + m.found)).join('; ');
}

// ---- the report ----

function report(sc: Scenario, checks: CheckOutcome[], consoleText: string, extra: { path?: string; solution?: string; seed?: number; notes?: string[] }): ExerciseReport {
  const total = checks.reduce((n, c) => n + c.points, 0);
  const earned = checks.reduce((n, c) => n + c.earned, 0);
  const result = worst(checks.map((c) => c.result));
  const r: ExerciseReport = {
    path: extra.path ?? sc.file,
    result,
    earned,
    total,
    percent: total === 0 ? 0 : Math.floor((earned * 100) / total),
    checks,
    console: `${consoleText}${consoleText === '' || consoleText.endsWith('\n') ? '' : '\n'}${testResultLine(result)}\n`,
  };
  if (extra.solution !== undefined) r.solution = extra.solution;
  if (extra.seed !== undefined) r.seed = extra.seed;
  if (extra.notes !== undefined && extra.notes.length > 0) r.notes = extra.notes;
  return r;
}

/** The most severe of some results (SUCCESS for none). */
export function worst(results: readonly ExerciseResult[]): ExerciseResult {
  let w = 0;
  for (const r of results) w = Math.max(w, EXERCISE_RESULTS.indexOf(r));
  return EXERCISE_RESULTS[w]!;
}

/** The line an XTF test kernel ends its console with (common/report.c's xtf_report_status). */
export function testResultLine(result: ExerciseResult): string {
  return `Test result: ${result}`;
}

/** The reporting domain's console so far (what its console client received; empty when it has none). */
function consoleOf(sc: Scenario, exec: Execution): string {
  const d = sc.domains[exerciseOf(sc).report];
  return d === undefined ? '' : (exec.result().consoles[d.name] ?? '');
}

/** A stop (timeout or the host's) as an error that says where the run was. */
function stoppedIn(exec: Execution, why: string): GradeError {
  const i = exec.waitingStep ?? exec.stepIndex;
  const s = exec.sc.steps[i];
  const where = s === undefined ? '' : `, in step ${s.label}`;
  const err: GradeError = { message: `${why}; stopped at ${fmtNs(exec.now)} of virtual time${where}` };
  if (s === undefined) return err;
  return { ...err, file: s.pos.file ?? exec.sc.file, line: s.pos.line, col: s.pos.col };
}

/** An exception out of the run, as an error: a kernel's sandbox limit or crash, or the simulator's own bug. */
function crash(e: unknown): GradeError {
  if (e instanceof ScriptError) {
    const what = e.reason === 'timeout' ? 'a sandbox time limit' : e.reason === 'memory' ? 'a sandbox memory limit' : e.reason === 'stack' ? 'a sandbox stack limit' : 'a crash';
    const at = /^(.+?):(\d+):(\d+): /.exec(e.message);
    const err: GradeError = { message: `the run stopped, ${what}: ${e.message}` };
    return at === null ? err : { ...err, file: at[1]!, line: Number(at[2]), col: Number(at[3]) };
  }
  return { message: `the run stopped with an internal error of the simulator: ${e instanceof Error ? e.message : String(e)}` };
}

function exerciseOf(sc: Scenario): NonNullable<Scenario['exercise']> {
  if (sc.exercise === undefined) throw new TypeError(`${sc.file} is a scenario, not an exercise (it has no exercise: block)`);
  return sc.exercise;
}
