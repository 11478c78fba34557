/**
 * The trace hash: computed from the columns, per block of records. The same
 * seed gives the same hash; another seed, or one record changed, gives
 * another, and the block hashes lead to the exact record where two traces
 * part.
 */
import { describe, expect, it } from 'vitest';
import { DOMID_SELF } from '../../src/core/abi/domid.js';
import { VIRQ_TIMER } from '../../src/core/abi/evtchn.js';
import { Hypervisor } from '../../src/core/hv/hypervisor.js';
import { defaultKernel } from '../../src/core/guest/kernel.js';
import { TraceChunk, TraceStore, TRACE_CHUNK } from '../../src/core/sim/trace.js';
import { findDivergence, firstDifferentBlock, foldDigest, hashSegments, TraceHasher, type BlockSegment } from '../../src/core/sim/trace_hash.js';
import { call, port } from './helpers.js';

/** Timers on two guests, a channel to dom0 used both ways: a few thousand records over several hash blocks of 256. */
function run(seed: number, rounds = 60): { store: TraceStore; hasher: TraceHasher } {
  const hv = new Hypervisor({ seed });
  const store = new TraceStore();
  const hasher = new TraceHasher(256);
  hv.trace.subscribe(store.subscriber);
  hv.trace.subscribe(hasher.subscriber);
  const dom0 = hv.createDomain({ name: 'dom0' }, defaultKernel());
  const a = hv.createDomain({ name: 'a', vcpus: 2 }, defaultKernel('2l'));
  const b = hv.createDomain({ name: 'b' }, defaultKernel('fifo'));
  const links: [number, number][] = [];
  for (const g of [a, b]) {
    const gp = port(call(hv, g, 'alloc_unbound', { dom: DOMID_SELF, remote_dom: 0 }));
    links.push([gp, port(call(hv, dom0, 'bind_interdomain', { remote_dom: g.domid, remote_port: gp }))]);
    call(hv, g, 'bind_virq', { virq: VIRQ_TIMER, vcpu: 0 });
  }
  for (let i = 0; i < rounds; i++) {
    for (const [gp, dp] of links) {
      call(hv, dom0, 'send', { port: dp });
      if (i % 3 === 0) call(hv, i % 2 ? a : b, 'send', { port: gp });
    }
    hv.run(3_000_000);
  }
  return { store, hasher };
}

const segments = (s: TraceStore): BlockSegment[] => s.chunks.map((c) => ({ chunk: c, start: 0, end: c.length }));

/** A copy of a store's chunks (so one record can be changed without touching the original). */
function copyChunks(s: TraceStore): TraceChunk[] {
  return s.chunks.map((c) => {
    const d = new TraceChunk(c.firstSeq);
    for (const k of ['t', 'kind', 'dom', 'vcpu', 'port', 'x0', 'x1', 'x2'] as const) d[k].set(c[k]);
    for (let i = 0; i < c.length; i++) if (c.extra[i] !== undefined) d.extra[i] = structuredClone(c.extra[i]);
    d.length = c.length;
    return d;
  });
}

function at(chunks: TraceChunk[], seq: number): { c: TraceChunk; i: number } {
  return { c: chunks[Math.floor(seq / TRACE_CHUNK)]!, i: seq % TRACE_CHUNK };
}

