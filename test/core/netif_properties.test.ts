/**
 * Property test for the network split driver: whatever frames random guests
 * send to each other (unicast, to themselves, broadcast; any size up to a
 * full frame), however time is cut between them, with few tx and rx buffers,
 * short queues and receivers that stop posting buffers for a while, every
 * frame the backend accepted arrives byte for byte exactly once at each of
 * its receivers, in order per sender and receiver, unless it was counted as
 * dropped; and every frame sent gets exactly one completion.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BROADCAST_MAC, ETH_HLEN, NETIF_MAX_FRAME, NETIF_RSP_DROPPED, NETIF_RSP_OKAY, ethernetFrame, xenMac } from '../../src/core/abi/netif.js';
import { DefaultKernel } from '../../src/core/guest/kernel.js';
import { readStartInfoRings } from '../../src/core/guest/minios.js';
import { Xenbus } from '../../src/core/guest/xenbus.js';
import type { Domain } from '../../src/core/hv/domain.js';
import { NetFront } from '../../src/core/guest/netfront.js';
import { Hypervisor } from '../../src/core/hv/hypervisor.js';
import { Dom0Kernel, dom0Kernel } from '../../src/core/tools/dom0_modern.js';
import { Bridge, netbackProbe, vifDeviceKeys, type NetbackVif } from '../../src/core/tools/netback.js';

/** Upcalls and xenbus on the store ring, nothing else (Mini-OS without its own device probing). */
class NetKernel extends DefaultKernel {
  xenbus!: Xenbus;
  storePort = 0;
  override boot(): void {
    super.boot();
    const r = readStartInfoRings(this.d);
    this.storePort = r.storeEvtchn;
    this.xenbus = new Xenbus(this.d.memory.frame(r.storeMfn - this.d.memory.mfnBase)!, () => void this.send(this.storePort));
  }
  override onEvent(port: number, vcpu: number): void {
    super.onEvent(port, vcpu);
    if (port === this.storePort) this.xenbus.onNotify();
  }
}

type Step =
  | { k: 'send'; from: number; to: number; len: number; count: number }
  | { k: 'run'; ns: number }
  | { k: 'pause'; who: number }
  | { k: 'resume'; who: number };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      k: fc.constant('send' as const),
      from: fc.nat(3),
      to: fc.integer({ min: -1, max: 3 }),
      len: fc.oneof(fc.integer({ min: ETH_HLEN + 5, max: 80 }), fc.integer({ min: ETH_HLEN + 5, max: NETIF_MAX_FRAME })),
      // Several frames back to back, before anything runs: batches, full pools and queues.
      count: fc.oneof(fc.constant(1), fc.integer({ min: 2, max: 24 })),
    }),
  },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('run' as const), ns: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 40_000 })) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('pause' as const), who: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('resume' as const), who: fc.nat(3) }) },
);

const configArb = fc.record({
  guests: fc.integer({ min: 2, max: 4 }),
  rxBuffers: fc.integer({ min: 1, max: 4 }),
  txPages: fc.integer({ min: 1, max: 3 }),
  txQueueLen: fc.integer({ min: 1, max: 12 }),
  rxQueueMax: fc.integer({ min: 0, max: 6 }),
  seed: fc.integer({ min: 1, max: 1000 }),
});

interface Sent {
  readonly from: number;
  readonly seq: number;
  readonly bytes: Uint8Array;
  /** Receivers it is meant for: the destination, or every other guest for a broadcast. */
  readonly dest: readonly number[];
  statuses: number[];
}

