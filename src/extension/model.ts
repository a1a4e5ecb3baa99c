import * as path from 'node:path';
import type { GalleryChoices, GalleryPage, GalleryScope } from '../core/engine/galleryView';
import type { GalleryQuery } from '../core/gallery/order';
import { createHash } from 'node:crypto';
import * as vscode from 'vscode';
import type { FileEvent, ImageRow } from '../core';
import type { EngineClient } from '../core/engine/client';
import type {
  DatasetConfig, DatasetSummary, DuplicatePage, FolderPage, GroupId, ProgressData, RegisterSelection, RegisterSummary, RowChanges, SimilarCounts, SimilarPage,
} from '../core/engine/protocol';
import { OperationQueue, type Caller, type OperationRequest, type OperationState } from './operations';
import { readSettings, type FolderSettings } from './settings';
import { teamRegistryFor } from './teamRegistry';
import { TooltipRows } from './tooltipRows';
import type { TeamDatasetInfo } from '../core/engine/protocol';

export type { DatasetSummary, GroupId, ScanProgressEvent } from '../core/engine/protocol';

/** What changed in a dataset: rows of the tree per group, or 'all' (a new index, a registration, a clear). */
export interface DatasetChange {
  ds: Dataset;
  rows: RowChanges[] | 'all';
}

/**
 * The Similar group's state on the host: `idle` until someone expands it (at a million images the
 * groups take minutes), then `computing` in the engine, `ready` with counts, or `failed`.
 */
export type SimilarStatus =
  | { state: 'idle' }
  | { state: 'computing' }
  | { state: 'ready'; counts: SimilarCounts }
  | { state: 'failed'; message: string };

export interface FileEventsOutcome {
  rescan: string | null;
  added: number;
  removed: number;
  changed: number;
}

/** What an operation resolves to: the dataset's summary after it, and a registration's report. */
export interface OperationResult {
  summary: DatasetSummary | null;
  report?: RegisterSummary;
  events?: FileEventsOutcome;
  /** It never started (cancelled while waiting, or the dataset went away). */
  skipped?: boolean;
  /** A clear that deleted a team dataset's rows: how many, or why none. */
  team?: { deleted: number; refused?: string };
}

export interface OperationEnd {
  ds: Dataset;
  request: OperationRequest;
  background: boolean;
  cancelled: boolean;
  error?: string;
}

let generation = 0;

/**
 * One dataset root as the extension host sees it: its counts and cache header (never path lists),
 * its operations queue, and the engine worker that holds everything else.
 */
export class Dataset {
  private _summary: DatasetSummary | null = null;
  private diskHeader: DatasetSummary['header'] = null;
  private _cleared = false;
  private disposed = false;
  /** The engine's name for this instance: a dataset rebuilt after a settings change is a new one. */
  readonly key: string;
  private readonly _onDidChange = new vscode.EventEmitter<DatasetChange>();
  readonly onDidChange = this._onDidChange.event;
  private readonly _onDidEndOperation = new vscode.EventEmitter<OperationEnd>();
  readonly onDidEndOperation = this._onDidEndOperation.event;
  private readonly _onDidChangeBusy = new vscode.EventEmitter<Dataset>();
  readonly onDidChangeBusy = this._onDidChangeBusy.event;
  /** Progress of the running operation, for whoever shows it. */
  private progressSinks = new Set<(data: ProgressData) => void>();
  readonly operations: OperationQueue<OperationResult>;
  /** The registry rows tooltips show, a page per request (see TooltipRows). */
  private readonly tooltipRows = new TooltipRows((rels) => this.engine.lookupRows(this.config, rels));

  constructor(
    readonly folder: vscode.WorkspaceFolder,
    readonly root: string,
    readonly storeDir: string,
    private settings: FolderSettings,
    private readonly engine: EngineClient,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.key = `${++generation}:${createHash('sha256').update(`${folder.uri.toString()}\0${root}`).digest('hex').slice(0, 8)}`;
    this.operations = new OperationQueue<OperationResult>(
      (request, signal) => this.execute(request, signal),
      () => ({ summary: null, skipped: true }),
      () => this._onDidChangeBusy.fire(this),
    );
  }

