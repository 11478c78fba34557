/**
 * Property tests for xenstore over its ring: whatever the interleaving of
 * events, the message sizes and where the indexes start, every request gets
 * exactly one reply carrying its own req_id and answering what was asked;
 * the store behaves like a plain tree; transactions conflict exactly when
 * another commit changed something they touched.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  encodeSockmsg,
  latin1,
  nulStrings,
  readSockmsg,
  XENSTORE_RING_SIZE,
  XS_ERROR,
  XS_READ,
  XS_RING_REQ,
  XS_RING_RSP,
  XS_WRITE,
  XSD_SOCKMSG_SIZE,
  XsRingIndexes,
} from '../../src/core/abi/xs_wire.js';
import { ringGet, ringPut } from '../../src/core/util/byte_ring.js';
import { answer, XsRig } from './xenstore_rig.js';

const TWO32 = 2 ** 32;

/** A guest ring whose indexes start at `start`, xenstored serving it. */
function ringAt(start: number) {
  const r = new XsRig();
  const g = r.addGuest(1);
  const idx = new XsRingIndexes(g.page);
  idx.reqCons = idx.reqProd = idx.rspCons = idx.rspProd = start;
  r.xsd.introduceDomain(1, g.page, () => {
    g.pending.toGuest = true;
  });
  r.call(12, ['/local/domain/1/data']);
  r.call(14, ['/local/domain/1/data', 'n1']);
  g.pending.toGuest = false;
  return { r, g, idx };
}

const startArb = fc.oneof(fc.constant(0), fc.integer({ min: TWO32 - 3000, max: TWO32 - 1 }), fc.integer({ min: 0, max: TWO32 - 1 }));

type Op = { kind: 'write'; key: number; len: number } | { kind: 'read'; key: number } | { kind: 'rm'; key: number } | { kind: 'dir' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('write' as const), key: fc.integer({ min: 0, max: 5 }), len: fc.integer({ min: 0, max: 1900 }) }),
  fc.record({ kind: fc.constant('read' as const), key: fc.integer({ min: 0, max: 5 }) }),
  fc.record({ kind: fc.constant('rm' as const), key: fc.integer({ min: 0, max: 5 }) }),
  fc.record({ kind: fc.constant('dir' as const) }),
);

/** Delivery schedule: at each step, which side (if it has an event pending) takes it. */
const scheduleArb = fc.array(fc.boolean(), { minLength: 1, maxLength: 400 });

