/**
 * The gallery's ordering of one list of images: which of them pass the filter, in which order.
 * Computed once per (list, sort, filter) as a Uint32Array of positions into the list; every page
 * the gallery asks for afterwards is a slice of it — no array of items is built per scroll.
 */

export type GallerySort = 'name' | 'path' | 'size' | 'mtime' | 'dimensions';

export interface GalleryFilter {
  /** Lower-case extensions without the dot ('jpg' also matches 'jpeg'); empty or absent: all. */
  formats?: readonly string[];
  /** Bytes, inclusive. */
  minBytes?: number;
  maxBytes?: number;
  /** Pixels, inclusive. */
  minWidth?: number;
  maxWidth?: number;
  minHeight?: number;
  maxHeight?: number;
  /** Only images under this folder (relative, POSIX, no trailing slash; '' = all). */
  folder?: string;
}

export interface GalleryQuery {
  sort: GallerySort;
  descending: boolean;
  filter: GalleryFilter;
}

/**
 * Per image of the list (aligned with it), NaN where unknown. Only what the query needs is asked
 * for: sizes and mtimes cost a stat per file the snapshot and registry do not know, dimensions a
 * header read.
 */
export interface GalleryFacts {
  size?: Float64Array;
  mtime?: Float64Array;
  width?: Float64Array;
  height?: Float64Array;
}

export const DEFAULT_QUERY: GalleryQuery = { sort: 'path', descending: false, filter: {} };

/** Which facts a query needs for the whole list (not only the visible page). */
export function factsNeeded(query: GalleryQuery): { stat: boolean; dims: boolean } {
  const f = query.filter;
  return {
    stat: query.sort === 'size' || query.sort === 'mtime' || f.minBytes !== undefined || f.maxBytes !== undefined,
    dims:
      query.sort === 'dimensions' ||
      f.minWidth !== undefined || f.maxWidth !== undefined || f.minHeight !== undefined || f.maxHeight !== undefined,
  };
}

/** A stable key for caching orderings: equal queries give equal keys. */
export function queryKey(query: GalleryQuery): string {
  const f = query.filter;
  const formats = f.formats?.length ? [...f.formats].map(normalFormat).sort().join(',') : '';
  return [query.sort, query.descending ? 'd' : 'a', formats, f.minBytes, f.maxBytes, f.minWidth, f.maxWidth, f.minHeight, f.maxHeight, f.folder ?? ''].join('|');
}

/** The lower-case extension of a path ('' without one); 'jpeg' is counted as 'jpg', 'tif' as 'tiff'. */
export function formatOf(path: string): string {
  const dot = path.lastIndexOf('.');
  if (dot < 0 || dot < path.lastIndexOf('/')) return '';
  return normalFormat(path.slice(dot + 1));
}

function normalFormat(ext: string): string {
  const e = ext.toLowerCase();
  return e === 'jpeg' ? 'jpg' : e === 'tif' ? 'tiff' : e;
}

/** Formats present in a list with their counts, most frequent first (for the filter's choices). */
export function formatCounts(paths: readonly string[]): { format: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const p of paths) {
    const f = formatOf(p);
    counts.set(f, (counts.get(f) ?? 0) + 1);
  }
  return [...counts].map(([format, count]) => ({ format, count })).sort((a, b) => b.count - a.count || a.format.localeCompare(b.format));
}

function inRange(v: number, min: number | undefined, max: number | undefined): boolean {
  if (min === undefined && max === undefined) return true;
  // An unknown value (an unreadable header, a vanished file) matches no range: the filter says so.
  if (Number.isNaN(v)) return false;
  return (min === undefined || v >= min) && (max === undefined || v <= max);
}

/**
 * Positions of the list that pass the filter, in the query's order. `facts` must hold what
 * `factsNeeded` asked for. Unknown values sort last whatever the direction. Ties keep the list's
 * order (which is folder by folder), so equal keys do not jump around between refreshes.
 */
