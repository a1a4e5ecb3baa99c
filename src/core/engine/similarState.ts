/**
 * One dataset's near-duplicate groups in the engine worker (the tree's "Similar" group): computed
 * on request over the registry's perceptual hashes, in a thread of their own (groupsThread.ts),
 * kept per registry content (a fingerprint of paths and hashes) and distance, so that a re-index
 * that changed nothing in the registry costs one read of the hashes, not a new computation. The
 * groups cover every registered hash; pages show them cut to the files on disk (as Duplicates
 * are), so watcher events need no recomputation.
 */
import { createHash } from 'node:crypto';
import type { PerceptualHashes } from '../registry/registry';
import { hamming } from '../similar/hash64';
import { groupsInThread } from '../similar/groupsThread';
import type { SimilarCounts, SimilarGroupRow, SimilarPage } from './protocol';

/** A group's diameter (largest pairwise distance) is computed up to this size: n²/2 distances. */
const DIAMETER_MAX = 256;
/** Paths of one group a page carries; the whole group comes from `groupOf` (the gallery). */
export const MEMBERS_PER_ROW = 200;

interface Computed {
  /** Fingerprint of the hashes read, with the distance. */
  key: string;
  distance: number;
  /** The paths in groups, group after group, each group in path order; hashes aligned. */
  members: string[];
  hi: Uint32Array;
  lo: Uint32Array;
  starts: Uint32Array;
  hashed: number;
  unhashed: number;
  /** The dataset state the hashes were read in (DatasetState's generation). */
  generation: number;
}

/** The groups cut to the files on disk: per kept group, its members' positions. */
interface Cut {
  missing: readonly string[];
  groups: Uint32Array[];
  images: number;
}

export class SimilarState {
  private computed: Computed | null = null;
  private cut: Cut | null = null;
  private job: { generation: number; distance: number; promise: Promise<void> } | null = null;
  private memberSet: Set<string> | null = null;

  /** The counts, when groups were computed in this dataset state (null: any) at this distance; else null. */
  counts(generation: number | null, distance: number, missing: readonly string[]): SimilarCounts | null {
    const c = this.computed;
    if (!c || (generation !== null && c.generation !== generation) || c.distance !== distance) return null;
    const cut = this.cutFor(missing);
    return { groups: cut.groups.length, images: cut.images, distance, hashed: c.hashed, unhashed: c.unhashed };
  }

  /**
   * Reads the hashes (`read`) and computes the groups, unless the same hashes were grouped at this
   * distance before; one computation per (state, distance) at a time, callers share it.
   */
  async compute(read: () => Promise<PerceptualHashes>, generation: number, distance: number, signal?: AbortSignal): Promise<void> {
    if (this.job && this.job.generation === generation && this.job.distance === distance) return this.job.promise;
    const promise = this.run(read, generation, distance, signal);
    const job = { generation, distance, promise };
    this.job = job;
    try {
      await promise;
    } finally {
      if (this.job === job) this.job = null;
    }
  }

  private async run(read: () => Promise<PerceptualHashes>, generation: number, distance: number, signal?: AbortSignal): Promise<void> {
    const hashes = await read();
    signal?.throwIfAborted();
    const key = fingerprint(hashes, distance);
    if (this.computed?.key === key) {
      this.computed.generation = generation;
      return;
    }
    const flat = await groupsInThread({ hi: hashes.hi, lo: hashes.lo, count: hashes.count, distance }, signal);
    const groupCount = flat.starts.length - 1;
    const members: string[] = [];
    const hi = new Uint32Array(flat.ids.length);
    const lo = new Uint32Array(flat.ids.length);
    for (let g = 0; g < groupCount; g++) {
      const ids = Array.from(flat.ids.subarray(flat.starts[g], flat.starts[g + 1]));
      ids.sort((a, b) => (hashes.paths[a] < hashes.paths[b] ? -1 : hashes.paths[a] > hashes.paths[b] ? 1 : 0));
      for (const id of ids) {
        hi[members.length] = hashes.hi[id];
        lo[members.length] = hashes.lo[id];
        members.push(hashes.paths[id]);
      }
    }
    this.computed = { key, distance, members, hi, lo, starts: flat.starts, hashed: hashes.count, unhashed: hashes.unhashed, generation };
    this.cut = null;
    this.memberSet = null;
  }

  /** A page of the groups cut to the files on disk (largest first); null when none were computed at this distance. */
  page(distance: number, missing: readonly string[], offset: number, limit: number): SimilarPage | null {
    const c = this.computed;
    if (!c || c.distance !== distance) return null;
    const cut = this.cutFor(missing);
    const rows: SimilarGroupRow[] = cut.groups.slice(offset, offset + limit).map((g) => ({
      paths: Array.from(g.subarray(0, MEMBERS_PER_ROW), (m) => c.members[m]),
      size: g.length,
      maxDistance: g.length <= DIAMETER_MAX ? diameter(c, g) : null,
    }));
    return { groups: rows, total: cut.groups.length, distance, images: cut.images };
  }

  /** Every path (on disk) of the group that holds `member`, or null. */
  groupOf(distance: number, missing: readonly string[], member: string): string[] | null {
    const c = this.computed;
    if (!c || c.distance !== distance) return null;
    for (const g of this.cutFor(missing).groups) {
      for (const m of g) if (c.members[m] === member) return Array.from(g, (x) => c.members[x]);
    }
    return null;
  }

  /** Whether any of these paths is in a group (a watcher batch that touched it changes the cut). */
  touches(paths: readonly string[]): boolean {
    const c = this.computed;
    if (!c || paths.length === 0) return false;
    this.memberSet ??= new Set(c.members);
    return paths.some((p) => this.memberSet!.has(p));
  }

  clear(): void {
    this.computed = null;
    this.cut = null;
    this.memberSet = null;
  }

  private cutFor(missing: readonly string[]): Cut {
    if (this.cut?.missing === missing) return this.cut;
    const c = this.computed as Computed;
    const gone = new Set(missing);
    const groups: Uint32Array[] = [];
    let images = 0;
    for (let g = 0; g + 1 < c.starts.length; g++) {
      const kept: number[] = [];
      for (let m = c.starts[g]; m < c.starts[g + 1]; m++) if (gone.size === 0 || !gone.has(c.members[m])) kept.push(m);
      if (kept.length < 2) continue;
      groups.push(Uint32Array.from(kept));
      images += kept.length;
    }
    // Largest first, then by first path (a cut may reorder the computed order).
    groups.sort((a, b) => b.length - a.length || (c.members[a[0]] < c.members[b[0]] ? -1 : 1));
    this.cut = { missing, groups, images };
    return this.cut;
  }
}

/** The largest Hamming distance between two members of a group. */
function diameter(c: Computed, g: Uint32Array): number {
  let max = 0;
  for (let i = 0; i < g.length; i++) {
    for (let j = i + 1; j < g.length; j++) max = Math.max(max, hamming(c.hi[g[i]], c.lo[g[i]], c.hi[g[j]], c.lo[g[j]]));
  }
  return max;
}

/** What the groups depend on: the paths, their hashes and the distance. */
function fingerprint(h: PerceptualHashes, distance: number): string {
  const hash = createHash('sha256');
  hash.update(`${distance}|${h.count}|${h.unhashed}|`);
  hash.update(new Uint8Array(h.hi.buffer, h.hi.byteOffset, h.count * 4));
  hash.update(new Uint8Array(h.lo.buffer, h.lo.byteOffset, h.count * 4));
  for (const p of h.paths) hash.update(`${p}\0`);
  return hash.digest('hex');
}
