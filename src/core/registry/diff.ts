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

/**
 * The diff after a watcher batch, from the diff before it: only the `touched` paths (added, removed
 * or changed on disk; the snapshot already holds the batch) are classified again, and the lists
 * are filtered once — no pass over the million files of the snapshot nor over every registered row.
 * Null when the comparison needs what only a full pass knows: registered sizes and mtimes (then
 * `changed` and `statKnown` count stats per file) or an external registry (its matches are counted).
 */
export function updateDiff(before: DatasetDiff, snapshot: Snapshot, index: RegisteredIndex, touched: Iterable<string>, external?: ReadonlySet<string>): DatasetDiff | null {
  if (index.size || index.mtimeMs || (external && external.size > 0) || before.changed.length || before.statKnown) return null;
  const paths = new Set(touched);
  if (paths.size === 0) return before;
  const keep = (list: string[]): string[] => list.filter((p) => !paths.has(p));
  const wasMissing = new Set(before.missing.filter((p) => paths.has(p)));
  const newFiles = keep(before.newFiles);
  const missing = keep(before.missing);
  const unreadablePaths = keep(before.unreadablePaths);
  const retry = keep(before.retry);
  let registered = before.registered;
  // Each touched folder's names as a set, once: a burst into a folder of 100k images is no quadratic scan.
  const names = new Map<string, ReadonlySet<string>>();
  for (const p of paths) {
    const slash = p.lastIndexOf('/');
    const dir = slash < 0 ? '' : p.slice(0, slash);
    const name = p.slice(slash + 1);
    let inDir = names.get(dir);
    if (!inDir) names.set(dir, (inDir = new Set(snapshot.get(dir)?.files ?? [])));
    const onDisk = inDir.has(name);
    const i = index.byDir.get(dir)?.get(name);
    if (i === undefined) {
      if (onDisk) newFiles.push(p);
      continue;
    }
    // A registered path was on disk unless the diff before listed it missing.
    registered += (onDisk ? 1 : 0) - (wasMissing.has(p) ? 0 : 1);
    if (!onDisk) missing.push(p);
    else if (index.unreadable[i]) {
      unreadablePaths.push(p);
      if (index.retry[i]) retry.push(p);
    }
  }
  return { ...before, newFiles, missing, registered, unreadable: unreadablePaths.length, unreadablePaths, retry };
}
