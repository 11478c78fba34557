// The topology view, end to end in Chromium against the real web mode: View → Topology brings it
// up; the masking scenario's domains, ports and channels are drawn (DOM, SVG and pixels); the port
// the guest masked shows its pending and mask marks, its channel turns "masked", and a click on it
// explains, from the real bits, that it is pending but masked (citing event_2l.c); the explanation
// follows the steps on its own, a notification travels along the edge when the handler runs, and a
// step back puts the picture back. Keyboard selection, the domain summary and selection from the
// panel; many domains collapse, scroll and zoom; thousands of notifications a second show as heat
// and a rate while frames keep coming. Screenshots in both themes.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { findChromium, labUrl, openBrowser, openWithPicker, poll, position, startLab, type Browser, type Lab } from './harness.js';
import { readPng, type Image } from './png.js';

const chromium = findChromium();
const MASKING = readFileSync(join(import.meta.dirname, '../../scenarios/masking.yaml'), 'utf8');

/** dom0 and `n` guests, each with a channel to dom0, every fourth also to its neighbour; dom0 then notifies each. */
function manyDomains(n: number): string {
  const lines = ['name: many domains', 'domains:', '  - name: dom0', ...Array.from({ length: n }, (_, i) => `  - name: g${i + 1}`), 'steps:'];
  for (let i = 1; i <= n; i++) {
    lines.push(`  - { as: g${i}, op: alloc_unbound, args: { dom: DOMID_SELF, remote_dom: dom0 }, save: { port: p${i} } }`);
    lines.push(`  - { as: dom0, op: bind_interdomain, args: { remote_dom: g${i}, remote_port: $p${i} }, save: { local_port: d${i} } }`);
    if (i % 4 === 0) {
      lines.push(`  - { as: g${i}, op: alloc_unbound, args: { dom: DOMID_SELF, remote_dom: g${i - 1} }, save: { port: q${i} } }`);
      lines.push(`  - { as: g${i - 1}, op: bind_interdomain, args: { remote_dom: g${i}, remote_port: $q${i} } }`);
    }
  }
  for (let i = 1; i <= n; i++) lines.push(`  - { as: dom0, op: send, args: { port: $d${i} } }`);
  lines.push('  - run: 1ms');
  return lines.join('\n') + '\n';
}

/** dom0 notifies a guest 200,000 times, 5 µs apart (a second of virtual time). */
const FLOOD = `name: a flood of notifications
domains:
  - name: dom0
  - name: guest
steps:
  - { as: guest, op: alloc_unbound, args: { dom: DOMID_SELF, remote_dom: dom0 }, save: { port: g } }
  - { as: dom0, op: bind_interdomain, args: { remote_dom: guest, remote_port: $g }, save: { local_port: d } }
  - { as: dom0, op: send, args: { port: $d }, repeat: 200000, every: 5us }
`;

/** The share of pixels within `tol` of a colour in each channel. */
function colourShare(img: Image, rgb: [number, number, number], tol = 40): number {
  let n = 0;
  const px = img.width * img.height;
  for (let i = 0; i < px; i++) {
    if (Math.abs(img.rgba[i * 4]! - rgb[0]) <= tol && Math.abs(img.rgba[i * 4 + 1]! - rgb[1]) <= tol && Math.abs(img.rgba[i * 4 + 2]! - rgb[2]) <= tol) n++;
  }
  return n / px;
}

/** A CSS colour variable of the page, as RGB. */
async function cssColour(page: Page, name: string): Promise<[number, number, number]> {
  const hex = (await page.evaluate<string>(`getComputedStyle(document.documentElement).getPropertyValue('${name}').trim()`)).replace('#', '');
  return [parseInt(hex.slice(0, 2), 16), parseInt(hex.slice(2, 4), 16), parseInt(hex.slice(4, 6), 16)];
}

const port = (page: Page, domid: number, p: number) => page.locator(`.xl-topo-port[data-domid="${domid}"][data-port="${p}"]`);
const verdict = (page: Page) => page.getByTestId('explain').getByTestId('verdict');

/**
 * Presses F10 (Shift+F10 when `back`) until `done` holds, at most `max` times. Each press waits for
 * the position to move, then for the view to catch up: the host sends the topology at most every
 * 100 ms, and the view draws it on the next frame.
 */
