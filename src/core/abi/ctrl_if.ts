/**
 * The Xen 2.0 controller messaging interface, as domain_controller.h at 2.0.0
 * (xen/include/public/io/domain_controller.h, commit a65105373f): the 64-byte
 * control_msg_t, the two 8-slot rings of control_if_t in the second half of
 * shared_info, every CMSG_* type and subtype, and the payload structs at their
 * x86_32 byte offsets (packed; memory_t is 32 bits followed by a 32-bit pad).
 * Xen itself never looks at any of this: it is plain shared memory between a
 * guest and its controller (xend in dom0).
 */
import { XEN2_CONTROL_IF_OFFSET, type LayoutField } from './layout.js';

// ---------------------------------------------------------------------------
// control_msg_t (64 bytes, packed)

export const CTRL_MSG_TYPE = 0;
export const CTRL_MSG_SUBTYPE = 1;
export const CTRL_MSG_ID = 2;
export const CTRL_MSG_LENGTH = 3;
/** offsetof(control_msg_t, msg): the header the guest copies before the payload. */
export const CTRL_MSG_PAYLOAD = 4;
/** sizeof(msg): the most a message can carry (xu's MAX_PAYLOAD). */
export const CTRL_MSG_MAX_PAYLOAD = 60;
export const CTRL_MSG_SIZE = 64;
/** The id a guest puts on a request it wants no callback for (ctrl_if.c). */
export const CTRL_MSG_ID_NONE = 0xff;

export const CONTROL_MSG_LAYOUT: readonly LayoutField[] = [
  { field: 'type', offset: CTRL_MSG_TYPE, size: 1, description: 'top-level class (CMSG_*); echoed in the response' },
  { field: 'subtype', offset: CTRL_MSG_SUBTYPE, size: 1, description: 'class-specific subtype; echoed in the response' },
  { field: 'id', offset: CTRL_MSG_ID, size: 1, description: "requester's tag; echoed in the response (0xFF: guest wants no callback)" },
  { field: 'length', offset: CTRL_MSG_LENGTH, size: 1, description: 'valid bytes in msg (0..60)' },
  { field: 'msg', offset: CTRL_MSG_PAYLOAD, size: CTRL_MSG_MAX_PAYLOAD, description: 'type-specific payload' },
];

// ---------------------------------------------------------------------------
// control_if_t (1040 bytes, packed), at byte 2048 of shared_info

export const CONTROL_RING_SIZE = 8;
/** MASK_CONTROL_IDX: the slot of a free-running 32-bit index. */
export function maskControlIdx(i: number): number {
  return i & (CONTROL_RING_SIZE - 1);
}

export const CONTROL_IF_TX_RING = 0;
export const CONTROL_IF_RX_RING = CONTROL_RING_SIZE * CTRL_MSG_SIZE; // 512
export const CONTROL_IF_TX_REQ_PROD = 1024;
export const CONTROL_IF_TX_RESP_PROD = 1028;
export const CONTROL_IF_RX_REQ_PROD = 1032;
export const CONTROL_IF_RX_RESP_PROD = 1036;
export const CONTROL_IF_SIZE = 1040;
/** Where control_if_t sits in the shared_info page (get_ctrl_if() in ctrl_if.c, map_control_interface in xu.c). */
export const CONTROL_IF_PAGE_OFFSET = XEN2_CONTROL_IF_OFFSET;

/** Page offset of tx_ring[slot] (guest → controller). */
export function txSlotOffset(idx: number, base = CONTROL_IF_PAGE_OFFSET): number {
  return base + CONTROL_IF_TX_RING + maskControlIdx(idx) * CTRL_MSG_SIZE;
}

/** Page offset of rx_ring[slot] (controller → guest). */
export function rxSlotOffset(idx: number, base = CONTROL_IF_PAGE_OFFSET): number {
  return base + CONTROL_IF_RX_RING + maskControlIdx(idx) * CTRL_MSG_SIZE;
}

/** control_if_t field by field, at page offsets (base 2048) for the inspector. */
export function controlIfLayout(base = CONTROL_IF_PAGE_OFFSET): LayoutField[] {
  const out: LayoutField[] = [];
  for (let i = 0; i < CONTROL_RING_SIZE; i++) {
    out.push({ field: `tx_ring[${i}]`, offset: txSlotOffset(i, base), size: CTRL_MSG_SIZE, description: 'guest request, then the controller response in the same slot' });
  }
  for (let i = 0; i < CONTROL_RING_SIZE; i++) {
    out.push({ field: `rx_ring[${i}]`, offset: rxSlotOffset(i, base), size: CTRL_MSG_SIZE, description: 'controller request, then the guest response in the same slot' });
  }
  out.push(
    { field: 'tx_req_prod', offset: base + CONTROL_IF_TX_REQ_PROD, size: 4, description: 'requests the guest has put on tx_ring (written by the guest)' },
    { field: 'tx_resp_prod', offset: base + CONTROL_IF_TX_RESP_PROD, size: 4, description: 'responses the controller has put on tx_ring (written by the controller)' },
    { field: 'rx_req_prod', offset: base + CONTROL_IF_RX_REQ_PROD, size: 4, description: 'requests the controller has put on rx_ring (written by the controller)' },
    { field: 'rx_resp_prod', offset: base + CONTROL_IF_RX_RESP_PROD, size: 4, description: 'responses the guest has put on rx_ring (written by the guest)' },
  );
  return out;
}

