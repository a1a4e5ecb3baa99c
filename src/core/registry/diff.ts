import type { Snapshot } from '../types';
import { indexPath, type RegisteredIndex } from './registry';
import { hasFileStat, STAT_FIELDS } from '../scanner/fileStats';

export interface DatasetDiff {
  /** On disk, not registered (nor in the external registry). */
  newFiles: string[];
  /** Registered, but the size or mtime on disk differs (known only for files with a recorded stat). */
  changed: string[];
  /** Registered, gone from disk. */
  missing: string[];
  /** On disk and registered (including `changed` and `unreadable` ones). */
  registered: number;
  /** Registered with status unreadable, still on disk. */
  unreadable: number;
  /** Their paths (rare: bad files are few). */
  unreadablePaths: string[];
  /** Those of them whose cause can pass (EACCES, EIO, …): the next register reads them again. */
  retry: string[];
  /** On disk, counted as registered because the external registry lists them. */
  external: number;
  /** On disk and in the external registry, whether or not registered here too (to find its rows that match nothing). */
  externalMatched: number;
  /** Files on disk whose size and mtime were known to the comparison (from a verify scan). */
  statKnown: number;
}

/**
 * Set-based: one pass over the snapshot with a hash-map lookup per file, one pass over the
 * registered rows for the missing ones. No query per file.
 */
export function diffSnapshot(snapshot: Snapshot, index: RegisteredIndex, external?: ReadonlySet<string>): DatasetDiff {
  const seen = new Uint8Array(index.count);
  const newFiles: string[] = [];
  const changed: string[] = [];
  const unreadablePaths: string[] = [];
  const retry: string[] = [];
  let registered = 0;
  let externalCount = 0;
  let externalMatched = 0;
  let statKnown = 0;
  for (const [dir, rec] of snapshot) {
    const prefix = dir ? `${dir}/` : '';
    const rows = index.byDir.get(dir);
    const files = rec.files;
    const stats = rec.stats;
    for (let k = 0; k < files.length; k++) {
      const i = rows?.get(files[k]);
      if (i === undefined) {
        const p = prefix + files[k];
        if (external?.has(p)) externalCount++;
        else newFiles.push(p);
        continue;
      }
      if (external?.has(prefix + files[k])) externalMatched++;
      seen[i] = 1;
      registered++;
      if (index.unreadable[i]) {
        unreadablePaths.push(prefix + files[k]);
        if (index.retry[i]) retry.push(prefix + files[k]);
      }
      if (index.size && index.mtimeMs && hasFileStat(stats, k)) {
        statKnown++;
        const at = k * STAT_FIELDS;
        if (stats[at] !== index.size[i] || stats[at + 1] !== index.mtimeMs[i]) changed.push(prefix + files[k]);
      }
    }
  }
  const missing: string[] = [];
  for (let i = 0; i < seen.length; i++) if (!seen[i]) missing.push(indexPath(index, i));
  return { newFiles, changed, missing, registered, unreadable: unreadablePaths.length, unreadablePaths, retry, external: externalCount, externalMatched: externalMatched + externalCount, statKnown };
}

/** Whether any folder of the snapshot carries file stats (then the diff needs registered sizes and mtimes). */
export function snapshotHasStats(snapshot: Snapshot): boolean {
  for (const rec of snapshot.values()) if (rec.stats) return true;
  return false;
}
