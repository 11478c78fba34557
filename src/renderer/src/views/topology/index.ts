/**
 * Topology: the machine's domains as boxes with their event-channel ports,
 * channels as edges coloured by state, notifications travelling along them
 * as they stream in, and — for the port (or domain) selected here or in any
 * other view — its status and why its events were or were not delivered
 * (explain_panel.ts). Data: the SessionStore's topology (pushed by the host
 * when ports, bits or domains change) and its trace columns (handler
 * records and their causes, for the animation).
 */
import type { Topology, TopologyDomain } from '../../../../contract/session.js';
import { keyLabel } from '../../shell/commands.js';
import type { Selection, View, ViewContext, ViewHandle } from '../../shell/registry.js';
import { h, icon } from '../../util/dom.js';
import { Activity, HandlerScanner } from './activity.js';
import { Diagram, type DiagramSelection } from './diagram.js';
import { ExplainPanel } from './explain_panel.js';
import { layoutTopology, portKey, restate, structureKey, type TopologyLayout } from './layout.js';
import { domainName, shownPorts } from './words.js';
import './topology.css';
import { COMMAND_KEYS } from '../../../../contract/keys.js';

/** Above this many domains, boxes start collapsed (one summary line each); so does a domain with more ports than MANY_PORTS. */
export const MANY_DOMAINS = 12;
export const MANY_PORTS = 40;
/** How often heat and rates are redrawn when no dot is flying. */
const HEAT_FRAME_MS = 66;

