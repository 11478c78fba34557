/**
 * What a terminal on dom0's console receives. dom0's kernel keeps its console
 * as an array of writes (its shell's output and, above the prompt, messages
 * from xend or the toolstack); a terminal wants bytes. This turns each new
 * state of that array into the bytes to send: what was appended, with "\n"
 * as "\r\n" as a tty with ONLCR does; or, when a message went in above a
 * fresh prompt, the prompt line redrawn the way readline redraws it.
 */
export class ShellScreen {
  /** The console text accounted for so far. */
  private shown = '';
  /** The array's length and last element when last looked at. */
  private seenLen = 0;
  private seenLast: string | undefined;

  /** The bytes (as text) a terminal needs to show `writes` now; undefined when nothing changed. */
  update(writes: readonly string[]): string | undefined {
    const last = writes.at(-1);
    if (writes.length === this.seenLen && last === this.seenLast) return undefined;
    let out: string;
    if (writes.length > this.seenLen && (this.seenLen === 0 || writes[this.seenLen - 1] === this.seenLast)) {
      const added = writes.slice(this.seenLen).join('');
      this.shown += added;
      out = onlcr(added);
    } else {
      const text = writes.join('');
      let p = 0;
      const max = Math.min(text.length, this.shown.length);
      while (p < max && text.charCodeAt(p) === this.shown.charCodeAt(p)) p++;
      const lineStart = text.lastIndexOf('\n', p - 1) + 1;
      // Only the line the cursor is on changed (a message went above the prompt): redraw it.
      out = this.shown.indexOf('\n', lineStart) < 0 ? `\r\x1b[K${onlcr(text.slice(lineStart))}` : `\r\n${onlcr(text.slice(lineStart))}`;
      this.shown = text;
    }
    this.seenLen = writes.length;
    this.seenLast = last;
    return out;
  }

  /** Everything shown so far, as a terminal attaching now would need it. */
  text(): string {
    return onlcr(this.shown);
  }
}

/** "\n" as "\r\n" (a tty's ONLCR), leaving "\r\n" as it is. */
export function onlcr(text: string): string {
  return text.replace(/\r?\n/g, '\r\n');
}
