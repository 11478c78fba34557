// The network split driver: netif.h's byte layouts, the XenbusState handshake between netfront in
// Mini-OS guests and netback in dom0, frames across the bridge, refusals, drops, notification
// suppression and teardown.
import { describe, expect, it } from 'vitest';
import { ECS_FREE, ECS_INTERDOMAIN, ECS_UNBOUND } from '../../src/core/abi/evtchn.js';
import { GTF_permit_access, GTF_readonly, GTF_reading, GTF_writing } from '../../src/core/abi/grant.js';
import type { LayoutField } from '../../src/core/abi/layout.js';
import {
  BROADCAST_MAC,
  ETH_HLEN,
  NET_RX_RING_SIZE,
  NET_TX_RING_SIZE,
  NETIF_EXTRA_INFO_LAYOUT,
  NETIF_EXTRA_INFO_SIZE,
  NETIF_RSP_DROPPED,
  NETIF_RSP_ERROR,
  NETIF_RSP_NULL,
  NETIF_RSP_OKAY,
  NETIF_RX_REQUEST_LAYOUT,
  NETIF_RX_REQUEST_SIZE,
  NETIF_RX_RESPONSE_LAYOUT,
  NETIF_RX_RESPONSE_SIZE,
  NETIF_RX_SLOT_SIZE,
  NETIF_TX_REQUEST_LAYOUT,
  NETIF_TX_REQUEST_SIZE,
  NETIF_TX_RESPONSE_LAYOUT,
  NETIF_TX_RESPONSE_SIZE,
  NETIF_TX_SLOT_SIZE,
  NETRXF_csum_blank,
  NETRXF_data_validated,
  NETRXF_extra_info,
  NETRXF_gso_prefix,
  NETRXF_more_data,
  NETTXF_csum_blank,
  NETTXF_data_validated,
  NETTXF_extra_info,
  NETTXF_more_data,
  XEN_NETIF_EXTRA_FLAG_MORE,
  XEN_NETIF_EXTRA_TYPE_GSO,
  XEN_NETIF_EXTRA_TYPE_MCAST_ADD,
  XEN_NETIF_GSO_TYPE_TCPV4,
  ethernetFrame,
  extraGso,
  formatMac,
  isMulticastMac,
  isValidUnicastMac,
  parseMac,
  readExtraInfo,
  readRxRequest,
  readRxResponse,
  readTxRequest,
  readTxResponse,
  writeExtraInfo,
  writeRxRequest,
  writeRxResponse,
  writeTxRequest,
  writeTxResponse,
  xenMac,
} from '../../src/core/abi/netif.js';
import { DOMID_SELF } from '../../src/core/abi/domid.js';
import { XenbusStateClosed, XenbusStateClosing, XenbusStateConnected, XenbusStateInitWait } from '../../src/core/abi/xenbus.js';
import type { Guest } from '../../src/core/guest/guest.js';
import { DefaultKernel } from '../../src/core/guest/kernel.js';
import { readStartInfoRings } from '../../src/core/guest/minios.js';
import { NetFront, type NetFrontOptions } from '../../src/core/guest/netfront.js';
import { FrontRing, ringSize } from '../../src/core/guest/ring.js';
import { Xenbus } from '../../src/core/guest/xenbus.js';
import { XenbusDevice } from '../../src/core/guest/xenbus_device.js';
import type { Domain } from '../../src/core/hv/domain.js';
import { Hypervisor } from '../../src/core/hv/hypervisor.js';
import { Dom0Kernel, dom0Kernel } from '../../src/core/tools/dom0_modern.js';
import { Bridge, netbackProbe, vifDeviceKeys, type NetbackOptions, type NetbackVif } from '../../src/core/tools/netback.js';

const RUN = 5_000_000;

/**
 * A PV kernel with only what a frontend needs: upcalls, and xenbus on the
 * store ring start_info names (Mini-OS's init_xenbus), without Mini-OS's
 * own probing of device/, so each test makes the drivers it wants.
 */
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
const netKernel = () => (hv: Hypervisor, d: Domain) => new NetKernel(hv, d);

interface Node {
  g: Domain;
  k: NetKernel;
  fe: NetFront;
  frontend: string;
  backend: string;
  got: Uint8Array[];
  ready: (string | undefined)[];
}

