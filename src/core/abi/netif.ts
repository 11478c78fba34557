/**
 * The network split driver's wire format, as xen/include/public/io/netif.h
 * lays it out for x86-64: the tx and rx ring entries (each ring's slot is
 * the union of its request and response), netif_extra_info, the NETTXF_* /
 * NETRXF_* flags and NETIF_RSP_* statuses, the xenstore keys both ends use,
 * and MAC address helpers. Fields are little-endian and read and written in
 * place on a ring slot, as the drivers do through RING_GET_REQUEST/RESPONSE.
 */
import type { LayoutField } from './layout.js';

// ---------------------------------------------------------------------------
// Guest transmit: struct netif_tx_request (12 bytes) and netif_tx_response (4 bytes)

export const NETIF_TX_REQUEST_GREF = 0;
export const NETIF_TX_REQUEST_OFFSET = 4;
export const NETIF_TX_REQUEST_FLAGS = 6;
export const NETIF_TX_REQUEST_ID = 8;
export const NETIF_TX_REQUEST_SIZE_FIELD = 10;
export const NETIF_TX_REQUEST_SIZE = 12;

export const NETIF_TX_RESPONSE_ID = 0;
export const NETIF_TX_RESPONSE_STATUS = 2;
export const NETIF_TX_RESPONSE_SIZE = 4;

/** A tx ring slot: the union of request (12) and response (4). */
export const NETIF_TX_SLOT_SIZE = 12;

// Guest receive: struct netif_rx_request (8 bytes) and netif_rx_response (8 bytes)

export const NETIF_RX_REQUEST_ID = 0;
export const NETIF_RX_REQUEST_PAD = 2;
export const NETIF_RX_REQUEST_GREF = 4;
export const NETIF_RX_REQUEST_SIZE = 8;

export const NETIF_RX_RESPONSE_ID = 0;
export const NETIF_RX_RESPONSE_OFFSET = 2;
export const NETIF_RX_RESPONSE_FLAGS = 4;
export const NETIF_RX_RESPONSE_STATUS = 6;
export const NETIF_RX_RESPONSE_SIZE = 8;

/** An rx ring slot: request and response are both 8 bytes. */
export const NETIF_RX_SLOT_SIZE = 8;

/**
 * Slots per one-page ring (__RING_SIZE: (4096 - 64) / slot, rounded down to a
 * power of two): 336 → 256 for tx, 504 → 256 for rx. Linux's NET_TX_RING_SIZE
 * and NET_RX_RING_SIZE.
 */
export const NET_TX_RING_SIZE = 256;
export const NET_RX_RING_SIZE = 256;

// struct netif_extra_info (8 bytes; it overlays a tx request or an rx response)

export const NETIF_EXTRA_INFO_TYPE = 0;
export const NETIF_EXTRA_INFO_FLAGS = 1;
/** u.gso.size, u.gso.type, u.gso.pad, u.gso.features. */
export const NETIF_EXTRA_INFO_GSO_SIZE = 2;
export const NETIF_EXTRA_INFO_GSO_TYPE = 4;
export const NETIF_EXTRA_INFO_GSO_PAD = 5;
export const NETIF_EXTRA_INFO_GSO_FEATURES = 6;
/** u.mcast.addr[6]. */
export const NETIF_EXTRA_INFO_MCAST_ADDR = 2;
/** u.hash.type, u.hash.algorithm, u.hash.value[4]. */
export const NETIF_EXTRA_INFO_HASH_TYPE = 2;
export const NETIF_EXTRA_INFO_HASH_ALGORITHM = 3;
export const NETIF_EXTRA_INFO_HASH_VALUE = 4;
export const NETIF_EXTRA_INFO_SIZE = 8;

export const NETIF_TX_REQUEST_LAYOUT: readonly LayoutField[] = [
  { field: 'gref', offset: NETIF_TX_REQUEST_GREF, size: 4, description: 'grant reference of the page holding this fragment' },
  { field: 'offset', offset: NETIF_TX_REQUEST_OFFSET, size: 2, description: 'where the fragment starts in that page' },
  { field: 'flags', offset: NETIF_TX_REQUEST_FLAGS, size: 2, description: 'NETTXF_*' },
  { field: 'id', offset: NETIF_TX_REQUEST_ID, size: 2, description: 'echoed in the response' },
  { field: 'size', offset: NETIF_TX_REQUEST_SIZE_FIELD, size: 2, description: 'first slot: the whole packet; later slots: this fragment' },
];