  get label(): string {
    const rel = path.relative(this.folder.uri.fsPath, this.root);
    return rel ? `${this.folder.name}/${rel.split(path.sep).join('/')}` : this.folder.name;
  }

  get config(): DatasetConfig {
    const s = this.settings;
    return {
      key: this.key, root: this.root, storeDir: this.storeDir, options: s.scanOptions, maxAgeMs: s.maxAgeMs, registeredFrom: s.registeredFrom, team: teamRegistryFor(s.team),
      registerConcurrency: s.registerConcurrency, perceptualHash: s.perceptualHash, similarDistance: s.similarDistance,
    };
  }

  /** Counts of the last index (null: not indexed in this window). */
  get summary(): DatasetSummary | null {
    return this._summary;
  }

  /** The header of the cache the engine holds, else the one read from disk by `peekCache`. */
  get cacheHeader(): DatasetSummary['header'] {
    return this._summary?.header ?? this.diskHeader;
  }

  get cleared(): boolean {
    return this._cleared;
  }

  get maxAgeMs(): number {
    return this.settings.maxAgeMs;
  }

  get watchEnabled(): boolean {
    return this.settings.watch;
  }

  get busy(): OperationState | null {
    return this.operations.current;
  }

  updateSettings(settings: FolderSettings): void {
    const distanceChanged = settings.similarDistance !== this.settings.similarDistance;
    this.settings = settings;
    this.tooltipRows.clear();
    if (distanceChanged) this.similarInvalid();
  }

  // ---- near-duplicate groups (the tree's Similar group) ----

  private _similar: SimilarStatus = { state: 'idle' };
  /** Someone asked for the groups: they are computed again after each change of the registry. */
  private similarWanted = false;
  private similarRun: { controller: AbortController; again: boolean } | null = null;

  get similar(): SimilarStatus {
    return this._similar;
  }

  private setSimilar(status: SimilarStatus): void {
    this._similar = status;
    this.changed([{ group: 'similar', dirs: [''] }]);
  }

  /**
   * Starts computing the near-duplicate groups in the engine (nothing on this thread), unless that
   * runs already; a request during a run makes one more run after it (the registry may have changed).
   */
  findSimilar(): void {
    this.similarWanted = true;
    if (this.disposed) return;
    if (this.similarRun) {
      this.similarRun.again = true;
      return;
    }
    const run = { controller: new AbortController(), again: false };
    this.similarRun = run;
    if (this._similar.state !== 'computing') this.setSimilar({ state: 'computing' });
    const started = performance.now();
    void this.engine.similar(this.config, run.controller.signal).then(
      (counts) => {
        if (this.similarRun !== run || run.controller.signal.aborted) return;
        this.log.info(`${this.label}: ${counts.groups} near-duplicate groups (${counts.images} images, distance ≤ ${counts.distance}) in ${Math.round(performance.now() - started)} ms`);
        this.similarDone(run, { state: 'ready', counts });
      },
      (err: unknown) => {
        if (this.similarRun !== run || run.controller.signal.aborted) return;
        const message = err instanceof Error ? err.message : String(err);
        this.log.error(`${this.label}: near-duplicate groups: ${message}`);
        this.similarDone(run, { state: 'failed', message });
      },
    );
  }

  private similarDone(run: { again: boolean }, status: SimilarStatus): void {
    this.similarRun = null;
    if (run.again) {
      this.findSimilar();
      return;
    }
    this.setSimilar(status);
  }

  /** The known groups no longer hold (another distance, a registry re-read): stop, and start over if wanted. */
  private similarInvalid(): void {
    if (this.similarRun) {
      this.similarRun.controller.abort();
      this.similarRun = null;
    }
    if (this.similarWanted && this._summary) this.findSimilar();
    else if (this._similar.state !== 'idle') this.setSimilar({ state: 'idle' });
  }

  /** A new summary: its counts if the engine knows the groups in that state, else a new run (if wanted). */
  private similarFrom(summary: DatasetSummary): void {
    if (summary.similar) {
      if (!this.similarRun) this._similar = { state: 'ready', counts: summary.similar };
    } else if (this.similarWanted) {
      // Not aborted: the run may be reading the registry this summary came from; one more follows.
      this.findSimilar();
    } else {
      this._similar = { state: 'idle' };
    }
  }

