/**
 * The xenstore ring transport: the guest driver (guest/xenbus.ts) and
 * xenstored (readchn/writechn, handle_input/handle_output) on one page.
 * Ring wrap with indexes near 2^32, messages bigger than the ring, one event
 * per batch, flow control, and malformed input marking the connection with
 * the error xenstored records (never a crash).
 */
import { describe, expect, it } from 'vitest';
import {
  encodeSockmsg,
  latin1,
  nulStrings,
  XENSTORE_CONNECTED,
  XENSTORE_ERROR_NONE,
  XENSTORE_ERROR_PROTO,
  XENSTORE_ERROR_RINGIDX,
  XENSTORE_RING_SIZE,
  XS_ERROR,
  XS_READ,
  XS_RING_REQ,
  XS_WATCH_EVENT,
  XS_WRITE,
  XsRingIndexes,
} from '../../src/core/abi/xs_wire.js';
import { Xenbus, XENBUS_NR_REQS } from '../../src/core/guest/xenbus.js';
import { ringPut } from '../../src/core/util/byte_ring.js';
import { Xenstored } from '../../src/core/tools/xenstored.js';
import { answer, XsRig } from './xenstore_rig.js';

const TWO32 = 2 ** 32;

/** A guest whose ring indexes all start at `start` (a domain that has run a long time): xenstored finds the page itself (init_domain). */
function longRunning(start: number) {
  const r = new XsRig();
  const g = r.addGuest(1);
  const idx = new XsRingIndexes(g.page);
  idx.reqCons = idx.reqProd = idx.rspCons = idx.rspProd = start;
  r.xsd.introduceDomain(1, g.page, () => {
    g.sends.xsd++;
    g.pending.toGuest = true;
  });
  r.call(12, ['/local/domain/1/data']);
  r.call(14, ['/local/domain/1/data', 'n1']);
  r.settle();
  return { r, g, idx };
}

/** What a misbehaving guest does: bytes straight into req[] and req_prod moved. */
function rawPut(page: Uint8Array, bytes: Uint8Array): void {
  const idx = new XsRingIndexes(page);
  ringPut(page, XS_RING_REQ, XENSTORE_RING_SIZE, idx.reqProd, bytes, 0, bytes.length);
  idx.reqProd = idx.reqProd + bytes.length;
}

describe('init_domain (xenstored finds the ring itself)', () => {
  it('marks the page connected with the features, and tells the domain', () => {
    const xsd = new Xenstored();
    const page = new Uint8Array(4096);
    const idx = new XsRingIndexes(page);
    idx.connection = 1;
    let sent = 0;
    xsd.introduceDomain(0, page, () => sent++);
    expect([idx.connection, idx.serverFeatures, sent]).toEqual([XENSTORE_CONNECTED, 14, 1]);
  });
});

describe('ring wrap', () => {
  it('messages straddle the end of both rings with indexes just below 2^32 and carry on past it', () => {
    const { r, g, idx } = longRunning(TWO32 - 7);
    const values: string[] = [];
    for (let i = 0; i < 40; i++) {
      const v = `value-${i}-${'x'.repeat(i * 7)}`;
      expect(r.run<void>((cb) => g.bus.write(`data/k${i}`, v, cb)).err).toBeUndefined();
      values.push(v);
    }
    for (let i = 0; i < 40; i++) expect(r.run<string>((cb) => g.bus.read(`data/k${i}`, cb)).value).toBe(values[i]);
    expect(idx.reqProd).toBeLessThan(TWO32 - 7); // wrapped
    expect(idx.reqProd).toBe(idx.reqCons);
    expect(idx.rspProd).toBe(idx.rspCons);
  });

  it('a request and a reply bigger than the ring go through in pieces', () => {
    const { r, g } = longRunning(TWO32 - 100);
    const big = 'b'.repeat(4000);
    r.call(14, ['/local/domain/1/data', 'n1']);
    // dom0 writes it (a guest node of that size would break the node-size quota); the guest reads it back.
    expect(answer(r.call(XS_WRITE, latin1(`/local/domain/1/data/big\0${big}`)))).toBe('OK');
    expect(r.run<string>((cb) => g.bus.read('data/big', cb)).value).toBe(big);
    // A 3000-byte request: the value ends up in the node (the guest's node-size quota answers first).
    expect(r.run<void>((cb) => g.bus.write('data/huge', 'h'.repeat(3000), cb)).err).toBe('ENOSPC');
    expect(r.run<string>((cb) => g.bus.read('data/big', cb)).value).toBe(big);
  });

  it('a header delivered in two parts is waited for', () => {
    const { r, g } = longRunning(0);
    const msg = encodeSockmsg(XS_READ, 7, 0, nulStrings('data'));
    rawPut(g.page, msg.subarray(0, 10));
    r.xsd.onNotify(1);
    expect(new XsRingIndexes(g.page).rspProd).toBe(0);
    rawPut(g.page, msg.subarray(10));
    r.xsd.onNotify(1);
    const idx = new XsRingIndexes(g.page);
    expect(idx.rspProd).toBe(16); // an empty value
    expect(idx.reqCons).toBe(msg.length);
  });
});