// ---------------------------------------------------------------------------
// Top-level types and subtypes (2.0.0: no USB, no SYSRQ, no VCPU_HOTPLUG, no DEBUG)

export const CMSG_CONSOLE = 0;
export const CMSG_BLKIF_BE = 1;
export const CMSG_BLKIF_FE = 2;
export const CMSG_NETIF_BE = 3;
export const CMSG_NETIF_FE = 4;
export const CMSG_SHUTDOWN = 6;
export const CMSG_MEM_REQUEST = 7;

export const CMSG_CONSOLE_DATA = 0;

export const CMSG_BLKIF_FE_INTERFACE_STATUS = 0;
export const CMSG_BLKIF_FE_DRIVER_STATUS = 32;
export const CMSG_BLKIF_FE_INTERFACE_CONNECT = 33;
export const CMSG_BLKIF_FE_INTERFACE_DISCONNECT = 34;
export const CMSG_BLKIF_FE_INTERFACE_QUERY = 35;

export const CMSG_BLKIF_BE_CREATE = 0;
export const CMSG_BLKIF_BE_DESTROY = 1;
export const CMSG_BLKIF_BE_CONNECT = 2;
export const CMSG_BLKIF_BE_DISCONNECT = 3;
export const CMSG_BLKIF_BE_VBD_CREATE = 4;
export const CMSG_BLKIF_BE_VBD_DESTROY = 5;
export const CMSG_BLKIF_BE_VBD_GROW = 6;
export const CMSG_BLKIF_BE_VBD_SHRINK = 7;
export const CMSG_BLKIF_BE_DRIVER_STATUS = 32;

export const CMSG_NETIF_FE_INTERFACE_STATUS = 0;
export const CMSG_NETIF_FE_DRIVER_STATUS = 32;
export const CMSG_NETIF_FE_INTERFACE_CONNECT = 33;
export const CMSG_NETIF_FE_INTERFACE_DISCONNECT = 34;
export const CMSG_NETIF_FE_INTERFACE_QUERY = 35;

export const CMSG_NETIF_BE_CREATE = 0;
export const CMSG_NETIF_BE_DESTROY = 1;
export const CMSG_NETIF_BE_CONNECT = 2;
export const CMSG_NETIF_BE_DISCONNECT = 3;
export const CMSG_NETIF_BE_DRIVER_STATUS = 32;

export const CMSG_SHUTDOWN_POWEROFF = 0;
export const CMSG_SHUTDOWN_REBOOT = 1;
export const CMSG_SHUTDOWN_SUSPEND = 2;

export const CMSG_MEM_REQUEST_SET = 0;

/** SCHEDOP_shutdown reason codes, also in this header (advisory; opaque to Xen). */
export const SHUTDOWN_poweroff = 0;
export const SHUTDOWN_reboot = 1;
export const SHUTDOWN_suspend = 2;

export const BLKIF_INTERFACE_STATUS_CLOSED = 0;
export const BLKIF_INTERFACE_STATUS_DISCONNECTED = 1;
export const BLKIF_INTERFACE_STATUS_CONNECTED = 2;
export const BLKIF_INTERFACE_STATUS_CHANGED = 3;
export const BLKIF_DRIVER_STATUS_DOWN = 0;
export const BLKIF_DRIVER_STATUS_UP = 1;

export const BLKIF_BE_STATUS_OKAY = 0;
export const BLKIF_BE_STATUS_ERROR = 1;
export const BLKIF_BE_STATUS_INTERFACE_EXISTS = 2;
export const BLKIF_BE_STATUS_INTERFACE_NOT_FOUND = 3;
export const BLKIF_BE_STATUS_INTERFACE_CONNECTED = 4;
export const BLKIF_BE_STATUS_VBD_EXISTS = 5;
export const BLKIF_BE_STATUS_VBD_NOT_FOUND = 6;
export const BLKIF_BE_STATUS_OUT_OF_MEMORY = 7;
export const BLKIF_BE_STATUS_EXTENT_NOT_FOUND = 8;
export const BLKIF_BE_STATUS_MAPPING_ERROR = 9;
/** BLKIF_BE_STATUS_ERRORS: the header's text for each status, by value. */
export const BLKIF_BE_STATUS_ERRORS: readonly string[] = [
  'Okay',
  'Non-specific error',
  'Interface already exists',
  'Interface not found',
  'Interface is still connected',
  'VBD already exists',
  'VBD not found',
  'Out of memory',
  'Extent not found for VBD',
  'Could not map domain memory',
];

export const NETIF_INTERFACE_STATUS_CLOSED = 0;
export const NETIF_INTERFACE_STATUS_DISCONNECTED = 1;
export const NETIF_INTERFACE_STATUS_CONNECTED = 2;
export const NETIF_INTERFACE_STATUS_CHANGED = 3;
export const NETIF_DRIVER_STATUS_DOWN = 0;
export const NETIF_DRIVER_STATUS_UP = 1;

