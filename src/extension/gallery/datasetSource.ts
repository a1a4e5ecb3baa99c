import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { completeFacts, emptyFacts, readItemFacts } from '../../core/gallery/facts';
import { baseName, factsNeeded, foldersOf, formatCounts, galleryOrder, queryKey, type GalleryFacts, type GalleryQuery } from '../../core/gallery/order';
import { snapshotFiles } from '../../core/scanner/snapshot';
import { groupPaths, type GroupId } from '../datasetTree';
import { loadCore, type Dataset } from '../model';
import type { GalleryItem, GalleryItemStatus, GallerySource, PrepareOptions } from './source';

/** What the gallery shows of a dataset: a group (or every image), optionally under one folder; or an explicit list. */
export type DatasetScope =
  | { kind: 'group'; group: GroupId | 'all'; folder?: string }
  | { kind: 'paths'; paths: readonly string[]; label?: string };

const GROUP_LABELS: Record<GroupId | 'all', string> = {
  new: 'New',
  changed: 'Changed',
  missing: 'Missing',
  registered: 'Registered',
  unreadable: 'Unreadable',
  duplicates: 'Duplicates',
  all: 'All images',
};

/**
 * The one file that knows the current model (a Dataset's status, snapshot and registry): the list
 * of a scope is taken once per dataset version, its orderings once per query, and pages are slices
 * of those. To move the gallery onto the engine's paging, this adapter is what changes.
 */
export class DatasetGallerySource implements GallerySource {
  private readonly _onDidChange = new vscode.EventEmitter<void>();
  readonly onDidChange = this._onDidChange.event;
  private readonly disposables: vscode.Disposable[] = [this._onDidChange];
  private listVersion = -1;
  private list: readonly string[] = [];
  /** Facts of the list (by position), as far as some query needed them; dropped with the list. */
  private facts: GalleryFacts = {};
  private orders = new Map<string, Uint32Array>();
  private statusSets: { version: number; sets: Map<GalleryItemStatus, Set<string>> } | null = null;

  constructor(
    readonly ds: Dataset,
    readonly scope: DatasetScope,
  ) {
    this.disposables.push(ds.onDidChange(() => this._onDidChange.fire()));
  }

  get title(): string {
    if (this.scope.kind === 'paths') return `${this.scope.label ?? 'Selection'} (${this.scope.paths.length})`;
    const where = this.scope.folder ? ` · ${this.scope.folder}` : '';
    return `${GROUP_LABELS[this.scope.group]}${where} — ${this.ds.label}`;
  }

  get roots(): readonly string[] {
    return [this.ds.root];
  }

  /** The scope's relative paths at the dataset's current version (built once per version). */
  private current(): readonly string[] {
    if (this.listVersion === this.ds.version) return this.list;
    this.listVersion = this.ds.version;
    this.orders = new Map();
    this.facts = {};
    this.list = this.build();
    return this.list;
  }

  private build(): readonly string[] {
    const scope = this.scope;
    if (scope.kind === 'paths') return scope.paths;
    const status = this.ds.status;
    let source: Iterable<string>;
    if (scope.group === 'all') {
      const snapshot = this.ds.snapshot;
      source = snapshot ? snapshotFiles(snapshot) : [];
    } else if (status && !scope.folder) {
      // The diff's own arrays, as they are: no copy for New, Changed, Missing, Unreadable.
      const d = status.diff;
      const lists: Partial<Record<GroupId, string[]>> = { new: d.newFiles, changed: d.changed, missing: d.missing, unreadable: d.unreadablePaths };
      source = lists[scope.group] ?? groupPaths(this.ds, scope.group);
    } else {
      source = groupPaths(this.ds, scope.group);
    }
    if (!scope.folder) return Array.isArray(source) ? (source as string[]) : [...source];
    const prefix = `${scope.folder}/`;
    const out: string[] = [];
    for (const p of source) if (p.startsWith(prefix)) out.push(p);
    return out;
  }

  async prepare(query: GalleryQuery, options: PrepareOptions = {}): Promise<number> {
    return (await this.order(query, options)).length;
  }

  private async order(query: GalleryQuery, options: PrepareOptions = {}): Promise<Uint32Array> {
    const list = this.current();
    const key = queryKey(query);
    const cached = this.orders.get(key);
    if (cached) return cached;
    const version = this.ds.version;
    const need = factsNeeded(query);
    const missingStat = need.stat && !this.facts.size;
    const missingDims = need.dims && !this.facts.width;
    if (missingStat || missingDims) {
      const facts = emptyFacts(list.length, need, this.facts);
      await this.fromRegistry(list, facts);
      await completeFacts(this.ds.root, list, facts, { concurrency: 16, signal: options.signal, onProgress: options.onProgress });
      // The dataset changed while the files were read: the list is another one now.
      if (version !== this.ds.version) return this.order(query, options);
      this.facts = facts;
    }
    const order = galleryOrder(list, query, this.facts);
    // A handful of orderings per list is plenty (the user flips between a few sorts).
    if (this.orders.size >= 6) this.orders.delete(this.orders.keys().next().value as string);
    this.orders.set(key, order);
    return order;
  }

