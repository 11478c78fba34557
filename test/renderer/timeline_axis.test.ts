// The timeline's axis and view math (src/renderer/src/views/timeline/axis.ts, viewport.ts,
// lanes.ts): nice steps, labels in the unit the range calls for with the decimals the step needs,
// ticks that never collide, offsets from a base when zoomed far in at a late time; zoom keeping
// the time under the pointer, pan, fit, following the live edge; the lanes' order and names.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { axisTicks, decimalsFor, formatRange, formatSpan, formatTick, formatTime, niceStep, tickLabels, unitFor } from '../../src/renderer/src/views/timeline/axis.js';
import { layoutLanes, LANE_H } from '../../src/renderer/src/views/timeline/lanes.js';
import { laneKey, XEN_LANE } from '../../src/renderer/src/views/timeline/marks.js';
import { AUTO_SPAN, MIN_SPAN, Viewport } from '../../src/renderer/src/views/timeline/viewport.js';

/** A label's width as an 11 px sans-serif font roughly draws it. */
const measure = (s: string): number => s.length * 6.2;

describe('the time axis', () => {
  it('steps by 1, 2 or 5 × 10^k ns, the first at or above the minimum', () => {
    expect([0.3, 1, 1.5, 2, 3, 7, 10, 11, 450, 999, 1e6 + 1].map(niceStep)).toEqual([1, 1, 2, 2, 5, 10, 10, 20, 500, 1000, 2e6]);
    fc.assert(
      fc.property(fc.double({ min: 1, max: 1e15, noNaN: true }), (min) => {
        const s = niceStep(min);
        expect(s).toBeGreaterThanOrEqual(min * (1 - 1e-9));
        expect(s).toBeLessThanOrEqual(min * 5 + 1);
        const m = s / 10 ** Math.floor(Math.log10(s) + 1e-9);
        expect([1, 2, 5].some((x) => Math.abs(m - x) < 1e-6)).toBe(true);
      }),
    );
  });

  it('labels a tick in the unit of its step, with the decimals the step needs', () => {
    expect(unitFor(500).name).toBe('ns');
    expect(unitFor(2000).name).toBe('µs');
    expect(unitFor(5e6).name).toBe('ms');
    expect(unitFor(2e9).name).toBe('s');
    expect(decimalsFor(500, 1e3)).toBe(1);
    expect(decimalsFor(20, 1e3)).toBe(2);
    expect(decimalsFor(2e6, 1e6)).toBe(0);
    // formatTick's unit follows the step (offsets from a base use it); axisTicks picks the range's.
    expect(formatTick(1_500_000, 500_000)).toBe('1\u2009500 µs');
    expect(formatTick(1_500_000, 5_000_000)).toBe('2 ms');
    expect(formatTick(3_200, 100)).toBe('3\u2009200 ns');
    expect(formatTick(3_200_000, 100_000)).toBe('3\u2009200 µs');
    expect(formatTick(1_234_567, 1)).toBe('1\u2009234\u2009567 ns');
    expect(formatTime(12_345_678)).toBe('12.345678 ms');
    expect(formatTime(2e9)).toBe('2 s');
    expect(formatTime(0)).toBe('0 ns');
    expect(formatSpan(4.24e6)).toBe('4.24 ms');
    expect(formatSpan(100e6)).toBe('100 ms');
    expect(formatRange(3.523e9, 3.623e9)).toBe('3.5230 – 3.6230 s');
    expect(formatRange(0, 4.028e6)).toBe('0.000 – 4.028 ms');
  });

  it('labels ticks in the unit the range calls for: 0.5 ms, 1 ms, 1.5 ms rather than 500 µs, 1 000 µs', () => {
    const t = axisTicks(0, 4e6, 1162, measure);
    expect(t.step).toBe(500_000);
    expect(t.labels.slice(0, 4)).toEqual(['0.0 ms', '0.5 ms', '1.0 ms', '1.5 ms']);
    expect(t.base).toBeUndefined();
  });

  it('labels offsets from a base when whole times would be too long (zoomed far in, late)', () => {
    const t0 = 3_523_000_017;
    const l = tickLabels(t0, t0 + 100, 10, [t0 + 3, t0 + 13]);
    expect(l.base).toBe(3_523_000_000);
    expect(l.baseLabel).toBe('3.523 s');
    expect(l.labels).toEqual(['+20 ns', '+30 ns']);
  });

  it('never lets labels collide, at any range and width', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1e12, noNaN: true }), fc.double({ min: 10, max: 1e12, noNaN: true }), fc.integer({ min: 80, max: 4000 }), (t0, span, width) => {
        const t = axisTicks(t0, t0 + span, width, measure);
        expect(t.times.length).toBe(t.labels.length);
        for (let i = 1; i < t.times.length; i++) {
          const gapPx = ((t.times[i]! - t.times[i - 1]!) / span) * width;
          expect(gapPx).toBeGreaterThanOrEqual(measure(t.labels[i - 1]!) + 16 - 1e-6);
          expect(t.times[i]! - t.times[i - 1]!).toBeCloseTo(t.step, 3);
        }
        for (const x of t.times) {
          expect(x).toBeGreaterThanOrEqual(t0);
          expect(x).toBeLessThanOrEqual(t0 + span);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('the timeline view', () => {
  const vp = (t0: number, span: number, width = 1000): Viewport => Object.assign(new Viewport(), { t0, span, width });

  it('zooms about the time under the pointer', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1e10, noNaN: true }), fc.double({ min: 1e3, max: 1e10, noNaN: true }), fc.double({ min: 0.1, max: 10, noNaN: true }), fc.integer({ min: 0, max: 1000 }), (t0, span, f, x) => {
        const v = vp(t0, span);
        const at = v.time(x);
        v.zoomAt(f, x);
        expect(v.span).toBeCloseTo(span * f, 3);
        expect(v.time(x)).toBeCloseTo(at, 0);
        expect(v.x(at)).toBeCloseTo(x, 3);
      }),
    );
    const v = vp(0, 100);
    v.zoomAt(1e-9, 0);
    expect(v.span).toBe(MIN_SPAN);
  });

  it('pans by pixels and fits a range with a little room', () => {
    const v = vp(1000, 1e6);
    v.pan(100);
    expect(v.t0).toBe(1000 + 1e5);
    v.fit(2e6, 4e6);
    expect(v.t0).toBeLessThan(2e6);
    expect(v.t1).toBeGreaterThan(4e6);
    expect(v.span).toBeLessThan(2.2e6);
  });

  it('follows a new session whole until it is longer than AUTO_SPAN, then its live edge', () => {
    const v = vp(0, 1);
    v.track(0, 5e6);
    expect(v.follow).toBe('auto');
    expect(v.t0).toBeLessThanOrEqual(0);
    expect(v.t1).toBeGreaterThanOrEqual(5e6);
    v.track(0, AUTO_SPAN * 3);
    expect(v.follow).toBe('edge');
    expect(v.span).toBe(AUTO_SPAN);
    expect(v.t1).toBeGreaterThan(AUTO_SPAN * 3);
    expect(v.t0).toBeLessThan(AUTO_SPAN * 3);
    v.span = 1e6;
    v.track(0, 5e9);
    expect(v.t1).toBeGreaterThan(5e9);
    expect(v.t1 - 5e9).toBeLessThan(1e5);
    v.follow = 'off';
    v.track(0, 9e9);
    expect(v.t1).toBeLessThan(5.1e9);
    v.follow = 'all';
    v.track(1e9, 9e9);
    expect(v.t0).toBeLessThanOrEqual(1e9);
    expect(v.t1).toBeGreaterThanOrEqual(9e9);
  });

  it('keeps some of the trace in view', () => {
    const v = vp(-5e9, 1e6);
    v.clamp(0, 1e9);
    expect(v.t0).toBeGreaterThanOrEqual(-0.05e6);
    v.t0 = 7e9;
    v.clamp(0, 1e9);
    expect(v.t0).toBeLessThan(1e9);
  });
});

