/**
 * Exercise: the pack's exercises by level, each with its last grade here;
 * the chosen one's goal, what the student writes, its checks and hints one
 * at a time; opening it or starting a solution in the editor; and grading
 * the editor's buffer against it (exercises.check), check by check, with
 * links to the lines the checks are about.
 */
import type { CheckOutcome, ExerciseInfo, ExerciseReport, ExerciseResult } from '../../../../contract/exercise.js';
import { asHostError } from '../../host/connect.js';
import type { View, ViewContext, ViewHandle } from '../../shell/registry.js';
import { h, icon } from '../../util/dom.js';
import { fileStem, goalParagraphs, GradeBook, isSolutionText, levelName, sameFile, solutionSkeleton, type Grade } from './model.js';
import { COMMAND_KEYS } from '../../../../contract/keys.js';

const SELECTED_KEY = 'xenlab.exercise.selected';

type Outcome = { kind: 'report'; report: ExerciseReport; graded: string; at: number } | { kind: 'error'; message: string; graded?: string };

/** The nodes that are there (a part left out is undefined). */
function present(...xs: (Node | undefined)[]): Node[] {
  return xs.filter((x): x is Node => x !== undefined);
}

function resultBadge(result: ExerciseResult): HTMLElement {
  return h('span', { class: `xl-ex-badge xl-ex-${result.toLowerCase()}` }, result);
}

function gradeChip(g: Grade | undefined): HTMLElement | undefined {
  if (g === undefined) return undefined;
  return h(
    'span',
    {
      class: `xl-ex-grade xl-ex-${g.result.toLowerCase()}`,
      title: `Last checked ${new Date(g.at).toLocaleString()}: ${g.earned} of ${g.total} points, ${g.result}`,
    },
    `${g.percent}%`,
  );
}

/** The goal's paragraphs, with code spans. */
function goalNode(goal: string): HTMLElement {
  const el = h('div', { class: 'xl-ex-goal' });
  for (const p of goalParagraphs(goal)) el.append(h('p', {}, ...p.map((r) => (r.code ? h('code', {}, r.text) : r.text))));
  return el;
}

