/**
 * dom0's network backend and the bridge its vifs hang off.
 *
 * `Bridge` is a learning switch like Linux's bridge under xenbr0: it learns
 * each source MAC's port, forwards a frame to the port that owns its
 * destination, floods group and unknown destinations to every other port,
 * never sends a frame back where it came from, and forgets a port's
 * addresses when the port goes (br_fdb_delete_by_port). No ageing and no STP.
 *
 * `netbackProbe` makes one `NetbackVif` per vif device dom0's backend bus
 * finds, after Linux's xen-netback: xenbus.c for the handshake (probe writes
 * the features and goes to InitWait; set_backend_state walks the states;
 * connect happens when the frontend reaches Connected) and netback.c for the
 * rings. Frames cross with GNTTABOP_copy only (the frontend's pages are
 * never mapped, only its two ring pages are), through two bounce pages of
 * dom0's memory shared by every vif (the simulation runs one handler at a time).
 *
 * Deliberate differences from Linux, each for a reason:
 *  - a malformed tx packet (too short, too big, crossing its page, a bad
 *    grant) is answered NETIF_RSP_ERROR and later packets still flow, as
 *    NetBSD's xennetback does; Linux calls some of these fatal and turns the
 *    vif off (xenvif_fatal_tx_err);
 *  - a frontend without request-rx-copy is refused with xenbus_dev_fatal, as
 *    NetBSD's xennetback does; Linux's connect() ignores what
 *    read_xenbus_vif_flags returns;
 *  - frames for a frontend with no rx buffer posted wait in a queue of
 *    `rxQueueMax` frames (64) if the frontend wrote feature-rx-notify (it
 *    will kick us when it posts buffers, netif.h), else are dropped; beyond
 *    the queue they are dropped too. Linux holds up to 512 KiB and drops
 *    what has waited too long; a short queue makes the exhaustion visible;
 *  - no hotplug script: the vif joins the bridge when it connects and
 *    leaves it when it disconnects;
 *  - a connect that fails stays Closing (Linux would go on to Connected);
 *  - one EVTCHNOP_send per batch covers both rings (they share the port;
 *    Linux's two sends would find the same pending bit).
 */
import { DOMID_SELF } from '../abi/domid.js';
import { EOPNOTSUPP, ENOENT, EINVAL } from '../abi/errno.js';
import { GNTCOPY_dest_gref, GNTCOPY_source_gref, GNTMAP_host_map } from '../abi/grant.js';
import { PAGE_SIZE } from '../abi/layout.js';
import {
  ETH_HLEN,
  NETIF_BACKEND_KEYS as BK,
  NETIF_FRONTEND_KEYS as FK,
  NETIF_MAX_FRAME,
  NETIF_RSP_ERROR,
  NETIF_RSP_NULL,
  NETIF_RSP_OKAY,
  NETIF_RX_SLOT_SIZE,
  NETIF_TX_SLOT_SIZE,
  NETRXF_csum_blank,
  NETRXF_data_validated,
  NETTXF_csum_blank,
  NETTXF_data_validated,
  NETTXF_extra_info,
  NETTXF_more_data,
  XEN_NETIF_EXTRA_FLAG_MORE,
  XEN_NETIF_EXTRA_TYPE_MAX,
  XEN_NETIF_EXTRA_TYPE_NONE,
  XEN_NETIF_NR_SLOTS_MIN,
  formatMac,
  isMulticastMac,
  isValidUnicastMac,
  parseMac,
  readExtraInfo,
  readRxRequest,
  readTxRequest,
  writeRxResponse,
  writeTxResponse,
  type NetifTxRequest,
} from '../abi/netif.js';
import {
  XenbusStateClosed,
  XenbusStateClosing,
  XenbusStateConnected,
  XenbusStateInitialised,
  XenbusStateInitialising,
  XenbusStateInitWait,
  XenbusStateUnknown,
} from '../abi/xenbus.js';
import { BackRing } from '../guest/ring.js';
import type { XenbusDevice } from '../guest/xenbus_device.js';
import type { Trace } from '../sim/trace.js';
import type { BackendEnv, BackendInstance, BackendProbe } from './xenbus_backend.js';

// ---------------------------------------------------------------------------
// The bridge

