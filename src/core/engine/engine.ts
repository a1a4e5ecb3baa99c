/**
 * The engine's state and operations, one object per dataset: the scan cache, the last status with
 * its diff and registered index, duplicate groups and the per-group folder indexes. It runs inside
 * the engine worker (engineWorker.ts) and only through the core's entry points (scanDataset via
 * datasetStatus, registerDataset, applyFileEvents, …); unit tests drive it in-process too.
 */
import * as fs from 'node:fs';
import { clearCache, cacheFileFor, readCacheHeader, type CachedScan } from '../cache/store';
import { countsOf, datasetStatus, openReader, registerDataset, registryFileFor, type DatasetRequest, type DatasetStatusResult } from '../registerDataset';
import { diffSnapshot, updateDiff } from '../registry/diff';
import { presentDuplicates } from '../registry/presentDuplicates';
import { Registry, type ImageRow } from '../registry/registry';
import { canonicalRoot } from '../roots';
import { resolveOptions } from '../scanDataset';
import { applyFileEvents, type FileEvent } from '../scanner/fileEvents';
import { countSnapshot } from '../scanner/snapshot';
import { hasFileStat, STAT_FIELDS } from '../scanner/fileStats';
import { GalleryView, type GalleryChoices, type GalleryItemStatus, type GalleryPage, type GalleryScope, type GallerySourceState } from './galleryView';
import type { GalleryFacts, GalleryQuery } from '../gallery/order';
import { GroupIndex, type FolderPage } from './groupIndex';
import { TeamReader } from './teamReader';
import { SimilarState } from './similarState';
import { DEFAULT_SIMILAR_DISTANCE } from '../similar/defaults';
import { checkDistance } from '../similar/hashIndex';
import type { PerceptualHashes } from '../registry/registry';
import {
  ERRORS_KEPT, FOLDER_GROUPS, type AppliedEvents, type DatasetConfig, type DatasetSummary, type DuplicatePage, type GroupId, type ProgressData,
  type RegisterSelection, type RegisterSummary, type RowChanges, type SimilarCounts, type SimilarPage, type TeamDatasetInfo,
} from './protocol';
import type { ClearedTeamDataset } from '../registry/postgres/clearDataset';

type FolderGroup = Exclude<GroupId, 'duplicates'>;

/** Registry rows looked up at once for the gallery's dimensions (one query per chunk on PostgreSQL). */
const FACT_ROWS_CHUNK = 5_000;

export interface CallContext {
  signal?: AbortSignal;
  onProgress?: (data: ProgressData) => void;
  log?: (line: string) => void;
}

class DatasetState {
  cache: CachedScan | null = null;
  status: DatasetStatusResult | null = null;
  readonly groups = new Map<FolderGroup, GroupIndex>();
  lookupRegistry: Promise<Registry | null> | null = null;
  /** The team registry's connection for lookups between operations (config.team set). */
  readonly teamReader = new TeamReader();
  /** The gallery's lists and orderings: dropped whenever the status or the snapshot changes. */
  readonly gallery = new GalleryView();
  private statusSets: Map<GalleryItemStatus, Set<string>> | null = null;
  /** The near-duplicate groups (the Similar group), computed on request. */
  readonly similar = new SimilarState();
  /** Bumped whenever the status is read from the registry again: similar counts are known per generation. */
  generation = 0;

  constructor(public config: DatasetConfig) {}

  get similarDistance(): number {
    return this.config.similarDistance ?? DEFAULT_SIMILAR_DISTANCE;
  }

  request(ctx: CallContext): DatasetRequest {
    const c = this.config;
    return { root: c.root, storeDir: c.storeDir, options: c.options, maxAgeMs: c.maxAgeMs, registeredFrom: c.registeredFrom, team: c.team, signal: ctx.signal, log: ctx.log };
  }

  setStatus(status: DatasetStatusResult): void {
    this.status = status;
    this.cache = status.cache;
    this.groups.clear();
    this.generation++;
    this.changed();
  }

