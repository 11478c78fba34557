// The Exercise view, end to end in Chromium against the real web mode: Ctrl+7 brings it up with
// the shipped pack by level; exercise 02 is chosen with the keyboard, a hint revealed, a solution
// started in the editor; the reference solution grades 100% with every check a SUCCESS, the wrong
// one below 100% with a FAILURE, whose location link opens the exercise at its line; the grade is
// remembered in the list. Screenshots of the view in both themes.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { editorText, findChromium, labUrl, openBrowser, poll, setEditorText, startLab, type Browser, type Lab } from './harness.js';

const chromium = findChromium();
const SOLUTIONS = join(import.meta.dirname, '../exercises/02-interdomain-channel');
const REFERENCE = readFileSync(join(SOLUTIONS, 'solution.yaml'), 'utf8');
const WRONG = readFileSync(join(SOLUTIONS, 'wrong.yaml'), 'utf8');

const option = (page: Page, stem: string) => page.locator(`[data-testid="exercise-list"] [role="option"][data-path$="/${stem}.yaml"]`);

/** Ctrl+7, as the View menu says. */
async function openExerciseView(page: Page): Promise<void> {
  await page.keyboard.press('Control+7');
  await page.getByTestId('exercise').waitFor();
  expect(await page.locator('.xl-tab[data-view="exercise"]').getAttribute('aria-selected')).toBe('true');
}

/** Chooses exercise 02 with the arrow keys (01 is the first of the list). */
async function chooseInterdomain(page: Page): Promise<void> {
  const list = page.getByTestId('exercise-list');
  await poll(() => list.locator('[role="option"]').count()).toBe(12);
  await list.focus();
  await page.keyboard.press('Home');
  await page.keyboard.press('ArrowDown');
  await poll(() => option(page, '02-interdomain-channel').getAttribute('aria-selected')).toBe('true');
  await poll(() => page.getByTestId('exercise-title').textContent()).toBe('Open an inter-domain channel');
}

/** Starts a solution, then puts `text` in its buffer. */
async function startSolution(page: Page, text: string): Promise<void> {
  await page.getByTestId('exercise-start').click();
  await poll(() => page.getByTestId('doc-title').textContent()).toBe('02-interdomain-channel.solution.yaml ●');
  await poll(() => editorText(page)).toContain('steps: []');
  await setEditorText(page, text);
  await poll(() => editorText(page)).toContain('bind_interdomain');
}

async function checkedPercent(page: Page): Promise<number> {
  const pct = page.getByTestId('exercise-percent');
  await pct.waitFor({ timeout: 30_000 });
  return Number(((await pct.textContent()) ?? '').replace('%', ''));
}

const results = (page: Page) => page.locator('[data-testid="exercise-outcomes"] .xl-ex-outcome').evaluateAll((els) => els.map((e) => (e as unknown as { dataset: Record<string, string> }).dataset.result));