/** Something frames can be delivered to: a vif (or a test's tap). */
export interface BridgePort {
  readonly name: string;
  /** Take a frame (copy it if kept); rxFlags are the NETRXF_* checksum flags it carries. */
  deliver(frame: Uint8Array, rxFlags: number): void;
  /** The end of a batch: publish what was delivered and notify once. */
  flush(): void;
}

export interface BridgeStats {
  /** Frames that came in. */
  frames: number;
  /** Frames sent to the one port that owns their destination. */
  forwarded: number;
  /** Frames sent to every other port (group or unknown destination). */
  flooded: number;
  /** Frames whose destination sits behind the port they came from: dropped. */
  filtered: number;
  /** Frames shorter than a header or with a group or zero source address: dropped, as br_handle_frame does. */
  invalidSource: number;
}

export class Bridge {
  readonly ports = new Map<string, BridgePort>();
  /** The forwarding database: MAC ("00:16:3e:..") → port name. */
  readonly fdb = new Map<string, string>();
  readonly stats: BridgeStats = { frames: 0, forwarded: 0, flooded: 0, filtered: 0, invalidSource: 0 };
  /** Called for each frame with the ports it went to (for a lab's views). */
  onForward: ((from: string, to: readonly string[], frame: Uint8Array) => void) | undefined;
  private readonly dirty = new Set<BridgePort>();

  constructor(readonly name = 'xenbr0') {}

  /** brctl addif. */
  attach(port: BridgePort): void {
    this.ports.set(port.name, port);
  }

  /** brctl delif: the port and every address learnt on it go. */
  detach(name: string): void {
    const port = this.ports.get(name);
    if (port === undefined) return;
    this.ports.delete(name);
    this.dirty.delete(port);
    for (const [mac, owner] of [...this.fdb]) if (owner === name) this.fdb.delete(mac);
  }

  /** The port a MAC was learnt on. */
  lookup(mac: string): string | undefined {
    return this.fdb.get(mac);
  }

  /** A frame from port `from`: learn its source, then forward, flood or filter. Returns the ports it went to. */
  input(from: string, frame: Uint8Array, rxFlags = 0): string[] {
    this.stats.frames++;
    if (frame.length < ETH_HLEN || !isValidUnicastMac(frame, 6)) {
      this.stats.invalidSource++;
      this.onForward?.(from, [], frame);
      return [];
    }
    this.fdb.set(formatMac(frame, 6), from);
    let to: string[];
    const owner = isMulticastMac(frame, 0) ? undefined : this.fdb.get(formatMac(frame, 0));
    if (owner !== undefined && this.ports.has(owner)) {
      if (owner === from) {
        this.stats.filtered++;
        to = [];
      } else {
        this.stats.forwarded++;
        to = [owner];
      }
    } else {
      this.stats.flooded++;
      to = [];
      for (const name of this.ports.keys()) if (name !== from) to.push(name);
    }
    for (const name of to) {
      const p = this.ports.get(name)!;
      p.deliver(frame, rxFlags);
      this.dirty.add(p);
    }
    this.onForward?.(from, to, frame);
    return to;
  }

  /** Ends a batch: every port that got frames publishes them. */
  flush(): void {
    while (this.dirty.size > 0) {
      const ports = [...this.dirty];
      this.dirty.clear();
      for (const p of ports) p.flush();
    }
  }
}

// ---------------------------------------------------------------------------
// netback

/** Frames held for a frontend with no rx buffer posted (see the header). */
export const NETBACK_RX_QUEUE_MAX = 64;

export interface NetbackOptions {
  /** Frames held per vif while no rx buffer is posted; 0 drops at once. */
  rxQueueMax?: number;
  /** The machine's trace, for the rings' records. */
  trace?: Trace;
}

export interface VifStats {
  /** Packets from the guest: accepted, bytes, answered with an error. */
  txPackets: number;
  txBytes: number;
  txErrors: number;
  /** Frames put into the guest's rx buffers, and their bytes. */
  rxPackets: number;
  rxBytes: number;
  /** Frames for the guest dropped: no buffer and no room to wait, or still waiting at disconnect. */
  rxDropped: number;
  /** Rx copies that failed (a bad grant from the frontend). */
  rxErrors: number;
  /** Most frames waiting at once. */
  rxQueuePeak: number;
  /** EVTCHNOP_send to the frontend, and events taken from it. */
  notifies: number;
  events: number;
}

