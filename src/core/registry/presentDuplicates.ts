import type { DuplicateGroup } from './registry';

export interface PresentDuplicates {
  groups: DuplicateGroup[];
  /** Files in those groups (each group has at least two). */
  files: number;
}

/**
 * Duplicate groups of the files still on disk: the rows of missing files are left out, and a group
 * left with one file is no group. One Set of the missing paths, one pass over the grouped paths.
 */
export function presentDuplicates(groups: readonly DuplicateGroup[], missing: readonly string[]): PresentDuplicates {
  const gone = groups.length > 0 && missing.length > 0 ? new Set(missing) : null;
  const out: DuplicateGroup[] = [];
  let files = 0;
  for (const g of groups) {
    const paths = gone ? g.paths.filter((p) => !gone.has(p)) : g.paths;
    if (paths.length < 2) continue;
    out.push(paths === g.paths ? g : { hash: g.hash, paths });
    files += paths.length;
  }
  return { groups: out, files };
}
