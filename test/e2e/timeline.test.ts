// The timeline, end to end in Chromium against the real web mode: lanes per domain and vCPU with
// marks drawn (pixels in each lane's band), a notification's arrow from its send to the handler it
// caused, zoom and pan moving the range, a click selecting the record (and its summary in the
// tooltip), a selection made elsewhere brought into view, step back cutting the timeline back; and
// at a million records, zoomed out (density per pixel column) and zoomed in, in both themes.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { findChromium, labUrl, openBrowser, openWithPicker, poll, position, startLab, type Browser, type Lab } from './harness.js';
import { inkShare, readPng, type Image } from './png.js';
import type { DrawnFlow as Flow, TimelineState as State } from '../../src/renderer/src/views/timeline/debug.js';

const chromium = findChromium();
const ROOT = join(import.meta.dirname, '../..');


const state = (page: Page): Promise<State> => page.evaluate<State>('window.__xenlabTimeline.state()');
/** Draws a frame now, so what is read next (state, arrows, pixels) is of the view as it stands, not of the last animation frame. */
const drawn = (page: Page): Promise<number> => page.evaluate<number>('window.__xenlabTimeline.drawNow()');
const flows = (page: Page): Promise<Flow[]> => page.evaluate<Flow[]>('window.__xenlabTimeline.flows()');
const find = (page: Page, kind: string, from = 0, pred?: 'send' | 'caused'): Promise<number> =>
  page.evaluate<number>(`window.__xenlabTimeline.find(${JSON.stringify(kind)}, ${from}${pred === undefined ? '' : `, ${JSON.stringify(pred)}`})`);
const causeOf = (page: Page, seq: number): Promise<number> => page.evaluate<number>(`window.__xenlabTimeline.cause(${seq})`);
const markAt = (page: Page, seq: number): Promise<{ x: number; y: number } | undefined> => page.evaluate(`window.__xenlabTimeline.position(${seq})`);

/** The canvas as an image (CSS px = image px: the tests run at devicePixelRatio 1). */
async function canvasImage(page: Page): Promise<Image> {
  return readPng(await page.getByTestId('timeline-canvas').screenshot());
}

/** The share of non-background pixels in a band of rows of the plot (right of the lane names). */
function bandInk(img: Image, s: State, top: number, height: number): number {
  const y0 = Math.max(0, Math.round(s.plot.y + top - s.scrollY));
  const y1 = Math.min(img.height, Math.round(s.plot.y + top + height - s.scrollY));
  const x0 = s.plot.x + 2;
  const w = img.width - x0;
  const rgba = new Uint8Array(w * (y1 - y0) * 4);
  for (let y = y0; y < y1; y++) rgba.set(img.rgba.subarray((y * img.width + x0) * 4, (y * img.width + img.width) * 4), (y - y0) * w * 4);
  return inkShare({ width: w, height: y1 - y0, rgba });
}

/** Pixels around (x, y) that differ from `bg` (RGB). */
function inkNear(img: Image, x: number, y: number, r: number, bg: [number, number, number]): number {
  let n = 0;
  for (let yy = Math.round(y) - r; yy <= Math.round(y) + r; yy++) {
    for (let xx = Math.round(x) - r; xx <= Math.round(x) + r; xx++) {
      if (xx < 0 || yy < 0 || xx >= img.width || yy >= img.height) continue;
      const i = (yy * img.width + xx) * 4;
      if (Math.abs(img.rgba[i]! - bg[0]) + Math.abs(img.rgba[i + 1]! - bg[1]) + Math.abs(img.rgba[i + 2]! - bg[2]) > 60) n++;
    }
  }
  return n;
}