/** dom0 with netback on xenbr0, and one Mini-OS guest per name, each with vif 0 started. */
function lab(names: string[], o: { fe?: Record<string, NetFrontOptions>; nb?: NetbackOptions } = {}) {
  const hv = new Hypervisor({ seed: 7 });
  const dom0 = hv.createDomain({ name: 'dom0' }, dom0Kernel());
  const k0 = dom0.kernel as Dom0Kernel;
  const bridge = new Bridge();
  const probe = netbackProbe(k0.backendEnv, bridge, { trace: hv.trace, ...o.nb });
  k0.registerBackend('vif', probe);
  const nodes: Node[] = [];
  for (const name of names) {
    const g = hv.createDomain({ name });
    k0.buildGuest(g);
    hv.boot(g, netKernel());
    const k = g.kernel as NetKernel;
    const { frontend, backend } = k0.addDevice(g, 'vif', 0, vifDeviceKeys(0, xenMac(g.domid, 0)));
    const fe = new NetFront(k, k.xenbus, frontend, o.fe?.[name]);
    const node: Node = { g, k, fe, frontend, backend, got: [], ready: [] };
    fe.onFrame = (f) => node.got.push(f);
    fe.start((e) => node.ready.push(e));
    nodes.push(node);
  }
  hv.run(RUN);
  const vif = (n: Node): NetbackVif => probe.vifs.get(n.backend)!;
  return { hv, k0, dom0, bridge, probe, nodes, vif };
}

function frame(dst: string, src: string, len: number, fill: number): Uint8Array {
  const payload = new Uint8Array(len - ETH_HLEN);
  for (let i = 0; i < payload.length; i++) payload[i] = (fill + i * 7) & 0xff;
  return ethernetFrame(dst, src, 0x88b5, payload);
}

/** Fields in order, not overlapping, naturally aligned, inside the struct. */
function expectWellFormed(fields: readonly LayoutField[], size: number): void {
  let end = 0;
  for (const f of fields) {
    expect(f.offset, f.field).toBeGreaterThanOrEqual(end);
    if (f.size === 2 || f.size === 4) expect(f.offset % f.size, f.field).toBe(0);
    end = f.offset + f.size;
  }
  expect(end).toBeLessThanOrEqual(size);
}

const fieldsOf = (l: readonly LayoutField[]): [string, number, number][] => l.map((f) => [f.field, f.offset, f.size]);