  summary(): DatasetSummary | null {
    const s = this.status;
    if (!s) return null;
    return {
      new: s.new, changed: s.changed, missing: s.missing, registered: s.registered, unreadable: s.unreadable, unreadableToRetry: s.unreadableToRetry,
      duplicateGroups: s.duplicateGroups, duplicateFiles: s.duplicateFiles, external: s.external, changedSource: s.changedSource,
      header: this.cache?.header ?? null, scan: s.scan, errors: s.errors.slice(0, ERRORS_KEPT), errorCount: s.errors.length, skippedSymlinks: s.skippedSymlinks,
      notices: s.notices, similar: this.similar.counts(this.generation, this.similarDistance, s.diff.missing),
    };
  }

  /** A group's folder index, built from the status on first use and kept current by file events. */
  group(group: FolderGroup): GroupIndex {
    let index = this.groups.get(group);
    if (!index) this.groups.set(group, (index = new GroupIndex(this.paths(group))));
    return index;
  }

  /** The dataset changed (status, events, cache cleared): the gallery's orderings are stale. */
  changed(): void {
    this.gallery.clear();
    this.statusSets = null;
  }

  /** The gallery's view of this dataset (its lists come from the same places as the tree's). */
  galleryState(rows: (rels: readonly string[]) => Promise<(ImageRow | null)[]>): GallerySourceState {
    return {
      root: this.config.root,
      list: (scope) => this.galleryList(scope),
      statusOf: (rel) => this.statusOf(rel),
      knownFacts: (list, facts, signal) => this.knownFacts(list, facts, rows, signal),
    };
  }

  /**
   * What sorting a big group by size, date or dimensions needs without a read per file: sizes and
   * mtimes from the last scan's file stats (a verify scan records them), dimensions from the
   * registry rows of registered, unchanged images (looked up a chunk at a time). The rest stays NaN
   * for the disk.
   */
  private async knownFacts(list: readonly string[], facts: GalleryFacts, rows: (rels: readonly string[]) => Promise<(ImageRow | null)[]>, signal?: AbortSignal): Promise<void> {
    const { size, mtime, width, height } = facts;
    const snapshot = this.cache?.snapshot;
    const positions = new Map<string, Map<string, number>>();
    const registered: number[] = [];
    for (let i = 0; i < list.length; i++) {
      const rel = list[i];
      if (size && mtime && Number.isNaN(size[i]) && snapshot) {
        const slash = rel.lastIndexOf('/');
        const dir = slash < 0 ? '' : rel.slice(0, slash);
        const rec = snapshot.get(dir);
        if (rec?.stats) {
          let at = positions.get(dir);
          if (!at) positions.set(dir, (at = new Map(rec.files.map((n, k) => [n, k]))));
          const k = at.get(rel.slice(slash + 1));
          if (k !== undefined && hasFileStat(rec.stats, k)) {
            size[i] = rec.stats[k * STAT_FIELDS];
            mtime[i] = rec.stats[k * STAT_FIELDS + 1];
          }
        }
      }
      if (width && height && Number.isNaN(width[i]) && this.statusOf(rel) === 'registered') registered.push(i);
    }
    if (!width || !height) return;
    for (let from = 0; from < registered.length; from += FACT_ROWS_CHUNK) {
      signal?.throwIfAborted();
      const chunk = registered.slice(from, from + FACT_ROWS_CHUNK);
      const found = await rows(chunk.map((i) => list[i]));
      for (let j = 0; j < chunk.length; j++) {
        const row = found[j];
        if (row?.status === 'ok' && row.width !== null && row.height !== null) {
          width[chunk[j]] = row.width;
          height[chunk[j]] = row.height;
        }
      }
    }
  }

  private galleryList(scope: GalleryScope): string[] {
    if ('paths' in scope) return scope.paths;
    let source: Iterable<string>;
    if (scope.group === 'duplicates') source = (this.status?.duplicates ?? []).flatMap((d) => d.paths);
    else if (scope.group === 'all') source = this.filesOnDisk();
    else source = this.paths(scope.group);
    const dir = scope.dir ?? '';
    if (!dir) return [...source];
    const prefix = `${dir}/`;
    const out: string[] = [];
    for (const p of source) if (p.startsWith(prefix)) out.push(p);
    return out;
  }

