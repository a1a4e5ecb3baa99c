import type { HashedRow } from '../registry/registry';

interface Candidate {
  path: string;
  used: boolean;
}

/** Candidates in path order; `next` is past the used ones at the front (a cursor, not a scan). */
interface Queue {
  list: Candidate[];
  next: number;
}

interface HashGroup {
  /** `name\0size` → candidates: the likeliest old row of a file moved with its folder. */
  byNameSize: Map<string, Queue>;
  /** Every candidate, for files renamed as well as moved. */
  all: Queue;
}

function baseName(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

function nameSizeKey(p: string, size: number | null): string {
  return `${baseName(p)}\0${size ?? ''}`;
}

/**
 * The registered rows gone from disk, by content hash, each usable once. Several files of a moved
 * folder may share a hash (copies): pairing by hash alone would move one row per hash and leave
 * the others missing, so a file first takes a candidate with its own name and size, and only then
 * any remaining one. Per hash, lookups are map hits and cursors, never scans: 100k identical blank
 * images cost the same per file as one.
 */
export class MoveCandidates {
  private readonly byHash = new Map<string, HashGroup>();

  /** `rows` in path order (hashedRowsOf gives them so): candidates are taken in that order. */
  constructor(rows: readonly HashedRow[]) {
    for (const row of rows) {
      let group = this.byHash.get(row.hash);
      if (!group) this.byHash.set(row.hash, (group = { byNameSize: new Map(), all: { list: [], next: 0 } }));
      const c: Candidate = { path: row.path, used: false };
      group.all.list.push(c);
      const key = nameSizeKey(row.path, row.size);
      const same = group.byNameSize.get(key);
      if (same) same.list.push(c);
      else group.byNameSize.set(key, { list: [c], next: 0 });
    }
  }

  /** Whether some row gone from disk had this hash (used or not). */
  knows(hash: string | null): boolean {
    return hash !== null && this.byHash.has(hash);
  }

  /** The old path of a row with this hash, the same file name and size, taken; undefined if none. */
  takeSameName(hash: string, newPath: string, size: number | null): string | undefined {
    const same = this.byHash.get(hash)?.byNameSize.get(nameSizeKey(newPath, size));
    return same ? take(same) : undefined;
  }

  /** The first (path order) unused candidate with this hash, taken; undefined if none. */
  takeAny(hash: string): string | undefined {
    const group = this.byHash.get(hash);
    return group ? take(group.all) : undefined;
  }
}

/** Every candidate is skipped at most once per queue it is in: amortised O(1) a take. */
function take(q: Queue): string | undefined {
  while (q.next < q.list.length && q.list[q.next].used) q.next++;
  if (q.next >= q.list.length) return undefined;
  const c = q.list[q.next++];
  c.used = true;
  return c.path;
}