describe('netif.h layouts (x86-64)', () => {
  it('puts every field of the four ring structs and netif_extra_info at its offset and size', () => {
    expect(fieldsOf(NETIF_TX_REQUEST_LAYOUT)).toEqual([
      ['gref', 0, 4],
      ['offset', 4, 2],
      ['flags', 6, 2],
      ['id', 8, 2],
      ['size', 10, 2],
    ]);
    expect(fieldsOf(NETIF_TX_RESPONSE_LAYOUT)).toEqual([
      ['id', 0, 2],
      ['status', 2, 2],
    ]);
    expect(fieldsOf(NETIF_RX_REQUEST_LAYOUT)).toEqual([
      ['id', 0, 2],
      ['pad', 2, 2],
      ['gref', 4, 4],
    ]);
    expect(fieldsOf(NETIF_RX_RESPONSE_LAYOUT)).toEqual([
      ['id', 0, 2],
      ['offset', 2, 2],
      ['flags', 4, 2],
      ['status', 6, 2],
    ]);
    expect(fieldsOf(NETIF_EXTRA_INFO_LAYOUT)).toEqual([
      ['type', 0, 1],
      ['flags', 1, 1],
      ['u.gso.size', 2, 2],
      ['u.gso.type', 4, 1],
      ['u.gso.pad', 5, 1],
      ['u.gso.features', 6, 2],
    ]);
    expect([NETIF_TX_REQUEST_SIZE, NETIF_TX_RESPONSE_SIZE, NETIF_RX_REQUEST_SIZE, NETIF_RX_RESPONSE_SIZE, NETIF_EXTRA_INFO_SIZE]).toEqual([12, 4, 8, 8, 8]);
    expectWellFormed(NETIF_TX_REQUEST_LAYOUT, NETIF_TX_REQUEST_SIZE);
    expectWellFormed(NETIF_TX_RESPONSE_LAYOUT, NETIF_TX_RESPONSE_SIZE);
    expectWellFormed(NETIF_RX_REQUEST_LAYOUT, NETIF_RX_REQUEST_SIZE);
    expectWellFormed(NETIF_RX_RESPONSE_LAYOUT, NETIF_RX_RESPONSE_SIZE);
    expectWellFormed(NETIF_EXTRA_INFO_LAYOUT, NETIF_EXTRA_INFO_SIZE);
  });

  it('sizes a ring slot as the union of request and response, 256 slots on one page each way', () => {
    expect(NETIF_TX_SLOT_SIZE).toBe(Math.max(NETIF_TX_REQUEST_SIZE, NETIF_TX_RESPONSE_SIZE));
    expect(NETIF_RX_SLOT_SIZE).toBe(Math.max(NETIF_RX_REQUEST_SIZE, NETIF_RX_RESPONSE_SIZE));
    // The extra info has to fit both a tx slot and an rx slot.
    expect(NETIF_EXTRA_INFO_SIZE).toBeLessThanOrEqual(Math.min(NETIF_TX_SLOT_SIZE, NETIF_RX_SLOT_SIZE));
    expect(ringSize(NETIF_TX_SLOT_SIZE)).toBe(256);
    expect(ringSize(NETIF_RX_SLOT_SIZE)).toBe(256);
    expect([NET_TX_RING_SIZE, NET_RX_RING_SIZE]).toEqual([256, 256]);
  });

  it('encodes little-endian in place, with signed statuses, byte for byte', () => {
    const slot = new Uint8Array(12).fill(0xee);
    writeTxRequest(slot, { gref: 0x11223344, offset: 0x5566, flags: NETTXF_more_data, id: 0x7788, size: 0x99aa });
    expect([...slot]).toEqual([0x44, 0x33, 0x22, 0x11, 0x66, 0x55, 0x04, 0x00, 0x88, 0x77, 0xaa, 0x99]);
    expect(readTxRequest(slot)).toEqual({ gref: 0x11223344, offset: 0x5566, flags: 4, id: 0x7788, size: 0x99aa });
    // A response overwrites only its 4 bytes of the union.
    writeTxResponse(slot, { id: 0x0102, status: NETIF_RSP_ERROR });
    expect([...slot]).toEqual([0x02, 0x01, 0xff, 0xff, 0x66, 0x55, 0x04, 0x00, 0x88, 0x77, 0xaa, 0x99]);
    expect(readTxResponse(slot)).toEqual({ id: 0x0102, status: -1 });
    writeTxResponse(slot, { id: 1, status: NETIF_RSP_DROPPED });
    expect([slot[2], slot[3]]).toEqual([0xfe, 0xff]);

    const rx = new Uint8Array(8).fill(0xee);
    writeRxRequest(rx, { id: 0x0a0b, gref: 0x01020304 });
    expect([...rx]).toEqual([0x0b, 0x0a, 0, 0, 0x04, 0x03, 0x02, 0x01]);
    expect(readRxRequest(rx)).toEqual({ id: 0x0a0b, gref: 0x01020304 });
    writeRxResponse(rx, { id: 3, offset: 0x10, flags: NETRXF_data_validated, status: 1514 });
    expect([...rx]).toEqual([3, 0, 0x10, 0, 1, 0, 0xea, 0x05]);
    writeRxResponse(rx, { id: 3, offset: 0, flags: 0, status: NETIF_RSP_ERROR });
    expect(readRxResponse(rx).status).toBe(-1);

    const ex = new Uint8Array(12).fill(0xee);
    writeExtraInfo(ex, { type: XEN_NETIF_EXTRA_TYPE_GSO, flags: XEN_NETIF_EXTRA_FLAG_MORE, u: Uint8Array.of(0xb4, 0x05, XEN_NETIF_GSO_TYPE_TCPV4, 0, 0, 0) });
    expect([...ex]).toEqual([1, 1, 0xb4, 0x05, 1, 0, 0, 0, 0xee, 0xee, 0xee, 0xee]);
    expect(extraGso(readExtraInfo(ex))).toEqual({ size: 1460, type: XEN_NETIF_GSO_TYPE_TCPV4, features: 0 });
  });

  it("has netif.h's flag bits, statuses, and Xen's MAC conventions", () => {
    expect([NETTXF_csum_blank, NETTXF_data_validated, NETTXF_more_data, NETTXF_extra_info]).toEqual([1, 2, 4, 8]);
    expect([NETRXF_data_validated, NETRXF_csum_blank, NETRXF_more_data, NETRXF_extra_info, NETRXF_gso_prefix]).toEqual([1, 2, 4, 8, 16]);
    expect([NETIF_RSP_DROPPED, NETIF_RSP_ERROR, NETIF_RSP_OKAY, NETIF_RSP_NULL]).toEqual([-2, -1, 0, 1]);
    expect(formatMac(parseMac('00:16:3E:0a:b:ff')!)).toBe('00:16:3e:0a:0b:ff');
    for (const bad of ['00:16:3e:00:00', '00:16:3e:00:00:00:01', '00:16:3e:00:00:1g', '00:16:3e:00:00:100', '00-16-3e-00-00-01']) expect(parseMac(bad), bad).toBeUndefined();
    expect(xenMac(1, 0)).toBe('00:16:3e:00:01:00');
    expect(xenMac(0x1234, 2)).toBe('00:16:3e:12:34:02');
    expect(xenMac(0xffff, 0).split(':')[3]).toBe('7f');
    expect(isMulticastMac(parseMac(BROADCAST_MAC)!)).toBe(true);
    expect(isValidUnicastMac(parseMac('00:00:00:00:00:00')!)).toBe(false);
    expect(isValidUnicastMac(parseMac(xenMac(3, 0))!)).toBe(true);
  });
});