function mount(container: HTMLElement, ctx: ViewContext): ViewHandle {
  const summary = h('span', { class: 'xl-topo-summary-text', 'data-testid': 'topology-summary', role: 'status' });
  const tool = (name: string, title: string, run: () => void, content: Node | string): HTMLButtonElement => {
    const b = h('button', { class: 'xl-icon-button xl-topo-tool', title, 'aria-label': title, 'data-tool': name }, content);
    b.addEventListener('click', run);
    return b;
  };
  const zoomLabel = h('button', { class: 'xl-topo-zoom', title: 'Fit the picture to the view (0)', 'aria-label': 'Zoom: fit to the view', 'data-tool': 'fit' });
  const foldAll = tool('fold', 'Collapse every domain’s ports', () => toggleAll(), glyph('M4 5.5h8M4 8h8M4 10.5h8'));
  const legendBtn = tool('legend', 'What the colours and marks mean', () => toggleLegend(), '?');
  legendBtn.setAttribute('aria-pressed', 'false');
  const tools = h(
    'div',
    { class: 'xl-view-tools' },
    foldAll,
    tool('zoom-out', 'Zoom out (−; Ctrl+wheel)', () => diagram.setZoom(diagram.zoom / 1.25), glyph('M4 8h8')),
    zoomLabel,
    tool('zoom-in', 'Zoom in (+; Ctrl+wheel)', () => diagram.setZoom(diagram.zoom * 1.25), glyph('M4 8h8M8 4v8')),
    legendBtn,
  );
  zoomLabel.addEventListener('click', () => diagram.fit());

  const diagram = new Diagram({
    selectPort: (domid, port) => ctx.select({ kind: 'port', domid, port }),
    selectDomain: (domid) => ctx.select({ kind: 'domain', domid }),
    toggleDomain: (domid) => toggleDomain(domid),
  });
  diagram.onZoom = () => {
    zoomLabel.textContent = `${Math.round(diagram.zoom * 100)}%`;
    zoomLabel.classList.toggle('xl-auto', diagram.autoFit);
  };
  const panel = new ExplainPanel(ctx, () => closePanel());
  const legend = buildLegend();
  legend.hidden = true;
  const empty = h('div', { class: 'xl-empty xl-topo-empty' });
  const hint = h('div', { class: 'xl-topo-hint' }, 'Click a port for its status and why its events were or were not delivered; click a domain for its summary.');
  const stage = h('div', { class: 'xl-topo-stage' }, diagram.el, legend, hint, empty);
  const grid = h('div', { class: 'xl-topo-grid' }, stage, panel.el);
  const body = h('div', { class: 'xl-topo-body', 'data-testid': 'topology' }, grid);
  container.append(h('div', { class: 'xl-view-bar' }, summary, tools), body);

  let visible = false;
  let layout: TopologyLayout | undefined;
  /** What the layout was made from (structure, collapsed boxes, the view's shape, the focus). */
  let layoutKey = '';
  let dirty = true;
  let frame = 0;
  /** Domains the user collapsed (true) or expanded (false); the rest follow the automatic rule. */
  const folded = new Map<number, boolean>();
  let selection: DiagramSelection;
  let scanner = HandlerScanner.forKinds(ctx.session.info?.traceKinds ?? []);
  const activity = new Activity();
  let animating = 0;
  /**
   * Handlers for ports the picture does not have yet: the trace streams every 33 ms, the topology
   * at most every 100 ms, so a channel bound and used at once is seen in the trace first. They
   * wait (a few, briefly) for the topology that has the port.
   */
  const late: { dom: number; port: number; causeDom: number; cause: string; at: number }[] = [];
  const LATE_MAX = 256;
  const LATE_MS = 400;

  const topology = (): Topology | undefined => ctx.session.topology;
  const autoCollapsed = (d: TopologyDomain): boolean => (topology()?.domains.length ?? 0) > MANY_DOMAINS || shownPorts(d).length > MANY_PORTS;
  const isCollapsed = (d: TopologyDomain): boolean => folded.get(d.domid) ?? autoCollapsed(d);

  const toggleDomain = (domid: number): void => {
    const d = topology()?.domains.find((x) => x.domid === domid);
    if (d === undefined) return;
    folded.set(domid, !isCollapsed(d));
    draw();
  };
  const toggleAll = (): void => {
    const t = topology();
    if (t === undefined) return;
    const anyOpen = t.domains.some((d) => !isCollapsed(d) && shownPorts(d).length > 0);
    for (const d of t.domains) folded.set(d.domid, anyOpen);
    draw();
  };
  const toggleLegend = (): void => {
    legend.hidden = !legend.hidden;
    legendBtn.setAttribute('aria-pressed', String(!legend.hidden));
  };
  const closePanel = (): void => {
    panel.clear();
    selection = undefined;
    diagram.setSelection(undefined);
    grid.classList.remove('xl-topo-with-panel');
    hint.hidden = false;
    draw(); // long channels of the domain that was selected go back to stubs
    requestAnimationFrame(() => diagram.applyZoom());
    diagram.focusSelected();
  };

  /** Lays out and draws the topology (once per animation frame at most, and only while visible). */
  const draw = (): void => {
    dirty = true;
    if (!visible || frame !== 0) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      if (!visible) return;
      render();
    });
  };
  const render = (): void => {
    dirty = false;
    const t = topology();
    const info = ctx.session.info;
    if (info === undefined || t === undefined || t.domains.length === 0) {
      empty.textContent = info === undefined ? `No scenario is open: open one (${keyLabel('Ctrl+O')}) to see its domains and event channels.` : 'This machine has no domains yet: step (F10) or run (F5) the scenario.';
      empty.hidden = false;
      hint.hidden = true;
      diagram.el.hidden = true;
      summary.textContent = '';
      layout = undefined;
      return;
    }
    empty.hidden = true;
    diagram.el.hidden = false;
    hint.hidden = selection !== undefined;
    const view = diagram.viewSize;
    const replay = late.splice(0, late.length);
    const opts = { collapsed: isCollapsed, aspect: Math.max(200, view.width) / Math.max(150, view.height), stubLong: t.domains.length > MANY_DOMAINS, ...(selection === undefined ? {} : { focus: selection.domid }) };
    // Most topology updates while a run goes only flip pending and mask bits: the geometry is kept, only colours change.
    const key = `${structureKey(t)}\n${t.domains.map((d) => (isCollapsed(d) ? 'c' : 'o')).join('')} ${opts.aspect.toFixed(2)} ${opts.stubLong} ${selection?.domid}`;
    if (layout !== undefined && key === layoutKey) restate(layout, t);
    else layout = layoutTopology(t, opts);
    layoutKey = key;
    diagram.render(layout, (domid) => domainName(t, domid));
    // Below the picture, the explain panel gets the height the picture does not need.
    const zoomW = diagram.autoFit ? Math.max(0.55, Math.min(1, view.width / layout.width)) : diagram.zoom;
    grid.style.setProperty('--tp-pic-h', `${Math.ceil(layout.height * zoomW) + 16}px`);
    const fresh = now() - LATE_MS;
    for (const n of replay) if (n.at >= fresh && layout.domainOf.get(n.dom)?.data.ports.some((p) => p.port === n.port) === true) onHandler(n.dom, n.port, n.causeDom, n.cause);
    const all = t.domains.flatMap((d) => shownPorts(d));
    const ports = all.length;
    // Each channel has two interdomain ends (a loopback too); an end whose peer is gone counts as half.
    const channels = Math.ceil(all.filter((p) => p.state === 'interdomain').length / 2);
    const unbound = all.filter((p) => p.state === 'unbound').length;
    summary.textContent = [`${t.domains.length} domain${t.domains.length === 1 ? '' : 's'}`, `${ports} port${ports === 1 ? '' : 's'}`, `${channels} channel${channels === 1 ? '' : 's'}`, unbound > 0 ? `${unbound} unbound` : ''].filter(Boolean).join(' · ');
    const anyOpen = t.domains.some((d) => !isCollapsed(d) && shownPorts(d).length > 0);
    foldAll.title = anyOpen ? 'Collapse every domain’s ports' : 'Expand every domain’s ports';
    foldAll.setAttribute('aria-label', foldAll.title);
  };

  // ---- notifications: handler records (and what caused them) as dots and heat ----

  const now = (): number => performance.now();
  const onHandler = (dom: number, port: number, causeDom: number, cause: string): void => {
    const L = layout;
    if (L === undefined) return;
    const at = now();
    const pe = L.edgeOfPort.get(portKey(dom, port));
    if (pe === undefined && late.length < LATE_MAX && L.domainOf.get(dom)?.data.ports.some((p) => p.port === port) !== true) {
      late.push({ dom, port, causeDom, cause, at });
      return;
    }
    if (pe !== undefined && cause === 'hypercall') {
      const e = pe.edge;
      if (e.kind === 'channel' && (pe.end === 'a' ? e.b! : e.a).domid === causeDom) {
        activity.notifyEdge(e.key, pe.end === 'b', at);
        return;
      }
      // A long channel drawn as stubs: the dot comes in along this end's stub.
      if (e.peers?.includes(causeDom) === true) {
        activity.notifyEdge(e.key, false, at);
        return;
      }
    }
    const box = L.domainOf.get(dom);
    if (box === undefined) return;
    activity.notifyPort(box.collapsed ? -1 - dom : portKey(dom, port));
  };
  let lastDraw = 0;
  const animate = (): void => {
    animating = 0;
    if (!visible) return;
    if (dirty) render();
    const trace = ctx.session.trace;
    scanner.scan(trace.cols, trace.count, onHandler);
    const at = now();
    const busy = activity.tick(at);
    // Dots move every frame; heat and rates alone are redrawn at HEAT_FRAME_MS (a glow needs no 60 Hz, and each frame costs a paint).
    if (activity.flying || !busy || at - lastDraw >= HEAT_FRAME_MS) {
      lastDraw = at;
      diagram.drawActivity(activity, at);
      body.dataset.notified = String(activity.notified);
      body.dataset.dots = String(activity.dotsStarted);
    }
    if (busy) animating = requestAnimationFrame(animate);
  };
  const kick = (): void => {
    if (!visible) {
      scanner.skipTo(ctx.session.trace.count);
      return;
    }
    if (animating === 0) animating = requestAnimationFrame(animate);
  };

  // ---- selection: from here or from any other view ----

  const showSelection = (sel: Selection): void => {
    if (sel.kind === 'record') panel.markRecord(sel.seq);
    if (sel.kind !== 'port' && sel.kind !== 'domain') return;
    const t = topology();
    if (sel.kind === 'port') {
      const d = t?.domains.find((x) => x.domid === sel.domid);
      // A port in a collapsed box: open the box so the row can be seen.
      if (d !== undefined && isCollapsed(d)) folded.set(d.domid, false);
      selection = { kind: 'port', domid: sel.domid, port: sel.port };
    } else selection = { kind: 'domain', domid: sel.domid };
    grid.classList.add('xl-topo-with-panel');
    panel.show(selection);
    diagram.setSelection(selection);
    hint.hidden = true;
    if (visible) {
      render();
      requestAnimationFrame(() => {
        diagram.applyZoom();
        diagram.reveal(sel.domid, sel.kind === 'port' ? sel.port : undefined);
      });
    } else draw();
  };
  ctx.onSelect(showSelection);

  // ---- the session ----

  ctx.session.on('session', (info) => {
    folded.clear();
    activity.clear();
    scanner = HandlerScanner.forKinds(info?.traceKinds ?? []);
    scanner.skipTo(ctx.session.trace.count);
    panel.reset();
    selection = undefined;
    diagram.setSelection(undefined);
    grid.classList.remove('xl-topo-with-panel');
    draw();
  });
  ctx.session.on('topology', () => {
    draw();
    panel.moved();
  });
  let lastPosition = -1;
  ctx.session.on('status', (st) => {
    if (st.position === lastPosition) return;
    // A jump while not running (a seek, a replay opened at its end): its records stream as a catch-up, not as news.
    if (st.state !== 'running' && Math.abs(st.position - lastPosition) > 1) scanner.quietUntil(st.records);
    lastPosition = st.position;
    panel.moved();
  });
  ctx.session.on('trace', kick);
  ctx.session.on('ended', () => draw());

  // Zoom keys while the diagram has the focus.
  body.addEventListener('keydown', (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || (e.target as HTMLElement).closest('.xl-explain') !== null) return;
    if (e.key === '+' || e.key === '=') diagram.setZoom(diagram.zoom * 1.25);
    else if (e.key === '-') diagram.setZoom(diagram.zoom / 1.25);
    else if (e.key === '0') diagram.fit();
    else if (e.key === 'Escape' && selection !== undefined) closePanel();
    else return;
    e.preventDefault();
  });
  diagram.onResize = () => {
    if (!visible) return;
    // The number of columns follows the view's shape: lay out again; the zoom fits again when it is automatic.
    draw();
    diagram.applyZoom();
  };

  draw();
  return {
    shown() {
      visible = true;
      scanner.skipTo(ctx.session.trace.count);
      render();
      requestAnimationFrame(() => diagram.applyZoom());
    },
    hidden() {
      visible = false;
      activity.clear();
    },
    resized() {
      draw();
    },
    dispose() {
      diagram.dispose();
      cancelAnimationFrame(frame);
      cancelAnimationFrame(animating);
    },
  };
}