describe('events', () => {
  it('a batch of requests and one event from the guest get all their replies and one event back', () => {
    const { r, g } = longRunning(0);
    const sendsBefore = { guest: g.sends.guest, xsd: g.sends.xsd };
    const got: number[] = [];
    // Queue ten requests while the guest is "busy": one event at the end.
    for (let i = 0; i < 10; i++) g.bus.request(XS_READ, nulStrings('data'), (rep) => got.push(rep.reqId));
    expect(g.sends.guest - sendsBefore.guest).toBe(10); // request() sends each on its own...
    g.pending.toXsd = true;
    r.xsd.onNotify(1);
    expect(g.sends.xsd - sendsBefore.xsd).toBe(1); // ...xenstored answers all with one event
    g.pending.toGuest = false;
    g.bus.onNotify();
    expect(got).toHaveLength(10);
  });

  it('xenstored sends nothing when nothing moved', () => {
    const { r, g } = longRunning(0);
    const before = g.sends.xsd;
    r.xsd.onNotify(1);
    r.xsd.onPort(1001);
    expect(g.sends.xsd).toBe(before);
  });
});

describe('flow control', () => {
  it('with the reply ring full, xenstored stops reading after 20 unwritten replies and resumes when the guest takes some', () => {
    const { r, g, idx } = longRunning(0);
    r.call(XS_WRITE, latin1(`/local/domain/1/data/v\0${'v'.repeat(200)}`));
    const got: number[] = [];
    for (let i = 0; i < 30; i++) g.bus.request(XS_READ, nulStrings('data/v'), (rep) => got.push(rep.payload.length));
    r.xsd.onNotify(1);
    // 4 replies (216 bytes each) fill most of the ring; 20 more wait unwritten; the rest stay on the request ring.
    const conn = r.xsd.domains.get(1)!.conn!;
    expect(conn.outstanding).toBe(20);
    expect(idx.reqCons).toBeLessThan(idx.reqProd);
    r.settle();
    expect(got).toEqual(new Array(30).fill(200));
    expect(conn.outstanding).toBe(0);
  });

  it('the guest sends at most 32 requests at once; the rest wait for an id', () => {
    const { r, g } = longRunning(0);
    const ids: number[] = [];
    for (let i = 0; i < 40; i++) g.bus.request(XS_READ, nulStrings('data'), (rep) => ids.push(rep.reqId));
    expect(g.bus.pending()).toBe(40);
    r.settle();
    expect(ids).toHaveLength(40);
    expect(Math.max(...ids)).toBe(XENBUS_NR_REQS - 1);
    expect(g.bus.pending()).toBe(0);
  });
});