describe('netfront ↔ netback handshake', () => {
  it('walks both ends through their states in order and leaves the keys, grants and ports as netif.h says', () => {
    const { k0, dom0, bridge, nodes, vif } = lab(['a']);
    const a = nodes[0]!;
    const be = vif(a);
    expect(a.ready).toEqual([undefined]);
    // The backend sees Initialising, offers InitWait; netfront goes straight to Connected; netback follows.
    expect(be.dev.history).toEqual(['fe:1', 'be:2', 'fe:4', 'be:4']);
    expect(a.fe.dev.history).toEqual(['be:2', 'fe:4', 'be:4']);
    expect(a.fe.phase).toBe('connected');
    const xs = k0.xenstored;
    expect(xs.readValue(`${a.frontend}/tx-ring-ref`)).toBe(String(a.fe.txRingRef));
    expect(xs.readValue(`${a.frontend}/rx-ring-ref`)).toBe(String(a.fe.rxRingRef));
    expect(xs.readValue(`${a.frontend}/event-channel`)).toBe(String(a.fe.port));
    expect(xs.readValue(`${a.frontend}/request-rx-copy`)).toBe('1');
    expect(xs.readValue(`${a.frontend}/feature-rx-notify`)).toBe('1');
    expect(xs.readValue(`${a.frontend}/state`)).toBe(String(XenbusStateConnected));
    expect(xs.readValue(`${a.frontend}/mac`)).toBe(a.fe.macString);
    for (const [k, v] of Object.entries({ 'feature-rx-copy': '1', 'feature-rx-flip': '0', 'feature-sg': '1', 'feature-split-event-channels': '0', state: '4', handle: '0' })) {
      expect(xs.readValue(`${a.backend}/${k}`), k).toBe(v);
    }
    // Both ring pages mapped writable by dom0; the rx buffers only granted (copied into, never mapped).
    for (const ref of [a.fe.txRingRef, a.fe.rxRingRef]) {
      const e = a.g.grants.entry(ref);
      expect(e.domid).toBe(0);
      expect(e.flags).toBe(GTF_permit_access | GTF_reading | GTF_writing);
    }
    expect(dom0.grants.maptrack.filter((m) => m?.granter === a.g.domid).map((m) => m!.ref)).toEqual([a.fe.txRingRef, a.fe.rxRingRef]);
    // One event channel, bound across.
    expect(a.g.ports.state[a.fe.port]).toBe(ECS_INTERDOMAIN);
    expect(dom0.ports.state[be.port]).toBe(ECS_INTERDOMAIN);
    expect(dom0.ports.remotePort[be.port]).toBe(a.fe.port);
    expect(a.g.ports.remotePort[a.fe.port]).toBe(be.port);
    expect(be.name).toBe(`vif${a.g.domid}.0`);
    expect([...bridge.ports.keys()]).toEqual([be.name]);
    // The rx buffers are posted: 16 requests on the rx ring, each a writable grant to dom0.
    expect(a.fe.rxRing!.sring.reqProd).toBe(16);
    expect(be.frontend).toMatchObject({ rxCopy: true, rxNotify: true, sg: false });
    expect(k0.dmesgLines.some((l) => l.startsWith(`${be.name}: connected`))).toBe(true);
  });

  it('refuses a frontend without request-rx-copy with a xenbus error, and maps nothing', () => {
    const hv = new Hypervisor({ seed: 7 });
    const dom0 = hv.createDomain({ name: 'dom0' }, dom0Kernel());
    const k0 = dom0.kernel as Dom0Kernel;
    const probe = netbackProbe(k0.backendEnv, new Bridge());
    k0.registerBackend('vif', probe);
    const g = hv.createDomain({ name: 'old' });
    k0.buildGuest(g);
    hv.boot(g, netKernel());
    const k = g.kernel as NetKernel;
    const { frontend, backend } = k0.addDevice(g, 'vif', 0, vifDeviceKeys(0, xenMac(g.domid, 0)));
    // A frontend from before rx-copy: rings and port, but no request-rx-copy key.
    const raw = rawFrontend(k, frontend, { 'request-rx-copy': undefined });
    hv.run(RUN);
    const be = probe.vifs.get(backend)!;
    expect(be.dev.error).toBe(`${frontend}/request-rx-copy not supported by frontend`);
    expect(k0.xenstored.readValue('/local/domain/0/error/backend/vif/1/0/error')).toBe(`95 ${frontend}/request-rx-copy not supported by frontend`);
    expect(be.connected).toBe(false);
    expect(dom0.grants.maptrack.filter(Boolean)).toEqual([]);
    expect(g.ports.state[raw.port]).toBe(ECS_UNBOUND);
    expect(be.dev.history).toEqual(['fe:1', 'be:2', 'fe:4', 'be:5']);
  });
});

