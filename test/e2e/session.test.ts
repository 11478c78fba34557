// The session, end to end in Chromium against the real web mode: a broken scenario shows its
// marker and the problems panel (and leaves the running session alone); stepping forward and
// back moves the position and the console, and back again to the same; a lost connection says
// so and comes back to the same session; the page stays responsive while a scenario streams.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { consoleText, editorText, findChromium, goToLineEnd, poll, labUrl, openBrowser, openWithPicker, PLAN9_WAITS, position, setEditorText, startLab, terminalInk, waitForConsole, type Browser, type Lab } from './harness.js';

const chromium = findChromium();
const PLAN9 = readFileSync(join(import.meta.dirname, '../../scenarios/plan9-boot.yaml'), 'utf8');

describe.skipIf(chromium === undefined)('the lab in a browser: the session', { timeout: 90_000 }, () => {
  let lab: Lab;
  let b: Browser | undefined;
  beforeAll(async () => {
    lab = await startLab();
    writeFileSync(join(lab.work, 'waits.yaml'), PLAN9_WAITS);
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

  async function start(extra = ''): Promise<Browser> {
    // Each test starts clean: no drafts left by the one before (they would be offered back).
    rmSync(join(lab.dataDir, 'drafts'), { recursive: true, force: true });
    b = await openBrowser();
    await b.page.goto(labUrl(lab, extra));
    await b.page.locator('html[data-ready="true"]').waitFor({ timeout: 30_000 });
    return b;
  }

  it('shows a broken scenario as a marker and in the problems panel, and leaves the running session alone', async () => {
    const { page } = await start();
    await waitForConsole(page, 1, 'term% ');
    const line = PLAN9.split('\n').findIndex((l) => l.includes('op: status')) + 1;
    await goToLineEnd(page, line);
    await page.keyboard.press('Backspace');
    await page.keyboard.type('z');
    await poll(() => editorText(page)).toContain('op: statuz');
    // The host's checker, as you type: a marker at the place, and the panel.
    const problem = page.getByTestId('problems').locator('.xl-problem').first();
    await poll(() => problem.textContent(), 15_000).toMatch(new RegExp(`statuz.*plan9-boot\\.yaml:${line}:\\d+`));
    expect(await problem.textContent()).toMatch(/did you mean "status"\?/);
    await page.locator('.monaco-editor .squiggly-error').first().waitFor({ timeout: 15_000 });
    expect(await page.locator('.xl-tab[data-view="problems"] .xl-badge').textContent()).not.toBe('');
    // Run refuses to start the broken text; the session that runs goes on.
    const before = await position(page);
    await page.keyboard.press('F5');
    await page.locator('.xl-notice-error', { hasText: 'the session was left as it was' }).waitFor();
    await poll(() => position(page)).toBeGreaterThan(before);
    expect(await page.getByTestId('run-state').textContent()).toBe('Running');
    await b!.shot('problems');
    // Clicking the problem goes to its line in the editor.
    await problem.click();
    await poll(() => page.locator('.monaco-editor .current-line').count()).toBeGreaterThan(0);
    // Fixing it clears the panel.
    await goToLineEnd(page, line);
    await page.keyboard.press('Backspace');
    await page.keyboard.type('s');
    await poll(() => page.getByTestId('problems').locator('.xl-problem').count(), 15_000).toBe(0);
    await poll(() => page.locator('.monaco-editor .squiggly-error').count()).toBe(0);
    // The editor's own schema check (monaco-yaml) flags an unknown key too.
    await goToLineEnd(page, PLAN9.split('\n').findIndex((l) => l.startsWith('xen:')) + 1);
    await page.keyboard.press('Enter');
    await page.keyboard.type('bogus_key: 1');
    await page.locator('.monaco-editor .squiggly-warning, .monaco-editor .squiggly-error').first().waitFor({ timeout: 15_000 });
    // Completion from the schema: a top-level key the file does not have yet (on an empty first line).
    await setEditorText(page, `\n${PLAN9}`);
    await poll(() => page.locator('.monaco-editor .squiggly-warning, .monaco-editor .squiggly-error').count(), 15_000).toBe(0);
    await page.keyboard.press('Control+Home');
    // (The YAML worker may still be busy with the edits before: ask again until it answers.)
    const suggest = page.locator('.monaco-editor .suggest-widget.visible');
    await poll(async () => {
      await page.keyboard.press('Escape');
      await page.keyboard.press('Control+Space');
      await suggest.waitFor({ timeout: 5_000 }).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 500));
      return (await suggest.textContent().catch(() => '')) ?? '';
    }, 30_000).toContain('seed');
    await page.keyboard.press('Escape');
    // Hover docs from the schema: what a key means.
    await page.locator('.monaco-editor .view-line span', { hasText: /^domains$/ }).first().hover();
    await poll(() => page.locator('.monaco-hover').allTextContents().then((t) => t.join(' ')), 15_000).toContain('the first is dom0');
  });

  it("edits a TypeScript scenario with the scenario API's typings: completion, type errors, and it runs", async () => {
    writeFileSync(join(lab.work, 'ping-pong.ts'), readFileSync(join(import.meta.dirname, '../../scenarios/ts/ping-pong.ts'), 'utf8'));
    const { page } = await start();
    await openWithPicker(page, 'ping-pong.ts');
    await page.keyboard.press('F5');
    await page.locator('.xl-subtab[data-domid="2"]').click();
    // A custom kernel's println ends lines with "\n": each line starts at the left.
    expect(await waitForConsole(page, 2, 'pong 5')).toMatch(/^pong 1\npong 2\n/m);
    const line = readFileSync(join(lab.work, 'ping-pong.ts'), 'utf8').split('\n').findIndex((l) => l.includes('k.send(port);')) + 1;
    await goToLineEnd(page, line);
    await page.keyboard.press('Enter');
    await page.keyboard.type('k.sendd(port);');
    await page.locator('.monaco-editor .squiggly-error').first().waitFor({ timeout: 30_000 });
    await page.keyboard.press('Enter');
    await page.keyboard.type('k.');
    const suggest = page.locator('.monaco-editor .suggest-widget.visible');
    await suggest.waitFor({ timeout: 30_000 });
    await poll(() => suggest.textContent(), 15_000).toContain('println');
    await b!.shot('typescript');
    await page.keyboard.press('Escape');
  });

  it('steps forward and back: the position, the clock and the console change, and come back', async () => {
    const { page } = await start();
    await openWithPicker(page, 'waits.yaml');
    expect(await position(page)).toBe(0);
    expect(await consoleText(page, 1)).toBe('');
    await page.keyboard.press('F10');
    await poll(() => position(page)).toBe(1);
    const booted = await waitForConsole(page, 1, 'root is from (local, tcp)[local]: ');
    await poll(() => terminalInk(page), 10_000).toBeGreaterThan(0.01);
    const clock1 = await page.getByTestId('clock').textContent();
    for (let i = 0; i < 3; i++) await page.keyboard.press('F10');
    await poll(() => position(page)).toBe(4);
    expect(await page.getByTestId('clock').textContent()).not.toBe(clock1);
    await b!.shot('stepping');
    for (let i = 0; i < 3; i++) await page.keyboard.press('Shift+F10');
    await poll(() => position(page)).toBe(1);
    expect(await page.getByTestId('clock').textContent()).toBe(clock1);
    await poll(() => consoleText(page, 1)).toBe(booted);
    await page.keyboard.press('Shift+F10');
    await poll(() => position(page)).toBe(0);
    await poll(() => consoleText(page, 1)).toBe('');
    await b!.shot('stepped-back-to-0', '.xl-area-side');
    await poll(() => terminalInk(page)).toBeLessThan(0.005);
    // The toolbar does the same, and says its shortcut.
    expect(await page.locator('[data-command="session.step"]').getAttribute('title')).toBe('Step (F10)');
    await page.locator('[data-command="session.step"]').click();
    await poll(() => position(page)).toBe(1);
    expect(await waitForConsole(page, 1, 'root is from')).toBe(booted);
  });

  it('says when the connection is lost, reconnects, and comes back to the same session', async () => {
    const { page } = await start();
    await waitForConsole(page, 1, 'term% ');
    await page.keyboard.press('F6');
    await poll(() => page.getByTestId('run-state').textContent()).toBe('Paused');
    const at = await position(page);
    lab.server.suspend(2500);
    const banner = page.getByTestId('banner');
    await banner.waitFor({ timeout: 5000 });
    expect(await banner.textContent()).toMatch(/connection to the lab is lost.*Reconnecting/);
    expect(await page.getByTestId('connection').textContent()).toBe('reconnecting…');
    await b!.shot('connection-lost');
    await banner.waitFor({ state: 'detached', timeout: 15_000 });
    expect(await page.getByTestId('connection').textContent()).toBe('connected');
    // The same session: the same position, the consoles caught up; it runs on when asked.
    expect(await position(page)).toBe(at);
    expect(await waitForConsole(page, 1, 'Plan 9 from Bell Labs')).toContain('term% ');
    await page.keyboard.press('F5');
    await poll(() => position(page)).toBeGreaterThan(at);
    // A failed connection attempt logs a console error in Chromium ("WebSocket connection ... failed"): expected here.
    b!.errors.splice(0, b!.errors.length, ...b!.errors.filter((e) => !/WebSocket connection to .* failed/.test(e)));
  });

  it('stays responsive while a scenario streams as fast as it can', async () => {
    const { page } = await start('&perf=1');
    await waitForConsole(page, 1, 'term% ');
    await page.getByTestId('speed').selectOption({ label: 'As fast as possible' });
    await page.evaluate('window.__xenlabPerf.reset()');
    await page.waitForTimeout(3000);
    const perf = await page.evaluate<{ frames: number; maxFrameGapMs: number; slowFrames: number; longTasks: number }>('({ ...window.__xenlabPerf })');
    const status = await page.locator('.xl-statusbar').textContent();
    // Pause, timed inside the page: from the click to the status bar saying so.
    const pauseMs = await page.evaluate<number>(`new Promise((resolve) => {
      const t0 = performance.now();
      const el = document.querySelector('[data-testid=run-state]');
      const mo = new MutationObserver(() => { if (el.textContent === 'Paused') { mo.disconnect(); resolve(performance.now() - t0); } });
      mo.observe(el, { childList: true, characterData: true, subtree: true });
      document.querySelector('[data-command="session.pause"]').click();
    })`);
    expect(await page.getByTestId('run-state').textContent()).toBe('Paused');
    console.log(`streaming as fast as possible for 3 s: ${perf.frames} frames, longest gap ${Math.round(perf.maxFrameGapMs)} ms, ${perf.slowFrames} frames over 50 ms, ${perf.longTasks} long tasks; Pause answered in ${Math.round(pauseMs)} ms; status: ${status}`);
    expect(perf.frames).toBeGreaterThan(10);
    await b!.shot('streaming');
  });
});
