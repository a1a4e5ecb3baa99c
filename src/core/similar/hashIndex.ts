import { hamming, popcount32 } from './hash64';
import { MAX_SIMILAR_DISTANCE } from './defaults';

/**
 * Multi-index hashing over 64-bit hashes: four 16-bit bands, each a direct-address table
 * (65 536 buckets, CSR: one offsets array and one ids array, no Map, no object per hash).
 *
 * Why it finds every pair (the general pigeonhole principle): give band b a radius t_b with
 * Σ (t_b + 1) = k + 1. If two hashes differed in more than t_b bits in every band, they would
 * differ in at least k + 1 bits; so two hashes at most k apart differ in at most t_b bits in some
 * band b. A search probes, in each band, the query's bucket and the buckets at most t_b bits away
 * (1 + 16 for t = 1, + 120 for t = 2), and checks the full 64-bit distance of what it finds there.
 * For k ≤ 3 that is the classic "four bands, exact match" index. Spreading k + 1 - 4 over the
 * radii as evenly as possible (k = 10: 2, 2, 2, 1) probes fewer buckets than ⌊k/4⌋ in every band
 * (2, 2, 2, 2) and misses nothing either.
 *
 * Identical hashes are stored once (a radix sort puts them side by side): a million copies of one
 * blank image make one entry, not a bucket whose pairs would be counted by the trillion.
 */
const BANDS = 4;
const BUCKETS = 1 << 16;

function band(hi: number, lo: number, b: number): number {
  switch (b) {
    case 0: return hi >>> 16;
    case 1: return hi & 0xffff;
    case 2: return lo >>> 16;
    default: return lo & 0xffff;
  }
}

const maskCache = new Map<number, Uint16Array>();

/** The 16-bit XOR masks with 1..r bits set (the buckets a band probes besides its own). */
export function bandMasks(r: number): Uint16Array {
  let masks = maskCache.get(r);
  if (!masks) {
    const out: number[] = [];
    for (let bits = 1; bits <= r; bits++) for (let m = 1; m < BUCKETS; m++) if (popcount32(m) === bits) out.push(m);
    masks = Uint16Array.from(out);
    maskCache.set(r, masks);
  }
  return masks;
}

/** Per band, how many bits its probes flip: Σ (t_b + 1) = k + 1, as even as can be. */
export function bandRadii(k: number): number[] {
  const spare = Math.max(0, k + 1 - BANDS);
  return Array.from({ length: BANDS }, (_, b) => Math.floor(spare / BANDS) + (b < spare % BANDS ? 1 : 0));
}

export function checkDistance(k: number): void {
  if (!Number.isInteger(k) || k < 0 || k > MAX_SIMILAR_DISTANCE) {
    throw new RangeError(`distance must be an integer from 0 to ${MAX_SIMILAR_DISTANCE}, got ${k}`);
  }
}

/** Item ids sorted by (hi, lo): LSD radix sort on the four 16-bit digits, stable, O(n). */
function sortedByHash(hi: Uint32Array, lo: Uint32Array, n: number): Uint32Array {
  let order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  let tmp = new Uint32Array(n);
  const count = new Uint32Array(BUCKETS + 1);
  for (let b = BANDS - 1; b >= 0; b--) {
    count.fill(0);
    for (let i = 0; i < n; i++) count[band(hi[i], lo[i], b) + 1]++;
    for (let v = 0; v < BUCKETS; v++) count[v + 1] += count[v];
    for (let i = 0; i < n; i++) {
      const id = order[i];
      tmp[count[band(hi[id], lo[id], b)]++] = id;
    }
    [order, tmp] = [tmp, order];
  }
  return order;
}

