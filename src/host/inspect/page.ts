/**
 * A page (or the slice a structure takes of it) as the inspector sends it:
 * its bytes in base64 and its fields, each at its byte offset in the page,
 * named as Xen's struct names it, with its value formatted.
 */
import type { FieldAnnotation, PageView } from '../../contract/inspect.js';
import type { LayoutField } from '../../core/abi/layout.js';
import { base64, dec, hex, readUint } from './format.js';

/** Formats one field's value; undefined: the default (decimal for small, hex for 8-byte words). */
export type FieldFormatter = (page: Uint8Array, f: LayoutField) => string | undefined;

/** The default value of a field: decimal up to 4 bytes, hex for 8, a byte count for arrays. */
export function defaultValue(page: Uint8Array, f: LayoutField): string {
  if (f.size === 1 || f.size === 2 || f.size === 4) return dec(readUint(page, f.offset, f.size));
  if (f.size === 8) return hex(readUint(page, f.offset, 8));
  return `${f.size} bytes`;
}

/** FieldAnnotations for `layout` (offsets within the page), values from `format` or the default. */
export function annotate(page: Uint8Array, layout: readonly LayoutField[], format?: FieldFormatter): FieldAnnotation[] {
  return layout.map((f) => ({ name: f.field, offset: f.offset, size: f.size, value: format?.(page, f) ?? defaultValue(page, f), doc: f.description }));
}

/** Shifts a struct's layout (offsets from 0) to where the struct sits in its page, prefixing names. */
export function placeLayout(layout: readonly LayoutField[], base: number, prefix = ''): LayoutField[] {
  return layout.map((f) => ({ field: `${prefix}${f.field}`, offset: base + f.offset, size: f.size, description: f.description }));
}

export interface PageSource {
  name: string;
  page: Uint8Array;
  /** The slice shown: bytes [base, base + length) of the page. */
  base: number;
  length: number;
  fields: FieldAnnotation[];
  mfn?: number;
  gfn?: number;
}

export function pageView(src: PageSource): PageView {
  const v: PageView = { name: src.name, bytes: base64(src.page.subarray(src.base, src.base + src.length)), base: src.base, fields: src.fields };
  if (src.mfn !== undefined) v.mfn = src.mfn;
  if (src.gfn !== undefined) v.gfn = src.gfn;
  return v;
}
