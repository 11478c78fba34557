/**
 * Xen 2.0.0's hypercall surface: event_channel_op (hypercall 16) with its
 * seven commands and their 2.0.0 argument structs, and sched_op (hypercall 6)
 * for SCHEDOP_shutdown, in the same OpSpec shape as today's table
 * (hypercall.ts), so scenarios, traces and guests pick a table with opsFor().
 * Trace codes are 400 + cmd (event channels) and 450 + cmd (sched_op); the
 * names are 2.0.0's.
 */
import { DOMID_SELF } from '../abi/domid.js';
import { ENOSYS } from '../abi/errno.js';
import { EVTCHN_OP_SIZE, EVTCHN_OP_UNION, EVTCHNOP, EVTCHNSTAT_NAMES, SCHEDOP_cmdmask, SCHEDOP_reasonshift, SCHEDOP_shutdown, SCHEDOP_yield, type EvtchnOpName } from '../abi/xen2.js';
import { registerHypercallOp, TK } from '../sim/trace.js';
import type { Domain } from './domain.js';
import * as evtchn2 from './event_channel_xen2.js';
import { hypercall, OPS, type HypercallResult, type OpSpec, type ResolvedArgs } from './hypercall.js';
import type { Hypervisor } from './hypervisor.js';

/** Trace code of a 2.0.0 event_channel_op command. */
export const XEN2_OP_CODE_BASE = 400;

const self = { kind: 'domid', default: DOMID_SELF, doc: 'domain (DOMID_SELF = the caller)' } as const;

function portResult(r: number): HypercallResult {
  return r < 0 ? { ret: r } : { ret: 0, out: { port: r } };
}

function code(name: EvtchnOpName): number {
  return XEN2_OP_CODE_BASE + EVTCHNOP[name];
}

const XEN2_EVTCHN_OPS: OpSpec[] = [
  {
    name: 'alloc_unbound', code: code('alloc_unbound'), hypercall: 'event_channel_op', out: ['port'],
    doc: 'Allocate a port of your own that only `dom` may connect to (2.0.0: evtchn_alloc_unbound_t { dom; port }).',
    args: { dom: { kind: 'domid', doc: 'the remote domain allowed to connect (stored as given)' } },
    run: (hv, c, a) => portResult(evtchn2.allocUnboundXen2(hv, c, a.dom)),
  },
  {
    name: 'bind_interdomain', code: code('bind_interdomain'), hypercall: 'event_channel_op', out: ['port1', 'port2'],
    doc: 'Connect <dom1,port1> with <dom2,port2>; a port of 0 is allocated. A privileged caller may name any two domains.',
    args: {
      dom1: { ...self, doc: 'first domain (must be DOMID_SELF unless the caller is privileged)' },
      dom2: { kind: 'domid', doc: 'second domain (DOMID_SELF = the caller)' },
      port1: { kind: 'u32', default: 0, doc: 'port in dom1; 0 = allocate one' },
      port2: { kind: 'u32', default: 0, doc: 'port in dom2; 0 = allocate one' },
    },
    run: (hv, c, a) => {
      const r = evtchn2.bindInterdomainXen2(hv, c, a.dom1, a.dom2, a.port1, a.port2);
      return r.ret < 0 ? { ret: r.ret } : { ret: 0, out: { port1: r.port1, port2: r.port2 } };
    },
  },
  {
    name: 'bind_virq', code: code('bind_virq'), hypercall: 'event_channel_op', out: ['port'],
    doc: 'Bind a 2.0.0 VIRQ (0..6) to a port; binding it again returns the same port, VIRQ_MISDIRECT is port 0.',
    args: { virq: { kind: 'virq', doc: 'VIRQ number (2.0.0: MISDIRECT 0, TIMER 1, DEBUG 2, CONSOLE 3, DOM_EXC 4, PARITY_ERR 5, IO_ERR 6)' } },
    run: (hv, c, a) => portResult(evtchn2.bindVirqXen2(hv, c, a.virq)),
  },
  {
    name: 'bind_pirq', code: code('bind_pirq'), hypercall: 'event_channel_op', out: ['port'],
    doc: 'Bind a physical IRQ (0..127) the domain may drive; binding it again returns the same port.',
    args: { pirq: { kind: 'u32', doc: 'physical IRQ' }, flags: { kind: 'u32', default: 0, doc: 'BIND_PIRQ__WILL_SHARE (1)' } },
    run: (hv, c, a) => portResult(evtchn2.bindPirqXen2(hv, c, a.pirq, a.flags)),
  },
  {
    name: 'close', code: code('close'), hypercall: 'event_channel_op', out: [],
    doc: 'Close <dom,port>; an inter-domain peer goes back to unbound, waiting for the closer. Port 0 cannot be closed.',
    args: { dom: self, port: { kind: 'u32', doc: 'event-channel port' } },
    run: (hv, c, a) => ({ ret: evtchn2.closeXen2(hv, c, a.dom, a.port) }),
  },
  {
    name: 'send', code: code('send'), hypercall: 'event_channel_op', out: [],
    doc: 'Notify the remote end of an inter-domain channel.',
    args: { local_port: { kind: 'u32', doc: "the caller's end of the channel" } },
    run: (hv, c, a) => ({ ret: evtchn2.sendXen2(hv, c, a.local_port) }),
  },
  {
    name: 'status', code: code('status'), hypercall: 'event_channel_op', out: ['status', 'u'],
    doc: "Report <dom,port>'s state.",
    args: { dom: self, port: { kind: 'u32', doc: 'event-channel port' } },
    run: (hv, c, a) => {
      const { ret, ...out } = evtchn2.statusXen2(hv, c, a.dom, a.port);
      return ret < 0 ? { ret } : { ret, out };
    },
  },
];

