/**
 * The block split-driver protocol, as xen/include/public/io/blkif.h (and
 * io/protocols.h for the `protocol` key): request codes, status codes, the
 * VDISK_* info bits, the xenstore keys both ends agree on, and the x86-64
 * byte layouts of the ring entries, with encoders and decoders that work in
 * place on a ring slot (little-endian, offsets as gcc lays out the header).
 *
 * Sector numbers in requests and in the `sectors` key are always in 512-byte
 * units, whatever `sector-size` says (blkif.h, notes on sector_number).
 */
import { PAGE_SIZE, SRING_HEADER_SIZE, type LayoutField } from './layout.js';

// ---- request codes (blkif.h "REQUEST CODES")
export const BLKIF_OP_READ = 0;
export const BLKIF_OP_WRITE = 1;
/** Optional ("feature-barrier"): earlier writes complete before it, later ones after. */
export const BLKIF_OP_WRITE_BARRIER = 2;
/** Optional ("feature-flush-cache"): commit the backing device's volatile cache. */
export const BLKIF_OP_FLUSH_DISKCACHE = 3;
/** Kept for SLES's device-specific packets; no backend here serves it. */
export const BLKIF_OP_RESERVED_1 = 4;
/** Optional ("feature-discard"): the range is no longer in use; uses blkif_request_discard. */
export const BLKIF_OP_DISCARD = 5;
/** Only when the backend wrote "feature-max-indirect-segments"; uses blkif_request_indirect. */
export const BLKIF_OP_INDIRECT = 6;

export const BLKIF_OP_NAMES: Readonly<Record<number, string>> = {
  [BLKIF_OP_READ]: 'BLKIF_OP_READ',
  [BLKIF_OP_WRITE]: 'BLKIF_OP_WRITE',
  [BLKIF_OP_WRITE_BARRIER]: 'BLKIF_OP_WRITE_BARRIER',
  [BLKIF_OP_FLUSH_DISKCACHE]: 'BLKIF_OP_FLUSH_DISKCACHE',
  [BLKIF_OP_RESERVED_1]: 'BLKIF_OP_RESERVED_1',
  [BLKIF_OP_DISCARD]: 'BLKIF_OP_DISCARD',
  [BLKIF_OP_INDIRECT]: 'BLKIF_OP_INDIRECT',
};

// ---- status codes (blkif.h "STATUS RETURN CODES"), an int16_t in the response
export const BLKIF_RSP_EOPNOTSUPP = -2;
export const BLKIF_RSP_ERROR = -1;
export const BLKIF_RSP_OKAY = 0;

export const BLKIF_RSP_NAMES: Readonly<Record<number, string>> = {
  [BLKIF_RSP_EOPNOTSUPP]: 'BLKIF_RSP_EOPNOTSUPP',
  [BLKIF_RSP_ERROR]: 'BLKIF_RSP_ERROR',
  [BLKIF_RSP_OKAY]: 'BLKIF_RSP_OKAY',
};

/** "BLKIF_RSP_ERROR", or "status 7" for a value the header does not define. */
export function blkifStatusName(status: number): string {
  return BLKIF_RSP_NAMES[status] ?? `status ${status}`;
}

/** Chosen so that a 32-slot ring of requests fits one page with its header. */
export const BLKIF_MAX_SEGMENTS_PER_REQUEST = 11;
export const BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST = 8;
/** blkif_request_discard.flag: the discarded range must be unrecoverable (if discard-secure=1). */
export const BLKIF_DISCARD_SECURE = 1 << 0;

// ---- the `info` key's bits
export const VDISK_CDROM = 0x1;
export const VDISK_REMOVABLE = 0x2;
export const VDISK_READONLY = 0x4;

// ---- io/protocols.h: the frontend's `protocol` key
export const XEN_IO_PROTO_ABI_X86_32 = 'x86_32-abi';
export const XEN_IO_PROTO_ABI_X86_64 = 'x86_64-abi';
export const XEN_IO_PROTO_ABI_ARM = 'arm-abi';
/** The simulated guests are x86-64. */
export const XEN_IO_PROTO_ABI_NATIVE = XEN_IO_PROTO_ABI_X86_64;

