/**
 * The fields a trace filter can name (filter.ts), with their types and the
 * Xen names their values may be written as. Built from the trace's and the
 * ABI's name tables only, so the renderer can load it.
 */
import { cmsgName, cmsgTypeName } from '../abi/ctrl_if.js';
import { DOMID_NAMES, SHUTDOWN_REASONS } from '../abi/domid.js';
import { ERRNO_NAMES, errnoByName } from '../abi/errno.js';
import { ECS_NAMES, EVTCHNOP, EVTCHNSTAT_NAMES, VIRQS, virqByName } from '../abi/evtchn.js';
import { GNTST_NAMES } from '../abi/grant.js';
import * as xen2 from '../abi/xen2.js';
import { XS_TYPE_COUNT, xsTypeName } from '../abi/xs_wire.js';
import { BIT, DOMAIN_EVENTS, FAULT_EVENTS, FAULTS, RING_OPS, TK } from './trace.js';

/** A completion item, and an entry of a field's name table. */
export interface FilterItem {
  readonly label: string;
  readonly detail: string;
}

/** How a field's values compare: numbers, text, either (varies by record), or an object to name a member of. */
export type FieldType = 'number' | 'text' | 'any' | 'object';

/** The Xen whose numbers a filter's names stand for (VIRQ_TIMER is 1 in Xen 2.0, 0 today). */
export type FilterXen = '2.0' | '4';

/** The names a field's values may be written as. */
export interface ValueNames {
  /** What one name is, for messages: "VIRQ", "op", "port state". */
  readonly what: string;
  /** Every name, for completion and for "did you mean". */
  list(xen: FilterXen): readonly FilterItem[];
  /** The value a name stands for (a number for number fields, the text records hold for text fields), or undefined. */
  resolve(name: string, xen: FilterXen): number | string | undefined;
  /** A name not in the list is an error (else it is compared as written). */
  readonly closed: boolean;
}

export interface FieldSpec {
  /** As written in a filter: "port", "args.remote_dom", "out.u.interdomain.dom". */
  readonly path: string;
  readonly type: FieldType;
  readonly doc: string;
  readonly names?: ValueNames;
  /** Takes durations (1ms, 5us): a time or period in ns. */
  readonly duration?: boolean;
  /** `type` and `subtype`: a name compares this text field instead (type==XS_READ is type_name=="XS_READ"). */
  readonly nameField?: string;
  /** Members, for an object field; `open`: any member name is accepted (type 'any'). */
  readonly members?: ReadonlyMap<string, FieldSpec> | 'open';
}

// ---------------------------------------------------------------------------
// Name tables

function items(entries: readonly (readonly [string, string])[]): FilterItem[] {
  return entries.map(([label, detail]) => ({ label, detail }));
}

/** A closed or open list of text values, with aliases (ECS_INTERDOMAIN for interdomain). */
function textNames(what: string, list: readonly FilterItem[], closed: boolean, aliases: ReadonlyMap<string, string> = new Map()): ValueNames {
  const known = new Set(list.map((i) => i.label));
  return {
    what,
    closed,
    list: () => list,
    resolve: (name) => (known.has(name) ? name : aliases.get(name)),
  };
}

const KIND_DOCS: Readonly<Record<keyof typeof TK, string>> = {
  hypercall: 'a hypercall and its result',
  bit: 'a bit or word of shared memory changed',
  upcall: 'an upcall into a vCPU',
  handler: "a guest's handler ran for a port",
  port: 'a port changed state',
  raise: 'Xen raised a VIRQ or PIRQ on a port',
  grant_entry: 'a grant entry changed',
  ring: 'a ring.h step',
  domain: 'a domain lifecycle event',
  note: 'a note',
  ctrl_msg: "a control message on Xen 2.0's control interface",
  xs_msg: 'a xenstore request or reply',
  cons: 'console bytes',
  fault: 'a fault a scenario injected: a notification dropped or delayed, a ring filled, a backend stalled',
};
const KINDS = textNames('record kind', items(Object.keys(TK).map((k) => [k, KIND_DOCS[k as keyof typeof TK]])), true);

