// The topology view's layout: dom0 on the left and the guests in a grid, boxes that never overlap,
// every channel drawn once between its two port rows (or as stubs, for a long one among many
// domains), edges that run only between boxes, unbound ports as stubs toward the domain allowed to
// bind them, edge colours from the ports' bits, collapsed domains merging their channels, and the
// same picture for the same machine.
import { describe, expect, it } from 'vitest';
import type { Topology, TopologyDomain, TopologyPort } from '../../src/contract/session.js';
import { GEOM, layoutTopology, portKey, restate, structureKey, type TopologyLayout } from '../../src/renderer/src/views/topology/layout.js';

const port = (p: number, state: string, extra: Partial<TopologyPort> = {}): TopologyPort => ({ port: p, state, vcpu: 0, pending: false, masked: false, ...extra });
const dom = (domid: number, ports: TopologyPort[], extra: Partial<TopologyDomain> = {}): TopologyDomain => ({
  domid,
  name: domid === 0 ? 'dom0' : `g${domid}`,
  kernel: 'default',
  state: 'running',
  vcpus: 1,
  abi: '2l',
  ports: [port(0, 'reserved'), ...ports],
  ...extra,
});
const link = (a: number, ap: number, b: number, bp: number): [TopologyPort, TopologyPort] => [port(ap, 'interdomain', { remoteDom: b, remotePort: bp }), port(bp, 'interdomain', { remoteDom: a, remotePort: ap })];

/** dom0 and n guests, each guest with a channel to dom0 (guest port 1 ↔ dom0 port i); every third guest also to the next guest. */
function star(n: number, guestToGuest = true): Topology {
  const d0: TopologyPort[] = [];
  const guests = new Map<number, TopologyPort[]>();
  for (let i = 1; i <= n; i++) {
    const [a, b] = link(0, i, i, 1);
    d0.push(a);
    guests.set(i, [b]);
  }
  if (guestToGuest) {
    for (let i = 3; i < n; i += 3) {
      const [a, b] = link(i, 2, i + 1, 2);
      guests.get(i)!.push(a);
      guests.get(i + 1)!.push(b);
    }
  }
  return { position: 1, domains: [dom(0, d0), ...[...guests].map(([id, ps]) => dom(id, ps))] };
}

const always = (v: boolean) => () => v;

function channelsDrawn(L: TopologyLayout): number {
  let n = 0;
  for (const e of L.edges) {
    if (e.kind === 'channel') n += e.channels.length;
    else if (e.peers !== undefined) n += e.channels.length / 2; // each long channel is a stub at each end
  }
  return n;
}

function overlaps(a: { x: number; y: number; w: number; h: number }, b: { x: number; y: number; w: number; h: number }): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

/** Points of each edge strictly inside a box (by more than 1 px): there must be none. */
function edgesThroughBoxes(L: TopologyLayout): string[] {
  const bad: string[] = [];
  const p = { x: 0, y: 0 };
  for (const e of L.edges) {
    for (let i = 0; i <= 200; i++) {
      e.path.at(i / 200, p);
      const inside = L.domains.find((b) => p.x > b.x + 1 && p.x < b.x + b.w - 1 && p.y > b.y + 1 && p.y < b.y + b.h - 1);
      if (inside !== undefined) {
        bad.push(`${e.key} passes through ${inside.data.name} at (${p.x.toFixed(0)}, ${p.y.toFixed(0)})`);
        break;
      }
    }
  }
  return bad;
}