  /** Whether this dataset's registry is a team registry on PostgreSQL (datasetIndex.registry.url). */
  get team(): boolean {
    return this.settings.team !== undefined;
  }

  private changed(rows: RowChanges[] | 'all'): void {
    this.tooltipRows.clear();
    if (!this.disposed) this._onDidChange.fire({ ds: this, rows });
  }

  /** Reads only the cache file's header (in the engine: a few hundred bytes): enough for the status bar's age. */
  async peekCache(): Promise<void> {
    if (this._summary) return;
    const header = await this.engine.peek(this.config);
    if (header && !this._summary) {
      this.diskHeader = header;
      this.changed([]);
    }
  }

  /** Follows the running operation's progress until the returned disposable is disposed. */
  onProgress(sink: (data: ProgressData) => void): vscode.Disposable {
    this.progressSinks.add(sink);
    return new vscode.Disposable(() => this.progressSinks.delete(sink));
  }

  private progress = (data: ProgressData): void => {
    for (const sink of this.progressSinks) sink(data);
  };

  /** Incremental scan + diff with the registry, in the engine. */
  async index(options: { forceRescan?: boolean; verify?: boolean } = {}, caller: Caller = { background: false }): Promise<DatasetSummary | null> {
    return (await this.operations.run({ kind: 'index', ...options }, caller)).summary;
  }

  /** Registers every new or changed image (or only `only`), then refreshes the counts. */
  async register(only: RegisterSelection | undefined, caller: Caller = { background: false }): Promise<OperationResult> {
    return this.operations.run({ kind: 'register', only }, caller);
  }

  /**
   * Forgets the scan cache (engine and disk); with `alsoRegistry`, the store's registry file too
   * (not with a team registry: its rows go only with `teamRows`, the count the user confirmed).
   */
  async clearCache(alsoRegistry: boolean, teamRows?: number): Promise<OperationResult> {
    return this.operations.run({ kind: 'clear', alsoRegistry, ...(teamRows !== undefined ? { teamRows } : {}) }, { background: false });
  }

  /** The team dataset's location and row count (read-only; not queued behind operations). */
  teamDataset(): Promise<TeamDatasetInfo> {
    return this.engine.teamDataset(this.config);
  }

  /**
   * Watcher events, applied in the engine to its snapshot and diffed against the registered rows it
   * kept — no rescan, no query; they wait for a running operation. `rescan` says when they could not be placed.
   */
  async applyEvents(events: FileEvent[]): Promise<FileEventsOutcome> {
    // Batches wait here, not in the request: one that runs takes every batch that arrived before it.
    this.queuedEvents.push(...events);
    const r = await this.operations.run({ kind: 'events' }, { background: true });
    return r.events ?? { rescan: null, added: 0, removed: 0, changed: 0 };
  }

  private queuedEvents: FileEvent[] = [];

  private async execute(request: OperationRequest, signal: AbortSignal): Promise<OperationResult> {
    const caller = { background: this.operations.current?.background ?? false };
    try {
      const result = await this.executeNow(request, signal);
      if (request.kind !== 'events') {
        this._onDidEndOperation.fire({ ds: this, request, background: caller.background, cancelled: signal.aborted || !!result.summary?.scan?.cancelled || !!result.report?.cancelled });
      }
      return result;
    } catch (err) {
      if (request.kind !== 'events') {
        this._onDidEndOperation.fire({ ds: this, request, background: caller.background, cancelled: signal.aborted, error: err instanceof Error ? err.message : String(err) });
      }
      throw err;
    }
  }

  /** Work of the instance this one replaces (a settings change) ends first: the two never scan the same root at once. */
  private predecessor: Promise<void> = Promise.resolve();

  after(previous: Dataset): void {
    this.predecessor = previous.operations.idle();
  }

