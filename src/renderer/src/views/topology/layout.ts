/**
 * Where the topology view draws everything, computed from the topology
 * alone (deterministic: the same machine gives the same picture, so a step
 * changes only what changed).
 *
 * - dom0 (the hub: most channels end there) in a column of its own on the
 *   left, vertically centred; the other domains in a grid to its right,
 *   filled column by column, with as many columns as make the picture's
 *   shape closest to the view's. Rows are aligned across columns, so the
 *   gaps between rows are straight corridors and the gaps between columns
 *   straight gutters: edges run only there, never under a box.
 * - A domain box lists its ports, one row each (port 0 when reserved is
 *   left out: it never carries an event); a collapsed box shows one summary
 *   line, and its channels end at its header, merged per peer with a count.
 * - A channel between neighbouring columns is an S-curve; farther ones go
 *   through the gutter beside their start, along the corridor above their
 *   end's row and down the gutter beside their end, each on a lane of its
 *   own; two domains in one column are joined by a bracket in the gutter to
 *   their right; a loopback channel by a small bracket beside its box.
 * - An unbound port is a short stub pointing toward the domain allowed to
 *   bind it.
 * Pure: no DOM.
 */
import type { Topology, TopologyDomain, TopologyPort } from '../../../../contract/session.js';
import { orthogonal, sCurve, PathBuilder, type PathGeom, type Pt } from './path.js';
import { shownPorts } from './words.js';

export const GEOM = {
  margin: 24,
  boxW: 248,
  /** The box's border (inside its height: the rows start below it). */
  border: 1,
  header: 42,
  row: 20,
  padBottom: 6,
  summary: 22,
  gutter: 84,
  rowGap: 30,
  stub: 26,
  lane: 4,
} as const;

/** A port's key in the maps below: domid and port in one safe integer (FIFO ports go up to 2^17). */
export function portKey(domid: number, port: number): number {
  return domid * 2 ** 20 + port;
}

export interface DomainBox {
  domid: number;
  data: TopologyDomain;
  x: number;
  y: number;
  w: number;
  h: number;
  /** Column (0 is dom0's when there is a dom0) and row in the grid (-1: the hub, in a column of its own). */
  col: number;
  row: number;
  collapsed: boolean;
  /** The ports listed, in order (none when collapsed). */
  ports: TopologyPort[];
}

/** An edge's colour: bound and idle, an event pending at an end, pending but masked at an end, unbound (a stub), an end in a dead domain. */
export type EdgeState = 'bound' | 'pending' | 'masked' | 'unbound' | 'dead';

const STATE_RANK: Record<EdgeState, number> = { dead: 0, unbound: 0, bound: 1, pending: 2, masked: 3 };

export interface EdgeEnd {
  domid: number;
  /** -1: the domain's header (the domain is collapsed). */
  port: number;
  x: number;
  y: number;
  side: 'l' | 'r';
}

export interface ChannelRef {
  a: { domid: number; port: number };
  b?: { domid: number; port: number };
}

export interface EdgeBox {
  key: string;
  kind: 'channel' | 'stub';
  a: EdgeEnd;
  /** The other end (a channel); a stub has none. */
  b?: EdgeEnd;
  path: PathGeom;
  state: EdgeState;
  /** The channels (or unbound ports) this edge draws: more than one when a collapsed domain merges them. */
  channels: ChannelRef[];
  /**
   * A stub: the domain it points to (allowed to bind the port; or, for a long channel drawn as
   * stubs, the other end's domain) and where its label goes. Stubs at a collapsed domain's header
   * are merged: `domid` is -1 when they point to several domains.
   */
  target?: { domid: number; name: string; x: number; y: number; anchor: 'start' | 'end' };
  /** A long channel drawn as a stub at each end: the domains at the other ends (their sends arrive along it). */
  peers?: number[];
}

