// Graded exercises in the scenario layer (src/scenario/exercise.ts): the exercise block and the
// solution placeholder as the checker reads them, problems at file:line:col (in the exercise or in
// the solution file), and the grading rules — SUCCESS/SKIP/FAILURE/ERROR per check, the worst one
// for the exercise, whole percents rounded down, the Test result line, determinism, the run budget.
import { describe, expect, it } from 'vitest';
import { ScenarioInputError, type Problem } from '../../src/scenario/errors.js';
import { EXERCISE_RESULTS, exerciseInfo, gradeExercise, loadYamlSolution, solutionPlaceholder, testResultLine, withSolution, worst, type ExerciseReport } from '../../src/scenario/exercise.js';
import type { Scenario } from '../../src/scenario/model.js';
import { runScenario } from '../../src/scenario/runner.js';
import { loadScenario } from '../../src/scenario/stepform.js';

/** A small exercise: a channel the student opens (saves p), then dom0 notifies twice. */
const EXERCISE = `name: channel exercise
domains:
  - name: dom0
  - name: guest
steps:
  - solution: open a channel for dom0, saving guest's port as p and dom0's as d
    saves: [p, d]
  - { as: dom0, op: send, args: { port: $d } }
  - run: 1ms
exercise:
  title: A channel
  level: 2
  goal: Open it.
  hints: [first, second]
  checks:
    - id: open
      title: p is connected
      points: 2
      port: { domain: guest, port: $p, state: interdomain }
    - id: used
      title: dom0's notification arrived
      points: 1
      requires: [open]
      counters: { domain: guest, deliveries: { $p: { min: 1 } } }
    - id: calls
      title: guest made one hypercall
      points: 1
      trace: { filter: "kind==hypercall && dom==1", count: 1 }
`;

const GOOD = `steps:
  - { as: guest, op: alloc_unbound, args: { dom: DOMID_SELF, remote_dom: dom0 }, save: { port: p } }
  - { as: dom0, op: bind_interdomain, args: { remote_dom: guest, remote_port: $p }, save: { local_port: d } }
`;

function exercise(text = EXERCISE): Scenario {
  return loadScenario('ex.yaml', text);
}

function grade(solutionText: string | undefined, opts: Parameters<typeof gradeExercise>[1] = {}, ex = exercise()): ExerciseReport {
  const solution = solutionText === undefined ? undefined : loadYamlSolution(ex, 'sol.yaml', solutionText);
  return gradeExercise(ex, { ...opts, ...(solution === undefined ? {} : { solution }) });
}

function problems(f: () => unknown): Problem[] {
  try {
    f();
  } catch (e) {
    if (e instanceof ScenarioInputError) return e.problems;
    throw e;
  }
  throw new Error('expected problems');
}

describe('the exercise block', () => {
  it('gives the exercise list its title, level, goal, hints, parts and checks', () => {
    expect(exerciseInfo(exercise(), 'ex.yaml')).toEqual({
      path: 'ex.yaml',
      title: 'A channel',
      level: 2,
      goal: 'Open it.',
      hints: ['first', 'second'],
      solutionParts: ['steps'],
      checks: [
        { id: 'open', title: 'p is connected', points: 2 },
        { id: 'used', title: "dom0's notification arrived", points: 1 },
        { id: 'calls', title: 'guest made one hypercall', points: 1 },
      ],
    });
  });

  it('names the guests whose kernel the student writes as solution parts', () => {
    const ex = exercise(EXERCISE.replace('  hints: [first, second]\n', '  hints: [first, second]\n  kernels: [guest]\n'));
    expect(exerciseInfo(ex).solutionParts).toEqual(['steps', 'kernel handler for guest']);
  });

  it('runs as a scenario without a solution: the placeholder does nothing', () => {
    const r = runScenario(exercise());
    expect(r.steps.map((s) => s.action)).toEqual(['solution', 'send', 'run']);
    expect(r.failures.map((f) => f.message)).toEqual(['$d has no value: the step that saves it did not produce it']);
  });

  it('points at the exact place of a problem in the exercise, with a suggestion', () => {
    const bad = EXERCISE.replace('requires: [open]', 'requires: [opne]');
    const p = problems(() => exercise(bad));
    expect(p).toEqual([
      expect.objectContaining({ file: 'ex.yaml', line: 23, col: 18, path: 'exercise.checks[1].requires[0]', message: 'no check before this one has id "opne"', hint: 'did you mean "open"?' }),
    ]);
  });

  it('refuses a check that asserts two things, and one that asserts nothing', () => {
    const two = problems(() => exercise(EXERCISE.replace('      trace: { filter: "kind==hypercall && dom==1", count: 1 }', '      trace: { filter: "kind==hypercall && dom==1", count: 1 }\n      port: { domain: guest, port: 1 }')));
    expect(two.map((x) => `${x.path}: ${x.message}`)).toEqual(['exercise.checks[2]: a check asserts one thing, found port and trace']);
    const none = problems(() => exercise(EXERCISE.replace('      trace: { filter: "kind==hypercall && dom==1", count: 1 }\n', '')));
    expect(none.map((x) => x.path)).toEqual(['exercise.checks[2]']);
  });

  it('reads a trace filter with its error at the column of the mistake', () => {
    const p = problems(() => exercise(EXERCISE.replace('kind==hypercall && dom==1"', 'kind==hypercal && dom==1"')));
    expect(p[0]).toMatchObject({ line: 28, col: 31, path: 'exercise.checks[2].trace.filter' });
    expect(p[0]!.message).toMatch(/kind 'hypercal'.*did you mean 'hypercall'/);
  });

  it('needs the names a placeholder promises before a later step may use them', () => {
    const p = problems(() => exercise(EXERCISE.replace('    saves: [p, d]\n', '    saves: [p]\n')));
    expect(p.map((x) => `${x.path}: ${x.message}`)).toEqual(['steps[1].args.port: $d is not saved by any earlier step']);
  });
});

