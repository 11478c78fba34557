/**
 * A guest console's output as the run received it: one growing byte buffer
 * (a byte a byte, outside the JS heap) that `until` reads lines from and
 * the result decodes. Bytes were kept as a JS number array before: at a
 * flooding guest's megabytes a second, pushing them one by one and the
 * garbage collector walking them took most of the session's time.
 */
export class ConsoleLog {
  private buf = new Uint8Array(4096);
  length = 0;

  append(bytes: Uint8Array): void {
    const need = this.length + bytes.length;
    if (need > this.buf.length) {
      const b = new Uint8Array(Math.max(need, this.buf.length * 2));
      b.set(this.buf.subarray(0, this.length));
      this.buf = b;
    }
    this.buf.set(bytes, this.length);
    this.length = need;
  }

  /** The byte at i (undefined past the end). */
  at(i: number): number | undefined {
    return i < this.length ? this.buf[i] : undefined;
  }

  /** Bytes [start, end) as a view: valid until the next append. */
  view(start = 0, end = this.length): Uint8Array {
    return this.buf.subarray(start, Math.min(end, this.length));
  }
}