/**
 * Hypercall op names as trace records carry them (hv/hypercall.ts and
 * hypercall_xen2.ts register the same names; a test keeps the lists equal).
 */
export const HYPERCALL_OP_ITEMS: readonly FilterItem[] = items([
  ...Object.keys(EVTCHNOP).map((n) => [n, `EVTCHNOP_${n}`] as const),
  ...(['map_grant_ref', 'unmap_grant_ref', 'setup_table', 'query_size', 'copy'] as const).map((n) => [`gnttab_${n}`, `GNTTABOP_${n}`] as const),
  ['set_periodic_timer', 'VCPUOP_set_periodic_timer'],
  ['stop_periodic_timer', 'VCPUOP_stop_periodic_timer'],
  ['set_virq_handler', 'XEN_DOMCTL_set_virq_handler'],
  ['sched_shutdown', 'SCHEDOP_shutdown (Xen 2.0)'],
]);
const OPS = textNames(
  'op',
  [
    ...HYPERCALL_OP_ITEMS,
    ...items(RING_OPS.map((n) => [n, 'ring.h step'])),
    ...items([
      ['put', 'control ring: a message put in a slot'],
      ['take', 'control ring: a message taken from a slot'],
    ]),
  ],
  true,
);

const ECS_DOCS = ['not in use', 'reserved by Xen', 'waiting for remote_dom to bind', 'connected to remote_dom:remote_port', 'bound to a physical IRQ', 'bound to a virtual IRQ', 'an inter-processor interrupt'];
const STATES = textNames(
  'port state',
  items(ECS_NAMES.map((n, i) => [n, `ECS_${n.toUpperCase()}: ${ECS_DOCS[i]}`])),
  true,
  new Map(ECS_NAMES.map((n) => [`ECS_${n.toUpperCase()}`, n])),
);

const BIT_DOCS: Readonly<Record<keyof typeof BIT, string>> = {
  evtchn_pending: "shared_info's pending bitmap (2-level)",
  evtchn_mask: "shared_info's mask bitmap (2-level)",
  evtchn_pending_sel: "a vCPU's pending selector word (2-level)",
  evtchn_upcall_pending: "a vCPU's upcall_pending flag",
  evtchn_upcall_mask: "a vCPU's upcall_mask flag",
  fifo_pending: "an event word's PENDING bit (FIFO)",
  fifo_masked: "an event word's MASKED bit (FIFO)",
  fifo_linked: "an event word's LINKED bit (FIFO)",
  fifo_busy: "an event word's BUSY bit (FIFO)",
  fifo_link: "an event word's LINK field (FIFO)",
  fifo_ready: "a control block's READY word (FIFO)",
  fifo_head: "a control block's HEAD of a queue (FIFO)",
};
const BITS = textNames('shared-memory field', items(Object.keys(BIT).map((k) => [k, BIT_DOCS[k as keyof typeof BIT]])), true);

const BY = textNames('writer', items([['xen', 'written by the hypervisor'], ['guest', 'written by the guest']]), true);
const EVENTS = textNames('event', items([...DOMAIN_EVENTS.map((e) => [e, 'domain lifecycle'] as [string, string]), ...FAULT_EVENTS.map((e) => [e, 'what a fault did'] as [string, string])]), true);
const FAULT_NAMES = textNames('fault', items(FAULTS.map((f) => [f, 'an injected fault'])), true);
const DIRS = textNames(
  'direction',
  items([
    ['req', 'xs_msg: a request xenstored read'],
    ['rsp', 'xs_msg: a reply or watch event xenstored queued'],
    ['out', 'cons: guest output taken by the back end'],
    ['in', 'cons: input put in for the guest'],
  ]),
  true,
);
const WHO = textNames('writer', items([['guest', 'the guest'], ['xend', 'xend (dom0)']]), true);
const RINGS = textNames('ring', items([['tx', 'control_if_t tx_ring: guest requests'], ['rx', 'control_if_t rx_ring: controller requests']]), false);
const REASONS = textNames('shutdown reason', items(SHUTDOWN_REASONS.map((r) => [r, `SHUTDOWN_${r}`])), false);