  private statusOf(rel: string): GalleryItemStatus {
    const s = this.status;
    if (!s) return 'unknown';
    // Built once per state, and only for the scopes that mix statuses.
    this.statusSets ??= new Map<GalleryItemStatus, Set<string>>([
      ['new', new Set(s.diff.newFiles)],
      ['changed', new Set(s.diff.changed)],
      ['missing', new Set(s.diff.missing)],
      ['unreadable', new Set(s.diff.unreadablePaths)],
    ]);
    for (const [status, set] of this.statusSets) if (set.has(rel)) return status;
    return 'registered';
  }

  /** Every image of the last scan — new, changed, registered and unreadable alike (the gallery's "All images"). */
  private *filesOnDisk(): Generator<string> {
    if (!this.cache) return;
    for (const [dir, rec] of this.cache.snapshot) {
      const prefix = dir ? `${dir}/` : '';
      for (const name of rec.files) yield prefix + name;
    }
  }

  private *paths(group: FolderGroup): Generator<string> {
    const s = this.status;
    if (!s) return;
    switch (group) {
      case 'new':
        yield* s.diff.newFiles;
        return;
      case 'changed':
        yield* s.diff.changed;
        return;
      case 'missing':
        yield* s.diff.missing;
        return;
      case 'unreadable':
        yield* s.diff.unreadablePaths;
        return;
      case 'registered': {
        // On disk and registered: the snapshot's files with a registry row (as the diff counts them).
        if (!this.cache) return;
        for (const [dir, rec] of this.cache.snapshot) {
          const rows = s.index.byDir.get(dir);
          if (!rows) continue;
          const prefix = dir ? `${dir}/` : '';
          for (const name of rec.files) if (rows.has(name)) yield prefix + name;
        }
      }
    }
  }
}

export class Engine {
  private readonly datasets = new Map<string, DatasetState>();

  private state(config: DatasetConfig): DatasetState {
    let st = this.datasets.get(config.key);
    if (!st) this.datasets.set(config.key, (st = new DatasetState(config)));
    else st.config = config;
    return st;
  }

  /** The cache file's header only (a few hundred bytes): the status bar's age before any scan. */
  async peek(config: DatasetConfig): Promise<DatasetSummary['header']> {
    const st = this.state(config);
    if (st.cache) return st.cache.header;
    const header = await readCacheHeader(cacheFileFor(config.storeDir, config.root));
    // The core keys caches by the real folder: a root set through a symlink is found by it.
    return header && header.root === (await canonicalRoot(config.root)) ? header : null;
  }

  async index(config: DatasetConfig, opts: { forceRescan?: boolean; verify?: boolean }, ctx: CallContext): Promise<DatasetSummary> {
    const st = this.state(config);
    const status = await datasetStatus({
      ...st.request(ctx),
      cached: st.cache ?? undefined,
      forceRescan: opts.forceRescan,
      verify: opts.verify,
      onProgress: ctx.onProgress && ((p) => ctx.onProgress?.({ kind: 'scan', progress: { mode: p.mode, dirs: p.dirs, files: p.files } })),
    });
    st.setStatus(status);
    return st.summary() as DatasetSummary;
  }

  async register(config: DatasetConfig, only: RegisterSelection | undefined, ctx: CallContext): Promise<{ report: RegisterSummary; summary: DatasetSummary }> {
    const st = this.state(config);
    const paths = only ? this.resolveSelection(st, only) : undefined;
    const report = await registerDataset({
      ...st.request(ctx),
      cached: st.cache ?? undefined,
      registerConcurrency: config.registerConcurrency,
      perceptualHash: config.perceptualHash,
      similarDistance: config.similarDistance,
      only: paths,
      lockWaitMs: 60_000,
      onProgress: ctx.onProgress && ((p) => ctx.onProgress?.({ kind: 'scan', progress: { mode: p.mode, dirs: p.dirs, files: p.files } })),
      onRegisterProgress: ctx.onProgress && ((p) => ctx.onProgress?.({ kind: 'register', progress: p })),
    });
    st.cache = report.cache;
    st.setStatus(await datasetStatus({ ...st.request({ log: ctx.log }), cached: report.cache, scan: false }));
    const o = report.outcome;
    return {
      report: { registered: o.registered, unreadable: o.unreadable, moved: o.moved, similar: o.similarity?.similarImages ?? 0, cancelled: o.cancelled, toRegister: report.toRegister, notices: report.notices },
      summary: st.summary() as DatasetSummary,
    };
  }

