/**
 * The gallery's pages, served by the engine worker: a scope's list (a group under a folder, every
 * image, the duplicate groups or an explicit list), its orderings per (sort, filter) built lazily
 * with gallery/order.ts and kept until the dataset changes, and the facts of the visible page. The
 * extension host only receives pages; it never holds a group's list.
 */
import * as path from 'node:path';
import { completeFacts, emptyFacts, readItemFacts } from '../gallery/facts';
import { baseName, factsNeeded, foldersOf, formatCounts, galleryOrder, queryKey, type GalleryFacts, type GalleryQuery } from '../gallery/order';
import type { GroupId } from './protocol';

export type GalleryScope = { group: GroupId | 'all'; dir?: string } | { paths: string[] };
export type GalleryItemStatus = 'new' | 'changed' | 'missing' | 'registered' | 'unreadable' | 'unknown';

export interface GalleryPageItem {
  rel: string;
  name: string;
  size: number | null;
  mtime: number | null;
  width: number | null;
  height: number | null;
  status: GalleryItemStatus;
}

export interface GalleryPage {
  total: number;
  /** With facts (`facts: true`), else only `rel`s in `rels`. */
  items: GalleryPageItem[];
  rels: string[];
}

export interface GalleryChoices {
  formats: { format: string; count: number }[];
  folders: string[];
}

/** What the view needs from the engine's state of a dataset. */
export interface GallerySourceState {
  root: string;
  /** The paths of a scope, at the dataset's current state. */
  list(scope: GalleryScope): readonly string[];
  /** The status of one path (for scopes that mix statuses). */
  statusOf(rel: string): GalleryItemStatus;
  /**
   * Fills into the NaNs of `facts` what the engine already knows of `list`'s files (the last scan's
   * file stats, the registry's dimensions), so that only the rest is read from the disk.
   */
  knownFacts?(list: readonly string[], facts: GalleryFacts, signal?: AbortSignal): Promise<void>;
}

interface ScopeCache {
  list: readonly string[];
  facts: GalleryFacts;
  orders: Map<string, Uint32Array>;
  /** The filters' choices, made once per list (a pass over every path: ~0.4 s at 100,000 on a busy VM). */
  choices?: GalleryChoices;
}

/** Per dataset: the cached lists and orderings; `clear()` whenever the dataset changes. */
export class GalleryView {
  private readonly scopes = new Map<string, ScopeCache>();
  private generation = 0;

  clear(): void {
    this.scopes.clear();
    this.generation++;
  }

  private scope(state: GallerySourceState, scope: GalleryScope): ScopeCache {
    const key = JSON.stringify(scope);
    let c = this.scopes.get(key);
    if (!c) {
      // A handful of scopes per dataset (open galleries); the oldest goes first.
      if (this.scopes.size >= 8) this.scopes.delete(this.scopes.keys().next().value as string);
      this.scopes.set(key, (c = { list: state.list(scope), facts: {}, orders: new Map() }));
    }
    return c;
  }

  private async order(state: GallerySourceState, scope: GalleryScope, query: GalleryQuery, signal?: AbortSignal): Promise<{ c: ScopeCache; order: Uint32Array }> {
    const generation = this.generation;
    const c = this.scope(state, scope);
    const key = queryKey(query);
    const cached = c.orders.get(key);
    if (cached) return { c, order: cached };
    const need = factsNeeded(query);
    if ((need.stat && !c.facts.size) || (need.dims && !c.facts.width)) {
      const facts = emptyFacts(c.list.length, need, c.facts);
      await state.knownFacts?.(c.list, facts, signal);
      await completeFacts(state.root, c.list, facts, { concurrency: 16, signal });
      // The dataset changed while the files were read: start again on the new list.
      if (generation !== this.generation) return this.order(state, scope, query, signal);
      c.facts = facts;
    }
    const order = galleryOrder(c.list, query, c.facts);
    if (c.orders.size >= 6) c.orders.delete(c.orders.keys().next().value as string);
    c.orders.set(key, order);
    return { c, order };
  }

  async page(state: GallerySourceState, scope: GalleryScope, query: GalleryQuery, offset: number, limit: number, withFacts: boolean, signal?: AbortSignal): Promise<GalleryPage> {
    const { c, order } = await this.order(state, scope, query, signal);
    const positions = Array.from(order.subarray(Math.max(0, offset), Math.min(order.length, Math.max(0, offset) + Math.max(0, limit))));
    const rels = positions.map((k) => c.list[k]);
    if (!withFacts) return { total: order.length, items: [], rels };
    const fixed = 'group' in scope && scope.group !== 'all' && scope.group !== 'duplicates' ? scope.group : null;
    const items: GalleryPageItem[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < positions.length) {
        // The cells left the view (the webview asked for others): stop reading their files.
        signal?.throwIfAborted();
        const k = next++;
        items[k] = await this.item(state, c, positions[k], fixed ?? state.statusOf(c.list[positions[k]]));
      }
    };
    await Promise.all(Array.from({ length: Math.min(8, positions.length) }, worker));
    return { total: order.length, items, rels };
  }

  /** One visible image: its facts from what a query gathered, else the file (stat + header). */
  private async item(state: GallerySourceState, c: ScopeCache, position: number, status: GalleryItemStatus): Promise<GalleryPageItem> {
    const rel = c.list[position];
    const known = (a: Float64Array | undefined): number | null => (a && !Number.isNaN(a[position]) ? a[position] : null);
    let size = known(c.facts.size);
    let mtime = known(c.facts.mtime);
    let width = known(c.facts.width);
    let height = known(c.facts.height);
    if (status !== 'missing' && (size === null || mtime === null || width === null || height === null)) {
      const read = await readItemFacts(path.join(state.root, rel));
      size ??= read.size;
      mtime ??= read.mtime;
      width ??= read.width;
      height ??= read.height;
    }
    return { rel, name: baseName(rel), size, mtime, width, height, status };
  }

  choices(state: GallerySourceState, scope: GalleryScope): GalleryChoices {
    const c = this.scope(state, scope);
    return (c.choices ??= { formats: formatCounts(c.list), folders: foldersOf(c.list).folders });
  }
}