describe('xenstore over the ring, any interleaving', () => {
  it('every request gets one reply, in request order, answering what was asked (reference model)', () => {
    fc.assert(
      fc.property(startArb, fc.array(fc.array(opArb, { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 8 }), scheduleArb, (start, batches, schedule) => {
        const { r, g } = ringAt(start);
        const model = new Map<number, string>();
        const results: string[] = [];
        const expected: string[] = [];
        let step = 0;
        const deliverSome = (): void => {
          for (let i = 0; i < 3; i++) {
            const toXsd = schedule[step++ % schedule.length]!;
            if (toXsd && g.pending.toXsd) {
              g.pending.toXsd = false;
              r.xsd.onNotify(1);
            } else if (!toXsd && g.pending.toGuest) {
              g.pending.toGuest = false;
              g.bus.onNotify();
            }
          }
        };
        let seq = 0;
        for (const batch of batches) {
          for (const op of batch) {
            const n = seq++;
            const path = `data/k${'key' in op ? op.key : 0}`;
            if (op.kind === 'write') {
              const value = String.fromCharCode(97 + (n % 26)).repeat(op.len);
              model.set(op.key, value);
              expected.push(`${n}:OK`);
              g.bus.write(path, value, (e) => results.push(`${n}:${e ?? 'OK'}`));
            } else if (op.kind === 'read') {
              const v = model.get(op.key);
              expected.push(`${n}:${v ?? 'ENOENT'}`);
              g.bus.read(path, (e, val) => results.push(`${n}:${e ?? val}`));
            } else if (op.kind === 'rm') {
              model.delete(op.key);
              expected.push(`${n}:OK`);
              g.bus.rm(path, (e) => results.push(`${n}:${e ?? 'OK'}`));
            } else {
              const names = [...model.keys()].sort((a, b) => a - b).map((k) => `k${k}`);
              expected.push(`${n}:${names.join(',')}`);
              g.bus.directory('data', (e, kids) => results.push(`${n}:${e ?? [...kids].sort((a, b) => Number(a.slice(1)) - Number(b.slice(1))).join(',')}`));
            }
          }
          deliverSome();
        }
        r.settle();
        expect(results).toEqual(expected);
        expect(g.bus.stats.unexpectedReplies).toBe(0);
        expect(g.bus.error).toBeUndefined();
      }),
      { numRuns: 150 },
    );
  });

  it('raw clients: every reply echoes the req_id and tx_id of its request, in order, whatever their values', () => {
    fc.assert(
      fc.property(
        startArb,
        fc.array(fc.record({ reqId: fc.integer({ min: 0, max: TWO32 - 1 }), txId: fc.constantFrom(0, 0, 0, 99), len: fc.integer({ min: 0, max: 1500 }) }), { minLength: 1, maxLength: 30 }),
        fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 20 }),
        (start, reqs, chunks) => {
          const { r, g, idx } = ringAt(start);
          // The guest's bytes, written in arbitrary chunks as room allows; replies read as they come.
          const out = new Uint8Array(reqs.reduce((n, q) => n + XSD_SOCKMSG_SIZE + q.len + 20, 0));
          let outLen = 0;
          for (const q of reqs) {
            const m = q.len % 2 === 0 ? encodeSockmsg(XS_READ, q.reqId, q.txId, nulStrings('data')) : encodeSockmsg(XS_WRITE, q.reqId, q.txId, latin1(`data/x\0${'v'.repeat(q.len)}`));
            out.set(m, outLen);
            outLen += m.length;
          }
          let sent = 0;
          let ci = 0;
          const inbuf: number[] = [];
          const replies: { reqId: number; txId: number; type: number }[] = [];
          for (let guard = 0; guard < 100_000 && (sent < outLen || replies.length < reqs.length); guard++) {
            const room = XENSTORE_RING_SIZE - ((idx.reqProd - idx.reqCons) >>> 0);
            const n = Math.min(room, outLen - sent, chunks[ci++ % chunks.length]!);
            if (n > 0) {
              ringPut(g.page, XS_RING_REQ, XENSTORE_RING_SIZE, idx.reqProd, out, sent, n);
              idx.reqProd = idx.reqProd + n;
              sent += n;
            }
            r.xsd.onNotify(1);
            const avail = (idx.rspProd - idx.rspCons) >>> 0;
            const got = new Uint8Array(avail);
            ringGet(g.page, XS_RING_RSP, XENSTORE_RING_SIZE, idx.rspCons, got, 0, avail);
            idx.rspCons = idx.rspCons + avail;
            inbuf.push(...got);
            while (inbuf.length >= XSD_SOCKMSG_SIZE) {
              const h = readSockmsg(Uint8Array.from(inbuf.slice(0, XSD_SOCKMSG_SIZE)));
              if (inbuf.length < XSD_SOCKMSG_SIZE + h.len) break;
              inbuf.splice(0, XSD_SOCKMSG_SIZE + h.len);
              if (h.type !== 15) replies.push({ reqId: h.reqId, txId: h.txId, type: h.type });
            }
          }
          expect(replies.map((x) => x.reqId)).toEqual(reqs.map((q) => q.reqId));
          expect(replies.map((x) => x.txId)).toEqual(reqs.map((q) => q.txId));
          // tx_id 99 names no transaction: ENOENT, never a crash or a lost reply.
          replies.forEach((x, i) => {
            if (reqs[i]!.txId === 99) expect(x.type).toBe(XS_ERROR);
          });
          expect(idx.error).toBe(0);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('the store as a tree (model check over the socket)', () => {
  it('write/mkdir/rm/read/directory agree with a map of paths', () => {
    const pathArb = fc.array(fc.constantFrom('a', 'b', 'c'), { minLength: 1, maxLength: 3 }).map((p) => `/t/${p.join('/')}`);
    const op = fc.oneof(
      fc.record({ k: fc.constant('w' as const), p: pathArb, v: fc.string({ maxLength: 5 }) }),
      fc.record({ k: fc.constant('m' as const), p: pathArb }),
      fc.record({ k: fc.constant('r' as const), p: pathArb }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const r = new XsRig();
        r.call(12, ['/t']);
        const model = new Map<string, string>([['/t', '']]);
        const ensure = (p: string): void => {
          for (let q = p; q !== '/t' && !model.has(q); q = q.slice(0, q.lastIndexOf('/'))) model.set(q, '');
        };
        for (const o of ops) {
          if (o.k === 'w') {
            const v = [...o.v].map((c) => String.fromCharCode(c.charCodeAt(0) & 0x7f)).join('');
            expect(answer(r.call(XS_WRITE, latin1(`${o.p}\0${v}`)))).toBe('OK');
            ensure(o.p);
            model.set(o.p, v);
          } else if (o.k === 'm') {
            expect(answer(r.call(12, [o.p]))).toBe('OK');
            ensure(o.p);
          } else {
            const parent = o.p.slice(0, o.p.lastIndexOf('/'));
            const want = model.has(o.p) || model.has(parent) ? 'OK' : 'ENOENT';
            expect(answer(r.call(13, [o.p]))).toBe(want);
            for (const k of [...model.keys()]) if (k === o.p || k.startsWith(`${o.p}/`)) model.delete(k);
          }
        }
        const stored = r.xsd.paths().filter((p) => p === '/t' || p.startsWith('/t/'));
        expect(stored).toEqual([...model.keys()].sort());
        for (const [p, v] of model) expect(r.call(XS_READ, [p]).text).toBe(v);
        for (const p of model.keys()) {
          const kids = [...model.keys()].filter((k) => k.startsWith(`${p}/`) && !k.slice(p.length + 1).includes('/')).map((k) => k.slice(p.length + 1));
          expect([...(r.xsd.childrenOf(p) ?? [])].sort()).toEqual(kids.sort());
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('transactions', () => {
  it('the second of two overlapping transactions fails exactly when the first wrote a node it touched', () => {
    const access = fc.record({ t: fc.constantFrom(1, 2), write: fc.boolean(), key: fc.integer({ min: 0, max: 3 }) });
    fc.assert(
      fc.property(fc.array(access, { maxLength: 12 }), (accesses) => {
        const r = new XsRig();
        for (let k = 0; k < 4; k++) r.call(XS_WRITE, latin1(`/t/k${k}\0init`));
        const t1 = Number(answer(r.call(6, [''])));
        const t2 = Number(answer(r.call(6, [''])));
        const tx = { 1: t1, 2: t2 } as const;
        const written = { 1: new Map<number, string>(), 2: new Map<number, string>() };
        const touched2 = new Set<number>();
        accesses.forEach((a, i) => {
          if (a.t === 2) touched2.add(a.key);
          if (a.write) {
            const v = `t${a.t}-${i}`;
            expect(answer(r.call(XS_WRITE, latin1(`/t/k${a.key}\0${v}`), tx[a.t]))).toBe('OK');
            written[a.t].set(a.key, v);
          } else {
            const want = written[a.t].get(a.key) ?? 'init';
            expect(answer(r.call(XS_READ, [`/t/k${a.key}`], tx[a.t]))).toBe(want);
          }
        });
        expect(answer(r.call(7, ['T'], t1))).toBe('OK');
        const conflict = [...written[1].keys()].some((k) => touched2.has(k));
        expect(answer(r.call(7, ['T'], t2))).toBe(conflict ? 'EAGAIN' : 'OK');
        const final = new Map<number, string>();
        for (const [k, v] of written[1]) final.set(k, v);
        if (!conflict) for (const [k, v] of written[2]) final.set(k, v);
        for (let k = 0; k < 4; k++) expect(r.xsd.readValue(`/t/k${k}`)).toBe(final.get(k) ?? 'init');
      }),
      { numRuns: 300 },
    );
  });
});

describe('malformed input never crashes xenstored', () => {
  it('random bytes and random indexes on the request ring: every event is handled; the connection ends up served or ignored with a reason', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ bytes: fc.uint8Array({ maxLength: 300 }), header: fc.option(fc.record({ type: fc.integer({ min: 0, max: 40 }), len: fc.integer({ min: 0, max: 6000 }) })) }), { maxLength: 20 }),
        fc.option(fc.record({ reqCons: fc.integer({ min: 0, max: TWO32 - 1 }), rspProd: fc.integer({ min: 0, max: TWO32 - 1 }) })),
        (chunks, clobber) => {
          const { r, g, idx } = ringAt(0);
          for (const c of chunks) {
            let bytes = c.bytes;
            if (c.header) {
              const h = new Uint8Array(XSD_SOCKMSG_SIZE + bytes.length);
              h.set(encodeSockmsg(c.header.type, 1, 0, new Uint8Array(0)));
              new DataView(h.buffer).setUint32(12, c.header.len, true);
              h.set(bytes, XSD_SOCKMSG_SIZE);
              bytes = h;
            }
            const n = Math.min(bytes.length, XENSTORE_RING_SIZE - ((idx.reqProd - idx.reqCons) >>> 0));
            if (n > 0) {
              ringPut(g.page, XS_RING_REQ, XENSTORE_RING_SIZE, idx.reqProd, bytes, 0, n);
              idx.reqProd = idx.reqProd + n;
            }
            r.xsd.onNotify(1);
            idx.rspCons = idx.rspProd; // the guest takes whatever came back
          }
          if (clobber) {
            idx.reqCons = clobber.reqCons;
            idx.rspProd = clobber.rspProd;
            r.xsd.onNotify(1);
          }
          const conn = r.xsd.domains.get(1)!.conn!;
          expect(conn.ignored ? [2, 3] : [0]).toContain(idx.error);
          // dom0 is served whatever the guest did.
          expect(answer(r.call(XS_READ, ['/local/domain/1/data']))).toBe('');
        },
      ),
      { numRuns: 300 },
    );
  });
});
