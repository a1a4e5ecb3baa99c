import * as fs from 'node:fs';
import * as path from 'node:path';
import type {
  DirRecord, DirStamp, FileStats, FsOpCounts, ScanChanges, ScanIssue, ScanMode, ScanOptions, ScanProgress, Snapshot,
} from '../types';
import { DEFAULT_FS_CONCURRENCY } from '../defaults';
import { ChangeRecorder } from './changes';
import { buildFilter, type EntryFilter } from './filters';
import type { ScanFileSystem } from './fileSystem';
import { sharedDirWorkers, type DirWorkerPool } from './dirWorkerPool';
import {
  errorCode, errorMessage, joinRel, UNCHANGED, type FileFailure, type FolderResult, type ListContext, type Listing, type Visit,
} from './folderResult';
import { FolderLister } from './folderLister';
import { InProcessListing } from './inProcessListing';
import { copyFileStat, hasFileStat, keepFileStats, sameFileStat, unknownFileStats } from './fileStats';
import { DEFAULT_RACY_WINDOW_NS, isRacy, wallClockNs } from './stamp';
import { isNetworkFs } from '../fsutil/mountType';
import { measureRoundTrip, scanThreads } from './scanThreads';
import { snapshotProblems } from './snapshot';

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
  /** The calls in flight the user allows (--fs-concurrency); by default the round trip decides. */
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: ScanProgress) => void;
  /** How many paths of each kind of change to keep (all are counted). Default 1000. */
  readonly changeSampleLimit?: number;
  readonly racyWindowNs?: bigint;
  /** The moment of a directory read, for the racy check. */
  readonly now?: () => bigint;
  /** Tests: a file system to list folders through, on the main thread (instead of the threads). */
  readonly fs?: ScanFileSystem;
  /** Tests: the worker threads (default: one shared pool per process). */
  readonly workers?: DirWorkerPool;
}

export interface WalkOutcome {
  readonly changes: ScanChanges;
  /**
   * Every problem known after this walk: those of the folders it read, those kept with the
   * folders it did not re-read (see DirRecord.issues), and the passing ones of this walk (a folder
   * that vanished while it was read).
   */
  readonly issues: ScanIssue[];
  /** How many of them this walk found itself (0: the snapshot's issues are the ones on disk). */
  readonly freshIssues: number;
  /** Image-named symbolic links left out (links not followed), over all folders. */
  readonly symlinks: number;
  readonly fsOps: FsOpCounts;
  /** Directories whose listing was read in this walk. */
  readonly dirsRead: number;
  readonly cancelled: boolean;
  /** Threads that listed folders (worker threads), or calls in flight (an injected file system). */
  readonly threads: number;
  /** The round trip measured at the start, ms (null with an injected file system). */
  readonly roundTripMs: number | null;
}

const GONE = new Set(['ENOENT', 'ENOTDIR']);
const NO_CHAIN: readonly string[] = [];

export function pendingRecord(): DirRecord {
  return { stamp: null, racy: false, files: [], subdirs: [] };
}

/** One scan over a snapshot. Per-directory problems become issues; the walk goes on. */
class Walker {
  private readonly filter: EntryFilter;
  /** Every call the walk causes, counted where it is made (see ListResponse). */
  private readonly counts: FsOpCounts = { readdir: 0, stat: 0 };
  private readonly changes: ChangeRecorder;
  /** Problems that belong to no folder kept in the snapshot (it vanished). */
  private readonly transient: ScanIssue[] = [];
  private freshIssues = 0;
  private readonly racyWindow: bigint;
  private readonly now: () => bigint;
  private dirsRead = 0;
  private dirsSeen = 0;
  private filesSeen = 0;
  private cancelled = false;
  private lastProgress = 0;
  private readonly verify: boolean;
  private readonly ctx: ListContext;
  private threads = 0;
  private roundTripMs: number | null = null;
  /** Folders first seen in this walk (their records were created by it). */
  private readonly created = new Set<string>();
  /** Following symlinks: dev:ino of every folder walked → its path, so each folder is walked once. */
  private readonly visited = new Map<string, string>();
  /** Following symlinks: the root's device; other devices are left alone unless crossFileSystems. */
  private rootDev: bigint | null = null;