describe('malformed input (ignore_connection)', () => {
  it('a header announcing more than 4096 bytes: error XENSTORE_ERROR_PROTO on the page, nothing more served', () => {
    const { r, g, idx } = longRunning(0);
    rawPut(g.page, encodeSockmsg(XS_READ, 1, 0, new Uint8Array(0)).map((b, i) => (i === 13 ? 0x20 : b)));
    r.xsd.onNotify(1);
    expect(idx.error).toBe(XENSTORE_ERROR_PROTO);
    expect(r.log.some((l) => l.includes('Client tried to feed us 8192'))).toBe(true);
    const rsp = idx.rspProd;
    rawPut(g.page, encodeSockmsg(XS_READ, 2, 0, nulStrings('data')));
    r.xsd.onNotify(1);
    expect(idx.rspProd).toBe(rsp);
    expect(r.xsd.domains.get(1)!.conn!.ignored).toBe(true);
    // Others are still served.
    expect(answer(r.call(XS_READ, ['/local/domain/1/data']))).toBe('');
  });

  it('request indexes more than a ring apart: XENSTORE_ERROR_RINGIDX', () => {
    const { r, idx } = longRunning(0);
    idx.reqProd = 5000;
    r.xsd.onNotify(1);
    expect(idx.error).toBe(XENSTORE_ERROR_RINGIDX);
  });

  it('reply indexes more than a ring apart: XENSTORE_ERROR_RINGIDX when xenstored next writes', () => {
    const { r, g, idx } = longRunning(0);
    idx.rspCons = 3000;
    rawPut(g.page, encodeSockmsg(XS_READ, 2, 0, nulStrings('data')));
    r.xsd.onNotify(1);
    expect(idx.error).toBe(XENSTORE_ERROR_RINGIDX);
  });

  it('without the error feature the page says nothing, but the connection is still dropped', () => {
    const r = new XsRig();
    r.call(24, ['1', '4']);
    const g = r.guest(1, { home: false });
    const idx = new XsRingIndexes(g.page);
    idx.reqProd = 5000;
    r.xsd.onNotify(1);
    expect(idx.error).toBe(XENSTORE_ERROR_NONE);
    expect(r.xsd.domains.get(1)!.conn!.ignored).toBe(true);
  });

  it('garbage types and payloads get errors, not a crash: zero-length READ is EINVAL, type 0xdeadbeef ENOSYS', () => {
    const { r, g } = longRunning(0);
    const replies: [number, string][] = [];
    g.bus.request(XS_READ, new Uint8Array(0), (rep) => replies.push([rep.type, String.fromCharCode(...rep.payload)]));
    g.bus.request(0xdeadbeef, nulStrings('x'), (rep) => replies.push([rep.type, String.fromCharCode(...rep.payload)]));
    g.bus.request(XS_WRITE, latin1('no-nul-at-all'), (rep) => replies.push([rep.type, String.fromCharCode(...rep.payload)]));
    r.settle();
    expect(replies).toEqual([
      [XS_ERROR, 'EINVAL\0'],
      [XS_ERROR, 'ENOSYS\0'],
      [XS_ERROR, 'EINVAL\0'],
    ]);
  });
});

describe('the guest driver on a bad ring', () => {
  it('counts a reply whose req_id matches nothing in flight, and an event for an unknown token', () => {
    const page = new Uint8Array(4096);
    const bus = new Xenbus(page, () => {});
    const idx = new XsRingIndexes(page);
    const put = (m: Uint8Array): void => {
      ringPut(page, 1024, 1024, idx.rspProd, m, 0, m.length);
      idx.rspProd = idx.rspProd + m.length;
    };
    put(encodeSockmsg(XS_READ, 5, 0, nulStrings('x')));
    put(encodeSockmsg(XS_WATCH_EVENT, 0, 0, nulStrings('/p', 'nobody')));
    bus.onNotify();
    expect(bus.stats.unexpectedReplies).toBe(1);
    expect(bus.stats.unexpectedEvents).toBe(1);
    expect(idx.rspCons).toBe(idx.rspProd);
  });

  it('stops reading when the reply indexes are more than a ring apart', () => {
    const page = new Uint8Array(4096);
    const bus = new Xenbus(page, () => {});
    new XsRingIndexes(page).rspProd = 2000;
    bus.onNotify();
    expect(bus.error).toMatch(/more than a ring apart/);
    expect(new XsRingIndexes(page).rspCons).toBe(0);
  });

  it('refuses to send a payload over 4096 bytes', () => {
    const bus = new Xenbus(new Uint8Array(4096), () => {});
    expect(() => bus.request(XS_WRITE, new Uint8Array(4097), () => {})).toThrow(RangeError);
  });
});
