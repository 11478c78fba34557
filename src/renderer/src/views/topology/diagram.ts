/**
 * The topology drawn: domain boxes and their port rows as HTML (real
 * buttons: focus, keyboard, screen readers, ellipsis for long labels), the
 * edges and the notifications' dots in SVG layers beneath and above them,
 * all placed from one computed layout in one scaled scene (zoom) inside a
 * scroll container (pan). Updates are reconciled by key: a step that flips
 * one pending bit touches one row, not the picture. The animation layer
 * draws from Activity each frame: a fixed pool of dots, and heat on the
 * edges and ports that have it.
 */
import type { TopologyDomain, TopologyPort } from '../../../../contract/session.js';
import type { Activity } from './activity.js';
import { GEOM, portKey, type DomainBox, type EdgeBox, type TopologyLayout } from './layout.js';
import { DOMAIN_STATE_TEXT, domainMeta, peerText, portLabel, portSentence, portSource, portSummary, rateText, SOURCE_BADGE } from './words.js';

const SVG = 'http://www.w3.org/2000/svg';

export interface DiagramHandlers {
  selectPort(domid: number, port: number): void;
  selectDomain(domid: number): void;
  toggleDomain(domid: number): void;
}

export type DiagramSelection = { kind: 'port'; domid: number; port: number } | { kind: 'domain'; domid: number } | undefined;

interface DomainEl {
  root: HTMLElement;
  fold: HTMLButtonElement;
  button: HTMLButtonElement;
  name: HTMLElement;
  domidText: HTMLElement;
  state: HTMLElement;
  meta: HTMLElement;
  list: HTMLElement;
  summary: HTMLElement;
  ports: Map<number, { el: HTMLButtonElement; sig: string }>;
  sig: string;
  geo: string;
}

interface EdgeEl {
  g: SVGGElement;
  line: SVGPathElement;
  heat: SVGPathElement;
  hit: SVGPathElement;
  rate: SVGTextElement;
  sig: string;
  edge: EdgeBox;
  /** The heat opacity last written ('' when none). */
  drawnHeat: string;
}

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

function span(cls: string, text = ''): HTMLSpanElement {
  const s = document.createElement('span');
  s.className = cls;
  s.textContent = text;
  return s;
}

export const ZOOM_MIN = 0.25;
export const ZOOM_MAX = 2;

export class Diagram {
  readonly el: HTMLElement;
  private readonly sizer: HTMLElement;
  private readonly scene: HTMLElement;
  private readonly edgeLayer: SVGSVGElement;
  private readonly boxLayer: HTMLElement;
  private readonly overlay: SVGSVGElement;
  private readonly dotEls: SVGCircleElement[] = [];
  private layout: TopologyLayout | undefined;
  private readonly domains = new Map<number, DomainEl>();
  private readonly edges = new Map<string, EdgeEl>();
  private selection: DiagramSelection;
  /** The item that takes the Tab stop (roving tabindex): "d:<domid>" or "p:<domid>:<port>". */
  private focusId: string | undefined;
  zoom = 1;
  /** Fit the picture to the view until the user zooms. */
  autoFit = true;
  onZoom: (() => void) | undefined;
  private hot = { ports: new Set<HTMLElement>(), edges: new Set<EdgeEl>() };
  private spare = { ports: new Set<HTMLElement>(), edges: new Set<EdgeEl>() };
  private readonly pt = { x: 0, y: 0 };
  /** The scroll container's size, kept by a ResizeObserver (reading clientWidth would force a layout). */
  readonly viewSize = { width: 0, height: 0 };
  onResize: (() => void) | undefined;
  private zoomSig = '';
  private readonly observer: ResizeObserver;