/** A hand-driven frontend (a test's own driver): rings, grants and a port, the keys, then Connected. */
function rawFrontend(k: Guest, nodename: string, override: Record<string, string | undefined> = {}) {
  const txGfn = k.allocKernelPage();
  const rxGfn = k.allocKernelPage();
  const tx = FrontRing.create(k.d.memory.frame(txGfn)!, NETIF_TX_SLOT_SIZE);
  const rx = FrontRing.create(k.d.memory.frame(rxGfn)!, NETIF_RX_SLOT_SIZE);
  const out = { tx, rx, port: 0, txRef: -1, rxRef: -1, events: 0, dev: undefined as unknown as XenbusDevice };
  const xs = (k as NetKernel).xenbus;
  out.dev = new XenbusDevice(xs, nodename, 'frontend', {
    otherendChanged: (dev, state) => {
      if (state !== XenbusStateInitWait || out.port !== 0) return;
      out.txRef = k.grantAccess(dev.otherendId, txGfn, false);
      out.rxRef = k.grantAccess(dev.otherendId, rxGfn, false);
      out.port = k.call('alloc_unbound', { dom: DOMID_SELF, remote_dom: dev.otherendId }).out!.port as number;
      k.portHandlers.set(out.port, () => void out.events++);
      const keys: Record<string, string | undefined> = {
        'tx-ring-ref': String(out.txRef),
        'rx-ring-ref': String(out.rxRef),
        'event-channel': String(out.port),
        'request-rx-copy': '1',
        'feature-rx-notify': '1',
        ...override,
      };
      const entries = Object.entries(keys).filter((e): e is [string, string] => e[1] !== undefined);
      let left = entries.length;
      for (const [key, v] of entries) dev.write(key, v, () => void (--left === 0 && dev.switchState(XenbusStateConnected)));
    },
  });
  out.dev.start();
  return out;
}

describe('frames across xenbr0', () => {
  it('carries a frame from A to B byte for byte, to B only, once B is known', () => {
    const { hv, nodes, bridge, vif } = lab(['a', 'b', 'c']);
    const [a, b, c] = nodes as [Node, Node, Node];
    // B announces itself (a broadcast, as a gratuitous ARP would): the bridge learns where B is.
    b.fe.send(frame(BROADCAST_MAC, b.fe.macString, 60, 1));
    hv.run(RUN);
    expect(bridge.lookup(b.fe.macString)).toBe(vif(b).name);
    for (const n of nodes) n.got.length = 0;
    const f = frame(b.fe.macString, a.fe.macString, 1514, 42);
    const status: number[] = [];
    a.fe.send(f, (s) => status.push(s));
    hv.run(RUN);
    expect(status).toEqual([NETIF_RSP_OKAY]);
    expect(b.got).toEqual([f]);
    expect(c.got).toEqual([]);
    expect(a.got).toEqual([]);
    expect(vif(a).stats).toMatchObject({ txPackets: 1, txBytes: 1514 });
    expect(vif(b).stats).toMatchObject({ rxPackets: 1, rxBytes: 1514, rxDropped: 0 });
    expect(vif(c).stats.rxPackets).toBe(1); // only the announcement
    expect(a.fe.stats).toMatchObject({ txPackets: 1, txBytes: 1514, txErrors: 0 });
  });

  it('floods a broadcast to every vif but the sender', () => {
    const { hv, nodes } = lab(['a', 'b', 'c']);
    const [a, b, c] = nodes as [Node, Node, Node];
    const f = frame(BROADCAST_MAC, a.fe.macString, 100, 9);
    a.fe.send(f);
    hv.run(RUN);
    expect(a.got).toEqual([]);
    expect(b.got).toEqual([f]);
    expect(c.got).toEqual([f]);
  });

  it('floods to an unknown MAC, then, once B has replied, sends A→B to B alone', () => {
    const { hv, nodes, bridge, vif } = lab(['a', 'b', 'c']);
    const [a, b, c] = nodes as [Node, Node, Node];
    const first = frame(b.fe.macString, a.fe.macString, 80, 1);
    a.fe.send(first);
    hv.run(RUN);
    expect(b.got).toEqual([first]);
    expect(c.got).toEqual([first]); // B was unknown: flooded
    expect(bridge.stats).toMatchObject({ flooded: 1, forwarded: 0 });
    expect(bridge.lookup(a.fe.macString)).toBe(vif(a).name);
    expect(bridge.lookup(b.fe.macString)).toBeUndefined();

    const reply = frame(a.fe.macString, b.fe.macString, 80, 2);
    b.fe.send(reply);
    hv.run(RUN);
    expect(a.got).toEqual([reply]); // A was learnt from its first frame
    expect(c.got).toEqual([first]);
    expect(bridge.lookup(b.fe.macString)).toBe(vif(b).name);

    const second = frame(b.fe.macString, a.fe.macString, 80, 3);
    a.fe.send(second);
    hv.run(RUN);
    expect(b.got).toEqual([first, second]);
    expect(c.got).toEqual([first]);
    expect(bridge.stats).toMatchObject({ frames: 3, flooded: 1, forwarded: 2 });
  });

  it('carries the checksum flags across: a csum_blank packet arrives csum_blank | data_validated', () => {
    const { hv, nodes } = lab(['a', 'b']);
    const [a, b] = nodes as [Node, Node];
    a.fe.sendRaw({ flags: NETTXF_csum_blank }, frame(BROADCAST_MAC, a.fe.macString, 64, 0));
    hv.run(RUN);
    // B's first rx slot now holds the backend's response (its buffer went back in a later slot).
    expect(readRxResponse(b.fe.rxRing!.slot(0))).toEqual({ id: 0, offset: 0, flags: NETRXF_csum_blank | NETRXF_data_validated, status: 64 });
    expect(b.got.length).toBe(1);
  });
});