describe('netfront → netback → xenbr0 → netback → netfront, any traffic', () => {
  it('delivers every accepted frame once, byte for byte, in order per sender and receiver, unless counted as dropped', () => {
    fc.assert(
      fc.property(configArb, fc.array(stepArb, { maxLength: 50 }), (cfg, steps) => {
        const hv = new Hypervisor({ seed: cfg.seed });
        const k0 = hv.createDomain({ name: 'dom0' }, dom0Kernel()).kernel as Dom0Kernel;
        const bridge = new Bridge();
        const probe = netbackProbe(k0.backendEnv, bridge, { rxQueueMax: cfg.rxQueueMax });
        k0.registerBackend('vif', probe);
        const fes: NetFront[] = [];
        const vifs: string[] = [];
        const received: Uint8Array[][] = [];
        for (let i = 0; i < cfg.guests; i++) {
          const g = hv.createDomain({ name: `g${i}` });
          k0.buildGuest(g);
          hv.boot(g, (h: Hypervisor, d: Domain) => new NetKernel(h, d));
          const k = g.kernel as NetKernel;
          const { frontend, backend } = k0.addDevice(g, 'vif', 0, vifDeviceKeys(0, xenMac(g.domid, 0)));
          const fe = new NetFront(k, k.xenbus, frontend, { rxBuffers: cfg.rxBuffers, txPages: cfg.txPages, txQueueLen: cfg.txQueueLen });
          received.push([]);
          fe.onFrame = (f) => received[i]!.push(f);
          fe.start();
          fes.push(fe);
          vifs.push(backend);
        }
        hv.run(5_000_000);
        for (const fe of fes) expect(fe.phase).toBe('connected');

        const sent: Sent[] = [];
        const seqs = new Array<number>(cfg.guests).fill(0);
        const send = (from: number, to: number, len: number): void => {
          const seq = seqs[from]!++;
          const payload = new Uint8Array(len - ETH_HLEN);
          payload[0] = from;
          new DataView(payload.buffer).setUint32(1, seq, true);
          for (let i = 5; i < payload.length; i++) payload[i] = (seq * 31 + i) & 0xff;
          const dst = to < 0 ? BROADCAST_MAC : fes[to]!.macString;
          const bytes = ethernetFrame(dst, fes[from]!.macString, 0x88b5, payload);
          const dest = to < 0 ? fes.map((_, i) => i).filter((i) => i !== from) : to === from ? [] : [to];
          const s: Sent = { from, seq, bytes, dest, statuses: [] };
          sent.push(s);
          fes[from]!.send(bytes, (st) => s.statuses.push(st));
        };

        // Everyone announces itself so the bridge knows every MAC before the random traffic.
        for (let i = 0; i < cfg.guests; i++) send(i, -1, 60);
        hv.run(5_000_000);
        expect(bridge.fdb.size).toBe(cfg.guests);

        for (const s of steps) {
          if (s.k === 'send') {
            if (s.from >= cfg.guests || s.to >= cfg.guests) continue;
            for (let i = 0; i < s.count; i++) send(s.from, s.to, s.len);
          } else if (s.k === 'run') hv.run(s.ns);
          else if (s.k === 'pause' && s.who < cfg.guests) fes[s.who]!.rxPaused = true;
          else if (s.k === 'resume' && s.who < cfg.guests) fes[s.who]!.resumeRx();
        }
        for (const fe of fes) fe.resumeRx();
        hv.run(20_000_000);

        // One completion each: OKAY from the backend, or DROPPED by the frontend's full queue.
        const byKey = new Map<string, Sent>();
        let expected = 0;
        for (const s of sent) {
          expect(s.statuses.length, `frame ${s.from}/${s.seq}`).toBe(1);
          expect([NETIF_RSP_OKAY, NETIF_RSP_DROPPED]).toContain(s.statuses[0]);
          byKey.set(`${s.from}/${s.seq}`, s);
          if (s.statuses[0] === NETIF_RSP_OKAY) expected += s.dest.length;
        }
        const okay = sent.filter((s) => s.statuses[0] === NETIF_RSP_OKAY).length;
        expect(fes.reduce((n, fe) => n + fe.stats.txPackets, 0)).toBe(okay);
        expect(fes.reduce((n, fe) => n + fe.stats.txDropped, 0)).toBe(sent.length - okay);

        let got = 0;
        for (let r = 0; r < cfg.guests; r++) {
          const last = new Map<number, number>();
          for (const f of received[r]!) {
            const from = f[ETH_HLEN]!;
            const seq = new DataView(f.buffer, f.byteOffset).getUint32(ETH_HLEN + 1, true);
            const s = byKey.get(`${from}/${seq}`);
            expect(s, `guest ${r} got a frame nobody sent`).toBeDefined();
            expect(f).toEqual(s!.bytes);
            expect(s!.statuses[0]).toBe(NETIF_RSP_OKAY);
            expect(s!.dest).toContain(r);
            // Strictly increasing per sender: in order and never twice.
            expect(seq).toBeGreaterThan(last.get(from) ?? -1);
            last.set(from, seq);
            got++;
          }
        }
        const vifOf = (i: number): NetbackVif => probe.vifs.get(vifs[i]!)!;
        const dropped = fes.reduce((n, _fe, i) => n + vifOf(i).stats.rxDropped, 0);
        expect(got + dropped).toBe(expected);
        for (let i = 0; i < cfg.guests; i++) {
          expect(vifOf(i).rxQueued).toBe(0);
          expect(fes[i]!.stats.rxPackets).toBe(received[i]!.length);
          expect(fes[i]!.stats.rxErrors).toBe(0);
          expect(fes[i]!.queued).toBe(0);
        }
      }),
      { numRuns: 60 },
    );
  }, 60_000);
});
