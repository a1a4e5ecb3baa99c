import { fromHex, toHex } from './hash64';
import { groupsOnThreads, type GroupThreadsOptions } from './sliceThreads';
import { checkDistance, HashIndex, type Neighbour } from './hashIndex';
import type { PerceptualHashes } from '../registry/registry';

export interface SimilarGroup {
  /** Relative paths, sorted. */
  paths: string[];
  /** Their perceptual hashes (16 hex digits), aligned with `paths`. */
  hashes: string[];
}

export interface SimilarMatch {
  /** Relative path. */
  path: string;
  hash: string;
  distance: number;
}

/**
 * The near-duplicate view of one root's registered images: an index over their perceptual hashes,
 * built once (≈ 1 s at 1M), then groups at any distance and the neighbours of any image or hash.
 * This is the core API the extension calls (a "Similar" group, a side-by-side view); the CLI's
 * `similar` and `list --similar-to` use it too.
 */
export class SimilarImages {
  private readonly index: HashIndex;
  private byPath: Map<string, number> | null = null;

  constructor(private readonly hashes: PerceptualHashes) {
    this.index = HashIndex.build(hashes.hi, hashes.lo, hashes.count);
  }

  /** Images with a hash. */
  get size(): number {
    return this.hashes.count;
  }

  /** Registered readable images without one (registered before schema 5, with --no-phash, or not decodable). */
  get unhashed(): number {
    return this.hashes.unhashed;
  }

  private hashOf(id: number): string {
    return toHex({ hi: this.hashes.hi[id], lo: this.hashes.lo[id] });
  }

  /** Groups of images within `distance` of each other (single linkage), largest first. */
  groups(distance: number): SimilarGroup[] {
    return this.named(this.index.groups(distance));
  }

  /** The same groups, found on several threads (at 1M hashes, seconds of work each). */
  async groupsOnThreads(distance: number, options: GroupThreadsOptions = {}): Promise<SimilarGroup[]> {
    return this.named(await groupsOnThreads(this.index, distance, options));
  }

  private named(groups: number[][]): SimilarGroup[] {
    return groups.map((ids) => {
      const sorted = ids.sort((a, b) => (this.hashes.paths[a] < this.hashes.paths[b] ? -1 : 1));
      return { paths: sorted.map((id) => this.hashes.paths[id]), hashes: sorted.map((id) => this.hashOf(id)) };
    });
  }

  /** Registered images within `distance` of a hash (16 hex digits), nearest first. */
  neighboursOfHash(hash: string, distance: number): SimilarMatch[] {
    const { hi, lo } = fromHex(hash);
    return this.matches(this.index.neighbours(hi, lo, distance));
  }

  /** The neighbours of a registered image (itself left out); null when it has no hash here. */
  neighboursOf(relPath: string, distance: number): SimilarMatch[] | null {
    checkDistance(distance);
    if (!this.byPath) this.byPath = new Map(this.hashes.paths.map((p, i) => [p, i]));
    const id = this.byPath.get(relPath);
    if (id === undefined) return null;
    return this.matches(this.index.neighbours(this.hashes.hi[id], this.hashes.lo[id], distance).filter((n) => n.id !== id));
  }

  private matches(ns: Neighbour[]): SimilarMatch[] {
    return ns.map((n) => ({ path: this.hashes.paths[n.id], hash: this.hashOf(n.id), distance: n.distance }));
  }
}

/** The hashes of the rows whose files are still on disk (a registry keeps rows of gone files until prune). */
export function presentHashes(hashes: PerceptualHashes, missing: readonly string[]): PerceptualHashes {
  if (missing.length === 0 || hashes.count === 0) return hashes;
  const gone = new Set(missing);
  const keep: number[] = [];
  hashes.paths.forEach((p, i) => gone.has(p) || keep.push(i));
  if (keep.length === hashes.count) return hashes;
  return {
    count: keep.length,
    paths: keep.map((i) => hashes.paths[i]),
    hi: Uint32Array.from(keep, (i) => hashes.hi[i]),
    lo: Uint32Array.from(keep, (i) => hashes.lo[i]),
    unhashed: hashes.unhashed,
  };
}