/** Trace code of a 2.0.0 sched_op command. */
export const XEN2_SCHED_OP_CODE_BASE = 450;

/**
 * do_sched_op at 2.0.0 for the one command a guest's shutdown needs: the
 * argument word carries the command in its low 8 bits and, for
 * SCHEDOP_shutdown, the reason in the next 8 (domain_shutdown takes it as a
 * u8 and never checks it). yield is a no-op here (the simulation has no
 * scheduler to yield to); block is not modelled and, like any unknown
 * command, is -ENOSYS.
 */
export function schedOpXen2(hv: Hypervisor, caller: Domain, op: number): number {
  switch (op & SCHEDOP_cmdmask) {
    case SCHEDOP_yield:
      return 0;
    case SCHEDOP_shutdown:
      hv.shutdown(caller, (op >>> SCHEDOP_reasonshift) & 0xff);
      return 0;
    default:
      return -ENOSYS;
  }
}

const XEN2_SCHED_OPS: OpSpec[] = [
  {
    name: 'sched_shutdown', code: XEN2_SCHED_OP_CODE_BASE + SCHEDOP_shutdown, hypercall: 'sched_op', out: [],
    doc: 'The caller stops for good: sched_op(SCHEDOP_shutdown | reason << 8). Xen records the reason and raises VIRQ_DOM_EXC in dom0.',
    args: { reason: { kind: 'shutdown_reason', doc: 'poweroff (0), reboot (1), suspend (2), or any 8-bit code' } },
    run: (hv, c, a) => ({ ret: schedOpXen2(hv, c, SCHEDOP_shutdown | ((a.reason & 0xff) << SCHEDOP_reasonshift)) }),
  },
];

/** Xen 2.0.0's ops by name. */
export const OPS_XEN2: ReadonlyMap<string, OpSpec> = new Map([...XEN2_EVTCHN_OPS, ...XEN2_SCHED_OPS].map((o) => [o.name, o]));
for (const o of OPS_XEN2.values()) registerHypercallOp(o.code, o.name, false);

/** The same ops by EVTCHNOP_* command number. */
export const OPS_XEN2_BY_CMD: readonly OpSpec[] = (() => {
  const out: OpSpec[] = [];
  for (const o of XEN2_EVTCHN_OPS) out[o.code - XEN2_OP_CODE_BASE] = o;
  return out;
})();

/** The op table of a machine: today's, or Xen 2.0.0's. */
export function opsFor(xen: '2.0' | '4'): ReadonlyMap<string, OpSpec> {
  return xen === '2.0' ? OPS_XEN2 : OPS;
}

/**
 * do_event_channel_op by command number, with the args of that command's
 * struct (names as in OPS_XEN2; missing ones read as 0). An unknown command
 * is -ENOSYS.
 */