  constructor(private readonly req: WalkRequest) {
    this.filter = buildFilter(req.options);
    this.changes = new ChangeRecorder(req.changeSampleLimit ?? 1000);
    this.racyWindow = req.racyWindowNs ?? DEFAULT_RACY_WINDOW_NS;
    this.now = req.now ?? wallClockNs;
    this.verify = req.mode === 'verify';
    const ctx: ListContext = {
      snapshot: req.snapshot,
      options: req.options,
      verify: this.verify,
      signal: req.signal,
      counts: this.counts,
      now: this.now,
      expectedStamp: (rec) => this.expectedStamp(rec),
      abs: (rel) => this.abs(rel),
    };
    this.ctx = ctx;
  }

  /**
   * Worker threads, as many as the file system's round trip asks for (measured now: the same
   * share may sit behind a fast LAN or a slow VPN). A test's injected file system is listed by
   * the same code on this thread.
   */
  private async lister(): Promise<FolderLister> {
    if (this.req.fs) {
      this.threads = this.req.concurrency ?? DEFAULT_FS_CONCURRENCY;
      return new FolderLister(new InProcessListing(this.req.fs), this.ctx, this.threads);
    }
    const workers = this.req.workers ?? sharedDirWorkers;
    this.roundTripMs = await measureRoundTrip(this.req.root);
    this.threads = Math.min(workers.size, scanThreads(this.roundTripMs, isNetworkFs(this.req.root), this.req.concurrency));
    return new FolderLister(workers, this.ctx, this.threads);
  }

  async run(): Promise<WalkOutcome> {
    const snap = this.req.snapshot;
    if (!snap.has('')) snap.set('', pendingRecord());
    const lister = await this.lister();
    // Level by level; live state is one level of folders, never the whole tree.
    const follow = this.req.options.followSymlinks;
    let level: Visit[] = [{ rel: '', chain: follow ? await rootAncestors(this.req.root) : NO_CHAIN }];
    if (this.req.mode !== 'full' && !follow && snap.size > 1) {
      level = await this.knownFolders(lister);
    }
    while (level.length > 0 && !this.cancelled) {
      if (this.req.signal?.aborted) {
        this.cancelled = true;
        break;
      }
      const next: Visit[] = [];
      let complete: boolean;
      if (follow) {
        // Settled in name order, so which of two paths to one folder is walked does not depend
        // on which answer came first: the shallowest, then the first by name, every scan.
        const answers: [Visit, FolderResult, bigint][] = [];
        complete = await lister.listAll(level, (v, result, readStart) => void answers.push([v, result, readStart]));
        answers.sort((a, b) => (a[0].rel < b[0].rel ? -1 : a[0].rel > b[0].rel ? 1 : 0));
        for (const [v, result, readStart] of answers) this.settle(v, result, readStart, next);
      } else {
        complete = await lister.listAll(level, (v, result, readStart) => this.settle(v, result, readStart, next));
      }
      if (!complete) this.cancelled = true;
      level = next;
    }
    // A cancel that came during the last folders' file stats left some of them unknown: not complete.
    if (this.req.signal?.aborted) this.cancelled = true;
    this.req.onProgress?.({ dirs: this.dirsSeen, files: this.filesSeen });
    // Per folder, not per file: the issues and link counts kept with each folder's record.
    const { issues: kept, symlinks } = snapshotProblems(snap);
    return {
      changes: this.changes.result(),
      issues: this.transient.length ? [...this.transient, ...kept] : kept,
      freshIssues: this.freshIssues,
      symlinks,
      fsOps: this.counts,
      dirsRead: this.dirsRead,
      cancelled: this.cancelled,
      threads: this.threads,
      roundTripMs: this.roundTripMs,
    };
  }

