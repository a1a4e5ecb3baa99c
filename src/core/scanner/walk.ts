import * as path from 'node:path';
import type { Dirent, Stats } from 'node:fs';
import type {
  DirRecord, DirStamp, FileStats, FsOpCounts, ScanChanges, ScanIssue, ScanMode, ScanOptions, ScanProgress, Snapshot,
} from '../types';
import { DEFAULT_FS_CONCURRENCY } from '../defaults';
import { ChangeRecorder } from './changes';
import { buildFilter, type EntryFilter } from './filters';
import { nodeFileSystem, type ScanFileSystem } from './fileSystem';
import { ABORTED, FsPool } from './fsPool';
import { sharedDirWorkers, type DirWorkerPool } from './dirWorkerPool';
import {
  FOLDER_LIST_FAILED, FOLDER_STAT_FAILED, FOLDER_UNCHANGED, type ListResponse,
} from './dirWorker';
import { copyFileStat, hasFileStat, keepFileStats, sameFileStat, STAT_FIELDS, unknownFileStats } from './fileStats';
import { DEFAULT_RACY_WINDOW_NS, isRacy, sameStamp, stampOf, wallClockNs } from './stamp';

export interface WalkRequest {
  /** Absolute path of the dataset root. */
  readonly root: string;
  readonly options: ScanOptions;
  /**
   * full: read every directory. quick / resume: stat every known directory, read only changed or
   * unread ones. verify: quick plus a stat of every file.
   */
  readonly mode: ScanMode;
  /** Updated in place, so it is a consistent tree at every moment (checkpoints encode it as is). */
  readonly snapshot: Snapshot;
  readonly fs?: ScanFileSystem;
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: ScanProgress) => void;
  /** How many paths of each kind of change to keep (all are counted). Default 1000. */
  readonly changeSampleLimit?: number;
  readonly racyWindowNs?: bigint;
  /** The moment of a directory read, for the racy check. */
  readonly now?: () => bigint;
  /** List folders on worker threads (default: yes for the real file system). */
  readonly workers?: DirWorkerPool | false;
}

interface Visit {
  rel: string;
  /** Its record, when the caller has it at hand (saves a lookup per folder). */
  rec?: DirRecord;
  /** dev:ino of the directories above, when following symlinks (loop detection). */
  chain: readonly string[];
}

export interface WalkOutcome {
  readonly changes: ScanChanges;
  readonly issues: ScanIssue[];
  readonly fsOps: FsOpCounts;
  /** Directories whose listing was read in this walk. */
  readonly dirsRead: number;
  readonly cancelled: boolean;
}

/** A folder's listing, image files and walkable subfolders, before the exclude globs. */
interface Listing {
  files: string[];
  subdirs: string[];
  /** Followed links to folders: name → dev:ino of the target. */
  links?: [name: string, key: string][];
}

type FileFailure = [file: number, code: string, message: string];

/** What the disk said of one folder, from a worker thread or from pooled calls. */
interface FolderResult {
  stamp: DirStamp | NodeJS.ErrnoException;
  /** Absent when the stamp was the expected one (the folder was not listed). */
  listing?: Listing | NodeJS.ErrnoException;
  /** Verify: stats of the listing's files, or of the known files when not listed. */
  stats?: FileStats;
  fileFailures?: FileFailure[];
  /** Entries of the folder that could not be typed (name, code, message). */
  issues?: [name: string, code: string, message: string][];
}

/**
 * The answer for a folder whose stamp was the expected one, outside verify scans: nothing to
 * apply, so one shared object (a quick scan of 10k unchanged folders builds none). Its stamp is
 * the recorded one.
 */
const UNCHANGED: FolderResult = Object.freeze({ stamp: { mtimeNs: 0n, ctimeNs: 0n, ino: 0n, dev: 0n } });

const GONE = new Set(['ENOENT', 'ENOTDIR']);
const NO_CHAIN: readonly string[] = [];
/** Folders per worker message, and files to stat per message in verify mode. */
const BATCH_FOLDERS = 256;
const BATCH_FILES = 4096;