export const NETIF_TX_RESPONSE_LAYOUT: readonly LayoutField[] = [
  { field: 'id', offset: NETIF_TX_RESPONSE_ID, size: 2, description: "the request's id" },
  { field: 'status', offset: NETIF_TX_RESPONSE_STATUS, size: 2, description: 'NETIF_RSP_* (signed)' },
];

export const NETIF_RX_REQUEST_LAYOUT: readonly LayoutField[] = [
  { field: 'id', offset: NETIF_RX_REQUEST_ID, size: 2, description: 'echoed in the response' },
  { field: 'pad', offset: NETIF_RX_REQUEST_PAD, size: 2, description: 'padding' },
  { field: 'gref', offset: NETIF_RX_REQUEST_GREF, size: 4, description: 'grant reference of an empty page the backend may fill' },
];

export const NETIF_RX_RESPONSE_LAYOUT: readonly LayoutField[] = [
  { field: 'id', offset: NETIF_RX_RESPONSE_ID, size: 2, description: "the request's id" },
  { field: 'offset', offset: NETIF_RX_RESPONSE_OFFSET, size: 2, description: 'where the packet starts in the page' },
  { field: 'flags', offset: NETIF_RX_RESPONSE_FLAGS, size: 2, description: 'NETRXF_*' },
  { field: 'status', offset: NETIF_RX_RESPONSE_STATUS, size: 2, description: 'negative: NETIF_RSP_*; otherwise the bytes received' },
];

export const NETIF_EXTRA_INFO_LAYOUT: readonly LayoutField[] = [
  { field: 'type', offset: NETIF_EXTRA_INFO_TYPE, size: 1, description: 'XEN_NETIF_EXTRA_TYPE_*' },
  { field: 'flags', offset: NETIF_EXTRA_INFO_FLAGS, size: 1, description: 'XEN_NETIF_EXTRA_FLAG_*' },
  { field: 'u.gso.size', offset: NETIF_EXTRA_INFO_GSO_SIZE, size: 2, description: 'GSO: the largest segment payload (the MSS for TCP)' },
  { field: 'u.gso.type', offset: NETIF_EXTRA_INFO_GSO_TYPE, size: 1, description: 'GSO: XEN_NETIF_GSO_TYPE_*' },
  { field: 'u.gso.pad', offset: NETIF_EXTRA_INFO_GSO_PAD, size: 1, description: 'GSO: padding' },
  { field: 'u.gso.features', offset: NETIF_EXTRA_INFO_GSO_FEATURES, size: 2, description: 'GSO: XEN_NETIF_GSO_FEAT_*' },
];

// ---------------------------------------------------------------------------
// Flags, types and statuses

/** Transmit flags (netif_tx_request.flags). */
export const NETTXF_csum_blank = 1 << 0;
export const NETTXF_data_validated = 1 << 1;
/** The packet continues in the next request. */
export const NETTXF_more_data = 1 << 2;
/** Extra info slot(s) follow this request. */
export const NETTXF_extra_info = 1 << 3;

/** Receive flags (netif_rx_response.flags). Note the first two swap places with NETTXF_*. */
export const NETRXF_data_validated = 1 << 0;
export const NETRXF_csum_blank = 1 << 1;
export const NETRXF_more_data = 1 << 2;
export const NETRXF_extra_info = 1 << 3;
export const NETRXF_gso_prefix = 1 << 4;

export const XEN_NETIF_EXTRA_TYPE_NONE = 0;
export const XEN_NETIF_EXTRA_TYPE_GSO = 1;
export const XEN_NETIF_EXTRA_TYPE_MCAST_ADD = 2;
export const XEN_NETIF_EXTRA_TYPE_MCAST_DEL = 3;
export const XEN_NETIF_EXTRA_TYPE_HASH = 4;
export const XEN_NETIF_EXTRA_TYPE_MAX = 5;
export const XEN_NETIF_EXTRA_FLAG_MORE = 1 << 0;

