/**
 * Timeline: a lane per domain and per vCPU (and Xen's, for VIRQ/PIRQ raises)
 * with the trace's records as marks — hypercalls (send apart), upcalls,
 * handler runs, console and control messages, faults, domain lifecycle —
 * and each delivered notification as an arrow from the send (or raise) that
 * caused it to the receiver's upcall and handler. Drawn on a canvas from the
 * trace columns, at most once per animation frame and only when something
 * changed; zoomed out, lanes show records per pixel column (lod.ts).
 *
 * Mouse: wheel (Ctrl+wheel, pinch) zooms, Shift+wheel and drag pan, hover
 * for a record, click selects it. Keys: + - (W S) zoom, ← → (A D) pan,
 * ↑ ↓ scroll lanes, F fit, End follow, [ ] previous/next record in the lane.
 */
import { formatNs, h, icon } from '../../util/dom.js';
import { toolIcon } from './icons.js';
import './timeline.css';
import type { Selection, View, ViewContext, ViewHandle } from '../../shell/registry.js';
import { formatRange, formatSpan } from './axis.js';
import { layoutLanes, type LaneLayout, type LaneRow } from './lanes.js';
import { lowerBound, TimelineIndex } from './lod.js';
import { kindTable, laneKey, MARK_COUNT, MARK_LABELS, MARK_NAMES } from './marks.js';
import { readPalette, type Palette } from './palette.js';
import type { TimelineState } from './debug.js';
import { AXIS_H, DRAW_RANK, GUTTER, TimelineCanvas, type DrawnFlow, type Frame, type FrameResult } from './render.js';
import { MIN_SPAN, Viewport } from './viewport.js';
import { COMMAND_KEYS } from '../../../../contract/keys.js';

const HIDDEN_KEY = 'xenlab.timeline.hidden';
/** Hover and click reach a mark this far away, px. */
const HIT_PX = 6;
/** Revealing a record zooms in until the nearest record at another time is this far away, px. */
const REVEAL_PX = 40;

interface Hit {
  row: LaneRow;
  seq: number;
}

