/**
 * How fast `run` goes, by the wall clock: a number of units per second (slow
 * motion, to watch notifications travel), virtual time at a factor of wall
 * time (1 = real time), or as fast as the machine goes. The session asks
 * the pacer, at each tick, what to do now. A tick that runs out of its
 * budget leaves a debt the next ticks pay off; when the debt passes
 * MAX_LAG_MS (the machine is slower than asked), the pacer starts counting
 * again from where it is rather than trying to catch up.
 */
import type { Speed } from '../../contract/session.js';

/** Wall milliseconds of work per tick, so requests and the stream get their turn. */
export const TICK_BUDGET_MS = 20;

/**
 * How far behind the wall clock a run may fall and still catch up, ms. A guest that needs 15 ms of
 * work for each 10 ms tick now and then overruns one budget; forgetting that debt at once lost a
 * seventh of real time (a 5 MB/s console flood ran at 86% speed on a machine that could keep up).
 */
export const MAX_LAG_MS = 250;

export type PaceOrder =
  /** Take up to `units` units. */
  | { kind: 'units'; units: number }
  /** Take every unit due by virtual time `t`, then move the clock there. */
  | { kind: 'until'; t: number }
  /** Take units until the budget is spent. */
  | { kind: 'max' };

export class Pacer {
  private wall0 = 0;
  private pos0 = 0;
  private virt0 = 0;

  constructor(public speed: Speed) {}

  /** Starts counting from now (on run, a speed change, or after falling behind). */
  anchor(wallMs: number, position: number, now: number): void {
    this.wall0 = wallMs;
    this.pos0 = position;
    this.virt0 = now;
  }

  order(wallMs: number, position: number): PaceOrder {
    const s = this.speed;
    const elapsed = Math.max(0, wallMs - this.wall0);
    if (s.mode === 'units') return { kind: 'units', units: Math.max(0, this.pos0 + Math.floor((elapsed / 1000) * s.perSecond) - position) };
    if (s.mode === 'realtime') return { kind: 'until', t: this.virt0 + elapsed * 1e6 * s.factor };
    return { kind: 'max' };
  }

  /** How far the run at `position`, virtual time `now`, is behind what this speed asks by `wallMs`, in wall ms. */
  lagMs(wallMs: number, position: number, now: number): number {
    const s = this.speed;
    const elapsed = Math.max(0, wallMs - this.wall0);
    if (s.mode === 'units') return Math.max(0, ((this.pos0 + (elapsed / 1000) * s.perSecond - position) / s.perSecond) * 1000);
    if (s.mode === 'realtime') return Math.max(0, elapsed - (now - this.virt0) / (1e6 * s.factor));
    return 0;
  }

  /**
   * After a tick that ran out of budget: keeps the debt while it is small (the next ticks catch
   * up), or starts counting again from here when the run is more than MAX_LAG_MS behind.
   * Returns whether it started again.
   */
  fellBehind(wallMs: number, position: number, now: number): boolean {
    if (this.lagMs(wallMs, position, now) <= MAX_LAG_MS) return false;
    this.anchor(wallMs, position, now);
    return true;
  }

  /** Wall ms until the next tick is worth taking. */
  delay(): number {
    const s = this.speed;
    if (s.mode === 'units') return Math.max(8, Math.min(250, 1000 / s.perSecond));
    if (s.mode === 'realtime') return 16;
    return 0;
  }
}

/** A speed the session accepts, or a message saying what is wrong with it. */
export function checkSpeed(s: Speed): string | undefined {
  if (s.mode === 'units') return Number.isFinite(s.perSecond) && s.perSecond > 0 && s.perSecond <= 1e9 ? undefined : `units per second must be a number in (0, 1e9], found ${s.perSecond}`;
  if (s.mode === 'realtime') return Number.isFinite(s.factor) && s.factor > 0 && s.factor <= 1e9 ? undefined : `the realtime factor must be a number in (0, 1e9], found ${s.factor}`;
  return undefined;
}