export interface TopologyLayout {
  width: number;
  height: number;
  domains: DomainBox[];
  edges: EdgeBox[];
  domainOf: Map<number, DomainBox>;
  /** The edge drawing each port's channel (or stub), and which end of it the port is. */
  edgeOfPort: Map<number, { edge: EdgeBox; end: 'a' | 'b' }>;
}

export interface LayoutOptions {
  /** Whether a domain's box is drawn collapsed. */
  collapsed(d: TopologyDomain): boolean;
  /** The view's width / height, to choose the number of columns. */
  aspect: number;
  /**
   * Many domains: a channel between columns that are not neighbours is drawn as a stub at each
   * end naming the other (a routed line for each would be a hairball), except the channels of
   * `focus` (the selected domain), which are drawn whole.
   */
  stubLong?: boolean;
  focus?: number;
}

function boxHeight(d: TopologyDomain, collapsed: boolean): number {
  const rows = shownPorts(d).length;
  const inner = collapsed || rows === 0 ? GEOM.header + GEOM.summary : GEOM.header + rows * GEOM.row + GEOM.padBottom;
  return inner + 2 * GEOM.border;
}

interface Grid {
  cols: number;
  rows: number;
  rowH: number[];
  width: number;
  height: number;
}

function gridFor(heights: readonly number[], cols: number, hubCols: number, hubH: number): Grid {
  const rows = Math.ceil(heights.length / cols);
  const rowH = new Array<number>(rows).fill(0);
  heights.forEach((h, k) => {
    const r = k % rows;
    rowH[r] = Math.max(rowH[r]!, h);
  });
  const gridH = rowH.reduce((a, b) => a + b, 0) + Math.max(0, rows - 1) * GEOM.rowGap;
  // Filled column by column: `rows` rows may need fewer columns than asked.
  const used = Math.ceil(heights.length / rows);
  const n = used + hubCols;
  const width = 2 * GEOM.margin + n * GEOM.boxW + (n - 1) * GEOM.gutter;
  return { cols: used, rows, rowH, width, height: 2 * GEOM.margin + Math.max(gridH, hubH) };
}

/** The number of columns whose picture has the shape closest to the view's (fewer on a tie). */
function chooseGrid(heights: readonly number[], hubCols: number, hubH: number, aspect: number): Grid {
  if (heights.length === 0) return { cols: 0, rows: 0, rowH: [], width: 2 * GEOM.margin + GEOM.boxW, height: 2 * GEOM.margin + hubH };
  const want = Math.log(Math.max(0.2, Math.min(5, aspect)));
  let best: Grid | undefined;
  let bestScore = Infinity;
  let lastRows = -1;
  for (let c = 1; c <= Math.min(heights.length, 16); c++) {
    const rows = Math.ceil(heights.length / c);
    if (rows === lastRows) continue; // as many rows as with fewer columns: an empty column gains nothing
    lastRows = rows;
    const g = gridFor(heights, c, hubCols, hubH);
    const score = Math.abs(Math.log(g.width / g.height) - want);
    if (score < bestScore - 1e-9) {
      best = g;
      bestScore = score;
    }
  }
  return best!;
}