  constructor(private readonly handlers: DiagramHandlers) {
    this.edgeLayer = svg('svg', { class: 'xl-topo-edges', 'aria-hidden': 'true' });
    this.boxLayer = document.createElement('div');
    this.boxLayer.className = 'xl-topo-boxes';
    this.boxLayer.setAttribute('role', 'group');
    this.boxLayer.setAttribute('aria-label', 'Domains and their event-channel ports (arrow keys move, Enter selects, Left/Right collapse and expand)');
    this.overlay = svg('svg', { class: 'xl-topo-overlay', 'aria-hidden': 'true' });
    this.scene = document.createElement('div');
    this.scene.className = 'xl-topo-scene';
    this.scene.append(this.edgeLayer, this.boxLayer, this.overlay);
    this.sizer = document.createElement('div');
    this.sizer.className = 'xl-topo-sizer';
    this.sizer.append(this.scene);
    this.el = document.createElement('div');
    this.el.className = 'xl-topo-scroll';
    this.el.dataset.testid = 'topology-diagram';
    this.el.append(this.sizer);
    this.boxLayer.addEventListener('keydown', (e) => this.onKey(e));
    this.boxLayer.addEventListener('focusin', (e) => {
      const id = (e.target as HTMLElement).dataset.focus;
      if (id !== undefined) this.setFocusId(id);
    });
    this.pan();
    this.observer = new ResizeObserver((entries) => {
      const r = entries[entries.length - 1]!.contentRect;
      if (r.width === this.viewSize.width && r.height === this.viewSize.height) return;
      this.viewSize.width = r.width;
      this.viewSize.height = r.height;
      this.onResize?.();
    });
    this.observer.observe(this.el);
    this.el.addEventListener(
      'wheel',
      (e) => {
        if (!e.ctrlKey && !e.metaKey) return;
        e.preventDefault();
        this.zoomAt(this.zoom * Math.pow(1.0015, -e.deltaY), e.clientX, e.clientY);
      },
      { passive: false },
    );
  }

  dispose(): void {
    this.observer.disconnect();
  }

  get size(): { width: number; height: number } {
    return { width: this.layout?.width ?? 0, height: this.layout?.height ?? 0 };
  }

  // ---- drawing the structure ----

  render(layout: TopologyLayout, nameOf: (domid: number) => string): void {
    this.layout = layout;
    const { width, height } = layout;
    if (this.overlay.getAttribute('width') !== String(width) || this.overlay.getAttribute('height') !== String(height)) {
      for (const s of [this.edgeLayer, this.overlay]) {
        s.setAttribute('width', String(width));
        s.setAttribute('height', String(height));
        s.setAttribute('viewBox', `0 0 ${width} ${height}`);
      }
      this.scene.style.width = `${width}px`;
      this.scene.style.height = `${height}px`;
    }
    this.renderDomains(layout, nameOf);
    this.renderEdges(layout, nameOf);
    this.applyZoom();
    this.applySelection();
    this.ensureTabStop();
  }

  private renderDomains(layout: TopologyLayout, nameOf: (domid: number) => string): void {
    const seen = new Set<number>();
    let prev: HTMLElement | undefined;
    for (const box of layout.domains) {
      seen.add(box.domid);
      let el = this.domains.get(box.domid);
      if (el === undefined) {
        el = this.makeDomain(box.domid);
        this.domains.set(box.domid, el);
      }
      this.updateDomain(el, box, nameOf);
      // Keep DOM order = layout order (keyboard order, screen readers).
      const want = prev === undefined ? this.boxLayer.firstChild : prev.nextSibling;
      if (want !== el.root) this.boxLayer.insertBefore(el.root, want);
      prev = el.root;
    }
    for (const [domid, el] of this.domains) {
      if (!seen.has(domid)) {
        el.root.remove();
        this.domains.delete(domid);
      }
    }
  }