function glyph(d: string): SVGSVGElement {
  const s = icon('menu');
  s.querySelector('path')!.setAttribute('d', d);
  return s;
}

function buildLegend(): HTMLElement {
  const item = (cls: string, text: string): HTMLElement => h('div', { class: 'xl-topo-legend-item' }, h('span', { class: `xl-topo-key ${cls}` }), text);
  return h(
    'div',
    { class: 'xl-topo-legend', role: 'note', 'aria-label': 'Legend' },
    item('xl-key-bound', 'channel, both ends bound (ECS_INTERDOMAIN)'),
    item('xl-key-pending', 'an event pending at an end'),
    item('xl-key-masked', 'pending but masked: no upcall'),
    item('xl-key-unbound', 'unbound: for the domain named'),
    item('xl-key-dot', 'a notification: send → handler'),
    item('xl-key-pend', 'pending bit set'),
    item('xl-key-mask', 'mask bit set'),
    h('div', { class: 'xl-topo-legend-item' }, h('span', { class: 'xl-topo-src' }, 'Xen'), 'VIRQ, raised by Xen'),
    h('div', { class: 'xl-topo-legend-item' }, h('span', { class: 'xl-topo-src' }, 'IRQ'), 'PIRQ, from hardware'),
    h('div', { class: 'xl-topo-legend-item' }, h('span', { class: 'xl-topo-src' }, 'IPI'), 'IPI, between its vCPUs'),
    h('div', { class: 'xl-topo-legend-keys' }, 'Keys: arrows move, Enter selects, ←/→ collapse/expand, + − 0 zoom, Esc closes'),
  );
}

export const topologyView: View = {
  id: 'topology',
  title: 'Topology',
  area: 'side',
  order: 10,
  command: 'view.topology',
  keys: COMMAND_KEYS['view.topology'],
  mount,
};