describe('drops, errors and notifications', () => {
  it('drops and counts a frame for a guest with no rx buffer posted', () => {
    const { hv, nodes, vif } = lab(['a', 'b'], { fe: { b: { rxBuffers: 0 } }, nb: { rxQueueMax: 0 } });
    const [a, b] = nodes as [Node, Node];
    expect(b.fe.rxRing!.sring.reqProd).toBe(0);
    const status: number[] = [];
    a.fe.send(frame(BROADCAST_MAC, a.fe.macString, 64, 0), (s) => status.push(s));
    hv.run(RUN);
    expect(status).toEqual([NETIF_RSP_OKAY]); // A's packet was taken; B had nowhere to put it
    expect(vif(b).stats).toMatchObject({ rxPackets: 0, rxDropped: 1 });
    expect(b.got).toEqual([]);
    expect(b.fe.stats.rxPackets).toBe(0);
  });

  it('holds frames while the guest posts no buffer, up to rxQueueMax, and delivers them in order when it does', () => {
    const { hv, nodes, vif } = lab(['a', 'b'], { fe: { b: { rxBuffers: 1 } }, nb: { rxQueueMax: 3 } });
    const [a, b] = nodes as [Node, Node];
    b.fe.rxPaused = true;
    const frames = [1, 2, 3, 4, 5, 6].map((i) => frame(b.fe.macString, a.fe.macString, 60 + i, i));
    for (const f of frames) a.fe.send(f);
    hv.run(RUN);
    // One went into the one buffer; three wait; two found no room.
    expect(b.got).toEqual([frames[0]]);
    expect(vif(b).rxQueued).toBe(3);
    expect(vif(b).stats).toMatchObject({ rxPackets: 1, rxDropped: 2, rxQueuePeak: 3 });
    const before = vif(b).stats.events;
    b.fe.resumeRx(); // posts the buffer again: the backend asked to hear of it (req_event), so B kicks
    hv.run(RUN);
    expect(b.fe.stats.rxNotifies).toBeGreaterThan(1);
    expect(vif(b).stats.events).toBeGreaterThan(before);
    expect(b.got).toEqual([frames[0], frames[1], frames[2], frames[3]]);
    expect(vif(b).rxQueued).toBe(0);
  });

  it('answers an oversize, a short, a page-crossing and a bad-grant request with an error, and later frames still flow', () => {
    const { hv, nodes, vif } = lab(['a', 'b']);
    const [a, b] = nodes as [Node, Node];
    const status: [string, number][] = [];
    const note = (what: string) => (s: number) => void status.push([what, s]);
    a.fe.send(frame(BROADCAST_MAC, a.fe.macString, 2000, 1), note('oversize'));
    a.fe.send(new Uint8Array(10), note('short'));
    a.fe.sendRaw({ offset: 4000 }, frame(BROADCAST_MAC, a.fe.macString, 200, 2), note('crossing'));
    a.fe.sendRaw({ gref: 300 }, frame(BROADCAST_MAC, a.fe.macString, 200, 3), note('bad gref'));
    const good = frame(b.fe.macString, a.fe.macString, 300, 4);
    a.fe.send(good, note('good'));
    hv.run(RUN);
    expect(status).toEqual([
      ['oversize', NETIF_RSP_ERROR],
      ['short', NETIF_RSP_ERROR],
      ['crossing', NETIF_RSP_ERROR],
      ['bad gref', NETIF_RSP_ERROR],
      ['good', NETIF_RSP_OKAY],
    ]);
    expect(vif(a).txRefusals).toEqual([
      'too big (2000 bytes)',
      'too small (10 bytes)',
      'crossing a page boundary (offset 4000, size 200)',
      'copying grant 300: GNTST_general_error',
    ]);
    expect(vif(a).stats).toMatchObject({ txPackets: 1, txErrors: 4 });
    expect(a.fe.stats).toMatchObject({ txPackets: 1, txErrors: 4 });
    expect(b.got).toEqual([good]);
    // Every tx grant was ended on its response.
    for (let ref = 8; ref < 8 + 2 + 16 + 32; ref++) {
      const e = a.g.grants.entry(ref);
      if ((e.flags & GTF_readonly) !== 0) expect.fail(`tx grant ${ref} still live`);
    }
  });

  it('sends one notification for a batch: the backend has not asked again until it has caught up', () => {
    const { hv, nodes, vif } = lab(['a', 'b']);
    const [a, b] = nodes as [Node, Node];
    b.fe.send(frame(BROADCAST_MAC, b.fe.macString, 60, 0)); // learn B
    hv.run(RUN);
    b.got.length = 0;
    const s0 = { ...a.fe.stats };
    const be0 = { a: { ...vif(a).stats }, b: { ...vif(b).stats } };
    const b0 = { ...b.fe.stats };
    for (let i = 0; i < 5; i++) a.fe.send(frame(b.fe.macString, a.fe.macString, 100, i));
    // Before anything ran: five requests published, one send.
    expect(a.fe.txRing!.sring.reqProd - a.fe.txRing!.rspCons).toBe(5);
    expect(a.fe.stats.txNotifies - s0.txNotifies).toBe(1);
    hv.run(RUN);
    expect(b.got.length).toBe(5);
    expect(vif(a).stats.events - be0.a.events).toBe(1); // one event for five packets
    expect(vif(a).stats.notifies - be0.a.notifies).toBe(1); // one event back with five tx responses
    expect(vif(b).stats.notifies - be0.b.notifies).toBe(1); // and one to B for five rx responses
    expect(b.fe.stats.events - b0.events).toBe(1);
    // B posted its five buffers again without a kick: the backend did not ask (req_event untouched).
    expect(b.fe.stats.rxNotifies - b0.rxNotifies).toBe(0);

    // One at a time, each after the last was consumed: each needs its own send.
    const before = a.fe.stats.txNotifies;
    a.fe.send(frame(b.fe.macString, a.fe.macString, 100, 8));
    hv.run(RUN);
    a.fe.send(frame(b.fe.macString, a.fe.macString, 100, 9));
    hv.run(RUN);
    expect(a.fe.stats.txNotifies - before).toBe(2);
  });

  it('takes a multi-slot packet (feature-sg) and answers extra-info slots with NETIF_RSP_NULL, in ring order', () => {
    const hv = new Hypervisor({ seed: 7 });
    const dom0 = hv.createDomain({ name: 'dom0' }, dom0Kernel());
    const k0 = dom0.kernel as Dom0Kernel;
    const bridge = new Bridge();
    const probe = netbackProbe(k0.backendEnv, bridge);
    k0.registerBackend('vif', probe);
    const got: Uint8Array[] = [];
    bridge.attach({ name: 'tap0', deliver: (f) => void got.push(f.slice()), flush: () => {} });
    const g = hv.createDomain({ name: 'sg' });
    k0.buildGuest(g);
    hv.boot(g, netKernel());
    const k = g.kernel as NetKernel;
    const { frontend } = k0.addDevice(g, 'vif', 0, vifDeviceKeys(0, xenMac(g.domid, 0)));
    const raw = rawFrontend(k, frontend);
    hv.run(RUN);
    // A 1000-byte frame in two pieces: 600 bytes at offset 100 of one page, 400 at offset 0 of another.
    const whole = frame(BROADCAST_MAC, xenMac(g.domid, 0), 1000, 5);
    const p1 = k.allocKernelPage();
    const p2 = k.allocKernelPage();
    k.d.memory.frame(p1)!.set(whole.subarray(0, 600), 100);
    k.d.memory.frame(p2)!.set(whole.subarray(600), 0);
    const r1 = k.grantAccess(0, p1, true);
    const r2 = k.grantAccess(0, p2, true);
    raw.tx.produceRequest((s) => writeTxRequest(s, { gref: r1, offset: 100, flags: NETTXF_more_data | NETTXF_extra_info, id: 7, size: 1000 }));
    raw.tx.produceRequest((s) => writeExtraInfo(s, { type: XEN_NETIF_EXTRA_TYPE_MCAST_ADD, flags: 0, u: new Uint8Array(6) }));
    raw.tx.produceRequest((s) => writeTxRequest(s, { gref: r2, offset: 0, flags: 0, id: 9, size: 400 }));
    expect(raw.tx.pushRequestsAndCheckNotify()).toBe(true);
    k.send(raw.port);
    hv.run(RUN);
    expect(got).toEqual([whole]);
    const rsps = [0, 1, 2].map(() => readTxResponse(raw.tx.consumeResponse()!));
    expect(rsps).toEqual([
      { id: 7, status: NETIF_RSP_OKAY },
      { id: 0, status: NETIF_RSP_NULL },
      { id: 9, status: NETIF_RSP_OKAY },
    ]);
    expect(raw.events).toBeGreaterThan(0);
  });
});

