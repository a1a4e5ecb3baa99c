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
  const sign = query.descending ? -1 : 1;
  switch (query.sort) {
    case 'path':
      if (query.descending) order.reverse();
      return order.slice();
    case 'name': {
      // Plain code-unit order of the file name, then the path: a collator costs ~10× more per
      // comparison, and at a million names that is seconds on the extension host.
      const names = new Array<string>(paths.length);
      for (const i of order) names[i] = baseName(paths[i]);
      order.sort((a, b) => sign * (compareStrings(names[a], names[b]) || compareStrings(paths[a], paths[b])));
      return order.slice();
    }
    case 'size':
    case 'mtime':
    case 'dimensions': {
      const key = keyArray(query.sort, facts);
      order.sort((a, b) => compareNumbers(key[a], key[b], sign) || a - b);
      return order.slice();
    }
  }
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

function compareNumbers(a: number, b: number, sign: number): number {
  const an = Number.isNaN(a);
  const bn = Number.isNaN(b);
  if (an || bn) return an === bn ? 0 : an ? 1 : -1;
  return a === b ? 0 : a < b ? -sign : sign;
}

function compareStrings(a: string, b: string): number {
  return a === b ? 0 : a < b ? -1 : 1;
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
