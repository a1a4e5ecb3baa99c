import type { ScanIssue, Snapshot } from '../types';

export function countSnapshot(snapshot: Snapshot): { dirs: number; files: number } {
  let files = 0;
  for (const rec of snapshot.values()) files += rec.files.length;
  return { dirs: snapshot.size, files };
}

/** Every image path of a snapshot, relative to its root with POSIX separators. */
export function* snapshotFiles(snapshot: Snapshot): Generator<string> {
  for (const [dir, rec] of snapshot) {
    for (const name of rec.files) yield dir ? `${dir}/${name}` : name;
  }
}

/**
 * The problems and links not followed that a snapshot's folders keep (see DirRecord.issues): what a
 * status without a scan reports. Per folder, never per file.
 */
export function snapshotProblems(snapshot: Snapshot): { issues: ScanIssue[]; symlinks: number } {
  const issues: ScanIssue[] = [];
  let symlinks = 0;
  for (const rec of snapshot.values()) {
    if (rec.issues) for (const issue of rec.issues) issues.push(issue);
    if (rec.symlinks) symlinks += rec.symlinks;
  }
  return { issues, symlinks };
}
