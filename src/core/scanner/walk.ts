import * as path from 'node:path';
import type { Dirent, Stats } from 'node:fs';
import type {
  DirRecord, DirStamp, FileStat, FsOpCounts, ScanChanges, ScanIssue, ScanMode, ScanOptions, ScanProgress, Snapshot,
} from '../types';
import { DEFAULT_FS_CONCURRENCY } from '../defaults';
import { ChangeRecorder } from './changes';
import { buildFilter, type EntryFilter } from './filters';
import { nodeFileSystem, type ScanFileSystem } from './fileSystem';
import { ABORTED, FsPool } from './fsPool';
import { sharedStatWorker, STAT_BATCH, type StatWorker } from './statWorker';
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
  /** Batch stats on a worker thread (default true for the real file system). */
  readonly statWorker?: boolean;
}

interface Visit {
  rel: string;
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

const GONE = new Set(['ENOENT', 'ENOTDIR']);

export function pendingRecord(): DirRecord {
  return { stamp: null, racy: false, files: [], subdirs: [] };
}

function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException | undefined)?.code ?? 'EUNKNOWN';
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function sameFileStat(a: FileStat | undefined, b: FileStat): boolean {
  return a !== undefined && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino;
}

function fileStatOf(st: Stats): FileStat {
  return { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino };
}