export function eventChannelOpXen2(hv: Hypervisor, caller: Domain, cmd: number, args: Readonly<Partial<Record<string, number>>>, vcpu = 0): HypercallResult {
  const spec = cmd >= 0 && cmd < OPS_XEN2_BY_CMD.length ? OPS_XEN2_BY_CMD[cmd] : undefined;
  if (spec === undefined) {
    if (hv.trace.on) hv.trace.emit(TK.hypercall, caller.domid, vcpu, -1, XEN2_OP_CODE_BASE + (cmd >>> 0), -ENOSYS, 0, { op: `event_channel_op(cmd ${cmd >>> 0})`, args: { cmd: cmd >>> 0 } });
    return { ret: -ENOSYS };
  }
  const full: Record<string, number> = {};
  for (const k of Object.keys(spec.args)) full[k] = args[k] ?? 0;
  return hypercall(hv, caller, spec, full as unknown as ResolvedArgs, vcpu);
}

/**
 * The hypercall as the guest makes it: a 32-byte evtchn_op_t (cmd u32 @0,
 * __reserved @4, the command's struct @8). OUT fields are written back only
 * when the op succeeds, as 2.0.0's copy_to_user does.
 */
export function eventChannelOpBytesXen2(hv: Hypervisor, caller: Domain, op: Uint8Array, vcpu = 0): number {
  if (op.byteLength < EVTCHN_OP_SIZE) throw new RangeError(`evtchn_op_t is ${EVTCHN_OP_SIZE} bytes`);
  const view = new DataView(op.buffer, op.byteOffset, EVTCHN_OP_SIZE);
  const cmd = view.getUint32(0, true);
  const u = EVTCHN_OP_UNION;
  const u16 = (o: number): number => view.getUint16(u + o, true);
  const u32 = (o: number): number => view.getUint32(u + o, true);
  let args: Record<string, number>;
  switch (cmd) {
    case EVTCHNOP.bind_interdomain:
      args = { dom1: u16(0), dom2: u16(2), port1: u32(4), port2: u32(8) };
      break;
    case EVTCHNOP.bind_virq:
      args = { virq: u32(0) };
      break;
    case EVTCHNOP.bind_pirq:
      args = { pirq: u32(0), flags: u32(4) };
      break;
    case EVTCHNOP.close:
    case EVTCHNOP.status:
      args = { dom: u16(0), port: u32(4) };
      break;
    case EVTCHNOP.send:
      args = { local_port: u32(0) };
      break;
    case EVTCHNOP.alloc_unbound:
      args = { dom: u16(0) };
      break;
    default:
      args = {};
  }
  const r = eventChannelOpXen2(hv, caller, cmd, args, vcpu);
  if (r.ret !== 0 || r.out === undefined) return r.ret;
  const out = r.out;
  switch (cmd) {
    case EVTCHNOP.bind_interdomain:
      view.setUint32(u + 4, out.port1 as number, true);
      view.setUint32(u + 8, out.port2 as number, true);
      break;
    case EVTCHNOP.bind_virq:
    case EVTCHNOP.alloc_unbound:
      view.setUint32(u + 4, out.port as number, true);
      break;
    case EVTCHNOP.bind_pirq:
      view.setUint32(u + 8, out.port as number, true);
      break;
    case EVTCHNOP.status: {
      const st = out as unknown as evtchn2.Xen2Status;
      view.setUint32(u + 8, EVTCHNSTAT_NAMES.indexOf(st.status!), true);
      const x = st.u;
      if (x?.unbound !== undefined) view.setUint16(u + 12, x.unbound.dom, true);
      else if (x?.interdomain !== undefined) {
        view.setUint16(u + 12, x.interdomain.dom, true);
        view.setUint32(u + 16, x.interdomain.port, true);
      } else if (x?.pirq !== undefined) view.setUint32(u + 12, x.pirq, true);
      else if (x?.virq !== undefined) view.setUint32(u + 12, x.virq, true);
      break;
    }
    default:
      break;
  }
  return 0;
}

const OP_SEND = OPS_XEN2.get('send')!;

/** EVTCHNOP_send without the table: the guest's notify_via_evtchn on the hot path. */
export function sendFastXen2(hv: Hypervisor, caller: Domain, port: number, vcpu = 0): number {
  const trace = hv.trace;
  if (!trace.on) return evtchn2.sendXen2(hv, caller, port);
  trace.emit(TK.hypercall, caller.domid, vcpu, port, OP_SEND.code, 0, 0, { op: OP_SEND.name, args: { local_port: port } });
  const chunk = trace.chunk;
  const i = chunk.length - 1;
  const ret = evtchn2.sendXen2(hv, caller, port);
  chunk.x1[i] = ret;
  return ret;
}