/** The unit of sector_number, first_sect/last_sect and the `sectors` key. */
export const BLKIF_SECTOR_SHIFT = 9;
export const BLKIF_SECTOR_SIZE = 1 << BLKIF_SECTOR_SHIFT;
/** 512-byte sectors in one page: last_sect must stay below it. */
export const BLKIF_SECTORS_PER_PAGE = PAGE_SIZE >> BLKIF_SECTOR_SHIFT;

/**
 * The xenstore keys of a vbd (blkif.h "Feature and Parameter Negotiation").
 * Backend keys live in backend/vbd/<fe>/<devid>, frontend keys in device/vbd/<devid>.
 */
export const BLKIF_XS = {
  // backend, written by the toolstack
  mode: 'mode',
  params: 'params',
  type: 'type',
  physicalDevice: 'physical-device',
  discardEnable: 'discard-enable',
  // backend features and transport parameters (before InitWait)
  featureBarrier: 'feature-barrier',
  featureFlushCache: 'feature-flush-cache',
  featureDiscard: 'feature-discard',
  featurePersistent: 'feature-persistent',
  featureMaxIndirectSegments: 'feature-max-indirect-segments',
  maxRingPageOrder: 'max-ring-page-order',
  multiQueueMaxQueues: 'multi-queue-max-queues',
  discardGranularity: 'discard-granularity',
  discardAlignment: 'discard-alignment',
  discardSecure: 'discard-secure',
  // backend device properties (before Connected)
  sectors: 'sectors',
  sectorSize: 'sector-size',
  physicalSectorSize: 'physical-sector-size',
  info: 'info',
  // frontend transport parameters (before Initialised)
  ringRef: 'ring-ref',
  eventChannel: 'event-channel',
  protocol: 'protocol',
  ringPageOrder: 'ring-page-order',
  multiQueueNumQueues: 'multi-queue-num-queues',
  // frontend device properties, written by the toolstack
  virtualDevice: 'virtual-device',
  deviceType: 'device-type',
} as const;

/** docs/misc/vbd-interface.txt: xvd<letter> disk `disk` (0 = xvda), partition `part`, in the 202 major's encoding. */
export function xvdDevid(disk: number, part = 0): number {
  if (!Number.isInteger(disk) || disk < 0 || disk > 15 || !Number.isInteger(part) || part < 0 || part > 15) {
    throw new RangeError('xvd disks 0..15 and partitions 0..15 use the short encoding');
  }
  return (202 << 8) | (disk << 4) | part;
}

// ---- struct blkif_request_segment (8 bytes: a u32 and two u8, padded to the u32 alignment)
export const BLKIF_SEG_GREF = 0;
export const BLKIF_SEG_FIRST_SECT = 4;
export const BLKIF_SEG_LAST_SECT = 5;
export const BLKIF_SEG_SIZE = 8;

// ---- struct blkif_request (112 bytes on x86-64)
export const BLKIF_REQ_OPERATION = 0;
export const BLKIF_REQ_NR_SEGMENTS = 1;
export const BLKIF_REQ_HANDLE = 2;
/** 4 bytes of padding before the u64 id. */
export const BLKIF_REQ_ID = 8;
export const BLKIF_REQ_SECTOR_NUMBER = 16;
export const BLKIF_REQ_SEG = 24;
export const BLKIF_REQUEST_SIZE = BLKIF_REQ_SEG + BLKIF_MAX_SEGMENTS_PER_REQUEST * BLKIF_SEG_SIZE;

// ---- struct blkif_request_discard (32 bytes), cast over a request slot
export const BLKIF_DISCARD_OPERATION = 0;
export const BLKIF_DISCARD_FLAG = 1;
export const BLKIF_DISCARD_HANDLE = 2;
export const BLKIF_DISCARD_ID = 8;
export const BLKIF_DISCARD_SECTOR_NUMBER = 16;
export const BLKIF_DISCARD_NR_SECTORS = 24;
export const BLKIF_REQUEST_DISCARD_SIZE = 32;

// ---- struct blkif_request_indirect (64 bytes on x86-64: no i386 pad, 4 bytes of tail padding)
export const BLKIF_INDIRECT_OPERATION = 0;
export const BLKIF_INDIRECT_INDIRECT_OP = 1;
export const BLKIF_INDIRECT_NR_SEGMENTS = 2;
export const BLKIF_INDIRECT_ID = 8;
export const BLKIF_INDIRECT_SECTOR_NUMBER = 16;
export const BLKIF_INDIRECT_HANDLE = 24;
export const BLKIF_INDIRECT_GREFS = 28;
export const BLKIF_REQUEST_INDIRECT_SIZE = 64;