describe('the topology layout', () => {
  it('puts dom0 on the left and a guest to its right, with each channel as one edge between the two port rows', () => {
    const [a1, b1] = link(0, 1, 1, 1);
    const [a2, b2] = link(0, 2, 1, 2);
    const t: Topology = { position: 7, domains: [dom(1, [b1, b2], { name: 'guest' }), dom(0, [a1, a2])] };
    const L = layoutTopology(t, { collapsed: always(false), aspect: 1.3 });
    const [d0, g] = L.domains;
    expect([d0!.data.name, g!.data.name]).toEqual(['dom0', 'guest']);
    expect(d0!.x).toBeLessThan(g!.x);
    expect(d0!.ports.map((p) => p.port)).toEqual([1, 2]); // reserved port 0 is not listed
    expect(L.edges.map((e) => [e.kind, e.state, e.a.domid, e.a.port, e.a.side, e.b?.domid, e.b?.port, e.b?.side])).toEqual([
      ['channel', 'bound', 0, 1, 'r', 1, 1, 'l'],
      ['channel', 'bound', 0, 2, 'r', 1, 2, 'l'],
    ]);
    // The ends sit on the rows: row i of a box is at header + i rows.
    const e = L.edges[0]!;
    expect(e.a.x).toBe(d0!.x + GEOM.boxW);
    expect(e.a.y).toBe(d0!.y + GEOM.border + GEOM.header + GEOM.row / 2);
    expect(e.path.start).toEqual({ x: e.a.x, y: e.a.y });
    expect(e.path.end.x).toBeCloseTo(g!.x);
    expect(L.edgeOfPort.get(portKey(1, 2))).toMatchObject({ edge: L.edges[1], end: 'b' });
    expect(L.edgeOfPort.get(portKey(0, 2))).toMatchObject({ edge: L.edges[1], end: 'a' });
    expect(L.width).toBeGreaterThanOrEqual(g!.x + g!.w);
    expect(L.height).toBeGreaterThanOrEqual(Math.max(d0!.y + d0!.h, g!.y + g!.h));
  });

  it('colours a channel by its ends: pending, pending but masked, or an end in a dead domain', () => {
    const [a1, b1] = link(0, 1, 1, 1);
    const [a2, b2] = link(0, 2, 1, 2);
    const [a3, b3] = link(0, 3, 2, 1);
    b1.pending = true;
    b1.masked = true;
    a2.pending = true;
    const t: Topology = { position: 1, domains: [dom(0, [a1, a2, a3]), dom(1, [b1, b2]), dom(2, [b3], { state: 'destroyed' })] };
    const L = layoutTopology(t, { collapsed: always(false), aspect: 1 });
    const state = (d: number, p: number) => L.edgeOfPort.get(portKey(d, p))!.edge.state;
    expect([state(1, 1), state(1, 2), state(2, 1)]).toEqual(['masked', 'pending', 'dead']);
  });

  it('draws an unbound port as a stub pointing at the domain allowed to bind it, named', () => {
    const t: Topology = {
      position: 1,
      domains: [dom(0, [port(1, 'unbound', { remoteDom: 1 })]), dom(1, [port(1, 'unbound', { remoteDom: 0 }), port(2, 'unbound', { remoteDom: 999 }), port(3, 'unbound', { remoteDom: 1 })])],
    };
    const L = layoutTopology(t, { collapsed: always(false), aspect: 1.3 });
    const stub = (d: number, p: number) => L.edgeOfPort.get(portKey(d, p))!.edge;
    expect(L.edges.every((e) => e.kind === 'stub' && e.state === 'unbound')).toBe(true);
    expect([stub(0, 1).a.side, stub(0, 1).target?.name]).toEqual(['r', 'g1']);
    expect([stub(1, 1).a.side, stub(1, 1).target?.name, stub(1, 1).target?.anchor]).toEqual(['l', 'dom0', 'end']);
    expect([stub(1, 2).a.side, stub(1, 2).target?.name]).toEqual(['r', 'dom999']);
    expect([stub(1, 3).a.side, stub(1, 3).target?.name]).toEqual(['r', 'itself']);
    // A stub's label fits in the picture.
    const right = stub(1, 2).target!;
    expect(L.width).toBeGreaterThan(right.x + 'dom999'.length * 6);
  });

  it('joins a loopback channel with a bracket beside its box, and two guests of one column through the gutter', () => {
    const [l1, l2] = link(1, 1, 1, 2);
    const [x1, x2] = link(1, 3, 2, 1);
    const t: Topology = { position: 1, domains: [dom(0, []), dom(1, [l1, l2, x1]), dom(2, [x2])] };
    const L = layoutTopology(t, { collapsed: always(false), aspect: 0.8 });
    const g1 = L.domainOf.get(1)!;
    const g2 = L.domainOf.get(2)!;
    expect(g1.col).toBe(g2.col);
    const loop = L.edgeOfPort.get(portKey(1, 1))!.edge;
    expect([loop.a.side, loop.b?.side]).toEqual(['r', 'r']);
    expect(loop.path.maxX).toBeGreaterThan(g1.x + g1.w);
    expect(loop.path.maxX).toBeLessThan(g1.x + g1.w + 30);
    const across = L.edgeOfPort.get(portKey(2, 1))!.edge;
    expect([across.a.domid, across.b?.domid, across.a.side, across.b?.side]).toEqual([1, 2, 'r', 'r']);
    expect(edgesThroughBoxes(L)).toEqual([]);
  });

  it('lays out 100 domains in a grid: no box overlaps another, every channel is drawn, no edge passes under a box', () => {
    const t = star(100);
    const L = layoutTopology(t, { collapsed: always(false), aspect: 1.4 });
    expect(L.domains).toHaveLength(101);
    const overlapping: string[] = [];
    for (let i = 0; i < L.domains.length; i++) for (let j = i + 1; j < L.domains.length; j++) if (overlaps(L.domains[i]!, L.domains[j]!)) overlapping.push(`${L.domains[i]!.data.name} and ${L.domains[j]!.data.name}`);
    expect(overlapping).toEqual([]);
    for (const b of L.domains) {
      expect(b.x).toBeGreaterThanOrEqual(0);
      expect(b.y + b.h).toBeLessThanOrEqual(L.height);
      expect(b.x + b.w).toBeLessThanOrEqual(L.width);
    }
    const cols = new Set(L.domains.map((b) => b.col));
    expect(cols.size).toBeGreaterThan(2);
    expect(channelsDrawn(L)).toBe(100 + 33);
    expect(edgesThroughBoxes(L)).toEqual([]);
    for (const e of L.edges) expect(e.path.maxX).toBeLessThanOrEqual(L.width);
  });

  it('with many domains collapsed, draws long channels as stubs naming the other end, except the focused domain’s', () => {
    const t = star(100);
    const L = layoutTopology(t, { collapsed: always(true), aspect: 1.4, stubLong: true });
    expect(channelsDrawn(L)).toBe(100 + 33);
    // Far fewer marks than channels: dom0's header has one merged stub per side, not 100 lines.
    expect(L.edges.length).toBeLessThan(250);
    const d0stubs = L.edges.filter((e) => e.kind === 'stub' && e.a.domid === 0);
    expect(d0stubs.length).toBeLessThanOrEqual(1);
    expect(d0stubs[0]?.target?.name).toMatch(/^\d+ peers ×\d+$/);
    const far = L.domains.find((b) => b.col >= 3)!;
    const farStub = L.edgeOfPort.get(portKey(far.domid, 1))!.edge;
    expect([farStub.kind, farStub.a.side, farStub.target?.name, farStub.peers]).toEqual(['stub', 'l', 'dom0', [0]]);
    expect(edgesThroughBoxes(L)).toEqual([]);
    // Focused: that domain's channels are drawn whole again.
    const F = layoutTopology(t, { collapsed: always(true), aspect: 1.4, stubLong: true, focus: far.domid });
    const whole = F.edges.find((e) => e.kind === 'channel' && (e.a.domid === far.domid || e.b?.domid === far.domid));
    expect(whole?.b?.domid === 0 || whole?.a.domid === 0).toBe(true);
    expect(edgesThroughBoxes(F)).toEqual([]);
  });

  it('merges the channels of a collapsed domain per peer, ending at its header, with their count', () => {
    const [a1, b1] = link(0, 1, 1, 1);
    const [a2, b2] = link(0, 2, 1, 2);
    const [a3, b3] = link(0, 3, 1, 3);
    const t: Topology = { position: 1, domains: [dom(0, [a1, a2, a3]), dom(1, [b1, b2, b3])] };
    // dom0's rows stay: three edges, all ending at the guest's header.
    const half = layoutTopology(t, { collapsed: (d) => d.domid === 1, aspect: 1.3 });
    expect(half.edges.map((e) => [e.a.port, e.b?.port])).toEqual([
      [1, -1],
      [2, -1],
      [3, -1],
    ]);
    // Both collapsed: one edge for the three.
    const L = layoutTopology(t, { collapsed: always(true), aspect: 1.3 });
    expect(L.edges).toHaveLength(1);
    const e = L.edges[0]!;
    expect([e.channels.length, e.b?.port, e.b?.y]).toEqual([3, -1, L.domainOf.get(1)!.y + GEOM.border + GEOM.header / 2]);
    expect(L.domainOf.get(1)!.h).toBe(GEOM.header + GEOM.summary + 2 * GEOM.border);
    expect(L.edgeOfPort.get(portKey(1, 3))!.edge).toBe(e);
  });

  it('chooses more columns for a wide view than for a tall one', () => {
    const t = star(20, false);
    const wide = layoutTopology(t, { collapsed: always(false), aspect: 3 });
    const tall = layoutTopology(t, { collapsed: always(false), aspect: 0.5 });
    const cols = (L: TopologyLayout) => new Set(L.domains.map((b) => b.col)).size;
    expect(cols(wide)).toBeGreaterThan(cols(tall));
  });

  it('keeps the geometry when only pending and mask bits change, and recolours the channels', () => {
    const t = star(20);
    const L = layoutTopology(t, { collapsed: always(false), aspect: 1.2, stubLong: true });
    const key = structureKey(t);
    const paths = L.edges.map((e) => e.path.d);
    const next = structuredClone(t);
    const g5 = next.domains.find((d) => d.domid === 5)!.ports.find((p) => p.port === 1)!;
    g5.pending = true;
    g5.masked = true;
    next.domains.find((d) => d.domid === 7)!.ports.find((p) => p.port === 1)!.pending = true;
    expect(structureKey(next)).toBe(key);
    restate(L, next);
    expect(L.edges.map((e) => e.path.d)).toEqual(paths);
    expect(L.edgeOfPort.get(portKey(5, 1))!.edge.state).toBe('masked');
    expect(L.edgeOfPort.get(portKey(0, 7))!.edge.state).toBe('pending');
    expect(L.edgeOfPort.get(portKey(6, 1))!.edge.state).toBe('bound');
    expect(L.domainOf.get(5)!.ports.find((p) => p.port === 1)!.masked).toBe(true);
    // A port bound elsewhere, a domain that dies: the structure changed, a new layout is due.
    const moved = structuredClone(t);
    moved.domains[3]!.state = 'destroyed';
    expect(structureKey(moved)).not.toBe(key);
  });

  it('gives the same picture for the same machine', () => {
    const t = star(30);
    const a = layoutTopology(t, { collapsed: (d) => d.domid % 2 === 0, aspect: 1.2 });
    const b = layoutTopology(structuredClone(t), { collapsed: (d) => d.domid % 2 === 0, aspect: 1.2 });
    const flat = (L: TopologyLayout) => ({ w: L.width, h: L.height, d: L.domains.map((x) => [x.domid, x.x, x.y, x.h]), e: L.edges.map((x) => [x.key, x.path.d, x.state]) });
    expect(flat(a)).toEqual(flat(b));
  });
});
