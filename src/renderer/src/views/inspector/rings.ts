/**
 * A ring as a card: its indexes as Xen names them (with the slot or byte
 * each points at), the requests or bytes in flight between each producer
 * and its consumer, a diagram (a circle of slots for the small rings — the
 * control interface's 8, a blkif ring's 32 —, a bar for the large ones and
 * the byte rings) with a marker per index, and the decoded slots.
 */
import type { RingView } from '../../../../contract/inspect.js';
import { h } from '../../util/dom.js';
import { indexRole, key, ringPairs, slotOf, type IndexRole } from './model.js';

const SVG_NS = 'http://www.w3.org/2000/svg';

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, ...children: (SVGElement | string)[]): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.append(c);
  return el;
}

const ROLE_TEXT: Record<IndexRole, string> = { prod: 'producer', cons: 'consumer', event: 'notify threshold', other: '' };

/** The card of one ring; `changed` holds "ring\0index" and "ring\0#slot" keys. */
export function ringCard(ring: RingView, changed: ReadonlySet<string>): HTMLElement {
  const shape = ring.shape === 'bytes' ? `${ring.size} bytes` : ring.size === 0 ? 'slot size unknown: header only' : `${ring.size} slots`;
  const unit = ring.shape === 'bytes' ? 'byte' : 'slot';
  const rows = ring.indexes.map((ix) => {
    const role = indexRole(ix.name);
    return h(
      'tr',
      { class: changed.has(key(ring.name, ix.name)) ? 'xi-chg' : undefined, 'data-index': ix.name },
      h('td', {}, h('span', { class: `xi-role xi-role-${role}`, title: ROLE_TEXT[role] })),
      h('td', { class: 'xi-ix-name' }, ix.name),
      h('td', { class: 'xi-ix-value' }, String(ix.value)),
      h('td', { class: 'xi-ix-slot', title: `the ${unit} it points at: ${ix.name} mod ${ring.size}` }, ring.size > 0 && role !== 'other' ? `${unit} ${slotOf(ix.value, ring.size)}` : ''),
    );
  });
  const pairs = ringPairs(ring).map((p) =>
    h(
      'div',
      { class: 'xi-pair' },
      h('span', { class: 'xi-pair-n' }, String(p.inFlight)),
      ` ${ring.shape === 'bytes' ? (p.inFlight === 1 ? 'byte' : 'bytes') : p.inFlight === 1 ? 'entry' : 'entries'} between ${p.cons.name} and ${p.prod.name}`,
    ),
  );
  const slots = ring.slots.length === 0 ? [h('div', { class: 'xi-slot xi-dim' }, ring.shape === 'bytes' ? 'nothing in flight' : 'no slot holds anything decoded')] : ring.slots.map((s) => h('div', { class: `xi-slot${changed.has(key(ring.name, `#${s.index}`)) ? ' xi-chg' : ''}`, 'data-slot': String(s.index) }, s.summary));
  return h(
    'div',
    { class: 'xi-ring', 'data-ring': ring.name },
    h('div', { class: 'xi-ring-head' }, h('span', { class: 'xi-ring-name' }, ring.name), h('span', { class: 'xi-ring-meta' }, `${ring.shape} · ${shape}`)),
    h(
      'div',
      { class: 'xi-ring-body' },
      ring.size > 0 ? diagram(ring, changed) : undefined,
      h('div', { class: 'xi-ring-side' }, h('table', { class: 'xi-indexes', 'aria-label': `${ring.name} indexes` }, h('tbody', {}, ...rows)), ...pairs),
    ),
    h('div', { class: 'xi-slots', 'aria-label': `${ring.name} slots` }, ...slots),
  );
}

function diagram(ring: RingView, changed: ReadonlySet<string>): Element {
  return ring.shape !== 'bytes' && ring.size <= 64 ? circle(ring, changed) : bar(ring);
}

/** Slots around a circle, slot 0 at the top, clockwise; an index points at the start of its slot. */
function circle(ring: RingView, changed: ReadonlySet<string>): Element {
  const n = ring.size;
  const cx = 64;
  const cy = 64;
  const ro = 42;
  const ri = 28;
  const el = svg('svg', { class: 'xi-ring-svg', viewBox: '0 0 128 128', width: 128, height: 128, role: 'img', 'aria-label': `${ring.name}: ${n} slots` });
  const used = new Map(ring.slots.map((s) => [slotOf(s.index, n), s]));
  const at = (a: number, r: number): [number, number] => [cx + r * Math.sin(a), cy - r * Math.cos(a)];
  for (let i = 0; i < n; i++) {
    const a0 = (i / n) * 2 * Math.PI;
    const a1 = ((i + 1) / n) * 2 * Math.PI;
    const [x0, y0] = at(a0, ro);
    const [x1, y1] = at(a1, ro);
    const [x2, y2] = at(a1, ri);
    const [x3, y3] = at(a0, ri);
    const s = used.get(i);
    const cls = `xi-seg${s === undefined ? '' : ' xi-seg-used'}${s !== undefined && changed.has(key(ring.name, `#${s.index}`)) ? ' xi-seg-chg' : ''}`;
    const path = svg('path', { class: cls, d: `M${x0} ${y0}A${ro} ${ro} 0 0 1 ${x1} ${y1}L${x2} ${y2}A${ri} ${ri} 0 0 0 ${x3} ${y3}Z` }, svg('title', {}, s?.summary ?? `slot ${i}: empty`));
    el.append(path);
    if (n <= 16) {
      const [tx, ty] = at((a0 + a1) / 2, (ro + ri) / 2);
      el.append(svg('text', { class: 'xi-seg-label', x: tx, y: ty + 3, 'text-anchor': 'middle' }, String(i)));
    }
  }
  markers(ring, (slot, depth, role, names) => {
    const a = (slot / n) * 2 * Math.PI;
    const r = ro + 3 + depth * 7;
    const [tx, ty] = at(a, r);
    const [lx, ly] = at(a - 0.09, r + 6);
    const [rx, ry] = at(a + 0.09, r + 6);
    el.append(svg('path', { class: `xi-marker xi-role-${role}`, d: `M${tx} ${ty}L${lx} ${ly}L${rx} ${ry}Z` }, svg('title', {}, names)));
  });
  el.append(svg('text', { class: 'xi-ring-center', x: cx, y: cy + 4, 'text-anchor': 'middle' }, String(n)));
  return el;
}

/** A bar of `size` slots or bytes: what is in flight between each consumer and its producer shaded, producers marked above, consumers below. */
function bar(ring: RingView): Element {
  const n = ring.size;
  const track = h('div', { class: 'xi-bar-track' });
  const el = h('div', { class: 'xi-bar', role: 'img', 'aria-label': `${ring.name}: ${n} ${ring.shape === 'bytes' ? 'bytes' : 'slots'}` }, track);
  const pct = (x: number): string => `${((x / n) * 100).toFixed(3)}%`;
  const span = (from: number, count: number, cls: string, title: string): void => {
    let a = slotOf(from, n);
    let left = Math.min(count, n);
    while (left > 0) {
      const run = Math.min(left, n - a);
      const part = h('span', { class: cls, title });
      part.style.left = pct(a);
      part.style.width = `max(1px, ${pct(run)})`;
      track.append(part);
      left -= run;
      a = 0;
    }
  };
  for (const p of ringPairs(ring)) if (p.inFlight > 0) span(p.cons.value, p.inFlight, 'xi-bar-used', `${p.inFlight} in flight: ${p.cons.name} ${p.cons.value} → ${p.prod.name} ${p.prod.value}`);
  if (ring.shape !== 'bytes') for (const s of ring.slots) span(s.index, 1, 'xi-bar-slot', s.summary);
  markers(ring, (slot, depth, role, names) => {
    const m = h('span', { class: `xi-bar-marker xi-role-${role} ${role === 'cons' ? 'xi-below' : 'xi-above'}`, title: names });
    m.style.left = pct(slot);
    m.style.setProperty('--depth', String(depth));
    el.append(m);
  });
  el.append(h('span', { class: 'xi-bar-end xi-bar-start' }, '0'), h('span', { class: 'xi-bar-end xi-bar-stop' }, String(n)));
  return el;
}

/** Calls `draw` once per distinct (slot, role) of the ring's indexes, stacking those that share a slot. */
function markers(ring: RingView, draw: (slot: number, depth: number, role: IndexRole, names: string) => void): void {
  const groups = new Map<string, { slot: number; role: IndexRole; names: string[] }>();
  for (const ix of ring.indexes) {
    const role = indexRole(ix.name);
    if (role === 'other') continue;
    const slot = slotOf(ix.value, ring.size);
    const k = `${slot}/${role}`;
    const g = groups.get(k) ?? { slot, role, names: [] };
    g.names.push(`${ix.name} = ${ix.value}`);
    groups.set(k, g);
  }
  const depthAt = new Map<number, number>();
  for (const g of groups.values()) {
    const d = depthAt.get(g.slot) ?? 0;
    depthAt.set(g.slot, d + 1);
    draw(g.slot, d, g.role, g.names.join('\n'));
  }
}
