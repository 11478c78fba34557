// The host side of exercises (src/host/exercises.ts), for the desktop app: the exercise list (YAML
// and TypeScript exercises, the latter read from their source without running them), opening one,
// grading a solution given as text (what the editor holds, saved or not); and the solution files of
// the pack against the shipped solution schema and the validator.
import { Ajv, type ValidateFunction } from 'ajv';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { checkExercise, listExercises, loadExercise, openExercise } from '../../src/host/exercises.js';
import { TsScenario } from '../../src/host/ts_scenario.js';
import { exerciseInfo, loadYamlSolution } from '../../src/scenario/exercise.js';
import { scenarioJsonSchema, solutionJsonSchema, solutionJsonSchemaText, type JsonSchema } from '../../src/scenario/schema.js';
import { loadScenario } from '../../src/scenario/stepform.js';

// The first TypeScript file a worker loads pays for the compiler (seconds on a busy machine): not a hang.
vi.setConfig({ testTimeout: 60_000 });

const ROOT = join(import.meta.dirname, '../..');
const EXERCISES = join(ROOT, 'scenarios/exercises');
const SOLUTIONS = join(ROOT, 'test/exercises');
const tmp = mkdtempSync(join(tmpdir(), 'xenlab-exercises-'));

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function compile(s: JsonSchema): ValidateFunction {
  const ajv = new Ajv({ allErrors: true, strict: true, strictTuples: false, strictRequired: false, allowUnionTypes: true });
  ajv.addVocabulary(['markdownDescription', 'enumDescriptions', 'defaultSnippets']);
  return ajv.compile(s);
}

describe('listExercises', () => {
  const list = listExercises(EXERCISES);

  it('lists every exercise of the pack, in file order, from first steps to hard', () => {
    expect(list.map((i) => i.path.slice(EXERCISES.length + 1))).toEqual(readdirSync(EXERCISES).sort());
    expect(list.length).toBeGreaterThanOrEqual(12);
    expect(Math.min(...list.map((i) => i.level))).toBe(1);
    expect(Math.max(...list.map((i) => i.level))).toBeGreaterThanOrEqual(4);
    for (const i of list) {
      expect(i.goal.length, i.path).toBeGreaterThan(100);
      expect(i.hints.length, i.path).toBeGreaterThanOrEqual(2);
      expect(i.checks.length, i.path).toBeGreaterThanOrEqual(2);
      expect(i.solutionParts.length, i.path).toBeGreaterThan(0);
    }
  });

  it('reads a TypeScript exercise from its source as the sandbox would evaluate it', async () => {
    const file = join(EXERCISES, '10-fifo-priorities.ts');
    const ts = await TsScenario.load(file, readFileSync(file, 'utf8'));
    try {
      expect(list.find((i) => i.path === file)).toEqual(exerciseInfo(ts.scenario, file));
    } finally {
      ts.dispose();
    }
  });

  it('skips scenarios that are not exercises, and shows one that does not load with why', () => {
    const sub = mkdtempSync(join(tmp, 'list-'));
    writeFileSync(join(sub, 'plain.yaml'), readFileSync(join(ROOT, 'scenarios/masking.yaml')));
    writeFileSync(join(sub, 'broken.yaml'), readFileSync(join(ROOT, 'test/scenario/broken/exercise-duplicate-check-id.yaml')));
    const infos = listExercises(sub);
    expect(infos).toHaveLength(1);
    expect(infos[0]).toMatchObject({ path: join(sub, 'broken.yaml'), title: 'broken.yaml', checks: [] });
    expect(infos[0]!.goal).toBe(`This exercise does not load: ${join(sub, 'broken.yaml')}:15:13: exercise.checks[1].id: check id "a" is used twice (each check has its own id)`);
  });
});

describe('openExercise', () => {
  it('gives the exercise and its text for the editor', () => {
    const file = join(EXERCISES, '03-masked-port.yaml');
    const o = openExercise(file);
    expect(o.text).toBe(readFileSync(file, 'utf8'));
    expect(o).toMatchObject({ path: file, title: 'The port that never fires', level: 2, solutionParts: ['steps'] });
  });

  it('refuses a scenario that is not an exercise', () => {
    expect(() => openExercise(join(ROOT, 'scenarios/masking.yaml'))).toThrow(/not an exercise/);
  });
});