export const NETIF_BE_STATUS_OKAY = 0;
export const NETIF_BE_STATUS_ERROR = 1;
export const NETIF_BE_STATUS_INTERFACE_EXISTS = 2;
export const NETIF_BE_STATUS_INTERFACE_NOT_FOUND = 3;
export const NETIF_BE_STATUS_INTERFACE_CONNECTED = 4;
export const NETIF_BE_STATUS_OUT_OF_MEMORY = 5;
export const NETIF_BE_STATUS_MAPPING_ERROR = 6;
/** NETIF_BE_STATUS_ERRORS, by value. */
export const NETIF_BE_STATUS_ERRORS: readonly string[] = [
  'Okay',
  'Non-specific error',
  'Interface already exists',
  'Interface not found',
  'Interface is still connected',
  'Out of memory',
  'Could not map domain memory',
];

const TYPE_NAMES: Readonly<Record<number, string>> = {
  [CMSG_CONSOLE]: 'CMSG_CONSOLE',
  [CMSG_BLKIF_BE]: 'CMSG_BLKIF_BE',
  [CMSG_BLKIF_FE]: 'CMSG_BLKIF_FE',
  [CMSG_NETIF_BE]: 'CMSG_NETIF_BE',
  [CMSG_NETIF_FE]: 'CMSG_NETIF_FE',
  [CMSG_SHUTDOWN]: 'CMSG_SHUTDOWN',
  [CMSG_MEM_REQUEST]: 'CMSG_MEM_REQUEST',
};

const SUBTYPE_NAMES: Readonly<Record<number, Readonly<Record<number, string>>>> = {
  [CMSG_CONSOLE]: { [CMSG_CONSOLE_DATA]: 'CMSG_CONSOLE_DATA' },
  [CMSG_BLKIF_FE]: {
    [CMSG_BLKIF_FE_INTERFACE_STATUS]: 'CMSG_BLKIF_FE_INTERFACE_STATUS',
    [CMSG_BLKIF_FE_DRIVER_STATUS]: 'CMSG_BLKIF_FE_DRIVER_STATUS',
    [CMSG_BLKIF_FE_INTERFACE_CONNECT]: 'CMSG_BLKIF_FE_INTERFACE_CONNECT',
    [CMSG_BLKIF_FE_INTERFACE_DISCONNECT]: 'CMSG_BLKIF_FE_INTERFACE_DISCONNECT',
    [CMSG_BLKIF_FE_INTERFACE_QUERY]: 'CMSG_BLKIF_FE_INTERFACE_QUERY',
  },
  [CMSG_BLKIF_BE]: {
    [CMSG_BLKIF_BE_CREATE]: 'CMSG_BLKIF_BE_CREATE',
    [CMSG_BLKIF_BE_DESTROY]: 'CMSG_BLKIF_BE_DESTROY',
    [CMSG_BLKIF_BE_CONNECT]: 'CMSG_BLKIF_BE_CONNECT',
    [CMSG_BLKIF_BE_DISCONNECT]: 'CMSG_BLKIF_BE_DISCONNECT',
    [CMSG_BLKIF_BE_VBD_CREATE]: 'CMSG_BLKIF_BE_VBD_CREATE',
    [CMSG_BLKIF_BE_VBD_DESTROY]: 'CMSG_BLKIF_BE_VBD_DESTROY',
    [CMSG_BLKIF_BE_VBD_GROW]: 'CMSG_BLKIF_BE_VBD_GROW',
    [CMSG_BLKIF_BE_VBD_SHRINK]: 'CMSG_BLKIF_BE_VBD_SHRINK',
    [CMSG_BLKIF_BE_DRIVER_STATUS]: 'CMSG_BLKIF_BE_DRIVER_STATUS',
  },
  [CMSG_NETIF_FE]: {
    [CMSG_NETIF_FE_INTERFACE_STATUS]: 'CMSG_NETIF_FE_INTERFACE_STATUS',
    [CMSG_NETIF_FE_DRIVER_STATUS]: 'CMSG_NETIF_FE_DRIVER_STATUS',
    [CMSG_NETIF_FE_INTERFACE_CONNECT]: 'CMSG_NETIF_FE_INTERFACE_CONNECT',
    [CMSG_NETIF_FE_INTERFACE_DISCONNECT]: 'CMSG_NETIF_FE_INTERFACE_DISCONNECT',
    [CMSG_NETIF_FE_INTERFACE_QUERY]: 'CMSG_NETIF_FE_INTERFACE_QUERY',
  },
  [CMSG_NETIF_BE]: {
    [CMSG_NETIF_BE_CREATE]: 'CMSG_NETIF_BE_CREATE',
    [CMSG_NETIF_BE_DESTROY]: 'CMSG_NETIF_BE_DESTROY',
    [CMSG_NETIF_BE_CONNECT]: 'CMSG_NETIF_BE_CONNECT',
    [CMSG_NETIF_BE_DISCONNECT]: 'CMSG_NETIF_BE_DISCONNECT',
    [CMSG_NETIF_BE_DRIVER_STATUS]: 'CMSG_NETIF_BE_DRIVER_STATUS',
  },
  [CMSG_SHUTDOWN]: {
    [CMSG_SHUTDOWN_POWEROFF]: 'CMSG_SHUTDOWN_POWEROFF',
    [CMSG_SHUTDOWN_REBOOT]: 'CMSG_SHUTDOWN_REBOOT',
    [CMSG_SHUTDOWN_SUSPEND]: 'CMSG_SHUTDOWN_SUSPEND',
  },
  [CMSG_MEM_REQUEST]: { [CMSG_MEM_REQUEST_SET]: 'CMSG_MEM_REQUEST_SET' },
};

