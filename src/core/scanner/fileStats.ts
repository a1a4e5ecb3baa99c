import type { FileStat, FileStats } from '../types';

/** [size, mtimeMs, ino] per file. */
export const STAT_FIELDS = 3;

/** Stats for `count` files, all unknown (NaN size). */
export function unknownFileStats(count: number): FileStats {
  return new Float64Array(count * STAT_FIELDS).fill(NaN);
}

export function hasFileStat(stats: FileStats | undefined, i: number): stats is FileStats {
  return stats !== undefined && i * STAT_FIELDS < stats.length && !Number.isNaN(stats[i * STAT_FIELDS]);
}

export function fileStatAt(stats: FileStats | undefined, i: number): FileStat | undefined {
  if (!hasFileStat(stats, i)) return undefined;
  const at = i * STAT_FIELDS;
  return { size: stats[at], mtimeMs: stats[at + 1], ino: stats[at + 2] };
}

export function setFileStat(stats: FileStats, i: number, st: FileStat): void {
  const at = i * STAT_FIELDS;
  stats[at] = st.size;
  stats[at + 1] = st.mtimeMs;
  stats[at + 2] = st.ino;
}

/** Copies file `from` of `src` to file `to` of `dst`. */
export function copyFileStat(src: FileStats, from: number, dst: FileStats, to: number): void {
  dst.set(src.subarray(from * STAT_FIELDS, (from + 1) * STAT_FIELDS), to * STAT_FIELDS);
}

/** Both known and equal in size, mtime and inode. */
export function sameFileStat(a: FileStats, i: number, b: FileStats, j: number): boolean {
  const x = i * STAT_FIELDS;
  const y = j * STAT_FIELDS;
  return a[x] === b[y] && a[x + 1] === b[y + 1] && a[x + 2] === b[y + 2];
}

/** A new array with these files' stats after the existing ones (one copy however many are added). */
export function appendFileStats(stats: FileStats, added: readonly (FileStat | undefined)[]): FileStats {
  const out = new Float64Array(stats.length + added.length * STAT_FIELDS);
  out.set(stats);
  const first = stats.length / STAT_FIELDS;
  added.forEach((st, k) => {
    if (st) setFileStat(out, first + k, st);
    else out[(first + k) * STAT_FIELDS] = NaN;
  });
  return out;
}

/** The stats of the files whose index passes `keep`, in order. */
export function keepFileStats(stats: FileStats, count: number, keep: (i: number) => boolean): FileStats {
  const kept: number[] = [];
  for (let i = 0; i < count; i++) if (keep(i)) kept.push(i);
  const out = unknownFileStats(kept.length);
  kept.forEach((from, to) => {
    if (from * STAT_FIELDS < stats.length) copyFileStat(stats, from, out, to);
  });
  return out;
}