  private makeDomain(domid: number): DomainEl {
    const root = document.createElement('div');
    root.className = 'xl-topo-domain';
    root.dataset.domid = String(domid);
    const fold = document.createElement('button');
    fold.className = 'xl-topo-fold';
    fold.tabIndex = -1;
    fold.append(chevron());
    fold.addEventListener('click', () => this.handlers.toggleDomain(domid));
    const button = document.createElement('button');
    button.className = 'xl-topo-dom';
    button.tabIndex = -1;
    button.dataset.focus = `d:${domid}`;
    const name = span('xl-topo-name');
    const domidText = span('xl-topo-domid');
    const state = span('xl-topo-state');
    const meta = span('xl-topo-meta');
    const line = span('xl-topo-line');
    line.append(name, domidText, state);
    button.append(line, meta);
    button.addEventListener('click', () => this.handlers.selectDomain(domid));
    const head = document.createElement('div');
    head.className = 'xl-topo-head';
    head.append(fold, button);
    const list = document.createElement('div');
    list.className = 'xl-topo-ports';
    list.setAttribute('role', 'group');
    const summary = span('xl-topo-summary');
    root.append(head, list, summary);
    return { root, fold, button, name, domidText, state, meta, list, summary, ports: new Map(), sig: '', geo: '' };
  }

  private updateDomain(el: DomainEl, box: DomainBox, nameOf: (domid: number) => string): void {
    const d = box.data;
    const geo = `${box.x},${box.y},${box.w},${box.h}`;
    if (geo !== el.geo) {
      el.geo = geo;
      const s = el.root.style;
      s.left = `${box.x}px`;
      s.top = `${box.y}px`;
      s.width = `${box.w}px`;
      s.height = `${box.h}px`;
    }
    const sig = `${d.name}|${d.state}|${d.kernel}|${d.abi}|${d.vcpus}|${box.collapsed}|${d.ports.length}|${portSummary(d)}`;
    if (sig !== el.sig) {
      el.sig = sig;
      el.root.dataset.state = d.state;
      el.root.dataset.collapsed = String(box.collapsed);
      el.name.textContent = d.name;
      el.domidText.textContent = d.name === `dom${d.domid}` ? '' : `dom${d.domid}`;
      el.state.textContent = d.state === 'running' ? '' : DOMAIN_STATE_TEXT[d.state];
      el.meta.textContent = domainMeta(d);
      el.button.setAttribute('aria-label', `${d.name}, domain ${d.domid}, ${DOMAIN_STATE_TEXT[d.state]}: ${domainMeta(d)}${box.collapsed ? `; ports collapsed: ${portSummary(d)}` : ''}`);
      el.button.title = `${d.name} (domain ${d.domid}) — ${DOMAIN_STATE_TEXT[d.state]}\n${domainMeta(d)}\nClick for the domain; the arrow collapses or expands its ports.`;
      el.fold.setAttribute('aria-expanded', String(!box.collapsed));
      el.fold.setAttribute('aria-label', `${box.collapsed ? 'Expand' : 'Collapse'} the ports of ${d.name}`);
      el.fold.title = box.collapsed ? 'Show its ports' : 'Collapse its ports';
      el.list.setAttribute('aria-label', `ports of ${d.name}`);
      el.summary.textContent = portSummary(d);
    }
    el.summary.hidden = !box.collapsed && box.ports.length > 0;
    el.list.hidden = box.collapsed;
    // Port rows, reconciled by port number.
    const keep = new Set<number>();
    let prev: HTMLElement | undefined;
    for (const p of box.ports) {
      keep.add(p.port);
      let row = el.ports.get(p.port);
      if (row === undefined) {
        row = { el: this.makePort(d.domid, p.port), sig: '' };
        el.ports.set(p.port, row);
      }
      const psig = JSON.stringify(p) + (d.vcpus > 1 ? 'v' : '') + peerText(p, nameOf) + d.name;
      if (psig !== row.sig) {
        row.sig = psig;
        this.updatePort(row.el, d, p, nameOf);
      }
      const want = prev === undefined ? el.list.firstChild : prev.nextSibling;
      if (want !== row.el) el.list.insertBefore(row.el, want);
      prev = row.el;
    }
    for (const [port, row] of el.ports) {
      if (!keep.has(port)) {
        row.el.remove();
        el.ports.delete(port);
      }
    }
  }

