/**
 * A guest's console line discipline, as a cooked tty does it: typed bytes
 * are echoed, backspace (DEL or BS) erases, and each CR or LF hands the
 * finished line, trimmed, to the kernel's shell.
 */
export class LineInput {
  private line = '';

  constructor(
    private readonly echo: (text: string) => void,
    private readonly onLine: (line: string) => void,
  ) {}

  feed(bytes: Uint8Array): void {
    for (const b of bytes) {
      if (b === 0x0d || b === 0x0a) {
        this.echo('\n');
        const line = this.line.trim();
        this.line = '';
        this.onLine(line);
      } else if (b === 0x7f || b === 0x08) {
        if (this.line.length > 0) {
          this.line = this.line.slice(0, -1);
          this.echo('\b \b');
        }
      } else {
        const ch = String.fromCharCode(b);
        this.line += ch;
        this.echo(ch);
      }
    }
  }
}
