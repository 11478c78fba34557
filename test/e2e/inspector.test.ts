// The shared-memory inspector, end to end in Chromium against the real web mode: stepping
// masking.yaml to dom0's send sets the guest's pending bit for the port — drawn in the
// evtchn_pending grid, its byte in the hex view changed and marked — and stepping back clears
// it again; on Xen 2.0 (Plan 9's boot) the control_if rings' indexes move as the guest prints.
// Screenshots of the view in both themes.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { findChromium, labUrl, openBrowser, openWithPicker, poll, position, startLab, type Browser, type Lab } from './harness.js';
import { readPng } from './png.js';

const chromium = findChromium();
const SCENARIOS = join(import.meta.dirname, '../../scenarios');

/** Opens the inspector through View → Inspector, as a user would. */
async function openInspector(page: Page): Promise<void> {
  await page.locator('.xl-menu-button[data-menu="View"]').click();
  await page.locator('.xl-menu-item', { hasText: 'Inspector' }).click();
  await page.getByTestId('inspector').waitFor();
  expect(await page.locator('.xl-tab[data-view="inspector"]').getAttribute('aria-selected')).toBe('true');
}

/** Waits until the inspector shows the domain at the session's position. */
async function inspectedAt(page: Page, pos: number, domid = 1): Promise<void> {
  await poll(() => position(page)).toBe(pos);
  const root = page.getByTestId('inspector');
  await poll(async () => `${await root.getAttribute('data-domid')}@${await root.getAttribute('data-position')}`).toBe(`${domid}@${pos}`);
  // The frame that draws it.
  await page.evaluate('new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))');
}

async function stepTo(page: Page, pos: number): Promise<void> {
  while ((await position(page)) < pos) {
    const at = await position(page);
    await page.keyboard.press('F10');
    await poll(() => position(page)).toBe(at + 1);
  }
  await inspectedAt(page, pos);
}

const grid = (page: Page, name: string) => page.locator(`.xi-grid[data-grid="${name}"]`);

/** The RGB of the middle of a bit's cell in a grid's canvas, from a screenshot. */
async function cellColour(page: Page, name: string, bit: number): Promise<[number, number, number]> {
  const canvas = grid(page, name).locator('canvas');
  const g = await canvas.evaluate((el) => ({ ...(el as unknown as { dataset: Record<string, string> }).dataset }));
  const cell = Number(g.cell);
  const cols = Number(g.cols);
  const x = Math.floor(Number(g.axis) + (bit % cols) * cell + cell / 2);
  const y = Math.floor(Number(g.header) + (Math.floor(bit / cols) - Number(g.firstRow)) * cell + cell / 2);
  const img = readPng(await canvas.screenshot());
  const i = (y * img.width + x) * 4;
  return [img.rgba[i]!, img.rgba[i + 1]!, img.rgba[i + 2]!];
}

/** A CSS colour (#rrggbb) of the grid as RGB. */
async function cssColour(page: Page, name: string, prop: string): Promise<[number, number, number]> {
  const hex = await page.evaluate<string>(`getComputedStyle(document.querySelector('.xi-grid[data-grid="${name}"] .xi-grid-scroll')).getPropertyValue('${prop}').trim()`);
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (m === null) throw new Error(`${prop} is ${hex}, not #rrggbb`);
  return [parseInt(m[1]!, 16), parseInt(m[2]!, 16), parseInt(m[3]!, 16)];
}

const near = (a: readonly number[], b: readonly number[]): boolean => a.every((v, i) => Math.abs(v - b[i]!) <= 24);

const hexByte = (page: Page, offset: number) => page.locator(`.xi-hb[data-o="${offset}"]`);