  private resolveSelection(st: DatasetState, only: RegisterSelection): string[] {
    const out = [...(only.paths ?? [])];
    for (const f of only.folders ?? []) {
      if (f.group === 'duplicates') continue;
      if (st.status) out.push(...st.group(f.group).pathsUnder(f.dir));
    }
    return out;
  }

  /**
   * Watcher events: applied to the snapshot in memory and diffed against the registered rows kept
   * from the last status — no rescan, no query. The group indexes that exist are updated from the
   * batch's paths (each classified as the diff would), and the rows they changed are returned.
   */
  async applyEvents(config: DatasetConfig, events: FileEvent[], ctx: CallContext): Promise<AppliedEvents> {
    const st = this.state(config);
    const status = st.status;
    const none: AppliedEvents = { rescan: null, added: 0, removed: 0, changed: 0, summary: st.summary(), rows: [] };
    if (!st.cache || !status) return none;
    const snapshot = st.cache.snapshot;
    const out = await applyFileEvents(snapshot, config.root, resolveOptions(config.root, config.storeDir, config.options), events);
    if (out.rescanReason) return { ...none, rescan: out.rescanReason };
    const counts = { added: out.added.length, removed: out.removed.length, changed: out.changed.length };
    st.changed();
    if (counts.added + counts.removed + counts.changed === 0) return none;
    const { files } = countSnapshot(snapshot);
    st.cache.header = { ...st.cache.header, files };
    if (out.changed.length && !status.index.size) {
      // An in-place edit: comparing it needs the registered sizes and mtimes, which a diff
      // without file stats did not load. Re-read the registry once (no rescan).
      st.setStatus(await datasetStatus({ ...st.request(ctx), cached: st.cache, scan: false }));
      return { rescan: null, ...counts, summary: st.summary(), rows: 'all' };
    }
    const before = st.summary() as DatasetSummary;
    // Only the batch's paths are compared again (a full diff is a pass over every file: ~0.5 s at 1M).
    const touched = [...out.added, ...out.removed, ...out.changed];
    const diff = updateDiff(status.diff, snapshot, status.index, touched, status.externalPaths) ?? diffSnapshot(snapshot, status.index, status.externalPaths);
    // Cut from the registry's groups again: a deleted copy leaves its group, a restored one rejoins it.
    const duplicates = presentDuplicates(status.registeredDuplicates, diff.missing).groups;
    st.status = { ...status, ...countsOf(diff, status.registeredDuplicates, 'watcher', files), diff, duplicates, cache: st.cache };
    const rows = this.updateGroups(st, touched);
    const after = st.summary() as DatasetSummary;
    // Groups without an index (never expanded) still have a row whose count may have changed.
    for (const g of FOLDER_GROUPS) if (before[countKey(g)] !== after[countKey(g)] && !rows.some((r) => r.group === g)) rows.push({ group: g, dirs: [''] });
    if (before.duplicateGroups !== after.duplicateGroups || before.duplicateFiles !== after.duplicateFiles || duplicatesTouched(status.registeredDuplicates, out.removed, out.added)) {
      rows.push({ group: 'duplicates', dirs: [''] });
    }
    // A deleted image leaves its near-duplicate group, a restored one rejoins it: the cut changed.
    if (st.similar.touches([...out.removed, ...out.added])) rows.push({ group: 'similar', dirs: [''] });
    return { rescan: null, ...counts, summary: after, rows };
  }

