/**
 * The PV console ring, as xen/include/public/io/console.h: struct
 * xencons_interface, two byte rings (1 KiB of input for the guest, 2 KiB of
 * output from it) with free-running u32 indexes, masked by each ring's size.
 * A domU finds it through start_info.console.domU.{mfn,evtchn}; xenconsoled
 * maps it through grant GNTTAB_RESERVED_CONSOLE (or the frame) and binds the port.
 */
import type { LayoutField } from './layout.js';

export const XENCONS_IN_SIZE = 1024;
export const XENCONS_OUT_SIZE = 2048;

export const XENCONS_IN = 0;
export const XENCONS_OUT = 1024;
export const XENCONS_IN_CONS = 3072;
export const XENCONS_IN_PROD = 3076;
export const XENCONS_OUT_CONS = 3080;
export const XENCONS_OUT_PROD = 3084;
export const XENCONS_CONNECTION = 3088;
/** sizeof(struct xencons_interface): 3089 bytes of fields, padded to the u32 alignment. */
export const XENCONS_INTERFACE_SIZE = 3092;

/** connection: the backend says whether it will service (and empty) the ring. The page starts zeroed, i.e. CONNECTED. */
export const XENCONSOLE_CONNECTED = 0;
export const XENCONSOLE_DISCONNECTED = 1;

/** MASK_XENCONS_IDX(idx, ring): the byte of a ring of `size` bytes (a power of two) an index points at. */
export function maskXenconsIdx(idx: number, size: number): number {
  return idx & (size - 1);
}

export const XENCONS_INTERFACE_LAYOUT: readonly LayoutField[] = [
  { field: 'in', offset: XENCONS_IN, size: XENCONS_IN_SIZE, description: 'input for the guest (typed at the console), a byte ring' },
  { field: 'out', offset: XENCONS_OUT, size: XENCONS_OUT_SIZE, description: 'output from the guest, a byte ring' },
  { field: 'in_cons', offset: XENCONS_IN_CONS, size: 4, description: 'input bytes the guest has taken (written by the guest)' },
  { field: 'in_prod', offset: XENCONS_IN_PROD, size: 4, description: 'input bytes the backend has put (written by xenconsoled)' },
  { field: 'out_cons', offset: XENCONS_OUT_CONS, size: 4, description: 'output bytes the backend has taken (written by xenconsoled)' },
  { field: 'out_prod', offset: XENCONS_OUT_PROD, size: 4, description: 'output bytes the guest has put (written by the guest)' },
  { field: 'connection', offset: XENCONS_CONNECTION, size: 1, description: 'XENCONSOLE_CONNECTED (0) or XENCONSOLE_DISCONNECTED (1), set by the backend' },
  { field: '(padding)', offset: XENCONS_CONNECTION + 1, size: 3, description: 'to the struct alignment' },
];

/**
 * The indexes and connection flag of a console page, read and written in
 * place (a little-endian host and a 4-byte aligned page assumed, as for ring.h).
 */
export class XenconsIndexes {
  private readonly u32: Uint32Array;
  constructor(readonly page: Uint8Array) {
    this.u32 = new Uint32Array(page.buffer, page.byteOffset + XENCONS_IN_CONS, 4);
  }
  get inCons(): number {
    return this.u32[0]!;
  }
  set inCons(v: number) {
    this.u32[0] = v;
  }
  get inProd(): number {
    return this.u32[1]!;
  }
  set inProd(v: number) {
    this.u32[1] = v;
  }
  get outCons(): number {
    return this.u32[2]!;
  }
  set outCons(v: number) {
    this.u32[2] = v;
  }
  get outProd(): number {
    return this.u32[3]!;
  }
  set outProd(v: number) {
    this.u32[3] = v;
  }
  get connection(): number {
    return this.page[XENCONS_CONNECTION]!;
  }
  set connection(v: number) {
    this.page[XENCONS_CONNECTION] = v;
  }
}