describe.skipIf(chromium === undefined)('the lab in a browser: the shared-memory inspector', { timeout: 120_000 }, () => {
  let lab: Lab;
  let b: Browser | undefined;
  beforeAll(async () => {
    lab = await startLab();
    for (const f of ['masking.yaml', 'plan9-boot.yaml', 'fifo-priorities.yaml']) writeFileSync(join(lab.work, f), readFileSync(join(SCENARIOS, f), 'utf8'));
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

  async function start(colorScheme: 'dark' | 'light' = 'dark'): Promise<Browser> {
    rmSync(join(lab.dataDir, 'drafts'), { recursive: true, force: true });
    b = await openBrowser({ colorScheme, viewport: { width: 1440, height: 900 } });
    await b.page.goto(labUrl(lab));
    await b.page.locator('html[data-ready="true"]').waitFor({ timeout: 30_000 });
    return b;
  }

  for (const theme of ['dark', 'light'] as const) {
    it(`steps forward to a send and sees the pending bit and its byte change, and back to see them clear (${theme})`, async () => {
      const { page } = await start(theme);
      await openWithPicker(page, 'masking.yaml');
      await openInspector(page);
      await inspectedAt(page, 0);
      expect(await page.getByTestId('inspector-domain').inputValue()).toBe('1');
      expect(await page.getByTestId('inspector-info').textContent()).toMatch(/^x86_64 · 2-level · position 0/);
      // The grids as shared_info holds them: 4096 ports, nothing pending yet.
      await expect.poll(() => grid(page, 'evtchn_pending').locator('.xi-grid-sum').textContent()).toBe('none set');
      expect(await grid(page, 'evtchn_pending').locator('.xi-grid-where').textContent()).toBe('shared_info +0x800');
      // evtchn_pending in the field list: its bytes in the hex view, at offset 2048.
      await page.locator('.xi-fields tr', { has: page.locator('.xi-fn', { hasText: /^evtchn_pending$/ }) }).click();
      await poll(() => hexByte(page, 2048).textContent()).toBe('00');
      expect(await hexByte(page, 2048).getAttribute('class')).toContain('xi-sel');

      // Up to the guest masking port 1 (step 6 of the scenario), then dom0's send (step 7).
      await stepTo(page, 7);
      expect(await grid(page, 'evtchn_mask').locator('.xi-grid-sum').textContent()).toBe('1 set: 1');
      expect(await grid(page, 'evtchn_pending').locator('.xi-grid-sum').textContent()).toBe('none set');
      const pendingOn = await cssColour(page, 'evtchn_pending', '--xi-cell-on');
      const cellOff = await cssColour(page, 'evtchn_pending', '--xi-cell-off');
      expect(near(await cellColour(page, 'evtchn_pending', 1), cellOff)).toBe(true);
      expect(await hexByte(page, 2048).textContent()).toBe('00');

      await stepTo(page, 8);
      // The pending bit of port 1 is set: in the grid (pixels and its summary) and in the byte at 2048.
      expect(await grid(page, 'evtchn_pending').locator('.xi-grid-sum').textContent()).toBe('1 set: 1');
      expect(near(await cellColour(page, 'evtchn_pending', 1), pendingOn)).toBe(true);
      expect(near(await cellColour(page, 'evtchn_pending', 2), cellOff)).toBe(true);
      expect(await grid(page, 'evtchn_pending').getAttribute('class')).toContain('xi-grid-flipped');
      expect(await hexByte(page, 2048).textContent()).toBe('02');
      expect(await hexByte(page, 2048).getAttribute('class')).toContain('xi-chg');
      expect(await hexByte(page, 2049).getAttribute('class')).not.toContain('xi-chg');
      // Masked: Xen set no selector bit and asked for no upcall (event_2l.c).
      expect(await page.locator('.xi-flag[data-flag="evtchn_upcall_pending"] .xi-flag-value').textContent()).toBe('0');
      expect(await page.getByTestId('inspector-info').textContent()).toMatch(/changed: 1 byte, 1 bit/);
      // Hovering the byte names its field, with its value.
      await hexByte(page, 2048).hover();
      await poll(() => page.locator('.xi-tip:not([hidden])').textContent()).toMatch(/^evtchn_pendingports 1 set/);
      await b!.shot(`inspector-masking-${theme}`, '.xl-area-side');

      // Step back: the bit clears, the byte goes back to 00 (and is marked as changed again).
      await page.keyboard.press('Shift+F10');
      await inspectedAt(page, 7);
      expect(await grid(page, 'evtchn_pending').locator('.xi-grid-sum').textContent()).toBe('none set');
      expect(near(await cellColour(page, 'evtchn_pending', 1), cellOff)).toBe(true);
      expect(await hexByte(page, 2048).textContent()).toBe('00');
      expect(await hexByte(page, 2048).getAttribute('class')).toContain('xi-chg');
      // The selection and the scroll position survived the refreshes.
      expect(await hexByte(page, 2048).getAttribute('class')).toContain('xi-sel');
    });
  }

  it('selects a port by clicking its bit, outlines it in every grid, and copies the hex', async () => {
    const { page } = await start();
    await openWithPicker(page, 'masking.yaml');
    await openInspector(page);
    await stepTo(page, 8);
    const canvas = grid(page, 'evtchn_mask').locator('canvas');
    const g = await canvas.evaluate((el) => ({ ...(el as unknown as { dataset: Record<string, string> }).dataset }));
    const cell = Number(g.cell);
    const at = { x: Number(g.axis) + 1 * cell + cell / 2, y: Number(g.header) + cell / 2 };
    await canvas.click({ position: at });
    // The port is selected for every view: outlined in every grid, its selector word in the selector's.
    for (const name of ['evtchn_pending', 'evtchn_mask']) await poll(() => grid(page, name).locator('canvas').getAttribute('data-selected')).toBe('1');
    await poll(() => grid(page, 'evtchn_pending_sel (vCPU 0)').locator('canvas').getAttribute('data-selected')).toBe('0');
    // A double click shows its byte in the hex view: evtchn_mask's byte 0 at 0xa00, marked.
    await canvas.dblclick({ position: at });
    await poll(() => page.locator('.xi-hb.xi-mark').evaluateAll((els) => els.map((e) => (e as unknown as { dataset: { o: string } }).dataset.o))).toContain('2560');
    await poll(() => hexByte(page, 2560).textContent()).toBe('02');
    // Copy: the whole page (no field selected) as a hex dump.
    await page.getByTestId('inspector-copy').click();
    await page.locator('.xl-notice', { hasText: 'Copied shared_info' }).waitFor();
    const text = await page.evaluate<string>('navigator.clipboard.readText()');
    expect(text.split('\n')[0]).toBe('shared_info');
    expect(text).toContain('\n0800  02 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|\n');
    // Go to an offset: the field there is selected, and Copy then copies that field only.
    await page.locator('.xi-goto').fill('0xa00');
    await page.locator('.xi-goto').press('Enter');
    await poll(() => page.locator('.xi-fields tr[aria-selected="true"] .xi-fn').textContent()).toBe('evtchn_mask');
    await poll(() => hexByte(page, 2560).getAttribute('class')).toContain('xi-sel');
    await page.getByTestId('inspector-copy').click();
    await page.locator('.xl-notice', { hasText: 'Copied evtchn_mask (512 bytes)' }).waitFor();
    const field = await page.evaluate<string>('navigator.clipboard.readText()');
    expect(field.split('\n').slice(0, 2)).toEqual(['shared_info: evtchn_mask = ports 1 set', '0a00  02 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|']);
    expect(field.trimEnd().split('\n')).toHaveLength(1 + 32);
  });

  it("finds a FIFO port's P bit in its event word: the array page shown, the whole word marked", async () => {
    const { page } = await start('light');
    await openWithPicker(page, 'fifo-priorities.yaml');
    await openInspector(page);
    const pending = 'FIFO PENDING (bit 31 of each event word)';
    // Step until the guest's three sends are queued (its upcalls masked): P set for ports 1–3.
    for (let i = 0; i < 40 && (await grid(page, pending).locator('.xi-grid-sum').textContent()) !== '3 set: 1–3'; i++) await stepTo(page, (await position(page)) + 1);
    expect(await grid(page, pending).locator('.xi-grid-sum').textContent()).toBe('3 set: 1–3');
    const canvas = grid(page, pending).locator('canvas');
    const g = await canvas.evaluate((el) => ({ ...(el as unknown as { dataset: Record<string, string> }).dataset }));
    const cell = Number(g.cell);
    await canvas.dblclick({ position: { x: Number(g.axis) + 2 * cell + cell / 2, y: Number(g.header) + cell / 2 } });
    // Port 2's event word is bytes 8–11 of array page 0; P (bit 31) and L (bit 29) make byte 11 0xa0.
    await poll(() => page.getByTestId('inspector-page').evaluate((el) => (el as unknown as { selectedOptions: { text: string }[] }).selectedOptions[0]?.text ?? '')).toMatch(/^FIFO event array page 0/);
    await poll(() => page.locator('.xi-hb.xi-mark').evaluateAll((els) => els.map((e) => Number((e as unknown as { dataset: { o: string } }).dataset.o)))).toEqual([8, 9, 10, 11]);
    expect(await hexByte(page, 11).textContent()).toBe('a0');
    // The tooltip reads the bit as it is now (set), and says where it lives.
    await canvas.hover({ position: { x: Number(g.axis) + 2 * cell + cell / 2 + 1, y: Number(g.header) + cell / 2 } });
    await poll(() => page.locator('.xi-tip').innerText()).toContain(`${pending}: 1 (set)`);
    expect(await page.locator('.xi-tip').innerText()).toContain('FIFO event array page 0 (ports 0–1023) byte 0xb (11), bit 7');
    await page.mouse.move(5, 5);
    await b!.shot('inspector-fifo-word-light', '.xl-area-side');
  });

  it('refreshes a few times a second while the session runs, and not at all while hidden', async () => {
    const { page } = await start();
    // The first start runs Plan 9's boot. Ctrl+6 brings the inspector up.
    await page.keyboard.press('Control+6');
    await page.getByTestId('inspector').waitFor();
    expect(await page.getByTestId('run-state').textContent()).toBe('Running');
    const refreshes = (ms: number): Promise<number> =>
      page.evaluate<number>(`new Promise((resolve) => {
        let n = 0;
        const el = document.querySelector('[data-testid=inspector]');
        const mo = new MutationObserver((records) => { for (const r of records) if (r.oldValue !== el.dataset.position) n++; });
        mo.observe(el, { attributes: true, attributeOldValue: true, attributeFilter: ['data-position'] });
        setTimeout(() => { mo.disconnect(); resolve(n); }, ${ms});
      })`);
    await poll(() => page.getByTestId('inspector').getAttribute('data-position')).not.toBeNull();
    const n = await refreshes(3000);
    const timing = await page.getByTestId('inspector').evaluate((el) => ({ ...(el as unknown as { dataset: Record<string, string> }).dataset }));
    console.log(`inspector while running: ${n} refreshes in 3 s; last request ${timing.requestMs} ms, decode and diff ${timing.decodeMs} ms, draw ${timing.drawMs} ms`);
    // At most one request per 150 ms (and never two at once), so at most 20 in 3 s; and it does follow the run.
    expect(n).toBeGreaterThanOrEqual(2);
    expect(n).toBeLessThanOrEqual(21);
    await page.keyboard.press('Control+2');
    await page.locator('.xl-tab[data-view="consoles"][aria-selected="true"]').waitFor();
    await page.waitForTimeout(300);
    expect(await refreshes(1500)).toBe(0);
    // Shown again: it catches up with the position at once.
    await page.keyboard.press('F6');
    await poll(() => page.getByTestId('run-state').textContent()).toBe('Paused');
    const at = await position(page);
    await page.keyboard.press('Control+6');
    await poll(() => page.getByTestId('inspector').getAttribute('data-position')).toBe(String(at));
  });

  it('shows Plan 9’s control_if rings on Xen 2.0 with tx_req_prod and tx_resp_prod moving', async () => {
    const { page } = await start('light');
    await openWithPicker(page, 'plan9-boot.yaml');
    await openInspector(page);
    await inspectedAt(page, 0);
    expect(await page.getByTestId('inspector-info').textContent()).toMatch(/^xen-2\.0-x86_32 · 2-level/);
    const tx = page.locator('.xi-ring[data-ring^="control_if tx_ring"]');
    const index = (name: string) => tx.locator(`tr[data-index="${name}"] .xi-ix-value`);
    expect(await index('tx_req_prod').textContent()).toBe('6');
    expect(await index('tx_resp_prod').textContent()).toBe('0');
    // xend answers the six console messages: tx_resp_prod catches up.
    await stepTo(page, 1);
    expect(await index('tx_resp_prod').textContent()).toBe('6');
    expect(await tx.locator('tr[data-index="tx_resp_prod"]').getAttribute('class')).toContain('xi-chg');
    // The guest prints more: eight more requests go on the ring, then xend takes them.
    await stepTo(page, 8);
    expect(await index('tx_req_prod').textContent()).toBe('14');
    expect(await index('tx_resp_prod').textContent()).toBe('6');
    expect(await tx.locator('.xi-pair').first().textContent()).toMatch(/^8 entries between tx_req_cons \(xend\) and tx_req_prod$/);
    expect(await tx.locator('.xi-slot').count()).toBe(8);
    await stepTo(page, 9);
    expect(await index('tx_resp_prod').textContent()).toBe('14');
    // The 32-bit layout: 1024 ports, 32 to a row; the selector is one 32-bit word.
    expect(await grid(page, 'evtchn_pending').locator('canvas').getAttribute('data-cols')).toBe('32');
    expect(await page.locator('.xi-grid[data-grid="evtchn_pending_sel"] .xi-grid-sum').textContent()).toBe('1 set: 0');
    await b!.shot('inspector-plan9-light', '.xl-area-side');
    await tx.scrollIntoViewIfNeeded();
    await b!.shot('inspector-plan9-rings-light', '.xl-area-side');
  });
});