export function pendingRecord(): DirRecord {
  return { stamp: null, racy: false, files: [], subdirs: [] };
}

function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException | undefined)?.code ?? 'EUNKNOWN';
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function errnoError(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

function joinRel(dir: string, name: string): string {
  return dir ? `${dir}/${name}` : name;
}

function isUnknownType(entry: Dirent): boolean {
  return !(entry.isFIFO() || entry.isSocket() || entry.isBlockDevice() || entry.isCharacterDevice());
}

/** One scan over a snapshot. Per-directory problems become issues; the walk goes on. */
class Walker {
  private readonly filter: EntryFilter;
  private readonly pool: FsPool;
  private readonly changes: ChangeRecorder;
  private readonly issues: ScanIssue[] = [];
  private readonly racyWindow: bigint;
  private readonly now: () => bigint;
  private dirsRead = 0;
  private dirsSeen = 0;
  private filesSeen = 0;
  private cancelled = false;
  private lastProgress = 0;
  private readonly concurrency: number;
  private readonly verify: boolean;
  /** Worker threads for the real file system; an injected one is called per path through the pool. */
  private readonly workers: DirWorkerPool | null;
  private readonly extensions: string[];
  /** Folders first seen in this walk (their records were created by it). */
  private readonly created = new Set<string>();

  constructor(private readonly req: WalkRequest) {
    this.filter = buildFilter(req.options);
    this.concurrency = req.concurrency ?? DEFAULT_FS_CONCURRENCY;
    const fileSystem = req.fs ?? nodeFileSystem;
    this.pool = new FsPool(fileSystem, this.concurrency, req.signal);
    this.workers = fileSystem === nodeFileSystem && req.workers !== false ? (req.workers ?? sharedDirWorkers) : null;
    this.changes = new ChangeRecorder(req.changeSampleLimit ?? 1000);
    this.racyWindow = req.racyWindowNs ?? DEFAULT_RACY_WINDOW_NS;
    this.now = req.now ?? wallClockNs;
    this.verify = req.mode === 'verify';
    this.extensions = [...req.options.extensions];
  }

  async run(): Promise<WalkOutcome> {
    const snap = this.req.snapshot;
    if (!snap.has('')) snap.set('', pendingRecord());
    try {
      // Level by level; live state is one level of folders, never the whole tree.
      let level: Visit[] = [{ rel: '', chain: NO_CHAIN }];
      if (this.workers && this.req.mode !== 'full' && !this.req.options.followSymlinks && snap.size > 1) {
        level = await this.knownOnWorkers(this.workers);
      }
      while (level.length > 0) {
        if (this.req.signal?.aborted) {
          this.cancelled = true;
          break;
        }
        const next: Visit[] = [];
        if (this.workers) await this.levelOnWorkers(this.workers, level, next);
        else await this.levelOnPool(level, next);
        level = next;
      }
    } catch (err) {
      if (err !== ABORTED) throw err;
      this.cancelled = true;
    }
    this.req.onProgress?.({ dirs: this.dirsSeen, files: this.filesSeen });
    return {
      changes: this.changes.result(),
      issues: this.issues,
      fsOps: this.pool.counts,
      dirsRead: this.dirsRead,
      cancelled: this.cancelled,
    };
  }

  /** The stamp a folder must still have to be trusted without a listing (null: list it). */
  private expectedStamp(rec: DirRecord): DirStamp | null {
    return this.req.mode !== 'full' && !rec.racy ? rec.stamp : null;
  }

  /** Runs `fn` over `items` with at most `limit` at once; stops starting new ones on cancel. */
  private async forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < items.length) {
        if (this.req.signal?.aborted) {
          this.cancelled = true;
          return;
        }
        const i = next++;
        await fn(items[i], i);
      }
    };
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  }

  // ── Worker threads: one message per batch of folders ────────────────────────────────────────

  private threadsOf(workers: DirWorkerPool): number {
    return Math.max(1, Math.min(workers.size, this.concurrency));
  }

  private async levelOnWorkers(workers: DirWorkerPool, level: Visit[], next: Visit[]): Promise<void> {
    const threads = this.threadsOf(workers);
    // Two batches per thread in flight: a thread never waits for the main thread to hand it work.
    await this.forEachLimited(this.batchesOf(level, threads), threads * 2, async (batch) => {
      const { results, readStart } = await this.listBatch(workers, batch);
      batch.forEach((v, i) => this.settle(v, results[i], readStart, next));
    });
  }

  /**
   * Quick, verify and resume scans start here: every folder the snapshot knows, in one pass with
   * no barrier between levels, straight from the snapshot's keys. Unchanged folders are done when
   * their answer comes; the others are then applied parents first, since a parent's new listing
   * may drop a subtree (its answers are ignored) or add folders, which are returned to be walked
   * level by level. Not used when following symlinks: loop detection needs each folder's chain of
   * ancestors, which only the level walk carries.
   */
  private async knownOnWorkers(workers: DirWorkerPool): Promise<Visit[]> {
    const snap = this.req.snapshot;
    const threads = this.threadsOf(workers);
    const known: Visit[] = [];
    for (const [rel, rec] of snap) known.push({ rel, rec, chain: NO_CHAIN });
    const changed = new Map<string, { result: FolderResult; readStart: bigint }>();
    await this.forEachLimited(this.batchesOf(known, threads), threads * 2, async (batch) => {
      const { results, readStart } = await this.listBatch(workers, batch);
      batch.forEach((v, i) => {
        const result = results[i];
        const rec = v.rec as DirRecord;
        if (result === UNCHANGED) {
          this.progress(rec);
          return;
        }
        if (result.stamp instanceof Error || result.listing !== undefined) {
          changed.set(v.rel, { result, readStart });
          return;
        }
        if (result.stats) this.applyFileStats(v.rel, rec, result.stats, result.fileFailures);
        this.progress(rec);
      });
    });
    const depth = (rel: string): number => (rel === '' ? 0 : rel.split('/').length);
    const order = [...changed.keys()].sort((a, b) => depth(a) - depth(b));
    const blocked = new Set<string>();
    const isBlocked = (rel: string): boolean => {
      for (let at = rel.indexOf('/'); at >= 0; at = rel.indexOf('/', at + 1)) if (blocked.has(rel.slice(0, at))) return true;
      return blocked.has('') && rel !== '';
    };
    const fresh: Visit[] = [];
    const children: Visit[] = [];
    for (const rel of order) {
      if (!snap.has(rel)) continue; // dropped with an ancestor
      if (isBlocked(rel)) {
        // Below a folder that could not be read: left as it was, as the level walk would.
        blocked.add(rel);
        continue;
      }
      const { result, readStart } = changed.get(rel) as { result: FolderResult; readStart: bigint };
      children.length = 0;
      if (!this.settle({ rel, chain: NO_CHAIN }, result, readStart, children)) blocked.add(rel);
      for (const child of children) if (this.created.has(child.rel)) fresh.push(child);
    }
    return fresh;
  }

  /** One batch on a worker thread: the stamps the folders should have go with it. */
  private async listBatch(workers: DirWorkerPool, batch: Visit[]): Promise<{ results: FolderResult[]; readStart: bigint }> {
    const snap = this.req.snapshot;
    const n = batch.length;
    const expect = new BigInt64Array(n * 4);
    const expectMask = new Uint8Array(n);
    const verifyNames: string[] | null = this.verify ? new Array<string>(n).fill('') : null;
    batch.forEach((v, i) => {
      const rec = v.rec ?? snap.get(v.rel);
      const stamp = rec && this.expectedStamp(rec);
      if (!stamp) return;
      expectMask[i] = 1;
      expect[i * 4] = stamp.mtimeNs;
      expect[i * 4 + 1] = stamp.ctimeNs;
      expect[i * 4 + 2] = stamp.ino;
      expect[i * 4 + 3] = stamp.dev;
      if (verifyNames && rec) verifyNames[i] = rec.files.join('\0');
    });
    const readStart = this.now();
    const res = await workers.list(
      {
        paths: batch.map((v) => this.abs(v.rel)),
        expect,
        expectMask,
        extensions: this.extensions,
        followSymlinks: this.req.options.followSymlinks,
        verifyNames,
      },
      [expect.buffer, expectMask.buffer],
    );
    this.pool.counts.readdir += res.readdirCalls;
    this.pool.counts.stat += res.statCalls;
    return { results: this.unpack(batch, res), readStart };
  }

  /** Splits a level into batches: small enough to share among threads, bounded in files to stat. */
  private batchesOf(level: Visit[], threads: number): Visit[][] {
    const size = Math.max(1, Math.min(BATCH_FOLDERS, Math.ceil(level.length / (threads * 4))));
    const batches: Visit[][] = [];
    let batch: Visit[] = [];
    let files = 0;
    for (const v of level) {
      batch.push(v);
      if (this.verify) files += this.req.snapshot.get(v.rel)?.files.length ?? 0;
      if (batch.length >= size || files >= BATCH_FILES) {
        batches.push(batch);
        batch = [];
        files = 0;
      }
    }
    if (batch.length) batches.push(batch);
    return batches;
  }

  private unpack(batch: Visit[], res: ListResponse): FolderResult[] {
    const out: FolderResult[] = new Array<FolderResult>(batch.length);
    const failed = new Map<number, NodeJS.ErrnoException>();
    for (const [i, code, message] of res.errors) failed.set(i, errnoError(code, message));
    const names = res.names === '' ? [] : res.names.split('\0');
    let k = 0;
    let s = 0;
    for (let i = 0; i < batch.length; i++) {
      const state = res.state[i];
      if (state === FOLDER_STAT_FAILED) {
        out[i] = { stamp: failed.get(i) as NodeJS.ErrnoException };
        continue;
      }
      if (state === FOLDER_UNCHANGED && !this.verify) {
        out[i] = UNCHANGED;
        continue;
      }
      // Unchanged means equal to the recorded stamp: keep that object rather than build a new one.
      const known = state === FOLDER_UNCHANGED ? (batch[i].rec ?? this.req.snapshot.get(batch[i].rel))?.stamp : null;
      const stamp: DirStamp = known ?? {
        mtimeNs: res.stamps[i * 4], ctimeNs: res.stamps[i * 4 + 1], ino: res.stamps[i * 4 + 2], dev: res.stamps[i * 4 + 3],
      };
      const result: FolderResult = { stamp };
      if (state === FOLDER_LIST_FAILED) {
        result.listing = failed.get(i);
      } else if (state !== FOLDER_UNCHANGED) {
        const nFiles = res.counts[i * 2];
        const nSub = res.counts[i * 2 + 1];
        result.listing = { files: names.slice(k, (k += nFiles)), subdirs: names.slice(k, (k += nSub)) };
      }
      const nStats = res.statCounts[i];
      if (this.verify && state !== FOLDER_LIST_FAILED) {
        result.stats = res.stats.subarray(s * STAT_FIELDS, (s + nStats) * STAT_FIELDS);
        s += nStats;
      }
      out[i] = result;
    }
    for (const [i, name, key] of res.links) {
      const listing = out[i].listing;
      if (listing && !(listing instanceof Error)) (listing.links ??= []).push([name, key]);
    }
    for (const [i, name, code, message] of res.entryIssues) (out[i].issues ??= []).push([name, code, message]);
    for (const [i, f, code, message] of res.fileErrors) (out[i].fileFailures ??= []).push([f, code, message]);
    return out;
  }

  // ── Pooled calls: an injected file system (tests inject errors at this boundary) ───────────

  private async levelOnPool(level: Visit[], next: Visit[]): Promise<void> {
    await this.forEachLimited(level, this.concurrency, async (v) => {
      const rec = this.req.snapshot.get(v.rel);
      if (!rec) return;
      const readStart = this.now();
      const result = await this.folderOnPool(v.rel, rec);
      this.settle(v, result, readStart, next);
    });
  }

  private async folderOnPool(rel: string, rec: DirRecord): Promise<FolderResult> {
    const abs = this.abs(rel);
    let stamp: DirStamp;
    try {
      stamp = stampOf(await this.pool.statDir(abs));
    } catch (err) {
      if (err === ABORTED) throw err;
      return { stamp: err as NodeJS.ErrnoException };
    }
    const result: FolderResult = { stamp };
    let files = rec.files;
    if (!sameStamp(this.expectedStamp(rec), stamp)) {
      try {
        const listing = await this.classify(rel, abs, await this.pool.readdir(abs));
        result.listing = listing;
        files = listing.files;
      } catch (err) {
        if (err === ABORTED) throw err;
        result.listing = err as NodeJS.ErrnoException;
        return result;
      }
    }
    if (this.verify) {
      const stats = unknownFileStats(files.length);
      const failures: FileFailure[] = [];
      await this.forEachLimited(files, this.concurrency, async (name, i) => {
        try {
          const st = await this.pool.stat(path.join(abs, name));
          stats.set([st.size, st.mtimeMs, st.ino], i * STAT_FIELDS);
        } catch (err) {
          if (err === ABORTED) throw err;
          failures.push([i, errorCode(err), errorMessage(err)]);
        }
      });
      result.stats = stats;
      if (failures.length) result.fileFailures = failures;
    }
    return result;
  }

  /** Splits a listing into image files and subfolders; stats only what readdir cannot type. */
  private async classify(rel: string, abs: string, entries: Dirent[]): Promise<Listing> {
    const listing: Listing = { files: [], subdirs: [] };
    const untyped = entries.filter((entry) => {
      if (entry.isDirectory()) listing.subdirs.push(entry.name);
      else if (entry.isFile()) {
        if (this.filter.isImageName(entry.name)) listing.files.push(entry.name);
      } else return entry.isSymbolicLink() ? this.req.options.followSymlinks : isUnknownType(entry);
      return false;
    });
    await Promise.all(
      untyped.map(async (entry) => {
        const name = entry.name;
        const link = entry.isSymbolicLink();
        let st: Stats;
        try {
          st = link ? await this.pool.stat(path.join(abs, name)) : await this.pool.lstat(path.join(abs, name));
        } catch (err) {
          if (err === ABORTED) throw err;
          const code = errorCode(err);
          if (link && code === 'ENOENT') this.issue(joinRel(rel, name), code, 'broken symbolic link');
          else if (code !== 'ENOENT') this.issue(joinRel(rel, name), code, errorMessage(err));
          return;
        }
        if (st.isDirectory()) {
          listing.subdirs.push(name);
          if (link) (listing.links ??= []).push([name, `${st.dev}:${st.ino}`]);
        } else if (st.isFile() && this.filter.isImageName(name)) {
          listing.files.push(name);
        }
      }),
    );
    return listing;
  }

  // ── One folder's result applied to the snapshot ────────────────────────────────────────────

  /** Applies one folder's answer; false when its subfolders are not to be visited (failed, loop, gone). */
  private settle(v: Visit, result: FolderResult, readStart: bigint, next: Visit[]): boolean {
    const snap = this.req.snapshot;
    const rel = v.rel;
    const rec = snap.get(rel);
    if (!rec) return false; // dropped meanwhile
    for (const [name, code, message] of result.issues ?? []) this.issue(joinRel(rel, name), code, message);
    if (result.stamp instanceof Error) {
      this.dirFailed(rel, rec, result.stamp);
      return false;
    }
    const stamp = result === UNCHANGED && rec.stamp ? rec.stamp : result.stamp;
    let chain = v.chain;
    if (this.req.options.followSymlinks) {
      const key = `${stamp.dev}:${stamp.ino}`;
      if (chain.includes(key)) {
        this.issue(rel, 'ELOOP', 'symlink loop: this directory is one of its own ancestors; not followed');
        this.dropSubtree(rel, false);
        return false;
      }
      chain = [...chain, key];
    }

    const listing = result.listing;
    if (!listing) {
      if (result.stats) this.applyFileStats(rel, rec, result.stats, result.fileFailures);
      this.progress(rec);
      for (const name of rec.subdirs) next.push({ rel: joinRel(rel, name), chain });
      return true;
    }
    if (listing instanceof Error) {
      this.dirFailed(rel, rec, listing);
      return false;
    }
    this.dirsRead++;
    const { files, subdirs, stats, failures } = this.applyExcludes(rel, listing, chain, result);
    const updated: DirRecord = { stamp, racy: isRacy(stamp, readStart, this.racyWindow), files, subdirs };
    this.diffFiles(rel, rec, updated);
    if (stats) this.applyFileStats(rel, updated, stats, failures);
    this.replaceSubdirs(rel, rec, updated);
    snap.set(rel, updated);
    this.progress(updated);
    for (const name of subdirs) next.push({ rel: joinRel(rel, name), chain });
    return true;
  }

  /** Drops excluded files and folders, and links back to an ancestor; keeps stats aligned. */
  private applyExcludes(
    rel: string,
    listing: Listing,
    chain: readonly string[],
    result: FolderResult,
  ): { files: string[]; subdirs: string[]; stats?: FileStats; failures?: FileFailure[] } {
    const filter = this.filter;
    const loops = new Set<string>();
    for (const [name, key] of listing.links ?? []) {
      if (chain.includes(key)) {
        loops.add(name);
        this.issue(joinRel(rel, name), 'ELOOP', 'symlink loop: points to one of its own ancestors; not followed');
      }
    }
    const subdirs = listing.subdirs.filter((name) => !loops.has(name) && !filter.isExcludedDir(joinRel(rel, name)));
    let { files } = listing;
    let stats = result.stats;
    let failures = result.fileFailures;
    const excluded = filter.excludesFiles ? files.map((name) => filter.isExcludedFile(joinRel(rel, name))) : [];
    if (excluded.includes(true)) {
      const count = files.length;
      const newIndex = new Int32Array(count).fill(-1);
      let kept = 0;
      for (let i = 0; i < count; i++) if (!excluded[i]) newIndex[i] = kept++;
      files = files.filter((_, i) => !excluded[i]);
      if (stats) stats = keepFileStats(stats, count, (i) => !excluded[i]);
      failures = failures?.filter(([i]) => !excluded[i]).map(([i, code, message]): FileFailure => [newIndex[i], code, message]);
    }
    return { files, subdirs, stats, failures };
  }

  private diffFiles(rel: string, prev: DirRecord, next: DirRecord): void {
    const changes = this.changes;
    if (prev.files.length === 0) {
      changes.addMany(changes.added, rel, next.files);
      return;
    }
    const before = new Map<string, number>();
    prev.files.forEach((name, i) => before.set(name, i));
    let kept: FileStats | undefined;
    next.files.forEach((name, i) => {
      const at = before.get(name);
      if (at === undefined) {
        changes.add(changes.added, rel, name);
      } else {
        before.delete(name);
        if (hasFileStat(prev.stats, at)) copyFileStat(prev.stats, at, (kept ??= unknownFileStats(next.files.length)), i);
      }
    });
    for (const name of before.keys()) changes.add(changes.removed, rel, name);
    if (kept) next.stats = kept;
  }

  private replaceSubdirs(rel: string, prev: DirRecord, next: DirRecord): void {
    const snap = this.req.snapshot;
    const now = new Set(next.subdirs);
    for (const name of prev.subdirs) if (!now.has(name)) this.dropSubtree(joinRel(rel, name), true);
    for (const name of next.subdirs) {
      const childRel = joinRel(rel, name);
      if (!snap.has(childRel)) {
        snap.set(childRel, pendingRecord());
        this.created.add(childRel);
      }
    }
  }

  /**
   * Verify: the fresh stats of a folder's files (aligned with rec.files) replace the recorded ones;
   * a file whose size, mtime or inode differs was modified in place (its folder's stamp cannot tell).
   */
  private applyFileStats(rel: string, rec: DirRecord, stats: FileStats, failures?: FileFailure[]): void {
    const names = rec.files;
    const prev = rec.stats;
    if (prev) {
      for (let i = 0; i < names.length; i++) {
        if (hasFileStat(prev, i) && hasFileStat(stats, i) && !sameFileStat(prev, i, stats, i)) {
          this.changes.add(this.changes.modified, rel, names[i]);
        }
      }
    }
    rec.stats = stats;
    const vanished = new Set<number>();
    for (const [i, code, message] of failures ?? []) {
      if (GONE.has(code)) vanished.add(i);
      else this.issue(joinRel(rel, names[i]), code, message);
    }
    if (vanished.size) {
      // The folder changed after we stamped it: drop the files now and read it again next time.
      for (const i of vanished) this.changes.add(this.changes.removed, rel, names[i]);
      rec.files = names.filter((_, i) => !vanished.has(i));
      rec.stats = keepFileStats(stats, names.length, (i) => !vanished.has(i));
      rec.stamp = null;
    }
  }

  /** Snapshot paths are normalised already; on POSIX a concatenation is all path.join would do. */
  private abs(rel: string): string {
    if (!rel) return this.req.root;
    if (path.sep !== '/') return path.join(this.req.root, rel);
    return this.req.root.endsWith('/') ? this.req.root + rel : `${this.req.root}/${rel}`;
  }

  private issue(rel: string, code: string, message: string): void {
    this.issues.push({ path: rel, code, message });
  }

  private progress(rec: DirRecord): void {
    this.dirsSeen++;
    this.filesSeen += rec.files.length;
    const onProgress = this.req.onProgress;
    if (onProgress && (this.dirsSeen & 63) === 0) {
      const t = Date.now();
      if (t - this.lastProgress >= 100) {
        this.lastProgress = t;
        onProgress({ dirs: this.dirsSeen, files: this.filesSeen });
      }
    }
  }

  private dirFailed(rel: string, rec: DirRecord, err: unknown): void {
    const code = errorCode(err);
    if (GONE.has(code)) {
      this.issue(rel, code, 'directory vanished during the scan');
      this.dropSubtree(rel, true);
      return;
    }
    // Keep what we knew (nothing is lost on a transient error) and read it again next time.
    rec.stamp = null;
    this.issue(rel, code, errorMessage(err));
    this.progress(rec);
  }

  /** Removes a directory and everything below it from the snapshot, counting its files as removed. */
  private dropSubtree(rel: string, countRemoved: boolean): void {
    const snap = this.req.snapshot;
    const stack = [rel];
    while (stack.length) {
      const dir = stack.pop() as string;
      const rec = snap.get(dir);
      if (!rec) continue;
      if (countRemoved) this.changes.addMany(this.changes.removed, dir, rec.files);
      snap.delete(dir);
      for (const name of rec.subdirs) stack.push(joinRel(dir, name));
    }
    if (rel) {
      const slash = rel.lastIndexOf('/');
      const parent = snap.get(slash < 0 ? '' : rel.slice(0, slash));
      const name = rel.slice(slash + 1);
      if (parent && parent.subdirs.includes(name)) parent.subdirs = parent.subdirs.filter((n) => n !== name);
    }
  }
}

export function walk(req: WalkRequest): Promise<WalkOutcome> {
  return new Walker(req).run();
}