export function layoutTopology(t: Topology, opts: LayoutOptions): TopologyLayout {
  const sorted = [...t.domains].sort((a, b) => a.domid - b.domid);
  const hub = sorted.length > 1 ? sorted.find((d) => d.domid === 0) : undefined;
  const guests = sorted.filter((d) => d !== hub);
  const hubCols = hub === undefined ? 0 : 1;
  const collapsedOf = new Map(sorted.map((d) => [d.domid, opts.collapsed(d)]));
  const hubH = hub === undefined ? 0 : boxHeight(hub, collapsedOf.get(0)!);
  const heights = guests.map((d) => boxHeight(d, collapsedOf.get(d.domid)!));
  const grid = chooseGrid(heights, hubCols, hubH, opts.aspect);
  const colX = (c: number): number => GEOM.margin + c * (GEOM.boxW + GEOM.gutter);
  const gridH = grid.rowH.reduce((a, b) => a + b, 0) + Math.max(0, grid.rows - 1) * GEOM.rowGap;
  const gridTop = GEOM.margin + Math.max(0, (hubH - gridH) / 2);
  const rowTop: number[] = [];
  let y = gridTop;
  for (const h of grid.rowH) {
    rowTop.push(y);
    y += h + GEOM.rowGap;
  }

  const domains: DomainBox[] = [];
  const domainOf = new Map<number, DomainBox>();
  const place = (d: TopologyDomain, x: number, top: number, col: number, row: number): void => {
    const collapsed = collapsedOf.get(d.domid)!;
    const box: DomainBox = { domid: d.domid, data: d, x, y: top, w: GEOM.boxW, h: boxHeight(d, collapsed), col, row, collapsed, ports: collapsed ? [] : shownPorts(d) };
    domains.push(box);
    domainOf.set(d.domid, box);
  };
  if (hub !== undefined) place(hub, colX(0), GEOM.margin + Math.max(0, (gridH - hubH) / 2), 0, -1);
  guests.forEach((d, k) => {
    const col = Math.floor(k / grid.rows);
    const row = k % grid.rows;
    place(d, colX(hubCols + col), rowTop[row]!, hubCols + col, row);
  });

  const router = new Router(domainOf, rowTop, colX, opts.stubLong === true, opts.focus);
  const edges = router.edges(t);
  // Brackets and stubs beside the last column widen the picture.
  let right = grid.width;
  for (const e of edges) {
    right = Math.max(right, e.path.maxX + GEOM.margin / 2);
    if (e.target !== undefined && e.target.anchor === 'start') right = Math.max(right, e.target.x + 8 + e.target.name.length * 6.5 + GEOM.margin / 2);
  }
  return { width: Math.ceil(right), height: grid.height, domains, edges, domainOf, edgeOfPort: router.edgeOfPort };
}

// ---- edges ----

interface PendingEdge {
  key: string;
  kind: 'channel' | 'stub';
  a: EdgeEnd;
  b?: EdgeEnd;
  state: EdgeState;
  channels: ChannelRef[];
  /** A stub's targets (several when merged at a collapsed header), by domid. */
  targets?: Map<number, string>;
  peers?: Set<number>;
  path?: PathGeom;
  /** Lanes, filled in before the paths are made. */
  lanes: { gutterA?: number; gutterB?: number; corridor?: number; loop?: number };
}

class Router {
  readonly edgeOfPort = new Map<number, { edge: EdgeBox; end: 'a' | 'b' }>();

  constructor(
    private readonly domainOf: Map<number, DomainBox>,
    private readonly rowTop: readonly number[],
    private readonly colX: (c: number) => number,
    private readonly stubLong: boolean,
    private readonly focus: number | undefined,
  ) {}

  /** The anchor of a port on the side of its box that faces `toward` (the same column: the right side). */
  private end(box: DomainBox, port: number, toward: DomainBox | undefined): EdgeEnd {
    const side: 'l' | 'r' = toward !== undefined && toward.col < box.col ? 'l' : 'r';
    const i = box.collapsed ? -1 : box.ports.findIndex((p) => p.port === port);
    const top = box.y + GEOM.border;
    const y = i < 0 ? top + GEOM.header / 2 : top + GEOM.header + i * GEOM.row + GEOM.row / 2;
    return { domid: box.domid, port: i < 0 ? -1 : port, x: side === 'l' ? box.x : box.x + box.w, y, side };
  }