export function galleryOrder(paths: readonly string[], query: GalleryQuery, facts: GalleryFacts = {}): Uint32Array {
  const f = query.filter;
  const formats = f.formats?.length ? new Set(f.formats.map(normalFormat)) : null;
  const folder = f.folder ? `${f.folder}/` : '';
  const needs = factsNeeded(query);
  if (needs.stat && (!facts.size || !facts.mtime)) throw new Error('galleryOrder: sizes and mtimes are needed for this query');
  if (needs.dims && (!facts.width || !facts.height)) throw new Error('galleryOrder: dimensions are needed for this query');
  const { size, width, height } = facts;
  const keep = new Uint32Array(paths.length);
  let n = 0;
  for (let i = 0; i < paths.length; i++) {
    const p = paths[i];
    if (folder && !p.startsWith(folder)) continue;
    if (formats && !formats.has(formatOf(p))) continue;
    if (size && !inRange(size[i], f.minBytes, f.maxBytes)) continue;
    if (width && height && (!inRange(width[i], f.minWidth, f.maxWidth) || !inRange(height[i], f.minHeight, f.maxHeight))) continue;
    keep[n++] = i;
  }
  const order = keep.subarray(0, n);
  switch (query.sort) {
    case 'path':
      if (query.descending) order.reverse();
      return order.slice();
    case 'name':
      return sortByRank(order, nameRanks(paths, order), query.descending);
    case 'size':
    case 'mtime':
    case 'dimensions':
      return sortByRank(order, numberRanks(keyArray(query.sort, facts), order), query.descending);
  }
}

/**
 * Sorting a million indices with a JavaScript comparator costs seconds on the extension host
 * (a call per comparison). Instead each key becomes its rank among the distinct keys (those are
 * sorted natively), and `rank * n + position` — exact in a double for n < 94M — is sorted
 * natively too: ties keep the list's order. Unknown keys get the last rank, in both directions.
 */
function sortByRank(order: Uint32Array, ranks: { rank: Float64Array; distinct: number }, descending: boolean): Uint32Array {
  const n = order.length;
  const packed = new Float64Array(n);
  const { rank, distinct } = ranks;
  for (let k = 0; k < n; k++) {
    let r = rank[k];
    if (descending && r < distinct) r = distinct - 1 - r;
    packed[k] = r * n + k;
  }
  packed.sort();
  const out = new Uint32Array(n);
  for (let k = 0; k < n; k++) out[k] = order[packed[k] % n];
  return out;
}

/** Ranks of the file names (code-unit order, as the tree's fast path; a collator is ~10× slower). */
function nameRanks(paths: readonly string[], order: Uint32Array): { rank: Float64Array; distinct: number } {
  const names: string[] = [];
  for (const i of order) names.push(baseName(paths[i]));
  const distinct = [...new Set(names)].sort();
  const rankOf = new Map<string, number>();
  for (let r = 0; r < distinct.length; r++) rankOf.set(distinct[r], r);
  const rank = new Float64Array(names.length);
  for (let k = 0; k < names.length; k++) rank[k] = rankOf.get(names[k]) as number;
  return { rank, distinct: distinct.length };
}

function numberRanks(key: Float64Array, order: Uint32Array): { rank: Float64Array; distinct: number } {
  const values = new Float64Array(order.length);
  for (let k = 0; k < order.length; k++) values[k] = key[order[k]];
  // Native numeric sort; NaNs go last, and are not counted as keys.
  const sorted = values.slice().sort();
  let distinct = 0;
  for (let k = 0; k < sorted.length && !Number.isNaN(sorted[k]); k++) if (k === 0 || sorted[k] !== sorted[k - 1]) sorted[distinct++] = sorted[k];
  const rank = new Float64Array(values.length);
  for (let k = 0; k < values.length; k++) rank[k] = Number.isNaN(values[k]) ? distinct : lowerBound(sorted, distinct, values[k]);
  return { rank, distinct };
}

function lowerBound(sorted: Float64Array, length: number, v: number): number {
  let lo = 0;
  let hi = length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function keyArray(sort: 'size' | 'mtime' | 'dimensions', facts: GalleryFacts): Float64Array {
  if (sort === 'size') return facts.size as Float64Array;
  if (sort === 'mtime') return facts.mtime as Float64Array;
  // Pixels, the one number a person means by "bigger image".
  const w = facts.width as Float64Array;
  const h = facts.height as Float64Array;
  const px = new Float64Array(w.length);
  for (let i = 0; i < w.length; i++) px[i] = w[i] * h[i];
  return px;
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** The folders of a list (every ancestor of every path), sorted, for the folder filter's choices. */
export function foldersOf(paths: readonly string[], limit = 5000): { folders: string[]; truncated: boolean } {
  const seen = new Set<string>();
  let lastDir: string | null = null;
  for (const p of paths) {
    const slash = p.lastIndexOf('/');
    const dir = slash < 0 ? '' : p.slice(0, slash);
    // Lists come folder by folder: one Set probe per folder, not per file.
    if (dir === lastDir) continue;
    lastDir = dir;
    for (let d = dir; d !== '' && !seen.has(d); d = d.slice(0, Math.max(0, d.lastIndexOf('/')))) {
      seen.add(d);
      if (seen.size > limit) return { folders: [...seen].sort(), truncated: true };
    }
  }
  return { folders: [...seen].sort(), truncated: false };
}
