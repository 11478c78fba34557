/**
 * A one-line progress bar on standard error for long runs, drawn only when
 * it is a terminal (never in pipes, files or CI logs) and only once a run has
 * lasted long enough to be worth watching; it is cleared when the run ends,
 * so what the command prints afterwards is unchanged.
 */

/** How long a run goes before the bar appears, and how often it is redrawn (ms). */
const SHOW_AFTER_MS = 400;
const REDRAW_MS = 100;

export interface ProgressOut {
  isTTY?: boolean;
  columns?: number;
  write(text: string): boolean;
}

export class Progress {
  private readonly start = Date.now();
  private last = 0;
  private shown = false;
  private readonly on: boolean;

  constructor(
    private readonly out: ProgressOut,
    private readonly label: string,
    env: Readonly<Record<string, string | undefined>> = process.env,
  ) {
    this.on = out.isTTY === true && env['CI'] === undefined && env['TERM'] !== 'dumb';
  }

  /** `done` of `total` (steps, bytes, records…), and what to say after the bar. */
  update(done: number, total: number, detail: string): void {
    if (!this.on) return;
    const now = Date.now();
    if (now - this.start < SHOW_AFTER_MS || now - this.last < REDRAW_MS) return;
    this.last = now;
    this.shown = true;
    this.out.write(`\r${progressLine(this.label, done, total, detail, this.out.columns !== undefined && this.out.columns > 0 ? this.out.columns : 80)}\x1b[K`);
  }

  /** Clears the bar (if it was drawn). */
  done(): void {
    if (this.shown) this.out.write('\r\x1b[K');
    this.shown = false;
  }
}

/** "label [#####.....] 50% detail", cut to `width` columns. */
export function progressLine(label: string, done: number, total: number, detail: string, width: number): string {
  const frac = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
  const bar = 20;
  const filled = Math.round(frac * bar);
  const line = `${label} [${'#'.repeat(filled)}${'.'.repeat(bar - filled)}] ${String(Math.floor(frac * 100)).padStart(3)}% ${detail}`;
  return line.length > width - 1 ? line.slice(0, Math.max(0, width - 1)) : line;
}