/** "CMSG_SHUTDOWN", or "type 9" for a type 2.0.0 does not define. */
export function cmsgTypeName(type: number): string {
  return TYPE_NAMES[type] ?? `type ${type}`;
}

/** "CMSG_BLKIF_BE_CONNECT", or "<type>/<subtype>" when the pair is not defined at 2.0.0. */
export function cmsgName(type: number, subtype: number): string {
  return SUBTYPE_NAMES[type]?.[subtype] ?? `${cmsgTypeName(type)}/${subtype}`;
}

// ---------------------------------------------------------------------------
// A message as a value, and its bytes in a ring slot

export interface CtrlMsg {
  type: number;
  subtype: number;
  id: number;
  /** As stored: a u8, so it may claim more than the 60 bytes msg holds. */
  length: number;
  /** Always 60 bytes; only the first `length` are meaningful. */
  readonly msg: Uint8Array;
}

/** A message with a zeroed payload. */
export function ctrlMsg(type: number, subtype: number, id = 0, payload?: Uint8Array): CtrlMsg {
  const m: CtrlMsg = { type, subtype, id, length: 0, msg: new Uint8Array(CTRL_MSG_MAX_PAYLOAD) };
  if (payload) setPayload(m, payload);
  return m;
}

/** Copies `payload` into msg and sets length; throws past 60 bytes (xu's "out of space in control message"). */
export function setPayload(m: CtrlMsg, payload: Uint8Array): void {
  if (payload.length > CTRL_MSG_MAX_PAYLOAD) throw new RangeError(`payload of ${payload.length} bytes: a control message holds ${CTRL_MSG_MAX_PAYLOAD}`);
  m.msg.fill(0);
  m.msg.set(payload);
  m.length = payload.length;
}

/** The valid payload bytes (a copy), never more than the 60 msg holds. */
export function payloadOf(m: CtrlMsg): Uint8Array {
  return m.msg.slice(0, Math.min(m.length, CTRL_MSG_MAX_PAYLOAD));
}

/** A deep copy. */
export function copyCtrlMsg(m: CtrlMsg): CtrlMsg {
  return { type: m.type, subtype: m.subtype, id: m.id, length: m.length, msg: m.msg.slice() };
}

/** All 64 bytes of the message at `offset`, copied out (length as stored, not clamped). */
export function readCtrlMsg(bytes: Uint8Array, offset: number): CtrlMsg {
  return {
    type: bytes[offset + CTRL_MSG_TYPE]!,
    subtype: bytes[offset + CTRL_MSG_SUBTYPE]!,
    id: bytes[offset + CTRL_MSG_ID]!,
    length: bytes[offset + CTRL_MSG_LENGTH]!,
    msg: bytes.slice(offset + CTRL_MSG_PAYLOAD, offset + CTRL_MSG_SIZE),
  };
}

/**
 * Writes all 64 bytes of `m` at `offset` (the memcpy of sizeof(control_msg_t)),
 * byte by byte: no subarray per message, since this is the console's hot path.
 */
export function writeCtrlMsg(bytes: Uint8Array, offset: number, m: CtrlMsg): void {
  bytes[offset + CTRL_MSG_TYPE] = m.type;
  bytes[offset + CTRL_MSG_SUBTYPE] = m.subtype;
  bytes[offset + CTRL_MSG_ID] = m.id;
  bytes[offset + CTRL_MSG_LENGTH] = m.length;
  const src = m.msg;
  const p = offset + CTRL_MSG_PAYLOAD;
  const n = Math.min(src.length, CTRL_MSG_MAX_PAYLOAD);
  for (let i = 0; i < n; i++) bytes[p + i] = src[i]!;
}

/** The four u32 indexes of control_if_t, read and written in place (x86_32: little-endian). */
export class ControlIfIndexes {
  private readonly view: DataView;
  constructor(
    readonly page: Uint8Array,
    readonly base = CONTROL_IF_PAGE_OFFSET,
  ) {
    this.view = new DataView(page.buffer, page.byteOffset + base, CONTROL_IF_SIZE);
  }
  get txReqProd(): number {
    return this.view.getUint32(CONTROL_IF_TX_REQ_PROD, true);
  }
  set txReqProd(v: number) {
    this.view.setUint32(CONTROL_IF_TX_REQ_PROD, v >>> 0, true);
  }
  get txRespProd(): number {
    return this.view.getUint32(CONTROL_IF_TX_RESP_PROD, true);
  }
  set txRespProd(v: number) {
    this.view.setUint32(CONTROL_IF_TX_RESP_PROD, v >>> 0, true);
  }
  get rxReqProd(): number {
    return this.view.getUint32(CONTROL_IF_RX_REQ_PROD, true);
  }
  set rxReqProd(v: number) {
    this.view.setUint32(CONTROL_IF_RX_REQ_PROD, v >>> 0, true);
  }
  get rxRespProd(): number {
    return this.view.getUint32(CONTROL_IF_RX_RESP_PROD, true);
  }
  set rxRespProd(v: number) {
    this.view.setUint32(CONTROL_IF_RX_RESP_PROD, v >>> 0, true);
  }
}

