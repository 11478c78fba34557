/**
 * "Did you mean ...?" for misspelt names: the closest candidate by edit
 * distance (insertions, deletions, substitutions and swaps of neighbours,
 * ignoring case), if it is close enough to be a likely typo.
 */

/** The candidate closest to `word`, or undefined when none is within about a third of its length (ignoring case). */
export function closestName(word: string, candidates: Iterable<string>): string | undefined {
  const w = word.toLowerCase();
  // One edit in a one-letter word is another word, not a typo.
  const limit = word.length <= 1 ? 0 : Math.max(1, Math.floor(word.length / 3));
  let best: string | undefined;
  let bestDist = limit + 1;
  for (const c of candidates) {
    const d = editDistance(w, c.toLowerCase(), bestDist);
    if (d < bestDist) {
      bestDist = d;
      best = c;
    }
  }
  return best;
}

/** Optimal-string-alignment distance between a and b; any value >= `cap` means "too far". */
export function editDistance(a: string, b: string, cap = Infinity): number {
  if (Math.abs(a.length - b.length) >= cap) return cap;
  const n = b.length;
  let prev2 = new Array<number>(n + 1).fill(0);
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  let cur = new Array<number>(n + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, prev2[j - 2]! + 1);
      cur[j] = v;
    }
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[n]!;
}