/** The toolstack's keys for a vif (libxl's): pass to Dom0Kernel.addDevice(guest, 'vif', devid, ...). */
export function vifDeviceKeys(devid: number, mac: string, bridge = 'xenbr0'): { frontend: Record<string, string>; backend: Record<string, string> } {
  return {
    frontend: { [FK.handle]: String(devid), [FK.mac]: mac },
    backend: { [BK.handle]: String(devid), [BK.mac]: mac, [BK.bridge]: bridge, type: 'vif' },
  };
}

/** The two bounce pages a netback driver copies through. */
interface Bounce {
  gfn: number;
  page: Uint8Array;
}

/** One vif: the backend instance of one device (struct backend_info + struct xenvif). */
export class NetbackVif implements BackendInstance, BridgePort {
  /** vif<domid>.<handle>. */
  name: string;
  handle: number;
  /** be->state: the state this backend is in or moving through. */
  state = XenbusStateInitialising;
  /** The guest's MAC from our `mac` key, read at connect. */
  mac: Uint8Array | undefined;
  /** What the frontend asked for. */
  readonly frontend = { rxCopy: false, rxNotify: false, sg: false, txRingRef: -1, rxRingRef: -1, eventChannel: -1 };
  connected = false;
  /** dom0's end of the channel and the map handles of the two rings (−1 when none). */
  port = 0;
  txHandle = -1;
  rxHandle = -1;
  txRing: BackRing | undefined;
  rxRing: BackRing | undefined;
  readonly stats: VifStats = { txPackets: 0, txBytes: 0, txErrors: 0, rxPackets: 0, rxBytes: 0, rxDropped: 0, rxErrors: 0, rxQueuePeak: 0, notifies: 0, events: 0 };
  /** Why the last tx packet was refused, and each refusal in order (for a lab's views). */
  readonly txRefusals: string[] = [];
  private readonly rxQueue: { frame: Uint8Array; flags: number }[] = [];
  private target = XenbusStateInitWait;
  /** A probe or connect is waiting on xenstore: state changes wait for it. */
  private busy = true;
  private rxProduced = false;
  private notifyPending = false;
  /** The device directory went: nothing may connect any more. */
  private removed = false;
  private readonly rxQueueMax: number;

  constructor(
    private readonly env: BackendEnv,
    private readonly bridge: Bridge,
    readonly dev: XenbusDevice,
    readonly frontendId: number,
    readonly devid: number,
    private readonly bounce: () => { tx: Bounce; rx: Bounce },
    private readonly opts: NetbackOptions,
  ) {
    this.handle = devid;
    this.name = `vif${frontendId}.${devid}`;
    this.rxQueueMax = opts.rxQueueMax ?? NETBACK_RX_QUEUE_MAX;
  }

  /** Frames waiting for an rx buffer. */
  get rxQueued(): number {
    return this.rxQueue.length;
  }

  /**
   * netback_probe: the features in one transaction, InitWait, then the
   * interface named after the toolstack's `handle` (backend_create_xenvif).
   */
  probe(): void {
    const features: [string, string][] = [
      [BK.featureSg, '1'],
      [BK.featureGsoTcpv4, '0'],
      [BK.featureGsoTcpv6, '0'],
      [BK.featureRxCopy, '1'],
      [BK.featureRxFlip, '0'],
      [BK.featureSplitEventChannels, '0'],
    ];
    let failure: string | undefined;
    this.dev.xs.transaction(
      (tx, done) => {
        const next = (i: number): void => {
          if (i === features.length) return done();
          const [k, v] = features[i]!;
          this.dev.write(k, v, (err) => {
            if (err !== undefined) {
              failure = `writing ${k}`;
              return done(true);
            }
            next(i + 1);
          }, tx);
        };
        next(0);
      },
      (err) => {
        if (failure !== undefined || err !== undefined) return this.fatal(EINVAL, failure ?? 'completing transaction');
        this.switchTo(XenbusStateInitWait);
        this.dev.readOwn(BK.handle, (e, v) => {
          if (e !== undefined || !/^\d+$/.test(v)) return this.fatal(e === undefined ? EINVAL : ENOENT, 'reading handle');
          this.handle = Number(v);
          this.name = `vif${this.frontendId}.${this.handle}`;
          this.busy = false;
          this.advance();
        });
      },
    );
  }