// ---------------------------------------------------------------------------
// Payload structs: one field table per struct gives its layout, encoder and decoder.

interface KindValues {
  u8: number;
  u16: number;
  u32: number;
  u64: bigint;
  mac: Uint8Array;
}
type ValueKind = keyof KindValues;
type Kind = ValueKind | 'pad16' | 'pad32';

const KIND_SIZE: Readonly<Record<Kind, number>> = { u8: 1, u16: 2, u32: 4, u64: 8, mac: 6, pad16: 2, pad32: 4 };

export interface StructField<N extends string = string, K extends Kind = Kind> {
  readonly name: N;
  readonly kind: K;
  readonly offset: number;
  readonly description: string;
}

type ValueFields<F extends readonly StructField[]> = Extract<F[number], StructField<string, ValueKind>>;
/** The decoded value of a struct: one property per non-padding field. */
export type StructValue<F extends readonly StructField[]> = { [E in ValueFields<F> as E['name']]: KindValues[E['kind']] };

export interface PayloadStruct<F extends readonly StructField[] = readonly StructField[]> {
  /** The C typedef name. */
  readonly name: string;
  /** sizeof, which is the message length the sender sets. */
  readonly size: number;
  readonly fields: F;
  readonly layout: readonly LayoutField[];
  /** The struct's bytes; missing fields and padding are 0. */
  encode(value: Partial<StructValue<F>>): Uint8Array;
  /** Reads the fields from `bytes` (shorter input reads as zero-filled). */
  decode(bytes: Uint8Array): StructValue<F>;
}

function f<N extends string, K extends Kind>(name: N, kind: K, offset: number, description: string): StructField<N, K> {
  return { name, kind, offset, description };
}

function writeField(view: DataView, out: Uint8Array, field: StructField, value: unknown): void {
  const at = field.offset;
  switch (field.kind) {
    case 'u8':
      view.setUint8(at, Number(value ?? 0));
      return;
    case 'u16':
      view.setUint16(at, Number(value ?? 0), true);
      return;
    case 'u32':
      view.setUint32(at, Number(value ?? 0) >>> 0, true);
      return;
    case 'u64':
      view.setBigUint64(at, BigInt((value as bigint | number | undefined) ?? 0), true);
      return;
    case 'mac':
      if (value instanceof Uint8Array) out.set(value.subarray(0, 6), at);
      return;
    default:
      return; // padding stays 0
  }
}

function readField(view: DataView, bytes: Uint8Array, field: StructField): number | bigint | Uint8Array {
  const at = field.offset;
  switch (field.kind) {
    case 'u8':
      return view.getUint8(at);
    case 'u16':
      return view.getUint16(at, true);
    case 'u64':
      return view.getBigUint64(at, true);
    case 'mac':
      return bytes.slice(at, at + 6);
    default:
      return view.getUint32(at, true);
  }
}

function defineStruct<const F extends readonly StructField[]>(name: string, size: number, fields: F): PayloadStruct<F> {
  const layout = fields.map((fl) => ({ field: fl.name, offset: fl.offset, size: KIND_SIZE[fl.kind], description: fl.description }));
  return {
    name,
    size,
    fields,
    layout,
    encode(value) {
      const out = new Uint8Array(size);
      const view = new DataView(out.buffer);
      const v = value as Record<string, unknown>;
      for (const fl of fields) writeField(view, out, fl, v[fl.name]);
      return out;
    },
    decode(bytes) {
      const buf = new Uint8Array(size);
      buf.set(bytes.subarray(0, size));
      const view = new DataView(buf.buffer);
      const out: Record<string, number | bigint | Uint8Array> = {};
      for (const fl of fields) if (fl.kind !== 'pad16' && fl.kind !== 'pad32') out[fl.name] = readField(view, buf, fl);
      return out as StructValue<F>;
    },
  };
}

const DOMID = 'domid_t: the domain the interface belongs to';
const STATUS_OUT = 'OUT: *_STATUS_* result filled in by the back end';
const MEMORY_PADDING = 'MEMORY_PADDING: memory_t is 32 bits on x86_32';

// Block front end (guest ↔ controller)

export const BLKIF_FE_INTERFACE_STATUS = defineStruct('blkif_fe_interface_status_t', 12, [
  f('handle', 'u32', 0, 'interface handle'),
  f('status', 'u32', 4, 'BLKIF_INTERFACE_STATUS_*'),
  f('evtchn', 'u16', 8, 'event channel (only when CONNECTED)'),
  f('domid', 'u16', 10, 'back-end domain'),
] as const);

export const BLKIF_FE_DRIVER_STATUS = defineStruct('blkif_fe_driver_status_t', 8, [
  f('status', 'u32', 0, 'IN: BLKIF_DRIVER_STATUS_DOWN/UP'),
  f('max_handle', 'u32', 4, 'OUT: the front end should query handles 0..max_handle'),
] as const);