  /** Each built group index brought in line with the new state of the touched paths: per folder touched. */
  private updateGroups(st: DatasetState, touched: string[]): RowChanges[] {
    const status = st.status as DatasetStatusResult;
    const snapshot = (st.cache as CachedScan).snapshot;
    if (st.groups.size === 0 || touched.length === 0) return [];
    const index = status.index;
    const positions = new Map<string, Map<string, number>>();
    const positionIn = (dir: string): Map<string, number> => {
      let m = positions.get(dir);
      if (!m) positions.set(dir, (m = new Map((snapshot.get(dir)?.files ?? []).map((n, i) => [n, i]))));
      return m;
    };
    const present = new Map<FolderGroup, string[]>(FOLDER_GROUPS.map((g) => [g, []]));
    const absent = new Map<FolderGroup, string[]>(FOLDER_GROUPS.map((g) => [g, []]));
    for (const p of new Set(touched)) {
      const slash = p.lastIndexOf('/');
      const dir = slash < 0 ? '' : p.slice(0, slash);
      const name = p.slice(slash + 1);
      const k = positionIn(dir).get(name);
      const row = index.byDir.get(dir)?.get(name);
      const member = new Set<FolderGroup>();
      if (k !== undefined) {
        if (row === undefined) {
          if (!status.externalPaths?.has(p)) member.add('new');
        } else {
          member.add('registered');
          if (index.unreadable[row]) member.add('unreadable');
          const stats = snapshot.get(dir)?.stats;
          if (index.size && index.mtimeMs && stats && hasFileStat(stats, k)) {
            const at = k * STAT_FIELDS;
            if (stats[at] !== index.size[row] || stats[at + 1] !== index.mtimeMs[row]) member.add('changed');
          }
        }
      } else if (row !== undefined) member.add('missing');
      for (const g of FOLDER_GROUPS) (member.has(g) ? present : absent).get(g)!.push(p);
    }
    const rows: RowChanges[] = [];
    for (const [g, ix] of st.groups) {
      const change = ix.update(present.get(g)!, absent.get(g)!);
      if (change.changed.length) rows.push({ group: g, dirs: change.changed });
    }
    return rows;
  }

  children(config: DatasetConfig, group: FolderGroup, dir: string, offset: number, limit: number): FolderPage {
    const st = this.state(config);
    return st.group(group).page(dir, offset, limit);
  }

  /**
   * A page of the gallery: the scope's ordering for the query (built on first use, kept until the
   * dataset changes), `[offset, offset + limit)` of it with the facts of each image (`facts`), or
   * only their paths.
   */
  galleryPage(config: DatasetConfig, scope: GalleryScope, query: GalleryQuery, offset: number, limit: number, facts: boolean, ctx: CallContext = {}): Promise<GalleryPage> {
    const st = this.state(config);
    return st.gallery.page(st.galleryState((rels) => this.lookupRows(config, rels)), scope, query, offset, limit, facts, ctx.signal);
  }

  galleryChoices(config: DatasetConfig, scope: GalleryScope): GalleryChoices {
    const st = this.state(config);
    return st.gallery.choices(st.galleryState((rels) => this.lookupRows(config, rels)), scope);
  }

  duplicates(config: DatasetConfig, offset: number, limit: number): DuplicatePage {
    const all = this.state(config).status?.duplicates ?? [];
    return { groups: all.slice(offset, offset + limit), total: all.length };
  }

  /**
   * The near-duplicate groups at the configured distance, over the registry's perceptual hashes
   * (SQLite or the team registry, through the same reader as the status): read again, and grouped
   * again only if they changed since the last computation (in a thread: this worker keeps
   * answering pages meanwhile; the signal ends that thread).
   */
  async similar(config: DatasetConfig, ctx: CallContext): Promise<SimilarCounts> {
    const st = this.state(config);
    const distance = st.similarDistance;
    checkDistance(distance);
    const generation = st.generation;
    await st.similar.compute(() => this.readHashes(st), generation, distance, ctx.signal);
    const missing = st.status?.diff.missing ?? [];
    // The counts of what was computed, cut to the files on disk now (the state may have moved on meanwhile).
    const counts = st.similar.counts(null, distance, missing);
    if (!counts) throw new Error('near-duplicate groups: the distance changed while they were computed');
    return counts;
  }

  private async readHashes(st: DatasetState): Promise<PerceptualHashes> {
    const root = await canonicalRoot(st.config.root);
    const reader = await openReader(st.request({}), root);
    try {
      return (await reader?.perceptualHashes()) ?? { count: 0, paths: [], hi: new Uint32Array(0), lo: new Uint32Array(0), unhashed: 0 };
    } finally {
      await reader?.close();
    }
  }

  similarPage(config: DatasetConfig, offset: number, limit: number): SimilarPage | null {
    const st = this.state(config);
    return st.similar.page(st.similarDistance, st.status?.diff.missing ?? [], offset, limit);
  }

  similarGroup(config: DatasetConfig, member: string): string[] | null {
    const st = this.state(config);
    return st.similar.groupOf(st.similarDistance, st.status?.diff.missing ?? [], member);
  }

