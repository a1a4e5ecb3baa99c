/**
 * The host's side of the engine: one worker thread per window (started on first use), requests with
 * ids, an AbortSignal turned into a 'cancel' message, errors carried across with their name and code,
 * progress handed to the caller. A worker that dies fails its open requests; the next request starts
 * a new one (datasets are re-created from the configs every request carries and the caches on disk).
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { GalleryQuery } from '../gallery/order';
import type { ImageRow } from '../registry/registry';
import type { GalleryChoices, GalleryPage, GalleryScope } from './galleryView';
import type { FileEvent } from '../scanner/fileEvents';
import type { ThumbnailResult } from '../thumbnails/types';
import {
  EngineError, type AppliedEvents, type DatasetConfig, type DatasetSummary, type DuplicatePage, type FolderPage, type FromEngine, type GroupId, type Method,
  type Params, type ProgressData, type RegisterSelection, type RegisterSummary, type Result, type SimilarCounts, type SimilarPage, type TeamDatasetInfo, type ThumbnailRequest,
  type ToEngine,
} from './protocol';

/** Beside the bundle (dist/engineWorker.js) or the compiled module (out/src/core/engine/engineWorker.js). */
export const ENGINE_WORKER_FILE = path.join(__dirname, 'engineWorker.js');

export interface CallOptions {
  signal?: AbortSignal;
  onProgress?: (data: ProgressData) => void;
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
  onProgress?: (data: ProgressData) => void;
  cleanup(): void;
}

export class EngineClient {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Lines the engine logs (scan notices, lock waits): the host's log channel. */
  onLog: (level: 'info' | 'warn', line: string) => void = () => undefined;
  /** Counts requests per method (tests and benchmarks: what the host asked for). */
  readonly calls = new Map<Method, number>();

