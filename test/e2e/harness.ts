/**
 * The e2e harness: the real web mode (src/web, a lab host per page, the
 * session worker) on 127.0.0.1, and Debian's Chromium driven by
 * playwright-core, headless, with a fresh profile each time. Every page
 * records console errors, page errors and CSP violations; `clean()` fails
 * the test if there were any. Screenshots go to out/e2e-screenshots/.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { createLabHost } from '../../src/host/lab_host.js';
import { startWebServer, type WebServer } from '../../src/web/server.js';
import { findChromium } from './chromium.js';
import { inkShare, readPng } from './png.js';

const ROOT = join(import.meta.dirname, '../..');
export const RENDERER = join(ROOT, 'out/renderer');
export const SCREENSHOTS = join(ROOT, 'out/e2e-screenshots');

export { findChromium } from './chromium.js';

/** The flags every run uses (standards.md). */
export const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface Lab {
  server: WebServer;
  /** A folder the page may use (the lab's only root). */
  work: string;
  dataDir: string;
  close(): Promise<void>;
}

export async function startLab(): Promise<Lab> {
  if (!existsSync(join(RENDERER, 'index.html'))) throw new Error(`${RENDERER} has no built UI: run "npm run build:web" (npm test does)`);
  const base = mkdtempSync(join(tmpdir(), 'xenlab-e2e-'));
  const work = join(base, 'work');
  const dataDir = join(base, 'data');
  mkdirSync(work);
  const server = await startWebServer({
    rendererDir: RENDERER,
    createHost: () => createLabHost({ mode: 'web', version: 'e2e', roots: [{ name: 'work', path: work }], dataDir }),
  });
  return {
    server,
    work,
    dataDir,
    async close() {
      await server.close();
      rmSync(base, { recursive: true, force: true });
    },
  };
}

export interface Browser {
  page: Page;
  context: BrowserContext;
  /** Console errors, page errors and CSP violations seen so far. */
  errors: string[];
  /** Fails the test if the page logged an error or broke its CSP. */
  clean(): Promise<void>;
  shot(name: string, target?: string): Promise<Buffer>;
  close(): Promise<void>;
}

export async function openBrowser(opts: { colorScheme?: 'dark' | 'light'; viewport?: { width: number; height: number } } = {}): Promise<Browser> {
  const exe = findChromium();
  if (exe === undefined) throw new Error('no Chromium found');
  const profile = mkdtempSync(join(tmpdir(), 'xenlab-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: exe,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: opts.viewport ?? { width: 1280, height: 800 },
    colorScheme: opts.colorScheme ?? 'dark',
    acceptDownloads: false,
  });
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  if (process.env.XENLAB_E2E_DEBUG) {
    page.on('websocket', (ws) => {
      ws.on('framesent', (f) => console.log('→', String(f.payload).slice(0, 160)));
      ws.on('framereceived', (f) => {
        const t = String(f.payload);
        if (!t.startsWith('{"event"')) console.log('←', t.slice(0, 160));
      });
    });
    page.on('console', (m) => console.log(`page ${m.type()}: ${m.text()}`));
  }
  // (Browser-side code as text: the tests' tsconfig has no DOM.)
  await page.addInitScript({
    content: `window.__csp = []; document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));`,
  });
  mkdirSync(SCREENSHOTS, { recursive: true });
  return {
    page,
    context,
    errors,
    async clean() {
      const csp = await page.evaluate<string[]>('window.__csp ?? []').catch(() => [] as string[]);
      expect([...errors, ...csp.map((v) => `CSP violation: ${v}`)]).toEqual([]);
    },
    async shot(name, target) {
      const path = join(SCREENSHOTS, `${name}.png`);
      return target === undefined ? page.screenshot({ path }) : page.locator(target).screenshot({ path });
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** The page of a lab: its address with debug hooks on (read-only views of the terminals). */
export function labUrl(lab: Lab, extra = ''): string {
  return `${lab.server.url}&debug=1${extra}`;
}

/** What a domain's terminal holds (xterm's buffer). */
export function consoleText(page: Page, domid: number): Promise<string> {
  return page.evaluate<string>(`window.__xenlabDebug?.consoleText(${domid}) ?? ''`);
}

/** Waits until a domain's terminal holds `text`. */
export async function waitForConsole(page: Page, domid: number, text: string | RegExp, timeout = 15_000): Promise<string> {
  const end = Date.now() + timeout;
  for (;;) {
    const last = await consoleText(page, domid);
    if (typeof text === 'string' ? last.includes(text) : text.test(last)) return last;
    if (Date.now() > end) throw new Error(`domain ${domid}'s console never showed ${String(text)}; it shows:\n${last.slice(-1500)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Monaco's rendered text, with its non-breaking spaces as spaces. */
export async function editorText(page: Page): Promise<string> {
  return ((await page.locator('.monaco-editor .view-lines').textContent()) ?? '').replace(/\u00a0/g, ' ');
}

/** The share of the visible terminal's pixels that are not its background: > 0 means text was drawn. */
export async function terminalInk(page: Page): Promise<number> {
  const png = await page.locator('.xl-terminal:not([hidden]) .xterm-screen').screenshot();
  return inkShare(readPng(png));
}

/** The status bar's position. */
export async function position(page: Page): Promise<number> {
  const t = (await page.getByTestId('position').textContent()) ?? '';
  const m = /position ([\d,]+)/.exec(t);
  return m === null ? -1 : Number(m[1]!.replace(/,/g, ''));
}

/** Opens a file of the lab's folder with Ctrl+O and the in-app picker. */
export async function openWithPicker(page: Page, name: string): Promise<void> {
  await page.keyboard.press('Control+O');
  const picker = page.getByTestId('file-picker');
  await picker.waitFor();
  await picker.locator(`.xl-picker-row[data-name="${name}"]`).dblclick();
  await expect.poll(() => page.getByTestId('doc-title').textContent(), { timeout: 10_000 }).toBe(name);
  // Compiled and opened (a TypeScript scenario loads its sandbox first).
  await expect.poll(() => page.getByTestId('run-state').textContent(), { timeout: 30_000 }).toBe('Paused');
  await expect.poll(() => page.getByTestId('position').textContent(), { timeout: 30_000 }).toMatch(/^position 0 /);
}

/** Replaces the editor's whole text by pasting it over everything (typing would auto-indent it). */
export async function setEditorText(page: Page, text: string): Promise<void> {
  await page.evaluate(`navigator.clipboard.writeText(${JSON.stringify(text)})`);
  await page.locator('.monaco-editor .view-lines').click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Control+V');
}

/** Puts the editor's caret at the end of line `line` (Ctrl+G, as a user would). */
export async function goToLineEnd(page: Page, line: number): Promise<void> {
  await page.locator('.monaco-editor .view-lines').click();
  await page.keyboard.press('Control+G');
  await page.keyboard.type(String(line));
  await page.keyboard.press('Enter');
  await page.keyboard.press('End');
}

export const PLAN9_WAITS = 'name: Plan 9 waits for its root\nxen: "2.0"\ndomains:\n  - name: dom0\n  - name: plan9\n    kernel: plan9\nsteps:\n  - run: 5ms\n';

/** expect.poll with room for a loaded machine (10 s, every 100 ms). */
export function poll<T>(f: () => T | Promise<T>, timeout = 10_000): ReturnType<typeof expect.poll<T>> {
  return expect.poll(f, { timeout, interval: 100 });
}