const CMSG_TYPES: FilterItem[] = [];
const CMSG_SUBTYPES: FilterItem[] = [];
for (let type = 0; type < 256; type++) {
  const name = cmsgTypeName(type);
  if (name.startsWith('type ')) continue;
  CMSG_TYPES.push({ label: name, detail: `control message type ${type}` });
  for (let sub = 0; sub < 256; sub++) {
    const s = cmsgName(type, sub);
    if (!s.includes('/')) CMSG_SUBTYPES.push({ label: s, detail: `${name} subtype ${sub}` });
  }
}
const XS_TYPES: FilterItem[] = [];
for (let type = 0; type < XS_TYPE_COUNT; type++) {
  const name = xsTypeName(type);
  if (!name.startsWith('type ')) XS_TYPES.push({ label: name, detail: `xenstore message type ${type}` });
}
const TYPE_NAMES = textNames('message type', [...CMSG_TYPES, ...XS_TYPES], false);
const SUBTYPE_NAMES = textNames('message subtype', CMSG_SUBTYPES, false);
/** For `type` and `subtype`: only defined names (they compare type_name / subtype_name). */
const TYPE_NAMES_CLOSED = textNames('message type', TYPE_NAMES.list('4'), true);
const SUBTYPE_NAMES_CLOSED = textNames('message subtype', CMSG_SUBTYPES, true);

const GRANT_AND_PORT_STATUS = textNames(
  'status',
  [
    ...items(Object.entries(GNTST_NAMES).map(([v, n]) => [n, `grant status ${v}`])),
    ...items(EVTCHNSTAT_NAMES.map((n, i) => [n, `EVTCHNSTAT_${n} (${i})`])),
  ],
  false,
);

const VIRQ_ITEMS = items(VIRQS.filter((v) => !/^VIRQ_\d+$/.test(v.name)).map((v) => [v.name, `${v.num}: ${v.meaning}`]));
const VIRQ_ITEMS_XEN2 = items(xen2.VIRQS.map((v) => [v.name, `${v.num}: ${v.meaning} (Xen 2.0)`]));
const VIRQ_NAMES: ValueNames = {
  what: 'VIRQ',
  closed: true,
  list: (xen) => (xen === '2.0' ? VIRQ_ITEMS_XEN2 : VIRQ_ITEMS),
  resolve: (name, xen) => (xen === '2.0' ? xen2.virqByName(name) : virqByName(name)),
};

const ERRNO_ITEMS = items(Object.entries(ERRNO_NAMES).map(([v, n]) => [`-${n}`, `-${v}`]));
export const ERRNO_VALUE_NAMES: ValueNames = {
  what: 'errno',
  closed: true,
  list: () => ERRNO_ITEMS,
  // Hypercalls return errors negated: -EINVAL, never EINVAL.
  resolve: (name) => {
    if (!name.startsWith('-')) return undefined;
    const e = errnoByName(name.slice(1));
    return e === undefined ? undefined : -e;
  },
};

const DOMID_ITEMS = items(Object.entries(DOMID_NAMES).map(([n, v]) => [n, `0x${v.toString(16)}`]));
const DOMIDS: ValueNames = { what: 'domain id', closed: true, list: () => DOMID_ITEMS, resolve: (name) => DOMID_NAMES[name] };

// ---------------------------------------------------------------------------
// Fields

type Extra = Partial<Pick<FieldSpec, 'names' | 'duration' | 'nameField' | 'members'>>;

function field(path: string, type: FieldType, doc: string, extra: Extra = {}): FieldSpec {
  return { path, type, doc, ...extra };
}

function members(parent: string, specs: readonly [string, FieldType, string, Extra?][]): ReadonlyMap<string, FieldSpec> {
  return new Map(specs.map(([name, type, doc, extra]) => [name, field(`${parent}.${name}`, type, doc, extra)]));
}