/** Items sorted by hash, the distinct hashes, and which items share each (hot loops on locals). */
function buildTables(hi: Uint32Array, lo: Uint32Array, n: number) {
  const order = sortedByHash(hi, lo, n);
  const uniqueOf = new Uint32Array(n);
  const firstAll = new Uint32Array(n + 1);
  let u = -1;
  let prevHi = 0;
  let prevLo = 0;
  for (let i = 0; i < n; i++) {
    const id = order[i];
    const h = hi[id];
    const l = lo[id];
    if (u < 0 || h !== prevHi || l !== prevLo) {
      firstAll[++u] = i;
      prevHi = h;
      prevLo = l;
    }
    uniqueOf[id] = u;
  }
  const distinct = u + 1;
  firstAll[distinct] = n;
  const first = firstAll.slice(0, distinct + 1);
  const uHi = new Uint32Array(distinct);
  const uLo = new Uint32Array(distinct);
  for (let v = 0; v < distinct; v++) {
    const id = order[first[v]];
    uHi[v] = hi[id];
    uLo[v] = lo[id];
  }
  return { order, uniqueOf, first, uHi, uLo };
}

/** Shared memory: the group threads read the band tables where they are, never a copy. */
function sharedU32(length: number): Uint32Array {
  return new Uint32Array(new SharedArrayBuffer(Math.max(1, length) * 4), 0, length);
}

/**
 * One band's table: bucket → range of distinct-hash numbers, and their hashes in that order
 * (`hi` and `lo` swapped for bands 0 and 1, so that `first` is always the half without the band).
 */
export interface BandTable {
  starts: Uint32Array;
  ids: Uint32Array;
  /** The half of each hash the band is not in: tested first. */
  first: Uint32Array;
  second: Uint32Array;
}

/** One band's table: bucket → range of distinct-hash numbers, and their hashes in that order. */
function bandTable(uHi: Uint32Array, uLo: Uint32Array, b: number) {
  const distinct = uHi.length;
  const keys = new Uint16Array(distinct);
  for (let v = 0; v < distinct; v++) keys[v] = band(uHi[v], uLo[v], b);
  const starts = sharedU32(BUCKETS + 1);
  for (let v = 0; v < distinct; v++) starts[keys[v] + 1]++;
  for (let x = 0; x < BUCKETS; x++) starts[x + 1] += starts[x];
  const fill = starts.slice(0, BUCKETS);
  const ids = sharedU32(distinct);
  for (let v = 0; v < distinct; v++) ids[fill[keys[v]]++] = v;
  const bh = sharedU32(distinct);
  const bl = sharedU32(distinct);
  for (let x = 0; x < distinct; x++) {
    bh[x] = uHi[ids[x]];
    bl[x] = uLo[ids[x]];
  }
  // The half without the band is tested first: there, random hashes differ in ~16 bits, so most
  // candidates are out after one popcount.
  return b < 2 ? { starts, ids, first: bl, second: bh } : { starts, ids, first: bh, second: bl };
}

/** Groups are found band by band, in slices of this many buckets (the unit group threads take). */
export const GROUP_SLICE = 2048;

/**
 * Unites, in `parent` (union-find over distinct hashes), every pair within k whose buckets in this
 * band are at most `radius` bits apart and whose lower bucket is in [from, to). Each pair of
 * buckets is visited once: a bucket with itself and with the higher-numbered ones in reach.
 */
export function uniteBandSlice(t: BandTable, radius: number, k: number, from: number, to: number, parent: Int32Array): void {
  const masks = bandMasks(radius);
  const { starts, ids, first: fh, second: sh } = t;
  for (let v = from; v < to; v++) {
    const s = starts[v];
    const e = starts[v + 1];
    if (s === e) continue;
    // m = −1: the bucket with itself (each pair once: y after x); then the buckets in reach.
    for (let m = -1; m < masks.length; m++) {
      const w = m < 0 ? v : v ^ masks[m];
      if (w < v) continue;
      const we = starts[w + 1];
      for (let x = s; x < e; x++) {
        const a1 = fh[x];
        const a2 = sh[x];
        for (let y = m < 0 ? x + 1 : starts[w]; y < we; y++) {
          const d = popcount32((a1 ^ fh[y]) >>> 0);
          if (d <= k && d + popcount32((a2 ^ sh[y]) >>> 0) <= k) unite(parent, ids[x], ids[y]);
        }
      }
    }
  }
}

/** The root of `x`'s set in a union-find, halving the path on the way. */
export function rootOf(parent: Int32Array, x: number): number {
  while (parent[x] !== x) {
    parent[x] = parent[parent[x]];
    x = parent[x];
  }
  return x;
}