export const XEN_NETIF_GSO_TYPE_NONE = 0;
export const XEN_NETIF_GSO_TYPE_TCPV4 = 1;
export const XEN_NETIF_GSO_TYPE_TCPV6 = 2;

/** The largest packet a tx request can describe (its size field is 16 bits). */
export const XEN_NETIF_MAX_TX_SIZE = 0xffff;
/** Slots a backend must accept for one packet without negotiation (old Linux's MAX_SKB_FRAGS). */
export const XEN_NETIF_NR_SLOTS_MIN = 18;

export const NETIF_RSP_DROPPED = -2;
export const NETIF_RSP_ERROR = -1;
export const NETIF_RSP_OKAY = 0;
/** No response: the slot held an auxiliary request (an extra info). */
export const NETIF_RSP_NULL = 1;

export const NETIF_RSP_NAMES: Readonly<Record<number, string>> = {
  [NETIF_RSP_DROPPED]: 'NETIF_RSP_DROPPED',
  [NETIF_RSP_ERROR]: 'NETIF_RSP_ERROR',
  [NETIF_RSP_OKAY]: 'NETIF_RSP_OKAY',
  [NETIF_RSP_NULL]: 'NETIF_RSP_NULL',
};

// ---------------------------------------------------------------------------
// Ethernet sizes the drivers check against (Linux's if_ether.h / if_vlan.h)

export const ETH_ALEN = 6;
export const ETH_HLEN = 14;
export const ETH_DATA_LEN = 1500;
export const ETH_FRAME_LEN = 1514;
export const VLAN_HLEN = 4;
/** The largest frame the bridge carries: ETH_FRAME_LEN plus one VLAN tag (NetBSD xennetback's limit with VLANs). */
export const NETIF_MAX_FRAME = ETH_FRAME_LEN + VLAN_HLEN;

// ---------------------------------------------------------------------------
// xenstore keys (netif.h, xen-netfront.c's talk_to_netback, xen-netback/xenbus.c's netback_probe)

/** Written by the frontend in its own directory. */
export const NETIF_FRONTEND_KEYS = {
  txRingRef: 'tx-ring-ref',
  rxRingRef: 'rx-ring-ref',
  /** One channel for both rings (without feature-split-event-channels). */
  eventChannel: 'event-channel',
  eventChannelTx: 'event-channel-tx',
  eventChannelRx: 'event-channel-rx',
  requestRxCopy: 'request-rx-copy',
  /** The frontend kicks the backend when it posts rx buffers, so the backend may queue packets. */
  featureRxNotify: 'feature-rx-notify',
  featureSg: 'feature-sg',
  featureGsoTcpv4: 'feature-gso-tcpv4',
  featureGsoTcpv6: 'feature-gso-tcpv6',
  featureNoCsumOffload: 'feature-no-csum-offload',
  multiQueueNumQueues: 'multi-queue-num-queues',
  /** Written by the toolstack: the guest's MAC and the interface number. */
  mac: 'mac',
  handle: 'handle',
  mtu: 'mtu',
} as const;

/** Written in the backend's directory, by the backend (features) or the toolstack (mac, handle, bridge). */
export const NETIF_BACKEND_KEYS = {
  featureRxCopy: 'feature-rx-copy',
  featureRxFlip: 'feature-rx-flip',
  featureSg: 'feature-sg',
  featureGsoTcpv4: 'feature-gso-tcpv4',
  featureGsoTcpv6: 'feature-gso-tcpv6',
  featureSplitEventChannels: 'feature-split-event-channels',
  multiQueueMaxQueues: 'multi-queue-max-queues',
  mac: 'mac',
  handle: 'handle',
  bridge: 'bridge',
  carrier: 'carrier',
} as const;

// ---------------------------------------------------------------------------
// In-place encode/decode on ring slots

function u16(b: Uint8Array, at: number): number {
  return b[at]! | (b[at + 1]! << 8);
}
function s16(b: Uint8Array, at: number): number {
  return (u16(b, at) << 16) >> 16;
}
function u32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}
function put16(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = (v >>> 8) & 0xff;
}
function put32(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = (v >>> 8) & 0xff;
  b[at + 2] = (v >>> 16) & 0xff;
  b[at + 3] = (v >>> 24) & 0xff;
}