describe('solution files', () => {
  it('splice their steps where the placeholder was', () => {
    const ex = exercise();
    const sol = loadYamlSolution(ex, 'sol.yaml', GOOD);
    expect(sol.saved).toEqual(['p', 'd']);
    expect(withSolution(ex, sol).steps.map((s) => s.kind)).toEqual(['hypercall', 'hypercall', 'hypercall', 'run']);
    expect(solutionPlaceholder(withSolution(ex, sol))).toBeUndefined();
  });

  it('point at the solution file when a step is wrong, with a suggestion', () => {
    const p = problems(() => loadYamlSolution(exercise(), 'sol.yaml', GOOD.replace('bind_interdomain', 'bind_interdomian')));
    expect(p).toEqual([expect.objectContaining({ file: 'sol.yaml', line: 3, col: 21, path: 'steps[1].op', message: 'unknown op "bind_interdomian"', hint: 'did you mean "bind_interdomain"?' })]);
  });

  it('know the domains and the $names saved before the placeholder', () => {
    const p = problems(() => loadYamlSolution(exercise(), 'sol.yaml', 'steps:\n  - { as: gust, op: send, args: { port: $q } }\n'));
    expect(p.map((x) => `${x.path}: ${x.message}`)).toEqual(['steps[0].as: unknown domain "gust"', 'steps[0].args.port: $q is not saved by any earlier step']);
  });

  it('hold steps only', () => {
    expect(problems(() => loadYamlSolution(exercise(), 'sol.yaml', 'stesp: []\n')).map((x) => x.message)).toEqual(['unknown key "stesp" in a solution', 'a solution gives its steps: steps: [ ... ]']);
    expect(problems(() => loadYamlSolution(exercise(), 'sol.yaml', 'steps:\n  - solution: nested\n'))[0]!.message).toMatch(/belongs in the exercise/);
  });

  it('name the solution file in the failures of their steps at run time', () => {
    const r = grade(GOOD.replace('save: { local_port: d } }', 'save: { local_port: d }, expect: { ret: -EINVAL } }'));
    expect(r.notes).toEqual(['sol.yaml:3:125: steps[1].expect.ret: ret: expected -EINVAL, found 0']);
  });
});