const COPY_SIDE = (side: string): readonly [string, FieldType, string, Extra?][] => [
  ['ref', 'number', `${side}: grant reference (GNTCOPY_*_gref)`],
  ['gmfn', 'number', `${side}: own frame`],
  ['domid', 'number', `${side}: domain`, { names: DOMIDS }],
  ['offset', 'number', `${side}: byte offset in the frame`],
];

/** Hypercall arguments by Xen's names (hv/hypercall.ts ArgName, and gnttab_copy's two sides). */
const ARGS = members('args', [
  ['dom', 'number', 'domain argument (DOMID_SELF = the caller)', { names: DOMIDS }],
  ['remote_dom', 'number', 'the other domain', { names: DOMIDS }],
  ['remote_port', 'number', "the other domain's port"],
  ['virq', 'number', 'VIRQ number', { names: VIRQ_NAMES }],
  ['vcpu', 'number', 'target vCPU'],
  ['pirq', 'number', 'physical IRQ'],
  ['flags', 'number', 'BIND_PIRQ__*, GNTMAP_* or GNTCOPY_* flags'],
  ['port', 'number', 'event-channel port'],
  ['control_gfn', 'number', "frame of a vCPU's FIFO control block"],
  ['offset', 'number', 'byte offset of the control block'],
  ['array_gfn', 'number', 'frame added to the FIFO event array'],
  ['priority', 'number', 'FIFO priority (0 highest .. 15 lowest)'],
  ['host_addr', 'number', 'where a grant is mapped'],
  ['ref', 'number', 'grant reference'],
  ['handle', 'number', 'grant mapping handle'],
  ['dev_bus_addr', 'number', 'device address of a mapping'],
  ['nr_frames', 'number', 'grant-table frames wanted'],
  ['len', 'number', 'bytes to copy'],
  ['period_ns', 'number', 'periodic timer period (ns)', { duration: true }],
  ['domid', 'number', 'the new VIRQ handler domain', { names: DOMIDS }],
  ['dom1', 'number', 'Xen 2.0 bind_interdomain: first domain', { names: DOMIDS }],
  ['dom2', 'number', 'Xen 2.0 bind_interdomain: second domain', { names: DOMIDS }],
  ['port1', 'number', 'Xen 2.0 bind_interdomain: port in dom1'],
  ['port2', 'number', 'Xen 2.0 bind_interdomain: port in dom2'],
  ['local_port', 'number', "Xen 2.0 send: the caller's port"],
  ['reason', 'number', 'Xen 2.0 sched_shutdown: reason code'],
  ['source', 'object', 'gnttab_copy source', { members: members('args.source', COPY_SIDE('source')) }],
  ['dest', 'object', 'gnttab_copy destination', { members: members('args.dest', COPY_SIDE('destination')) }],
]);

/** Hypercall results (OpSpec.out of every op). */
const OUT = members('out', [
  ['port', 'number', 'the port allocated or bound'],
  ['local_port', 'number', 'bind_interdomain: the new local port'],
  ['port1', 'number', 'Xen 2.0 bind_interdomain: port in dom1'],
  ['port2', 'number', 'Xen 2.0 bind_interdomain: port in dom2'],
  ['status', 'any', 'GNTST_* of a grant op, or EVTCHNSTAT name of status', { names: GRANT_AND_PORT_STATUS }],
  ['vcpu', 'number', "status: the port's notify vCPU"],
  ['u', 'object', 'status: the evtchn_status union (u.interdomain.dom ...)', { members: 'open' }],
  ['link_bits', 'number', 'init_control: EVTCHN_FIFO_LINK_BITS'],
  ['handle', 'number', 'map_grant_ref: mapping handle'],
  ['dev_bus_addr', 'number', 'map_grant_ref: device address'],
  ['frame_list', 'object', 'setup_table: the frames (out.frame_list.0 ...)', { members: 'open' }],
  ['nr_frames', 'number', 'query_size: frames in use'],
  ['max_nr_frames', 'number', 'query_size: frames allowed'],
]);

