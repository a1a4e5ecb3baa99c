import type { BigIntStats } from 'node:fs';
import type { DirStamp } from '../types';

export function stampOf(st: BigIntStats): DirStamp {
  return { mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, ino: st.ino, dev: st.dev };
}

/** Change detection is equality of every field: never "newer than", so clock skew cannot hide a change. */
export function sameStamp(a: DirStamp | null, b: DirStamp): boolean {
  return (
    a !== null && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs && a.ino === b.ino && a.dev === b.dev
  );
}

/**
 * Timestamps have a granularity (a kernel tick, 2 s on FAT, a second on some NFS servers). A directory
 * modified within that tick of our read may change again without its stamp changing, so such a
 * stamp is not trusted and the directory is re-read next time (git's and Mercurial's "racy" entries).
 */
export const DEFAULT_RACY_WINDOW_NS = 2_000_000_000n;

export function isRacy(stamp: DirStamp, readStartNs: bigint, windowNs: bigint): boolean {
  const safeBefore = readStartNs - windowNs;
  return stamp.mtimeNs >= safeBefore || stamp.ctimeNs >= safeBefore;
}

export function wallClockNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}
