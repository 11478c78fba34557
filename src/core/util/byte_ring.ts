/**
 * Copies in and out of the byte rings of the xenstore and console pages: a
 * ring of `size` bytes (a power of two) at `base` in a page, addressed by a
 * free-running u32 index, so a run of bytes may wrap from the end of the
 * ring to its start. At most two copies, never a byte loop.
 */

/** Copies `len` bytes of `src` from `srcOff` into the ring, starting at index `idx`. */
export function ringPut(page: Uint8Array, base: number, size: number, idx: number, src: Uint8Array, srcOff: number, len: number): void {
  const at = idx & (size - 1);
  const first = Math.min(len, size - at);
  page.set(src.subarray(srcOff, srcOff + first), base + at);
  if (first < len) page.set(src.subarray(srcOff + first, srcOff + len), base);
}

/** Copies `len` bytes out of the ring, starting at index `idx`, into `dst` at `dstOff`. */
export function ringGet(page: Uint8Array, base: number, size: number, idx: number, dst: Uint8Array, dstOff: number, len: number): void {
  const at = idx & (size - 1);
  const first = Math.min(len, size - at);
  dst.set(page.subarray(base + at, base + at + first), dstOff);
  if (first < len) dst.set(page.subarray(base, base + len - first), dstOff + first);
}

/** Bytes a producer may still put: size - (prod - cons), all modulo 2^32; negative when the indexes are corrupt. */
export function ringSpace(prod: number, cons: number, size: number): number {
  return size - ((prod - cons) >>> 0);
}

/** Bytes waiting between cons and prod, modulo 2^32. */
export function ringUsed(prod: number, cons: number): number {
  return (prod - cons) >>> 0;
}