  private async executeNow(request: OperationRequest, signal: AbortSignal): Promise<OperationResult> {
    await this.predecessor;
    const config = this.config;
    switch (request.kind) {
      case 'index': {
        const summary = await this.engine.index(config, { forceRescan: request.forceRescan, verify: request.verify, signal, onProgress: this.progress });
        this.took(summary);
        return { summary };
      }
      case 'register': {
        const { report, summary } = await this.engine.register(config, request.only, { signal, onProgress: this.progress });
        for (const notice of report.notices) this.log.warn(notice);
        this.took(summary);
        return { summary, report };
      }
      case 'clear': {
        await this.engine.clearCache(config, request.alsoRegistry);
        this._summary = null;
        this.diskHeader = null;
        this._cleared = true;
        this.similarRun?.controller.abort();
        this.similarRun = null;
        this._similar = { state: 'idle' };
        const localRegistry = request.alsoRegistry && !config.team;
        this.log.info(`${this.label}: scan cache cleared${localRegistry ? ', registry deleted' : ''} (${this.storeDir})`);
        let team: OperationResult['team'];
        if (request.teamRows !== undefined && config.team) {
          team = await this.engine.clearTeamDataset(config, request.teamRows);
          this.log.info(`${this.label}: team dataset: ${team.refused ?? `${team.deleted} rows deleted`}`);
        }
        this.changed('all');
        return { summary: null, team };
      }
      case 'events': {
        const events = this.queuedEvents;
        this.queuedEvents = [];
        if (!this._summary || events.length === 0) return { summary: this._summary, events: { rescan: null, added: 0, removed: 0, changed: 0 } };
        const r = await this.engine.applyEvents(config, events);
        if (r.rescan) this.log.info(`${this.label}: ${r.rescan}; quick rescan`);
        if (r.added + r.removed + r.changed > 0) {
          this.log.info(`${this.label}: file events: +${r.added} -${r.removed} ~${r.changed}`);
          if (r.summary) {
            this._summary = r.summary;
            if (r.summary.similar && !this.similarRun) this._similar = { state: 'ready', counts: r.summary.similar };
          }
          this.changed(r.rows);
        }
        return { summary: this._summary, events: { rescan: r.rescan, added: r.added, removed: r.removed, changed: r.changed } };
      }
    }
  }

  private took(summary: DatasetSummary): void {
    this._summary = summary;
    this._cleared = false;
    this.similarFrom(summary);
    this.log.info(
      `${this.label}: ${summary.new} new, ${summary.changed} changed, ${summary.missing} missing, ${summary.registered} registered, ` +
        `${summary.unreadable} unreadable, ${summary.duplicateGroups} duplicate groups`,
    );
    for (const issue of summary.errors) this.log.warn(`${this.label}: ${issue.code} ${issue.path || '.'}: ${issue.message}`);
    if (summary.errorCount > summary.errors.length) this.log.warn(`${this.label}: … and ${summary.errorCount - summary.errors.length} more problems`);
    if (summary.skippedSymlinks) {
      this.log.info(`${this.label}: ${summary.skippedSymlinks} symlinked images not followed; the datasetIndex.followSymlinks setting follows them`);
    }
    this.changed('all');
  }

  // ---- pages for the views (straight to the engine: they do not wait for operations) ----

  /** One page of one folder of a group: sub-folders with counts, then image names. */
  children(group: Exclude<GroupId, 'duplicates'>, dir: string, offset: number, limit: number): Promise<FolderPage> {
    return this.engine.children(this.config, group, dir, offset, limit);
  }

  duplicates(offset: number, limit: number): Promise<DuplicatePage> {
    return this.engine.duplicates(this.config, offset, limit);
  }

  /** A page of the near-duplicate groups the engine computed (null: none at this distance). */
  similarPage(offset: number, limit: number): Promise<SimilarPage | null> {
    return this.engine.similarPage(this.config, offset, limit);
  }

  /** Every path of the near-duplicate group that holds `member` (relative). */
  similarGroup(member: string): Promise<string[] | null> {
    return this.engine.similarGroup(this.config, member);
  }

  /** A page of the gallery, ordered and filtered in the engine worker (see Engine.galleryPage). */
  galleryPage(scope: GalleryScope, query: GalleryQuery, offset: number, limit: number, facts: boolean, signal?: AbortSignal): Promise<GalleryPage> {
    return this.engine.galleryPage(this.config, scope, query, offset, limit, facts, signal);
  }

  galleryChoices(scope: GalleryScope): Promise<GalleryChoices> {
    return this.engine.galleryChoices(this.config, scope);
  }

