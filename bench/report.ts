/** What every benchmark shares: progress on stderr, medians, warnings that never fail a run. */

export interface Stat {
  median: number;
  min: number;
  max: number;
}

export const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

export function summarise(xs: readonly number[]): Stat {
  if (xs.length === 0) return { median: NaN, min: NaN, max: NaN };
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return { median: s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2, min: s[0], max: s[s.length - 1] };
}

/** A full collection, when the process runs with --expose-gc. */
export function gc(): void {
  globalThis.gc?.();
}

/** A sanity check: a miss is logged, never thrown (a bench reports; it does not judge). */
export function check(ok: boolean, what: string): void {
  if (!ok) log(`  WARNING: ${what}`);
}

export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
