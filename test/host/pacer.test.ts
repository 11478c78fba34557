// The run's pace by the wall clock: real time owes the virtual time the wall clock has run, a
// tick that overran its budget leaves a debt the next ticks pay, and a run that falls more than
// MAX_LAG_MS behind starts counting again instead of racing to catch up.
import { describe, expect, it } from 'vitest';
import { MAX_LAG_MS, Pacer } from '../../src/host/lab/pacer.js';

const MS = 1e6;

describe('the pacer', () => {
  it('asks real time for the virtual time the wall clock has run, at its factor', () => {
    const p = new Pacer({ mode: 'realtime', factor: 1 });
    p.anchor(1000, 0, 5 * MS);
    expect(p.order(1016, 0)).toEqual({ kind: 'until', t: 21 * MS });
    p.speed = { mode: 'realtime', factor: 0.5 };
    expect(p.order(1016, 0)).toEqual({ kind: 'until', t: 13 * MS });
  });

  it('keeps a small debt after an overrun tick, so the run catches up', () => {
    const p = new Pacer({ mode: 'realtime', factor: 1 });
    p.anchor(0, 0, 0);
    // 100 ms of wall time, 60 ms of virtual time done: 40 ms behind.
    expect(p.lagMs(100, 10, 60 * MS)).toBeCloseTo(40);
    expect(p.fellBehind(100, 10, 60 * MS)).toBe(false);
    // The debt stands: the next tick is asked for everything up to the wall clock.
    expect(p.order(120, 10)).toEqual({ kind: 'until', t: 120 * MS });
  });

  it('starts counting again from where the run is when it is too far behind', () => {
    const p = new Pacer({ mode: 'realtime', factor: 1 });
    p.anchor(0, 0, 0);
    const done = (1000 - MAX_LAG_MS - 1) * MS;
    expect(p.fellBehind(1000, 50, done)).toBe(true);
    expect(p.lagMs(1000, 50, done)).toBe(0);
    expect(p.order(1016, 50)).toEqual({ kind: 'until', t: done + 16 * MS });
  });

  it('measures slow motion in units and never lags as fast as possible', () => {
    const p = new Pacer({ mode: 'units', perSecond: 10 });
    p.anchor(0, 0, 0);
    expect(p.order(1000, 4)).toEqual({ kind: 'units', units: 6 });
    expect(p.lagMs(1000, 4, 0)).toBeCloseTo(600);
    p.speed = { mode: 'max' };
    expect(p.lagMs(1000, 4, 0)).toBe(0);
    expect(p.fellBehind(1000, 4, 0)).toBe(false);
  });
});