export interface NetifTxRequest {
  gref: number;
  offset: number;
  flags: number;
  id: number;
  size: number;
}
export interface NetifTxResponse {
  id: number;
  status: number;
}
export interface NetifRxRequest {
  id: number;
  gref: number;
}
export interface NetifRxResponse {
  id: number;
  offset: number;
  flags: number;
  status: number;
}
export interface NetifExtraInfo {
  type: number;
  flags: number;
  /** The 6 bytes of the union u, as they lie in the slot. */
  u: Uint8Array;
}

export function writeTxRequest(slot: Uint8Array, r: NetifTxRequest): void {
  put32(slot, NETIF_TX_REQUEST_GREF, r.gref);
  put16(slot, NETIF_TX_REQUEST_OFFSET, r.offset);
  put16(slot, NETIF_TX_REQUEST_FLAGS, r.flags);
  put16(slot, NETIF_TX_REQUEST_ID, r.id);
  put16(slot, NETIF_TX_REQUEST_SIZE_FIELD, r.size);
}

export function readTxRequest(slot: Uint8Array): NetifTxRequest {
  return {
    gref: u32(slot, NETIF_TX_REQUEST_GREF),
    offset: u16(slot, NETIF_TX_REQUEST_OFFSET),
    flags: u16(slot, NETIF_TX_REQUEST_FLAGS),
    id: u16(slot, NETIF_TX_REQUEST_ID),
    size: u16(slot, NETIF_TX_REQUEST_SIZE_FIELD),
  };
}

/** Writes only the 4 response bytes: the rest of the slot keeps what the request left (as in C). */
export function writeTxResponse(slot: Uint8Array, r: NetifTxResponse): void {
  put16(slot, NETIF_TX_RESPONSE_ID, r.id);
  put16(slot, NETIF_TX_RESPONSE_STATUS, r.status);
}

export function readTxResponse(slot: Uint8Array): NetifTxResponse {
  return { id: u16(slot, NETIF_TX_RESPONSE_ID), status: s16(slot, NETIF_TX_RESPONSE_STATUS) };
}

export function writeRxRequest(slot: Uint8Array, r: NetifRxRequest): void {
  put16(slot, NETIF_RX_REQUEST_ID, r.id);
  put16(slot, NETIF_RX_REQUEST_PAD, 0);
  put32(slot, NETIF_RX_REQUEST_GREF, r.gref);
}

export function readRxRequest(slot: Uint8Array): NetifRxRequest {
  return { id: u16(slot, NETIF_RX_REQUEST_ID), gref: u32(slot, NETIF_RX_REQUEST_GREF) };
}

export function writeRxResponse(slot: Uint8Array, r: NetifRxResponse): void {
  put16(slot, NETIF_RX_RESPONSE_ID, r.id);
  put16(slot, NETIF_RX_RESPONSE_OFFSET, r.offset);
  put16(slot, NETIF_RX_RESPONSE_FLAGS, r.flags);
  put16(slot, NETIF_RX_RESPONSE_STATUS, r.status);
}

export function readRxResponse(slot: Uint8Array): NetifRxResponse {
  return {
    id: u16(slot, NETIF_RX_RESPONSE_ID),
    offset: u16(slot, NETIF_RX_RESPONSE_OFFSET),
    flags: u16(slot, NETIF_RX_RESPONSE_FLAGS),
    status: s16(slot, NETIF_RX_RESPONSE_STATUS),
  };
}

/** Writes the 8 bytes of netif_extra_info (a tx slot's last 4 bytes are left alone). */
export function writeExtraInfo(slot: Uint8Array, e: NetifExtraInfo): void {
  slot[NETIF_EXTRA_INFO_TYPE] = e.type;
  slot[NETIF_EXTRA_INFO_FLAGS] = e.flags;
  slot.fill(0, 2, NETIF_EXTRA_INFO_SIZE);
  slot.set(e.u.subarray(0, NETIF_EXTRA_INFO_SIZE - 2), 2);
}

