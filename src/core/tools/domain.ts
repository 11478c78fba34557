/**
 * xend's generic controller for one domain, as domain.DomainController at
 * 2.0.0 (tools/python/xen/xend/server/domain.py) with the responder table of
 * controller.CtrlMsgRcvr: it sends CMSG_SHUTDOWN and CMSG_MEM_REQUEST
 * requests, each stamped with a fresh id from xend's message counter
 * (messages.nextid), and matches the guest's responses by that id.
 */
import {
  CMSG_MEM_REQUEST,
  CMSG_MEM_REQUEST_SET,
  CMSG_SHUTDOWN,
  CMSG_SHUTDOWN_POWEROFF,
  CMSG_SHUTDOWN_REBOOT,
  CMSG_SHUTDOWN_SUSPEND,
  MEM_REQUEST,
  cmsgName,
  ctrlMsg,
  type CtrlMsg,
} from '../abi/ctrl_if.js';
import type { Channel, ChannelDevice } from './channel.js';
import type { XendLogger } from './log.js';

/** xm shutdown's reasons; 'halt' goes out as poweroff (XendDomain.domain_shutdown). */
export type ShutdownReason = 'poweroff' | 'reboot' | 'suspend' | 'halt';

const SHUTDOWN_SUBTYPE: Readonly<Record<ShutdownReason, number>> = {
  poweroff: CMSG_SHUTDOWN_POWEROFF,
  reboot: CMSG_SHUTDOWN_REBOOT,
  suspend: CMSG_SHUTDOWN_SUSPEND,
  halt: CMSG_SHUTDOWN_POWEROFF,
};

/** What a request waits for: called with the guest's response. */
export type ResponseHandler = (msg: CtrlMsg) => void;

export class DomainController implements ChannelDevice {
  /** responders: message id → who waits for the response with that id. */
  private readonly responders = new Map<number, ResponseHandler | undefined>();

  constructor(
    readonly channel: Channel,
    readonly dom: number,
    private readonly nextid: () => number,
    private readonly log: XendLogger,
  ) {
    channel.registerDevice([CMSG_SHUTDOWN, CMSG_MEM_REQUEST], this);
  }

  /**
   * shutdown: CMSG_SHUTDOWN with the reason's subtype, an empty payload and a
   * fresh id. Returns the id; `onResponse` runs when the guest answers it.
   */
  shutdown(reason: ShutdownReason, onResponse?: ResponseHandler): number {
    return this.writeRequest(ctrlMsg(CMSG_SHUTDOWN, SHUTDOWN_SUBTYPE[reason], this.nextid()), onResponse);
  }

  /** mem_target_set: CMSG_MEM_REQUEST_SET with target = MB × 256 (4 KiB pages). */
  memTargetSet(megabytes: number, onResponse?: ResponseHandler): number {
    const payload = MEM_REQUEST.encode({ target: megabytes * (1 << 8) });
    return this.writeRequest(ctrlMsg(CMSG_MEM_REQUEST, CMSG_MEM_REQUEST_SET, this.nextid(), payload), onResponse);
  }

  /** Ids still waiting for their response. */
  awaiting(): number[] {
    return [...this.responders.keys()];
  }

  /** A guest request of our types: nothing to do here, so the channel echoes it. */
  requestReceived(): boolean {
    return false;
  }

  /** callResponders: the responder for the response's id, called once and removed. */
  responseReceived(msg: CtrlMsg): void {
    if (!this.responders.has(msg.id)) {
      this.log('unmatched-response', `response ${cmsgName(msg.type, msg.subtype)} id ${msg.id} matches no request waiting`);
      return;
    }
    const handler = this.responders.get(msg.id);
    this.responders.delete(msg.id);
    handler?.(msg);
  }

  produceRequests(): number {
    return 0;
  }

  lostChannel(): void {
    this.responders.clear();
  }

  private writeRequest(msg: CtrlMsg, onResponse: ResponseHandler | undefined): number {
    // Registered before the write: the answer can come back before writeRequest returns.
    this.responders.set(msg.id, onResponse);
    this.log('domain', `${cmsgName(msg.type, msg.subtype)} id ${msg.id} to domain ${this.dom}`);
    this.channel.writeRequest(msg);
    return msg.id;
  }
}