function joinRel(dir: string, name: string): string {
  return dir ? `${dir}/${name}` : name;
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
  /** Batched stats on a worker thread, for the real file system only (an injected one is called per path). */
  private readonly worker: StatWorker | null;

  constructor(private readonly req: WalkRequest) {
    this.filter = buildFilter(req.options);
    this.concurrency = req.concurrency ?? DEFAULT_FS_CONCURRENCY;
    this.pool = new FsPool(req.fs ?? nodeFileSystem, this.concurrency, req.signal);
    this.worker = (req.fs ?? nodeFileSystem) === nodeFileSystem && req.statWorker !== false ? sharedStatWorker : null;
    this.changes = new ChangeRecorder(req.changeSampleLimit ?? 1000);
    this.racyWindow = req.racyWindowNs ?? DEFAULT_RACY_WINDOW_NS;
    this.now = req.now ?? wallClockNs;
  }

  async run(): Promise<WalkOutcome> {
    const snap = this.req.snapshot;
    if (!snap.has('')) snap.set('', pendingRecord());
    try {
      // Level by level: one batch of stats per level, then the listings that must be read, with
      // bounded concurrency. Live state is one level of directories, never the whole tree.
      let level: Visit[] = [{ rel: '', chain: [] }];
      while (level.length > 0) {
        if (this.req.signal?.aborted) {
          this.cancelled = true;
          break;
        }
        const readStart = this.now();
        const stamps = await this.stampLevel(level.map((v) => v.rel));
        const next: Visit[] = [];
        await this.forEachLimited(level, (v, i) => this.visit(v, stamps[i], readStart, next));
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

  /** Runs `fn` over `items` with at most `concurrency` at once; stops starting new ones on cancel. */
  private async forEachLimited<T>(items: readonly T[], fn: (item: T, index: number) => Promise<void>): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < items.length) {
        if (this.req.signal?.aborted) {
          this.cancelled = true;
          return;
        }
        const i = next++;
        await fn(items[i], i);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, items.length) }, worker));
  }

  /** The stamps of one level's directories: one batched call on the stat worker, or pooled calls. */
  private async stampLevel(rels: readonly string[]): Promise<(DirStamp | NodeJS.ErrnoException)[]> {
    const out = new Array<DirStamp | NodeJS.ErrnoException>(rels.length);
    if (this.worker) {
      for (let start = 0; start < rels.length; start += STAT_BATCH) {
        if (this.req.signal?.aborted) throw ABORTED;
        const slice = rels.slice(start, start + STAT_BATCH);
        const { stamps, codes } = await this.worker.statDirs(slice.map((r) => this.abs(r)));
        this.pool.counts.stat += slice.length;
        for (let i = 0; i < slice.length; i++) {
          out[start + i] = { mtimeNs: stamps[i * 4], ctimeNs: stamps[i * 4 + 1], ino: stamps[i * 4 + 2], dev: stamps[i * 4 + 3] };
        }
        for (const [i, code, message] of codes) out[start + i] = Object.assign(new Error(message), { code });
      }
      return out;
    }
    await this.forEachLimited(rels, async (rel, i) => {
      try {
        out[i] = stampOf(await this.pool.statDir(this.abs(rel)));
      } catch (err) {
        if (err === ABORTED) throw err;
        out[i] = err as NodeJS.ErrnoException;
      }
    });
    return out;
  }

  private abs(rel: string): string {
    return rel ? path.join(this.req.root, rel) : this.req.root;
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

  /** One directory, given its fresh stamp (or the error of its stat). Children go to `next`. */
  private async visit(v: Visit, stamped: DirStamp | NodeJS.ErrnoException | undefined, readStart: bigint, next: Visit[]): Promise<void> {
    const snap = this.req.snapshot;
    const rel = v.rel;
    const rec = snap.get(rel);
    if (!rec || stamped === undefined) return; // dropped meanwhile, or not stamped (cancelled)
    if (stamped instanceof Error) {
      this.dirFailed(rel, rec, stamped);
      return;
    }
    const stamp = stamped;
    const abs = this.abs(rel);
    let chain = v.chain;
    if (this.req.options.followSymlinks) {
      const key = `${stamp.dev}:${stamp.ino}`;
      if (chain.includes(key)) {
        this.issue(rel, 'ELOOP', 'symlink loop: this directory is one of its own ancestors; not followed');
        this.dropSubtree(rel, false);
        return;
      }
      chain = [...chain, key];
    }

    const unchanged = this.req.mode !== 'full' && !rec.racy && sameStamp(rec.stamp, stamp);
    if (unchanged) {
      if (this.req.mode === 'verify') await this.verifyFiles(rel, abs, rec);
      this.progress(rec);
      for (const name of rec.subdirs) next.push({ rel: joinRel(rel, name), chain });
      return;
    }

    let entries: Dirent[];
    try {
      entries = await this.pool.readdir(abs);
    } catch (err) {
      if (err === ABORTED) throw err;
      this.dirFailed(rel, rec, err);
      return;
    }
    this.dirsRead++;
    const { files, subdirs } = await this.classify(rel, abs, entries, chain);
    const updated: DirRecord = { stamp, racy: isRacy(stamp, readStart, this.racyWindow), files, subdirs };
    this.diffFiles(rel, rec, updated);
    if (this.req.mode === 'verify') await this.verifyFiles(rel, abs, updated);
    this.replaceSubdirs(rel, rec, updated);
    snap.set(rel, updated);
    this.progress(updated);
    for (const name of subdirs) next.push({ rel: joinRel(rel, name), chain });
  }

  /** Splits a listing into image files and walkable subdirectories; stats only what readdir cannot type. */
  private async classify(
    rel: string,
    abs: string,
    entries: Dirent[],
    chain: readonly string[],
  ): Promise<{ files: string[]; subdirs: string[] }> {
    const files: string[] = [];
    const subdirs: string[] = [];
    const filter = this.filter;
    let untyped: Dirent[] | undefined;
    for (const entry of entries) {
      const name = entry.name;
      if (entry.isDirectory()) {
        if (!filter.isExcludedDir(joinRel(rel, name))) subdirs.push(name);
      } else if (entry.isFile()) {
        if (filter.isImageName(name) && !filter.isExcludedFile(joinRel(rel, name))) files.push(name);
      } else if (entry.isSymbolicLink() ? this.req.options.followSymlinks : isUnknownType(entry)) {
        (untyped ??= []).push(entry);
      }
    }
    if (untyped) {
      await Promise.all(
        untyped.map(async (entry) => {
          const name = entry.name;
          const childRel = joinRel(rel, name);
          const childAbs = path.join(abs, name);
          let st: Stats;
          try {
            st = entry.isSymbolicLink() ? await this.pool.stat(childAbs) : await this.pool.lstat(childAbs);
          } catch (err) {
            if (err === ABORTED) throw err;
            const code = errorCode(err);
            if (entry.isSymbolicLink() && code === 'ENOENT') this.issue(childRel, code, 'broken symbolic link');
            else if (code !== 'ENOENT') this.issue(childRel, code, errorMessage(err));
            return;
          }
          if (st.isDirectory()) {
            if (entry.isSymbolicLink() && chain.includes(`${st.dev}:${st.ino}`)) {
              this.issue(childRel, 'ELOOP', 'symlink loop: points to one of its own ancestors; not followed');
            } else if (!filter.isExcludedDir(childRel)) {
              subdirs.push(name);
            }
          } else if (st.isFile() && filter.isImageName(name) && !filter.isExcludedFile(childRel)) {
            files.push(name);
          }
        }),
      );
    }
    return { files, subdirs };
  }

  private diffFiles(rel: string, prev: DirRecord, next: DirRecord): void {
    const changes = this.changes;
    if (prev.files.length === 0) {
      changes.addMany(changes.added, rel, next.files);
      return;
    }
    const before = new Map<string, number>();
    prev.files.forEach((name, i) => before.set(name, i));
    let keptStats: (FileStat | undefined)[] | undefined;
    next.files.forEach((name, i) => {
      const at = before.get(name);
      if (at === undefined) {
        changes.add(changes.added, rel, name);
      } else {
        before.delete(name);
        const st = prev.stats?.[at];
        if (st) (keptStats ??= new Array<FileStat | undefined>(next.files.length))[i] = st;
      }
    });
    for (const name of before.keys()) changes.add(changes.removed, rel, name);
    if (keptStats) next.stats = keptStats;
  }

  private replaceSubdirs(rel: string, prev: DirRecord, next: DirRecord): void {
    const snap = this.req.snapshot;
    const now = new Set(next.subdirs);
    for (const name of prev.subdirs) if (!now.has(name)) this.dropSubtree(joinRel(rel, name), true);
    for (const name of next.subdirs) {
      const childRel = joinRel(rel, name);
      if (!snap.has(childRel)) snap.set(childRel, pendingRecord());
    }
  }

  /** Stats every file of a directory: catches files rewritten in place, which leave the directory's stamp alone. */
  private async verifyFiles(rel: string, abs: string, rec: DirRecord): Promise<void> {
    const prevStats = rec.stats;
    const names = rec.files;
    const stats = new Array<FileStat | undefined>(names.length);
    const vanished: number[] = [];
    const record = (i: number, st: FileStat): void => {
      stats[i] = st;
      const before = prevStats?.[i];
      if (before && !sameFileStat(before, st)) this.changes.add(this.changes.modified, rel, names[i]);
    };
    const failed = (i: number, code: string, message: string): void => {
      if (GONE.has(code)) vanished.push(i);
      else this.issue(joinRel(rel, names[i]), code, message);
    };
    if (this.worker) {
      for (let start = 0; start < names.length; start += STAT_BATCH) {
        if (this.req.signal?.aborted) throw ABORTED;
        const slice = names.slice(start, start + STAT_BATCH);
        const { stats: out, codes } = await this.worker.statFiles(abs, slice);
        this.pool.counts.stat += slice.length;
        const bad = new Set<number>();
        for (const [i, code, message] of codes) {
          bad.add(i);
          failed(start + i, code, message);
        }
        for (let i = 0; i < slice.length; i++) {
          if (!bad.has(i)) record(start + i, { size: out[i * 3], mtimeMs: out[i * 3 + 1], ino: out[i * 3 + 2] });
        }
      }
    } else {
      await this.forEachLimited(names, async (name, i) => {
        try {
          record(i, fileStatOf(await this.pool.stat(path.join(abs, name))));
        } catch (err) {
          if (err === ABORTED) throw err;
          failed(i, errorCode(err), errorMessage(err));
        }
      });
    }
    rec.stats = stats;
    if (vanished.length) {
      // The directory changed after we stamped it: drop the files now and re-read it next time.
      const gone = new Set(vanished);
      for (const i of vanished) this.changes.add(this.changes.removed, rel, names[i]);
      rec.files = names.filter((_, i) => !gone.has(i));
      rec.stats = stats.filter((_, i) => !gone.has(i));
      rec.stamp = null;
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

function isUnknownType(entry: Dirent): boolean {
  return !(entry.isFIFO() || entry.isSocket() || entry.isBlockDevice() || entry.isCharacterDevice());
}

export function walk(req: WalkRequest): Promise<WalkOutcome> {
  return new Walker(req).run();
}