async function stepUntil(page: Page, done: () => Promise<boolean>, max = 40, back = false): Promise<number> {
  for (let i = 0; i < max; i++) {
    if (await done()) return i;
    const at = await position(page);
    await page.keyboard.press(back ? 'Shift+F10' : 'F10');
    await poll(() => position(page)).toBe(at + (back ? -1 : 1));
    await page.waitForTimeout(250);
  }
  if (await done()) return max;
  throw new Error(`not reached after ${max} steps (position ${await position(page)})`);
}

describe.skipIf(chromium === undefined)('the lab in a browser: topology and explain', { timeout: 120_000 }, () => {
  let lab: Lab;
  let b: Browser | undefined;
  beforeAll(async () => {
    lab = await startLab();
    writeFileSync(join(lab.work, 'masking.yaml'), MASKING);
    writeFileSync(join(lab.work, 'many.yaml'), manyDomains(40));
    writeFileSync(join(lab.work, 'flood.yaml'), FLOOD);
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
    rmSync(join(lab.dataDir, 'drafts'), { recursive: true, force: true });
    b = await openBrowser();
    await b.page.goto(labUrl(lab, extra));
    await b.page.locator('html[data-ready="true"]').waitFor({ timeout: 30_000 });
    return b;
  }

  /** View → Topology, as a user finds it. */
  async function openTopology(page: Page): Promise<void> {
    await page.locator('.xl-menu-button[data-menu="View"]').click();
    const item = page.locator('.xl-menu-item', { hasText: 'Topology' });
    expect(await item.locator('.xl-menu-keys').textContent()).toBe('Ctrl+3');
    await item.click();
    await page.getByTestId('topology').waitFor();
    expect(await page.locator('.xl-tab[data-view="topology"]').getAttribute('aria-selected')).toBe('true');
  }

  it('draws the masking scenario, explains the masked port from its bits, and follows the steps', async () => {
    const { page } = await start();
    await openTopology(page);
    // The default scenario (Plan 9 on Xen 2.0) is drawn at once: its control channel and VIRQs.
    await poll(() => page.locator('.xl-topo-edge[data-kind="channel"]').count()).toBe(1);
    expect(await page.locator('.xl-topo-port[data-state="virq"] .xl-topo-src').first().textContent()).toBe('Xen');

    await openWithPicker(page, 'masking.yaml');
    await poll(() => page.locator('.xl-topo-domain').count()).toBe(2);
    expect(await page.getByTestId('topology-summary').textContent()).toBe('2 domains · 0 ports · 0 channels');
    expect(await page.locator('.xl-topo-domain[data-domid="1"] .xl-topo-summary').textContent()).toBe('no ports');

    // Both channels bound: two edges, each from a dom0 port row to the guest's.
    await stepUntil(page, async () => (await page.locator('.xl-topo-edge[data-kind="channel"]').count()) === 2);
    expect(await page.evaluate<string[]>(`[...document.querySelectorAll('.xl-topo-edge[data-kind="channel"]')].map((g) => g.dataset.a + '-' + g.dataset.b)`)).toEqual(['0:1-1:1', '0:2-1:2']);
    expect(await page.locator('.xl-topo-edge[data-kind="channel"] .xl-topo-edge-line').first().getAttribute('d')).toMatch(/^M[\d.]+ [\d.]+C/);
    expect(await page.getByTestId('topology-summary').textContent()).toBe('2 domains · 4 ports · 2 channels');
    expect(await port(page, 1, 1).getAttribute('aria-label')).toBe('port 1 of guest, interdomain, connected to dom0 port 1, not pending');

    // Mask, then send: the guest's port 1 is pending and masked; its channel is drawn as masked.
    await stepUntil(page, async () => (await port(page, 1, 1).getAttribute('data-masked')) === 'true' && (await port(page, 1, 1).getAttribute('data-pending')) === 'true');
    await expect.poll(() => page.locator('.xl-topo-edge[data-a="0:1"]').getAttribute('data-state')).toBe('masked');
    expect(await port(page, 1, 1).locator('.xl-topo-pend').isVisible()).toBe(true);
    expect(await port(page, 1, 1).locator('.xl-topo-mask').isVisible()).toBe(true);
    expect(await port(page, 1, 2).locator('.xl-topo-mask').isVisible()).toBe(false);

    // Pixels: the edges are drawn between the boxes, in the channel colours.
    const d0 = (await page.locator('.xl-topo-domain[data-domid="0"]').boundingBox())!;
    const g1 = (await page.locator('.xl-topo-domain[data-domid="1"]').boundingBox())!;
    const gap = readPng(await page.screenshot({ clip: { x: d0.x + d0.width + 2, y: d0.y, width: g1.x - d0.x - d0.width - 4, height: d0.height } }));
    expect(colourShare(gap, await cssColour(page, '--tp-masked'))).toBeGreaterThan(0.005);
    expect(colourShare(gap, await cssColour(page, '--tp-bound'))).toBeGreaterThan(0.005);
    await b!.shot('topology-dark', '.xl-area-side');

    // Click the masked port: selected, and the explanation says why from the bits, citing event_2l.c.
    await port(page, 1, 1).click();
    expect(await port(page, 1, 1).getAttribute('aria-pressed')).toBe('true');
    await poll(() => verdict(page).textContent()).toMatch(/^Pending but masked: the guest set bit 1 of evtchn_mask/);
    const explain = page.getByTestId('explain');
    const maskStep = explain.locator('li[data-check="evtchn_mask[1]"]');
    expect(await maskStep.getAttribute('class')).toBe('xl-not');
    expect(await maskStep.locator('.xl-explain-detail').textContent()).toMatch(/bit 1 of evtchn_mask .* is set: the guest masked the port/);
    expect(await maskStep.locator('.xl-explain-source').textContent()).toBe('xen/common/event_2l.c: evtchn_2l_set_pending');
    expect(await explain.locator('li[data-check="evtchn_pending[1]"]').getAttribute('class')).toBe('xl-ok');
    expect(await explain.locator('dd[data-fact="status"]').textContent()).toBe('EVTCHNSTAT_interdomain');
    expect(await explain.locator('dd[data-fact="masked"]').textContent()).toBe('yes');
    await b!.shot('topology-explain-dark', '.xl-area-side');
    // The records behind it: the send that made it pending, among them; a click selects one.
    const send = explain.locator('.xl-explain-record', { hasText: /send/ }).first();
    expect(await send.locator('.xl-explain-kind').textContent()).toBe('hypercall · dom0');
    await send.click();
    expect(await send.getAttribute('aria-current')).toBe('true');
    await b!.shot('topology-explain-records-dark', '.xl-area-side');

    // The explanation follows the session: EVTCHNOP_unmask re-raises the event…
    await stepUntil(page, async () => (await port(page, 1, 1).getAttribute('data-masked')) === 'false');
    await poll(() => verdict(page).textContent()).toMatch(/^Pending and on its way/);
    await poll(() => page.locator('.xl-topo-edge[data-a="0:1"]').getAttribute('data-state')).toBe('pending');
    // …and when the guest's handler runs, a notification travels along the edge from dom0 to the guest.
    // (A watcher in the page records where the dot is drawn, frame by frame.)
    await page.evaluate(`window.__dotX = []; new MutationObserver(() => {
      const d = document.querySelector('.xl-topo-dot:not([style*="none"])');
      if (d !== null) window.__dotX.push(Number(d.getAttribute('cx')));
    }).observe(document.querySelector('.xl-topo-overlay'), { attributes: true, subtree: true })`);
    const dotsBefore = Number(await page.getByTestId('topology').getAttribute('data-dots'));
    await stepUntil(page, async () => Number(await page.getByTestId('topology').getAttribute('data-dots')) > dotsBefore);
    await poll(() => page.evaluate<number>('window.__dotX.length')).toBeGreaterThan(3);
    const xs = await page.evaluate<number[]>('window.__dotX');
    // From dom0's end (the left box) toward the guest's (the right one).
    expect(xs[xs.length - 1]!).toBeGreaterThan(xs[0]!);
    await poll(() => verdict(page).textContent()).toMatch(/^Delivered: dom0's EVTCHNOP_send on port 1 \(seq \d+\) made Xen set the pending bit/);
    expect(await port(page, 1, 1).getAttribute('data-pending')).toBe('false');

    // Stepping back puts the picture (and the explanation) back: before the handler ran, the port was pending.
    const steps = await stepUntil(page, async () => (await port(page, 1, 1).getAttribute('data-pending')) === 'true', 3, true);
    expect(steps).toBeGreaterThan(0);
    await poll(() => verdict(page).textContent()).toMatch(/^Pending and on its way/);

    // The light theme follows the system, live.
    await page.emulateMedia({ colorScheme: 'light' });
    await poll(() => page.evaluate<string>('document.documentElement.dataset.theme')).toBe('light');
    await page.keyboard.press('F10');
    await poll(() => verdict(page).textContent()).toMatch(/^Delivered/);
    const light = readPng(await page.locator('.xl-topo-scroll').screenshot());
    expect(colourShare(light, await cssColour(page, '--tp-bound'))).toBeGreaterThan(0.001);
    await page.mouse.move(0, 0);
    await page.evaluate(`document.querySelector('.xl-explain-body').scrollTop = 0`);
    await b!.shot('topology-explain-light', '.xl-area-side');
  });

  it('selects with the keyboard, summarises a domain, and takes a selection made elsewhere', async () => {
    const { page } = await start();
    await openWithPicker(page, 'masking.yaml');
    await page.keyboard.press('Control+3');
    await page.getByTestId('topology').waitFor();
    await stepUntil(page, async () => (await page.locator('.xl-topo-edge[data-kind="channel"]').count()) === 2);
    // One Tab stop: the first domain; arrows move through domains and ports; Enter selects.
    await page.locator('.xl-topo-dom[data-focus="d:0"]').focus();
    expect(await page.locator('.xl-topo-boxes [tabindex="0"]').count()).toBe(1);
    await page.keyboard.press('ArrowDown');
    expect(await page.evaluate<string>('document.activeElement.dataset.focus')).toBe('p:0:1');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    expect(await page.evaluate<string>('document.activeElement.dataset.focus')).toBe('d:1');
    await page.keyboard.press('Enter');
    // The domain's summary, with its ports listed; a port there selects it in the diagram.
    const explain = page.getByTestId('explain');
    await poll(() => explain.locator('.xl-explain-title').textContent()).toBe('guest (dom1)');
    expect(await page.locator('.xl-topo-domain[data-domid="1"]').getAttribute('class')).toContain('xl-selected');
    await explain.locator('.xl-explain-record[data-port="2"]').click();
    await poll(() => port(page, 1, 2).getAttribute('aria-pressed')).toBe('true');
    await poll(() => explain.locator('.xl-explain-title').textContent()).toBe('Port 2 of guest (dom1)');
    expect(await page.locator('.xl-topo-edge.xl-selected').getAttribute('data-a')).toBe('0:2');
    // Collapsing with the keyboard: Left on the domain folds its ports into one line, Right opens them.
    await page.locator('.xl-topo-dom[data-focus="d:1"]').focus();
    await page.keyboard.press('ArrowLeft');
    await poll(() => page.locator('.xl-topo-domain[data-domid="1"]').getAttribute('data-collapsed')).toBe('true');
    expect(await page.locator('.xl-topo-domain[data-domid="1"] .xl-topo-summary').textContent()).toBe('2 ports');
    expect(await page.locator('.xl-topo-edge[data-kind="channel"]').count()).toBe(2);
    await page.keyboard.press('ArrowRight');
    await poll(() => page.locator('.xl-topo-domain[data-domid="1"]').getAttribute('data-collapsed')).toBe('false');
    // Escape closes the panel.
    await page.keyboard.press('Escape');
    await poll(() => explain.isVisible()).toBe(false);
    // The legend says what the colours and marks mean.
    await page.locator('[data-tool="legend"]').click();
    expect(await page.locator('[data-tool="legend"]').getAttribute('aria-pressed')).toBe('true');
    expect(await page.locator('.xl-topo-legend').textContent()).toContain('pending but masked: no upcall');
    await b!.shot('topology-legend-dark', '.xl-area-side');
  });

  it('collapses, scrolls and zooms 41 domains, and draws every channel', async () => {
    const { page } = await start();
    await page.keyboard.press('Control+3');
    await openWithPicker(page, 'many.yaml');
    await page.getByTestId('speed').selectOption({ label: 'As fast as possible' });
    await page.keyboard.press('F5');
    await poll(() => page.getByTestId('run-state').textContent(), 30_000).toBe('Idle');
    await poll(() => page.getByTestId('topology-summary').textContent()).toBe('41 domains · 100 ports · 50 channels');
    expect(await page.locator('.xl-topo-domain').count()).toBe(41);
    expect(await page.locator('.xl-topo-domain[data-collapsed="true"]').count()).toBe(41);
    expect(await page.evaluate<boolean>(`(() => { const e = document.querySelector('[data-testid="topology-diagram"]'); return e.scrollHeight > e.clientHeight || e.scrollWidth > e.clientWidth; })()`)).toBe(true);
    // Long channels are stubs naming the other end; the ones between neighbouring columns are drawn whole.
    expect(await page.locator('.xl-topo-edge[data-kind="stub"] .xl-topo-stub-label', { hasText: 'dom0' }).count()).toBeGreaterThan(5);
    expect(await page.locator('.xl-topo-edge[data-kind="channel"]').count()).toBeGreaterThan(5);
    await b!.shot('topology-many-dark', '.xl-area-side');
    // Zoom in and out, then back to fit.
    const zoom = page.locator('.xl-topo-zoom');
    const fit = await zoom.textContent();
    await page.locator('[data-tool="zoom-in"]').click();
    expect(await zoom.textContent()).not.toBe(fit);
    await page.locator('[data-tool="zoom-out"]').click();
    await zoom.click();
    expect(await zoom.textContent()).toBe(fit);
    // Open one domain: its rows appear; selecting a port of a far domain draws its channel whole.
    await page.locator('.xl-topo-domain[data-domid="40"] .xl-topo-fold').click();
    await poll(() => port(page, 40, 1).isVisible()).toBe(true);
    await port(page, 40, 1).click();
    await poll(() => page.locator('.xl-topo-edge.xl-selected[data-kind="channel"]').count()).toBe(1);
    await poll(() => verdict(page).textContent()).toMatch(/^Delivered/);
    // Collapse everything (one box was open), then expand everything: 41 boxes with their rows.
    await page.locator('[data-tool="fold"]').click();
    await poll(() => page.locator('.xl-topo-domain[data-collapsed="true"]').count()).toBe(41);
    expect(await page.locator('[data-tool="fold"]').getAttribute('aria-label')).toBe('Expand every domain’s ports');
    await page.locator('[data-tool="fold"]').click();
    await poll(() => page.locator('.xl-topo-domain[data-collapsed="false"]').count()).toBe(41);
    expect(await page.locator('.xl-topo-port').count()).toBe(100);
  });

  it('shows a flood of notifications as heat and a rate on the edge, with few dots, and keeps drawing frames', async () => {
    const { page } = await start('&perf=1');
    await page.keyboard.press('Control+3');
    await openWithPicker(page, 'flood.yaml');
    await page.getByTestId('speed').selectOption({ label: 'As fast as possible' });
    await page.evaluate('window.__xenlabPerf.reset()');
    await page.keyboard.press('F5');
    const rate = page.locator('.xl-topo-edge[data-a="0:1"] .xl-topo-rate');
    await poll(() => rate.textContent(), 20_000).toMatch(/^[\d.]+k?\/s$/);
    const text = await rate.textContent();
    const heat = Number(await page.evaluate<string>(`getComputedStyle(document.querySelector('.xl-topo-edge[data-a="0:1"] .xl-topo-edge-heat')).opacity`));
    const flying = Number(await page.locator('.xl-topo-overlay').getAttribute('data-flying'));
    await b!.shot('topology-flood-dark', '.xl-area-side');
    await page.waitForTimeout(1500);
    const perf = await page.evaluate<{ frames: number; maxFrameGapMs: number; slowFrames: number }>('({ ...window.__xenlabPerf })');
    const status = await page.locator('.xl-statusbar').textContent();
    const notified = Number(await page.getByTestId('topology').getAttribute('data-notified'));
    const dots = Number(await page.getByTestId('topology').getAttribute('data-dots'));
    await page.keyboard.press('F6');
    console.log(`topology under a flood: edge rate ${text}, heat ${heat}, ${flying} dots flying; ${notified} notifications animated as ${dots} dots; ${perf.frames} frames, longest gap ${Math.round(perf.maxFrameGapMs)} ms, ${perf.slowFrames} over 50 ms; status: ${status}`);
    expect(heat).toBeGreaterThan(0.3);
    expect(flying).toBeLessThanOrEqual(48);
    expect(notified).toBeGreaterThan(dots * 5);
    expect(perf.frames).toBeGreaterThan(20);
  });
});
