/**
 * A dom0 process's xenstore client over xenstored's socket (libxenstore's
 * xs_open), with the same calls as a guest's xenbus (guest/xs_client.ts).
 * Backend drivers in dom0 use it.
 *
 * Like a real socket, what xenstored sends back is read later, never inside
 * the request that caused it: replies and watch events are queued and handed
 * out by one drain scheduled at the same virtual time, so a handler that
 * makes more requests never re-enters xenstored.
 */
import { XS_WATCH_EVENT } from '../abi/xs_wire.js';
import { XBT_NIL, XsClient, type XenbusReply } from '../guest/xs_client.js';
import type { Xenstored, XsMsg, XsSocket } from './xenstored.js';

export class XsSocketClient extends XsClient {
  private readonly sock: XsSocket;
  private readonly inFlight = new Map<number, (reply: XenbusReply) => void>();
  private readonly inbox: XsMsg[] = [];
  private nextReqId = 1;
  private draining = false;
  private scheduled = false;
  /** Watch events whose token matches no watch. */
  unexpectedEvents = 0;

  constructor(
    xenstored: Xenstored,
    /** Runs `fn` later at the same virtual time (Hypervisor.schedule(0, fn)). */
    private readonly defer: (fn: () => void) => void,
  ) {
    super();
    this.sock = xenstored.openSocket((m) => this.receive(m));
  }

  override request(type: number, payload: Uint8Array, cb: (reply: XenbusReply) => void, txId = XBT_NIL): void {
    const reqId = this.nextReqId++;
    this.inFlight.set(reqId, cb);
    this.sock.send(type, payload, reqId, txId);
  }

  /** Requests sent and not answered yet. */
  pending(): number {
    return this.inFlight.size;
  }

  close(): void {
    this.sock.close();
    this.inFlight.clear();
  }

  private receive(m: XsMsg): void {
    this.inbox.push(m);
    if (this.draining || this.scheduled) return;
    this.scheduled = true;
    this.defer(() => this.drain());
  }

  private drain(): void {
    this.scheduled = false;
    this.draining = true;
    try {
      for (let m = this.inbox.shift(); m !== undefined; m = this.inbox.shift()) {
        if (m.type === XS_WATCH_EVENT) {
          if (!this.deliverWatchEvent(m.payload)) this.unexpectedEvents++;
          continue;
        }
        const cb = this.inFlight.get(m.reqId);
        if (cb === undefined) continue;
        this.inFlight.delete(m.reqId);
        cb({ type: m.type, reqId: m.reqId, txId: m.txId, payload: m.payload });
      }
    } finally {
      this.draining = false;
    }
  }
}
