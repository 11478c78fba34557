/**
 * The Exercise view's pure logic: the goal as paragraphs with code spans,
 * the levels' names, the result order, a solution skeleton for an
 * exercise, the grades remembered per exercise, and telling a solution's
 * text from a scenario's. No DOM here (unit-tested in test/renderer).
 */
import type { ExerciseInfo, ExerciseReport, ExerciseResult } from '../../../../contract/exercise.js';

/** docs/exercises.md's levels. */
export const LEVEL_NAMES: Readonly<Record<number, string>> = {
  1: 'first steps',
  2: 'practice',
  3: 'investigate',
  4: 'build',
  5: 'hard',
};

export function levelName(level: number): string {
  return LEVEL_NAMES[level] ?? `level ${level}`;
}

/** The Xen Test Framework's order, worst last (docs/exercises.md). */
const RANK: Record<ExerciseResult, number> = {
  SUCCESS: 0,
  SKIP: 1,
  FAILURE: 2,
  ERROR: 3,
};

export function worstResult(results: readonly ExerciseResult[]): ExerciseResult {
  let worst: ExerciseResult = 'SUCCESS';
  for (const r of results) if (RANK[r] > RANK[worst]) worst = r;
  return worst;
}

// ---- the goal as readable text ----

/** A run of text: plain, or code (a `span`, or a Xen name such as EVTCHNOP_send, -EINVAL, $port). */
export interface Inline {
  text: string;
  code: boolean;
}

/**
 * Backtick spans; Xen's upper-case names with an underscore (EVTCHNOP_alloc_unbound, DOMID_SELF,
 * VIRQ_TIMER), Xen's lower-case names (alloc_unbound, shared_info), errno values (-EINVAL), saved
 * $names, handlers (onControlSpace) and members such as k.control.
 */
const CODE = /`([^`\n]+)`|(?<![\w$-])(-E[A-Z]{2,}\b|\$[A-Za-z_]\w*|[A-Z][A-Z0-9]*_[A-Za-z0-9_]*[A-Za-z0-9]|[a-z][a-z0-9]*_[a-z0-9_]*[a-z0-9]|on[A-Z]\w+|[a-z]\w*\.[a-z]\w+(?:\(\))?)(?![\w$])/g;

/** A goal as paragraphs (blank lines part them; a single line end is a space), each a list of runs. */
export function goalParagraphs(goal: string): Inline[][] {
  return goal
    .replace(/\r\n?/g, '\n')
    .split(/\n[ \t]*\n/)
    .map((p) => p.replace(/\s*\n\s*/g, ' ').trim())
    .filter((p) => p !== '')
    .map(inlineRuns);
}

export function inlineRuns(text: string): Inline[] {
  const out: Inline[] = [];
  let at = 0;
  for (const m of text.matchAll(CODE)) {
    if (m.index > at) out.push({ text: text.slice(at, m.index), code: false });
    out.push({ text: m[1] ?? m[2]!, code: true });
    at = m.index + m[0].length;
  }
  if (at < text.length) out.push({ text: text.slice(at), code: false });
  return out;
}

// ---- a solution skeleton ----

/** The guests whose kernel the exercise asks for ("kernel handler for guest" → guest). */
export function kernelsAskedFor(info: Pick<ExerciseInfo, 'solutionParts'>): string[] {
  return info.solutionParts.flatMap((p) => {
    const m = /^kernel handler for (.+)$/.exec(p);
    return m === null ? [] : [m[1]!];
  });
}

export function fileStem(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1).replace(/\.[^.]*$/, '');
}

/** Words wrapped to `width` columns, each line prefixed. */
export function wrap(text: string, width: number, prefix: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.replace(/\s+/g, ' ').trim().split(' ')) {
    if (word === '') continue;
    if (line !== '' && prefix.length + line.length + 1 + word.length > width) {
      lines.push(prefix + line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(prefix + line);
  return lines;
}

export interface Skeleton {
  /** The buffer's name: "02-interdomain-channel.solution.yaml". */
  name: string;
  lang: 'yaml' | 'typescript';
  text: string;
}

function identifier(name: string): string {
  const id = name.replace(/[^A-Za-z0-9_$]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase());
  return /^[A-Za-z_$]/.test(id) ? id : `k${id}`;
}

function propertyKey(name: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name);
}

/**
 * A solution to start from: YAML steps, or a TypeScript solution() when the exercise asks for a
 * guest's kernel. The goal is a comment at the top; checking it as it is grades every check.
 */
export function solutionSkeleton(info: Pick<ExerciseInfo, 'path' | 'title' | 'goal' | 'solutionParts'>, taken: ReadonlySet<string> = new Set()): Skeleton {
  const stem = fileStem(info.path);
  const kernels = kernelsAskedFor(info);
  const lang = kernels.length > 0 ? 'typescript' : 'yaml';
  const ext = lang === 'typescript' ? 'ts' : 'yaml';
  let name = `${stem}.solution.${ext}`;
  for (let n = 2; taken.has(name); n++) name = `${stem}.solution-${n}.${ext}`;
  const file = info.path.slice(info.path.lastIndexOf('/') + 1);
  if (lang === 'yaml') {
    const text = [
      `# A solution to "${info.title}" (${file}).`,
      '# Goal:',
      ...wrap(info.goal, 98, '#   '),
      '#',
      '# Your steps go where the exercise says "solution:", in the step form (as, op, args, expect, save).',
      '# Check it in the Exercise view: Check my solution (Ctrl+Enter).',
      'steps: []',
      '',
    ].join('\n');
    return { name, lang, text };
  }
  const alsoSteps = info.solutionParts.includes('steps');
  const decls = kernels.map((k) =>
    [
      `const ${identifier(k)} = kernel('${identifier(k)}', {`,
      '  boot(k) {',
      `    // ${k} has booted: upcalls are on.`,
      '  },',
      '  onControlMessage(k, msg) {',
      '    // A request from xend on the control interface.',
      '  },',
      '  onControlResponse(k, msg) {',
      "    // xend's response to a request sent with reply: true.",
      '  },',
      '  onControlSpace(k) {',
      "    // The control interface's tx ring has room again.",
      '  },',
      '});',
    ].join('\n'),
  );
  const kernelMap = kernels.map((k) => `${propertyKey(k)}: ${identifier(k)}`).join(', ');
  const text = [
    '/**',
    ` * A solution to "${info.title}" (${file}).`,
    ' * Goal:',
    ...wrap(info.goal, 98, ' *   '),
    ' *',
    ' * Check it in the Exercise view: Check my solution (Ctrl+Enter).',
    ' */',
    "import { kernel, solution } from 'xenlab';",
    '',
    ...decls.flatMap((d) => [d, '']),
    `export default solution({ kernels: { ${kernelMap} }${alsoSteps ? ', steps: []' : ''} });`,
    '',
  ].join('\n');
  return { name, lang, text };
}

