/**
 * Issue 18's target lines. Each bench prints them last, one per target, computed from
 * figures measured in the same run: `target NAME ratio=X goal<=Y met|not met`.
 * A figure is the median of its interleaved rounds, so one slow patch of this shared
 * machine does not decide it.
 */

/** The median of `xs` (NaN for none). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** The `q` quantile (0..1) of `xs`, sorted in place. */
export function quantile(xs: number[], q: number): number {
  xs.sort((a, b) => a - b);
  return xs[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? Number.NaN;
}

/** One target line; `goal` is an upper (`<=`) or lower (`>=`) bound. */
export function targetLine(name: string, value: number, op: '<=' | '>=', goal: number, digits = 2): string {
  const met = op === '<=' ? value <= goal : value >= goal;
  return `target ${name} ratio=${value.toFixed(digits)} goal${op}${goal} ${met ? 'met' : 'not met'}`;
}
