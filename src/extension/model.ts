import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import * as vscode from 'vscode';
import type {
  CacheHeader, CachedScan, DatasetStatusResult, FileEvent, ImageRow, RegisterProgress, RegisterReport, Registry, ScanMode, ScanReport,
} from '../core';
import { readSettings, type FolderSettings } from './settings';

type Core = typeof import('../core');
let core: Promise<Core> | undefined;
/** The engine (and sql.js with it) loads on first use, not at activation. */
export const loadCore = (): Promise<Core> => (core ??= import('../core'));

export interface ScanProgressEvent {
  mode: ScanMode;
  dirs: number;
  files: number;
}

export type DatasetStatus = DatasetStatusResult;

/** One dataset root: its store, its scan cache in memory, and what the last scan and diff said. */
export class Dataset {
  private cache: CachedScan | null = null;
  private _lastScan: ScanReport | null = null;
  private _status: DatasetStatus | null = null;
  private diskHeader: CacheHeader | null = null;
  private _cleared = false;
  private lookupRegistry: Promise<Registry | null> | null = null;
  /** Bumped on every change: views cache what they derive from the status by this number. */
  version = 0;
  private readonly _onDidChange = new vscode.EventEmitter<Dataset>();
  readonly onDidChange = this._onDidChange.event;
  /** Serialises operations: a watcher refresh never runs while a scan or registration does. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly folder: vscode.WorkspaceFolder,
    readonly root: string,
    readonly storeDir: string,
    private settings: FolderSettings,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  get label(): string {
    const rel = path.relative(this.folder.uri.fsPath, this.root);
    return rel ? `${this.folder.name}/${rel.split(path.sep).join('/')}` : this.folder.name;
  }

  get lastScan(): ScanReport | null {
    return this._lastScan;
  }

  get status(): DatasetStatus | null {
    return this._status;
  }

  /** The header of the cache in memory, else the one read from disk by `peekCache`. */
  get cacheHeader(): CacheHeader | null {
    return this.cache?.header ?? this.diskHeader;
  }

  get cleared(): boolean {
    return this._cleared;
  }

  get snapshot(): CachedScan['snapshot'] | null {
    return this.cache?.snapshot ?? null;
  }

  private changed(): void {
    this.version++;
    this._onDidChange.fire(this);
  }

  /** Reads only the cache file's header (a few hundred bytes): enough for the status bar's age. */
  async peekCache(): Promise<void> {
    if (this.cache) return;
    const { readCacheHeader, cacheFileFor, canonicalRoot } = await loadCore();
    const header = await readCacheHeader(cacheFileFor(this.storeDir, this.root));
    // The core keys caches by the real folder: a root set through a symlink is found by it.
    if (header && header.root === (await canonicalRoot(this.root))) {
      this.diskHeader = header;
      this.changed();
    }
  }

  get maxAgeMs(): number {
    return this.settings.maxAgeMs;
  }

  get watchEnabled(): boolean {
    return this.settings.watch;
  }

