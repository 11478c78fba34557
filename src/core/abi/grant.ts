/** Grant-table ABI (xen/include/public/grant_table.h), version 1. */

export const GNTTABOP = {
  map_grant_ref: 0,
  unmap_grant_ref: 1,
  setup_table: 2,
  dump_table: 3,
  transfer: 4,
  copy: 5,
  query_size: 6,
  unmap_and_replace: 7,
  set_version: 8,
  get_status_frames: 9,
  get_version: 10,
  swap_grant_ref: 11,
  cache_flush: 12,
} as const;
export type GnttabOpName = keyof typeof GNTTABOP;

import type { LayoutField } from './layout.js';

/** grant_entry_v1: flags u16 @0, domid u16 @2, frame u32 @4. */
export const GRANT_ENTRY_V1_SIZE = 8;
export const GRANT_ENTRY_FLAGS = 0;
export const GRANT_ENTRY_DOMID = 2;
export const GRANT_ENTRY_FRAME = 4;
export const GRANT_ENTRIES_PER_FRAME = 4096 / GRANT_ENTRY_V1_SIZE;

export const GRANT_ENTRY_V1_LAYOUT: readonly LayoutField[] = [
  { field: 'flags', offset: GRANT_ENTRY_FLAGS, size: 2, description: 'GTF_permit_access (1) | GTF_readonly (4), written by the guest; GTF_reading (8) | GTF_writing (16) set by Xen while mapped' },
  { field: 'domid', offset: GRANT_ENTRY_DOMID, size: 2, description: 'the domain allowed to map or copy the frame' },
  { field: 'frame', offset: GRANT_ENTRY_FRAME, size: 4, description: 'the granted frame' },
];
export const GNTTAB_NR_RESERVED_ENTRIES = 8;
export const GNTTAB_RESERVED_CONSOLE = 0;
export const GNTTAB_RESERVED_XENSTORE = 1;
/** Xen's default gnttab_max_frames. */
export const GNTTAB_MAX_FRAMES = 64;

export const GTF_invalid = 0;
export const GTF_permit_access = 1;
export const GTF_accept_transfer = 2;
export const GTF_transitive = 3;
export const GTF_type_mask = 3;
export const GTF_readonly = 1 << 2;
export const GTF_reading = 1 << 3;
export const GTF_writing = 1 << 4;
export const GTF_sub_page = 1 << 8;

export const GNTMAP_device_map = 1 << 0;
export const GNTMAP_host_map = 1 << 1;
export const GNTMAP_readonly = 1 << 2;
export const GNTMAP_application_map = 1 << 3;
export const GNTMAP_contains_pte = 1 << 4;

export const GNTCOPY_source_gref = 1 << 0;
export const GNTCOPY_dest_gref = 1 << 1;

export const GNTST_okay = 0;
export const GNTST_general_error = -1;
export const GNTST_bad_domain = -2;
export const GNTST_bad_gntref = -3;
export const GNTST_bad_handle = -4;
export const GNTST_bad_virt_addr = -5;
export const GNTST_bad_dev_addr = -6;
export const GNTST_no_device_space = -7;
export const GNTST_permission_denied = -8;
export const GNTST_bad_page = -9;
export const GNTST_bad_copy_arg = -10;
export const GNTST_address_too_big = -11;
export const GNTST_eagain = -12;
export const GNTST_no_space = -13;

export const GNTST_NAMES: Readonly<Record<number, string>> = {
  0: 'GNTST_okay',
  [-1]: 'GNTST_general_error',
  [-2]: 'GNTST_bad_domain',
  [-3]: 'GNTST_bad_gntref',
  [-4]: 'GNTST_bad_handle',
  [-5]: 'GNTST_bad_virt_addr',
  [-6]: 'GNTST_bad_dev_addr',
  [-7]: 'GNTST_no_device_space',
  [-8]: 'GNTST_permission_denied',
  [-9]: 'GNTST_bad_page',
  [-10]: 'GNTST_bad_copy_arg',
  [-11]: 'GNTST_address_too_big',
  [-12]: 'GNTST_eagain',
  [-13]: 'GNTST_no_space',
};

const GNTST_BY_NAME: ReadonlyMap<string, number> = new Map(
  Object.entries(GNTST_NAMES).map(([value, name]) => [name, Number(value)]),
);

export function gntstByName(name: string): number | undefined {
  return GNTST_BY_NAME.get(name);
}