// ---- a solution or a scenario? ----

/**
 * True when a text is an exercise's solution rather than a scenario: YAML with `steps` and no
 * `domains` at the top level (a scenario must have domains), or TypeScript that declares a
 * solution(). The app neither runs nor checks such a text as a scenario.
 */
export function isSolutionText(text: string, lang: 'yaml' | 'typescript'): boolean {
  if (lang === 'typescript') return /\bsolution\s*\(/.test(text) && !/\bscenario\s*\(/.test(text);
  return /^steps\s*:/m.test(text) && !/^domains\s*:/m.test(text);
}

// ---- grades remembered per exercise ----

export interface Grade {
  percent: number;
  result: ExerciseResult;
  earned: number;
  total: number;
  /** When it was graded (ms since the epoch). */
  at: number;
}

/** The part of Storage a grade book needs (localStorage in the app). */
export interface GradeStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export const GRADES_KEY = 'xenlab.exercise.grades';

const RESULTS = new Set<string>(['SUCCESS', 'SKIP', 'FAILURE', 'ERROR']);

function isGrade(g: unknown): g is Grade {
  if (typeof g !== 'object' || g === null) return false;
  const x = g as Record<string, unknown>;
  return typeof x.percent === 'number' && typeof x.earned === 'number' && typeof x.total === 'number' && typeof x.at === 'number' && typeof x.result === 'string' && RESULTS.has(x.result);
}

/** The last grade of each exercise checked in this app, by the exercise's file name (stable when the lab moves). */
export class GradeBook {
  constructor(private readonly store: GradeStore) {}

  private all(): Record<string, Grade> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(this.store.getItem(GRADES_KEY) ?? '{}');
    } catch {
      return {};
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
    const out: Record<string, Grade> = {};
    for (const [k, v] of Object.entries(parsed)) if (isGrade(v)) out[k] = v;
    return out;
  }

  static key(path: string): string {
    return path.slice(path.lastIndexOf('/') + 1);
  }

  get(path: string): Grade | undefined {
    return this.all()[GradeBook.key(path)];
  }

  record(path: string, report: Pick<ExerciseReport, 'percent' | 'result' | 'earned' | 'total'>, at: number): Grade {
    const all = this.all();
    const g: Grade = {
      percent: report.percent,
      result: report.result,
      earned: report.earned,
      total: report.total,
      at,
    };
    all[GradeBook.key(path)] = g;
    try {
      this.store.setItem(GRADES_KEY, JSON.stringify(all));
    } catch {
      // storage full or refused: the grade is still shown
    }
    return g;
  }
}

/** Whether a report's file names the document (its path, or its name when it was never saved). */
export function sameFile(file: string, docPath: string | undefined, docName: string): boolean {
  if (docPath !== undefined) return file === docPath || docPath.endsWith(`/${file}`) || file.endsWith(`/${docPath}`);
  return file === docName;
}