export function readExtraInfo(slot: Uint8Array): NetifExtraInfo {
  return { type: slot[NETIF_EXTRA_INFO_TYPE]!, flags: slot[NETIF_EXTRA_INFO_FLAGS]!, u: slot.slice(2, NETIF_EXTRA_INFO_SIZE) };
}

/** u.gso as a GSO extra carries it. */
export function extraGso(e: NetifExtraInfo): { size: number; type: number; features: number } {
  const at = (off: number): number => off - 2;
  return { size: u16(e.u, at(NETIF_EXTRA_INFO_GSO_SIZE)), type: e.u[at(NETIF_EXTRA_INFO_GSO_TYPE)]!, features: u16(e.u, at(NETIF_EXTRA_INFO_GSO_FEATURES)) };
}

// ---------------------------------------------------------------------------
// MAC addresses

/** Xen's OUI: libxl makes a vif's MAC 00:16:3e plus three bytes of its own. */
export const XEN_OUI: readonly number[] = [0x00, 0x16, 0x3e];
export const BROADCAST_MAC = 'ff:ff:ff:ff:ff:ff';

/**
 * "00:16:3e:12:34:56" → its six bytes, or undefined. Six hex fields of one or
 * two digits split by ':' (what xen_net_read_mac accepts: strtoul per field,
 * ':' between, nothing after the last).
 */
export function parseMac(text: string): Uint8Array | undefined {
  const parts = text.split(':');
  if (parts.length !== ETH_ALEN) return undefined;
  const out = new Uint8Array(ETH_ALEN);
  for (let i = 0; i < ETH_ALEN; i++) {
    const p = parts[i]!;
    if (!/^[0-9a-fA-F]{1,2}$/.test(p)) return undefined;
    out[i] = parseInt(p, 16);
  }
  return out;
}

/** Six bytes as "00:16:3e:12:34:56" (lower case, two digits each, as libxl writes it). */
export function formatMac(mac: Uint8Array, at = 0): string {
  let s = '';
  for (let i = 0; i < ETH_ALEN; i++) {
    if (i > 0) s += ':';
    s += (mac[at + i] ?? 0).toString(16).padStart(2, '0');
  }
  return s;
}

/**
 * A deterministic Xen MAC for a guest's vif: the OUI, then the domid's two
 * bytes and the vif number. libxl picks the last three at random (clearing
 * the top bit of the fourth, as here); a simulation wants the same every run.
 */
export function xenMac(domid: number, devid: number): string {
  return formatMac(Uint8Array.of(...XEN_OUI, (domid >>> 8) & 0x7f, domid & 0xff, devid & 0xff));
}

/** Group bit: broadcast and multicast destinations (the bridge floods them). */
export function isMulticastMac(mac: Uint8Array, at = 0): boolean {
  return ((mac[at] ?? 0) & 1) !== 0;
}

export function isBroadcastMac(mac: Uint8Array, at = 0): boolean {
  for (let i = 0; i < ETH_ALEN; i++) if (mac[at + i] !== 0xff) return false;
  return true;
}

/** is_valid_ether_addr: neither a group address nor all zeros (what a bridge accepts as a source). */
export function isValidUnicastMac(mac: Uint8Array, at = 0): boolean {
  if (isMulticastMac(mac, at)) return false;
  for (let i = 0; i < ETH_ALEN; i++) if (mac[at + i] !== 0) return true;
  return false;
}

/** An Ethernet frame: destination, source, EtherType, payload. */
export function ethernetFrame(dst: string | Uint8Array, src: string | Uint8Array, etherType: number, payload: Uint8Array): Uint8Array {
  const d = typeof dst === 'string' ? parseMac(dst) : dst;
  const s = typeof src === 'string' ? parseMac(src) : src;
  if (d === undefined || s === undefined) throw new RangeError('not a MAC address');
  const f = new Uint8Array(ETH_HLEN + payload.length);
  f.set(d.subarray(0, ETH_ALEN), 0);
  f.set(s.subarray(0, ETH_ALEN), ETH_ALEN);
  f[12] = (etherType >>> 8) & 0xff;
  f[13] = etherType & 0xff;
  f.set(payload, ETH_HLEN);
  return f;
}