  edges(t: Topology): EdgeBox[] {
    const merged = new Map<string, PendingEdge>();
    const ports = new Map<number, { d: TopologyDomain; p: TopologyPort }>();
    for (const d of t.domains) for (const p of d.ports) ports.set(portKey(d.domid, p.port), { d, p });
    const portEdges: { key: number; edge: PendingEdge; end: 'a' | 'b' }[] = [];
    const add = (e: Omit<PendingEdge, 'key' | 'lanes'>, refs: { key: number; end: 'a' | 'b' }[]): void => {
      const endKey = (x: EdgeEnd): string => `${x.domid}:${x.port}:${x.side}`;
      // Stubs merge per anchor: one per port row, one per side of a collapsed header.
      const key = e.kind === 'stub' ? `stub ${endKey(e.a)}` : `${endKey(e.a)} ${endKey(e.b!)}`;
      let m = merged.get(key);
      if (m === undefined) merged.set(key, (m = { ...e, key, lanes: {} }));
      else {
        m.channels.push(...e.channels);
        if (STATE_RANK[e.state] > STATE_RANK[m.state]) m.state = e.state;
        for (const [k, v] of e.targets ?? []) m.targets!.set(k, v);
        for (const k of e.peers ?? []) (m.peers ??= new Set()).add(k);
      }
      for (const r of refs) portEdges.push({ key: r.key, edge: m, end: r.end });
    };
    const nameOf = (domid: number, self: number): string => (domid === self ? 'itself' : (this.domainOf.get(domid)?.data.name ?? `dom${domid}`));
    for (const d of [...t.domains].sort((a, b) => a.domid - b.domid)) {
      const box = this.domainOf.get(d.domid)!;
      for (const p of d.ports) {
        if (p.state === 'interdomain' && p.remoteDom !== undefined && p.remotePort !== undefined) {
          const peer = ports.get(portKey(p.remoteDom, p.remotePort));
          const peerBox = this.domainOf.get(p.remoteDom);
          const paired = peer !== undefined && peerBox !== undefined && peer.p.state === 'interdomain' && peer.p.remoteDom === d.domid && peer.p.remotePort === p.port;
          if (paired) {
            // Each channel once: from the end with the lower key.
            if (portKey(d.domid, p.port) > portKey(p.remoteDom, p.remotePort)) continue;
            let [ab, ap, bb, bp] = [box, p, peerBox, peer.p];
            // a is the left end (or, in one column, the upper one).
            if (bb.col < ab.col || (bb.col === ab.col && bb.y < ab.y)) [ab, ap, bb, bp] = [bb, bp, ab, ap];
            const a = this.end(ab, ap.port, bb);
            const b = this.end(bb, bp.port, ab);
            if (ab === bb && a.port === b.port && a.port === -1) continue; // a loopback inside a collapsed domain: nothing to draw
            const state = channelState(ab.data, ap, bb.data, bp);
            const channel: ChannelRef = { a: { domid: ab.domid, port: ap.port }, b: { domid: bb.domid, port: bp.port } };
            if (this.stubLong && bb.col > ab.col + 1 && ab.domid !== this.focus && bb.domid !== this.focus) {
              // A stub at each end, pointing at the other.
              add({ kind: 'stub', a, state, channels: [channel], targets: new Map([[bb.domid, nameOf(bb.domid, -1)]]), peers: new Set([bb.domid]) }, [{ key: portKey(ab.domid, ap.port), end: 'a' }]);
              add({ kind: 'stub', a: b, state, channels: [{ a: channel.b!, b: channel.a }], targets: new Map([[ab.domid, nameOf(ab.domid, -1)]]), peers: new Set([ab.domid]) }, [{ key: portKey(bb.domid, bp.port), end: 'a' }]);
              continue;
            }
            add({ kind: 'channel', a, b, state, channels: [channel] }, [
              { key: portKey(ab.domid, ap.port), end: 'a' },
              { key: portKey(bb.domid, bp.port), end: 'b' },
            ]);
            continue;
          }
        }
        if (p.state === 'unbound' || p.state === 'interdomain') {
          // Unbound (or an interdomain end whose peer is not there): a stub toward the domain named.
          const toward = p.remoteDom === undefined ? undefined : this.domainOf.get(p.remoteDom);
          const a = this.end(box, p.port, toward === box ? undefined : toward);
          const state: EdgeState = p.state === 'unbound' ? 'unbound' : 'dead';
          const target = p.remoteDom ?? -1;
          add({ kind: 'stub', a, state, channels: [{ a: { domid: d.domid, port: p.port } }], targets: new Map([[target, nameOf(target, d.domid)]]) }, [{ key: portKey(d.domid, p.port), end: 'a' }]);
        }
      }
    }
    const list = [...merged.values()];
    this.assignLanes(list);
    const out: EdgeBox[] = list.map((e) => {
      const box: EdgeBox = { key: e.key, kind: e.kind, a: e.a, path: this.route(e), state: e.state, channels: e.channels };
      if (e.b !== undefined) box.b = e.b;
      if (e.targets !== undefined) {
        const dir = e.a.side === 'l' ? -1 : 1;
        const only = e.targets.size === 1 ? [...e.targets][0]! : undefined;
        const domid = only?.[0] ?? -1;
        const name = only?.[1] ?? `${e.targets.size} peers`;
        const label = e.channels.length > 1 ? `${name} ×${e.channels.length}` : name;
        box.target = { domid, name: label, x: e.a.x + dir * (GEOM.stub + 4), y: e.a.y, anchor: dir < 0 ? 'end' : 'start' };
      }
      if (e.peers !== undefined) box.peers = [...e.peers].sort((x, y) => x - y);
      e.path = box.path;
      return box;
    });
    const byKey = new Map(out.map((e) => [e.key, e]));
    for (const r of portEdges) this.edgeOfPort.set(r.key, { edge: byKey.get(r.edge.key)!, end: r.end });
    return out;
  }

