/**
 * Xen 2.0's control interface (domain_controller.h): control_if_t in the
 * second half of a guest's shared_info page, two 8-slot rings of 64-byte
 * control_msg_t with four shared producer indexes. The consumer indexes are
 * private: the guest's (ctrl_if.c) and xend's (xu.c), shown when the
 * simulation holds them.
 */
import type { PageView, RingView } from '../../contract/inspect.js';
import {
  CONTROL_IF_PAGE_OFFSET,
  CONTROL_IF_RX_RING,
  CONTROL_IF_SIZE,
  CONTROL_RING_SIZE,
  CTRL_MSG_ID_NONE,
  CTRL_MSG_MAX_PAYLOAD,
  CMSG_CONSOLE,
  ControlIfIndexes,
  cmsgName,
  controlIfLayout,
  payloadStruct,
  readCtrlMsg,
  rxSlotOffset,
  txSlotOffset,
  type CtrlMsg,
} from '../../core/abi/ctrl_if.js';
import type { LayoutField } from '../../core/abi/layout.js';
import { GuestCtrlIf } from '../../core/guest/ctrl_if.js';
import type { Domain } from '../../core/hv/domain.js';
import type { Hypervisor } from '../../core/hv/hypervisor.js';
import { Xen2Dom0Kernel } from '../../core/tools/dom0.js';
import type { XuPort } from '../../core/tools/xu.js';
import { quoteBytes } from './format.js';
import { annotate, pageView } from './page.js';

/** "CMSG_CONSOLE_DATA id 0xff length 12 "hello\r\n"": a control message, payload decoded. */
export function describeCtrlMsg(m: CtrlMsg): string {
  const id = m.id === CTRL_MSG_ID_NONE ? '0xff (no callback)' : String(m.id);
  const head = `${cmsgName(m.type, m.subtype)} id ${id} length ${m.length}`;
  const n = Math.min(m.length, CTRL_MSG_MAX_PAYLOAD);
  if (n === 0) return head;
  if (m.type === CMSG_CONSOLE) return `${head} ${quoteBytes(m.msg.subarray(0, n))}`;
  const st = payloadStruct(m.type, m.subtype);
  if (st === undefined) return head;
  const v = st.decode(m.msg.subarray(0, n)) as Record<string, unknown>;
  const parts = Object.entries(v).map(([k, x]) => `${k}=${x instanceof Uint8Array ? [...x].map((b) => b.toString(16).padStart(2, '0')).join(':') : String(x)}`);
  return `${head} (${st.name}: ${parts.join(' ')})`;
}

/** The guest's and xend's private ends of a domain's control rings, where the simulation has them. */
export interface CtrlEnds {
  guest: GuestCtrlIf | undefined;
  xend: XuPort | undefined;
}

export function ctrlEnds(hv: Hypervisor, d: Domain): CtrlEnds {
  const k = d.kernel as { ctrl?: unknown } | null;
  const guest = k !== null && k.ctrl instanceof GuestCtrlIf ? k.ctrl : undefined;
  const k0 = hv.domain(0)?.kernel;
  const xend = k0 instanceof Xen2Dom0Kernel && k0.xend.has(d.domid) ? k0.xend.get(d.domid).port : undefined;
  return { guest, xend };
}

/** A slot's message; a slot no message has reached yet (its ring's producer below 8) is empty. */
function formatSlot(page: Uint8Array, f: LayoutField): string | undefined {
  if (f.size !== 64) return undefined;
  const sh = new ControlIfIndexes(page);
  const rx = f.offset >= CONTROL_IF_PAGE_OFFSET + CONTROL_IF_RX_RING;
  const slot = ((f.offset - CONTROL_IF_PAGE_OFFSET - (rx ? CONTROL_IF_RX_RING : 0)) / 64) | 0;
  const prod = rx ? sh.rxReqProd : sh.txReqProd;
  if (prod < CONTROL_RING_SIZE && slot >= prod) return 'empty (no message has used this slot yet)';
  return describeCtrlMsg(readCtrlMsg(page, f.offset));
}