  private makePort(domid: number, port: number): HTMLButtonElement {
    const b = document.createElement('button');
    b.className = 'xl-topo-port';
    b.tabIndex = -1;
    b.dataset.domid = String(domid);
    b.dataset.port = String(port);
    b.dataset.focus = `p:${domid}:${port}`;
    b.style.height = `${GEOM.row}px`;
    b.append(span('xl-topo-bar'), span('xl-topo-num', String(port)), span('xl-topo-src'), span('xl-topo-label'), span('xl-topo-peer'), span('xl-topo-vcpu'), span('xl-topo-pend'), span('xl-topo-mask'));
    b.addEventListener('click', () => this.handlers.selectPort(domid, port));
    return b;
  }

  private updatePort(b: HTMLButtonElement, d: TopologyDomain, p: TopologyPort, nameOf: (domid: number) => string): void {
    const [, , src, label, peer, vcpu, pend, mask] = b.children as unknown as HTMLElement[];
    b.dataset.state = p.state;
    b.dataset.pending = String(p.pending);
    b.dataset.masked = String(p.masked);
    const badge = SOURCE_BADGE[portSource(p)];
    src!.textContent = badge?.text ?? '';
    src!.hidden = badge === undefined;
    if (badge !== undefined) src!.title = badge.title;
    label!.textContent = portLabel(p);
    peer!.textContent = peerText(p, nameOf);
    vcpu!.textContent = d.vcpus > 1 ? `v${p.vcpu}` : '';
    vcpu!.hidden = d.vcpus <= 1;
    pend!.hidden = !p.pending;
    mask!.hidden = !p.masked;
    const sentence = portSentence(d, p, nameOf);
    b.setAttribute('aria-label', sentence);
    b.title = `${sentence[0]!.toUpperCase()}${sentence.slice(1)}.\nClick for its status and why its events were or were not delivered.`;
  }

  private renderEdges(layout: TopologyLayout, nameOf: (domid: number) => string): void {
    const seen = new Set<string>();
    for (const e of layout.edges) {
      seen.add(e.key);
      let el = this.edges.get(e.key);
      if (el === undefined) {
        const g = svg('g', { class: 'xl-topo-edge' });
        const title = svg('title');
        const heat = svg('path', { class: 'xl-topo-edge-heat' });
        const line = svg('path', { class: 'xl-topo-edge-line' });
        const hit = svg('path', { class: 'xl-topo-edge-hit' });
        const rate = svg('text', { class: 'xl-topo-rate' });
        g.append(title, heat, line, hit, rate);
        el = { g, line, heat, hit, rate, sig: '', edge: e, drawnHeat: '' };
        this.edges.set(e.key, el);
        this.edgeLayer.append(g);
      }
      el.edge = e;
      const sig = `${e.path.d}|${e.state}|${e.channels.length}|${e.target?.name ?? ''}|${e.channels.map((c) => `${c.a.domid}.${c.a.port}.${c.b?.domid}.${c.b?.port}`).join(',')}`;
      if (sig === el.sig) continue;
      el.sig = sig;
      this.updateEdge(el, e, nameOf);
    }
    for (const [k, el] of this.edges) {
      if (!seen.has(k)) {
        el.g.remove();
        this.edges.delete(k);
        this.hot.edges.delete(el);
      }
    }
  }

