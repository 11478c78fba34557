/**
 * Benchmarks of the modern control path, for bench/index.ts: xenstore
 * requests from a guest's xenbus driver through the ring page to xenstored
 * and back, and console output through the console ring into xenconsoled's
 * buffer. Each side's notify() raises a pending flag and a driver loop
 * delivers them, as the event channel would; every reply and every byte is
 * checked after the timed loop.
 */
import { Xenbus } from '../src/core/guest/xenbus.js';
import { XenconsRing } from '../src/core/guest/xencons_ring.js';
import { Xenconsoled } from '../src/core/tools/xenconsoled.js';
import { Xenstored } from '../src/core/tools/xenstored.js';
import { nulStrings, XS_MKDIR, XS_SET_PERMS } from '../src/core/abi/xs_wire.js';
import type { Row } from './table.js';

/** The row shape of bench/index.ts. */

const nowNs = (): bigint => process.hrtime.bigint();

/** Runs `round` (returning work done) for a warm-up, then for at least `minNs`; returns work and wall time. */
function timed(round: () => number, minNs: number): { work: number; ns: number } {
  const warm = nowNs() + 200_000_000n;
  while (nowNs() < warm) round();
  let work = 0;
  const t0 = nowNs();
  const end = t0 + BigInt(minNs);
  let t = t0;
  while (t < end) {
    for (let i = 0; i < 16; i++) work += round();
    t = nowNs();
  }
  return { work, ns: Number(t - t0) };
}

function xenstoreRig() {
  const page = new Uint8Array(4096);
  const pending = { toXsd: false, toGuest: false };
  const xsd = new Xenstored({
    env: { mapRing: () => page, bindPort: () => ({ port: 1, notify: () => (pending.toGuest = true) }) },
  });
  const bus = new Xenbus(page, () => (pending.toXsd = true));
  const tools = xsd.openSocket(() => {});
  tools.send(8, nulStrings('1', '0', '1'));
  tools.send(XS_MKDIR, nulStrings('/local/domain/1/data'));
  tools.send(XS_SET_PERMS, nulStrings('/local/domain/1/data', 'n1'));
  const settle = (): void => {
    while (pending.toXsd || pending.toGuest) {
      if (pending.toXsd) {
        pending.toXsd = false;
        xsd.onNotify(1);
      }
      if (pending.toGuest) {
        pending.toGuest = false;
        bus.onNotify();
      }
    }
  };
  settle();
  return { xsd, bus, settle };
}

/** xenstore: 32 requests in flight (half writes, half reads of 64 keys), then the events delivered until quiet. */
function benchXenstore(rows: Row[]): void {
  const { bus, settle } = xenstoreRig();
  const BATCH = 32;
  let done = 0;
  let bad = 0;
  let issued = 0;
  const values = Array.from({ length: 64 }, (_, i) => `value-${i}`);
  for (let i = 0; i < 64; i++) bus.write(`data/k${i}`, values[i]!);
  settle();
  const round = (): number => {
    for (let i = 0; i < BATCH; i++) {
      const k = (issued + i) & 63;
      if ((i & 1) === 0) {
        bus.write(`data/k${k}`, values[k]!, (e) => (e ? bad++ : done++));
      } else {
        bus.read(`data/k${k}`, (e, v) => (e || v !== values[k] ? bad++ : done++));
      }
    }
    issued += BATCH;
    settle();
    return BATCH;
  };
  const r = timed(round, 800_000_000);
  const rate = (r.work / r.ns) * 1e9;
  const ok = bad === 0 && bus.pending() === 0 && bus.stats.unexpectedReplies === 0;
  rows.push({
    name: '6. xenstore read/write via ring, 32 in flight',
    value: rate,
    unit: 'ops/s',
    target: '>= 200,000',
    pass: ok && rate >= 200_000,
    note: `${r.work} requests in ${(r.ns / 1e9).toFixed(2)} s, ${ok ? 'every reply matched and checked' : `MISMATCH: ${bad} bad replies`}; ${bus.stats.notifies} guest events`,
  });
}

/** Console: the guest writes 4 KiB at a time (twice the ring), events delivered, the buffer read as it fills. */
function benchConsole(rows: Row[]): void {
  const page = new Uint8Array(4096);
  const pending = { toDaemon: false, toGuest: false };
  const guest = new XenconsRing(page, () => (pending.toDaemon = true));
  const con = new Xenconsoled().attach(1, page, () => (pending.toGuest = true));
  const chunk = Uint8Array.from({ length: 4096 }, (_, i) => i & 0xff);
  let arrived = 0;
  let wrong = 0;
  const check = (): void => {
    const got = con.take();
    // Every chunk is the same pattern, so byte j of the stream is j & 0xff; spot-check a few.
    for (let j = 0; j < got.length; j += 997) if (got[j] !== ((arrived + j) & 0xff)) wrong++;
    arrived += got.length;
  };
  const round = (): number => {
    guest.write(chunk);
    while (pending.toDaemon || pending.toGuest) {
      if (pending.toDaemon) {
        pending.toDaemon = false;
        con.onNotify();
      }
      if (pending.toGuest) {
        pending.toGuest = false;
        guest.onNotify();
      }
      if (con.unread() >= 1 << 16) check();
    }
    return chunk.length;
  };
  const r = timed(round, 800_000_000);
  check();
  const sentTotal = guest.stats.sent;
  const rate = (r.work / r.ns) * 1e9;
  const ok = wrong === 0 && arrived === sentTotal && guest.pending() === 0;
  rows.push({
    name: '7. console output via ring into xenconsoled',
    value: rate / 1e6,
    unit: 'MB/s',
    target: '>= 50',
    pass: ok && rate >= 50e6,
    note: `${(r.work / 1e6).toFixed(0)} MB in ${(r.ns / 1e9).toFixed(2)} s; ${ok ? 'every byte counted, the byte pattern checked every 997th byte' : `MISMATCH: ${arrived} of ${sentTotal} bytes, ${wrong} wrong`}`,
  });
}

export function benchRings(rows: Row[]): void {
  benchXenstore(rows);
  benchConsole(rows);
}
