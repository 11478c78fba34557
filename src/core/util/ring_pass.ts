/**
 * One pass of ring work that may be asked for again while it runs: the
 * simulation is synchronous, so a notify sent from inside a pass can come
 * straight back. A nested request only marks the running pass to go round
 * once more; the caller sends one event afterwards if a shared index moved.
 */
export class RingPass {
  private busy = false;
  private again = false;
  /** Set by the pass whenever it publishes a shared index. */
  moved = false;

  /** Runs `pass` until no nested request is left; true (and cleared) when an index moved. Re-entered, it returns false. */
  run(pass: () => void): boolean {
    if (this.busy) {
      this.again = true;
      return false;
    }
    this.busy = true;
    try {
      do {
        this.again = false;
        pass();
      } while (this.again);
    } finally {
      this.busy = false;
    }
    const moved = this.moved;
    this.moved = false;
    return moved;
  }
}