describe('the timeline lanes', () => {
  it("puts Xen's lane first, then each domain by id with its own lane and its vCPUs', named from the topology", () => {
    const topo = {
      position: 0,
      domains: [
        { domid: 1, name: 'guest', kernel: 'k', state: 'running' as const, vcpus: 2, abi: '2l' as const, ports: [] },
        { domid: 0, name: 'dom0', kernel: 'k', state: 'running' as const, vcpus: 1, abi: '2l' as const, ports: [] },
      ],
    };
    // A destroyed domain 3's records still have a lane; a vCPU lane brings its domain's.
    const l = layoutLanes(topo, [laneKey(3, 0), XEN_LANE, laneKey(1, 1)]);
    expect(l.rows.map((r) => r.label)).toEqual(['Xen', 'dom0 (0)', 'vCPU 0', 'guest (1)', 'vCPU 0', 'vCPU 1', 'dom3 (3)', 'vCPU 0']);
    expect(l.rows.map((r) => r.role)).toEqual(['xen', 'domain', 'vcpu', 'domain', 'vcpu', 'vcpu', 'domain', 'vcpu']);
    expect(l.rows.map((r) => r.y)).toEqual(l.rows.map((_, i) => i * LANE_H));
    expect(l.height).toBe(8 * LANE_H);
    expect(l.byKey.get(laneKey(1, 1))?.label).toBe('vCPU 1');
    expect(new Set(l.rows.filter((r) => r.dom === 1).map((r) => r.band)).size).toBe(1);
  });
});
