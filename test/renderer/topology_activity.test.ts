// Notifications as the topology animates them: handler records found in the streamed columns with
// what caused them (a send, a raise), older backlogs and catch-ups after a jump skipped, a step back
// handled; dots limited per edge and in all, heat and a rate instead when thousands arrive, and
// everything cooling down to nothing.
import { describe, expect, it } from 'vitest';
import type { TraceColumns } from '../../src/contract/trace_batch.js';
import { Activity, DOT_GAP_MS, DOT_MS, DOT_RATE_LIMIT, HandlerScanner, MAX_DOTS, SCAN_BACKLOG } from '../../src/renderer/src/views/topology/activity.js';

const KINDS = ['hypercall', 'bit', 'upcall', 'handler', 'port', 'raise'];
const K = Object.fromEntries(KINDS.map((k, i) => [k, i])) as Record<string, number>;

/** Records as [kind, dom, port, cause]. */
function cols(recs: [string, number, number, number][]): TraceColumns {
  const n = recs.length;
  const c: TraceColumns = { t: new Float64Array(n), dom: new Int32Array(n), vcpu: new Int32Array(n), port: new Int32Array(n), x0: new Int32Array(n), cause: new Int32Array(n), kind: new Uint8Array(n) };
  recs.forEach(([k, d, p, cause], i) => {
    c.kind[i] = K[k]!;
    c.dom[i] = d;
    c.port[i] = p;
    c.cause[i] = cause;
  });
  return c;
}

function seen(s: HandlerScanner, c: TraceColumns, count: number): string[] {
  const out: string[] = [];
  s.scan(c, count, (dom, port, causeDom, cause) => out.push(`${dom}:${port}<-${cause}@${causeDom}`));
  return out;
}

describe('the handler scanner', () => {
  const trace = cols([
    ['hypercall', 0, 1, -1], // 0: dom0 sends on its port 1
    ['bit', 1, 1, -1],
    ['upcall', 1, -1, 0],
    ['handler', 1, 1, 0], // 3: guest's handler for port 1, caused by record 0
    ['raise', 1, 2, -1], // 4: Xen raises a VIRQ on the guest's port 2
    ['handler', 1, 2, 4],
    ['handler', 1, 3, -1], // 6: a handler with no known cause
  ]);

  it('finds each handler record and what made its port pending', () => {
    const s = HandlerScanner.forKinds(KINDS);
    expect(seen(s, trace, 4)).toEqual(['1:1<-hypercall@0']);
    expect(seen(s, trace, 7)).toEqual(['1:2<-raise@1', '1:3<-none@-1']);
    expect(seen(s, trace, 7)).toEqual([]);
  });

  it('starts again from a step back, and skips what came before it was told to', () => {
    const s = HandlerScanner.forKinds(KINDS);
    s.skipTo(4);
    expect(seen(s, trace, 7)).toEqual(['1:2<-raise@1', '1:3<-none@-1']);
    // The session stepped back to 3 records, then forward again.
    expect(seen(s, trace, 3)).toEqual([]);
    expect(seen(s, trace, 7)).toEqual(['1:1<-hypercall@0', '1:2<-raise@1', '1:3<-none@-1']);
  });

  it('does not animate a catch-up after a jump, nor more than the newest backlog', () => {
    const s = HandlerScanner.forKinds(KINDS);
    s.quietUntil(6);
    expect(seen(s, trace, 7)).toEqual(['1:3<-none@-1']);
    const many = cols(Array.from({ length: SCAN_BACKLOG + 500 }, (_, i): [string, number, number, number] => ['handler', 1, i, -1]));
    const t = HandlerScanner.forKinds(KINDS);
    const got = seen(t, many, SCAN_BACKLOG + 500);
    expect(got).toHaveLength(SCAN_BACKLOG);
    expect(got[0]).toBe('1:500<-none@-1');
  });
});

describe('the activity of edges and ports', () => {
  it('starts one dot for a notification, and no second one on the same edge within DOT_GAP_MS', () => {
    const a = new Activity();
    expect(a.notifyEdge('e', true, 1000)).toBe(true);
    expect(a.notifyEdge('e', true, 1000 + DOT_GAP_MS / 2)).toBe(false);
    expect(a.notifyEdge('e', false, 1300)).toBe(true);
    expect(a.dots.filter((d) => d.alive)).toHaveLength(2);
    // The first dot goes from end a to end b and arrives after DOT_MS; the second goes the other way.
    const [d1, d2] = a.dots.filter((d) => d.alive);
    expect(a.progress(d1!, 1000)).toBe(0);
    expect(a.progress(d1!, 1000 + DOT_MS / 2)).toBeCloseTo(0.5);
    expect(a.progress(d2!, 1300)).toBe(1);
    a.tick(1000 + DOT_MS + 1);
    expect(d1!.alive).toBe(false);
  });

  it('stops starting dots on an edge busier than DOT_RATE_LIMIT a second: it only warms up', () => {
    const a = new Activity();
    let t = 1000;
    // 25 a second for two seconds: far enough apart for DOT_GAP_MS, too many to follow.
    for (let i = 0; i < 50; i++) {
      a.notifyEdge('e', true, t);
      t += 40;
      a.tick(t);
    }
    expect(DOT_RATE_LIMIT).toBeLessThan(25);
    expect(a.dotsStarted).toBeLessThanOrEqual(3);
    expect(a.heat('e')).toBeGreaterThan(0.5);
    expect(a.rate('e')).toBeGreaterThan(20);
  });

  it('shows thousands of notifications a second as heat and a rate, with never more than MAX_DOTS dots', () => {
    const a = new Activity();
    let t = 1000;
    let started = 0;
    // 5,000 notifications a second on each of 100 edges, for a second, ticked at 60 frames a second.
    for (let frame = 0; frame < 60; frame++) {
      for (let i = 0; i < 8300; i++) if (a.notifyEdge(`e${i % 100}`, true, t)) started++;
      t += 1000 / 60;
      a.tick(t);
      expect(a.dots.filter((d) => d.alive).length).toBeLessThanOrEqual(MAX_DOTS);
    }
    expect(a.notified).toBe(60 * 8300);
    expect(started).toBeLessThan(60 * 100); // at most one dot per edge per DOT_GAP_MS, and MAX_DOTS in all
    expect(a.heat('e7')).toBeGreaterThan(0.9);
    expect(a.rate('e7')).toBeGreaterThan(4000);
    expect(a.rate('e7')).toBeLessThan(6000);
    // Then nothing: it cools down and stops asking for frames.
    let busy = true;
    for (let i = 0; i < 400 && busy; i++) busy = a.tick((t += 1000 / 60));
    expect(busy).toBe(false);
    expect(a.heat('e7')).toBe(0);
    expect([...a.activeEdges()]).toEqual([]);
  });

  it('pulses a port for a notification that has no edge (a VIRQ, an IPI), and forgets everything on clear', () => {
    const a = new Activity();
    a.notifyPort(42);
    expect(a.portHeat(42)).toBeGreaterThan(0.5);
    a.notifyEdge('e', true, 5);
    a.clear();
    expect(a.portHeat(42)).toBe(0);
    expect(a.dots.some((d) => d.alive)).toBe(false);
  });
});