/** Joins the sets of `a` and `b` under the smaller root (so that every thread's roots agree). */
export function unite(parent: Int32Array, a: number, b: number): void {
  const ra = rootOf(parent, a);
  const rb = rootOf(parent, b);
  if (ra !== rb) parent[ra < rb ? rb : ra] = ra < rb ? ra : rb;
}

/** Every entry points straight at its root (so that another thread's result merges in one pass). */
export function flatten(parent: Int32Array): void {
  for (let u = 0; u < parent.length; u++) {
    let r = u;
    while (parent[r] !== r) r = parent[r];
    parent[u] = r;
  }
}

export interface Neighbour {
  /** The item's id (its position in the arrays the index was built from). */
  id: number;
  distance: number;
}

export class HashIndex {
  /** Distinct hashes. */
  private readonly uHi: Uint32Array;
  private readonly uLo: Uint32Array;
  /** Items of distinct hash u: order[first[u] .. first[u + 1]). */
  private readonly first: Uint32Array;
  private readonly order: Uint32Array;
  private readonly uniqueOf: Uint32Array;
  /**
   * Per band: bucket → range of `ids` (distinct-hash numbers), and the hashes themselves in bucket
   * order: the all-pairs loop over two buckets then reads memory in sequence instead of jumping
   * through ids to the hashes (a cache miss per pair; measured 3-4× slower at 1M hashes).
   */
  readonly bands: readonly BandTable[];
  private readonly seen: Uint32Array;
  private generation = 0;

  private constructor(readonly size: number, hi: Uint32Array, lo: Uint32Array) {
    const t = buildTables(hi, lo, size);
    this.order = t.order;
    this.uniqueOf = t.uniqueOf;
    this.first = t.first;
    this.uHi = t.uHi;
    this.uLo = t.uLo;
    this.bands = Array.from({ length: BANDS }, (_, b) => bandTable(t.uHi, t.uLo, b));
    this.seen = new Uint32Array(t.uHi.length);
  }

  /** An index of `count` hashes (hi[i], lo[i]); item i keeps id i. The arrays are not kept. */
  static build(hi: Uint32Array, lo: Uint32Array, count = hi.length): HashIndex {
    if (hi.length < count || lo.length < count) throw new RangeError(`${count} hashes asked, ${Math.min(hi.length, lo.length)} given`);
    return new HashIndex(count, hi, lo);
  }

  get distinct(): number {
    return this.uHi.length;
  }

  /** Bytes held by the index's typed arrays. */
  get bytes(): number {
    const arrays = [this.uHi, this.uLo, this.first, this.order, this.uniqueOf, this.seen, ...this.bands.flatMap((t) => [t.starts, t.ids, t.first, t.second])];
    return arrays.reduce((s, a) => s + a.byteLength, 0);
  }

  /** Every item within Hamming distance k of the hash, nearest first (ties by id). */
  neighbours(hi: number, lo: number, k: number): Neighbour[] {
    checkDistance(k);
    const out: Neighbour[] = [];
    if (this.size === 0) return out;
    const radii = bandRadii(k);
    if (++this.generation === 0xffffffff) {
      this.seen.fill(0);
      this.generation = 1;
    }
    const gen = this.generation;
    for (let b = 0; b < BANDS; b++) {
      const v = band(hi, lo, b);
      const { starts, ids } = this.bands[b];
      const masks = bandMasks(radii[b]);
      for (let m = -1; m < masks.length; m++) {
        const bucket = m < 0 ? v : v ^ masks[m];
        for (let x = starts[bucket], end = starts[bucket + 1]; x < end; x++) {
          const u = ids[x];
          if (this.seen[u] === gen) continue;
          this.seen[u] = gen;
          const d = hamming(hi, lo, this.uHi[u], this.uLo[u]);
          if (d > k) continue;
          for (let i = this.first[u]; i < this.first[u + 1]; i++) out.push({ id: this.order[i], distance: d });
        }
      }
    }
    return out.sort((a, b) => a.distance - b.distance || a.id - b.id);
  }