  /** frontend_changed. */
  otherendChanged(_dev: XenbusDevice, state: number): void {
    switch (state) {
      case XenbusStateInitialising:
        this.setState(XenbusStateInitWait);
        break;
      case XenbusStateInitialised:
        break;
      case XenbusStateConnected:
        this.setState(XenbusStateConnected);
        break;
      case XenbusStateClosing:
        this.setState(XenbusStateClosing);
        break;
      case XenbusStateClosed:
      case XenbusStateUnknown:
        this.setState(XenbusStateClosed);
        break;
      default:
        this.fatal(EINVAL, `saw state ${state} at frontend`);
        break;
    }
  }

  /** netback_remove: the device directory went; disconnect and forget. */
  remove(): void {
    this.removed = true;
    this.disconnect();
    this.busy = false;
    this.target = XenbusStateClosed;
    this.state = XenbusStateClosed;
    this.env.log(`${this.name}: removed`);
  }

  private setState(target: number): void {
    this.target = target;
    this.advance();
  }

  /** set_backend_state: the shortest walk from be->state to the target (connect is asynchronous here). */
  private advance(): void {
    while (!this.busy && !this.removed && this.state !== this.target) {
      const t = this.target;
      switch (this.state) {
        case XenbusStateInitialising:
          this.switchTo(t === XenbusStateClosed ? XenbusStateClosed : XenbusStateInitWait);
          break;
        case XenbusStateClosed:
          this.switchTo(t === XenbusStateClosing ? XenbusStateClosing : XenbusStateInitWait);
          break;
        case XenbusStateInitWait:
          if (t === XenbusStateConnected) {
            this.busy = true;
            this.connect((ok) => {
              this.busy = false;
              if (ok) this.switchTo(XenbusStateConnected);
              this.advance();
            });
            return;
          }
          this.switchTo(XenbusStateClosing);
          break;
        case XenbusStateConnected:
          this.disconnect();
          this.switchTo(XenbusStateClosing);
          break;
        case XenbusStateClosing:
          this.switchTo(XenbusStateClosed);
          break;
        default:
          return;
      }
    }
  }

  /** backend_switch_state. */
  private switchTo(state: number): void {
    this.state = state;
    this.dev.switchState(state);
  }

  /**
   * xenbus_dev_fatal: "<errno> <message>" under dom0's error/<device path>/error,
   * a log line, and Closing (then Closed once the frontend closes too).
   */
  private fatal(errno: number, message: string): void {
    this.env.log(`vif vif-${this.frontendId}-${this.devid}: ${errno} ${message}`);
    this.dev.fatal(message, errno);
    this.busy = false;
    this.state = XenbusStateClosing;
    this.target = XenbusStateClosing;
  }

  // ---------------------------------------------------------------------------
  // connect / disconnect

  /** connect(): our mac, the frontend's flags, ring refs and port; map both rings; bind the port; join the bridge. */
  private connect(done: (ok: boolean) => void): void {
    const fail = (errno: number, message: string): void => {
      this.fatal(errno, message);
      done(false);
    };
    const other = this.dev.otherend;
    this.dev.readOwn(BK.mac, (err, v) => {
      const mac = err === undefined ? parseMac(v) : undefined;
      if (mac === undefined) return fail(ENOENT, `parsing ${this.dev.nodename}/mac`);
      this.mac = mac;
      // read_xenbus_vif_flags: a missing request-rx-copy means 0.
      this.dev.readOtherend(FK.requestRxCopy, (e1, rxCopy) => {
        if (e1 !== undefined && e1 !== 'ENOENT') return fail(EINVAL, `reading ${other}/request-rx-copy`);
        this.frontend.rxCopy = e1 === undefined && unsigned(rxCopy) > 0;
        if (!this.frontend.rxCopy) return fail(EOPNOTSUPP, `${other}/request-rx-copy not supported by frontend`);
        this.dev.readOtherend(FK.featureRxNotify, (e2, rxNotify) => {
          this.frontend.rxNotify = e2 === undefined && unsigned(rxNotify) > 0;
          this.dev.readOtherend(FK.featureSg, (e3, sg) => {
            this.frontend.sg = e3 === undefined && unsigned(sg) > 0;
            // connect_data_rings: both ring refs, then the one event channel.
            this.dev.gatherOtherend([FK.txRingRef, FK.rxRingRef], (e4, refs) => {
              const tx = unsigned(refs[FK.txRingRef] ?? '');
              const rx = unsigned(refs[FK.rxRingRef] ?? '');
              if (e4 !== undefined || tx < 0 || rx < 0) return fail(ENOENT, `reading ${other}/ring-ref`);
              this.dev.readOtherend(FK.eventChannel, (e5, port) => {
                const evtchn = unsigned(port);
                if (e5 !== undefined || evtchn < 0) return fail(ENOENT, `reading ${other}/event-channel`);
                if (this.removed) return done(false);
                Object.assign(this.frontend, { txRingRef: tx, rxRingRef: rx, eventChannel: evtchn });
                const err6 = this.connectData(tx, rx, evtchn);
                if (err6 !== undefined) return fail(EINVAL, err6);
                done(true);
              });
            });
          });
        });
      });
    });
  }

