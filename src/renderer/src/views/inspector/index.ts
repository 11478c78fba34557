/**
 * Inspector: one domain's shared memory as the host reads it
 * (session.inspect → InspectView): the vCPUs' upcall flags and selectors,
 * the event bits as grids, each page as annotated hex beside its fields,
 * the rings with their indexes and slots, the grant entries in use. It asks
 * again when the session's position moves — at once when paused or
 * stepping, a few times a second while running, never while hidden — and
 * marks what changed since the previous answer, so stepping forward and
 * back shows the bits change.
 */
import type { InspectView } from '../../../../contract/inspect.js';
import type { TopologyDomain } from '../../../../contract/session.js';
import { asHostError } from '../../host/connect.js';
import type { View, ViewContext, ViewHandle } from '../../shell/registry.js';
import { h, icon } from '../../util/dom.js';
import { BitGridCanvas } from './bitgrid.js';
import { HexView } from './hexview.js';
import { bitAt, bitLocation, bitSummary, decodeView, describePort, diffViews, emptyChanges, highestSet, key, rowsToShow, type Decoded, type DecodedGrid, type ViewChanges } from './model.js';
import { ringCard } from './rings.js';
import { Tooltip, type TipLine } from './tooltip.js';
import './inspector.css';
import { COMMAND_KEYS } from '../../../../contract/keys.js';

const STORAGE_KEY = 'xenlab.inspector.v1';
/** While running, at most one request per this many ms (and never more often than twice the last answer took). */
const RUNNING_INTERVAL_MS = 150;

type SectionId = 'vcpus' | 'bits' | 'pages' | 'rings' | 'grants';

interface Saved {
  collapsed: Partial<Record<SectionId, boolean>>;
  showAll: boolean;
  page?: string;
}

function loadSaved(): Saved {
  try {
    const s = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? '{}') as Partial<Saved>;
    return { collapsed: typeof s.collapsed === 'object' && s.collapsed !== null ? s.collapsed : {}, showAll: s.showAll === true, ...(typeof s.page === 'string' ? { page: s.page } : {}) };
  } catch {
    return { collapsed: {}, showAll: false };
  }
}

function gridTone(g: DecodedGrid): string {
  const n = g.view.name;
  if (g.kind === 'selector') return 'selector';
  if (g.kind === 'ready') return 'ready';
  if (/MASK/i.test(n)) return 'mask';
  if (/LINKED/.test(n)) return 'linked';
  return 'pending';
}