describe('teardown', () => {
  it('Closing → Closed at both ends: rings unmapped, grants ended, ports closed, vif off the bridge', () => {
    const { hv, nodes, dom0, bridge, vif, k0 } = lab(['a', 'b']);
    const [a, b] = nodes as [Node, Node];
    a.fe.send(frame(BROADCAST_MAC, a.fe.macString, 60, 0));
    hv.run(RUN);
    const be = vif(a);
    const refs = { tx: a.fe.txRingRef, rx: a.fe.rxRingRef };
    const ports = { fe: a.fe.port, be: be.port };
    expect(bridge.lookup(a.fe.macString)).toBe(be.name);
    const closed: (string | undefined)[] = [];
    a.fe.close((e) => closed.push(e));
    hv.run(RUN);
    expect(closed).toEqual([undefined]);
    expect(a.fe.dev.history.slice(3)).toEqual(['fe:5', 'be:5', 'fe:6', 'be:6']);
    expect(be.dev.history.slice(4)).toEqual(['fe:5', 'be:5', 'fe:6', 'be:6']);
    expect([be.state, a.fe.dev.state]).toEqual([XenbusStateClosed, XenbusStateClosed]);
    expect(k0.xenstored.readValue(`${a.backend}/state`)).toBe(String(XenbusStateClosed));
    // dom0 unmapped both rings before it said Closing, so the guest could end every grant.
    expect(a.fe.grantsStillMapped).toEqual([]);
    expect(dom0.grants.maptrack.filter((m) => m?.granter === a.g.domid)).toEqual([]);
    expect(a.g.grants.entry(refs.tx).flags).toBe(0);
    expect(a.g.grants.entry(refs.rx).flags).toBe(0);
    expect(dom0.ports.state[ports.be]).toBe(ECS_FREE);
    expect(a.g.ports.state[ports.fe]).toBe(ECS_FREE);
    expect([...bridge.ports.keys()]).toEqual([vif(b).name]);
    expect(bridge.lookup(a.fe.macString)).toBeUndefined();
    // A's frames now go nowhere; B's frames reach nobody behind A.
    expect(a.fe.send(frame(BROADCAST_MAC, a.fe.macString, 60, 1))).toBe(false);
    b.fe.send(frame(a.fe.macString, b.fe.macString, 60, 2));
    hv.run(RUN);
    expect(a.got).toEqual([]);
    expect(a.fe.stats.txDropped).toBe(1);
  });

  it('disconnects the backend when its directory goes; the frontend, seeing no backend, cleans up', () => {
    const { hv, nodes, dom0, vif, k0, bridge } = lab(['a']);
    const a = nodes[0]!;
    const be = vif(a);
    const fePort = a.fe.port;
    // dom0's toolstack removes the backend directory: netback_remove disconnects (unmaps, closes, leaves the bridge).
    k0.kernelXenbus.rm(a.backend);
    hv.run(RUN);
    expect(be.connected).toBe(false);
    expect(dom0.grants.maptrack.filter(Boolean)).toEqual([]);
    expect(bridge.ports.size).toBe(0);
    expect(k0.dmesgLines).toContain(`${be.name}: removed`);
    // The frontend reads its backend's state as Unknown and tears down.
    expect(a.fe.phase).toBe('closed');
    expect(a.fe.grantsStillMapped).toEqual([]);
    expect(a.g.ports.state[fePort]).toBe(ECS_FREE);
  });

  it('reports a ring grant something in dom0 still maps at teardown instead of freeing it', () => {
    const { hv, nodes, k0 } = lab(['a']);
    const a = nodes[0]!;
    const rxRef = a.fe.rxRingRef;
    // A second mapping of the rx ring by dom0 that netback does not know of.
    const m = k0.call('gnttab_map_grant_ref', { host_addr: 0, flags: 2, ref: rxRef, dom: a.g.domid });
    expect(m.out!.status).toBe('GNTST_okay');
    const closed: (string | undefined)[] = [];
    a.fe.close((e) => closed.push(e));
    hv.run(RUN);
    expect(a.fe.grantsStillMapped).toEqual([rxRef]);
    expect(closed).toEqual([`grant refs still mapped by the backend: ${rxRef}`]);
    expect(a.g.grants.entry(rxRef).flags & GTF_reading).toBe(GTF_reading);
  });
});

describe('handshake order against the XenbusState names', () => {
  it('never shows the frontend Connected before the backend offered InitWait, nor the backend Connected before the frontend', () => {
    const { nodes, vif } = lab(['a', 'b']);
    for (const n of nodes) {
      const h = vif(n).dev.history;
      expect(h.indexOf(`be:${XenbusStateInitWait}`)).toBeLessThan(h.indexOf(`fe:${XenbusStateConnected}`));
      expect(h.indexOf(`fe:${XenbusStateConnected}`)).toBeLessThan(h.indexOf(`be:${XenbusStateConnected}`));
      expect(h).not.toContain(`be:${XenbusStateClosing}`);
    }
  });
});
