// The first start, end to end in Chromium against the real web mode: the app opens on Plan 9
// booting on Xen 2.0 and runs it; the guest's console shows the boot (in xterm's buffer, and
// drawn: pixels that are not background); the cold start is measured; typing the root answer
// at a Plan 9 waiting at its prompt lets the boot go on; the light theme follows the system.
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { consoleText, editorText, findChromium, poll, labUrl, openBrowser, openWithPicker, startLab, terminalInk, waitForConsole, type Browser, type Lab } from './harness.js';
import { inkShare, readPng } from './png.js';

const chromium = findChromium();

describe.skipIf(chromium === undefined)('the lab in a browser: first start', { timeout: 90_000 }, () => {
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

  it('opens on Plan 9 booting, shows its console in the guest terminal, drawn, within a cold start', async () => {
    b = await openBrowser();
    const { page } = b;
    const t0 = Date.now();
    await page.goto(labUrl(lab));
    await page.locator('html[data-ready="true"]').waitFor({ timeout: 30_000 });
    const ready = await page.evaluate<number>("performance.getEntriesByName('xenlab:ready')[0].startTime");
    const marks = await page.evaluate<string>(
      "[...performance.getEntriesByType('mark').map((m) => m.name.replace('xenlab:', '') + ' ' + Math.round(m.startTime)), 'DOMContentLoaded ' + Math.round(performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd)].join(', ')",
    );
    console.log(`cold start: navigation to an interactive editor with the default scenario running: ${Math.round(ready)} ms (${Date.now() - t0} ms seen from the test; ms since navigation: ${marks}; load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores)`);
    await poll(() => page.getByTestId('run-state').textContent()).toBe('Running');
    const text = await waitForConsole(page, 1, 'term% ');
    expect(text).toContain('Plan 9 from Bell Labs on Xen 2.0');
    expect(text).toContain('root is from (local, tcp)[local]: local');
    await poll(() => terminalInk(page), 10_000).toBeGreaterThan(0.01);
    // The editor holds the scenario and takes input.
    await poll(() => editorText(page)).toContain('Plan 9 boots on Xen 2.0');
    await b.shot('main-dark');
    await b.shot('console-plan9', '.xl-area-side');
    // dom0's shell in its own tab; the guest's terminal keeps its content across the switch.
    const visibleRenderer = await page.evaluate<string>('window.__xenlabDebug.renderer(1)');
    expect(['webgl', 'dom']).toContain(visibleRenderer);
    await page.locator('.xl-subtab[data-domid="0"]').click();
    // Only visible terminals hold a WebGL context (Chromium allows ~16 a page): the hidden one is back on the DOM renderer.
    expect(await page.evaluate<string>('window.__xenlabDebug.renderer(1)')).toBe('dom');
    expect(await page.evaluate<string>('window.__xenlabDebug.renderer(0)')).toBe(visibleRenderer);
    console.log(`the visible terminal draws with ${visibleRenderer}`);
    await waitForConsole(page, 0, /\S/);
    await poll(() => terminalInk(page), 10_000).toBeGreaterThan(0.002);
    // dom0's console hosts its shell: keys go to it.
    await page.locator('.xl-terminal:not([hidden]) .xterm-screen').click();
    await page.keyboard.type('xl list');
    await page.keyboard.press('Enter');
    await waitForConsole(page, 0, /plan9\s+1\s/);
    await b.shot('console-dom0-shell', '.xl-area-side');
    await page.locator('.xl-subtab[data-domid="1"]').click();
    expect(await waitForConsole(page, 1, 'Plan 9 from Bell Labs')).toContain('term% ');
  });

  it('lets the boot go on when the root answer is typed at the guest console', async () => {
    writeFileSync(join(lab.work, 'waits.yaml'), 'name: Plan 9 waits for its root\nxen: "2.0"\ndomains:\n  - name: dom0\n  - name: plan9\n    kernel: plan9\nsteps:\n  - run: 5ms\n');
    b = await openBrowser();
    const { page } = b;
    await page.goto(labUrl(lab));
    await page.locator('html[data-ready="true"]').waitFor({ timeout: 30_000 });
    await page.keyboard.press('Control+O');
    const picker = page.getByTestId('file-picker');
    await picker.waitFor();
    await picker.locator('.xl-picker-row[data-name="waits.yaml"]').dblclick();
    await poll(() => page.getByTestId('doc-title').textContent()).toBe('waits.yaml');
    await page.keyboard.press('F5');
    // The new session's console replaces the default scenario's (which went on past its prompt)
    // when the session has opened: wait for the prompt with nothing after it.
    await waitForConsole(page, 1, /root is from \(local, tcp\)\[local\]:\s*$/);
    await page.locator('.xl-terminal:not([hidden]) .xterm-screen').click();
    await page.keyboard.type('local');
    await page.keyboard.press('Enter');
    const after = await waitForConsole(page, 1, 'init: starting /bin/rc');
    expect(after).toContain('root is from (local, tcp)[local]: local');
    await waitForConsole(page, 1, 'term% ');
    await b.shot('console-after-root-answer', '.xl-area-side');
  });

  it('shows every console at once in a grid, each drawn, keys going to the one clicked, and remembers the choice', async () => {
    const guests = [1, 2, 3].map((i) => `  - name: mini${i}\n    kernel: minios\n`).join('');
    writeFileSync(join(lab.work, 'three-minios.yaml'), `name: three Mini-OS guests\ndomains:\n  - name: dom0\n${guests}steps:\n  - run: 5ms\n`);
    b = await openBrowser({ viewport: { width: 1440, height: 900 } });
    const { page } = b;
    await page.goto(labUrl(lab));
    await page.locator('html[data-ready="true"]').waitFor({ timeout: 30_000 });
    await openWithPicker(page, 'three-minios.yaml');
    await page.keyboard.press('F5');
    for (const domid of [1, 2, 3]) await waitForConsole(page, domid, 'minios> ');
    await page.getByTestId('consoles-grid').click();
    expect(await page.getByTestId('consoles-grid').getAttribute('aria-pressed')).toBe('true');
    // dom0's shell and the three guests, side by side in two columns, each fitted to its cell.
    const shown = page.locator('.xl-terminals.xl-grid > .xl-terminal:not([hidden])');
    await poll(() => shown.count()).toBe(4);
    const boxes = await shown.evaluateAll((els) => els.map((e) => {
      const r = (e as unknown as { getBoundingClientRect(): { x: number; y: number; width: number; height: number } }).getBoundingClientRect();
      return { x: Math.round(r.x), y: Math.round(r.y), w: Math.round(r.width), h: Math.round(r.height) };
    }));
    expect(new Set(boxes.map((r) => r.x)).size).toBe(2);
    expect(new Set(boxes.map((r) => r.y)).size).toBe(2);
    for (const r of boxes) expect(r.w).toBeGreaterThan(200);
    // Every terminal fits its cell: its rows end above the cell's bottom (one fitted before the
    // other cells came in would overflow it).
    const fits = await shown.evaluateAll((els) => els.map((e) => {
      const cell = (e as unknown as { getBoundingClientRect(): { bottom: number } }).getBoundingClientRect();
      const screen = (e as unknown as { querySelector(s: string): { getBoundingClientRect(): { bottom: number } } }).querySelector('.xterm-screen').getBoundingClientRect();
      return screen.bottom <= cell.bottom + 0.5;
    }));
    expect(fits).toEqual([true, true, true, true]);
    // Each cell is drawn (not a blank xterm): ink in every terminal's screen.
    for (const domid of [0, 1, 2, 3]) {
      const png = readPng(await page.locator(`.xl-terminal[data-domid="${domid}"] .xterm-screen`).screenshot());
      expect(inkShare(png), `domain ${domid}'s cell`).toBeGreaterThan(0.002);
    }
    // Clicking a cell brings it to the front; keys typed there go to that guest only.
    await page.locator('.xl-terminal[data-domid="2"] .xterm-screen').click();
    await poll(() => page.locator('.xl-terminal.xl-current').getAttribute('data-domid')).toBe('2');
    await page.keyboard.type('help');
    await page.keyboard.press('Enter');
    await waitForConsole(page, 2, 'xenstore-read PATH');
    expect(await consoleText(page, 3)).not.toContain('xenstore-read PATH');
    await b.shot('consoles-grid-dark', '.xl-area-side');
    // The choice is kept: a reload opens in the grid again.
    await page.reload();
    await page.locator('html[data-ready="true"]').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('consoles-grid').getAttribute('aria-pressed')).toBe('true');
    await page.getByTestId('consoles-grid').click();
    await poll(() => page.locator('.xl-terminals > .xl-terminal:not([hidden])').count()).toBe(1);
  });

  it('follows the system theme: light', async () => {
    b = await openBrowser({ colorScheme: 'light' });
    const { page } = b;
    await page.goto(labUrl(lab));
    await page.locator('html[data-ready="true"]').waitFor({ timeout: 30_000 });
    expect(await page.locator('html').getAttribute('data-theme')).toBe('light');
    await waitForConsole(page, 1, 'term% ');
    await poll(() => terminalInk(page), 10_000).toBeGreaterThan(0.01);
    await b.shot('main-light');
  });
});