function mount(container: HTMLElement, ctx: ViewContext): ViewHandle {
  const store = ctx.session;
  const trace = store.trace;
  const index = new TimelineIndex(kindTable(store.info?.traceKinds ?? []));
  const vp = new Viewport();
  let layout: LaneLayout = layoutLanes(undefined, []);
  let layoutFor = -1;
  let topoKey = '';
  let scrollY = 0;
  let hidden = loadHidden();
  let arrows = true;
  let selected = -1;
  let hover = -1;
  let visible = false;
  let frame = 0;
  let palette: Palette | undefined;
  let last: FrameResult | undefined;
  const stats = { frames: 0, totalMs: 0, maxMs: 0 };

  // ---- DOM
  const legend = h('div', { class: 'xl-tl-legend', role: 'group', 'aria-label': 'Marks shown' });
  const chips = new Map<number, HTMLButtonElement>();
  MARK_NAMES.forEach((name, m) => {
    const chip = h('button', { class: `xl-tl-chip xl-tl-chip-${name}`, 'aria-pressed': String((hidden & (1 << m)) === 0), title: `Show or hide ${MARK_LABELS[name]} marks`, 'data-mark': name }, h('span', { class: 'xl-tl-swatch' }), MARK_LABELS[name]);
    chip.addEventListener('click', () => {
      hidden ^= 1 << m;
      chip.setAttribute('aria-pressed', String((hidden & (1 << m)) === 0));
      saveHidden(hidden);
      invalidate();
    });
    chips.set(m, chip);
    legend.append(chip);
  });
  const arrowChip = h('button', { class: 'xl-tl-chip xl-tl-chip-flow', 'aria-pressed': 'true', title: 'Show or hide notification arrows (send or raise → upcall and handler)', 'data-mark': 'flow' }, h('span', { class: 'xl-tl-swatch' }), 'notify →');
  arrowChip.addEventListener('click', () => {
    arrows = !arrows;
    arrowChip.setAttribute('aria-pressed', String(arrows));
    invalidate();
  });
  legend.append(arrowChip);
  const range = h('span', { class: 'xl-tl-range', 'data-testid': 'timeline-range', 'aria-live': 'off' });
  const tool = (name: string, title: string, run: () => void, testid: string): HTMLButtonElement => {
    const b = h('button', { class: 'xl-icon-button', title, 'aria-label': title, 'data-testid': testid }, toolIcon(name));
    b.addEventListener('click', () => {
      run();
      canvasEl.focus();
    });
    return b;
  };
  const followBtn = h('button', { class: 'xl-icon-button xl-toggle', title: 'Follow the live edge (End); panning stops following', 'aria-label': 'Follow the live edge', 'aria-pressed': 'true', 'data-testid': 'timeline-follow' }, icon('follow'));
  followBtn.addEventListener('click', () => {
    setFollow(vp.follow === 'off' ? 'edge' : 'off');
    canvasEl.focus();
  });
  const tools = h(
    'div',
    { class: 'xl-view-tools' },
    range,
    tool('zoomOut', 'Zoom out (-)', () => zoomKey(2), 'timeline-zoom-out'),
    tool('zoomIn', 'Zoom in (+)', () => zoomKey(0.5), 'timeline-zoom-in'),
    tool('fit', 'Zoom to fit the whole trace (F)', () => fitAll(), 'timeline-fit'),
    followBtn,
  );
  const canvasEl = h('canvas', {
    class: 'xl-tl-canvas',
    tabindex: '0',
    role: 'application',
    'aria-roledescription': 'timeline',
    'aria-label': 'Timeline',
    'aria-describedby': 'xl-tl-help',
    'data-testid': 'timeline-canvas',
  });
  const help = h(
    'span',
    { id: 'xl-tl-help', class: 'xl-tl-help' },
    'Wheel or plus and minus zoom, drag or left and right arrows pan, up and down arrows scroll the lanes, F fits the whole trace, End follows the live edge, brackets move to the previous or next record of the lane, Escape clears the selection.',
  );
  const tip = h('div', { class: 'xl-tl-tip', role: 'tooltip', 'data-testid': 'timeline-tip' });
  tip.hidden = true;
  const empty = h('div', { class: 'xl-empty xl-tl-empty' });
  const body = h('div', { class: 'xl-tl-body' }, canvasEl, tip, empty, help);
  container.append(h('div', { class: 'xl-view-bar xl-tl-bar' }, legend, tools), body);
  const canvas = new TimelineCanvas(canvasEl);

  // ---- drawing

  const theme = (): void => {
    palette = readPalette(container);
    invalidate();
  };
  ctx.theme.on('change', theme);

  function invalidate(): void {
    if (!visible || frame !== 0) return;
    frame = requestAnimationFrame(render);
  }

  function measure(): void {
    const w = body.clientWidth;
    const hgt = body.clientHeight;
    if (w > 0 && hgt > 0) canvas.resize(w, hgt, window.devicePixelRatio || 1);
  }

  /** The live edge: the newest record or the session's clock, whichever is later. */
  function edge(): number {
    const lastT = trace.count > 0 ? trace.cols.t[trace.count - 1]! : 0;
    return Math.max(lastT, store.status?.now ?? 0);
  }

  function relayout(): void {
    const key = topologyKey();
    if (layoutFor === index.lanesVersion && key === topoKey) return;
    layoutFor = index.lanesVersion;
    topoKey = key;
    layout = layoutLanes(store.topology, index.lanes.keys());
  }

  function topologyKey(): string {
    return (store.topology?.domains ?? []).map((d) => `${d.domid}:${d.name}:${d.vcpus}`).join(',');
  }

  function frameInput(collect: boolean): Frame {
    return { cols: trace.cols, index, vp, layout, scrollY, hidden, arrows, selected, hover, edge: store.info === undefined ? NaN : edge(), collectFlows: collect };
  }

  function render(): void {
    frame = 0;
    if (!visible) return;
    measure();
    if (palette === undefined) palette = readPalette(container);
    relayout();
    vp.width = canvas.plotW;
    if (trace.count > 0) {
      if (vp.follow !== 'off') vp.track(trace.cols.t[0]!, edge());
      vp.clamp(trace.cols.t[0]!, edge());
    }
    scrollY = clampScroll(scrollY);
    last = canvas.draw(frameInput(debugOn), palette);
    stats.frames++;
    stats.totalMs += last.ms;
    if (last.ms > stats.maxMs) stats.maxMs = last.ms;
    updateChrome();
  }

  let chromeAt = 0;
  function updateChrome(): void {
    const now = performance.now();
    const info = store.info;
    empty.hidden = info !== undefined && trace.count > 0;
    if (!empty.hidden) empty.textContent = info === undefined ? 'No session: open a scenario (Ctrl+O) to see its trace here.' : 'No trace records yet: Run (F5) or Step (F10), and hypercalls, upcalls and notifications appear here, a lane per domain and vCPU.';
    followBtn.setAttribute('aria-pressed', String(vp.follow !== 'off'));
    // The range text changes every frame while following: a few times a second is enough to read it.
    if (now - chromeAt < 150 && vp.follow !== 'off') return;
    chromeAt = now;
    const text = trace.count === 0 ? '' : `${formatRange(Math.max(0, vp.t0), vp.t1)} · ${formatSpan(vp.span)}`;
    const lr = last;
    const thinned = lr !== undefined && lr.arrowStride > 1 && arrows;
    const chipTitle = thinned
      ? `Notification arrows: ${lr.flowsInView.toLocaleString('en-US')} in view, one in ${lr.arrowStride} drawn (zoom in for all). Click to hide them.`
      : 'Show or hide notification arrows (send or raise → upcall and handler)';
    if (arrowChip.title !== chipTitle) arrowChip.title = chipTitle;
    arrowChip.classList.toggle('xl-tl-thinned', thinned);
    if (range.textContent !== text) range.textContent = text;
    canvasEl.setAttribute('aria-label', `Timeline: ${layout.rows.length} lanes, ${trace.count.toLocaleString('en-US')} records; showing ${text || 'nothing yet'}`);
  }

  function clampScroll(y: number): number {
    return Math.max(0, Math.min(y, layout.height - canvas.plotH));
  }

  // ---- the data

  ctx.session.on('session', (info) => {
    index.reset(kindTable(info?.traceKinds ?? []));
    vp.follow = 'auto';
    selected = -1;
    hover = -1;
    scrollY = 0;
    summaries.clear();
    hideTip();
    invalidate();
  });
  trace.onCut((count) => {
    index.cut(trace.cols, count);
    if (selected >= count) selected = -1;
    if (hover >= count) hover = -1;
    summaries.clear();
    invalidate();
  });
  ctx.session.on('trace', ({ count }) => {
    if (store.info === undefined) return;
    const before = index.count;
    if (count < before) index.cut(trace.cols, count);
    if (count > before) index.ingest(trace.cols, count);
    if (!visible) return;
    if (vp.follow !== 'off' || (count > before && trace.cols.t[before]! <= vp.t1)) invalidate();
  });
  ctx.session.on('status', () => {
    if (vp.follow !== 'off') invalidate();
  });
  ctx.session.on('topology', () => {
    if (topologyKey() !== topoKey) invalidate();
  });

  // ---- moving around

  function setFollow(f: Viewport['follow']): void {
    vp.follow = f;
    invalidate();
  }

  function fitAll(): void {
    if (trace.count === 0) return;
    const running = store.status?.state === 'running';
    vp.follow = running ? 'all' : 'off';
    // Paused, the records decide what "all" is (the clock may have run on without any).
    vp.fit(trace.cols.t[0]!, running ? edge() : trace.cols.t[trace.count - 1]!);
    invalidate();
  }

  /** Zooms by `factor` about x (px in the plot); while following, about the live edge. */
  function zoom(factor: number, x: number): void {
    if (vp.follow === 'off') vp.zoomAt(factor, x);
    else {
      vp.follow = 'edge';
      vp.zoomAt(factor, vp.x(edge()));
    }
    invalidate();
  }

  function zoomKey(factor: number): void {
    zoom(factor, vp.width / 2);
  }

  function pan(dx: number): void {
    vp.follow = 'off';
    vp.pan(dx);
    invalidate();
  }

  function scrollBy(dy: number): void {
    const y = clampScroll(scrollY + dy);
    if (y !== scrollY) {
      scrollY = y;
      invalidate();
    }
  }

  /**
   * Brings a record into view: zoomed in (never out) until it stands apart from the nearest
   * records of its lane at other times and its lane shows marks rather than density, centred
   * when it is outside, its lane scrolled to.
   */
  function reveal(seq: number): void {
    if (seq < 0 || seq >= index.count) return;
    relayout();
    const t = trace.cols.t;
    const at = t[seq]!;
    vp.follow = 'off';
    const row = layout.byKey.get(index.laneAt(trace.cols, seq));
    const lane = row === undefined ? undefined : index.lanes.get(row.key);
    if (lane !== undefined) {
      const i = lowerBound(t, lane.seqs, 0, lane.n, at);
      const j = lowerBound(t, lane.seqs, i, lane.n, at + 0.5);
      const gaps = [i > 0 ? at - t[lane.seqs[i - 1]!]! : Infinity, j < lane.n ? t[lane.seqs[j]!]! - at : Infinity];
      const gap = Math.min(...gaps);
      // The nearest other time at least REVEAL_PX away.
      if (Number.isFinite(gap) && (gap / vp.span) * vp.width < REVEAL_PX) vp.span = Math.max(MIN_SPAN, (gap * vp.width) / REVEAL_PX);
      vp.center(at);
      const limit = Math.max(64, canvas.plotW / 3);
      for (let k = 0; k < 48; k++) {
        const [a, b] = lane.range(t, vp.t0, vp.t1);
        if (b - a <= limit || vp.span <= MIN_SPAN) break;
        vp.span /= 2;
        vp.center(at);
      }
    }
    const margin = vp.span * 0.05;
    if (at < vp.t0 + margin || at > vp.t1 - margin) vp.center(at);
    if (row !== undefined && (row.y < scrollY || row.y + row.h > scrollY + canvas.plotH)) scrollY = clampScroll(row.y - canvas.plotH / 2);
    invalidate();
  }

  // ---- hit testing and the tooltip

  function rowAt(y: number): LaneRow | undefined {
    const ly = y - AXIS_H + scrollY;
    if (y < AXIS_H) return undefined;
    return layout.rows.find((r) => ly >= r.y && ly < r.y + r.h);
  }

  /**
   * The record drawn nearest to (x, y) (CSS px in the canvas), within HIT_PX, among the marks
   * shown; at the same distance, the mark drawn on top (render.ts's order), then the first.
   */
  function hitTest(x: number, y: number): Hit | undefined {
    const row = rowAt(y);
    if (row === undefined || x < GUTTER) return undefined;
    const lane = index.lanes.get(row.key);
    if (lane === undefined || lane.n === 0) return undefined;
    const t = trace.cols.t;
    const px = x - GUTTER;
    const i = lowerBound(t, lane.seqs, 0, lane.n, vp.time(px));
    let best = -1;
    let bestScore = Infinity;
    const consider = (k: number): boolean => {
      const s = lane.seqs[k]!;
      const d = Math.abs(vp.x(t[s]!) - px);
      if (d > HIT_PX + 0.5) return false;
      const m = index.markAt(trace.cols, s);
      if ((hidden & (1 << m)) !== 0) return true;
      // Whole pixels first, then what is on top, then the earlier record.
      const score = Math.round(d) * 1e3 + (MARK_COUNT - DRAW_RANK[m]!) + s / 1e12;
      if (score < bestScore) {
        best = s;
        bestScore = score;
      }
      return true;
    };
    for (let k = i; k < lane.n && k < i + 512; k++) if (!consider(k)) break;
    for (let k = i - 1; k >= 0 && k > i - 512; k--) if (!consider(k)) break;
    return best < 0 ? undefined : { row, seq: best };
  }

  const summaries = new Map<number, string>();
  let tipSeq = -1;
  let tipTimer: ReturnType<typeof setTimeout> | undefined;

  function showTip(hit: Hit, x: number, y: number): void {
    const seq = hit.seq;
    const kind = store.info?.traceKinds[trace.cols.kind[seq]!] ?? 'record';
    const mark = MARK_NAMES[index.markAt(trace.cols, seq)]!;
    const where = hit.row.role === 'xen' ? 'Xen' : hit.row.role === 'vcpu' ? `${layout.byKey.get(laneKey(hit.row.dom, -1))?.label ?? `dom${hit.row.dom}`} · vCPU ${hit.row.vcpu}` : hit.row.label;
    if (tipSeq !== seq) {
      tipSeq = seq;
      const cause = trace.cols.cause[seq]!;
      tip.replaceChildren(
        h('div', { class: 'xl-tl-tip-head' }, h('span', { class: `xl-tl-swatch xl-tl-swatch-${mark}` }), h('b', {}, mark === 'send' ? 'send' : kind), h('span', { class: 'xl-tl-tip-dim' }, ` #${seq} · ${where}`)),
        h('div', { class: 'xl-tl-tip-summary' }, summaries.get(seq) ?? '…'),
        h('div', { class: 'xl-tl-tip-dim' }, `t = ${formatNs(trace.cols.t[seq]!)}${cause >= 0 ? ` · notified by #${cause}` : ''}`),
      );
      if (!summaries.has(seq)) {
        if (tipTimer !== undefined) clearTimeout(tipTimer);
        tipTimer = setTimeout(() => void fetchSummary(seq), 60);
      }
    }
    tip.hidden = false;
    const bw = body.clientWidth;
    const tw = tip.offsetWidth;
    const th = tip.offsetHeight;
    const left = x + 14 + tw > bw ? Math.max(0, x - 14 - tw) : x + 14;
    const top = Math.max(0, Math.min(y + 12, body.clientHeight - th - 2));
    tip.style.transform = `translate(${Math.round(left)}px, ${Math.round(top)}px)`;
  }

  async function fetchSummary(seq: number): Promise<void> {
    try {
      const r = await ctx.host.request('session.record', { seq });
      const s = typeof r.record.summary === 'string' ? r.record.summary : '';
      if (summaries.size > 500) summaries.clear();
      summaries.set(seq, s);
      if (tipSeq === seq) {
        const el = tip.querySelector('.xl-tl-tip-summary');
        if (el !== null) el.textContent = s;
      }
    } catch {
      // gone (stepped back) or no session: the tooltip keeps what it shows
    }
  }

  function hideTip(): void {
    tip.hidden = true;
    tipSeq = -1;
  }

  function setHover(seq: number): void {
    if (seq !== hover) {
      hover = seq;
      invalidate();
    }
  }

  function choose(seq: number): void {
    selected = seq;
    selfSelect = true;
    try {
      ctx.select({ kind: 'record', seq });
    } finally {
      selfSelect = false;
    }
    invalidate();
  }

  let selfSelect = false;
  ctx.onSelect((sel: Selection) => {
    if (sel.kind === 'record') {
      selected = sel.seq;
      if (!selfSelect) reveal(sel.seq);
      invalidate();
    } else if (sel.kind === 'domain') {
      const row = layout.byKey.get(laneKey(sel.domid, -1));
      if (row !== undefined) {
        scrollY = clampScroll(row.y);
        invalidate();
      }
    }
  });

  // ---- pointer

  const local = (e: MouseEvent): { x: number; y: number } => {
    const r = canvasEl.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  };
  let drag: { id: number; x: number; y: number; scrollY: number; moved: boolean } | undefined;
  canvasEl.addEventListener('pointerdown', (e) => {
    if (e.button !== 0) return;
    const p = local(e);
    drag = { id: e.pointerId, x: p.x, y: p.y, scrollY, moved: false };
    canvasEl.setPointerCapture(e.pointerId);
  });
  canvasEl.addEventListener('pointermove', (e) => {
    const p = local(e);
    if (drag !== undefined && drag.id === e.pointerId) {
      if (!drag.moved && Math.hypot(p.x - drag.x, p.y - drag.y) > 3) {
        drag.moved = true;
        canvasEl.classList.add('xl-tl-dragging');
        hideTip();
        setHover(-1);
      }
      if (drag.moved) {
        pan(drag.x - p.x);
        drag.x = p.x;
        const y = clampScroll(drag.scrollY - (p.y - drag.y));
        if (y !== scrollY) {
          scrollY = y;
          invalidate();
        }
      }
      return;
    }
    const hit = hitTest(p.x, p.y);
    setHover(hit?.seq ?? -1);
    if (hit === undefined) hideTip();
    else showTip(hit, p.x, p.y);
  });
  const endDrag = (e: PointerEvent): void => {
    if (drag === undefined || drag.id !== e.pointerId) return;
    const wasClick = !drag.moved;
    drag = undefined;
    canvasEl.classList.remove('xl-tl-dragging');
    if (wasClick && e.type === 'pointerup') {
      const p = local(e);
      const hit = hitTest(p.x, p.y);
      if (hit !== undefined) choose(hit.seq);
    }
  };
  canvasEl.addEventListener('pointerup', endDrag);
  canvasEl.addEventListener('pointercancel', endDrag);
  canvasEl.addEventListener('pointerleave', () => {
    if (drag === undefined) {
      hideTip();
      setHover(-1);
    }
  });
  canvasEl.addEventListener('dblclick', (e) => {
    const p = local(e);
    if (p.x < GUTTER) return;
    vp.follow = 'off';
    vp.zoomAt(0.5, p.x - GUTTER);
    invalidate();
  });
  canvasEl.addEventListener(
    'wheel',
    (e) => {
      e.preventDefault();
      hideTip();
      const unit = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? canvas.plotH : 1;
      const dx = e.deltaX * unit;
      const dy = e.deltaY * unit;
      const p = local(e);
      if (e.shiftKey || Math.abs(dx) > Math.abs(dy)) pan(e.shiftKey && dx === 0 ? dy : dx);
      else if (!e.ctrlKey && layout.height > canvas.plotH) scrollBy(dy);
      else zoom(Math.exp(dy * (e.ctrlKey ? 0.01 : 0.0025)), Math.max(0, p.x - GUTTER));
    },
    { passive: false },
  );

  // ---- keys

  canvasEl.addEventListener('keydown', (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const step = vp.width * 0.2;
    let done = true;
    switch (e.key) {
      case '+':
      case '=':
      case 'w':
      case 'W':
        zoomKey(0.5);
        break;
      case '-':
      case '_':
      case 's':
      case 'S':
        zoomKey(2);
        break;
      case 'ArrowLeft':
      case 'a':
      case 'A':
        pan(-step);
        break;
      case 'ArrowRight':
      case 'd':
      case 'D':
        pan(step);
        break;
      case 'ArrowUp':
        scrollBy(-layout.rows[0]!.h);
        break;
      case 'ArrowDown':
        scrollBy(layout.rows[0]!.h);
        break;
      case 'f':
      case 'F':
      case '0':
        fitAll();
        break;
      case 'End':
        setFollow('edge');
        break;
      case 'Home':
        if (trace.count > 0) {
          vp.follow = 'off';
          vp.t0 = trace.cols.t[0]! - vp.span * 0.03;
          invalidate();
        }
        break;
      case '[':
      case ']':
        stepInLane(e.key === ']' ? 1 : -1);
        break;
      case 'Escape':
        if (selected >= 0) {
          selected = -1;
          invalidate();
        } else done = false;
        break;
      default:
        done = false;
    }
    if (done) {
      e.preventDefault();
      e.stopPropagation();
    }
  });

  /** Selects the previous or next shown record in the selected record's lane (or the first in view). */
  function stepInLane(dir: 1 | -1): void {
    if (selected < 0 || selected >= index.count) {
      const row = layout.rows.find((r) => (index.lanes.get(r.key)?.n ?? 0) > 0);
      const lane = row === undefined ? undefined : index.lanes.get(row.key);
      if (lane === undefined) return;
      const i = Math.min(lane.n - 1, lowerBound(trace.cols.t, lane.seqs, 0, lane.n, vp.t0));
      choose(lane.seqs[i]!);
      reveal(lane.seqs[i]!);
      return;
    }
    const lane = index.lanes.get(index.laneAt(trace.cols, selected));
    if (lane === undefined) return;
    let lo = 0;
    let hi = lane.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (lane.seqs[mid]! < selected) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo + dir; i >= 0 && i < lane.n; i += dir) {
      const s = lane.seqs[i]!;
      if ((hidden & (1 << index.markAt(trace.cols, s))) !== 0) continue;
      choose(s);
      reveal(s);
      return;
    }
  }

  // ---- size

  const observer = new ResizeObserver(() => invalidate());
  observer.observe(body);

  const debugOn = new URLSearchParams(location.search).get('debug') === '1';
  if (debugOn) exposeForTests();

  function exposeForTests(): void {
    window.__xenlabTimeline = {
      state: () => ({
        t0: vp.t0,
        t1: vp.t1,
        follow: vp.follow,
        records: index.count,
        lanes: layout.rows.map((r) => ({ key: r.key, role: r.role, dom: r.dom, vcpu: r.vcpu, label: r.label, records: index.lanes.get(r.key)?.n ?? 0, mode: last?.modes.get(r.key) ?? 'empty' })),
        selected,
        recordsInView: last?.recordsInView ?? 0,
        flowsInView: last?.flowsInView ?? 0,
        flowsDrawn: last?.flowsDrawn ?? 0,
        frames: stats.frames,
        drawMsMax: stats.maxMs,
        drawMsMean: stats.frames === 0 ? 0 : stats.totalMs / stats.frames,
        scrollY,
        plot: { x: GUTTER, y: AXIS_H, width: canvas.plotW, height: canvas.plotH },
      }),
      flows: () => last?.flows ?? [],
      position: (seq) => {
        const p = canvas.position(frameInput(false), seq);
        if (p === undefined) return undefined;
        const r = canvasEl.getBoundingClientRect();
        return { x: r.left + p.x, y: r.top + p.y };
      },
      find: (kind, from = 0, pred) => {
        const k = store.info?.traceKinds.indexOf(kind) ?? -1;
        for (let s = from; s < index.count; s++) {
          if (trace.cols.kind[s] !== k) continue;
          if (pred === 'send' && index.markAt(trace.cols, s) !== MARK_NAMES.indexOf('send')) continue;
          if (pred === 'caused' && trace.cols.cause[s]! < 0) continue;
          return s;
        }
        return -1;
      },
      selectFromElsewhere: (seq) => ctx.select({ kind: 'record', seq }),
      drawNow: () => {
        const was = visible;
        visible = true;
        render();
        visible = was;
        return last?.ms ?? 0;
      },
      cause: (seq) => (seq >= 0 && seq < index.count ? trace.cols.cause[seq]! : -1),
      resetStats: () => {
        stats.frames = 0;
        stats.totalMs = 0;
        stats.maxMs = 0;
      },
    };
  }

  return {
    shown() {
      visible = true;
      measure();
      invalidate();
    },
    hidden() {
      visible = false;
      hideTip();
      if (frame !== 0) cancelAnimationFrame(frame);
      frame = 0;
    },
    resized() {
      invalidate();
    },
    dispose() {
      observer.disconnect();
      if (frame !== 0) cancelAnimationFrame(frame);
    },
  };
}