  /**
   * Sizes, mtimes and dimensions the registry already has: one ordered pass over the root's rows,
   * matched to the list by a path → position map. Rows the list does not hold are skipped.
   */
  private async fromRegistry(list: readonly string[], facts: GalleryFacts): Promise<void> {
    if (this.scope.kind === 'group' && this.scope.group === 'new') return;
    const { Registry, registryFileFor, canonicalRoot } = await loadCore();
    const file = registryFileFor(this.ds.storeDir);
    if (!fs.existsSync(file)) return;
    const { registry } = await Registry.open(file, { readOnly: true });
    try {
      const at = new Map<string, number>();
      for (let i = 0; i < list.length; i++) at.set(list[i], i);
      const rootId = registry.findRootId(await canonicalRoot(this.ds.root));
      for (const row of registry.rows(rootId)) {
        const i = at.get(row.path);
        if (i === undefined) continue;
        if (facts.size && row.size !== null) facts.size[i] = row.size;
        if (facts.mtime && row.mtimeMs !== null) facts.mtime[i] = row.mtimeMs;
        if (facts.width && row.width !== null) facts.width[i] = row.width;
        if (facts.height && row.height !== null) facts.height[i] = row.height;
      }
    } finally {
      registry.close();
    }
  }

  async paths(query: GalleryQuery, offset: number, limit: number): Promise<string[]> {
    const order = await this.order(query);
    const list = this.list;
    const out: string[] = [];
    for (let k = Math.max(0, offset); k < Math.min(order.length, offset + limit); k++) out.push(path.join(this.ds.root, list[order[k]]));
    return out;
  }

  async page(query: GalleryQuery, offset: number, limit: number): Promise<GalleryItem[]> {
    const order = await this.order(query);
    const list = this.list;
    const facts = this.facts;
    const positions = Array.from(order.subarray(Math.max(0, offset), Math.min(order.length, offset + limit)));
    const items: GalleryItem[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < positions.length) {
        const k = next++;
        items[k] = await this.item(list[positions[k]], positions[k], facts);
      }
    };
    await Promise.all(Array.from({ length: Math.min(8, positions.length) }, worker));
    return items;
  }

  /** One visible image: its facts from what the query gathered, else the registry row, else the file's header. */
  private async item(rel: string, position: number, facts: GalleryFacts): Promise<GalleryItem> {
    const abs = path.join(this.ds.root, rel);
    const status = this.statusOf(rel);
    const known = (a: Float64Array | undefined): number | null => (a && !Number.isNaN(a[position]) ? a[position] : null);
    let size = known(facts.size);
    let mtime = known(facts.mtime);
    let width = known(facts.width);
    let height = known(facts.height);
    if (status !== 'new' && status !== 'missing' && (size === null || width === null)) {
      const row = await this.ds.lookup(rel).catch(() => null);
      if (row) {
        size ??= row.size;
        mtime ??= row.mtimeMs;
        width ??= row.width;
        height ??= row.height;
      }
    }
    if (status !== 'missing' && (size === null || mtime === null || width === null || height === null)) {
      const read = await readItemFacts(abs);
      size ??= read.size;
      mtime ??= read.mtime;
      width ??= read.width;
      height ??= read.height;
    }
    return { path: abs, rel, name: baseName(rel), size, mtime, width, height, status };
  }

  private statusOf(rel: string): GalleryItemStatus {
    const scope = this.scope;
    if (scope.kind === 'group' && scope.group !== 'all' && scope.group !== 'duplicates') return scope.group;
    const status = this.ds.status;
    if (!status) return 'unknown';
    if (this.statusSets?.version !== this.ds.version) {
      // Built once per version, and only for the scopes that mix statuses.
      const d = status.diff;
      this.statusSets = {
        version: this.ds.version,
        sets: new Map<GalleryItemStatus, Set<string>>([
          ['new', new Set(d.newFiles)],
          ['changed', new Set(d.changed)],
          ['missing', new Set(d.missing)],
          ['unreadable', new Set(d.unreadablePaths)],
        ]),
      };
    }
    for (const [s, set] of this.statusSets.sets) if (set.has(rel)) return s;
    return 'registered';
  }

  async choices(): Promise<{ formats: { format: string; count: number }[]; folders: string[] }> {
    const list = this.current();
    return { formats: formatCounts(list), folders: foldersOf(list).folders };
  }

  register(paths: readonly string[]): Promise<unknown> {
    const rels = paths.map((p) => path.relative(this.ds.root, p).split(path.sep).join('/'));
    // The tree's Register path: the command receives { dataset, paths() } targets.
    return Promise.resolve(vscode.commands.executeCommand('datasetIndex.registerNew', { dataset: this.ds, paths: () => rels }));
  }

  dispose(): void {
    vscode.Disposable.from(...this.disposables).dispose();
  }
}

