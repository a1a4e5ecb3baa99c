import type { Snapshot } from '../types';

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