  constructor(private readonly workerFile = ENGINE_WORKER_FILE) {}

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.workerFile);
    worker.on('message', (msg: FromEngine) => this.receive(msg));
    const fail = (err: Error): void => {
      if (this.worker === worker) this.worker = null;
      for (const [id, p] of this.pending) {
        this.pending.delete(id);
        p.cleanup();
        p.reject(err);
      }
    };
    worker.on('error', (err) => fail(err));
    worker.on('exit', (code) => fail(new Error(`the engine worker exited (code ${code})`)));
    // An idle engine must not keep a CLI or a test process alive; a request in flight refs it again.
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private receive(msg: FromEngine): void {
    if (msg.type === 'log') {
      this.onLog(msg.level, msg.line);
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return;
    if (msg.type === 'progress') {
      p.onProgress?.(msg.data);
      return;
    }
    this.pending.delete(msg.id);
    p.cleanup();
    if (msg.type === 'result') p.resolve(msg.result);
    else p.reject(new EngineError(msg.error));
  }

  /** One request. An aborted signal sends 'cancel': the engine stops the work and answers as the core does (a cancelled report). */
  call<M extends Method>(method: M, params: Params<M>, options: CallOptions = {}): Promise<Result<M>> {
    const worker = this.start();
    const id = this.nextId++;
    this.calls.set(method, (this.calls.get(method) ?? 0) + 1);
    return new Promise<Result<M>>((resolve, reject) => {
      const { signal } = options;
      const onAbort = (): void => this.post(worker, { type: 'cancel', id });
      signal?.addEventListener('abort', onAbort, { once: true });
      if (this.pending.size === 0) worker.ref();
      this.pending.set(id, {
        resolve,
        reject,
        onProgress: options.onProgress,
        cleanup: () => {
          signal?.removeEventListener('abort', onAbort);
          if (this.pending.size === 0) worker.unref();
        },
      });
      this.post(worker, { type: 'request', id, method, params });
      if (signal?.aborted) onAbort();
    });
  }

  private post(worker: Worker, msg: ToEngine): void {
    worker.postMessage(msg);
  }

  // ---- typed helpers: what the views and commands ask ----

  /** The cache header alone (status bar age), without loading the cache. */
  peek(config: DatasetConfig): Promise<DatasetSummary['header']> {
    return this.call('peek', { config });
  }

  index(config: DatasetConfig, opts: { forceRescan?: boolean; verify?: boolean } & CallOptions = {}): Promise<DatasetSummary> {
    return this.call('index', { config, forceRescan: opts.forceRescan, verify: opts.verify }, opts);
  }

  register(config: DatasetConfig, only: RegisterSelection | undefined, opts: CallOptions = {}): Promise<{ report: RegisterSummary; summary: DatasetSummary }> {
    return this.call('register', { config, only }, opts);
  }

  applyEvents(config: DatasetConfig, events: FileEvent[]): Promise<AppliedEvents> {
    return this.call('applyEvents', { config, events });
  }

  /**
   * One page of one folder of one group: `[offset, offset + limit)` of its sub-folders (with
   * counts) followed by its images, in name order. A folder of 100k images costs one page.
   */
  children(config: DatasetConfig, group: Exclude<GroupId, 'duplicates'>, dir: string, offset: number, limit: number): Promise<FolderPage> {
    return this.call('children', { config, group, dir, offset, limit });
  }

  /**
   * The same page for a gallery: a group's images under `dir` (default: the group root). Sorting and
   * filtering beyond name order are not offered yet; `files` are names in `dir`, `folders` its sub-folders.
   */
  page(config: DatasetConfig, group: Exclude<GroupId, 'duplicates'>, offset: number, limit: number, dir = ''): Promise<FolderPage> {
    return this.children(config, group, dir, offset, limit);
  }

  /**
   * A page of the gallery, ordered and filtered in the worker: the scope's ordering for the query is
   * built there on first use and cached until the dataset changes; `facts` adds size, mtime and
   * dimensions per item (else only `rels`).
   */
  galleryPage(config: DatasetConfig, scope: GalleryScope, query: GalleryQuery, offset: number, limit: number, facts: boolean, signal?: AbortSignal): Promise<GalleryPage> {
    return this.call('galleryPage', { config, scope, query, offset, limit, facts }, { signal });
  }

  /** The formats and folders a scope's filters can offer. */
  galleryChoices(config: DatasetConfig, scope: GalleryScope): Promise<GalleryChoices> {
    return this.call('galleryChoices', { config, scope });
  }

  duplicates(config: DatasetConfig, offset: number, limit: number): Promise<DuplicatePage> {
    return this.call('duplicates', { config, offset, limit });
  }

  /** Computes the near-duplicate groups (long at a million hashes: cancellable); their counts. */
  similar(config: DatasetConfig, signal?: AbortSignal): Promise<SimilarCounts> {
    return this.call('similar', { config }, { signal });
  }

  /** A page of the computed near-duplicate groups, largest first (null: none computed at this distance). */
  similarPage(config: DatasetConfig, offset: number, limit: number): Promise<SimilarPage | null> {
    return this.call('similarPage', { config, offset, limit });
  }

  /** Every path of the near-duplicate group that holds `member`. */
  similarGroup(config: DatasetConfig, member: string): Promise<string[] | null> {
    return this.call('similarGroup', { config, member });
  }

  clearCache(config: DatasetConfig, alsoRegistry: boolean): Promise<void> {
    return this.call('clearCache', { config, alsoRegistry });
  }

  lookup(config: DatasetConfig, rel: string): Promise<ImageRow | null> {
    return this.call('lookup', { config, rel });
  }

  /** The rows of a page of images, in the order asked: one request (and one query on a team registry). */
  lookupRows(config: DatasetConfig, rels: string[]): Promise<(ImageRow | null)[]> {
    return this.call('lookupRows', { config, rels });
  }

  teamDataset(config: DatasetConfig): Promise<TeamDatasetInfo> {
    return this.call('teamDataset', { config });
  }

  clearTeamDataset(config: DatasetConfig, expectRows: number): Promise<{ deleted: number; refused?: string }> {
    return this.call('clearTeamDataset', { config, expectRows });
  }

  /**
   * A thumbnail, made in the worker (sharp and the wasm decoders load there, never on the caller's
   * thread); an aborted signal drops it from the worker's queue. Failures are results with a reason.
   */
  thumbnail(req: ThumbnailRequest, signal?: AbortSignal): Promise<ThumbnailResult> {
    return this.call('thumbnail', req, { signal });
  }

  /** The thumbnail cache cap of a store changed (the setting): applied, evicting at once. */
  setThumbnailCacheCap(storeDir: string, maxCacheBytes: number): Promise<void> {
    return this.call('thumbnailCacheCap', { storeDir, maxCacheBytes });
  }

  /** Ends the thumbnails' wasm decode thread in the worker (if the worker runs; never starts one for it). */
  async closeThumbnails(): Promise<void> {
    if (this.worker) await this.call('closeThumbnails', {});
  }

  close(key: string): Promise<void> {
    return this.call('close', { key });
  }

  /** Ends the worker (open requests fail). */
  async dispose(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (worker) await worker.terminate();
  }
}

export type { AppliedEvents, DatasetConfig, DatasetSummary, DuplicatePage, FolderPage, GroupId, ProgressData, RegisterSelection, RegisterSummary };