describe('grading', () => {
  it('gives every check SUCCESS and 100% for a solution that does it all', () => {
    const r = grade(GOOD);
    expect(r.checks.map((c) => [c.id, c.result, c.earned])).toEqual([
      ['open', 'SUCCESS', 2],
      ['used', 'SUCCESS', 1],
      ['calls', 'SUCCESS', 1],
    ]);
    expect(r).toMatchObject({ result: 'SUCCESS', earned: 4, total: 4, percent: 100, solution: 'sol.yaml', seed: 1 });
    expect(r.notes).toBeUndefined();
  });

  it('skips a check whose required check did not succeed, and the worst result is the exercise\'s', () => {
    const r = grade('steps: []\n');
    expect(r.checks.map((c) => c.result)).toEqual(['FAILURE', 'SKIP', 'FAILURE']);
    expect(r.checks[1]!.message).toBe('not evaluated: it needs "p is connected" (open), which did not succeed');
    expect(r.checks[0]).toMatchObject({ earned: 0, file: 'ex.yaml', line: 19, col: 36, message: "$p has no value: the solution's steps did not save it (save: { <field>: p } on a step that succeeds)" });
    expect(r.result).toBe('FAILURE');
  });

  it('rounds the percentage down to a whole percent', () => {
    // A second hypercall by guest makes "calls" (1 point) fail.
    const extraCall = `${GOOD}  - { as: guest, op: status, args: { dom: DOMID_SELF, port: $p } }\n`;
    const r = grade(extraCall);
    expect(r.checks.map((c) => c.result)).toEqual(['SUCCESS', 'SUCCESS', 'FAILURE']);
    expect([r.earned, r.total, r.percent]).toEqual([3, 4, 75]);
    // With "open" worth 1 point: 2 of 3 is 66%, not 67%.
    const r2 = grade(extraCall, {}, exercise(EXERCISE.replace('      points: 2\n      port:', '      points: 1\n      port:')));
    expect([r2.earned, r2.total, r2.percent]).toEqual([2, 3, 66]);
  });

  it('ends the reporting domain\'s console with the Test result line, as an XTF kernel prints it', () => {
    expect(grade(GOOD).console).toBe('Test result: SUCCESS\n');
    expect(grade('steps: []\n').console).toBe('Test result: FAILURE\n');
    const plan9 = loadScenario(
      'p9.yaml',
      `name: p
xen: "2.0"
domains: [{ name: dom0 }, { name: plan9, kernel: plan9 }]
steps: [{ run: 5ms }]
exercise:
  title: t
  level: 1
  goal: g
  checks: [{ id: up, title: up, console: { domain: plan9, contains: "root is from" } }]
`,
    );
    const r = gradeExercise(plan9);
    // Plan 9's console, as xend received it over the control interface, then the line on its own line.
    expect(r.console).toContain('Plan 9 from Bell Labs on Xen 2.0');
    expect(r.console.endsWith('root is from (local, tcp)[local]: \nTest result: SUCCESS\n')).toBe(true);
  });

  it('is deterministic: the same exercise, solution and seed give the same report', () => {
    expect(JSON.stringify(grade(GOOD, { seed: 7 }))).toBe(JSON.stringify(grade(GOOD, { seed: 7 })));
    expect(grade(GOOD, { seed: 7 }).seed).toBe(7);
  });

  it('gives every check ERROR when the solution asks for what the exercise does not take', () => {
    const ex = exercise();
    const r = gradeExercise(ex, { solution: { file: 'sol.ts', kernels: ['guest'] } });
    expect(r.result).toBe('ERROR');
    expect(r.checks.every((c) => c.result === 'ERROR' && c.earned === 0)).toBe(true);
    expect(r.checks[0]).toMatchObject({ file: 'sol.ts', line: 1, col: 1 });
    expect(r.checks[0]!.message).toBe('the solution does not load: the solution gives a kernel for guest, but the exercise does not ask for one (this exercise takes steps only)');
    expect(r.console).toBe('Test result: ERROR\n');
  });

  it('stops a run past its budget as a run timeout (ERROR), saying where it was', () => {
    const r = grade(`steps:\n  - { as: guest, op: bind_virq, args: { virq: VIRQ_TIMER, vcpu: 0 } }\n  - run: 1000s\n`, { maxUnits: 5000 });
    expect(r.result).toBe('ERROR');
    expect(r.checks[0]!.message).toMatch(/^a run timeout: the run took 5,000 units \(steps and machine events\) without finishing its steps; stopped at [\d.]+s of virtual time, in step run 1000s$/);
    expect(r.checks[0]).toMatchObject({ file: 'sol.yaml', line: 3, col: 5 });
  });

  it('stops when the host says so (its wall-clock limit), as an ERROR that says why', () => {
    const r = grade(GOOD, { stop: () => 'a run timeout: the host said stop' , maxUnits: 10 ** 7 });
    // Short runs finish inside the first slice: the host is asked only between slices.
    expect(r.result).toBe('SUCCESS');
    const long = grade(`steps:\n  - { as: guest, op: bind_virq, args: { virq: VIRQ_TIMER, vcpu: 0 } }\n  - run: 100s\n`, { stop: () => 'a run timeout: the host said stop' });
    expect(long.checks[0]!.message).toMatch(/^a run timeout: the host said stop; stopped at/);
  });
});

describe('results', () => {
  it('follow the Xen Test Framework\'s vocabulary in XenLab\'s severity order', () => {
    expect(EXERCISE_RESULTS).toEqual(['SUCCESS', 'SKIP', 'FAILURE', 'ERROR']);
    expect(worst([])).toBe('SUCCESS');
    expect(worst(['SKIP', 'SUCCESS'])).toBe('SKIP');
    expect(worst(['SKIP', 'FAILURE', 'SUCCESS'])).toBe('FAILURE');
    expect(worst(['FAILURE', 'ERROR', 'SKIP'])).toBe('ERROR');
    expect(testResultLine('SKIP')).toBe('Test result: SKIP');
  });
});
