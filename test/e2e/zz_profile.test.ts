import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, it } from 'vitest';
import { labUrl, openBrowser, openWithPicker, startLab, type Lab } from './harness.js';

async function profile(page: Page, fn: () => Promise<void>, n = 30): Promise<string> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  await cdp.send('Profiler.start');
  await fn();
  const { profile } = (await cdp.send('Profiler.stop')) as { profile: { nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number } }[]; samples: number[]; timeDeltas: number[] } };
  const self = new Map<string, number>();
  const byId = new Map(profile.nodes.map((x) => [x.id, x]));
  profile.samples.forEach((id, i) => {
    const cf = byId.get(id)!.callFrame;
    const key = `${cf.functionName || '(anon)'} ${cf.url.split('/').pop()}:${cf.lineNumber}:${cf.columnNumber}`;
    self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  return [...self].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => `${(v / 1000).toFixed(1).padStart(8)} ms ${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`).join('\n');
}

let lab: Lab;
beforeAll(async () => { lab = await startLab(); writeFileSync(join(lab.work, 'notify-storm.ts'), readFileSync('bench/ui/scenarios/notify-storm.ts', 'utf8')); });
afterAll(async () => lab?.close());
it('profile', { timeout: 300_000 }, async () => {
  const b = await openBrowser({ viewport: { width: 1280, height: 860 } });
  const { page } = b;
  await page.goto(labUrl(lab));
  await page.locator('html[data-ready="true"]').waitFor({ timeout: 30_000 });
  await page.locator('.xl-tab[data-view="timeline"]').click();
  await openWithPicker(page, 'notify-storm.ts');
  await page.getByTestId('speed').selectOption({ label: 'As fast as possible' });
  await page.keyboard.press('F5');
  for (;;) { const n = await page.evaluate<number>('window.__xenlabTimeline.state().records'); if (n > 1_000_000) break; await page.waitForTimeout(500); }
  await page.keyboard.press('F6');
  await page.waitForTimeout(1500);
  await page.getByTestId('timeline-canvas').focus();
  await page.keyboard.press('f');
  await page.waitForTimeout(300);
  console.log(await profile(page, async () => {
    console.log('draws', await page.evaluate('Array.from({ length: 20 }, () => window.__xenlabTimeline.drawNow().toFixed(1)).join(" ")'));
  }));
  await b.close();
});
