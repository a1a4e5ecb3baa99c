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

/**
 * On a file system served by another machine (NFS, SMB, sshfs, any FUSE server) timestamps come
 * from the server's clock, which this machine cannot read: a server 30 s behind makes a folder
 * changed just now look 30 s old, and the rule above would trust a stamp that a second change in
 * the same tick leaves equal. There the window also covers this much clock difference.
 */
export const REMOTE_CLOCK_SKEW_NS = 60_000_000_000n;

const REMOTE_CLOCKS = /^(fuse(\..*)?|fuseblk|nfs4?|cifs|smb3?|smbfs|9p|afs|ceph|glusterfs|lustre|gpfs|beegfs)$/;

/** The racy window for a root on a file system of this type (from /proc/mounts; null: unknown). */
export function racyWindowFor(fsType: string | null): bigint {
  return fsType !== null && REMOTE_CLOCKS.test(fsType) ? DEFAULT_RACY_WINDOW_NS + REMOTE_CLOCK_SKEW_NS : DEFAULT_RACY_WINDOW_NS;
}

export function isRacy(stamp: DirStamp, readStartNs: bigint, windowNs: bigint): boolean {
  const safeBefore = readStartNs - windowNs;
  return stamp.mtimeNs >= safeBefore || stamp.ctimeNs >= safeBefore;
}

export function wallClockNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}
