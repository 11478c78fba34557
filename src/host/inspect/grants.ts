/**
 * A domain's grant table (grant_table.h, version 1): its shared frames of
 * 8-byte grant_entry_v1 (flags, domid, frame), every entry in use listed
 * with its flags as GTF_* names.
 */
import type { FieldAnnotation, GrantEntryView, PageView } from '../../contract/inspect.js';
import {
  GRANT_ENTRIES_PER_FRAME,
  GRANT_ENTRY_DOMID,
  GRANT_ENTRY_FLAGS,
  GRANT_ENTRY_FRAME,
  GRANT_ENTRY_V1_SIZE,
  GTF_accept_transfer,
  GTF_permit_access,
  GTF_readonly,
  GTF_reading,
  GTF_sub_page,
  GTF_transitive,
  GTF_type_mask,
  GTF_writing,
} from '../../core/abi/grant.js';
import { PAGE_SIZE } from '../../core/abi/layout.js';
import type { Domain } from '../../core/hv/domain.js';
import { readU16, readU32 } from './format.js';
import { pageView } from './page.js';

const TYPE_NAMES = ['GTF_invalid', 'GTF_permit_access', 'GTF_accept_transfer', 'GTF_transitive'];

/** GTF_* bits above the type, for an access grant (grant_table.h). */
const ACCESS_BITS: readonly (readonly [number, string])[] = [
  [GTF_readonly, 'GTF_readonly'],
  [GTF_reading, 'GTF_reading'],
  [GTF_writing, 'GTF_writing'],
  [1 << 5, 'GTF_PWT'],
  [1 << 6, 'GTF_PCD'],
  [1 << 7, 'GTF_PAT'],
  [GTF_sub_page, 'GTF_sub_page'],
];

/** For GTF_accept_transfer, bits 2 and 3 mean the transfer's progress. */
const TRANSFER_BITS: readonly (readonly [number, string])[] = [
  [1 << 2, 'GTF_transfer_committed'],
  [1 << 3, 'GTF_transfer_completed'],
];

/** "GTF_permit_access | GTF_reading | GTF_writing". */
export function gtfNames(flags: number): string {
  const type = flags & GTF_type_mask;
  const names = [TYPE_NAMES[type]!];
  let rest = flags & ~GTF_type_mask & 0xffff;
  for (const [bit, name] of type === GTF_accept_transfer ? TRANSFER_BITS : ACCESS_BITS) {
    if ((rest & bit) !== 0) {
      names.push(name);
      rest &= ~bit;
    }
  }
  if (rest !== 0) names.push(`0x${rest.toString(16)}`);
  return names.join(' | ');
}

/** An entry is in use while it grants something or Xen still has it mapped. */
function inUse(flags: number): boolean {
  return (flags & GTF_type_mask) !== 0 || (flags & (GTF_reading | GTF_writing)) !== 0;
}

export function grantEntries(d: Domain): GrantEntryView[] {
  const out: GrantEntryView[] = [];
  const frames = d.grants.frames;
  for (let k = 0; k < frames.length; k++) {
    const f = frames[k]!;
    for (let e = 0; e < GRANT_ENTRIES_PER_FRAME; e++) {
      const at = e * GRANT_ENTRY_V1_SIZE;
      const flags = readU16(f, at + GRANT_ENTRY_FLAGS);
      if (!inUse(flags)) continue;
      out.push({ ref: k * GRANT_ENTRIES_PER_FRAME + e, flags: gtfNames(flags), domid: readU16(f, at + GRANT_ENTRY_DOMID), frame: readU32(f, at + GRANT_ENTRY_FRAME) });
    }
  }
  return out;
}

/** One view per grant frame, its entries in use annotated field by field. */
export function grantTablePages(d: Domain): PageView[] {
  const out: PageView[] = [];
  const frames = d.grants.frames;
  for (let k = 0; k < frames.length; k++) {
    const f = frames[k]!;
    const fields: FieldAnnotation[] = [];
    for (let e = 0; e < GRANT_ENTRIES_PER_FRAME; e++) {
      const at = e * GRANT_ENTRY_V1_SIZE;
      const flags = readU16(f, at + GRANT_ENTRY_FLAGS);
      if (!inUse(flags)) continue;
      const ref = k * GRANT_ENTRIES_PER_FRAME + e;
      const type = flags & GTF_type_mask;
      fields.push(
        { name: `grant_entry_v1[${ref}].flags`, offset: at + GRANT_ENTRY_FLAGS, size: 2, value: gtfNames(flags), doc: 'written by the guest (type, GTF_readonly); GTF_reading/GTF_writing set by Xen while mapped' },
        { name: `grant_entry_v1[${ref}].domid`, offset: at + GRANT_ENTRY_DOMID, size: 2, value: String(readU16(f, at + GRANT_ENTRY_DOMID)), doc: 'the domain allowed to map or copy the frame' },
        {
          name: `grant_entry_v1[${ref}].frame`,
          offset: at + GRANT_ENTRY_FRAME,
          size: 4,
          value: String(readU32(f, at + GRANT_ENTRY_FRAME)),
          doc: type === GTF_permit_access || type === GTF_transitive ? 'the granted frame (gfn)' : 'the frame being transferred',
        },
      );
    }
    // Grant frames are Xen's memory, not the guest's: no gfn; no mfn either, as the simulation gives them none of their own.
    out.push(pageView({ name: `grant table frame ${k}`, page: f, base: 0, length: PAGE_SIZE, fields }));
  }
  return out;
}