  /** The stamp a folder must still have to be trusted without a listing (null: list it). */
  private expectedStamp(rec: DirRecord): DirStamp | null {
    return this.req.mode !== 'full' && !rec.racy ? rec.stamp : null;
  }

  /**
   * Quick, verify and resume scans start here: every folder the snapshot knows, in one pass with
   * no barrier between levels, straight from the snapshot's keys. Unchanged folders are done when
   * their answer comes; the others are then applied parents first, since a parent's new listing
   * may drop a subtree (its answers are ignored) or add folders, which are returned to be walked
   * level by level. Not used when following symlinks: loop detection needs each folder's chain of
   * ancestors, which only the level walk carries.
   */
  private async knownFolders(lister: FolderLister): Promise<Visit[]> {
    const snap = this.req.snapshot;
    const known: Visit[] = [];
    for (const [rel, rec] of snap) known.push({ rel, rec, chain: NO_CHAIN });
    const changed = new Map<string, { result: FolderResult; readStart: bigint }>();
    const complete = await lister.listAll(known, (v, result, readStart) => {
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
    if (!complete) this.cancelled = true;
    const depthOf = (rel: string): number => {
      let d = rel === '' ? 0 : 1;
      for (let at = rel.indexOf('/'); at >= 0; at = rel.indexOf('/', at + 1)) d++;
      return d;
    };
    const order = [...changed.keys()].map((rel) => ({ rel, depth: depthOf(rel) })).sort((a, b) => a.depth - b.depth).map((x) => x.rel);
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

  // ── One folder's result applied to the snapshot ────────────────────────────────────────────

  /** Applies one folder's answer; false when its subfolders are not to be visited (failed, loop, gone). */
  private settle(v: Visit, result: FolderResult, readStart: bigint, next: Visit[]): boolean {
    const snap = this.req.snapshot;
    const rel = v.rel;
    const rec = snap.get(rel);
    if (!rec) return false; // dropped meanwhile
    const entryIssues = result.issues?.map(([name, code, message]) => this.issue(joinRel(rel, name), code, message));
    if (result.stamp instanceof Error) {
      this.dirFailed(rel, rec, result.stamp);
      return false;
    }
    const stamp = result === UNCHANGED && rec.stamp ? rec.stamp : result.stamp;
    let chain = v.chain;
    if (this.req.options.followSymlinks) {
      const skip = this.followedTwice(rel, stamp, chain);
      if (skip) {
        this.skipFolder(rel);
        const skipped = snap.get(rel);
        if (skipped) skipped.issues = [this.issue(rel, skip.code, skip.message)];
        return false;
      }
      chain = [...chain, `${stamp.dev}:${stamp.ino}`];
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
    const { files, subdirs, stats, failures } = this.applyExcludes(rel, listing, result);
    const updated: DirRecord = { stamp, racy: isRacy(stamp, readStart, this.racyWindow), files, subdirs };
    // A folder read anew has the problems of this read only: those of its last read are gone.
    if (entryIssues?.length) updated.issues = entryIssues;
    if (listing.symlinks) updated.symlinks = listing.symlinks;
    this.diffFiles(rel, rec, updated);
    if (stats) this.applyFileStats(rel, updated, stats, failures);
    this.replaceSubdirs(rel, rec, updated);
    snap.set(rel, updated);
    this.progress(updated);
    for (const name of subdirs) next.push({ rel: joinRel(rel, name), chain });
    return true;
  }

  /** Drops excluded files and folders; keeps stats aligned. */
  private applyExcludes(
    rel: string,
    listing: Listing,
    result: FolderResult,
  ): { files: string[]; subdirs: string[]; stats?: FileStats; failures?: FileFailure[] } {
    const filter = this.filter;
    const subdirs = listing.subdirs.filter((name) => !filter.isExcludedDir(joinRel(rel, name)));
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

  /**
   * Following symlinks, why a folder is not walked here: it is one of its own ancestors (a loop,
   * or a link to an ancestor of the root such as `/`), it was walked already by another path (a
   * DAG of links would otherwise be walked once per path: exponentially often), or it is on
   * another file system (`/proc`, another mount) and crossing was not asked for.
   */
  private followedTwice(rel: string, stamp: DirStamp, chain: readonly string[]): { code: string; message: string } | null {
    const key = `${stamp.dev}:${stamp.ino}`;
    if (chain.includes(key)) {
      return { code: 'ELOOP', message: 'symlink loop: this folder is one of its own ancestors (or of the root\'s); not followed' };
    }
    const first = this.visited.get(key);
    if (first !== undefined) {
      return { code: 'EDUPLICATE', message: `the same folder as ${first || 'the root'} (reached by another link); walked once, there` };
    }
    if (rel === '') this.rootDev = stamp.dev;
    else if (this.rootDev !== null && stamp.dev !== this.rootDev && !this.req.options.crossFileSystems) {
      return { code: 'EXDEV', message: 'on another file system than the root; not followed (allow it with --cross-file-systems)' };
    }
    this.visited.set(key, rel);
    return null;
  }

  /**
   * A folder that is not walked stays in the snapshot as an empty, unstamped record, so every scan
   * meets it again and reports it again (an unchanged parent is not re-listed), and walks it
   * once the reason is gone. What was known below it before is removed, counted.
   */
  private skipFolder(rel: string): void {
    const snap = this.req.snapshot;
    const rec = snap.get(rel);
    if (!rec) return;
    if (rec.files.length > 0 || rec.subdirs.length > 0 || rec.stamp !== null) {
      this.changes.addMany(this.changes.removed, rel, rec.files);
      for (const name of rec.subdirs) this.dropSubtree(joinRel(rel, name), true);
      snap.set(rel, pendingRecord());
    }
    this.progress(pendingRecord());
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
    const fileIssues: ScanIssue[] = [];
    for (const [i, code, message] of failures ?? []) {
      if (GONE.has(code)) vanished.add(i);
      else fileIssues.push(this.issue(joinRel(rel, names[i]), code, message));
    }
    if (rec.issues || fileIssues.length) {
      // The files' problems of the last stat give way to this one's; the entries' stay (an entry
      // left out, such as an undecodable name, is not among the files and is not stat-ed again).
      const filePaths = new Set(names.map((name) => joinRel(rel, name)));
      const kept = (rec.issues ?? []).filter((issue) => !filePaths.has(issue.path)).concat(fileIssues);
      if (kept.length) rec.issues = kept;
      else delete rec.issues;
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

  /** A problem found by this walk; the caller keeps it with its folder (or as transient). */
  private issue(rel: string, code: string, message: string): ScanIssue {
    this.freshIssues++;
    return { path: rel, code, message };
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
      this.transient.push(this.issue(rel, code, 'directory vanished during the scan'));
      this.dropSubtree(rel, true);
      return;
    }
    // Keep what we knew (nothing is lost on a transient error) and read it again next time; the
    // problem stays with the folder until a read succeeds.
    rec.stamp = null;
    rec.issues = [this.issue(rel, code, errorMessage(err))];
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

/**
 * dev:ino of the root's real ancestors, as if they were the root's chain: a link to `/` or to a
 * folder above the root is a loop, met at once instead of after walking the whole machine.
 */
async function rootAncestors(root: string): Promise<string[]> {
  const keys: string[] = [];
  let dir: string;
  try {
    dir = await fs.promises.realpath(root);
  } catch {
    return keys; // the root's own read reports why
  }
  for (let up = path.dirname(dir); ; up = path.dirname(up)) {
    try {
      const st = await fs.promises.stat(up, { bigint: true });
      keys.unshift(`${st.dev}:${st.ino}`);
    } catch {
      // an ancestor we may not stat cannot be reached through a link either
    }
    if (up === path.dirname(up)) break;
  }
  return keys;
}

export function walk(req: WalkRequest): Promise<WalkOutcome> {
  return new Walker(req).run();
}
