/** "Did you mean ...?" for unknown keys and sections: the closest known name by edit distance. */

/** Levenshtein distance, giving up (returning limit + 1) for very different lengths. */
export function editDistance(a: string, b: string, limit = 2): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * Closest candidate within edit distance 2 (and less than the name's length); failing that, when `sep` is given, a candidate whose
 * last segment equals the name's (a key written in the wrong section).
 */
export function suggest(name: string, candidates: readonly string[], sep?: string): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const c of candidates) {
    const d = editDistance(name, c);
    if (d < bestD && d < name.length) [best, bestD] = [c, d];
  }
  if (best !== undefined || sep === undefined) return best;
  const last = name.split(sep).pop()!;
  return candidates.find((c) => c !== name && c.split(sep).pop() === last);
}
