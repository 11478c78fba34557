/**
 * xenstored with dom0's tools on a socket and guests on ring pages, wired by
 * hand: each side's notify() only raises a flag (the port's pending bit) and
 * the test decides when the other side takes it, so any interleaving can be
 * driven; settle() delivers until both sides are quiet.
 */
import { EINVAL } from '../../src/core/abi/errno.js';
import { nulStrings, XS_ERROR, XS_INTRODUCE, type XsdSockmsg } from '../../src/core/abi/xs_wire.js';
import { Xenbus, type XenbusReply } from '../../src/core/guest/xenbus.js';
import { Xenstored, type XenstoredEnv, type XsMsg, type XsSocket } from '../../src/core/tools/xenstored.js';

export interface RigGuest {
  readonly domid: number;
  readonly page: Uint8Array;
  readonly bus: Xenbus;
  /** The store port's pending bit on each side. */
  readonly pending: { toXsd: boolean; toGuest: boolean };
  readonly sends: { guest: number; xsd: number };
}

export interface Reply {
  type: number;
  reqId: number;
  txId: number;
  /** The payload as text, one char per byte, NULs kept. */
  text: string;
  payload: Uint8Array;
}

export class XsRig {
  readonly xsd: Xenstored;
  readonly sock: XsSocket;
  readonly log: string[] = [];
  readonly fromSocket: XsMsg[] = [];
  readonly guests = new Map<number, RigGuest>();
  private reqId = 1;

  constructor(env: Partial<XenstoredEnv> = {}) {
    this.xsd = new Xenstored({
      env: {
        mapRing: (domid) => this.guests.get(domid)?.page ?? EINVAL,
        bindPort: (domid, port) => ({
          port: 1000 + domid,
          notify: () => {
            const g = this.guests.get(domid);
            if (!g) return;
            g.sends.xsd++;
            g.pending.toGuest = true;
          },
        }),
        log: (l) => this.log.push(l),
        ...env,
      },
    });
    this.sock = this.xsd.openSocket((m) => this.fromSocket.push(m));
  }

  /** dom0's tools: one request over the socket, its reply back (watch events stay in fromSocket). */
  call(type: number, payload: Uint8Array | string[], txId = 0): Reply {
    const reqId = this.reqId++;
    const bytes = payload instanceof Uint8Array ? payload : nulStrings(...payload);
    this.sock.send(type, bytes, reqId, txId);
    this.settle();
    const i = this.fromSocket.findIndex((m) => m.reqId === reqId && m.type !== 15);
    if (i < 0) throw new Error(`no reply to request ${reqId}`);
    const m = this.fromSocket.splice(i, 1)[0]!;
    return toReply(m);
  }

  /** Socket watch events, taken. */
  socketEvents(): string[][] {
    const ev = this.fromSocket.filter((m) => m.type === 15);
    this.fromSocket.length = 0;
    return ev.map((m) => splitText(m.payload));
  }

  /** A guest page and bus, not yet introduced. */
  addGuest(domid: number): RigGuest {
    const page = new Uint8Array(4096);
    const pending = { toXsd: false, toGuest: false };
    const sends = { guest: 0, xsd: 0 };
    const bus = new Xenbus(page, () => {
      sends.guest++;
      pending.toXsd = true;
    });
    const g: RigGuest = { domid, page, bus, pending, sends };
    this.guests.set(domid, g);
    return g;
  }

  /**
   * A guest, introduced by dom0 with XS_INTRODUCE, with its home laid out as
   * libxl__domain_make does: /local/domain/<id> owned by dom0 and readable by
   * the guest, /local/domain/<id>/data owned by the guest.
   */
  guest(domid: number, opts: { home?: boolean } = {}): RigGuest {
    const g = this.addGuest(domid);
    const r = this.call(XS_INTRODUCE, [String(domid), '0', String(10 + domid)]);
    if (r.type === XS_ERROR) throw new Error(`introduce failed: ${r.text}`);
    if (opts.home !== false) {
      this.call(12, [`/local/domain/${domid}`]);
      this.call(14, [`/local/domain/${domid}`, `n0`, `r${domid}`]);
      this.call(12, [`/local/domain/${domid}/data`]);
      this.call(14, [`/local/domain/${domid}/data`, `n${domid}`]);
    }
    this.settle();
    return g;
  }

  /** Deliver pending notifications until neither side of any ring has one. */
  settle(limit = 100_000): void {
    for (let i = 0; i < limit; i++) {
      let any = false;
      for (const g of this.guests.values()) {
        if (g.pending.toXsd) {
          g.pending.toXsd = false;
          this.xsd.onNotify(g.domid);
          any = true;
        }
        if (g.pending.toGuest) {
          g.pending.toGuest = false;
          g.bus.onNotify();
          any = true;
        }
      }
      if (!any) return;
    }
    throw new Error('did not settle');
  }

  /** A guest request with its raw reply, settled. */
  raw(g: RigGuest, type: number, payload: Uint8Array | string[], txId = 0): Reply {
    let out: XenbusReply | undefined;
    g.bus.request(type, payload instanceof Uint8Array ? payload : nulStrings(...payload), (r) => (out = r), txId);
    this.settle();
    if (!out) throw new Error('no reply');
    return toReply(out);
  }

  /** A guest helper call, settled: returns what its callback got. */
  run<T>(fn: (cb: (err: string | undefined, v: T) => void) => void): { err: string | undefined; value: T } {
    let res: { err: string | undefined; value: T } | undefined;
    fn((err, value) => (res = { err, value }));
    this.settle();
    if (!res) throw new Error('callback never ran');
    return res;
  }
}

export function toReply(m: XsMsg | XenbusReply | (XsdSockmsg & { payload: Uint8Array })): Reply {
  return { type: m.type, reqId: m.reqId, txId: m.txId, payload: m.payload, text: String.fromCharCode(...m.payload) };
}

export function splitText(p: Uint8Array): string[] {
  const s = String.fromCharCode(...p);
  const parts = s.split('\0');
  parts.pop();
  return parts;
}

/** "ENOENT" for an XS_ERROR reply, "OK" for an ack, the text without its last NUL otherwise. */
export function answer(r: Reply): string {
  return r.text.endsWith('\0') ? r.text.slice(0, -1) : r.text;
}