  private updateEdge(el: EdgeEl, e: EdgeBox, nameOf: (domid: number) => string): void {
    const g = el.g;
    g.dataset.key = e.key;
    g.dataset.kind = e.kind;
    g.dataset.state = e.state;
    g.dataset.a = `${e.a.domid}:${e.a.port}`;
    if (e.b !== undefined) g.dataset.b = `${e.b.domid}:${e.b.port}`;
    else delete g.dataset.b;
    el.line.setAttribute('d', e.path.d);
    el.heat.setAttribute('d', e.path.d);
    el.hit.setAttribute('d', e.path.d);
    // Stub extras (arrowhead, target name) and the count of merged channels are redrawn whole.
    for (const x of [...g.querySelectorAll('.xl-topo-extra')]) x.remove();
    if (e.kind === 'stub' && e.target !== undefined) {
      const end = e.path.end;
      const dir = e.a.side === 'l' ? -1 : 1;
      g.append(svg('path', { class: 'xl-topo-extra xl-topo-arrow', d: `M${end.x} ${end.y - 4}L${end.x + dir * 6} ${end.y}L${end.x} ${end.y + 4}Z` }));
      const t = svg('text', { class: 'xl-topo-extra xl-topo-stub-label', x: e.target.x + dir * 4, y: e.target.y + 4, 'text-anchor': e.target.anchor });
      t.textContent = e.target.name;
      g.append(t);
    }
    if (e.kind === 'channel' && e.channels.length > 1) {
      const mid = e.path.at(0.5, { x: 0, y: 0 });
      const t = svg('text', { class: 'xl-topo-extra xl-topo-count', x: mid.x, y: mid.y - 5, 'text-anchor': 'middle' });
      t.textContent = `×${e.channels.length}`;
      g.append(t);
    }
    const mid = e.path.at(0.5, { x: 0, y: 0 });
    el.rate.setAttribute('x', String(Math.round(mid.x)));
    el.rate.setAttribute('y', String(Math.round(mid.y + 14)));
    el.rate.setAttribute('text-anchor', 'middle');
    const end = (x: { domid: number; port: number }): string => `${nameOf(x.domid)}:${x.port}`;
    const what = e.channels.map((c) => (c.b !== undefined ? `${end(c.a)} ↔ ${end(c.b)}` : `${end(c.a)} ${e.state === 'unbound' ? 'unbound' : 'connected to a port that is gone'}`));
    const stateText: Record<string, string> = { bound: 'bound', pending: 'an event is pending at an end', masked: 'pending but masked at an end', unbound: 'unbound', dead: 'an end is in a dead domain' };
    g.querySelector('title')!.textContent = `${what.join('\n')}\n(${stateText[e.state]})`;
  }

  // ---- selection and focus ----

  setSelection(sel: DiagramSelection): void {
    this.selection = sel;
    if (sel !== undefined) this.focusId = sel.kind === 'port' ? `p:${sel.domid}:${sel.port}` : `d:${sel.domid}`;
    this.applySelection();
    this.ensureTabStop();
  }

  private applySelection(): void {
    const sel = this.selection;
    for (const [domid, el] of this.domains) {
      const domSel = sel?.kind === 'domain' && sel.domid === domid;
      el.root.classList.toggle('xl-selected', domSel);
      el.button.setAttribute('aria-pressed', String(domSel));
      for (const [port, row] of el.ports) {
        const on = sel?.kind === 'port' && sel.domid === domid && sel.port === port;
        row.el.classList.toggle('xl-selected', on);
        row.el.setAttribute('aria-pressed', String(on));
      }
    }
    for (const el of this.edges.values()) {
      const on = sel?.kind === 'port' && el.edge.channels.some((c) => (c.a.domid === sel.domid && c.a.port === sel.port) || (c.b?.domid === sel.domid && c.b.port === sel.port));
      el.g.classList.toggle('xl-selected', on);
    }
  }

  private items(): HTMLElement[] {
    return [...this.boxLayer.querySelectorAll<HTMLElement>('[data-focus]')].filter((x) => x.closest('[hidden]') === null);
  }

  private setFocusId(id: string): void {
    this.focusId = id;
    this.ensureTabStop();
  }

  /** Exactly one item takes the Tab stop: the focused/selected one, else the first domain. */
  private ensureTabStop(): void {
    const items = this.items();
    const current = items.find((x) => x.dataset.focus === this.focusId) ?? items[0];
    for (const x of items) x.tabIndex = x === current ? 0 : -1;
  }