  /** xenvif_connect_data: map both rings (xenbus_map_ring_valloc), bind the port, attach the rings and join the bridge. */
  private connectData(txRef: number, rxRef: number, evtchn: number): string | undefined {
    const env = this.env;
    const fe = this.frontendId;
    const what = `mapping shared-frames ${txRef}/${rxRef} port ${evtchn}`;
    const map = (ref: number): number => {
      const r = env.call('gnttab_map_grant_ref', { host_addr: 0, flags: GNTMAP_host_map, ref, dom: fe });
      return r.out?.status === 'GNTST_okay' ? (r.out.handle as number) : -1;
    };
    const unmap = (handle: number): void => {
      if (handle >= 0) env.call('gnttab_unmap_grant_ref', { host_addr: 0, dev_bus_addr: 0, handle });
    };
    this.txHandle = map(txRef);
    this.rxHandle = this.txHandle < 0 ? -1 : map(rxRef);
    const txPage = this.txHandle < 0 ? undefined : env.mapped(this.txHandle);
    const rxPage = this.rxHandle < 0 ? undefined : env.mapped(this.rxHandle);
    if (txPage === undefined || rxPage === undefined) {
      unmap(this.txHandle);
      unmap(this.rxHandle);
      this.txHandle = this.rxHandle = -1;
      return what;
    }
    const r = env.call('bind_interdomain', { remote_dom: fe, remote_port: evtchn });
    if (r.ret < 0) {
      unmap(this.txHandle);
      unmap(this.rxHandle);
      this.txHandle = this.rxHandle = -1;
      return `${what}: bind_interdomain failed (${r.ret})`;
    }
    this.port = r.out!.local_port as number;
    const tr = this.opts.trace === undefined ? undefined : { trace: this.opts.trace, domid: env.domid };
    this.txRing = BackRing.attach(txPage, NETIF_TX_SLOT_SIZE, tr && { ...tr, name: `${this.name}-tx` });
    this.rxRing = BackRing.attach(rxPage, NETIF_RX_SLOT_SIZE, tr && { ...tr, name: `${this.name}-rx` });
    this.connected = true;
    env.onPort(this.port, () => this.onEvent());
    this.bridge.attach(this);
    env.log(`${this.name}: connected to domain ${fe} (tx-ring-ref ${txRef}, rx-ring-ref ${rxRef}, event-channel ${evtchn} → dom0 port ${this.port}), on ${this.bridge.name}`);
    return undefined;
  }

  /** backend_disconnect: off the bridge, port closed, rings unmapped; waiting frames are dropped. */
  disconnect(): void {
    if (!this.connected) return;
    const env = this.env;
    this.connected = false;
    this.bridge.detach(this.name);
    env.onPort(this.port, undefined);
    env.call('close', { dom: DOMID_SELF, port: this.port });
    for (const handle of [this.txHandle, this.rxHandle]) {
      if (handle >= 0) env.call('gnttab_unmap_grant_ref', { host_addr: 0, dev_bus_addr: 0, handle });
    }
    this.stats.rxDropped += this.rxQueue.length;
    this.rxQueue.length = 0;
    this.port = 0;
    this.txHandle = this.rxHandle = -1;
    this.txRing = this.rxRing = undefined;
    this.rxProduced = this.notifyPending = false;
    env.log(`${this.name}: disconnected`);
  }

  // ---------------------------------------------------------------------------
  // The interrupt: guest transmit, then what waits for its rx buffers, then one notify per vif

  private onEvent(): void {
    this.stats.events++;
    if (!this.connected) return;
    this.txAction();
    this.drainRx();
    this.bridge.flush();
    this.flush();
  }

