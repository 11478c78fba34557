/**
 * The single event queue of the virtual machine: a binary min-heap ordered by
 * (time, sequence number), kept in parallel typed arrays so that pushing and
 * popping an event allocates nothing.
 */
export class EventQueue {
  private time = new Float64Array(64);
  private seq = new Float64Array(64);
  private kind = new Int32Array(64);
  private argA = new Int32Array(64);
  private argB = new Int32Array(64);
  private count = 0;
  private nextSeq = 0;

  get size(): number {
    return this.count;
  }

  /** Time of the earliest event, or Infinity when the queue is empty. */
  peekTime(): number {
    return this.count === 0 ? Infinity : this.time[0]!;
  }

  push(time: number, kind: number, a: number, b: number): void {
    if (this.count === this.time.length) this.grow();
    const s = this.nextSeq++;
    // Sift up with a hole, then write the new entry once.
    let i = this.count++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pt = this.time[parent]!;
      if (pt < time || (pt === time && this.seq[parent]! < s)) break;
      this.move(parent, i);
      i = parent;
    }
    this.time[i] = time;
    this.seq[i] = s;
    this.kind[i] = kind;
    this.argA[i] = a;
    this.argB[i] = b;
  }

  /** The popped event's fields, valid until the next pop. */
  poppedTime = 0;
  poppedKind = 0;
  poppedA = 0;
  poppedB = 0;

  /** Removes the earliest event into the popped* fields. The caller checks size first. */
  pop(): void {
    this.poppedTime = this.time[0]!;
    this.poppedKind = this.kind[0]!;
    this.poppedA = this.argA[0]!;
    this.poppedB = this.argB[0]!;
    const last = --this.count;
    if (last === 0) return;
    const t = this.time[last]!;
    const s = this.seq[last]!;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= last) break;
      const r = l + 1;
      let c = l;
      if (r < last && (this.time[r]! < this.time[l]! || (this.time[r] === this.time[l] && this.seq[r]! < this.seq[l]!))) c = r;
      const ct = this.time[c]!;
      if (t < ct || (t === ct && s < this.seq[c]!)) break;
      this.move(c, i);
      i = c;
    }
    this.move(last, i);
  }

  clear(): void {
    this.count = 0;
  }

  private move(from: number, to: number): void {
    this.time[to] = this.time[from]!;
    this.seq[to] = this.seq[from]!;
    this.kind[to] = this.kind[from]!;
    this.argA[to] = this.argA[from]!;
    this.argB[to] = this.argB[from]!;
  }

  private grow(): void {
    const n = this.time.length * 2;
    const time = new Float64Array(n);
    time.set(this.time);
    this.time = time;
    const seq = new Float64Array(n);
    seq.set(this.seq);
    this.seq = seq;
    const kind = new Int32Array(n);
    kind.set(this.kind);
    this.kind = kind;
    const a = new Int32Array(n);
    a.set(this.argA);
    this.argA = a;
    const b = new Int32Array(n);
    b.set(this.argB);
    this.argB = b;
  }
}