  private onKey(e: KeyboardEvent): void {
    const target = e.target as HTMLElement;
    const id = target.dataset.focus;
    if (id === undefined) return;
    const items = this.items();
    const i = items.indexOf(target);
    const domid = Number(id.split(':')[1]);
    const go = (el: HTMLElement | undefined): void => {
      if (el === undefined) return;
      e.preventDefault();
      this.setFocusId(el.dataset.focus!);
      el.focus();
      el.scrollIntoView({ block: 'nearest', inline: 'nearest' });
    };
    const box = this.layout?.domainOf.get(domid);
    switch (e.key) {
      case 'ArrowDown':
        go(items[i + 1]);
        break;
      case 'ArrowUp':
        go(items[i - 1]);
        break;
      case 'Home':
        go(items[0]);
        break;
      case 'End':
        go(items[items.length - 1]);
        break;
      case 'ArrowRight':
        // Tree keys: on a domain, expand it (or go to its first port); on a port, nothing to open.
        if (id.startsWith('d:') && box !== undefined) {
          e.preventDefault();
          if (box.collapsed) this.handlers.toggleDomain(domid);
          else go(items[i + 1]?.dataset.focus?.startsWith(`p:${domid}:`) ? items[i + 1] : undefined);
        }
        break;
      case 'ArrowLeft':
        if (id.startsWith('p:')) go(this.domains.get(domid)?.button);
        else if (box !== undefined && !box.collapsed) {
          e.preventDefault();
          this.handlers.toggleDomain(domid);
        }
        break;
    }
  }

  /** Brings a port's row (or its domain) into view. */
  reveal(domid: number, port?: number): void {
    const el = this.domains.get(domid);
    if (el === undefined) return;
    const target = port === undefined ? el.button : (el.ports.get(port)?.el ?? el.button);
    const view = this.el.getBoundingClientRect();
    const r = target.getBoundingClientRect();
    if (r.top >= view.top && r.bottom <= view.bottom && r.left >= view.left && r.right <= view.right) return;
    target.scrollIntoView({ block: 'center', inline: 'center' });
  }

  focusSelected(): void {
    const x = this.items().find((i) => i.dataset.focus === this.focusId);
    x?.focus({ preventScroll: true });
  }

  // ---- zoom and pan ----

  /** The zoom that shows the whole picture (never above 1, never below the smallest readable). */
  fitZoom(): number {
    const { width, height } = this.size;
    const w = this.viewSize.width;
    const h = this.viewSize.height;
    if (width === 0 || height === 0 || w === 0 || h === 0) return 1;
    return Math.max(0.55, Math.min(1, w / width, h / height));
  }

  fit(): void {
    this.autoFit = true;
    this.applyZoom();
  }

  setZoom(z: number): void {
    const r = this.el.getBoundingClientRect();
    this.zoomAt(z, r.left + r.width / 2, r.top + r.height / 2);
  }

  /** Zooms keeping the scene point under (clientX, clientY) where it is. */
  zoomAt(z: number, clientX: number, clientY: number): void {
    const r = this.el.getBoundingClientRect();
    // The scene point under the pointer (the picture is centred, with an offset, while smaller than the view).
    const sx = (this.el.scrollLeft + clientX - r.left - this.sizer.offsetLeft) / this.zoom;
    const sy = (this.el.scrollTop + clientY - r.top - this.sizer.offsetTop) / this.zoom;
    this.autoFit = false;
    this.zoom = Math.min(ZOOM_MAX, Math.max(ZOOM_MIN, z));
    this.applyZoom();
    this.el.scrollLeft = sx * this.zoom + this.sizer.offsetLeft - (clientX - r.left);
    this.el.scrollTop = sy * this.zoom + this.sizer.offsetTop - (clientY - r.top);
  }

  applyZoom(): void {
    if (this.autoFit) this.zoom = this.fitZoom();
    const { width, height } = this.size;
    const sig = `${this.zoom} ${width} ${height}`;
    if (sig === this.zoomSig) return;
    this.zoomSig = sig;
    this.scene.style.transform = `scale(${this.zoom})`;
    this.sizer.style.width = `${Math.ceil(width * this.zoom)}px`;
    this.sizer.style.height = `${Math.ceil(height * this.zoom)}px`;
    this.onZoom?.();
  }