  /** xenvif_tx_action: every packet on the ring, answered; the final check re-arms req_event. */
  private txAction(): void {
    const ring = this.txRing!;
    do {
      while (this.connected && ring.unconsumedRequests() > 0) this.txPacket(ring);
    } while (this.connected && ring.finalCheckForRequests() > 0);
    if (this.connected && ring.pushResponsesAndCheckNotify()) this.notifyPending = true;
  }

  /** One packet: its first request, any extra-info slots, the fragments it continues into. */
  private txPacket(ring: BackRing): void {
    const first = readTxRequest(ring.consumeRequest()!);
    const frags: NetifTxRequest[] = [first];
    let extras = 0;
    let err: string | undefined;
    if ((first.flags & NETTXF_extra_info) !== 0) {
      for (;;) {
        const slot = ring.consumeRequest();
        if (slot === undefined) {
          err ??= 'missing extra info';
          break;
        }
        extras++;
        const e = readExtraInfo(slot);
        if (e.type === XEN_NETIF_EXTRA_TYPE_NONE || e.type >= XEN_NETIF_EXTRA_TYPE_MAX) err ??= `invalid extra type ${e.type}`;
        if ((e.flags & XEN_NETIF_EXTRA_FLAG_MORE) === 0) break;
      }
    }
    let last = first;
    while ((last.flags & NETTXF_more_data) !== 0) {
      const slot = ring.consumeRequest();
      if (slot === undefined) {
        err ??= 'the packet continues past the last request';
        break;
      }
      last = readTxRequest(slot);
      frags.push(last);
    }
    if (frags.length > XEN_NETIF_NR_SLOTS_MIN) err ??= `too many slots (${frags.length})`;

    // xenvif_count_requests: the first size is the packet's; each later slot takes its share of it.
    const total = first.size;
    if (total < ETH_HLEN) err ??= `too small (${total} bytes)`;
    if (total > NETIF_MAX_FRAME) err ??= `too big (${total} bytes)`;
    const lens = frags.map((f) => f.size);
    let rest = total;
    for (let i = 1; i < frags.length; i++) {
      if (lens[i]! > rest) err ??= `fragment of ${lens[i]} bytes is bigger than the ${rest} left`;
      rest = Math.max(0, rest - lens[i]!);
    }
    lens[0] = rest;
    for (let i = 0; i < frags.length; i++) {
      if (frags[i]!.offset + lens[i]! > PAGE_SIZE) err ??= `crossing a page boundary (offset ${frags[i]!.offset}, size ${lens[i]})`;
    }

    // The copy into dom0's buffer, one GNTTABOP_copy per slot.
    if (err === undefined) {
      const { tx } = this.bounce();
      let at = 0;
      for (let i = 0; i < frags.length && err === undefined; i++) {
        const f = frags[i]!;
        const r = this.env.call('gnttab_copy', {
          source: { ref: f.gref, domid: this.frontendId, offset: f.offset },
          dest: { gmfn: tx.gfn, domid: DOMID_SELF, offset: at },
          len: lens[i]!,
          flags: GNTCOPY_source_gref,
        });
        if (r.out?.status !== 'GNTST_okay') err = `copying grant ${f.gref}: ${String(r.out?.status ?? r.ret)}`;
        at += lens[i]!;
      }
    }

    // make_tx_response: the first slot, NETIF_RSP_NULL for each extra, then each fragment, in ring order.
    const status = err === undefined ? NETIF_RSP_OKAY : NETIF_RSP_ERROR;
    ring.produceResponse((s) => writeTxResponse(s, { id: first.id, status }));
    for (let i = 0; i < extras; i++) ring.produceResponse((s) => writeTxResponse(s, { id: 0, status: NETIF_RSP_NULL }));
    for (let i = 1; i < frags.length; i++) ring.produceResponse((s) => writeTxResponse(s, { id: frags[i]!.id, status }));

    if (err !== undefined) {
      this.stats.txErrors++;
      this.txRefusals.push(err);
      this.env.log(`${this.name}: tx request ${first.id} refused: ${err}`);
      return;
    }
    this.stats.txPackets++;
    this.stats.txBytes += total;
    const frame = this.bounce().tx.page.slice(0, total);
    this.bridge.input(this.name, frame, rxFlagsFor(first.flags));
  }