  updateSettings(settings: FolderSettings): void {
    this.settings = settings;
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private request(signal?: AbortSignal): Parameters<Core['datasetStatus']>[0] {
    return {
      root: this.root,
      storeDir: this.storeDir,
      options: this.settings.scanOptions,
      maxAgeMs: this.settings.maxAgeMs,
      registeredFrom: this.settings.registeredFrom,
      signal,
      log: (line) => this.log.info(line),
    };
  }

  /** Incremental scan + diff with the registry. */
  index(
    options: { forceRescan?: boolean; verify?: boolean; signal?: AbortSignal; onProgress?: (p: ScanProgressEvent) => void } = {},
  ): Promise<DatasetStatus> {
    return this.serial(async () => {
      const { datasetStatus } = await loadCore();
      const status = await datasetStatus({
        ...this.request(options.signal),
        cached: this.cache ?? undefined,
        forceRescan: options.forceRescan,
        verify: options.verify,
        onProgress: options.onProgress,
      });
      this.cache = status.cache;
      this._lastScan = status.scan;
      this._status = status;
      this._cleared = false;
      this.log.info(
        `${this.label}: ${status.new} new, ${status.changed} changed, ${status.missing} missing, ${status.registered} registered, ` +
          `${status.unreadable} unreadable, ${status.duplicateGroups} duplicate groups`,
      );
      for (const issue of status.errors) this.log.warn(`${this.label}: ${issue.code} ${issue.path || '.'}: ${issue.message}`);
      if (status.skippedSymlinks) {
        this.log.info(`${this.label}: ${status.skippedSymlinks} symlinked images not followed; the datasetIndex.followSymlinks setting follows them`);
      }
      this.changed();
      return status;
    });
  }

  /** Registers every new or changed image (or only `only`), then refreshes the diff from the cache. */
  register(
    options: { only?: string[]; signal?: AbortSignal; onProgress?: (p: RegisterProgress) => void } = {},
  ): Promise<RegisterReport> {
    return this.serial(async () => {
      const { registerDataset, datasetStatus } = await loadCore();
      const report = await registerDataset({
        ...this.request(options.signal),
        cached: this.cache ?? undefined,
        registerConcurrency: this.settings.registerConcurrency,
        perceptualHash: this.settings.perceptualHash,
        only: options.only,
        onRegisterProgress: options.onProgress,
        lockWaitMs: 60_000,
      });
      for (const notice of report.notices) this.log.warn(notice);
      this.cache = report.cache;
      this._lastScan = report.scan;
      const status = await datasetStatus({ ...this.request(), cached: report.cache, scan: false });
      this._status = status;
      this.changed();
      return report;
    });
  }

  /** Forgets the scan cache (memory and disk); with `alsoRegistry`, the registry file too. */
  clearCache(alsoRegistry: boolean): Promise<void> {
    return this.serial(async () => {
      const { clearCache, registryFileFor } = await loadCore();
      await clearCache(this.storeDir, this.root);
      if (alsoRegistry) await fs.promises.rm(registryFileFor(this.storeDir), { force: true });
      this.cache = null;
      this.diskHeader = null;
      this._lastScan = null;
      this._status = null;
      this._cleared = true;
      this.log.info(`${this.label}: scan cache cleared${alsoRegistry ? ', registry deleted' : ''} (${this.storeDir})`);
      this.changed();
    });
  }

  /**
   * Watcher events, applied to the snapshot in memory and diffed against the registered rows kept
   * from the last status — no rescan, no query. Falls back to a quick rescan when the events cannot
   * be placed. Returns what it did, for the log and the tests.
   */
  applyEvents(events: FileEvent[]): Promise<{ rescan: string | null; added: number; removed: number; changed: number }> {
    return this.serial(async () => {
      const status = this._status;
      if (!this.cache || !status) return { rescan: null, added: 0, removed: 0, changed: 0 };
      const { applyFileEvents, diffSnapshot, countsOf, countSnapshot, resolveOptions } = await loadCore();
      const options = resolveOptions(this.root, this.storeDir, this.settings.scanOptions);
      const out = await applyFileEvents(this.cache.snapshot, this.root, options, events);
      if (out.rescanReason) {
        this.log.info(`${this.label}: ${out.rescanReason}; quick rescan`);
        return { rescan: out.rescanReason, added: 0, removed: 0, changed: 0 };
      }
      if (out.added.length + out.removed.length + out.changed.length === 0) return { rescan: null, added: 0, removed: 0, changed: 0 };
      if (out.changed.length && !status.index.size) {
        // An in-place edit: comparing it needs the registered sizes and mtimes, which a diff
        // without file stats did not load. Re-read the registry once (no rescan).
        const { datasetStatus } = await loadCore();
        this._status = await datasetStatus({ ...this.request(), cached: this.cache, scan: false });
        this.log.info(`${this.label}: file events: +${out.added.length} -${out.removed.length} ~${out.changed.length}`);
        this.changed();
        return { rescan: null, added: out.added.length, removed: out.removed.length, changed: out.changed.length };
      }
      const diff = diffSnapshot(this.cache.snapshot, status.index, status.externalPaths);
      const { files } = countSnapshot(this.cache.snapshot);
      this.cache.header = { ...this.cache.header, files };
      this._status = { ...status, ...countsOf(diff, status.duplicates, 'watcher', files), diff };
      this.log.info(`${this.label}: file events: +${out.added.length} -${out.removed.length} ~${out.changed.length}`);
      this.changed();
      return { rescan: null, added: out.added.length, removed: out.removed.length, changed: out.changed.length };
    });
  }

  /** The registry row of an image, for tooltips (opens the registry read-only on first use). */
  async lookup(rel: string): Promise<ImageRow | null> {
    const { Registry, registryFileFor, canonicalRoot } = await loadCore();
    const file = registryFileFor(this.storeDir);
    if (!fs.existsSync(file)) return null;
    this.lookupRegistry ??= Registry.open(file, { readOnly: true }).then(
      (r) => r.registry,
      () => null,
    );
    const registry = await this.lookupRegistry;
    if (!registry) return null;
    await registry.reloadIfChanged();
    return registry.find(registry.findRootId(await canonicalRoot(this.root)), rel);
  }

  dispose(): void {
    this._onDidChange.dispose();
    void this.lookupRegistry?.then((r) => r?.close());
  }
}

/** Every workspace folder's datasets; follows folder and setting changes. */
export class DatasetModel implements vscode.Disposable {
  private datasets: Dataset[] = [];
  private readonly _onDidChange = new vscode.EventEmitter<Dataset | undefined>();
  /** Fires with the dataset that changed, or undefined when the set of datasets changed. */
  readonly onDidChange = this._onDidChange.event;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly storage: vscode.Uri | undefined,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.rebuild();
    this.disposables.push(
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.rebuild()),
      this._onDidChange,
    );
  }

  get all(): readonly Dataset[] {
    return this.datasets;
  }

  get hasStorage(): boolean {
    return this.storage !== undefined;
  }

  /** Store of one workspace folder: workspace-scoped storage, one sub-folder per workspace folder. */
  storeFor(folder: vscode.WorkspaceFolder): string {
    if (!this.storage) throw new Error('no workspace storage: open a folder first');
    const id = createHash('sha256').update(folder.uri.toString()).digest('hex').slice(0, 12);
    const name = folder.name.replace(/[^\w.-]+/g, '_') || 'folder';
    return path.join(this.storage.fsPath, `${name}-${id}`);
  }

  /** Rebuilds the dataset list from folders and settings, keeping the state of datasets that stay. */
  rebuild(): void {
    const folders = this.storage ? vscode.workspace.workspaceFolders ?? [] : [];
    const next: Dataset[] = [];
    for (const folder of folders) {
      if (folder.uri.scheme !== 'file') continue;
      const settings = readSettings(folder);
      for (const root of settings.roots) {
        const existing = this.datasets.find((d) => d.folder.uri.toString() === folder.uri.toString() && d.root === root);
        if (existing) {
          existing.updateSettings(settings);
          next.push(existing);
        } else {
          const ds = new Dataset(folder, root, this.storeFor(folder), settings, this.log);
          ds.onDidChange((d) => this._onDidChange.fire(d));
          next.push(ds);
          // The status bar shows a cache's age from its header alone; read it for every new dataset.
          void ds.peekCache().catch(() => undefined);
        }
      }
    }
    for (const old of this.datasets) if (!next.includes(old)) old.dispose();
    this.datasets = next;
    this._onDidChange.fire(undefined);
  }

  /**
   * Re-reads settings. Datasets of the folders whose scan-shaping settings changed start over (their
   * in-memory cache no longer matches); the others keep their state.
   */
  reloadSettings(changed: (folder: vscode.WorkspaceFolder) => boolean): void {
    const keep: Dataset[] = [];
    for (const ds of this.datasets) {
      if (changed(ds.folder)) ds.dispose();
      else keep.push(ds);
    }
    this.datasets = keep;
    this.rebuild();
  }

  dispose(): void {
    for (const ds of this.datasets) ds.dispose();
    vscode.Disposable.from(...this.disposables).dispose();
  }
}
