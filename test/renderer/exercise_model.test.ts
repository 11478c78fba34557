// The Exercise view's pure logic: the goal as paragraphs with code spans, solution skeletons (YAML
// steps or a TypeScript solution with the kernels asked for), grades remembered per exercise, the
// result order, and telling a solution's text from a scenario's. The skeletons are graded by the
// real checker, so a skeleton that does not load fails here.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkExercise, openExercise } from '../../src/host/exercises.js';
import { goalParagraphs, GradeBook, GRADES_KEY, inlineRuns, isSolutionText, kernelsAskedFor, levelName, sameFile, solutionSkeleton, worstResult, wrap, type GradeStore } from '../../src/renderer/src/views/exercise/model.js';

const PACK = join(import.meta.dirname, '../../scenarios/exercises');

class MemoryStore implements GradeStore {
  readonly items = new Map<string, string>();
  getItem(k: string): string | null {
    return this.items.get(k) ?? null;
  }
  setItem(k: string, v: string): void {
    this.items.set(k, v);
  }
}

describe('the goal as readable text', () => {
  it('parts paragraphs at blank lines and joins the lines of one', () => {
    const p = goalParagraphs('First line\nsame paragraph.\n\n  Second one.\n');
    expect(p.map((runs) => runs.map((r) => r.text).join(''))).toEqual(['First line same paragraph.', 'Second one.']);
  });

  it('marks backtick spans and Xen names as code, and leaves prose alone', () => {
    const runs = inlineRuns('Call `k.call(x)` then EVTCHNOP_send; -EINVAL means save $port, e.g. bind it via alloc_unbound or onControlSpace.');
    expect(runs.filter((r) => r.code).map((r) => r.text)).toEqual(['k.call(x)', 'EVTCHNOP_send', '-EINVAL', '$port', 'alloc_unbound', 'onControlSpace']);
    expect(runs.map((r) => r.text).join('')).toBe('Call k.call(x) then EVTCHNOP_send; -EINVAL means save $port, e.g. bind it via alloc_unbound or onControlSpace.');
  });

  it('keeps ordinary words, numbers and capitals as prose', () => {
    expect(inlineRuns('Xen 2.0 has eight 64-byte messages. OK?').every((r) => !r.code)).toBe(true);
  });

  it('wraps words to a width with a prefix', () => {
    const lines = wrap('one two three four five six', 12, '# ');
    expect(lines).toEqual(['# one two', '# three four', '# five six']);
    expect(lines.every((l) => l.length <= 12)).toBe(true);
  });
});

describe('solution skeletons', () => {
  it('are YAML steps for an exercise whose student writes steps, named after it, graded by the checker without an error', async () => {
    const path = join(PACK, '02-interdomain-channel.yaml');
    const info = openExercise(path);
    const s = solutionSkeleton(info);
    expect(s.name).toBe('02-interdomain-channel.solution.yaml');
    expect(s.lang).toBe('yaml');
    expect(s.text).toContain('# A solution to "Open an inter-domain channel"');
    expect(s.text).toContain('EVTCHNOP_alloc_unbound');
    expect(s.text).toMatch(/^steps: \[\]$/m);
    expect(isSolutionText(s.text, 'yaml')).toBe(true);
    const report = await checkExercise(path, { file: s.name, text: s.text });
    expect(report.result).toBe('FAILURE');
    expect(report.percent).toBe(0);
  });

  it('are a TypeScript solution() with a kernel for each guest asked for, which the sandbox loads', async () => {
    const path = join(PACK, '06-console-over-ctrl-if.yaml');
    const info = openExercise(path);
    expect(kernelsAskedFor(info)).toEqual(['guest']);
    const s = solutionSkeleton(info);
    expect(s.name).toBe('06-console-over-ctrl-if.solution.ts');
    expect(s.lang).toBe('typescript');
    expect(s.text).toContain("import { kernel, solution } from 'xenlab';");
    expect(s.text).toContain('export default solution({ kernels: { guest: guest } });');
    expect(isSolutionText(s.text, 'typescript')).toBe(true);
    const report = await checkExercise(path, { file: s.name, text: s.text });
    expect(report.result).not.toBe('ERROR');
    expect(report.percent).toBeLessThan(100);
  }, 30_000);

  it('take a name no draft has', () => {
    const info = { path: '/x/01-virq-timer.yaml', title: 'T', goal: 'G', solutionParts: ['steps'] };
    expect(solutionSkeleton(info, new Set(['01-virq-timer.solution.yaml', '01-virq-timer.solution-2.yaml'])).name).toBe('01-virq-timer.solution-3.yaml');
  });

  it('make identifiers of guests whose names are not', () => {
    const s = solutionSkeleton({ path: '/x/e.yaml', title: 'T', goal: 'G', solutionParts: ['kernel handler for my-guest'] });
    expect(s.text).toContain("const myGuest = kernel('myGuest', {");
    expect(s.text).toContain('kernels: { "my-guest": myGuest }');
  });
});