  /**
   * Groups: the connected components of "within distance k" (single linkage: A~B and B~C put A, B
   * and C in one group even when A and C are farther apart). Only groups of two or more items;
   * each group's ids ascending; groups largest first, then by first id. Each pair of buckets that
   * can hold a pair within k is visited once per band (a bucket with itself, and with each bucket
   * r bits or fewer away and numbered higher), never all pairs.
   */
  groups(k: number): number[][] {
    checkDistance(k);
    const parent = this.singletons();
    const radii = bandRadii(k);
    for (let b = 0; b < BANDS; b++) uniteBandSlice(this.bands[b], radii[b], k, 0, BUCKETS, parent);
    return this.components(parent);
  }

  /** Union-find over the distinct hashes, each its own set. */
  singletons(): Int32Array {
    const parent = new Int32Array(this.uHi.length);
    for (let u = 0; u < parent.length; u++) parent[u] = u;
    return parent;
  }

  /**
   * The groups of a finished union-find (see `groups`); `parent` may also be the merge of several
   * threads' (groupsOnThreads).
   */
  components(parent: Int32Array): number[][] {
    const distinct = this.uHi.length;
    const find = (x: number): number => rootOf(parent, x);
    // Items per component root, then components of two or more items.
    const size = new Uint32Array(distinct);
    for (let u = 0; u < distinct; u++) size[find(u)] += this.first[u + 1] - this.first[u];
    const groupOf = new Int32Array(distinct).fill(-1);
    const groups: number[][] = [];
    for (let u = 0; u < distinct; u++) {
      const root = find(u);
      if (size[root] < 2) continue;
      let g = groupOf[root];
      if (g < 0) {
        g = groupOf[root] = groups.length;
        groups.push([]);
      }
      for (let i = this.first[u]; i < this.first[u + 1]; i++) groups[g].push(this.order[i]);
    }
    for (const g of groups) g.sort((a, b) => a - b);
    return groups.sort((a, b) => b.length - a.length || a[0] - b[0]);
  }
}

/**
 * A HashIndex that takes new hashes as they come (registration checks each new image against
 * what is registered, this run's earlier images included): new hashes wait in a list that
 * searches scan linearly, and the index is rebuilt with them once the list passes a quarter of
 * the index (at least 4 096), so the work per added hash stays constant on average.
 */
export class GrowingHashIndex {
  private index: HashIndex;
  private hi: Uint32Array;
  private lo: Uint32Array;
  private count: number;

  constructor(hi: Uint32Array = new Uint32Array(0), lo: Uint32Array = new Uint32Array(0), count = hi.length) {
    if (hi.length < count || lo.length < count) throw new RangeError(`${count} hashes asked, ${Math.min(hi.length, lo.length)} given`);
    this.hi = new Uint32Array(Math.max(count, 16));
    this.lo = new Uint32Array(Math.max(count, 16));
    this.hi.set(hi.subarray(0, count));
    this.lo.set(lo.subarray(0, count));
    this.count = count;
    this.index = HashIndex.build(this.hi, this.lo, count);
  }

  get size(): number {
    return this.count;
  }

  /** Adds a hash; returns its id. */
  add(hi: number, lo: number): number {
    if (this.count === this.hi.length) {
      const grow = (a: Uint32Array): Uint32Array => {
        const b = new Uint32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.hi = grow(this.hi);
      this.lo = grow(this.lo);
    }
    this.hi[this.count] = hi;
    this.lo[this.count] = lo;
    const id = this.count++;
    if (this.count - this.index.size > Math.max(4096, this.index.size >> 2)) this.index = HashIndex.build(this.hi, this.lo, this.count);
    return id;
  }

  neighbours(hi: number, lo: number, k: number): Neighbour[] {
    const out = this.index.neighbours(hi, lo, k);
    for (let i = this.index.size; i < this.count; i++) {
      const d = hamming(hi, lo, this.hi[i], this.lo[i]);
      if (d <= k) out.push({ id: i, distance: d });
    }
    return out.sort((a, b) => a.distance - b.distance || a.id - b.id);
  }
}