export const BLKIF_FE_INTERFACE_CONNECT = defineStruct('blkif_fe_interface_connect_t', 16, [
  f('handle', 'u32', 0, 'interface handle'),
  f('__pad', 'pad32', 4, 'padding'),
  f('shmem_frame', 'u32', 8, 'memory_t: frame of the shared ring page'),
  f('__pad_shmem_frame', 'pad32', 12, MEMORY_PADDING),
] as const);

export const BLKIF_FE_INTERFACE_DISCONNECT = defineStruct('blkif_fe_interface_disconnect_t', 4, [
  f('handle', 'u32', 0, 'interface handle'),
] as const);

export const BLKIF_FE_INTERFACE_QUERY = defineStruct('blkif_fe_interface_query_t', 12, [
  f('handle', 'u32', 0, 'IN: interface handle'),
  f('status', 'u32', 4, 'OUT: BLKIF_INTERFACE_STATUS_*'),
  f('evtchn', 'u16', 8, 'OUT: event channel (only when CONNECTED)'),
  f('domid', 'u16', 10, 'OUT: back-end domain'),
] as const);

// Block back end (controller ↔ back-end driver, usually in dom0)

export const BLKIF_EXTENT = defineStruct('blkif_extent_t', 20, [
  f('sector_start', 'u64', 0, 'blkif_sector_t: first sector of the extent'),
  f('sector_length', 'u64', 8, 'blkif_sector_t: sectors in the extent'),
  f('device', 'u16', 16, 'blkif_pdev_t: physical device'),
  f('__pad', 'pad16', 18, 'padding'),
] as const);

function blkifBeSimple(name: string) {
  return defineStruct(name, 12, [
    f('domid', 'u16', 0, DOMID),
    f('__pad', 'pad16', 2, 'padding'),
    f('blkif_handle', 'u32', 4, 'domain-specific interface handle'),
    f('status', 'u32', 8, STATUS_OUT),
  ] as const);
}

export const BLKIF_BE_CREATE = blkifBeSimple('blkif_be_create_t');
export const BLKIF_BE_DESTROY = blkifBeSimple('blkif_be_destroy_t');
export const BLKIF_BE_DISCONNECT = blkifBeSimple('blkif_be_disconnect_t');

export const BLKIF_BE_CONNECT = defineStruct('blkif_be_connect_t', 24, [
  f('domid', 'u16', 0, DOMID),
  f('__pad', 'pad16', 2, 'padding'),
  f('blkif_handle', 'u32', 4, 'domain-specific interface handle'),
  f('shmem_frame', 'u32', 8, 'memory_t: frame of the shared ring page'),
  f('__pad_shmem_frame', 'pad32', 12, MEMORY_PADDING),
  f('evtchn', 'u32', 16, "event channel (the back end's port)"),
  f('status', 'u32', 20, STATUS_OUT),
] as const);

/** The VBD destroy/shrink shape: a vdevice and padding where vbd_create has readonly. */
function blkifBeVbd(name: string) {
  return defineStruct(name, 16, [
    f('domid', 'u16', 0, DOMID),
    f('__pad0', 'pad16', 2, 'padding'),
    f('blkif_handle', 'u32', 4, 'domain-specific interface handle'),
    f('vdevice', 'u16', 8, 'blkif_vdev_t: interface-specific id of the VBD'),
    f('__pad1', 'pad16', 10, 'padding'),
    f('status', 'u32', 12, STATUS_OUT),
  ] as const);
}

export const BLKIF_BE_VBD_CREATE = defineStruct('blkif_be_vbd_create_t', 16, [
  f('domid', 'u16', 0, DOMID),
  f('__pad', 'pad16', 2, 'padding'),
  f('blkif_handle', 'u32', 4, 'domain-specific interface handle'),
  f('vdevice', 'u16', 8, 'blkif_vdev_t: interface-specific id of the VBD'),
  f('readonly', 'u16', 10, 'non-zero: the VBD is read-only'),
  f('status', 'u32', 12, STATUS_OUT),
] as const);
export const BLKIF_BE_VBD_DESTROY = blkifBeVbd('blkif_be_vbd_destroy_t');
export const BLKIF_BE_VBD_SHRINK = blkifBeVbd('blkif_be_vbd_shrink_t');

export const BLKIF_BE_VBD_GROW = defineStruct('blkif_be_vbd_grow_t', 36, [
  f('domid', 'u16', 0, DOMID),
  f('__pad0', 'pad16', 2, 'padding'),
  f('blkif_handle', 'u32', 4, 'domain-specific interface handle'),
  f('extent.sector_start', 'u64', 8, 'blkif_extent_t: first sector'),
  f('extent.sector_length', 'u64', 16, 'blkif_extent_t: sectors'),
  f('extent.device', 'u16', 24, 'blkif_extent_t: physical device'),
  f('extent.__pad', 'pad16', 26, 'blkif_extent_t: padding'),
  f('vdevice', 'u16', 28, 'blkif_vdev_t: interface-specific id of the VBD'),
  f('__pad1', 'pad16', 30, 'padding'),
  f('status', 'u32', 32, STATUS_OUT),
] as const);

export const BLKIF_BE_DRIVER_STATUS = defineStruct('blkif_be_driver_status_t', 4, [
  f('status', 'u32', 0, 'BLKIF_DRIVER_STATUS_DOWN/UP'),
] as const);