// ---- struct blkif_response (16 bytes: u64, u8, pad, int16_t, tail padding)
export const BLKIF_RSP_ID = 0;
export const BLKIF_RSP_OPERATION = 8;
export const BLKIF_RSP_STATUS = 10;
export const BLKIF_RESPONSE_SIZE = 16;

/** union blkif_sring_entry: the larger of request and response. */
export const BLKIF_RING_ENTRY_SIZE = Math.max(BLKIF_REQUEST_SIZE, BLKIF_RESPONSE_SIZE);
/** __RING_SIZE for one page: (4096 - 64) / 112 = 36 slots, rounded down to a power of two. */
export const BLKIF_RING_SIZE = 2 ** Math.floor(Math.log2(Math.floor((PAGE_SIZE - SRING_HEADER_SIZE) / BLKIF_RING_ENTRY_SIZE)));

export const BLKIF_REQUEST_SEGMENT_LAYOUT: readonly LayoutField[] = [
  { field: 'gref', offset: BLKIF_SEG_GREF, size: 4, description: 'grant reference of the I/O buffer frame' },
  { field: 'first_sect', offset: BLKIF_SEG_FIRST_SECT, size: 1, description: 'first 512-byte sector of the frame to transfer (inclusive)' },
  { field: 'last_sect', offset: BLKIF_SEG_LAST_SECT, size: 1, description: 'last 512-byte sector of the frame to transfer (inclusive, < 8)' },
  { field: '(padding)', offset: 6, size: 2, description: 'to the u32 alignment' },
];

export const BLKIF_REQUEST_LAYOUT: readonly LayoutField[] = [
  { field: 'operation', offset: BLKIF_REQ_OPERATION, size: 1, description: 'BLKIF_OP_*' },
  { field: 'nr_segments', offset: BLKIF_REQ_NR_SEGMENTS, size: 1, description: 'segments in seg[] (1..11; 0 for a flush)' },
  { field: 'handle', offset: BLKIF_REQ_HANDLE, size: 2, description: 'blkif_vdev_t: the virtual device (read/write only)' },
  { field: '(padding)', offset: 4, size: 4, description: 'to the u64 alignment' },
  { field: 'id', offset: BLKIF_REQ_ID, size: 8, description: "the frontend's private value, echoed in the response" },
  { field: 'sector_number', offset: BLKIF_REQ_SECTOR_NUMBER, size: 8, description: 'first 512-byte sector on the disk' },
  ...Array.from({ length: BLKIF_MAX_SEGMENTS_PER_REQUEST }, (_, i) => ({
    field: `seg[${i}]`,
    offset: BLKIF_REQ_SEG + i * BLKIF_SEG_SIZE,
    size: BLKIF_SEG_SIZE,
    description: `struct blkif_request_segment ${i}`,
  })),
];

export const BLKIF_REQUEST_DISCARD_LAYOUT: readonly LayoutField[] = [
  { field: 'operation', offset: BLKIF_DISCARD_OPERATION, size: 1, description: 'BLKIF_OP_DISCARD' },
  { field: 'flag', offset: BLKIF_DISCARD_FLAG, size: 1, description: 'BLKIF_DISCARD_SECURE or 0' },
  { field: 'handle', offset: BLKIF_DISCARD_HANDLE, size: 2, description: 'as for read/write' },
  { field: '(padding)', offset: 4, size: 4, description: 'to the u64 alignment' },
  { field: 'id', offset: BLKIF_DISCARD_ID, size: 8, description: 'echoed in the response' },
  { field: 'sector_number', offset: BLKIF_DISCARD_SECTOR_NUMBER, size: 8, description: 'first 512-byte sector to discard' },
  { field: 'nr_sectors', offset: BLKIF_DISCARD_NR_SECTORS, size: 8, description: 'contiguous 512-byte sectors to discard' },
];

