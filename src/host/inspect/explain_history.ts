/**
 * What the trace says happened to one port since it was last bound: the
 * send or raise that last aimed at it, Xen setting its pending bit, the
 * guest's handler for it, and what blocks it (a mask, the upcall mask, a
 * pause). Found in one pass from the newest record back, on the columns:
 * records about the port itself are taken until its bind is reached.
 */
import { ECS_INTERDOMAIN, ECS_IPI, ECS_PIRQ, ECS_VIRQ, EVTCHNOP } from '../../core/abi/evtchn.js';
import type { Domain } from '../../core/hv/domain.js';
import { XEN2_OP_CODE_BASE } from '../../core/hv/hypercall_xen2.js';
import { BIT, BY_GUEST, BY_XEN, DOMAIN_EVENTS, TK, type TraceBatch } from '../../core/sim/trace.js';
import type { TraceLookback } from './trace_lookback.js';

export interface PortHistory {
  /** The port's last state change (its bind), or -1 when the trace does not reach back to it. */
  bind: number;
  /** The last record that aimed an event at the port after the bind: a send, a VIRQ/PIRQ raise, the bind itself. */
  cause: number;
  /** Xen setting the port's pending bit (P under FIFO), after the bind. */
  pendingSet: number;
  /** The guest's handler for the port, after the bind. */
  handler: number;
  /** The domain's own send on the port after the bind (dropped while it is unbound). */
  ownSend: number;
  /** The guest setting the port's mask bit (M under FIFO); searched only when `needs.mask`. */
  maskSet: number;
  /** The guest setting evtchn_upcall_mask on the port's vCPU; searched only when `needs.upcallMask`. */
  upcallMaskSet: number;
  /** The toolstack pausing the domain; searched only when `needs.pause`. */
  pause: number;
}

/** Which blockers to look for (each costs a search to the trace's start when it is not there). */
export interface HistoryNeeds {
  mask: boolean;
  upcallMask: boolean;
  pause: boolean;
}

const SEND = EVTCHNOP.send;
const SEND_XEN2 = XEN2_OP_CODE_BASE + EVTCHNOP.send;
const PAUSE = DOMAIN_EVENTS.indexOf('pause');

export function portHistory(trace: TraceLookback, d: Domain, port: number, vcpu: number, needs: HistoryNeeds): PortHistory {
  const dom = d.domid;
  const fifo = d.ops.name === 'fifo';
  const pendingField = fifo ? BIT.fifo_pending : BIT.evtchn_pending;
  const maskField = fifo ? BIT.fifo_masked : BIT.evtchn_mask;
  const state = d.ports.state[port]!;
  // Who aims events at the port in its state now: the peer's send (or our own bind), our own send, or a raise.
  const peerDom = state === ECS_INTERDOMAIN ? d.ports.remoteDom[port]! : state === ECS_IPI ? dom : -1;
  const peerPort = state === ECS_INTERDOMAIN ? d.ports.remotePort[port]! : state === ECS_IPI ? port : -1;
  const raised = state === ECS_VIRQ || state === ECS_PIRQ;
  const h: PortHistory = { bind: -1, cause: -1, pendingSet: -1, handler: -1, ownSend: -1, maskSet: -1, upcallMaskSet: -1, pause: -1 };
  let portOpen = true; // still after the bind: records about the port count
  let bindOp = false; // the bind was just passed: the hypercall before it may be our own bind_interdomain
  const done = (): boolean =>
    !portOpen && !bindOp && (!needs.mask || h.maskSet >= 0) && (!needs.upcallMask || h.upcallMaskSet >= 0) && (!needs.pause || h.pause >= 0);

  const batches: TraceBatch[] = [...trace.batches()];
  for (let k = batches.length - 1; k >= 0; k--) {
    const { chunk: c, end } = batches[k]!;
    const kinds = c.kind;
    const doms = c.dom;
    const ports = c.port;
    const x0 = c.x0;
    const x1 = c.x1;
    for (let i = Math.min(end, trace.count - c.firstSeq) - 1; i >= 0; i--) {
      const kind = kinds[i]!;
      const rd = doms[i]!;
      const seq = c.firstSeq + i;
      if (kind === TK.hypercall) {
        const op = x0[i]!;
        if (portOpen) {
          const isSend = (op === SEND || op === SEND_XEN2) && x1[i] === 0;
          if (h.cause < 0 && isSend && rd === peerDom && ports[i] === peerPort) h.cause = seq;
          if (h.ownSend < 0 && isSend && rd === dom && ports[i] === port) h.ownSend = seq;
        } else if (bindOp && rd === dom) {
          // bind_interdomain records its call before the port's state change, and always marks the new port pending.
          if (h.cause < 0 && state === ECS_INTERDOMAIN && op === EVTCHNOP.bind_interdomain && x1[i] === port) h.cause = seq;
          bindOp = false;
          if (done()) return h;
        }
        continue;
      }
      if (rd !== dom) continue;
      switch (kind) {
        case TK.port:
          if (portOpen && ports[i] === port) {
            h.bind = seq;
            portOpen = false;
            bindOp = true;
          }
          break;
        case TK.raise:
          if (portOpen && raised && h.cause < 0 && ports[i] === port) h.cause = seq;
          break;
        case TK.handler:
          if (portOpen && h.handler < 0 && ports[i] === port) h.handler = seq;
          break;
        case TK.domain:
          if (needs.pause && h.pause < 0 && x0[i] === PAUSE) h.pause = seq;
          break;
        case TK.bit: {
          const field = x0[i]!;
          const by = c.x2[i]!;
          if (portOpen && h.pendingSet < 0 && field === pendingField && ports[i] === port && x1[i] === 1 && by === BY_XEN) h.pendingSet = seq;
          else if (needs.mask && h.maskSet < 0 && field === maskField && ports[i] === port && x1[i] === 1 && by === BY_GUEST) h.maskSet = seq;
          else if (needs.upcallMask && h.upcallMaskSet < 0 && field === BIT.evtchn_upcall_mask && c.vcpu[i] === vcpu && x1[i] === 1 && by === BY_GUEST) h.upcallMaskSet = seq;
          break;
        }
        default:
          break;
      }
      if (done()) return h;
    }
  }
  return h;
}
