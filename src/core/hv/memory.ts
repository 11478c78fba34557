/**
 * Guest memory: a domain's pseudo-physical frames (gfns), each a real 4 KiB
 * buffer made on first touch, with a machine frame number (mfn) from the
 * machine-wide allocator. Two domains share a page by holding the same buffer.
 */
import { PAGE_SIZE } from '../abi/layout.js';

export class GuestMemory {
  private readonly frames = new Map<number, Uint8Array>();

  constructor(
    /** Pages the domain owns: gfns 0 .. nrPages-1. */
    readonly nrPages: number,
    /** mfn of gfn 0; the domain's frames are contiguous in machine memory. */
    readonly mfnBase: number,
  ) {}

  hasFrame(gfn: number): boolean {
    return Number.isInteger(gfn) && gfn >= 0 && gfn < this.nrPages;
  }

  /** The page at `gfn`, made zeroed on first use; undefined outside the domain's memory. */
  frame(gfn: number): Uint8Array | undefined {
    if (!this.hasFrame(gfn)) return undefined;
    let page = this.frames.get(gfn);
    if (page === undefined) {
      page = new Uint8Array(PAGE_SIZE);
      this.frames.set(gfn, page);
    }
    return page;
  }

  mfn(gfn: number): number {
    return this.mfnBase + gfn;
  }

  /** Frames touched so far. */
  get touched(): number {
    return this.frames.size;
  }
}