  private gutterRight(col: number): number {
    return this.colX(col) + GEOM.boxW;
  }

  /** Lanes: vertical runs in each gutter, horizontal runs in each corridor, loop brackets per domain. */
  private assignLanes(edges: PendingEdge[]): void {
    const gutters = new Map<number, { e: PendingEdge; which: 'gutterA' | 'gutterB'; span: number }[]>();
    const corridors = new Map<number, PendingEdge[]>();
    const loops = new Map<number, PendingEdge[]>();
    const push = <K, V>(m: Map<K, V[]>, k: K, v: V): void => {
      const l = m.get(k);
      if (l === undefined) m.set(k, [v]);
      else l.push(v);
    };
    for (const e of edges) {
      if (e.kind !== 'channel' || e.b === undefined) continue;
      const A = this.domainOf.get(e.a.domid)!;
      const B = this.domainOf.get(e.b.domid)!;
      if (A === B) push(loops, A.domid, e);
      else if (A.col === B.col) push(gutters, A.col, { e, which: 'gutterA', span: Math.abs(e.b.y - e.a.y) });
      else if (B.col > A.col + 1) {
        push(gutters, A.col, { e, which: 'gutterA', span: Math.abs(this.corridorY(B) - e.a.y) });
        push(gutters, B.col - 1, { e, which: 'gutterB', span: Math.abs(e.b.y - this.corridorY(B)) });
        push(corridors, B.row, e);
      }
    }
    // Shorter runs nearer the boxes, so brackets nest instead of crossing.
    for (const list of gutters.values()) {
      list.sort((x, y) => x.span - y.span || (x.e.key < y.e.key ? -1 : 1));
      list.forEach((g, i) => (g.e.lanes[g.which] = laneOffset(i, list.length, GEOM.gutter - 28)));
    }
    for (const list of corridors.values()) list.forEach((e, i) => (e.lanes.corridor = laneOffset(i, list.length, GEOM.rowGap - 10) - (GEOM.rowGap - 10) / 2));
    for (const list of loops.values()) {
      list.sort((x, y) => Math.abs(x.b!.y - x.a.y) - Math.abs(y.b!.y - y.a.y));
      list.forEach((e, i) => (e.lanes.loop = 10 + i * 5));
    }
  }

  private corridorY(B: DomainBox): number {
    return (this.rowTop[B.row] ?? B.y) - GEOM.rowGap / 2;
  }