  /**
   * Forgets the scan cache; with `alsoRegistry`, deletes the store's SQLite registry — only when it
   * is the dataset's registry. With a team registry the local file is not in use and stays; the
   * shared dataset's rows go only through clearTeamDataset, after the user saw their count.
   */
  async clearCache(config: DatasetConfig, alsoRegistry: boolean): Promise<void> {
    const st = this.state(config);
    await clearCache(config.storeDir, config.root);
    if (alsoRegistry && !config.team) {
      await this.closeLookup(st);
      await fs.promises.rm(registryFileFor(config.storeDir), { force: true });
    }
    st.cache = null;
    st.status = null;
    st.groups.clear();
    st.generation++;
    if (alsoRegistry) st.similar.clear();
    st.changed();
  }

  /** The registry row of an image, for tooltips. */
  async lookup(config: DatasetConfig, rel: string): Promise<ImageRow | null> {
    return (await this.lookupRows(config, [rel]))[0];
  }

  /**
   * The registry rows of a page of images (null: no row), in the order asked. A team registry
   * answers the whole page in one query; the SQLite registry (opened read-only on first use, in
   * memory) by its primary key per path.
   */
  async lookupRows(config: DatasetConfig, rels: readonly string[]): Promise<(ImageRow | null)[]> {
    const st = this.state(config);
    if (config.team) {
      const { teamRowsOf } = await import('../registry/postgres/lookup');
      return st.teamReader.use(config.team, await canonicalRoot(config.root), (team) => teamRowsOf(team, rels));
    }
    const file = registryFileFor(config.storeDir);
    if (!fs.existsSync(file)) return rels.map(() => null);
    st.lookupRegistry ??= Registry.open(file, { readOnly: true }).then(
      (r) => r.registry,
      () => null,
    );
    const registry = await st.lookupRegistry;
    if (!registry) return rels.map(() => null);
    await registry.reloadIfChanged();
    const rootId = registry.findRootId(await canonicalRoot(config.root));
    return rels.map((rel) => registry.find(rootId, rel));
  }

  /** Where a team dataset is and how many rows it has: what the user is shown before deleting them. */
  async teamDataset(config: DatasetConfig): Promise<TeamDatasetInfo> {
    const team = config.team;
    if (!team) throw new Error('this dataset has no team registry');
    const st = this.state(config);
    const { redactUrl } = await import('../registry/postgres/connect');
    return st.teamReader.use(team, await canonicalRoot(config.root), async (r) => ({ location: redactUrl(team.url), dataset: r.dataset, rows: await r.count() }));
  }

  /** Deletes a team dataset's rows if it still has `expectRows` of them and no registration runs (clearDataset.ts). */
  async clearTeamDataset(config: DatasetConfig, expectRows: number): Promise<ClearedTeamDataset> {
    const team = config.team;
    if (!team) throw new Error('this dataset has no team registry');
    const st = this.state(config);
    const { clearTeamDataset } = await import('../registry/postgres/clearDataset');
    const out = await st.teamReader.use(team, await canonicalRoot(config.root), (r) => clearTeamDataset(r, expectRows));
    if (out.deleted > 0) {
      st.status = null;
      st.groups.clear();
      st.generation++;
      st.similar.clear();
      st.changed();
    }
    return out;
  }

  private async closeLookup(st: DatasetState): Promise<void> {
    const registry = await st.lookupRegistry;
    st.lookupRegistry = null;
    registry?.close();
  }

  async close(key: string): Promise<void> {
    const st = this.datasets.get(key);
    this.datasets.delete(key);
    if (st) {
      await this.closeLookup(st);
      await st.teamReader.close();
    }
  }
}

function countKey(g: FolderGroup): 'new' | 'changed' | 'missing' | 'registered' | 'unreadable' {
  return g;
}

/** Whether a batch added or removed a path that some registered duplicate group holds. */
function duplicatesTouched(groups: readonly { paths: string[] }[], removed: readonly string[], added: readonly string[]): boolean {
  if (groups.length === 0 || removed.length + added.length === 0) return false;
  const touched = new Set([...removed, ...added]);
  return groups.some((g) => g.paths.some((p) => touched.has(p)));
}