describe('trace hash', () => {
  it('the same seed gives the same hash, block for block', () => {
    const x = run(7).hasher.digest();
    const y = run(7).hasher.digest();
    expect(x.records).toBeGreaterThan(3 * 256);
    expect(x.blocks.length).toBe(Math.ceil(x.records / 256));
    expect(x.hash).toMatch(/^[0-9a-f]{16}$/);
    expect(y).toEqual(x);
    expect(firstDifferentBlock(x, y)).toBeUndefined();
  });

  it('hashing the stored chunks afterwards gives what the subscriber computed as records came', () => {
    const { store, hasher } = run(3);
    expect(hashSegments(segments(store), 256)).toEqual(hasher.digest());
    // The block size is part of the hash.
    expect(hashSegments(segments(store), 512).hash).not.toBe(hasher.digest().hash);
  });

  it('the trace hash is the fold of the block hashes and the count', () => {
    const d = run(5).hasher.digest();
    expect(foldDigest(d.blocks, d.records, d.block)).toBe(d.hash);
    expect(foldDigest(d.blocks, d.records + 1, d.block)).not.toBe(d.hash);
  });

  it('another seed gives another hash, and the divergence is the first record whose timing differs', () => {
    const a = run(1);
    const b = run(2);
    expect(a.hasher.digest().hash).not.toBe(b.hasher.digest().hash);
    const d = findDivergence(segments(a.store), segments(b.store), 256)!;
    expect(d).toBeDefined();
    // Every record before it is the same in both runs (as JSON), and this one is not.
    const ra = [...a.store.records()];
    const rb = [...b.store.records()];
    for (let s = 0; s < d.seq; s++) expect(JSON.stringify(ra[s])).toBe(JSON.stringify(rb[s]));
    expect(d.a).toEqual(ra[d.seq]);
    expect(d.b).toEqual(rb[d.seq]);
    expect(JSON.stringify(d.a)).not.toBe(JSON.stringify(d.b));
    expect(d.block).toBe(Math.floor(d.seq / 256));
  });

  for (const [what, change] of [
    ['a column (x1, a result)', (c: TraceChunk, i: number) => void (c.x1[i] = c.x1[i]! + 1)],
    ['the time by 1 ns', (c: TraceChunk, i: number) => void (c.t[i] = c.t[i]! + 1)],
    ['the time by a fraction of a ns', (c: TraceChunk, i: number) => void (c.t[i] = c.t[i]! + 0.25)],
  ] as const) {
    it(`one record changed (${what}) changes the hash and is found by its seq`, () => {
      const { store, hasher } = run(9);
      const copy = copyChunks(store);
      const seq = 1000;
      const { c, i } = at(copy, seq);
      change(c, i);
      const segs = copy.map((x) => ({ chunk: x, start: 0, end: x.length }));
      expect(hashSegments(segs, 256).hash).not.toBe(hasher.digest().hash);
      const d = findDivergence(segments(store), segs, 256)!;
      expect(d.seq).toBe(seq);
      expect(d.block).toBe(Math.floor(seq / 256));
    });
  }

  it("a changed extra (a hypercall's args) is seen through its JSON", () => {
    const { store, hasher } = run(9);
    const copy = copyChunks(store);
    // The last hypercall with an extra object (bind_virq, say): its args gain a field.
    let seq = -1;
    for (const c of copy)
      for (let i = 0; i < c.length; i++) if ((c.extra[i] as { args?: unknown } | undefined)?.args !== undefined) seq = c.firstSeq + i;
    expect(seq).toBeGreaterThan(0);
    const { c, i } = at(copy, seq);
    const e = c.extra[i] as { args: Record<string, number> };
    e.args = { ...e.args, extra_arg: 1 };
    const segs = copy.map((x) => ({ chunk: x, start: 0, end: x.length }));
    expect(hashSegments(segs, 256).hash).not.toBe(hasher.digest().hash);
    expect(findDivergence(segments(store), segs, 256)!.seq).toBe(seq);
  });

  it('a trace that goes on where the other ended diverges at the first extra record', () => {
    const short = run(4, 30);
    const long = run(4, 60);
    const d = findDivergence(segments(short.store), segments(long.store), 256)!;
    expect(d.seq).toBe(short.store.count);
    expect(d.a).toBeUndefined();
    expect(d.b).toEqual([...long.store.records()][short.store.count]);
  });

  it('tells each completed block to its listener with the chunk runs that hold it', () => {
    const seen: { k: number; n: number }[] = [];
    const h = new TraceHasher(300, (k, _hash, segs) => seen.push({ k, n: segs.reduce((s, x) => s + x.end - x.start, 0) }));
    const { store } = run(6);
    for (const s of segments(store)) h.batch(s);
    const d = h.finish();
    expect(seen.map((x) => x.k)).toEqual(d.blocks.map((_, k) => k));
    expect(seen.slice(0, -1).every((x) => x.n === 300)).toBe(true);
    expect(seen.at(-1)!.n).toBe(d.records - 300 * (d.blocks.length - 1));
  });
});