  /** Bridge side: a frame for this guest. */
  deliver(frame: Uint8Array, rxFlags: number): void {
    if (!this.connected) {
      this.stats.rxDropped++;
      return;
    }
    this.drainRx();
    if (this.rxQueue.length === 0 && this.putRx(frame, rxFlags)) return;
    if (this.frontend.rxNotify && this.rxQueue.length < this.rxQueueMax) {
      this.rxQueue.push({ frame: frame.slice(), flags: rxFlags });
      this.stats.rxQueuePeak = Math.max(this.stats.rxQueuePeak, this.rxQueue.length);
      return;
    }
    this.stats.rxDropped++;
  }

  /** Waiting frames into whatever buffers the frontend has posted since. */
  private drainRx(): void {
    while (this.rxQueue.length > 0) {
      const head = this.rxQueue[0]!;
      if (!this.putRx(head.frame, head.flags)) return;
      this.rxQueue.shift();
    }
  }

  /** One frame into the next posted buffer: copy, then a response in the request's slot with status = length. */
  private putRx(frame: Uint8Array, rxFlags: number): boolean {
    const ring = this.rxRing;
    if (ring === undefined) return false;
    const slot = ring.consumeRequest();
    if (slot === undefined) return false;
    const req = readRxRequest(slot);
    const { rx } = this.bounce();
    rx.page.set(frame, 0);
    const r = this.env.call('gnttab_copy', {
      source: { gmfn: rx.gfn, domid: DOMID_SELF, offset: 0 },
      dest: { ref: req.gref, domid: this.frontendId, offset: 0 },
      len: frame.length,
      flags: GNTCOPY_dest_gref,
    });
    const ok = r.out?.status === 'GNTST_okay';
    ring.produceResponse((s) => writeRxResponse(s, { id: req.id, offset: 0, flags: ok ? rxFlags : 0, status: ok ? frame.length : NETIF_RSP_ERROR }));
    if (ok) {
      this.stats.rxPackets++;
      this.stats.rxBytes += frame.length;
    } else this.stats.rxErrors++;
    this.rxProduced = true;
    return true;
  }

  /**
   * Publishes the rx responses, and while frames still wait, asks to be told
   * of the next posted buffer (req_event, the final check); one send if
   * either ring's push said so.
   */
  flush(): void {
    const ring = this.rxRing;
    if (!this.connected || ring === undefined) return;
    let notify = this.notifyPending;
    this.notifyPending = false;
    for (;;) {
      if (this.rxProduced) {
        this.rxProduced = false;
        if (ring.pushResponsesAndCheckNotify()) notify = true;
      }
      if (this.rxQueue.length === 0 || ring.finalCheckForRequests() === 0) break;
      this.drainRx();
    }
    if (notify) {
      this.env.send(this.port);
      this.stats.notifies++;
    }
  }
}

/** A tx packet's checksum flags as the receiving side's flags (netback: csum_blank → partial, data_validated → unnecessary). */
function rxFlagsFor(txFlags: number): number {
  if ((txFlags & NETTXF_csum_blank) !== 0) return NETRXF_csum_blank | NETRXF_data_validated;
  if ((txFlags & NETTXF_data_validated) !== 0) return NETRXF_data_validated;
  return 0;
}

/** A decimal xenstore value, or −1. */
function unsigned(v: string): number {
  return /^\d+$/.test(v) ? Number(v) : -1;
}

export type NetbackProbe = BackendProbe & { readonly vifs: ReadonlyMap<string, NetbackVif> };

/**
 * The probe to register for 'vif' (Dom0Kernel.registerBackend('vif', ...)).
 * `vifs` holds every instance made, by its backend directory.
 */
export function netbackProbe(env: BackendEnv, bridge: Bridge, opts: NetbackOptions = {}): NetbackProbe {
  const vifs = new Map<string, NetbackVif>();
  let bounce: { tx: Bounce; rx: Bounce } | undefined;
  const pages = (): { tx: Bounce; rx: Bounce } => (bounce ??= { tx: env.allocPage(), rx: env.allocPage() });
  const probe = (dev: XenbusDevice, frontendId: number, devid: number): NetbackVif => {
    const vif = new NetbackVif(env, bridge, dev, frontendId, devid, pages, opts);
    vifs.set(dev.nodename, vif);
    vif.probe();
    return vif;
  };
  return Object.assign(probe, { vifs });
}