function loadHidden(): number {
  const v = Number(localStorage.getItem(HIDDEN_KEY) ?? '0');
  return Number.isInteger(v) && v >= 0 && v < 1 << MARK_COUNT ? v : 0;
}

function saveHidden(v: number): void {
  try {
    localStorage.setItem(HIDDEN_KEY, String(v));
  } catch {
    // storage off: the choice is not remembered
  }
}

/** With debug=1 in the page's address: what the timeline computed and drew, for end-to-end tests and the UI benchmark. */
export interface TimelineDebug {
  state(): TimelineState;
  flows(): DrawnFlow[];
  /** Where a record is drawn, in page coordinates. */
  position(seq: number): { x: number; y: number } | undefined;
  /** The first record of a kind from `from` on ('send': only sends; 'caused': only with a cause), or -1. */
  find(kind: string, from?: number, pred?: 'send' | 'caused'): number;
  cause(seq: number): number;
  /** Selects a record through the app's selection, as another view (the event list) does. */
  selectFromElsewhere(seq: number): void;
  /** Draws a frame now, synchronously; its drawing time, ms. */
  drawNow(): number;
  resetStats(): void;
}

declare global {
  interface Window {
    __xenlabTimeline?: TimelineDebug;
  }
}

export const timelineView: View = {
  id: 'timeline',
  title: 'Timeline',
  area: 'bottom',
  order: 20,
  command: 'view.timeline',
  keys: COMMAND_KEYS['view.timeline'],
  mount,
};
