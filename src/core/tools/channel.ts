/**
 * xend's control channel to one domain, as channel.Channel at 2.0.0
 * (tools/python/xen/xend/server/channel.py): messages for the device
 * controllers (console, shutdown, block, net) are multiplexed over one
 * xu.port; each notification is handled as one batch — all requests, then all
 * responses, then all writes — and answered with one notify if any work was done.
 */
import { CONTROL_RING_SIZE, cmsgName, type CtrlMsg } from '../abi/ctrl_if.js';
import type { XendLogger } from './log.js';
import type { XuPort } from './xu.js';

/** A device controller (controller.CtrlMsgRcvr): what the channel calls for its message types. */
export interface ChannelDevice {
  /** A guest request of one of our types; true if the device already wrote the response itself. */
  requestReceived(msg: CtrlMsg, type: number, subtype: number): boolean;
  /** A guest response to a request of one of our types. */
  responseReceived(msg: CtrlMsg, type: number, subtype: number): void;
  /** Put pending requests on the channel (channel.writeRequest with notify off); returns how many. */
  produceRequests(): number;
  /** The channel is closing. */
  lostChannel(): void;
}

export class Channel {
  closed = false;
  /** Requests waiting for room on rx_ring, oldest first. */
  readonly queue: CtrlMsg[] = [];
  private readonly devs: ChannelDevice[] = [];
  private readonly devsByType = new Map<number, ChannelDevice>();
  private busy = false;
  private notifiedWhileBusy = false;

  constructor(
    readonly dom: number,
    readonly port: XuPort,
    private readonly log: XendLogger,
  ) {}

  registerDevice(types: readonly number[], dev: ChannelDevice): void {
    if (this.closed) return;
    this.devs.push(dev);
    for (const t of types) this.devsByType.set(t, dev);
  }

  deregisterDevice(dev: ChannelDevice): void {
    const i = this.devs.indexOf(dev);
    if (i >= 0) this.devs.splice(i, 1);
    for (const [t, d] of [...this.devsByType]) if (d === dev) this.devsByType.delete(t);
  }

  getDevice(type: number): ChannelDevice | undefined {
    return this.devsByType.get(type);
  }

  /**
   * notificationReceived → handleNotification. A notification that arrives
   * while one is being handled (a synchronous loop back through the guest) is
   * handled when this one finishes, as the reactor would read it from the
   * event-channel device afterwards.
   */
  handleNotification(): number {
    if (this.closed) return 0;
    if (this.busy) {
      this.notifiedWhileBusy = true;
      return 0;
    }
    let total = 0;
    this.busy = true;
    try {
      do {
        this.notifiedWhileBusy = false;
        const work = this.handleRequests() + this.handleResponses() + this.handleWrites();
        if (work > 0) this.notify();
        total += work;
      } while (this.notifiedWhileBusy && !this.closed);
    } finally {
      this.busy = false;
    }
    return total;
  }

  notify(): void {
    if (!this.closed) this.port.notify();
  }

  /**
   * writeRequest: straight onto the ring (and notify, unless told not to) if
   * nothing is queued and there is room; otherwise queued. 1 written, 0
   * queued, -1 closed.
   */
  writeRequest(msg: CtrlMsg, notify = true): number {
    if (this.closed) return -1;
    if (!this.writeReady()) {
      this.queue.push(msg);
      return 0;
    }
    this.port.writeRequest(msg);
    if (notify) this.notify();
    return 1;
  }

  writeResponse(msg: CtrlMsg): number {
    if (this.closed) return -1;
    this.port.writeResponse(msg);
    return 1;
  }

  /** Room on the ring and no queue to keep in order behind. */
  writeReady(): boolean {
    if (this.closed || this.queue.length > 0) return false;
    return this.port.spaceToWriteRequest();
  }

  /** close: tell the devices, drop them, stop handling. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const d of [...this.devs]) d.lostChannel();
    this.devs.length = 0;
    this.devsByType.clear();
  }

  /**
   * handleRequests: each request to its device, echoed back as the response
   * unless the device answered. A well-behaved guest has at most 8 requests
   * unread; if its tx_req_prod jumped further, xend would walk every index in
   * between (answering stale slots) — here that walk is logged and bounded to
   * 8 per notification.
   */
  private handleRequests(): number {
    const published = this.port.requestsPublished();
    let budget = Infinity;
    if (published > CONTROL_RING_SIZE) {
      this.log('index-jump', `tx_req_prod ${this.port.shared.txReqProd} is ${published} ahead of tx_req_cons ${this.port.txReqCons}; reading ${CONTROL_RING_SIZE} this time`);
      budget = CONTROL_RING_SIZE;
    }
    let work = 0;
    for (; work < budget; work++) {
      const msg = this.port.readRequest();
      if (!msg) break;
      this.requestReceived(msg);
    }
    return work;
  }

  private requestReceived(msg: CtrlMsg): void {
    const dev = this.getDevice(msg.type);
    let responded = false;
    if (dev) responded = dev.requestReceived(msg, msg.type, msg.subtype);
    else this.log('no-device', `requestReceived> No device: Message type ${cmsgName(msg.type, msg.subtype)} ${msg.type}:${msg.subtype}; echoed`);
    if (!responded) this.port.writeResponse(msg);
  }

  /** handleResponses: each guest response to the device of its type. */
  private handleResponses(): number {
    const { published, outstanding } = this.port.responsesPublished();
    if (published > outstanding) {
      this.log('index-jump', `rx_resp_prod ${this.port.shared.rxRespProd} claims ${published} responses with ${outstanding} requests outstanding; reading ${outstanding}`);
    }
    let work = 0;
    for (let msg = this.port.readResponse(); msg; msg = this.port.readResponse()) {
      const dev = this.getDevice(msg.type);
      if (dev) dev.responseReceived(msg, msg.type, msg.subtype);
      else this.log('no-device', `responseReceived> No device: Message type ${cmsgName(msg.type, msg.subtype)} ${msg.type}:${msg.subtype}`);
      work++;
    }
    return work;
  }

  /** handleWrites: let each device produce requests, then flush the queue while there is room. */
  private handleWrites(): number {
    let work = 0;
    for (const dev of [...this.devs]) work += dev.produceRequests();
    while (this.queue.length > 0 && this.port.spaceToWriteRequest()) {
      this.port.writeRequest(this.queue.shift()!);
      work++;
    }
    return work;
  }
}