describe('checkExercise', () => {
  it('grades the text the editor holds, saved or not, naming the file it is for', async () => {
    const exercise = join(EXERCISES, '01-virq-timer.yaml');
    const text = 'steps:\n  - { as: guest, op: bind_virq, args: { virq: VIRQ_TIMER, vcpu: 0 }, save: { port: timer } }\n';
    const r = await checkExercise(exercise, { file: join(tmp, 'unsaved.yaml'), text });
    expect(r).toMatchObject({ path: exercise, result: 'SUCCESS', percent: 100, solution: join(tmp, 'unsaved.yaml') });
  });

  it('loads a TypeScript solution in the sandbox and gives its kernel to the guest the exercise names', async () => {
    const exercise = join(EXERCISES, '07-ctrl-if-ids.yaml');
    const file = join(SOLUTIONS, '07-ctrl-if-ids/solution.ts');
    const r = await checkExercise(exercise, { file, text: readFileSync(file, 'utf8') });
    expect(r.result).toBe('SUCCESS');
    expect(r.console).toContain('answer 12\nTest result: SUCCESS\n');
  });

  it('points at the .ts file when a TypeScript solution gives a kernel the exercise does not ask for', async () => {
    const exercise = join(EXERCISES, '07-ctrl-if-ids.yaml');
    const text = "import { kernel, solution } from 'xenlab';\nconst k = kernel('k', { onControlSpace() {} });\nexport default solution({ kernels: { dom0: k } });\n";
    const r = await checkExercise(exercise, { file: join(tmp, 'sol.ts'), text });
    expect(r.result).toBe('ERROR');
    expect(r.checks[0]).toMatchObject({ file: join(tmp, 'sol.ts'), line: 3, col: 38 });
    // ...and the kernel the exercise asks for is missing: the second problem.
    expect(r.checks[0]!.message).toBe('the solution does not load: kernels.dom0: the exercise does not ask for a kernel for dom0 (it asks for: guest) (and 1 more problem)');
  });

  it('throws for an exercise that does not load, with its positions', async () => {
    await expect(checkExercise(join(ROOT, 'test/scenario/broken/exercise-level-too-high.yaml'))).rejects.toThrow(/exercise-level-too-high\.yaml:11:10: exercise\.level: expected a level from 1 to 5, found 6/);
  });
});

describe('the solution files of the pack', () => {
  const validate = compile(solutionJsonSchema());
  const files = readdirSync(SOLUTIONS).flatMap((d) => readdirSync(join(SOLUTIONS, d)).filter((f) => f.endsWith('.yaml')).map((f) => ({ dir: d, file: join(SOLUTIONS, d, f) })));

  it('schema/solution.schema.json is what the code generates (run npm run schema)', () => {
    expect(readFileSync(join(ROOT, 'schema/solution.schema.json'), 'utf8') === solutionJsonSchemaText()).toBe(true);
  });

  for (const { dir, file } of files) {
    it(`${dir}/${file.slice(file.lastIndexOf('/') + 1)}: the schema and the validator accept it`, async () => {
      const text = readFileSync(file, 'utf8');
      expect(validate(parse(text)) ? [] : validate.errors).toEqual([]);
      const exerciseFile = readdirSync(EXERCISES).find((f) => f.startsWith(`${dir}.`))!;
      const { scenario, ts } = await loadExercise(join(EXERCISES, exerciseFile), readFileSync(join(EXERCISES, exerciseFile), 'utf8'));
      ts?.dispose();
      expect(loadYamlSolution(scenario, file, text).steps!.length).toBeGreaterThan(0);
    });
  }

  it('the schema refuses what is not a solution: a misspelt top-level key, a step of no kind', () => {
    expect(validate(parse('stesp: []\n'))).toBe(false);
    expect(validate(parse('steps:\n  - { as: guest, bogus: 1 }\n'))).toBe(false);
  });

  it('the TypeScript exercise\'s document is valid against the scenario schema too', async () => {
    const file = join(EXERCISES, '10-fifo-priorities.ts');
    const ts = await TsScenario.load(file, readFileSync(file, 'utf8'));
    try {
      const v = compile(scenarioJsonSchema());
      expect(v(parse(ts.yaml)) ? [] : v.errors).toEqual([]);
      expect(loadScenario('doc.yaml', ts.yaml).exercise?.checks.map((c) => c.id)).toEqual(['urgent-first', 'order']);
    } finally {
      ts.dispose();
    }
  });
});