describe.skipIf(chromium === undefined)('the lab in a browser: the Exercise view', { timeout: 180_000 }, () => {
  let lab: Lab;
  let b: Browser | undefined;
  beforeAll(async () => {
    lab = await startLab();
  });
  afterAll(async () => lab?.close());
  afterEach(async () => {
    try {
      await b?.clean();
    } finally {
      await b?.close();
      b = undefined;
    }
  });

  async function start(colorScheme: 'dark' | 'light'): Promise<Browser> {
    rmSync(join(lab.dataDir, 'drafts'), { recursive: true, force: true });
    b = await openBrowser({ colorScheme, viewport: { width: 1440, height: 900 } });
    await b.page.goto(labUrl(lab));
    await b.page.locator('html[data-ready="true"]').waitFor({ timeout: 30_000 });
    return b;
  }

  it('grades the reference solution 100%, the wrong one with a FAILURE whose link opens the exercise at its line (dark)', async () => {
    const br = await start('dark');
    const { page } = br;
    await openExerciseView(page);
    // Nothing chosen yet: the view says what to do; the pack is grouped by level, 1 first.
    await poll(() => page.getByTestId('exercise-detail').textContent()).toContain('Choose an exercise');
    const groups = await page.locator('[data-testid="exercise-list"] [role="group"]').evaluateAll((els) => els.map((e) => (e as unknown as { ariaLabel: string | null }).ariaLabel));
    expect(groups[0]).toBe('Level 1 · first steps');
    expect(groups.length).toBeGreaterThanOrEqual(4);

    await chooseInterdomain(page);
    const detail = page.getByTestId('exercise-detail');
    expect(await detail.locator('.xl-ex-goal code', { hasText: 'EVTCHNOP_alloc_unbound' }).count()).toBe(1);
    expect(await detail.locator('.xl-ex-checklist li').count()).toBe(5);

    // Hints, one at a time.
    expect(await page.getByTestId('exercise-hints').locator('li').count()).toBe(0);
    await page.getByRole('button', { name: 'Show a hint (1 of 3)' }).click();
    await poll(() => page.getByTestId('exercise-hints').locator('li').count()).toBe(1);
    expect(await page.getByTestId('exercise-hints').textContent()).toContain('alloc_unbound takes two domains');
    expect(await page.getByTestId('exercise-hint').textContent()).toBe('Show a hint (2 of 3)');

    // The reference solution, in a new buffer: 100%, every check a SUCCESS.
    await startSolution(page, REFERENCE);
    // The buffer is checked against the solution schema (steps only), not the scenario's: an
    // unknown key is flagged, and without it nothing is (no "domains" missing; the file's own
    // $schema modeline finds the schema the editor holds).
    await page.keyboard.press('Control+End');
    await page.keyboard.type('bogus_key: 1');
    await page.locator('.monaco-editor .squiggly-warning, .monaco-editor .squiggly-error').first().waitFor({ timeout: 15_000 });
    await setEditorText(page, REFERENCE);
    await poll(() => page.locator('.monaco-editor .squiggly-warning, .monaco-editor .squiggly-error').count(), 15_000).toBe(0);
    await openExerciseView(page);
    await page.getByTestId('exercise-check').click();
    expect(await checkedPercent(page)).toBe(100);
    expect(await results(page)).toEqual(['SUCCESS', 'SUCCESS', 'SUCCESS', 'SUCCESS', 'SUCCESS']);
    expect(await page.getByTestId('exercise-summary').textContent()).toContain('8 of 8 points');
    expect(await page.getByTestId('exercise-console').textContent()).toContain('Test result: SUCCESS');
    // The list remembers the grade.
    await poll(() => option(page, '02-interdomain-channel').locator('.xl-ex-grade').textContent()).toBe('100%');
    await br.shot('exercise-success-dark', '.xl-area-side');

    // The wrong solution (remote_dom: DOMID_SELF), checked with Ctrl+Enter in the view.
    await page.keyboard.press('Control+1');
    await setEditorText(page, WRONG);
    await poll(() => editorText(page)).toContain('remote_dom: DOMID_SELF');
    await openExerciseView(page);
    await page.getByTestId('exercise-title').click();
    await page.keyboard.press('Control+Enter');
    await poll(async () => (await page.getByTestId('exercise-percent').textContent()) !== '100%', 30_000).toBe(true);
    expect(await checkedPercent(page)).toBeLessThan(100);
    const wrong = await results(page);
    expect(wrong[0]).toBe('FAILURE');
    expect(wrong).toContain('FAILURE');
    expect(await page.locator('[data-testid="exercise-summary"] .xl-ex-badge').textContent()).toBe('FAILURE');
    expect(await page.locator('.xl-ex-notes li').count()).toBeGreaterThan(0);
    await poll(() => option(page, '02-interdomain-channel').locator('.xl-ex-grade').textContent()).toBe('0%');
    await br.shot('exercise-failure-dark', '.xl-area-side');

    // A note about the solution's own line links to it in the editor, which holds the solution.
    const mine = page.locator('.xl-ex-notes [data-testid="exercise-location"]', { hasText: '02-interdomain-channel.solution.yaml:' }).first();
    const mineLine = Number(/:(\d+):/.exec((await mine.textContent()) ?? '')![1]);
    await mine.click();
    await poll(() => page.locator('.monaco-editor .active-line-number').first().textContent()).toBe(String(mineLine));
    expect(await page.getByTestId('doc-title').textContent()).toBe('02-interdomain-channel.solution.yaml ●');
    await openExerciseView(page);

    // The failed check is about a line of the exercise: its link opens it there (after asking about the unsaved solution).
    const link = page.locator('.xl-ex-outcome[data-result="FAILURE"] [data-testid="exercise-location"]').first();
    expect(await link.textContent()).toMatch(/^02-interdomain-channel\.yaml:\d+:\d+$/);
    const line = Number(/:(\d+):/.exec((await link.textContent()) ?? '')![1]);
    await link.click();
    await page.getByRole('dialog', { name: 'Unsaved changes' }).getByRole('button', { name: "Don't save" }).click();
    await poll(() => page.getByTestId('doc-title').textContent()).toBe('02-interdomain-channel.yaml');
    await poll(() => page.locator('.monaco-editor .active-line-number').first().textContent()).toBe(String(line));
  });

  it('shows the grade of the reference solution in the light theme, and an error for a solution that does not load', async () => {
    const br = await start('light');
    const { page } = br;
    await openExerciseView(page);
    await chooseInterdomain(page);
    await page.getByRole('button', { name: 'Show a hint (1 of 3)' }).click();
    await startSolution(page, REFERENCE);
    await openExerciseView(page);
    await page.getByTestId('exercise-check').click();
    expect(await checkedPercent(page)).toBe(100);
    await br.shot('exercise-success-light', '.xl-area-side');

    // A solution that is not YAML at all: the view says why, at its line, and keeps the buffer.
    await page.keyboard.press('Control+1');
    await setEditorText(page, 'steps:\n  - as: alice\n    op: [unclosed\n');
    await openExerciseView(page);
    await page.getByTestId('exercise-check').click();
    await poll(async () => (await page.getByTestId('exercise-error').count()) + (await page.locator('[data-testid="exercise-summary"] .xl-ex-badge', { hasText: 'ERROR' }).count()), 30_000).toBeGreaterThan(0);
    const text = (await page.getByTestId('exercise-results').textContent()) ?? '';
    expect(text).toMatch(/02-interdomain-channel\.solution\.yaml:\d+:\d+/);
    await br.shot('exercise-error-light', '.xl-area-side');
    expect(await editorText(page)).toContain('op: [unclosed');
  });
});