describe('solutions and scenarios', () => {
  it('tells the pack reference solutions from scenarios', () => {
    const yaml = readFileSync(join(import.meta.dirname, '../exercises/02-interdomain-channel/solution.yaml'), 'utf8');
    const ts = readFileSync(join(import.meta.dirname, '../exercises/06-console-over-ctrl-if/solution.ts'), 'utf8');
    expect(isSolutionText(yaml, 'yaml')).toBe(true);
    expect(isSolutionText(ts, 'typescript')).toBe(true);
    expect(isSolutionText(readFileSync(join(PACK, '02-interdomain-channel.yaml'), 'utf8'), 'yaml')).toBe(false);
    expect(isSolutionText(readFileSync(join(PACK, '10-fifo-priorities.ts'), 'utf8'), 'typescript')).toBe(false);
  });
});

describe('grades', () => {
  it('are remembered per exercise file and survive a new book over the same storage', () => {
    const store = new MemoryStore();
    new GradeBook(store).record('/pack/02-interdomain-channel.yaml', { percent: 50, result: 'FAILURE', earned: 4, total: 8 }, 1000);
    const book = new GradeBook(store);
    expect(book.get('/elsewhere/02-interdomain-channel.yaml')).toEqual({ percent: 50, result: 'FAILURE', earned: 4, total: 8, at: 1000 });
    expect(book.get('/pack/01-virq-timer.yaml')).toBeUndefined();
    book.record('/pack/02-interdomain-channel.yaml', { percent: 100, result: 'SUCCESS', earned: 8, total: 8 }, 2000);
    expect(book.get('/pack/02-interdomain-channel.yaml')?.percent).toBe(100);
  });

  it('ignore what is not a grade in storage', () => {
    const store = new MemoryStore();
    store.setItem(GRADES_KEY, '{"a.yaml": {"percent": "x"}, "b.yaml": {"percent": 10, "result": "SKIP", "earned": 1, "total": 10, "at": 5}}');
    const book = new GradeBook(store);
    expect(book.get('a.yaml')).toBeUndefined();
    expect(book.get('b.yaml')?.result).toBe('SKIP');
    store.setItem(GRADES_KEY, 'not json');
    expect(book.get('b.yaml')).toBeUndefined();
  });

  it('are still returned when storage refuses to keep them', () => {
    const book = new GradeBook({
      getItem: () => null,
      setItem: () => {
        throw new Error('quota');
      },
    });
    expect(book.record('/p/x.yaml', { percent: 0, result: 'ERROR', earned: 0, total: 3 }, 1).result).toBe('ERROR');
  });
});

describe('results, levels and files', () => {
  it('rank results as XenLab does: SUCCESS < SKIP < FAILURE < ERROR', () => {
    expect(worstResult([])).toBe('SUCCESS');
    expect(worstResult(['SUCCESS', 'SKIP'])).toBe('SKIP');
    expect(worstResult(['SKIP', 'FAILURE', 'SUCCESS'])).toBe('FAILURE');
    expect(worstResult(['ERROR', 'FAILURE'])).toBe('ERROR');
  });

  it('name the levels', () => {
    expect([1, 2, 3, 4, 5].map(levelName)).toEqual(['first steps', 'practice', 'investigate', 'build', 'hard']);
    expect(levelName(9)).toBe('level 9');
  });

  it('match a report file to the buffer by path, or by name when never saved', () => {
    expect(sameFile('/w/a.yaml', '/w/a.yaml', 'a.yaml')).toBe(true);
    expect(sameFile('a.yaml', '/w/a.yaml', 'a.yaml')).toBe(true);
    expect(sameFile('/w/b.yaml', '/w/a.yaml', 'a.yaml')).toBe(false);
    expect(sameFile('x.solution.yaml', undefined, 'x.solution.yaml')).toBe(true);
    expect(sameFile('/w/x.solution.yaml', undefined, 'y.yaml')).toBe(false);
  });
});