  /** Dragging the background pans (the scroll position). */
  private pan(): void {
    this.el.addEventListener('pointerdown', (down) => {
      if (down.button !== 0 || (down.target as Element).closest('button') !== null) return;
      const x0 = this.el.scrollLeft + down.clientX;
      const y0 = this.el.scrollTop + down.clientY;
      this.el.setPointerCapture(down.pointerId);
      this.el.classList.add('xl-panning');
      const move = (e: PointerEvent): void => {
        this.el.scrollLeft = x0 - e.clientX;
        this.el.scrollTop = y0 - e.clientY;
      };
      const up = (): void => {
        this.el.removeEventListener('pointermove', move);
        this.el.removeEventListener('pointerup', up);
        this.el.removeEventListener('pointercancel', up);
        this.el.classList.remove('xl-panning');
      };
      this.el.addEventListener('pointermove', move);
      this.el.addEventListener('pointerup', up);
      this.el.addEventListener('pointercancel', up);
    });
  }

  // ---- the animation layer ----

  /** Draws the dots and heat for this frame. */
  drawActivity(a: Activity, now: number): void {
    while (this.dotEls.length < a.dots.length) {
      const c = svg('circle', { class: 'xl-topo-dot', r: 5 });
      c.style.display = 'none';
      this.overlay.append(c);
      this.dotEls.push(c);
    }
    let flying = 0;
    a.dots.forEach((d, i) => {
      const c = this.dotEls[i]!;
      const edge = d.alive ? this.edges.get(d.edge) : undefined;
      const t = edge === undefined ? -1 : a.progress(d, now);
      if (t < 0 || edge === undefined) {
        if (c.style.display !== 'none') c.style.display = 'none';
        return;
      }
      flying++;
      edge.edge.path.at(t, this.pt);
      c.setAttribute('cx', this.pt.x.toFixed(1));
      c.setAttribute('cy', this.pt.y.toFixed(1));
      c.style.display = '';
    });
    const f = String(flying);
    if (this.overlay.dataset.flying !== f) this.overlay.dataset.flying = f;
    // Heat on edges: written where it changed, cleared where it went (two sets swapped: no allocation per frame).
    const hotEdges = this.spare.edges;
    hotEdges.clear();
    for (const key of a.activeEdges()) {
      const el = this.edges.get(key);
      if (el === undefined) continue;
      hotEdges.add(el);
      const heat = (a.heat(key) * 0.85).toFixed(2);
      if (heat !== el.drawnHeat) el.heat.style.opacity = el.drawnHeat = heat;
      const rate = a.rate(key);
      const text = rate >= 8 ? rateText(rate) : '';
      if (el.rate.textContent !== text) el.rate.textContent = text;
    }
    for (const el of this.hot.edges) {
      if (hotEdges.has(el)) continue;
      el.heat.style.opacity = el.drawnHeat = '0';
      el.rate.textContent = '';
    }
    // Pulses on ports (VIRQ, PIRQ, IPI, re-raises) and on collapsed domains' headers.
    const hotPorts = this.spare.ports;
    hotPorts.clear();
    for (const key of a.activePorts()) {
      const el = this.pulseTarget(key);
      if (el === undefined) continue;
      hotPorts.add(el);
      const heat = a.portHeat(key).toFixed(2);
      if (el.style.getPropertyValue('--heat') !== heat) el.style.setProperty('--heat', heat);
    }
    for (const el of this.hot.ports) if (!hotPorts.has(el)) el.style.removeProperty('--heat');
    const prev = this.hot;
    this.hot = this.spare;
    this.spare = prev;
  }

  private pulseTarget(key: number): HTMLElement | undefined {
    if (key < 0) return this.domains.get(-1 - key)?.root;
    const domid = Math.floor(key / 2 ** 20);
    const port = key - portKey(domid, 0);
    return this.domains.get(domid)?.ports.get(port)?.el;
  }
}

function chevron(): SVGSVGElement {
  const s = svg('svg', { viewBox: '0 0 16 16', width: 12, height: 12, class: 'icon', 'aria-hidden': 'true' });
  s.append(svg('path', { d: 'M4 6l4 4 4-4' }));
  return s;
}
