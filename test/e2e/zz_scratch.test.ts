import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { labUrl, openBrowser, openWithPicker, startLab, type Lab } from './harness.js';
const MILLION = `name: A million records
domains:
  - name: dom0
  - name: guest
steps:
  - { as: guest, op: alloc_unbound, args: { dom: DOMID_SELF, remote_dom: dom0 }, save: { port: gport } }
  - { as: dom0, op: bind_interdomain, args: { remote_dom: guest, remote_port: $gport }, save: { local_port: dport } }
  - { as: dom0, op: send, args: { port: $dport }, at: 1ms, repeat: 120000, every: 20us }
`;
describe('scratch', { timeout: 300_000 }, () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await startLab();
    writeFileSync(join(lab.work, 'million.yaml'), MILLION);
  });
  afterAll(async () => lab?.close());
  for (const view of ['problems', 'events', 'problems', 'events']) {
    it(`streams with ${view} shown`, async () => {
      const b = await openBrowser({ viewport: { width: 1400, height: 900 } });
      const page = b.page;
      await page.addInitScript({ content: `localStorage.setItem('xenlab.layout.v1', JSON.stringify({ main: 0.5, bottom: 440, bottomOpen: true, active: { bottom: '${view}' } }))` });
      await page.goto(labUrl(lab, '&perf=1'));
      await page.locator('html[data-ready="true"]').waitFor({ timeout: 30_000 });
      await openWithPicker(page, 'million.yaml');
      await page.getByTestId('speed').selectOption({ label: 'As fast as possible' });
      await page.evaluate('window.__xenlabPerf.reset()');
      await page.keyboard.press('F5');
      await page.waitForTimeout(6000);
      const perf = await page.evaluate<{ frames: number; maxFrameGapMs: number; slowFrames: number; longTasks: number }>('({ ...window.__xenlabPerf })');
      console.log(view, JSON.stringify(perf), await page.locator('.xl-statusbar').textContent(), loadavg()[0], cpus().length);
      await b.close();
    });
  }
});
