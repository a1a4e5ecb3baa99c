/** What every benchmark shares: progress on stderr, medians, warnings that never fail a run. */
import { parseArgs } from 'node:util';

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

/** The options of the benchmarks that run on a generated tree (scan, list). */
export interface TreeBenchArgs {
  files: number;
  perDir: number;
  runs: number;
  json: boolean;
}

export function treeBenchArgs(): TreeBenchArgs {
  const { values } = parseArgs({
    options: {
      files: { type: 'string', default: '100000' },
      'per-dir': { type: 'string', default: '100' },
      runs: { type: 'string', default: '5' },
      json: { type: 'boolean', default: false },
    },
  });
  const int = (name: string, v: string | undefined): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${v}`);
    return n;
  };
  return {
    files: int('files', values.files),
    perDir: int('per-dir', values['per-dir']),
    runs: int('runs', values.runs),
    json: values.json ?? false,
  };
}
