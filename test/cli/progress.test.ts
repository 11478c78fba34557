import { afterEach, describe, expect, it, vi } from 'vitest';
import { Progress, progressLine } from '../../src/cli/progress.js';

function out(isTTY: boolean) {
  const written: string[] = [];
  return { isTTY, columns: 60, written, write: (t: string) => (written.push(t), true) };
}

afterEach(() => void vi.useRealTimers());

describe('the CLI progress bar', () => {
  it('draws nothing when standard error is not a terminal, or in CI', () => {
    vi.useFakeTimers();
    for (const [o, env] of [
      [out(false), {} as Record<string, string>],
      [out(true), { CI: 'true' }],
      [out(true), { TERM: 'dumb' }],
    ] as const) {
      const p = new Progress(o, 'run', env);
      vi.advanceTimersByTime(5000);
      p.update(5, 10, 'x');
      p.done();
      expect(o.written, JSON.stringify(env)).toEqual([]);
    }
  });

  it('appears only after a moment, redraws at most ten times a second, and is cleared at the end', () => {
    vi.useFakeTimers();
    const o = out(true);
    const p = new Progress(o, 'big.yaml', {});
    p.update(1, 10, 'step 1/10');
    expect(o.written).toEqual([]);
    vi.advanceTimersByTime(500);
    p.update(5, 10, 'step 5/10');
    p.update(6, 10, 'step 6/10');
    expect(o.written).toEqual([`\r${progressLine('big.yaml', 5, 10, 'step 5/10', 60)}\x1b[K`]);
    vi.advanceTimersByTime(150);
    p.update(7, 10, 'step 7/10');
    expect(o.written).toHaveLength(2);
    p.done();
    expect(o.written.at(-1)).toBe('\r\x1b[K');
  });

  it('fits its line to the terminal', () => {
    expect(progressLine('f.yaml', 1, 4, 'step 1/4', 80)).toBe('f.yaml [#####...............]  25% step 1/4');
    expect(progressLine('f.yaml', 9, 4, 'done', 80)).toContain('[####################] 100%');
    expect(progressLine('a-long-scenario-name.yaml', 1, 2, 'step 1/2, t = 0.000001 s', 30)).toHaveLength(29);
  });
});