describe.skipIf(chromium === undefined)('the timeline in a browser', { timeout: 180_000 }, () => {
  let lab: Lab;
  let b: Browser | undefined;
  beforeAll(async () => {
    lab = await startLab();
    writeFileSync(join(lab.work, 'bind-interdomain.yaml'), readFileSync(join(ROOT, 'scenarios/bind-interdomain.yaml'), 'utf8'));
    writeFileSync(join(lab.work, 'notify-storm.ts'), readFileSync(join(ROOT, 'bench/ui/scenarios/notify-storm.ts'), 'utf8'));
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

  async function start(colorScheme: 'dark' | 'light' = 'dark'): Promise<Page> {
    b = await openBrowser({ colorScheme, viewport: { width: 1280, height: 860 } });
    const { page } = b;
    await page.goto(labUrl(lab));
    await page.locator('html[data-ready="true"]').waitFor({ timeout: 30_000 });
    // View → Timeline, as a user would.
    await page.locator('.xl-menu-button[data-menu="View"]').click();
    await page.locator('.xl-menu-item', { hasText: 'Timeline' }).click();
    await page.getByTestId('timeline-canvas').waitFor();
    // A taller bottom panel, dragged up by its splitter: room for ten lanes.
    const split = (await page.locator('.xl-splitter-h').boundingBox())!;
    await page.mouse.move(split.x + 200, split.y + 2);
    await page.mouse.down();
    await page.mouse.move(split.x + 200, split.y - 240, { steps: 5 });
    await page.mouse.up();
    return page;
  }

  it('draws lanes per domain and vCPU, marks, and an arrow from a send to the handler it caused; zoom, pan, click, step back', async () => {
    const page = await start();
    await openWithPicker(page, 'bind-interdomain.yaml');
    await page.keyboard.press('F5');
    await poll(() => page.getByTestId('position').textContent(), 30_000).toContain('script done');
    await page.keyboard.press('F6');
    await poll(() => page.getByTestId('run-state').textContent()).not.toBe('Running');
    await poll(async () => (await state(page)).records, 15_000).toBeGreaterThan(50);
    await page.getByTestId('timeline-fit').click();
    await drawn(page);
    let s = await state(page);
    // Xen's lane, then each domain (named from the topology) with its vCPUs: guest has two.
    expect(s.lanes.map((l) => l.label)).toEqual(['Xen', 'dom0 (0)', 'vCPU 0', 'guest (1)', 'vCPU 0', 'vCPU 1', 'other (2)', 'vCPU 0', 'full (3)', 'vCPU 0']);
    expect(s.lanes.reduce((n, l) => n + l.records, 0)).toBe(s.records);

    // Marks are drawn in each lane that has records in view (pixels in the lane's band).
    const img = await canvasImage(page);
    expect(s.plot.height, 'all ten lanes fit').toBeGreaterThanOrEqual(180);
    let y = 0;
    for (const l of s.lanes) {
      const ink = bandInk(img, s, y, 18);
      if (l.mode !== 'empty') expect(ink, `lane ${l.label} (${l.records} records, ${l.mode})`).toBeGreaterThan(0.001);
      y += 18;
    }

    // dom0's send (EVTCHNOP_send, x0 = 4) reached the guest on vCPU 1: an arrow from the send to the handler.
    const send = await find(page, 'hypercall', 0, 'send');
    expect(send).toBeGreaterThan(0);
    let handler = -1;
    for (let from = 0; ; ) {
      const h = await find(page, 'handler', from, 'caused');
      if (h < 0) break;
      if ((await causeOf(page, h)) === send) {
        handler = h;
        break;
      }
      from = h + 1;
    }
    expect(handler, 'a handler record whose cause is the send').toBeGreaterThan(send);
    // Zoom in around the send so the arrow has room.
    await page.evaluate(`window.__xenlabTimeline.selectFromElsewhere(${send})`);
    await poll(async () => (await state(page)).selected).toBe(send);
    await drawn(page);
    const fs = await flows(page);
    const arrow = fs.find((f) => f.cause === send && f.effect === handler) ?? fs.find((f) => f.cause === send);
    expect(arrow, `an arrow from the send #${send} (flows drawn: ${JSON.stringify(fs.slice(0, 5))})`).toBeDefined();
    const guestVcpu1 = (await state(page)).lanes.findIndex((l) => l.dom === 1 && l.vcpu === 1);
    const dom0Vcpu0 = (await state(page)).lanes.findIndex((l) => l.dom === 0 && l.vcpu === 0);
    s = await state(page);
    expect(arrow!.y0).toBeCloseTo(s.plot.y + dom0Vcpu0 * 18 + 9 - s.scrollY, 0);
    expect(arrow!.y1).toBeCloseTo(s.plot.y + guestVcpu1 * 18 + 9 - s.scrollY, 0);
    // ... and it is drawn: ink along the arrow, halfway, and at both ends.
    const near = await canvasImage(page);
    const bg: [number, number, number] = [near.rgba[((s.plot.y + 2) * near.width + near.width - 3) * 4]!, near.rgba[((s.plot.y + 2) * near.width + near.width - 3) * 4 + 1]!, near.rgba[((s.plot.y + 2) * near.width + near.width - 3) * 4 + 2]!];
    expect(inkNear(near, (arrow!.x0 + arrow!.x1) / 2, (arrow!.y0 + arrow!.y1) / 2, 2, bg)).toBeGreaterThan(0);
    expect(inkNear(near, arrow!.x0, arrow!.y0, 3, bg)).toBeGreaterThan(0);
    expect(inkNear(near, arrow!.x1, arrow!.y1, 3, bg)).toBeGreaterThan(0);
    await b!.shot('timeline-arrows-dark', '.xl-area-bottom');

    // Click the handler's mark: it is selected, and hovering it shows its summary from the host.
    await page.locator('[data-testid=timeline-canvas]').focus();
    const at = await markAt(page, handler);
    expect(at).toBeDefined();
    await page.mouse.move(at!.x, at!.y);
    const tip = page.getByTestId('timeline-tip');
    await poll(() => tip.textContent()).toContain(`handler #${handler}`);
    await poll(() => tip.textContent()).toContain('handler for port');
    expect(await tip.textContent()).toContain(`notified by #${send}`);
    await page.mouse.click(at!.x, at!.y);
    await poll(async () => (await state(page)).selected).toBe(handler);
    await b!.shot('timeline-selected-dark', '.xl-area-bottom');

    // Zoom and pan change the range; zoom to fit shows it all again.
    const before = await state(page);
    await page.keyboard.press('+');
    await poll(async () => (await state(page)).t1 - (await state(page)).t0).toBeLessThan((before.t1 - before.t0) * 0.6);
    const zoomed = await state(page);
    const box = (await page.getByTestId('timeline-canvas').boundingBox())!;
    await page.mouse.move(box.x + 600, box.y + 60);
    await page.mouse.down();
    await page.mouse.move(box.x + 500, box.y + 60, { steps: 4 });
    await page.mouse.up();
    const panned = await state(page);
    expect(panned.follow).toBe('off');
    expect(panned.t0).toBeGreaterThan(zoomed.t0);
    expect(panned.t1 - panned.t0).toBeCloseTo(zoomed.t1 - zoomed.t0, 0);
    const range = await page.getByTestId('timeline-range').textContent();
    await page.mouse.move(box.x + 700, box.y + 60);
    await page.mouse.wheel(0, -300);
    await poll(async () => (await state(page)).t1 - (await state(page)).t0).toBeLessThan(panned.t1 - panned.t0);
    await poll(() => page.getByTestId('timeline-range').textContent()).not.toBe(range);
    await page.keyboard.press('f');
    await poll(async () => (await state(page)).recordsInView).toBe(s.records);

    // Step back: the records the session dropped leave the timeline (and the selection with them).
    const held = (await state(page)).records;
    const pos = await position(page);
    for (let i = 0; i < 3; i++) await page.keyboard.press('Shift+F10');
    await poll(() => position(page)).toBe(pos - 3);
    await poll(async () => (await state(page)).records, 15_000).toBeLessThan(held);
    const back = await state(page);
    expect(back.lanes.reduce((n, l) => n + l.records, 0)).toBe(back.records);
    if (handler >= back.records) expect(back.selected).toBe(-1);
    expect((await flows(page)).every((f) => f.cause < back.records && f.effect < back.records)).toBe(true);
    // ... and stepping forward again brings back the same records.
    for (let i = 0; i < 3; i++) await page.keyboard.press('F10');
    await poll(() => position(page)).toBe(pos);
    await poll(async () => (await state(page)).records, 15_000).toBe(held);
  });

  it('stays usable at a million records: zoomed out as density per pixel column, zoomed in as marks and arrows, in both themes', async () => {
    const page = await start();
    await openWithPicker(page, 'notify-storm.ts');
    await page.getByTestId('speed').selectOption({ label: 'As fast as possible' });
    await page.keyboard.press('F5');
    const t0 = Date.now();
    await poll(async () => (await state(page)).records, 150_000).toBeGreaterThanOrEqual(1_000_000);
    const streamed = Date.now() - t0;
    await page.keyboard.press('F6');
    await poll(() => page.getByTestId('run-state').textContent()).toBe('Paused');
    // The last batches arrive after Pause: wait for the count to settle.
    let held = -1;
    await poll(async () => {
      const n = (await state(page)).records;
      const same = n === held;
      held = n;
      return same;
    }, 15_000).toBe(true);

    // Zoomed out: every record in view, the busy lanes drawn as density, their bands inked.
    await page.getByTestId('timeline-canvas').focus();
    await page.keyboard.press('f');
    await poll(async () => (await state(page)).recordsInView).toBe(held);
    const out = await state(page);
    const busy = out.lanes.filter((l) => l.records > 10_000);
    expect(busy.length).toBeGreaterThanOrEqual(3);
    for (const l of busy) expect(l.mode, l.label).toBe('density');
    const img = await canvasImage(page);
    for (const l of busy) expect(bandInk(img, out, out.lanes.indexOf(l) * 18, 18), l.label).toBeGreaterThan(0.2);
    const fitMs = await page.evaluate<number[]>('Array.from({ length: 10 }, () => window.__xenlabTimeline.drawNow())');
    await b!.shot('timeline-1M-zoomed-out-dark', '.xl-area-bottom');
    // Thinned: more notifications in view than arrows drawn.
    expect(out.flowsInView).toBeGreaterThan(out.flowsDrawn);

    // Zoomed in on a handler in the middle: marks, and its arrow from the send that caused it.
    const mid = await find(page, 'handler', Math.floor(held / 2), 'caused');
    await page.evaluate(`window.__xenlabTimeline.selectFromElsewhere(${mid})`);
    await poll(async () => (await state(page)).selected).toBe(mid);
    const zin = await state(page);
    expect(zin.t1 - zin.t0).toBeLessThan((out.t1 - out.t0) / 1000);
    // A busy lane drawn as marks (the modes are those of the last frame drawn: wait for one).
    await poll(async () => (await state(page)).lanes.some((l) => l.records > 10_000 && l.mode === 'marks')).toBe(true);
    const cause = await causeOf(page, mid);
    expect((await flows(page)).some((f) => f.effect === mid || f.cause === cause)).toBe(true);
    const inMs = await page.evaluate<number[]>('Array.from({ length: 10 }, () => window.__xenlabTimeline.drawNow())');
    await b!.shot('timeline-1M-zoomed-in-dark', '.xl-area-bottom');
    // Wheel zoom on a million records moves the range at once (one frame).
    const box = (await page.getByTestId('timeline-canvas').boundingBox())!;
    await page.mouse.move(box.x + 600, box.y + 60);
    await page.mouse.wheel(0, 400);
    await poll(async () => (await state(page)).t1 - (await state(page)).t0).toBeGreaterThan(zin.t1 - zin.t0);

    // The light theme (the system's preference changes): redrawn in its colours.
    await page.emulateMedia({ colorScheme: 'light' });
    await poll(() => page.locator('html').getAttribute('data-theme')).toBe('light');
    await page.evaluate(`window.__xenlabTimeline.selectFromElsewhere(${mid})`);
    await page.waitForTimeout(200);
    const light = await canvasImage(page);
    const px = light.rgba.subarray(((out.plot.y + 1) * light.width + light.width - 4) * 4);
    expect(px[0]! + px[1]! + px[2]!, 'a light background').toBeGreaterThan(600);
    await b!.shot('timeline-1M-zoomed-in-light', '.xl-area-bottom');
    await page.keyboard.press('f');
    await poll(async () => (await state(page)).recordsInView).toBe(held);
    await b!.shot('timeline-1M-zoomed-out-light', '.xl-area-bottom');
    await b!.shot('timeline-1M-window-light');
    const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    console.log(
      `timeline at ${held.toLocaleString('en-US')} records (streamed in ${(streamed / 1000).toFixed(1)} s): a frame zoomed out (density) draws in ${median(fitMs).toFixed(1)} ms (max ${Math.max(...fitMs).toFixed(1)}), zoomed in (marks) in ${median(inMs).toFixed(1)} ms (max ${Math.max(...inMs).toFixed(1)}); ${out.flowsInView.toLocaleString('en-US')} notifications in the whole view, ${out.flowsDrawn} arrows drawn`,
    );
  });
});