// Network front end

export const NETIF_FE_INTERFACE_STATUS = defineStruct('netif_fe_interface_status_t', 18, [
  f('handle', 'u32', 0, 'interface handle'),
  f('status', 'u32', 4, 'NETIF_INTERFACE_STATUS_*'),
  f('evtchn', 'u16', 8, 'event channel (only when CONNECTED)'),
  f('mac', 'mac', 10, 'MAC address (only when CONNECTED)'),
  f('domid', 'u16', 16, 'back-end domain'),
] as const);

export const NETIF_FE_DRIVER_STATUS = defineStruct('netif_fe_driver_status_t', 8, [
  f('status', 'u32', 0, 'IN: NETIF_DRIVER_STATUS_DOWN/UP'),
  f('max_handle', 'u32', 4, 'OUT: the front end should query handles 0..max_handle'),
] as const);

export const NETIF_FE_INTERFACE_CONNECT = defineStruct('netif_fe_interface_connect_t', 24, [
  f('handle', 'u32', 0, 'interface handle'),
  f('__pad', 'pad32', 4, 'padding'),
  f('tx_shmem_frame', 'u32', 8, 'memory_t: frame of the tx ring page'),
  f('__pad_tx_shmem_frame', 'pad32', 12, MEMORY_PADDING),
  f('rx_shmem_frame', 'u32', 16, 'memory_t: frame of the rx ring page'),
  f('__pad_rx_shmem_frame', 'pad32', 20, MEMORY_PADDING),
] as const);

export const NETIF_FE_INTERFACE_DISCONNECT = defineStruct('netif_fe_interface_disconnect_t', 4, [
  f('handle', 'u32', 0, 'interface handle'),
] as const);

export const NETIF_FE_INTERFACE_QUERY = defineStruct('netif_fe_interface_query_t', 18, [
  f('handle', 'u32', 0, 'IN: interface handle'),
  f('status', 'u32', 4, 'OUT: NETIF_INTERFACE_STATUS_*'),
  f('evtchn', 'u16', 8, 'OUT: event channel (only when CONNECTED)'),
  f('mac', 'mac', 10, 'OUT: MAC address (only when CONNECTED)'),
  f('domid', 'u16', 16, 'OUT: back-end domain'),
] as const);

// Network back end

export const NETIF_BE_CREATE = defineStruct('netif_be_create_t', 20, [
  f('domid', 'u16', 0, DOMID),
  f('__pad0', 'pad16', 2, 'padding'),
  f('netif_handle', 'u32', 4, 'domain-specific interface handle'),
  f('mac', 'mac', 8, 'MAC address'),
  f('__pad1', 'pad16', 14, 'padding'),
  f('status', 'u32', 16, STATUS_OUT),
] as const);

function netifBeSimple(name: string) {
  return defineStruct(name, 12, [
    f('domid', 'u16', 0, DOMID),
    f('__pad', 'pad16', 2, 'padding'),
    f('netif_handle', 'u32', 4, 'domain-specific interface handle'),
    f('status', 'u32', 8, STATUS_OUT),
  ] as const);
}

export const NETIF_BE_DESTROY = netifBeSimple('netif_be_destroy_t');
export const NETIF_BE_DISCONNECT = netifBeSimple('netif_be_disconnect_t');

export const NETIF_BE_CONNECT = defineStruct('netif_be_connect_t', 32, [
  f('domid', 'u16', 0, DOMID),
  f('__pad0', 'pad16', 2, 'padding'),
  f('netif_handle', 'u32', 4, 'domain-specific interface handle'),
  f('tx_shmem_frame', 'u32', 8, 'memory_t: frame of the tx ring page'),
  f('__pad_tx_shmem_frame', 'pad32', 12, MEMORY_PADDING),
  f('rx_shmem_frame', 'u32', 16, 'memory_t: frame of the rx ring page'),
  f('__pad_rx_shmem_frame', 'pad32', 20, MEMORY_PADDING),
  f('evtchn', 'u16', 24, "event channel (the back end's port)"),
  f('__pad1', 'pad16', 26, 'padding'),
  f('status', 'u32', 28, STATUS_OUT),
] as const);

export const NETIF_BE_DRIVER_STATUS = defineStruct('netif_be_driver_status_t', 4, [
  f('status', 'u32', 0, 'NETIF_DRIVER_STATUS_DOWN/UP'),
] as const);

// Memory reservation (controller → guest balloon driver)

export const MEM_REQUEST = defineStruct('mem_request_t', 8, [
  f('target', 'u32', 0, 'target reservation in pages (set by the controller)'),
  f('status', 'u32', 4, 'result (set by the guest)'),
] as const);