/** A ring record's indexes (guest/ring.ts). */
const RING_IDX = members('idx', [
  ['req_prod', 'number', 'sring req_prod'],
  ['req_event', 'number', 'sring req_event'],
  ['rsp_prod', 'number', 'sring rsp_prod'],
  ['rsp_event', 'number', 'sring rsp_event'],
  ['req_cons', 'number', "back end's private req_cons"],
  ['rsp_cons', 'number', "front end's private rsp_cons"],
  ['old', 'number', 'producer index before a push'],
  ['new', 'number', 'producer index after a push'],
]);

/** The fields of the decoded TraceRecord union (trace.ts), each with the kinds that have it. */
const RECORD_FIELDS: readonly FieldSpec[] = [
  field('kind', 'text', 'record kind', { names: KINDS }),
  field('dom', 'number', "the domain it happened in (a hypercall's caller)", { names: DOMIDS }),
  field('vcpu', 'number', "vCPU (a hypercall's: the caller's; args.vcpu is the target)"),
  field('port', 'number', 'event-channel port (hypercall: args.port, args.local_port, out.port or out.local_port)'),
  field('op', 'text', 'hypercall op, ring.h step or control-ring action', { names: OPS }),
  field('ret', 'number', 'hypercall return: 0 or a negated errno (-EINVAL)', { names: ERRNO_VALUE_NAMES }),
  field('t', 'number', 'virtual time, ns (or 1ms, 5us, 2s)', { duration: true }),
  field('seq', 'number', 'record number, from 0'),
  field('args', 'object', 'hypercall arguments (args.port, args.remote_dom ...)', { members: ARGS }),
  field('out', 'object', 'hypercall results (out.port, out.status ...)', { members: OUT }),
  field('field', 'text', 'bit: the shared-memory field changed', { names: BITS }),
  field('index', 'number', 'bit: port or bit index (-1 for a per-vCPU flag)'),
  field('value', 'number', "bit: the field's new value"),
  field('by', 'text', 'bit, grant_entry: who wrote it (xen or guest)', { names: BY }),
  field('state', 'text', 'port: new state (free, unbound, interdomain, virq ...)', { names: STATES }),
  field('remote_dom', 'number', 'port: the other domain (unbound, interdomain)', { names: DOMIDS }),
  field('remote_port', 'number', "port: the other domain's port (interdomain)"),
  field('virq', 'number', 'port, raise: VIRQ number (or VIRQ_TIMER ...)', { names: VIRQ_NAMES }),
  field('pirq', 'number', 'port, raise: physical IRQ'),
  field('ref', 'number', 'grant_entry: grant reference'),
  field('flags', 'number', 'grant_entry: GTF_* flags'),
  field('domid', 'number', 'grant_entry: the domain allowed to map the frame', { names: DOMIDS }),
  field('frame', 'number', 'grant_entry: the granted frame'),
  field('ring', 'text', 'ring: its name (vbd/51712 ...); ctrl_msg: tx or rx', { names: RINGS }),
  field('result', 'number', "ring: the step's result (notify 1/0, work, index)"),
  field('idx', 'any', 'ctrl_msg: slot index; cons: bytes so far; ring: indexes (idx.req_prod ...)', { members: RING_IDX }),
  field('event', 'text', 'domain: what happened; fault: what the fault did (armed, dropped, delayed, delivered, filled, stalled, ignored, resumed)', { names: EVENTS }),
  field('reason', 'any', 'domain: shutdown reason (Xen 2.0 sched_shutdown: its code)', { names: REASONS }),
  field('name', 'text', 'domain: its name'),
  field('text', 'text', 'note, xs_msg payload, console bytes'),
  field('who', 'text', 'ctrl_msg: guest or xend', { names: WHO }),
  field('dir', 'text', 'xs_msg: req or rsp; cons: out or in', { names: DIRS }),
  field('type', 'number', 'ctrl_msg: CMSG_* type; xs_msg: XS_* type', { names: TYPE_NAMES_CLOSED, nameField: 'type_name' }),
  field('subtype', 'number', 'ctrl_msg: CMSG_*_* subtype', { names: SUBTYPE_NAMES_CLOSED, nameField: 'subtype_name' }),
  field('type_name', 'text', 'ctrl_msg, xs_msg: the type by name', { names: TYPE_NAMES }),
  field('subtype_name', 'text', 'ctrl_msg: the subtype by name', { names: SUBTYPE_NAMES }),
  field('id', 'number', 'ctrl_msg: request id'),
  field('length', 'number', 'ctrl_msg: payload length'),
  field('req_id', 'number', 'xs_msg: request id'),
  field('tx_id', 'number', 'xs_msg: transaction id'),
  field('len', 'number', 'xs_msg: payload length'),
  field('count', 'number', 'cons: bytes moved; fault: notifications still to hit, requests or bytes put in, events a stalled backend missed'),
  field('fault', 'text', 'fault: which (drop_notify, delay_notify, fill_ring, stall)', { names: FAULT_NAMES }),
  field('backend', 'text', 'fault: the stalled backend (console, xenstore, block, network, xend)'),
  field('delay', 'number', 'fault: how late a delayed notification is, ns (or 1ms ...)', { duration: true }),
  field('until', 'number', 'fault: when a stall ends, ns (or 1ms ...)', { duration: true }),
];