  private route(e: PendingEdge): PathGeom {
    const a = e.a;
    if (e.kind === 'stub' || e.b === undefined) {
      const dir = a.side === 'l' ? -1 : 1;
      return new PathBuilder().moveTo(a).lineTo({ x: a.x + dir * GEOM.stub, y: a.y }).build();
    }
    const b = e.b;
    const A = this.domainOf.get(a.domid)!;
    const B = this.domainOf.get(b.domid)!;
    if (A === B) {
      const x = A.x + A.w + (e.lanes.loop ?? 10);
      return orthogonal([a, { x, y: a.y }, { x, y: b.y }, b], 5);
    }
    if (A.col === B.col) {
      const x = this.gutterRight(A.col) + 14 + (e.lanes.gutterA ?? 0);
      return orthogonal([a, { x, y: a.y }, { x, y: b.y }, b]);
    }
    if (B.col === A.col + 1) return sCurve(a, b);
    const x1 = this.gutterRight(A.col) + 14 + (e.lanes.gutterA ?? 0);
    const x2 = this.gutterRight(B.col - 1) + 14 + (e.lanes.gutterB ?? 0);
    const cy = this.corridorY(B) + (e.lanes.corridor ?? 0);
    const pts: Pt[] = [a, { x: x1, y: a.y }, { x: x1, y: cy }, { x: x2, y: cy }, { x: x2, y: b.y }, b];
    return orthogonal(pts);
  }
}

/** A channel's colour from its two ends. */
function channelState(ad: TopologyDomain, ap: TopologyPort, bd: TopologyDomain, bp: TopologyPort): EdgeState {
  if (isDead(ad) || isDead(bd)) return 'dead';
  if ((ap.pending && ap.masked) || (bp.pending && bp.masked)) return 'masked';
  return ap.pending || bp.pending ? 'pending' : 'bound';
}

/**
 * What decides the geometry: domains, their ports and what each is bound to, not the pending
 * and mask bits. Two topologies with the same key have the same layout; only colours differ.
 */
export function structureKey(t: Topology): string {
  return t.domains
    .map((d) => `${d.domid}|${d.name}|${d.state}|${d.vcpus}|${d.abi}|${d.kernel}|${d.ports.map((p) => `${p.port},${p.state},${p.remoteDom},${p.remotePort},${p.virq},${p.pirq},${p.label},${p.vcpu}`).join(';')}`)
    .join('\n');
}

/**
 * Brings a layout up to date with a topology of the same structureKey: the boxes take the new
 * domain and port data, the channels their new colours. The geometry is kept (no layout).
 */
export function restate(L: TopologyLayout, t: Topology): void {
  const ports = new Map<number, TopologyPort>();
  for (const d of t.domains) {
    const box = L.domainOf.get(d.domid);
    if (box === undefined) continue;
    box.data = d;
    if (!box.collapsed) box.ports = shownPorts(d);
    for (const p of d.ports) ports.set(portKey(d.domid, p.port), p);
  }
  for (const e of L.edges) {
    if (e.kind !== 'channel' && e.peers === undefined) continue; // unbound stubs keep their colour
    let state: EdgeState | undefined;
    for (const c of e.channels) {
      const ap = ports.get(portKey(c.a.domid, c.a.port));
      const bp = c.b === undefined ? undefined : ports.get(portKey(c.b.domid, c.b.port));
      const ad = L.domainOf.get(c.a.domid)?.data;
      const bd = c.b === undefined ? undefined : L.domainOf.get(c.b.domid)?.data;
      if (ap === undefined || bp === undefined || ad === undefined || bd === undefined) continue;
      const s = channelState(ad, ap, bd, bp);
      if (state === undefined || STATE_RANK[s] > STATE_RANK[state]) state = s;
    }
    if (state !== undefined) e.state = state;
  }
}

/** Lane i of n spread over `room` px, GEOM.lane apart when there is room. */
function laneOffset(i: number, n: number, room: number): number {
  const step = n <= 1 ? 0 : Math.min(GEOM.lane, room / (n - 1));
  return i * step;
}

function isDead(d: TopologyDomain): boolean {
  return d.state === 'destroyed' || d.state === 'dying';
}