  /**
   * The registry row of an image, for tooltips; `page` is what the tree showed with it, looked up
   * in the same request (kept for the next hovers).
   */
  lookup(rel: string, page?: readonly string[]): Promise<ImageRow | null> {
    return this.tooltipRows.get(rel, page);
  }

  /** Gone (settings changed, folder removed): the running work is aborted, the engine forgets it. */
  dispose(): void {
    this.disposed = true;
    this.similarRun?.controller.abort();
    this.similarRun = null;
    this.operations.dispose();
    // The aborted operation still ends (and says so) before the events go and the engine forgets it.
    void this.operations
      .idle()
      .then(() => {
        this._onDidChange.dispose();
        this._onDidEndOperation.dispose();
        this._onDidChangeBusy.dispose();
        return this.engine.close(this.key);
      })
      .catch(() => undefined);
  }
}

/** Every workspace folder's datasets; follows folder and setting changes. */
export class DatasetModel implements vscode.Disposable {
  private datasets: Dataset[] = [];
  private readonly _onDidChange = new vscode.EventEmitter<DatasetChange | undefined>();
  /** Fires with what changed in a dataset, or undefined when the set of datasets changed. */
  readonly onDidChange = this._onDidChange.event;
  private readonly _onDidChangeBusy = new vscode.EventEmitter<void>();
  readonly onDidChangeBusy = this._onDidChangeBusy.event;
  private readonly _onDidEndOperation = new vscode.EventEmitter<OperationEnd>();
  readonly onDidEndOperation = this._onDidEndOperation.event;
  private readonly disposables: vscode.Disposable[] = [];
  /** Datasets being replaced by a settings change, while their successors are made. */
  private retiring: Dataset[] = [];

  constructor(
    private readonly storage: vscode.Uri | undefined,
    readonly engine: EngineClient,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.rebuild();
    this.disposables.push(
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.rebuild()),
      this._onDidChange,
      this._onDidChangeBusy,
      this._onDidEndOperation,
    );
  }

  get all(): readonly Dataset[] {
    return this.datasets;
  }

  get hasStorage(): boolean {
    return this.storage !== undefined;
  }

  get busy(): boolean {
    return this.datasets.some((d) => d.busy !== null);
  }

  /** Store of one workspace folder: workspace-scoped storage, one sub-folder per workspace folder. */
  storeFor(folder: vscode.WorkspaceFolder): string {
    if (!this.storage) throw new Error(vscode.l10n.t('no workspace storage: open a folder first'));
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
          const ds = new Dataset(folder, root, this.storeFor(folder), settings, this.engine, this.log);
          const previous = this.retiring.find((d) => d.folder.uri.toString() === folder.uri.toString() && d.root === root);
          if (previous) ds.after(previous);
          ds.onDidChange((c) => this._onDidChange.fire(c));
          ds.onDidChangeBusy(() => this._onDidChangeBusy.fire());
          ds.onDidEndOperation((e) => this._onDidEndOperation.fire(e));
          next.push(ds);
          // The status bar shows a cache's age from its header alone; read it for every new dataset.
          void ds.peekCache().catch(() => undefined);
        }
      }
    }
    const gone = this.datasets.filter((old) => !next.includes(old));
    this.datasets = next;
    for (const old of gone) old.dispose();
    if (gone.length) this._onDidChangeBusy.fire();
    this._onDidChange.fire(undefined);
  }

  /**
   * Re-reads settings. Datasets of the folders whose scan-shaping settings changed start over (their
   * engine state no longer matches, and their running work is aborted); the others keep their state.
   */
  reloadSettings(changed: (folder: vscode.WorkspaceFolder) => boolean): void {
    const drop = this.datasets.filter((ds) => changed(ds.folder));
    this.datasets = this.datasets.filter((ds) => !drop.includes(ds));
    for (const ds of drop) ds.dispose();
    this.retiring = drop;
    try {
      this.rebuild();
    } finally {
      this.retiring = [];
    }
  }

  /** The Cancel command: every dataset's running operation stops, waiting ones are dropped. */
  cancelAll(): void {
    for (const ds of this.datasets) ds.operations.cancelAll();
  }

  dispose(): void {
    for (const ds of this.datasets) ds.dispose();
    vscode.Disposable.from(...this.disposables).dispose();
  }
}