/**
 * Every top-level field: the record fields, then the hypercall argument and
 * result names no record has (a hypercall record reads any field it does not
 * have from its args, then its out).
 */
export const FILTER_FIELDS: ReadonlyMap<string, FieldSpec> = (() => {
  const m = new Map<string, FieldSpec>(RECORD_FIELDS.map((f) => [f.path, f]));
  for (const [where, table] of [['argument', ARGS], ['result', OUT]] as const) {
    for (const [name, spec] of table) if (!m.has(name)) m.set(name, { ...spec, path: name, doc: `hypercall ${where}: ${spec.doc}` });
  }
  return m;
})();

/** Fields a hypercall record has itself; it reads any other from args, then out. */
export const HYPERCALL_OWN_FIELDS: ReadonlySet<string> = new Set(['seq', 't', 'kind', 'dom', 'vcpu', 'op', 'args', 'ret', 'out']);

/** What a field path names, or why it names nothing. */
export type FieldLookup = { ok: true; spec: FieldSpec } | { ok: false; at: number; segment: string; message: string; candidates: readonly string[] };

const SEGMENT = /^[A-Za-z0-9_]+$/;

/** Resolves a dotted path ("args.remote_dom") against the field table; `at` is the failing segment's offset in the path. */
export function lookupField(path: string): FieldLookup {
  const segs = path.split('.');
  let spec: FieldSpec | undefined;
  let table: ReadonlyMap<string, FieldSpec> | 'open' | undefined = FILTER_FIELDS;
  let at = 0;
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i]!;
    const parent = segs.slice(0, i).join('.');
    if (!SEGMENT.test(seg)) {
      const message = seg === '' ? `empty name in field '${path}'` : `'${seg}' is not a field name`;
      return { ok: false, at, segment: seg, message, candidates: [] };
    }
    if (table === undefined) return { ok: false, at, segment: seg, message: `'${parent}' has no fields (it is a ${spec!.type === 'text' ? 'text' : 'number'})`, candidates: [] };
    if (table === 'open') spec = field(segs.slice(0, i + 1).join('.'), 'any', `a field of ${parent}`, { members: 'open' });
    else {
      spec = table.get(seg);
      if (spec === undefined) {
        const message = i === 0 ? `unknown field '${seg}'` : `unknown field '${seg}' in '${parent}'`;
        return { ok: false, at, segment: seg, message, candidates: [...table.keys()] };
      }
    }
    table = spec.members;
    at += seg.length + 1;
  }
  return { ok: true, spec: spec! };
}

/** The fields one level below `parent` ("" for the top level), for completion. */
export function fieldsUnder(parent: string): readonly FieldSpec[] {
  if (parent === '') return [...FILTER_FIELDS.values()];
  const r = lookupField(parent);
  if (!r.ok || r.spec.members === undefined || r.spec.members === 'open') return [];
  return [...r.spec.members.values()];
}