function mount(container: HTMLElement, ctx: ViewContext): ViewHandle {
  const saved = loadSaved();
  const save = (): void => {
    try {
      localStorage.setItem(STORAGE_KEY, JSON.stringify(saved));
    } catch {
      // storage off: not remembered
    }
  };
  const tip = new Tooltip();

  // ---- the frame: domain picker and what is shown, then the sections
  const picker = h('select', { class: 'xl-select xi-domain', 'aria-label': 'Domain', 'data-testid': 'inspector-domain' });
  const info = h('span', { class: 'xi-info', 'data-testid': 'inspector-info' });
  const refreshBtn = h('button', { class: 'xl-icon-button', title: 'Read the pages again now', 'aria-label': 'Refresh' }, icon('reset'));
  const note = h('div', { class: 'xi-note', role: 'status' });
  const empty = h('div', { class: 'xl-empty' });
  const body = h('div', { class: 'xi-body' });
  const root = h('div', { class: 'xi-root', 'data-testid': 'inspector' }, h('div', { class: 'xl-view-bar' }, h('div', { class: 'xi-bar-left' }, picker, info), h('div', { class: 'xl-view-tools' }, refreshBtn)), note, empty, body, tip.el);
  container.append(root);

  const sections = new Map<SectionId, { el: HTMLElement; content: HTMLElement; count: HTMLElement; tools: HTMLElement }>();
  const section = (id: SectionId, title: string): HTMLElement => {
    const count = h('span', { class: 'xi-sec-count' });
    const tools = h('span', { class: 'xi-sec-tools' });
    const head = h('button', { class: 'xi-sec-head', 'aria-expanded': String(saved.collapsed[id] !== true), 'aria-controls': `xi-sec-${id}` }, h('span', { class: 'xi-chevron', 'aria-hidden': 'true' }), h('span', { class: 'xi-sec-title' }, title), count);
    const content = h('div', { class: 'xi-sec-body', id: `xi-sec-${id}` });
    const el = h('section', { class: 'xi-section', 'data-section': id }, h('div', { class: 'xi-sec-bar' }, head, tools), content);
    content.hidden = saved.collapsed[id] === true;
    head.addEventListener('click', () => {
      const open = content.hidden;
      content.hidden = !open;
      head.setAttribute('aria-expanded', String(open));
      saved.collapsed[id] = !open;
      save();
      if (open) render();
    });
    sections.set(id, { el, content, count, tools });
    body.append(el);
    return content;
  };
  const vcpuBox = section('vcpus', 'vCPUs');
  const bitsBox = section('bits', 'Event channel bits');
  const pagesBox = section('pages', 'Pages');
  const ringsBox = section('rings', 'Rings');
  const grantsBox = section('grants', 'Grant table');
  const showAllBtn = h('button', { class: 'xi-link', 'aria-pressed': String(saved.showAll), title: 'Show every bit of the grids, not only the rows up to the highest port in use' });
  sections.get('bits')!.tools.append(showAllBtn);
  showAllBtn.addEventListener('click', () => {
    saved.showAll = !saved.showAll;
    save();
    render();
  });

  const hex = new HexView(tip, {
    pageChosen: (name) => {
      saved.page = name;
      save();
      render();
    },
    copied: (what) => ctx.notify(`Copied ${what} as a hex dump`),
    copyFailed: () => ctx.notify('The clipboard refused the copy', 'error'),
  });
  pagesBox.append(hex.el);

  // ---- state
  let domid: number | undefined;
  let cur: Decoded | undefined;
  let changes: ViewChanges = emptyChanges();
  let selectedPort: number | undefined;
  let visible = false;
  let stale = true;
  let error = '';
  const grids = new Map<string, BitGridCanvas>();
  const selectorGrids = new Map<string, BitGridCanvas>();
  const ringCards = new Map<string, { json: string; el: HTMLElement; marked: boolean }>();

  // ---- asking the host
  let inFlight = false;
  let again = false;
  let lastAt = 0;
  let lastRtt = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  /** Bumped when the session or the domain changes: answers to older questions are dropped. */
  let generation = 0;

  const refresh = (): void => {
    if (!visible || ctx.session.info === undefined || domid === undefined) {
      stale = true;
      return;
    }
    if (inFlight) {
      again = true;
      return;
    }
    const running = ctx.session.status?.state === 'running';
    const wait = running ? Math.max(RUNNING_INTERVAL_MS, 2 * lastRtt) - (performance.now() - lastAt) : 0;
    if (wait > 0) {
      timer ??= setTimeout(() => {
        timer = undefined;
        refresh();
      }, wait);
      return;
    }
    if (timer !== undefined) {
      clearTimeout(timer);
      timer = undefined;
    }
    stale = false;
    inFlight = true;
    const gen = generation;
    const asked = domid;
    const t0 = performance.now();
    ctx.host.request('session.inspect', { domid: asked }).then(
      (view) => {
        root.dataset.requestMs = (performance.now() - t0).toFixed(1);
        if (gen === generation) apply(view);
      },
      (e: unknown) => {
        if (gen !== generation) return;
        error = asHostError(e).message;
        renderNote();
        if (cur === undefined) renderEmpty();
      },
    ).finally(() => {
      inFlight = false;
      lastAt = performance.now();
      lastRtt = lastAt - t0;
      if (again) {
        again = false;
        refresh();
      }
    });
  };

  const apply = (view: InspectView): void => {
    const t0 = performance.now();
    const next = decodeView(view);
    changes = diffViews(cur, next);
    root.dataset.decodeMs = (performance.now() - t0).toFixed(1);
    cur = next;
    error = '';
    render();
  };

  const setDomain = (d: number, announce: boolean): void => {
    if (d === domid) return;
    domid = d;
    generation++;
    cur = undefined;
    changes = emptyChanges();
    picker.value = String(d);
    if (announce) ctx.select({ kind: 'domain', domid: d });
    renderEmpty();
    refresh();
  };

  const fillPicker = (): void => {
    const doms = ctx.session.topology?.domains ?? [];
    const want = doms.map((d) => `${d.domid}:${d.name}:${d.state}`).join(',');
    if (picker.dataset.doms !== want) {
      picker.dataset.doms = want;
      picker.replaceChildren(...doms.map((d) => h('option', { value: String(d.domid) }, `${d.name} (dom${d.domid})${d.state === 'running' ? '' : ` — ${d.state}`}`)));
    }
    if (domid !== undefined && doms.some((d) => d.domid === domid)) picker.value = String(domid);
    else if (doms.length > 0) setDomain((doms.find((d) => d.domid !== 0) ?? doms[0]!).domid, false);
  };

  // ---- drawing

  let frame = 0;
  const render = (): void => {
    if (frame !== 0) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      const t0 = performance.now();
      draw();
      // What a refresh costs, for the e2e test's figures: the request, then decoding and drawing.
      root.dataset.drawMs = (performance.now() - t0).toFixed(1);
    });
  };

  const renderNote = (): void => {
    note.textContent = error === '' ? '' : `Could not read the pages: ${error}`;
  };

  const renderEmpty = (): void => {
    const none = ctx.session.info === undefined;
    empty.textContent = none ? 'Open a scenario to see its domains’ shared memory: shared_info and start_info, the event bits, the rings and the grant table.' : cur === undefined ? (error === '' ? 'Reading the domain’s pages…' : 'Pick a domain that exists at this position.') : '';
    empty.hidden = !none && cur !== undefined;
    body.hidden = cur === undefined;
  };

  const draw = (): void => {
    renderNote();
    renderEmpty();
    const d = cur;
    if (d === undefined) return;
    const v = d.view;
    const abi = v.abi === 'fifo' ? 'FIFO' : '2-level';
    const changedText = changes.byteCount + changes.bitCount === 0 ? '' : ` · changed: ${changes.byteCount} byte${changes.byteCount === 1 ? '' : 's'}, ${changes.bitCount} bit${changes.bitCount === 1 ? '' : 's'}`;
    info.textContent = `${v.layout} · ${abi} · position ${v.position}${changedText}`;
    if (root.dataset.position !== String(v.position)) root.dataset.position = String(v.position);
    if (root.dataset.domid !== String(v.domid)) root.dataset.domid = String(v.domid);
    if (visible) {
      if (!sections.get('vcpus')!.content.hidden) drawVcpus(d);
      if (!sections.get('bits')!.content.hidden) drawGrids(d);
      if (!sections.get('pages')!.content.hidden) drawPages(d);
      if (!sections.get('rings')!.content.hidden) drawRings(d);
      if (!sections.get('grants')!.content.hidden) drawGrants(d);
    }
    sections.get('vcpus')!.count.textContent = String(v.vcpus.length);
    sections.get('bits')!.count.textContent = String(d.grids.filter((g) => g.kind === 'port').length);
    sections.get('pages')!.count.textContent = String(v.pages.length);
    sections.get('rings')!.count.textContent = String(v.rings.length);
    sections.get('grants')!.count.textContent = String(v.grants.length);
  };

  const topologyDomain = (): TopologyDomain | undefined => ctx.session.topology?.domains.find((x) => x.domid === domid);

  const gridTip = (g: DecodedGrid, bit: number | undefined, e: MouseEvent): void => {
    const d = cur;
    if (bit === undefined || d === undefined) {
      tip.hide();
      return;
    }
    const set = bitAt(g.bits, bit);
    const flipped = changes.bits.get(g.view.name)?.has(bit) === true;
    const lines: TipLine[] = [];
    if (g.kind === 'port') {
      const td = topologyDomain();
      lines.push({ text: `port ${bit}`, kind: 'title' }, { text: describePort(td?.ports.find((p) => p.port === bit), ctx.session.topology?.domains ?? []) });
    } else if (g.kind === 'selector') lines.push({ text: `selector bit ${bit}`, kind: 'title' }, { text: `word ${bit} of evtchn_pending: ports ${bit * d.wordBits}–${(bit + 1) * d.wordBits - 1}` });
    else lines.push({ text: `priority ${bit}`, kind: 'title' }, { text: `the READY bit of vCPU ${g.vcpu ?? 0}'s priority-${bit} queue` });
    lines.push({ text: `${g.view.name}: ${set ? '1 (set)' : '0 (clear)'}${flipped ? ' · flipped since the last refresh' : ''}`, kind: 'mono' });
    const loc = bitLocation(g.view, bit);
    if (d.pages.some((p) => p.view.name === loc.page)) lines.push({ text: `${loc.page} byte 0x${loc.byte.toString(16)} (${loc.byte}), bit ${loc.bit}`, kind: 'dim' });
    lines.push({ text: g.kind === 'port' ? 'click: select the port · double-click: its byte in the hex view' : 'double-click: its byte in the hex view', kind: 'dim' });
    tip.show(lines, e.clientX, e.clientY);
  };

  const selectPort = (port: number): void => {
    if (domid === undefined) return;
    ctx.select({ kind: 'port', domid, port });
  };

  const revealBit = (g: DecodedGrid, bit: number): void => {
    const d = cur;
    const loc = bitLocation(g.view, bit);
    if (d === undefined || !d.pages.some((p) => p.view.name === loc.page)) return;
    if (g.kind === 'port') selectPort(bit);
    saved.page = loc.page;
    const pages = sections.get('pages')!;
    if (pages.content.hidden) pages.el.querySelector<HTMLButtonElement>('.xi-sec-head')!.click();
    drawPages(d);
    hex.flush();
    hex.reveal(loc.byte);
    pages.el.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
  };

  /** A grid's canvas, made once per name: its handlers read the grid as the latest refresh decoded it. */
  const makeGrid = (first: DecodedGrid): BitGridCanvas => {
    const name = first.view.name;
    const now = (): DecodedGrid => cur?.grids.find((x) => x.view.name === name) ?? first;
    return new BitGridCanvas(name, gridTone(first), {
      hover: (bit, e) => gridTip(now(), bit, e),
      pick: (bit) => {
        if (now().kind === 'port') selectPort(bit);
      },
      reveal: (bit) => revealBit(now(), bit),
      move: (from, delta) => {
        const g = now();
        if (g.kind !== 'port') return;
        const to = from + delta;
        if (to >= 0 && to < g.view.length) selectPort(to);
      },
    });
  };

  const portRows = (d: Decoded, cols: number): number => {
    const ports = d.grids.filter((g) => g.kind === 'port');
    const length = Math.max(0, ...ports.map((g) => g.view.length));
    if (saved.showAll) return Math.ceil(length / cols);
    let highest = selectedPort ?? 0;
    for (const g of ports) highest = Math.max(highest, highestSet(g.bits, g.view.length), ...(changes.bits.get(g.view.name) ?? []));
    for (const p of topologyDomain()?.ports ?? []) if (p.state !== 'closed') highest = Math.max(highest, p.port);
    return rowsToShow(length, cols, highest);
  };

  const drawGrids = (d: Decoded): void => {
    const ports = d.grids.filter((g) => g.kind === 'port');
    const cols = d.wordBits;
    const rows = portRows(d, cols);
    const length = Math.max(0, ...ports.map((g) => g.view.length));
    const allRows = Math.ceil(length / cols);
    showAllBtn.textContent = saved.showAll ? 'Show the ports in use' : `Show all ${length} ports`;
    showAllBtn.setAttribute('aria-pressed', String(saved.showAll));
    showAllBtn.hidden = allRows <= 2;
    const names = new Set(ports.map((g) => g.view.name));
    for (const [n, c] of grids) {
      if (!names.has(n)) {
        c.el.closest('.xi-grid')?.remove();
        grids.delete(n);
      }
    }
    if (ports.length === 0) {
      if (bitsBox.querySelector('.xl-empty') === null) bitsBox.replaceChildren(h('div', { class: 'xl-empty' }, 'This domain has no event bits to show.'));
      return;
    }
    bitsBox.querySelector(':scope > .xl-empty')?.remove();
    ports.forEach((g, i) => {
      let c = grids.get(g.view.name);
      if (c === undefined) {
        c = makeGrid(g);
        grids.set(g.view.name, c);
        const wrap = h('div', { class: 'xi-grid', 'data-grid': g.view.name }, h('div', { class: 'xi-grid-head' }, h('span', { class: 'xi-grid-name' }, g.view.name), h('span', { class: 'xi-grid-where' }), h('span', { class: 'xi-grid-sum' })), c.el, h('div', { class: 'xi-grid-foot' }));
        bitsBox.append(wrap);
      }
      const wrap = c.el.closest<HTMLElement>('.xi-grid')!;
      if (bitsBox.children[i] !== wrap) bitsBox.insertBefore(wrap, bitsBox.children[i] ?? null);
      const inPage = d.pages.some((p) => p.view.name === g.view.page);
      const w = g.view.words;
      wrap.querySelector('.xi-grid-where')!.textContent =
        w !== undefined ? `one bit of each ${w.size}-byte event word, ${w.pages.length === 1 ? 'in event array page 0' : `in event array pages 0–${w.pages.length - 1}`}` : inPage ? `${g.view.page} +0x${g.view.offset.toString(16)}` : g.view.page;
      const sum = bitSummary(g.bits, g.view.length);
      wrap.querySelector('.xi-grid-sum')!.textContent = sum;
      c.el.setAttribute('aria-label', `${g.view.name}: ${sum}`);
      const flipped = changes.bits.get(g.view.name);
      wrap.querySelector('.xi-grid-foot')!.textContent = rows < allRows ? `ports 0–${rows * cols - 1} of ${g.view.length}; the rest are clear` : '';
      wrap.classList.toggle('xi-grid-flipped', flipped !== undefined);
      c.set(g, { cols, rows, changed: flipped, selected: selectedPort });
    });
  };

  const drawVcpus = (d: Decoded): void => {
    vcpuBox.replaceChildren();
    const live = new Set<string>();
    for (const v of d.view.vcpus) {
      const flag = (name: string, on: boolean, what: string, k: string): HTMLElement =>
        h('span', { class: `xi-flag${on ? ' xi-on' : ''}${changes.vcpus.has(key(v.vcpu, k)) ? ' xi-chg' : ''}`, title: what, 'data-flag': name }, h('span', { class: 'xi-flag-name' }, name), h('span', { class: 'xi-flag-value' }, on ? '1' : '0'));
      const sel = h('span', { class: `xi-sel-hex${changes.vcpus.has(key(v.vcpu, 'pendingSel')) ? ' xi-chg' : ''}`, title: 'evtchn_pending_sel: bit w set means word w of evtchn_pending may hold work for this vCPU' }, v.pendingSel);
      const row = h(
        'div',
        { class: 'xi-vcpu', 'data-vcpu': String(v.vcpu) },
        h('div', { class: 'xi-vcpu-head' }, h('span', { class: 'xi-vcpu-name' }, `vCPU ${v.vcpu}`), flag('evtchn_upcall_pending', v.upcallPending, 'Xen sets it to ask for an upcall; the guest clears it before it scans', 'upcallPending'), flag('evtchn_upcall_mask', v.upcallMask, v.upcallMask ? 'set: events are off on this vCPU (no upcall is injected)' : 'clear: events are on', 'upcallMask'), h('span', { class: 'xi-sel-label' }, 'evtchn_pending_sel'), sel),
      );
      for (const g of d.grids.filter((x) => x.kind !== 'port' && x.vcpu === v.vcpu)) {
        live.add(g.view.name);
        let c = selectorGrids.get(g.view.name);
        if (c === undefined) {
          c = makeGrid(g);
          selectorGrids.set(g.view.name, c);
        }
        row.append(h('div', { class: 'xi-grid xi-grid-small', 'data-grid': g.view.name }, h('div', { class: 'xi-grid-head' }, h('span', { class: 'xi-grid-name' }, g.view.name), h('span', { class: 'xi-grid-sum' }, bitSummary(g.bits, g.view.length))), c.el));
        if (row.parentElement === null) vcpuBox.append(row);
        const selected = g.kind === 'selector' && selectedPort !== undefined ? Math.floor(selectedPort / d.wordBits) : undefined;
        c.set(g, { cols: g.view.length, rows: 1, changed: changes.bits.get(g.view.name), selected });
      }
      if (row.parentElement === null) vcpuBox.append(row);
    }
    for (const n of [...selectorGrids.keys()]) if (!live.has(n)) selectorGrids.delete(n);
    if (d.view.vcpus.length === 0) vcpuBox.append(h('div', { class: 'xl-empty' }, 'This domain has no vCPUs.'));
  };

  const drawPages = (d: Decoded): void => {
    if (d.pages.length === 0) {
      hex.el.hidden = true;
      return;
    }
    hex.el.hidden = false;
    const want = saved.page ?? hex.pageName;
    const page = d.pages.find((p) => p.view.name === want) ?? d.pages[0]!;
    const marks = new Set<number>();
    if (selectedPort !== undefined)
      for (const g of d.grids) {
        if (g.kind !== 'port' || selectedPort >= g.view.length) continue;
        const loc = bitLocation(g.view, selectedPort);
        if (loc.page !== page.view.name) continue;
        // A FIFO port's whole event word, not only the byte its P, M or L bit is in.
        const w = g.view.words;
        const start = w === undefined ? loc.byte : loc.byte - (w.bit >> 3);
        for (let b = start; b < start + (w?.size ?? 1); b++) marks.add(b);
      }
    hex.set(d.pages, page, changes.bytes.get(page.view.name) ?? null, changes.fields, marks);
  };

  const drawRings = (d: Decoded): void => {
    const live = new Set<string>();
    d.view.rings.forEach((r, i) => {
      live.add(r.name);
      const json = JSON.stringify(r);
      const marked = [...changes.rings].some((k) => k.startsWith(`${r.name}\u0000`));
      let card = ringCards.get(r.name);
      if (card === undefined || card.json !== json || card.marked || marked) {
        const el = ringCard(r, changes.rings);
        if (card !== undefined) card.el.replaceWith(el);
        card = { json, el, marked };
        ringCards.set(r.name, card);
      }
      if (ringsBox.children[i] !== card.el) ringsBox.insertBefore(card.el, ringsBox.children[i] ?? null);
    });
    for (const [n, c] of ringCards) {
      if (!live.has(n)) {
        c.el.remove();
        ringCards.delete(n);
      }
    }
    ringsBox.querySelector(':scope > .xl-empty')?.remove();
    if (d.view.rings.length === 0) ringsBox.append(h('div', { class: 'xl-empty' }, d.view.layout.includes('2.0') ? 'No control interface found in this domain’s shared_info.' : 'No rings: this domain has no console or xenstore ring, and no shared ring it granted was mapped.'));
  };

  const drawGrants = (d: Decoded): void => {
    const g = d.view.grants;
    if (g.length === 0) {
      grantsBox.replaceChildren(h('div', { class: 'xl-empty' }, d.view.layout.includes('2.0') ? 'Xen 2.0.0 guests share pages over the control interface: no grant entries.' : 'No grant entry in use: the domain has granted nothing.'));
      return;
    }
    grantsBox.replaceChildren(
      h(
        'table',
        { class: 'xi-grants', 'aria-label': 'Grant entries' },
        h('thead', {}, h('tr', {}, h('th', {}, 'ref'), h('th', {}, 'flags'), h('th', {}, 'domid'), h('th', {}, 'frame'))),
        h('tbody', {}, ...g.map((e) => h('tr', { class: changes.grants.has(e.ref) ? 'xi-chg' : undefined, 'data-ref': String(e.ref) }, h('td', {}, String(e.ref)), h('td', { class: 'xi-mono' }, e.flags), h('td', {}, String(e.domid)), h('td', { class: 'xi-mono', title: `0x${e.frame.toString(16)}` }, String(e.frame))))),
      ),
    );
  };

  // ---- events
  picker.addEventListener('change', () => setDomain(Number(picker.value), true));
  refreshBtn.addEventListener('click', () => {
    lastAt = 0;
    refresh();
  });
  let lastPosition = -1;
  ctx.session.on('session', () => {
    generation++;
    cur = undefined;
    changes = emptyChanges();
    lastPosition = -1;
    selectedPort = undefined;
    error = '';
    fillPicker();
    renderEmpty();
    refresh();
  });
  ctx.session.on('topology', () => {
    fillPicker();
    if (cur !== undefined && visible) render();
  });
  ctx.session.on('status', (s) => {
    if (s.position !== lastPosition) {
      lastPosition = s.position;
      refresh();
    } else if (s.state !== 'running' && timer !== undefined) {
      // Paused while a throttled refresh waited: show where it stopped now.
      clearTimeout(timer);
      timer = undefined;
      lastAt = 0;
      refresh();
    }
  });
  ctx.session.on('ended', (e) => {
    error = e.message;
    renderNote();
  });
  ctx.onSelect((sel) => {
    if (sel.kind === 'domain') setDomain(sel.domid, false);
    else if (sel.kind === 'port') {
      setDomain(sel.domid, false);
      selectedPort = sel.port;
      for (const g of grids.values()) g.reveal(sel.port);
      render();
    }
  });

  fillPicker();
  renderEmpty();

  return {
    shown() {
      visible = true;
      if (stale) refresh();
      else render();
      requestAnimationFrame(() => {
        for (const g of [...grids.values(), ...selectorGrids.values()]) g.layout();
        render();
      });
    },
    hidden() {
      visible = false;
      tip.hide();
    },
    resized() {
      for (const g of [...grids.values(), ...selectorGrids.values()]) g.layout();
      render();
      hex.schedule();
    },
    dispose() {
      if (timer !== undefined) clearTimeout(timer);
      cancelAnimationFrame(frame);
    },
  };
}

export const inspectorView: View = {
  id: 'inspector',
  title: 'Inspector',
  area: 'side',
  order: 40,
  command: 'view.inspector',
  keys: COMMAND_KEYS['view.inspector'],
  mount,
};