export const BLKIF_REQUEST_INDIRECT_LAYOUT: readonly LayoutField[] = [
  { field: 'operation', offset: BLKIF_INDIRECT_OPERATION, size: 1, description: 'BLKIF_OP_INDIRECT' },
  { field: 'indirect_op', offset: BLKIF_INDIRECT_INDIRECT_OP, size: 1, description: 'BLKIF_OP_READ or BLKIF_OP_WRITE' },
  { field: 'nr_segments', offset: BLKIF_INDIRECT_NR_SEGMENTS, size: 2, description: 'segments held in the indirect pages' },
  { field: '(padding)', offset: 4, size: 4, description: 'to the u64 alignment' },
  { field: 'id', offset: BLKIF_INDIRECT_ID, size: 8, description: 'echoed in the response' },
  { field: 'sector_number', offset: BLKIF_INDIRECT_SECTOR_NUMBER, size: 8, description: 'first 512-byte sector on the disk' },
  { field: 'handle', offset: BLKIF_INDIRECT_HANDLE, size: 2, description: 'as for read/write' },
  { field: '(padding)', offset: 26, size: 2, description: 'to the u32 alignment' },
  { field: 'indirect_grefs', offset: BLKIF_INDIRECT_GREFS, size: 4 * BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST, description: 'grant refs of the pages holding blkif_request_segment arrays' },
  { field: '(padding)', offset: 60, size: 4, description: 'to the u64 alignment of the struct' },
];

export const BLKIF_RESPONSE_LAYOUT: readonly LayoutField[] = [
  { field: 'id', offset: BLKIF_RSP_ID, size: 8, description: 'copied from the request' },
  { field: 'operation', offset: BLKIF_RSP_OPERATION, size: 1, description: 'copied from the request' },
  { field: '(padding)', offset: 9, size: 1, description: 'to the int16_t alignment' },
  { field: 'status', offset: BLKIF_RSP_STATUS, size: 2, description: 'BLKIF_RSP_* (int16_t)' },
  { field: '(padding)', offset: 12, size: 4, description: 'to the u64 alignment of the struct' },
];

// ---- decoded forms

export interface BlkifSegment {
  gref: number;
  firstSect: number;
  lastSect: number;
}

export interface BlkifRequest {
  operation: number;
  nrSegments: number;
  handle: number;
  /** u64, exact. */
  id: bigint;
  /** u64 in 512-byte sectors; above 2^53 it is approximate (and past any disk's end). */
  sectorNumber: number;
  /** The first min(nr_segments, 11) segments. */
  seg: BlkifSegment[];
}

export interface BlkifDiscardRequest {
  operation: number;
  flag: number;
  handle: number;
  id: bigint;
  sectorNumber: number;
  nrSectors: number;
}

export interface BlkifResponse {
  id: bigint;
  operation: number;
  status: number;
}

const TWO32 = 2 ** 32;

function view(slot: Uint8Array): DataView {
  return new DataView(slot.buffer, slot.byteOffset, slot.byteLength);
}

function setU64(v: DataView, at: number, value: number | bigint): void {
  if (typeof value === 'bigint') {
    v.setBigUint64(at, BigInt.asUintN(64, value), true);
    return;
  }
  v.setUint32(at, value % TWO32, true);
  v.setUint32(at + 4, Math.floor(value / TWO32) % TWO32, true);
}

function getU64(v: DataView, at: number): number {
  return v.getUint32(at, true) + v.getUint32(at + 4, true) * TWO32;
}

/**
 * Writes a request into a ring slot. The whole slot is written: fields,
 * padding and unused segments zeroed, so no stale bytes of an earlier
 * request reach the backend.
 */
export function encodeRequest(slot: Uint8Array, req: Omit<BlkifRequest, 'id'> & { id: bigint | number }): void {
  if (slot.byteLength < BLKIF_REQUEST_SIZE) throw new RangeError(`a blkif_request needs ${BLKIF_REQUEST_SIZE} bytes`);
  if (req.seg.length > BLKIF_MAX_SEGMENTS_PER_REQUEST) throw new RangeError(`at most ${BLKIF_MAX_SEGMENTS_PER_REQUEST} segments fit a request`);
  slot.fill(0, 0, BLKIF_REQUEST_SIZE);
  const v = view(slot);
  v.setUint8(BLKIF_REQ_OPERATION, req.operation);
  v.setUint8(BLKIF_REQ_NR_SEGMENTS, req.nrSegments);
  v.setUint16(BLKIF_REQ_HANDLE, req.handle, true);
  setU64(v, BLKIF_REQ_ID, req.id);
  setU64(v, BLKIF_REQ_SECTOR_NUMBER, req.sectorNumber);
  req.seg.forEach((s, i) => {
    const at = BLKIF_REQ_SEG + i * BLKIF_SEG_SIZE;
    v.setUint32(at + BLKIF_SEG_GREF, s.gref >>> 0, true);
    v.setUint8(at + BLKIF_SEG_FIRST_SECT, s.firstSect);
    v.setUint8(at + BLKIF_SEG_LAST_SECT, s.lastSect);
  });
}

