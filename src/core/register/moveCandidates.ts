import type { HashedRow } from '../registry/registry';

interface Candidate {
  path: string;
  size: number | null;
  used: boolean;
}

/** Candidates in path order; `next` is past the used ones at the front (a cursor, not a scan). */
interface Queue {
  list: Candidate[];
  next: number;
}

interface HashGroup {
  /** Every candidate in path order, for files renamed as well as moved. */
  all: Queue;
  /**
   * Built at the first same-name lookup: `suffix\0size\0depth` and `suffix\0size` → candidates,
   * for every path suffix of one segment (the file name) up to all but the first.
   */
  bySuffix?: Map<string, Queue>;
}

/**
 * The registered rows gone from disk, by content hash, each usable once. Several files of a moved
 * folder may share a hash (copies, blank masks in every folder): pairing by hash alone would move
 * one row per hash and leave the others missing, and pairing by name alone would give
 * `moved/sub/c.png` the row of `old/c.png` when it is probed first. So a file takes the candidate
 * that shares the longest path suffix with it (at the same depth first: a folder renamed in place;
 * then at any depth: a folder moved up or down), its name at least, and only then any remaining
 * one. Lookups are map hits and cursors, never scans: 100k identical blank images
 * cost the same per file as one.
 */
export class MoveCandidates {
  private readonly byHash = new Map<string, HashGroup>();

  /** `rows` in path order (hashedRowsOf gives them so): candidates are taken in that order. */
  constructor(rows: readonly HashedRow[]) {
    for (const row of rows) {
      let group = this.byHash.get(row.hash);
      if (!group) this.byHash.set(row.hash, (group = { all: { list: [], next: 0 } }));
      group.all.list.push({ path: row.path, size: row.size, used: false });
    }
  }

  /** Whether some row gone from disk had this hash (used or not). */
  knows(hash: string | null): boolean {
    return hash !== null && this.byHash.has(hash);
  }

  /**
   * The old path of a row with this hash, the same file name and size, and the longest shared
   * path suffix, taken; undefined if none.
   */
  takeSameName(hash: string, newPath: string, size: number | null): string | undefined {
    const group = this.byHash.get(hash);
    if (!group) return undefined;
    if (group.all.list.length === 1) {
      // The usual case, a file of its own: no index, just its name and size.
      const only = group.all.list[0];
      return !only.used && only.size === size && baseName(only.path) === baseName(newPath) ? take(group.all) : undefined;
    }
    const index = (group.bySuffix ??= suffixIndex(group.all.list));
    const segments = newPath.split('/');
    const depth = segments.length;
    for (let d = Math.max(1, depth - 1); d >= 1; d--) {
      for (const sameDepth of [true, false]) {
        const q = index.get(suffixKey(segments, d, size, sameDepth ? depth : null));
        const from = q && take(q);
        if (from !== undefined) return from;
      }
    }
    return undefined;
  }

  /** The first (path order) unused candidate with this hash, taken; undefined if none. */
  takeAny(hash: string): string | undefined {
    const group = this.byHash.get(hash);
    return group ? take(group.all) : undefined;
  }
}

/** Each candidate under every suffix it has but its whole path, with and without its depth. */
function suffixIndex(candidates: readonly Candidate[]): Map<string, Queue> {
  const index = new Map<string, Queue>();
  const add = (key: string, c: Candidate): void => {
    const q = index.get(key);
    if (q) q.list.push(c);
    else index.set(key, { list: [c], next: 0 });
  };
  for (const c of candidates) {
    const segments = c.path.split('/');
    for (let d = 1; d < segments.length || d === 1; d++) {
      add(suffixKey(segments, d, c.size, segments.length), c);
      add(suffixKey(segments, d, c.size, null), c);
    }
  }
  return index;
}

function baseName(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

function suffixKey(segments: readonly string[], d: number, size: number | null, depth: number | null): string {
  const suffix = segments.slice(segments.length - d).join('/');
  return depth === null ? `${suffix}\0${size ?? ''}` : `${suffix}\0${size ?? ''}\0${depth}`;
}

/** Every candidate is skipped at most once per queue it is in: amortised O(1) a take. */
function take(q: Queue): string | undefined {
  while (q.next < q.list.length && q.list[q.next].used) q.next++;
  if (q.next >= q.list.length) return undefined;
  const c = q.list[q.next++];
  c.used = true;
  return c.path;
}