/** Every payload struct of 2.0.0, for layout listings. */
export const PAYLOAD_STRUCTS: readonly PayloadStruct[] = [
  BLKIF_FE_INTERFACE_STATUS,
  BLKIF_FE_DRIVER_STATUS,
  BLKIF_FE_INTERFACE_CONNECT,
  BLKIF_FE_INTERFACE_DISCONNECT,
  BLKIF_FE_INTERFACE_QUERY,
  BLKIF_EXTENT,
  BLKIF_BE_CREATE,
  BLKIF_BE_DESTROY,
  BLKIF_BE_CONNECT,
  BLKIF_BE_DISCONNECT,
  BLKIF_BE_VBD_CREATE,
  BLKIF_BE_VBD_DESTROY,
  BLKIF_BE_VBD_GROW,
  BLKIF_BE_VBD_SHRINK,
  BLKIF_BE_DRIVER_STATUS,
  NETIF_FE_INTERFACE_STATUS,
  NETIF_FE_DRIVER_STATUS,
  NETIF_FE_INTERFACE_CONNECT,
  NETIF_FE_INTERFACE_DISCONNECT,
  NETIF_FE_INTERFACE_QUERY,
  NETIF_BE_CREATE,
  NETIF_BE_DESTROY,
  NETIF_BE_CONNECT,
  NETIF_BE_DISCONNECT,
  NETIF_BE_DRIVER_STATUS,
  MEM_REQUEST,
];

const STRUCT_BY_MESSAGE: ReadonlyMap<number, PayloadStruct> = new Map<number, PayloadStruct>([
  [key(CMSG_BLKIF_FE, CMSG_BLKIF_FE_INTERFACE_STATUS), BLKIF_FE_INTERFACE_STATUS],
  [key(CMSG_BLKIF_FE, CMSG_BLKIF_FE_DRIVER_STATUS), BLKIF_FE_DRIVER_STATUS],
  [key(CMSG_BLKIF_FE, CMSG_BLKIF_FE_INTERFACE_CONNECT), BLKIF_FE_INTERFACE_CONNECT],
  [key(CMSG_BLKIF_FE, CMSG_BLKIF_FE_INTERFACE_DISCONNECT), BLKIF_FE_INTERFACE_DISCONNECT],
  [key(CMSG_BLKIF_FE, CMSG_BLKIF_FE_INTERFACE_QUERY), BLKIF_FE_INTERFACE_QUERY],
  [key(CMSG_BLKIF_BE, CMSG_BLKIF_BE_CREATE), BLKIF_BE_CREATE],
  [key(CMSG_BLKIF_BE, CMSG_BLKIF_BE_DESTROY), BLKIF_BE_DESTROY],
  [key(CMSG_BLKIF_BE, CMSG_BLKIF_BE_CONNECT), BLKIF_BE_CONNECT],
  [key(CMSG_BLKIF_BE, CMSG_BLKIF_BE_DISCONNECT), BLKIF_BE_DISCONNECT],
  [key(CMSG_BLKIF_BE, CMSG_BLKIF_BE_VBD_CREATE), BLKIF_BE_VBD_CREATE],
  [key(CMSG_BLKIF_BE, CMSG_BLKIF_BE_VBD_DESTROY), BLKIF_BE_VBD_DESTROY],
  [key(CMSG_BLKIF_BE, CMSG_BLKIF_BE_VBD_GROW), BLKIF_BE_VBD_GROW],
  [key(CMSG_BLKIF_BE, CMSG_BLKIF_BE_VBD_SHRINK), BLKIF_BE_VBD_SHRINK],
  [key(CMSG_BLKIF_BE, CMSG_BLKIF_BE_DRIVER_STATUS), BLKIF_BE_DRIVER_STATUS],
  [key(CMSG_NETIF_FE, CMSG_NETIF_FE_INTERFACE_STATUS), NETIF_FE_INTERFACE_STATUS],
  [key(CMSG_NETIF_FE, CMSG_NETIF_FE_DRIVER_STATUS), NETIF_FE_DRIVER_STATUS],
  [key(CMSG_NETIF_FE, CMSG_NETIF_FE_INTERFACE_CONNECT), NETIF_FE_INTERFACE_CONNECT],
  [key(CMSG_NETIF_FE, CMSG_NETIF_FE_INTERFACE_DISCONNECT), NETIF_FE_INTERFACE_DISCONNECT],
  [key(CMSG_NETIF_FE, CMSG_NETIF_FE_INTERFACE_QUERY), NETIF_FE_INTERFACE_QUERY],
  [key(CMSG_NETIF_BE, CMSG_NETIF_BE_CREATE), NETIF_BE_CREATE],
  [key(CMSG_NETIF_BE, CMSG_NETIF_BE_DESTROY), NETIF_BE_DESTROY],
  [key(CMSG_NETIF_BE, CMSG_NETIF_BE_CONNECT), NETIF_BE_CONNECT],
  [key(CMSG_NETIF_BE, CMSG_NETIF_BE_DISCONNECT), NETIF_BE_DISCONNECT],
  [key(CMSG_NETIF_BE, CMSG_NETIF_BE_DRIVER_STATUS), NETIF_BE_DRIVER_STATUS],
  [key(CMSG_MEM_REQUEST, CMSG_MEM_REQUEST_SET), MEM_REQUEST],
]);

function key(type: number, subtype: number): number {
  return (type << 8) | subtype;
}

/**
 * The struct a (type, subtype) carries, or undefined: console data is raw
 * bytes, the shutdown subtypes carry nothing, and unknown pairs are opaque.
 */
export function payloadStruct(type: number, subtype: number): PayloadStruct | undefined {
  return STRUCT_BY_MESSAGE.get(key(type, subtype));
}