/** Reads a request out of a slot into a private copy (what blkback validates, never the shared bytes). */
export function decodeRequest(slot: Uint8Array): BlkifRequest {
  const v = view(slot);
  const nr = v.getUint8(BLKIF_REQ_NR_SEGMENTS);
  const seg: BlkifSegment[] = [];
  for (let i = 0; i < Math.min(nr, BLKIF_MAX_SEGMENTS_PER_REQUEST); i++) {
    const at = BLKIF_REQ_SEG + i * BLKIF_SEG_SIZE;
    seg.push({ gref: v.getUint32(at + BLKIF_SEG_GREF, true), firstSect: v.getUint8(at + BLKIF_SEG_FIRST_SECT), lastSect: v.getUint8(at + BLKIF_SEG_LAST_SECT) });
  }
  return {
    operation: v.getUint8(BLKIF_REQ_OPERATION),
    nrSegments: nr,
    handle: v.getUint16(BLKIF_REQ_HANDLE, true),
    id: v.getBigUint64(BLKIF_REQ_ID, true),
    sectorNumber: getU64(v, BLKIF_REQ_SECTOR_NUMBER),
    seg,
  };
}

/** Writes a discard request over a slot (the rest of the 112-byte slot zeroed). */
export function encodeDiscard(slot: Uint8Array, req: Omit<BlkifDiscardRequest, 'id'> & { id: bigint | number }): void {
  if (slot.byteLength < BLKIF_REQUEST_DISCARD_SIZE) throw new RangeError(`a blkif_request_discard needs ${BLKIF_REQUEST_DISCARD_SIZE} bytes`);
  slot.fill(0, 0, Math.min(slot.byteLength, BLKIF_REQUEST_SIZE));
  const v = view(slot);
  v.setUint8(BLKIF_DISCARD_OPERATION, req.operation);
  v.setUint8(BLKIF_DISCARD_FLAG, req.flag);
  v.setUint16(BLKIF_DISCARD_HANDLE, req.handle, true);
  setU64(v, BLKIF_DISCARD_ID, req.id);
  setU64(v, BLKIF_DISCARD_SECTOR_NUMBER, req.sectorNumber);
  setU64(v, BLKIF_DISCARD_NR_SECTORS, req.nrSectors);
}

export function decodeDiscard(slot: Uint8Array): BlkifDiscardRequest {
  const v = view(slot);
  return {
    operation: v.getUint8(BLKIF_DISCARD_OPERATION),
    flag: v.getUint8(BLKIF_DISCARD_FLAG),
    handle: v.getUint16(BLKIF_DISCARD_HANDLE, true),
    id: v.getBigUint64(BLKIF_DISCARD_ID, true),
    sectorNumber: getU64(v, BLKIF_DISCARD_SECTOR_NUMBER),
    nrSectors: getU64(v, BLKIF_DISCARD_NR_SECTORS),
  };
}

/** Writes a response into a slot: its 16 bytes, padding zeroed (the rest of the slot is left alone). */
export function encodeResponse(slot: Uint8Array, rsp: Omit<BlkifResponse, 'id'> & { id: bigint | number }): void {
  slot.fill(0, 0, BLKIF_RESPONSE_SIZE);
  const v = view(slot);
  setU64(v, BLKIF_RSP_ID, rsp.id);
  v.setUint8(BLKIF_RSP_OPERATION, rsp.operation);
  v.setInt16(BLKIF_RSP_STATUS, rsp.status, true);
}

export function decodeResponse(slot: Uint8Array): BlkifResponse {
  const v = view(slot);
  return { id: v.getBigUint64(BLKIF_RSP_ID, true), operation: v.getUint8(BLKIF_RSP_OPERATION), status: v.getInt16(BLKIF_RSP_STATUS, true) };
}