/** control_if_t as its own view: bytes 2048..3087 of shared_info, every slot and index. */
export function controlIfPage(hv: Hypervisor, d: Domain): PageView {
  const page = d.sharedInfo;
  return pageView({
    name: 'control_if (Xen 2.0)',
    page,
    base: CONTROL_IF_PAGE_OFFSET,
    length: CONTROL_IF_SIZE,
    fields: annotate(page, controlIfLayout(), formatSlot),
    mfn: hv.sharedInfoMfn(d),
  });
}

/** The indexes of the last (at most) eight messages put on a ring whose producer is `prod`. */
function window8(prod: number): number[] {
  const n = Math.min(prod >>> 0, CONTROL_RING_SIZE);
  return Array.from({ length: n }, (_, k) => (prod - n + k) >>> 0);
}

/** Whether `idx` lies in [from, to) of free-running u32 indexes. */
function inRange(idx: number, from: number, to: number): boolean {
  return ((idx - from) >>> 0) < ((to - from) >>> 0);
}

/**
 * The tx and rx rings: shared producers, private consumers where known, and
 * the last eight messages of each (the slots' current contents), each with
 * where it stands.
 */
export function controlRings(hv: Hypervisor, d: Domain): RingView[] {
  const page = d.sharedInfo;
  const sh = new ControlIfIndexes(page);
  const { guest, xend } = ctrlEnds(hv, d);

  const txIdx = [
    { name: 'tx_req_prod', value: sh.txReqProd },
    { name: 'tx_resp_prod', value: sh.txRespProd },
  ];
  if (xend !== undefined) txIdx.push({ name: 'tx_req_cons (xend)', value: xend.txReqCons });
  if (guest !== undefined) txIdx.push({ name: 'ctrl_if_tx_resp_cons (guest)', value: guest.txRespCons });
  const txSlots = window8(sh.txReqProd).map((idx) => {
    const m = readCtrlMsg(page, txSlotOffset(idx));
    let state: string;
    if (inRange(idx, sh.txRespProd, sh.txReqProd)) state = xend !== undefined && inRange(idx, sh.txRespProd, xend.txReqCons) ? 'request, read by xend' : 'request, waiting for xend';
    else state = guest !== undefined && inRange(idx, guest.txRespCons, sh.txRespProd) ? 'response, not yet taken by the guest' : 'response, taken';
    return { index: idx, summary: `slot ${idx & (CONTROL_RING_SIZE - 1)}: ${state}: ${describeCtrlMsg(m)}` };
  });

  const rxIdx = [
    { name: 'rx_req_prod', value: sh.rxReqProd },
    { name: 'rx_resp_prod', value: sh.rxRespProd },
  ];
  if (guest !== undefined) rxIdx.push({ name: 'ctrl_if_rx_req_cons (guest)', value: guest.rxReqCons });
  if (xend !== undefined) rxIdx.push({ name: 'rx_resp_cons (xend)', value: xend.rxRespCons });
  const rxSlots = window8(sh.rxReqProd).map((idx) => {
    const m = readCtrlMsg(page, rxSlotOffset(idx));
    let state: string;
    if (inRange(idx, sh.rxRespProd, sh.rxReqProd)) state = guest !== undefined && inRange(idx, sh.rxRespProd, guest.rxReqCons) ? 'request, taken by the guest, not answered' : 'request, waiting for the guest';
    else state = xend !== undefined && inRange(idx, xend.rxRespCons, sh.rxRespProd) ? 'response, not yet read by xend' : 'response, read';
    return { index: idx, summary: `slot ${idx & (CONTROL_RING_SIZE - 1)}: ${state}: ${describeCtrlMsg(m)}` };
  });

  return [
    { name: 'control_if tx_ring (guest → xend)', shape: 'ctrl', size: CONTROL_RING_SIZE, indexes: txIdx, slots: txSlots },
    { name: 'control_if rx_ring (xend → guest)', shape: 'ctrl', size: CONTROL_RING_SIZE, indexes: rxIdx, slots: rxSlots },
  ];
}
