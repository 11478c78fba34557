/**
 * The timeline's time axis: tick steps of 1, 2 or 5 × 10^k ns, chosen so
 * the labels do not collide, and labels in the unit the step calls for
 * (ns, µs, ms, s) with as many decimals as the step needs.
 */

const UNITS: readonly { ns: number; name: string }[] = [
  { ns: 1, name: 'ns' },
  { ns: 1e3, name: 'µs' },
  { ns: 1e6, name: 'ms' },
  { ns: 1e9, name: 's' },
];

/** The unit a step is labelled in: the largest one not larger than the step. */
export function unitFor(step: number): { ns: number; name: string } {
  let u = UNITS[0]!;
  for (const x of UNITS) if (x.ns <= step) u = x;
  return u;
}

/** Decimals a label needs for the step to show: 0 for 2 ms in ms, 1 for 500 µs in ms... */
export function decimalsFor(step: number, unitNs: number): number {
  const r = step / unitNs;
  if (r >= 1) return 0;
  return Math.min(9, Math.ceil(-Math.log10(r) - 1e-9));
}

/** Groups the integer part by thousands with thin spaces: 1234567 → "1 234 567". */
function grouped(int: string): string {
  const neg = int.startsWith('-');
  const digits = neg ? int.slice(1) : int;
  let out = '';
  for (let i = 0; i < digits.length; i++) {
    if (i > 0 && (digits.length - i) % 3 === 0) out += '\u2009';
    out += digits[i];
  }
  return neg ? `-${out}` : out;
}

/** A tick's label, e.g. "12 ms", "1.5 µs", "3 200 ns". */
export function formatTick(t: number, step: number): string {
  const u = unitFor(step);
  const d = decimalsFor(step, u.ns);
  const s = (t / u.ns).toFixed(d);
  const dot = s.indexOf('.');
  return `${grouped(dot < 0 ? s : s.slice(0, dot))}${dot < 0 ? '' : s.slice(dot)} ${u.name}`;
}

/** A time for tooltips and the range, to the ns, in the unit its size calls for: "12.345678 ms", "2 s". */
export function formatTime(t: number): string {
  const u = unitFor(Math.abs(t));
  let s = (t / u.ns).toFixed(decimalsFor(1, u.ns));
  if (s.includes('.')) s = s.replace(/\.?0+$/, '');
  const dot = s.indexOf('.');
  return `${grouped(dot < 0 ? s : s.slice(0, dot))}${dot < 0 ? '' : s.slice(dot)} ${u.name}`;
}

/** A range for the toolbar: both ends in the unit the larger one calls for, to a thousandth of the span. */
export function formatRange(t0: number, t1: number): string {
  const u = unitFor(Math.max(Math.abs(t0), Math.abs(t1), 1));
  const d = decimalsFor(niceStep((t1 - t0) / 1000), u.ns);
  const one = (t: number): string => {
    const s = (t / u.ns).toFixed(d);
    const dot = s.indexOf('.');
    return `${grouped(dot < 0 ? s : s.slice(0, dot))}${dot < 0 ? '' : s.slice(dot)}`;
  };
  return `${one(t0)} – ${one(t1)} ${u.name}`;
}

/** A span of time, briefly: "10 ms", "2.5 µs". */
export function formatSpan(ns: number): string {
  const u = unitFor(ns);
  const v = ns / u.ns;
  const d = v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return `${Number(v.toFixed(d))} ${u.name}`;
}

/** The steps 1, 2, 5 × 10^k ns from `min` up: the first one >= min. */
export function niceStep(min: number): number {
  if (!(min > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(min));
  for (const m of [1, 2, 5, 10]) if (m * p >= min * (1 - 1e-12)) return Math.max(1, m * p);
  return Math.max(1, 10 * p);
}

export interface Ticks {
  step: number;
  /** Tick times, ascending, inside [t0, t1]. */
  times: number[];
  labels: string[];
  /**
   * Set when the labels are offsets from a base time (zoomed far in at a late time, where
   * whole times would be too long to read): the base, for the axis to show once.
   */
  base?: number;
  baseLabel?: string;
}

/** Digits a label may have before the axis switches to offsets from a base. */
const MAX_DIGITS = 7;

/** A value in a unit with `d` decimals, its integer part grouped: "1 234.5". */
function inUnit(t: number, unitNs: number, d: number): string {
  const s = (t / unitNs).toFixed(d);
  const dot = s.indexOf('.');
  return `${grouped(dot < 0 ? s : s.slice(0, dot))}${dot < 0 ? '' : s.slice(dot)}`;
}

/**
 * Labels for ticks `step` apart in [t0, t1]: in the unit the range's magnitude calls for
 * ("1.5 ms", not "1 500 µs"), with the decimals the step needs; when that takes more than
 * MAX_DIGITS digits, as offsets ("+20 ns") from a base time shown once.
 */
export function tickLabels(t0: number, t1: number, step: number, times: readonly number[]): Pick<Ticks, 'labels' | 'base' | 'baseLabel'> {
  const u = unitFor(Math.max(Math.abs(t0), Math.abs(t1), step));
  const d = decimalsFor(step, u.ns);
  const intDigits = Math.max(1, Math.floor(Math.log10(Math.max(1, Math.abs(t1) / u.ns))) + 1);
  if (intDigits + d <= MAX_DIGITS) return { labels: times.map((t) => `${inUnit(t, u.ns, d)} ${u.name}`) };
  // Offsets from a base that moves in steps of a power of ten above the span, so it rarely changes while panning.
  const block = 10 ** Math.ceil(Math.log10(Math.max(t1 - t0, step) * 1.0001));
  const base = Math.floor(t0 / block) * block;
  return { labels: times.map((t) => `+${formatTick(t - base, step)}`), base, baseLabel: formatTime(base) };
}

/**
 * Ticks for [t0, t1] over `width` px: the smallest nice step whose labels (measured by
 * `measure`, in px) leave at least `gap` px between neighbours, and at least `minPx` px
 * between ticks.
 */
export function axisTicks(t0: number, t1: number, width: number, measure: (label: string) => number, minPx = 60, gap = 16): Ticks {
  const span = t1 - t0;
  if (!(span > 0) || !(width > 0)) return { step: 1, times: [], labels: [] };
  const nsPerPx = span / width;
  let step = niceStep(minPx * nsPerPx);
  for (let guard = 0; guard < 40; guard++) {
    const times: number[] = [];
    let first = Math.ceil(t0 / step) * step;
    if (first < t0) first += step; // t0 / step underflowed
    for (let t = first; t <= t1 && times.length < 1000; t = first + times.length * step) times.push(t);
    const l = tickLabels(t0, t1, step, times);
    const widest = Math.max(0, ...l.labels.map(measure));
    if (widest + gap <= step / nsPerPx || times.length <= 1) return { step, times, ...l };
    step = niceStep(step * 1.0001);
  }
  return { step, times: [], labels: [] };
}
