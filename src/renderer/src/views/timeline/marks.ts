/**
 * What the timeline draws for a trace record: its mark (send, another
 * hypercall, upcall, handler run, VIRQ/PIRQ raise, console bytes, a control
 * or xenstore message, a fault, a domain's lifecycle, or a change of state:
 * bits, ports, grant entries, ring indexes, notes) and which lane it goes in
 * (a vCPU's, its domain's, or Xen's). Read from the streamed columns only;
 * the kind numbers come from SessionInfo.traceKinds.
 */
import { EVTCHNOP } from '../../../../core/abi/evtchn.js';
import { EVTCHNOP as EVTCHNOP_XEN2 } from '../../../../core/abi/xen2.js';

export const MARK = {
  send: 0,
  hypercall: 1,
  upcall: 2,
  handler: 3,
  raise: 4,
  console: 5,
  message: 6,
  fault: 7,
  lifecycle: 8,
  state: 9,
} as const;
export type MarkName = keyof typeof MARK;
/** Marks, by number. */
export const MARK_NAMES = Object.keys(MARK) as MarkName[];
export const MARK_COUNT = MARK_NAMES.length;

/** What the legend calls each mark. */
export const MARK_LABELS: Record<MarkName, string> = {
  send: 'send',
  hypercall: 'hypercall',
  upcall: 'upcall',
  handler: 'handler',
  raise: 'VIRQ/PIRQ',
  console: 'console',
  message: 'ctrl/xs msg',
  fault: 'fault',
  lifecycle: 'domain',
  state: 'bits, ports',
};

/**
 * A hypercall record's x0 is its op code (src/core/hv/hypercall.ts): EVTCHNOP_send is 4, and
 * Xen 2.0.0's event_channel_op commands are traced as 400 + cmd (hypercall_xen2.ts's
 * XEN2_OP_CODE_BASE; a test keeps the two equal).
 */
export const XEN2_OP_CODE_BASE = 400;
export const SEND_OP_CODES: readonly number[] = [EVTCHNOP.send, XEN2_OP_CODE_BASE + EVTCHNOP_XEN2.send];

/** Which lane a kind's records go in. */
export const LaneKind = {
  /** The record's vCPU lane when its vcpu column holds a vCPU (>= 0), else its domain's lane. */
  Vcpu: 0,
  /** The domain-wide lane (the vcpu column means something else for these kinds, or nothing). */
  Domain: 1,
  /** Xen's own lane. */
  Xen: 2,
} as const;

const KIND_MARK: Record<string, MarkName> = {
  hypercall: 'hypercall',
  upcall: 'upcall',
  handler: 'handler',
  raise: 'raise',
  cons: 'console',
  ctrl_msg: 'message',
  xs_msg: 'message',
  fault: 'fault',
  domain: 'lifecycle',
};

/** Kinds whose vcpu column is a vCPU (others use it for a direction or who wrote it: cons, xs_msg, grant_entry). */
const VCPU_KINDS = new Set(['hypercall', 'upcall', 'handler', 'bit', 'fault']);

/** Per kind number: its mark and lane kind; `hypercall` is the kind whose op decides send. */
export interface KindTable {
  mark: Uint8Array;
  lane: Uint8Array;
  hypercall: number;
  upcall: number;
  handler: number;
}

export function kindTable(traceKinds: readonly string[]): KindTable {
  const n = Math.max(256, traceKinds.length);
  const mark = new Uint8Array(n).fill(MARK.state);
  const lane = new Uint8Array(n).fill(LaneKind.Domain);
  traceKinds.forEach((k, i) => {
    mark[i] = MARK[KIND_MARK[k] ?? 'state'];
    lane[i] = k === 'raise' ? LaneKind.Xen : VCPU_KINDS.has(k) ? LaneKind.Vcpu : LaneKind.Domain;
  });
  return { mark, lane, hypercall: traceKinds.indexOf('hypercall'), upcall: traceKinds.indexOf('upcall'), handler: traceKinds.indexOf('handler') };
}

const SEND_A = SEND_OP_CODES[0]!;
const SEND_B = SEND_OP_CODES[1]!;

/** The mark of one record. */
export function markOf(k: KindTable, kind: number, x0: number): number {
  if (kind === k.hypercall && (x0 === SEND_A || x0 === SEND_B)) return MARK.send;
  return k.mark[kind]!;
}

/** The lane key of Xen's lane. */
export const XEN_LANE = 0;

/**
 * A lane's key: Xen's lane is 0; a domain's lane (vcpu -1) and its vCPUs' lanes follow in
 * domain, then vCPU order, so sorting keys sorts lanes.
 */
export function laneKey(dom: number, vcpu: number): number {
  return (dom + 1) * 4096 + ((vcpu + 1) & 4095);
}

export function laneDom(key: number): number {
  return Math.floor(key / 4096) - 1;
}

/** The lane's vCPU, -1 for a domain's own lane (and Xen's). */
export function laneVcpu(key: number): number {
  return (key % 4096) - 1;
}

/** The lane a record goes in. Records of no domain (dom -1) go in Xen's lane. */
export function laneOf(k: KindTable, kind: number, dom: number, vcpu: number): number {
  const lk = k.lane[kind]!;
  if (lk === LaneKind.Xen || dom < 0) return XEN_LANE;
  return laneKey(dom, lk === LaneKind.Vcpu && vcpu >= 0 ? vcpu : -1);
}