function mount(container: HTMLElement, ctx: ViewContext): ViewHandle {
  const grades = new GradeBook(localStorage);
  const root = h('div', {
    class: 'xl-exercise',
    'data-testid': 'exercise',
    tabindex: '-1',
  });
  const list = h('div', {
    class: 'xl-ex-list',
    role: 'listbox',
    'aria-label': 'Exercises',
    tabindex: '0',
    'data-testid': 'exercise-list',
  });
  const detail = h('div', {
    class: 'xl-ex-detail',
    'data-testid': 'exercise-detail',
  });
  root.append(list, detail);
  container.append(root);

  let exercises: ExerciseInfo[] = [];
  let selected: ExerciseInfo | undefined;
  let hintsShown = new Map<string, number>();
  const outcomes = new Map<string, Outcome>();
  let busy: string | undefined;
  /** The result region: kept across redraws so screen readers announce what changes in it. */
  const results = h('section', {
    class: 'xl-ex-results',
    'aria-live': 'polite',
    'aria-label': 'Result of the check',
    'data-testid': 'exercise-results',
  });

  // ---- the list

  const options = (): HTMLElement[] => [...list.querySelectorAll<HTMLElement>('[role="option"]')];

  const renderList = (): void => {
    list.replaceChildren();
    if (exercises.length === 0) return;
    const levels = [...new Set(exercises.map((e) => e.level))].sort((a, b) => a - b);
    for (const level of levels) {
      const label = `Level ${level} · ${levelName(level)}`;
      const group = h('div', { role: 'group', 'aria-label': label, class: 'xl-ex-group' }, h('div', { class: 'xl-ex-group-title', 'aria-hidden': 'true' }, label));
      for (const ex of exercises.filter((e) => e.level === level)) {
        const n = /^(\d+)/.exec(fileStem(ex.path))?.[1];
        const g = grades.get(ex.path);
        const isSel = ex.path === selected?.path;
        const opt = h(
          'div',
          {
            role: 'option',
            class: 'xl-ex-option',
            id: `xl-ex-${fileStem(ex.path).replace(/[^\w-]/g, '_')}`,
            'aria-selected': isSel ? 'true' : 'false',
            'data-path': ex.path,
            title: ex.path,
          },
          h('span', { class: 'xl-ex-num' }, n ?? '·'),
          h('span', { class: 'xl-ex-title' }, ex.title),
          gradeChip(g),
        );
        opt.addEventListener('click', () => {
          choose(ex);
          list.focus();
        });
        group.append(opt);
      }
      list.append(group);
    }
    const cur = options().find((o) => o.getAttribute('aria-selected') === 'true');
    if (cur !== undefined) list.setAttribute('aria-activedescendant', cur.id);
    else list.removeAttribute('aria-activedescendant');
  };

  list.addEventListener('keydown', (e) => {
    const opts = options();
    if (opts.length === 0) return;
    const at = opts.findIndex((o) => o.getAttribute('aria-selected') === 'true');
    let next: number | undefined;
    if (e.key === 'ArrowDown') next = Math.min(opts.length - 1, at + 1);
    else if (e.key === 'ArrowUp') next = Math.max(0, at < 0 ? 0 : at - 1);
    else if (e.key === 'Home') next = 0;
    else if (e.key === 'End') next = opts.length - 1;
    else if (e.key === 'PageDown') next = Math.min(opts.length - 1, at + 5);
    else if (e.key === 'PageUp') next = Math.max(0, at - 5);
    if (next === undefined) return;
    e.preventDefault();
    const ex = exercises.find((x) => x.path === opts[next]!.dataset.path);
    if (ex !== undefined) choose(ex);
  });

  const choose = (ex: ExerciseInfo): void => {
    selected = ex;
    localStorage.setItem(SELECTED_KEY, ex.path);
    renderList();
    list.querySelector<HTMLElement>('[aria-selected="true"]')?.scrollIntoView({ block: 'nearest' });
    renderDetail();
  };

  // ---- the chosen exercise

  const button = (
    label: string,
    run: () => void,
    opts: {
      primary?: boolean;
      title?: string;
      testId?: string;
      disabled?: boolean;
    } = {},
  ): HTMLButtonElement => {
    const b = h(
      'button',
      {
        class: `xl-button${opts.primary === true ? ' xl-primary' : ''}`,
        type: 'button',
        title: opts.title,
        'data-testid': opts.testId,
        disabled: opts.disabled,
      },
      label,
    );
    b.addEventListener('click', run);
    return b;
  };

  const renderDetail = (): void => {
    const ex = selected;
    if (ex === undefined) {
      detail.replaceChildren(h('div', { class: 'xl-empty' }, exercises.length === 0 ? '' : 'Choose an exercise in the list (↑ ↓) to read its goal, start a solution and check it.'));
      return;
    }
    const broken = ex.checks.length === 0 && ex.goal.startsWith('This exercise does not load');
    const total = ex.checks.reduce((s, c) => s + c.points, 0);
    const shown = hintsShown.get(ex.path) ?? 0;
    const hints = h('ol', { class: 'xl-ex-hints', 'data-testid': 'exercise-hints' }, ...ex.hints.slice(0, shown).map((t) => h('li', {}, ...goalParagraphs(t).flatMap((p) => p.map((r) => (r.code ? h('code', {}, r.text) : r.text))))));
    const hintButton =
      shown < ex.hints.length
        ? button(
            `Show a hint (${shown + 1} of ${ex.hints.length})`,
            () => {
              hintsShown.set(ex.path, shown + 1);
              renderDetail();
              detail.querySelector<HTMLButtonElement>('[data-testid="exercise-hint"]')?.focus();
            },
            { testId: 'exercise-hint' },
          )
        : ex.hints.length === 0
          ? h('span', { class: 'xl-ex-dim' }, 'This exercise has no hints.')
          : h('span', { class: 'xl-ex-dim' }, 'No more hints.');
    detail.replaceChildren(
      ...present(
        h(
          'header',
          { class: 'xl-ex-head' },
          h('h2', { class: 'xl-ex-heading', 'data-testid': 'exercise-title' }, ex.title),
          h(
            'div',
            { class: 'xl-ex-meta' },
            h('span', { class: `xl-ex-level xl-ex-level-${ex.level}` }, `Level ${ex.level} · ${levelName(ex.level)}`),
            broken ? undefined : h('span', {}, `${total} points`),
            h('span', { class: 'xl-ex-file' }, ex.path.slice(ex.path.lastIndexOf('/') + 1)),
          ),
        ),
        broken ? h('div', { class: 'xl-ex-broken', role: 'alert' }, icon('error'), goalNode(ex.goal)) : goalNode(ex.goal),
        ex.solutionParts.length === 0 ? undefined : h('div', { class: 'xl-ex-parts' }, h('span', { class: 'xl-ex-label' }, 'You write'), ...ex.solutionParts.map((p) => h('span', { class: 'xl-ex-part' }, p))),
        h(
          'div',
          {
            class: 'xl-ex-actions',
            role: 'group',
            'aria-label': 'Work on the exercise',
          },
          button('Open the exercise', () => void openExercise(ex), {
            title: 'Show the exercise file in the editor',
            testId: 'exercise-open',
          }),
          broken
            ? undefined
            : button('Start a solution', () => void startSolution(ex), {
                title: 'A new editor buffer with a solution to fill in (kept as a draft until saved)',
                testId: 'exercise-start',
              }),
          broken
            ? undefined
            : button(busy === ex.path ? 'Checking…' : 'Check my solution', () => void check(ex), {
                primary: true,
                title: "Grade the editor's text against this exercise (Ctrl+Enter)",
                testId: 'exercise-check',
                disabled: busy !== undefined,
              }),
        ),
        ex.checks.length === 0 ? undefined : h('h3', { class: 'xl-ex-sub' }, 'Checks'),
        ex.checks.length === 0 ? undefined : h('ul', { class: 'xl-ex-checklist' }, ...ex.checks.map((c) => h('li', {}, h('span', { class: 'xl-ex-points' }, `${c.points} pt${c.points === 1 ? '' : 's'}`), h('span', {}, c.title)))),
        ex.hints.length === 0 && broken ? undefined : h('h3', { class: 'xl-ex-sub' }, 'Hints'),
        ex.hints.length === 0 && broken ? undefined : hints,
        ex.hints.length === 0 && broken ? undefined : h('div', { class: 'xl-ex-hintbar' }, hintButton),
        results,
      ),
    );
    renderResults();
  };

  // ---- the result of a check

  const locationLink = (ex: ExerciseInfo, c: Pick<CheckOutcome, 'file' | 'line' | 'col'>): HTMLElement | undefined => {
    if (c.file === undefined || c.line === undefined) return undefined;
    const col = c.col ?? 1;
    const where = `${c.file.slice(c.file.lastIndexOf('/') + 1)}:${c.line}:${col}`;
    const a = h(
      'button',
      {
        class: 'xl-ex-where',
        type: 'button',
        title: `Show ${where} in the editor`,
        'data-testid': 'exercise-location',
      },
      where,
    );
    a.addEventListener('click', () => void reveal(ex, c.file!, c.line!, col));
    return a;
  };

  /** A note of the run; one that starts at a file:line:col links there, with the file named by its base name. */
  const noteItem = (ex: ExerciseInfo, note: string): HTMLElement => {
    const m = /^(.+?):(\d+):(\d+): ([\s\S]*)$/.exec(note);
    if (m === null) return h('li', { class: 'xl-ex-message' }, note);
    const [, file, line, col, text] = m as unknown as [string, string, string, string, string];
    return h('li', { class: 'xl-ex-message' }, locationLink(ex, { file, line: Number(line), col: Number(col) }), ` ${text}`);
  };

  const renderResults = (): void => {
    const ex = selected;
    results.replaceChildren();
    if (ex === undefined) return;
    if (busy === ex.path) {
      results.setAttribute('aria-busy', 'true');
      results.append(h('div', { class: 'xl-ex-busy', 'data-testid': 'exercise-busy' }, h('span', { class: 'xl-ex-spinner', 'aria-hidden': 'true' }), `Checking ${ctx.doc.name} against this exercise…`));
      return;
    }
    results.removeAttribute('aria-busy');
    const o = outcomes.get(ex.path);
    if (o === undefined) {
      const g = grades.get(ex.path);
      results.append(
        h(
          'p',
          { class: 'xl-ex-dim' },
          g === undefined ? 'Not checked yet. Write your solution in the editor, then Check my solution (Ctrl+Enter).' : `Last checked ${new Date(g.at).toLocaleString()}: ${g.percent}% (${g.earned} of ${g.total} points), ${g.result}.`,
        ),
      );
      return;
    }
    if (o.kind === 'error') {
      results.append(
        h(
          'div',
          {
            class: 'xl-ex-alert',
            role: 'alert',
            'data-testid': 'exercise-error',
          },
          icon('error'),
          h('div', {}, h('strong', {}, o.graded === undefined ? 'Not checked' : `${o.graded} could not be checked`), h('pre', { class: 'xl-ex-message' }, o.message)),
        ),
      );
      return;
    }
    const r = o.report;
    const checks = h(
      'ul',
      { class: 'xl-ex-outcomes', 'data-testid': 'exercise-outcomes' },
      ...r.checks.map((c) =>
        h(
          'li',
          { class: 'xl-ex-outcome', 'data-result': c.result, 'data-id': c.id },
          resultBadge(c.result),
          h('div', { class: 'xl-ex-outcome-body' }, h('div', { class: 'xl-ex-outcome-title' }, c.title), c.message === '' ? undefined : h('div', { class: 'xl-ex-message' }, c.message), locationLink(ex, c)),
          h(
            'span',
            {
              class: 'xl-ex-earned',
              title: `${c.earned} of ${c.points} points`,
            },
            `${c.earned}/${c.points}`,
          ),
        ),
      ),
    );
    const notes = r.notes ?? [];
    results.append(
      ...present(
        h(
          'div',
          { class: 'xl-ex-summary', 'data-testid': 'exercise-summary' },
          h(
            'span',
            {
              class: `xl-ex-percent xl-ex-${r.result.toLowerCase()}`,
              'data-testid': 'exercise-percent',
            },
            `${r.percent}%`,
          ),
          resultBadge(r.result),
          h('span', { class: 'xl-ex-dim' }, `${r.earned} of ${r.total} points · ${o.graded}${r.seed === undefined ? '' : ` · seed ${r.seed}`} · ${new Date(o.at).toLocaleTimeString()}`),
        ),
        checks,
        notes.length === 0 ? undefined : h('details', { class: 'xl-ex-notes', open: true }, h('summary', {}, `Not graded (${notes.length})`), h('ul', {}, ...notes.map((n) => noteItem(ex, n)))),
        h('details', { class: 'xl-ex-console' }, h('summary', {}, 'Console of the graded guest'), h('pre', { 'data-testid': 'exercise-console' }, r.console === '' ? '(empty)' : r.console)),
      ),
    );
  };

  // ---- actions

  const openExercise = async (ex: ExerciseInfo): Promise<boolean> => {
    try {
      const f = await ctx.host.request('exercises.open', { path: ex.path });
      const opened = await ctx.openText({
        path: ex.path,
        name: fileStem(ex.path),
        text: f.text,
      });
      if (opened) ctx.openView('editor');
      return opened;
    } catch (e) {
      ctx.notify(`The exercise could not be opened: ${asHostError(e).message}`, 'error');
      return false;
    }
  };

  const startSolution = async (ex: ExerciseInfo): Promise<void> => {
    // Never reuse the name of a buffer kept as a draft: its text would be overwritten.
    const taken = new Set<string>([ctx.doc.name]);
    try {
      for (const d of (await ctx.host.request('drafts.list', {})).drafts) taken.add(d.file.slice(d.file.lastIndexOf('/') + 1));
    } catch {
      // no drafts folder: nothing to avoid but the current buffer
    }
    const s = solutionSkeleton(ex, taken);
    if (await ctx.openText({ name: s.name, text: s.text })) {
      ctx.openView('editor');
      ctx.notify(`${s.name}: a new solution for "${ex.title}" — Check my solution (Ctrl+Enter) in the Exercise view grades it`);
    }
  };

  const check = async (ex: ExerciseInfo): Promise<void> => {
    if (busy !== undefined) return;
    const doc = ctx.doc;
    const graded = doc.name;
    const isExercise = doc.path !== undefined && doc.path === ex.path;
    if (!isExercise && doc.text.trim() === '') {
      outcomes.set(ex.path, {
        kind: 'error',
        message: 'The editor is empty. Start a solution (or open yours), then check it.',
      });
      renderResults();
      return;
    }
    if (!isExercise && !isSolutionText(doc.text, doc.lang) && (/^domains\s*:/m.test(doc.text) || /\bscenario\s*\(/.test(doc.text))) {
      outcomes.set(ex.path, {
        kind: 'error',
        graded,
        message: `The editor holds ${graded}, a scenario, not a solution. Start a solution for this exercise (or open yours), then check it.`,
      });
      renderResults();
      return;
    }
    busy = ex.path;
    renderDetail();
    const at = Date.now();
    try {
      const report = await ctx.host.request(
        'exercises.check',
        isExercise
          ? { path: ex.path }
          : {
              path: ex.path,
              solution: { file: doc.path ?? doc.name, text: doc.text },
            },
      );
      outcomes.set(ex.path, {
        kind: 'report',
        report,
        graded: isExercise ? 'no solution (the exercise as it is)' : graded,
        at,
      });
      grades.record(ex.path, report, at);
    } catch (e) {
      outcomes.set(ex.path, {
        kind: 'error',
        graded,
        message: asHostError(e).message,
      });
    } finally {
      busy = undefined;
    }
    renderList();
    if (selected?.path === ex.path) {
      renderDetail();
      // The grade is what the student looks for: bring it into view.
      results.scrollIntoView({ block: 'start' });
    }
  };

  const reveal = async (ex: ExerciseInfo, file: string, line: number, col: number): Promise<void> => {
    const doc = ctx.doc;
    if (sameFile(file, doc.path, doc.name)) {
      ctx.select({ kind: 'location', line, col });
      return;
    }
    if (sameFile(file, ex.path, fileStem(ex.path)) || file.endsWith(`/${ex.path.slice(ex.path.lastIndexOf('/') + 1)}`)) {
      if (await openExercise(ex)) ctx.select({ kind: 'location', line, col });
      return;
    }
    ctx.notify(`${file} is not open in the editor: open it to see line ${line}`, 'error');
  };

  root.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey) && selected !== undefined) {
      e.preventDefault();
      void check(selected);
    }
  });

  // ---- loading the pack

  const load = async (): Promise<void> => {
    detail.replaceChildren(h('div', { class: 'xl-empty' }, 'Loading the exercises…'));
    try {
      exercises = (await ctx.host.request('exercises.list', {})).exercises;
    } catch (e) {
      const retry = button('Try again', () => void load());
      detail.replaceChildren(h('div', { class: 'xl-empty xl-error-text', role: 'alert' }, `The exercises could not be listed: ${asHostError(e).message}`), h('div', { class: 'xl-ex-actions' }, retry));
      return;
    }
    if (exercises.length === 0) {
      detail.replaceChildren(h('div', { class: 'xl-empty' }, 'No exercises were found in the pack.'));
      return;
    }
    const last = localStorage.getItem(SELECTED_KEY);
    selected = exercises.find((x) => x.path === last);
    renderList();
    renderDetail();
  };
  // Listed when first shown: reading the pack is no part of the lab's start.
  let loaded = false;
  detail.replaceChildren(h('div', { class: 'xl-empty' }, 'Loading the exercises…'));

  return {
    shown() {
      if (loaded) return;
      loaded = true;
      void load();
    },
    dispose() {
      hintsShown = new Map();
    },
  };
}

export const exerciseView: View = {
  id: 'exercise',
  title: 'Exercise',
  area: 'side',
  order: 50,
  command: 'view.exercise',
  keys: COMMAND_KEYS['view.exercise'],
  mount,
};
