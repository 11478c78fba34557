/**
 * How fast `run` goes, by the wall clock: a number of units per second (slow
 * motion, to watch notifications travel), virtual time at a factor of wall
 * time (1 = real time), or as fast as the machine goes. The session asks
 * the pacer, at each tick, what to do now; when it falls behind (the
 * machine is slower than asked), the pacer starts counting again from where
 * it is rather than trying to catch up.
 */
import type { Speed } from '../../contract/session.js';

/** Wall milliseconds of work per tick, so requests and the stream get their turn. */
export const TICK_BUDGET_MS = 20;

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
