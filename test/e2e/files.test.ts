// Files, end to end in Chromium against the real web mode: open with the in-app picker, edit,
// save (atomically, on disk), save as, reopen; a file changed on disk is not overwritten
// silently; an unsaved buffer is guarded and recovered after a crash; a failed save keeps the
// buffer and says why; a dropped file opens; a recording is saved and replayed; a trace exported.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { editorText, findChromium, goToLineEnd, labUrl, openBrowser, openWithPicker, PLAN9_WAITS, poll, startLab, waitForConsole, type Browser, type Lab } from './harness.js';
import type { Page } from 'playwright-core';

const chromium = findChromium();

describe.skipIf(chromium === undefined)('the lab in a browser: files', { timeout: 120_000 }, () => {
  let lab: Lab;
  let b: Browser | undefined;
  const extra: Browser[] = [];
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
      for (const x of extra.splice(0)) await x.close();
    }
  });

  async function start(): Promise<Page> {
    rmSync(join(lab.dataDir, 'drafts'), { recursive: true, force: true });
    b = await openBrowser();
    await b.page.goto(labUrl(lab));
    await b.page.locator('html[data-ready="true"]').waitFor({ timeout: 30_000 });
    return b.page;
  }

  const title = (page: Page) => page.getByTestId('doc-title').textContent();

  /** Fills the save picker's name and confirms. */
  async function saveAsName(page: Page, name: string): Promise<void> {
    const picker = page.getByTestId('file-picker');
    await picker.waitFor();
    await picker.locator('input[aria-label="File name"]').fill(name);
    await picker.locator('input[aria-label="File name"]').press('Enter');
    await picker.waitFor({ state: 'detached' });
  }

  it('opens, saves on disk, saves as, and reopens a file', async () => {
    writeFileSync(join(lab.work, 'a.yaml'), PLAN9_WAITS);
    const page = await start();
    await page.keyboard.press('Control+O');
    await page.getByTestId('file-picker').locator('.xl-picker-row[data-name="a.yaml"]').click();
    await b!.shot('file-picker');
    await page.getByTestId('file-picker').locator('.xl-picker-row[data-name="a.yaml"]').dblclick();
    await poll(() => title(page)).toBe('a.yaml');
    await goToLineEnd(page, 1);
    await page.keyboard.type(' (edited)');
    await poll(() => title(page)).toBe('a.yaml ●');
    await page.keyboard.press('Control+S');
    await poll(() => title(page)).toBe('a.yaml');
    expect(readFileSync(join(lab.work, 'a.yaml'), 'utf8')).toBe(PLAN9_WAITS.replace('its root', 'its root (edited)'));
    expect(readdirSync(lab.work).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    await page.keyboard.press('Control+Shift+S');
    await saveAsName(page, 'b.yaml');
    await poll(() => title(page)).toBe('b.yaml');
    expect(readFileSync(join(lab.work, 'b.yaml'), 'utf8')).toContain('(edited)');
    await openWithPicker(page, 'a.yaml');
    await poll(() => editorText(page)).toContain('Plan 9 waits for its root (edited)'); // Monaco draws its lines a frame or more after the model changes
    // Recent files remember both.
    await page.locator('[data-menu="File"]').hover();
    await page.locator('[data-menu="File"]').click();
    await page.locator('.xl-menu-item', { hasText: 'b.yaml' }).waitFor();
    await b!.shot('file-menu');
    await page.keyboard.press('Escape');
  });

  it('does not overwrite a file changed on disk without asking, and guards unsaved changes', async () => {
    writeFileSync(join(lab.work, 'c.yaml'), PLAN9_WAITS);
    const page = await start();
    await openWithPicker(page, 'c.yaml');
    writeFileSync(join(lab.work, 'c.yaml'), `${PLAN9_WAITS}# changed elsewhere\n`);
    await goToLineEnd(page, 1);
    await page.keyboard.type(' (mine)');
    await page.keyboard.press('Control+S');
    const dialog = page.getByRole('dialog', { name: 'The file changed on disk' });
    await dialog.waitFor();
    expect(await dialog.textContent()).toMatch(/changed on disk since it was opened/);
    await b!.shot('save-conflict');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect(readFileSync(join(lab.work, 'c.yaml'), 'utf8')).toContain('# changed elsewhere');
    expect(await title(page)).toBe('c.yaml ●');
    // Opening another file over unsaved changes asks first.
    await page.keyboard.press('Control+O');
    const ask = page.getByRole('dialog', { name: 'Unsaved changes' });
    await ask.waitFor();
    await b!.shot('unsaved-guard');
    await ask.getByRole('button', { name: 'Cancel' }).click();
    expect(await title(page)).toBe('c.yaml ●');
    // A save that fails keeps the buffer and says why.
    mkdirSync(join(lab.work, 'adir'), { recursive: true });
    await page.keyboard.press('Control+Shift+S');
    await saveAsName(page, 'adir');
    const replace = page.getByRole('dialog', { name: 'Replace the file?' });
    if (await replace.isVisible().catch(() => false)) await replace.getByRole('button', { name: 'Replace' }).click();
    const failed = page.getByRole('dialog', { name: 'Not saved' });
    await failed.waitFor();
    expect(await failed.textContent()).toMatch(/cannot save .*adir: .*Your text is still here, unsaved/);
    await failed.getByRole('button', { name: 'OK' }).click();
    expect(await title(page)).toBe('c.yaml ●');
    await poll(() => editorText(page)).toContain('(mine)'); // Monaco draws its lines a frame or more after the model changes
  });

  it('recovers unsaved changes after a crash', async () => {
    writeFileSync(join(lab.work, 'd.yaml'), PLAN9_WAITS);
    const page = await start();
    await openWithPicker(page, 'd.yaml');
    await goToLineEnd(page, 1);
    await page.keyboard.type(' (not saved)');
    // The draft is kept a moment after typing stops.
    await poll(() => (existsSync(join(lab.dataDir, 'drafts')) ? readdirSync(join(lab.dataDir, 'drafts')).length : 0)).toBe(1);
    await b!.close(); // the window goes away without saving: a crash, as far as the buffer knows
    b = undefined;
    const again = await openBrowser();
    b = again;
    await again.page.goto(labUrl(lab));
    const offer = again.page.getByTestId('recover');
    await offer.waitFor({ timeout: 30_000 });
    expect(await offer.textContent()).toMatch(/unsaved changes to d\.yaml/);
    await again.shot('recover-drafts');
    await offer.getByRole('button', { name: 'Recover' }).click();
    await poll(() => title(again.page)).toBe('d.yaml ●');
    await poll(() => editorText(again.page)).toContain('(not saved)');
    expect(readFileSync(join(lab.work, 'd.yaml'), 'utf8')).toBe(PLAN9_WAITS);
  });

  it('opens a file dropped on the window', async () => {
    const page = await start();
    const dt = await page.evaluateHandle(`(() => { const dt = new DataTransfer(); dt.items.add(new File([${JSON.stringify(PLAN9_WAITS.replace('its root', 'a drop'))}], 'dropped.yaml', { type: 'text/yaml' })); return dt; })()`);
    await page.dispatchEvent('body', 'dragenter', { dataTransfer: dt });
    await page.dispatchEvent('body', 'drop', { dataTransfer: dt });
    await poll(() => title(page)).toBe('dropped.yaml ●');
    await poll(() => page.getByTestId('run-state').textContent()).toBe('Paused');
    await poll(() => editorText(page)).toContain('Plan 9 waits for a drop'); // Monaco draws its lines a frame or more after the model changes
  });

  it('saves a recording of the session, replays it, and exports the trace', async () => {
    writeFileSync(join(lab.work, 'e.yaml'), PLAN9_WAITS);
    const page = await start();
    await openWithPicker(page, 'e.yaml');
    await page.keyboard.press('F10');
    await waitForConsole(page, 1, 'root is from');
    await page.locator('.xl-terminal:not([hidden]) .xterm-screen').click();
    await page.keyboard.type('local');
    await page.keyboard.press('Enter');
    // The guest reads what was typed as the machine runs.
    await page.keyboard.press('F5');
    await waitForConsole(page, 1, 'init: starting /bin/rc');
    await page.keyboard.press('F6');
    await page.locator('[data-menu="File"]').click();
    await page.locator('.xl-menu-item', { hasText: 'Save recording…' }).click();
    await saveAsName(page, 'e.recording.json');
    await poll(() => existsSync(join(lab.work, 'e.recording.json'))).toBe(true);
    const rec = JSON.parse(readFileSync(join(lab.work, 'e.recording.json'), 'utf8')) as { format: string; inputs: { kind: string; text?: string }[] };
    expect(rec.format).toBe('xenlab-recording');
    expect(rec.inputs.filter((i) => i.kind === 'type').map((i) => i.text).join('')).toBe('local\r');
    await page.keyboard.press('Control+Shift+E');
    await saveAsName(page, 'e.trace.jsonl');
    await poll(() => existsSync(join(lab.work, 'e.trace.jsonl'))).toBe(true);
    expect(readFileSync(join(lab.work, 'e.trace.jsonl'), 'utf8').split('\n')[0]).toMatch(/^\{"seq":0,/);
    await page.locator('[data-menu="File"]').click();
    await page.locator('.xl-menu-item', { hasText: 'Open recording…' }).click();
    await page.getByTestId('file-picker').locator('.xl-picker-row[data-name="e.recording.json"]').dblclick();
    await page.locator('.xl-notice', { hasText: 'Replaying the recording e.recording.json' }).waitFor();
    await poll(() => page.locator('.xl-meta').textContent()).toMatch(/^replay · /);
    await waitForConsole(page, 1, 'root is from (local, tcp)[local]: local');
  });
});
