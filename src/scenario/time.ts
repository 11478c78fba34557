/** Virtual time for people. */

/** ns in the largest unit that keeps it at 1 or more, exactly: 1.5ms, 250us, 7ns, 2s. */
export function fmtNs(ns: number): string {
  if (ns === 0) return '0';
  for (const [unit, size] of [['s', 1e9], ['ms', 1e6], ['us', 1e3]] as const) {
    if (Math.abs(ns) >= size) return `${trim((ns / size).toFixed(Math.log10(size)))}${unit}`;
  }
  return `${ns}ns`;
}

function trim(fixed: string): string {
  return fixed.includes('.') ? fixed.replace(/0+$/, '').replace(/\.$/, '') : fixed;
}
