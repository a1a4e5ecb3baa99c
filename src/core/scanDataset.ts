import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ChangeList, DirRecord, FsOpCounts, ScanIssue, ScanMode, ScanOptions, ScanProgress, Snapshot } from './types';
import { DEFAULT_CACHE_MAX_AGE_MS, DEFAULT_SCAN_OPTIONS, normaliseExtensions } from './defaults';
import { cacheFileFor, clearCache, loadCache, optionsKey, saveCache, saveCacheHeader, type CachedScan } from './cache/store';
import { chooseScanMode } from './scanner/scanMode';
import { Checkpointer } from './scanner/checkpointer';
import { describeCause, removeStaleTempFiles } from './fsutil/atomicWrite';
import type { CacheHeader } from './cache/format';
import type { ScanFileSystem } from './scanner/fileSystem';
import { walk } from './scanner/walk';
import type { DirWorkerPool } from './scanner/dirWorkerPool';
import { countSnapshot } from './scanner/snapshot';
import { TOOL_VERSION } from './version';
import { canonicalRoot } from './roots';
import { fsTypeOf } from './fsutil/mountType';
import { DEFAULT_RACY_WINDOW_NS, racyWindowFor } from './scanner/stamp';

export interface ScanDatasetRequest {
  readonly root: string;
  /** Where the cache lives (the extension's workspace storage, or the CLI's per-folder cache dir). */
  readonly storeDir: string;
  readonly options?: Partial<ScanOptions>;
  /** Walk everything even when a valid cache exists. */
  readonly forceRescan?: boolean;
  /** Stat every file to catch in-place modifications. */
  readonly verify?: boolean;
  /** Delete this root's cache before scanning. */
  readonly clearCache?: boolean;
  /** Older than this since the last full or verify scan → the next scan verifies. */
  readonly maxAgeMs?: number;
  /** A cache already in memory (a running extension): skips the load from disk. */
  readonly cached?: CachedScan;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: ScanProgress & { mode: ScanMode }) => void;
  readonly log?: (line: string) => void;
  /** At most this many file-system calls in flight (--fs-concurrency); by default the round trip decides. */
  readonly concurrency?: number;
  /** How many paths of each kind of change to keep in the report (all are counted). */
  readonly changeSampleLimit?: number;
  /** Tests only: never set by the CLI or the extension. */
  readonly hooks?: ScanTestHooks;
}

/** What tests change in a scan, apart from what a user may choose. */
export interface ScanTestHooks {
  /** A file system to list through (freeze a stamp, inject an error), on the main thread. */
  readonly fs?: ScanFileSystem;
  /** The clock of a folder's read, for the racy rule (a test steps past the window). */
  readonly now?: () => bigint;
  readonly racyWindowNs?: bigint;
  readonly checkpointIntervalMs?: number;
  /** The worker threads (a test gives a pool whose thread fails). */
  readonly workers?: DirWorkerPool;
}

export interface ScanReport {
  root: string;
  mode: ScanMode;
  /** Why this mode was chosen (e.g. "cache older than 24 h", "no scan cache yet"). */
  reason: string;
  files: number;
  dirs: number;
  /** Directories whose listing was read (the rest were confirmed by a stat). */
  dirsRead: number;
  added: ChangeList;
  removed: ChangeList;
  modified: ChangeList;
  /**
   * Every folder's known problems: found by this scan, or kept from the scan that last read a
   * folder this one did not re-read (they stay until the folder reads clean).
   */
  errors: ScanIssue[];
  /** Image-named symbolic links left out because links are not followed (--follow-symlinks follows them). */
  skippedSymlinks: number;
  elapsedMs: number;
  cacheLoadMs: number;
  cacheSaveMs: number;
  cacheBytes: number;
  fsOps: FsOpCounts;
  /** Threads that listed folders (each one call in flight), chosen by the round trip below. */
  threads: number;
  /** One metadata call's round trip to the dataset's file system, measured as the scan started (ms; null: not measured). */
  roundTripMs: number | null;
  /** Age of the cache when the scan started (since its last complete scan); null when there was none. */
  cacheAgeMs: number | null;
  checkpoints: number;
  cancelled: boolean;
  cacheFile: string;
}

export interface ScanDatasetResult {
  report: ScanReport;
  /** The updated cache, to keep in memory for the next scan. */
  cache: CachedScan;
}

export class DatasetError extends Error {
  constructor(
    message: string,
    readonly code: 'ENOROOT' | 'ENOTDIR' | 'ESTORE' | 'ENOSCAN' | 'ENOROWS' | 'EEMPTY',
  ) {
    super(message);
  }
}

export function resolveOptions(root: string, storeDir: string, partial?: Partial<ScanOptions>): ScanOptions {
  const exclude = [...(partial?.exclude ?? DEFAULT_SCAN_OPTIONS.exclude)];
  const storeRel = path.relative(root, storeDir).split(path.sep).join('/');
  if (storeRel && !storeRel.startsWith('..') && !path.isAbsolute(storeRel)) exclude.push(`${storeRel}/**`);
  return {
    extensions: normaliseExtensions(partial?.extensions ?? DEFAULT_SCAN_OPTIONS.extensions),
    exclude,
    followSymlinks: partial?.followSymlinks ?? DEFAULT_SCAN_OPTIONS.followSymlinks,
    ...(partial?.crossFileSystems ? { crossFileSystems: true } : {}),
  };
}

async function checkRoot(root: string): Promise<void> {
  let st: fs.Stats;
  try {
    st = await fs.promises.stat(root);
  } catch (err) {
    throw new DatasetError(`folder not found: ${root} (${(err as NodeJS.ErrnoException).code})`, 'ENOROOT');
  }
  if (!st.isDirectory()) throw new DatasetError(`not a folder: ${root}`, 'ENOTDIR');
}

async function prepareStore(storeDir: string): Promise<void> {
  try {
    await fs.promises.mkdir(storeDir, { recursive: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new DatasetError(`the store is not a directory: ${storeDir}`, 'ESTORE');
    throw new DatasetError(`cannot create the store ${storeDir}: ${describeCause(err)}`, 'ESTORE');
  }
  try {
    await fs.promises.access(storeDir, fs.constants.W_OK);
  } catch (err) {
    throw new DatasetError(`the store is not writable: ${storeDir} (${describeCause(err)})`, 'ESTORE');
  }
}

/**
 * A folder where one of the store's files belongs would fail the save at the very end of a long
 * scan or registration: refused before any work, with what to do.
 */
export async function assertNotFolder(file: string, what: string): Promise<void> {
  const st = await fs.promises.lstat(file).catch(() => null);
  if (st?.isDirectory()) throw new DatasetError(`the ${what} ${file} is a folder, not a file: move it away and run again`, 'ESTORE');
}

/** The names cacheFileFor gives: their temp files are ours to clean up. */
const CACHE_FILE_PATTERN = /scan-[0-9a-f]{16}\.dsxcache/;

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

interface Prepared {
  root: string;
  storeDir: string;
  options: ScanOptions;
  file: string;
  cached: CachedScan | null;
  /** Why there is no cache to use (when `cached` is null). */
  missReason: string;
  cacheLoadMs: number;
}

/** Checks the root and the store, removes leftovers of an interrupted save, loads the cache. */
async function prepare(req: ScanDatasetRequest, log: (line: string) => void): Promise<Prepared> {
  const root = await canonicalRoot(req.root);
  const storeDir = path.resolve(req.storeDir);
  await checkRoot(root);
  await prepareStore(storeDir);
  const options = resolveOptions(root, storeDir, req.options);
  const file = cacheFileFor(storeDir, root);
  await assertNotFolder(file, 'scan cache');

  if (req.clearCache && (await clearCache(storeDir, root))) log(`cleared scan cache ${file}`);
  const leftovers = await removeStaleTempFiles(storeDir, CACHE_FILE_PATTERN);
  if (leftovers.removed) log(`removed ${leftovers.removed} temp file(s) of an interrupted cache save (${Math.round(leftovers.bytes / 1e6)} MB)`);

  if (req.cached && !req.clearCache && req.cached.header.root === root && req.cached.header.optionsKey === optionsKey(options)) {
    return { root, storeDir, options, file, cached: req.cached, missReason: '', cacheLoadMs: 0 };
  }
  const load = await loadCache(file, root, options);
  return load.kind === 'hit'
    ? { root, storeDir, options, file, cached: load.cache, missReason: '', cacheLoadMs: load.loadMs }
    : { root, storeDir, options, file, cached: null, missReason: load.reason, cacheLoadMs: load.loadMs };
}

/**
 * Scans one dataset root with its cache: prepares (root, store, cache), chooses the cheapest safe
 * mode (scanMode.ts), walks (walk.ts) while a Checkpointer saves the snapshot, and saves the cache
 * at the end (atomically).
 */
export async function scanDataset(req: ScanDatasetRequest): Promise<ScanDatasetResult> {
  const started = performance.now();
  const log = req.log ?? ((): void => undefined);
  const hooks = req.hooks ?? {};
  const { root, options, file, cached, missReason, cacheLoadMs } = await prepare(req, log);
  const header = cached?.header;
  const { mode, reason, validatedAt, cacheAgeMs } = chooseScanMode(
    cached,
    missReason,
    { forceRescan: req.forceRescan, verify: req.verify, clearCache: req.clearCache, maxAgeMs: req.maxAgeMs ?? DEFAULT_CACHE_MAX_AGE_MS },
    Date.now(),
  );
  log(`scan ${root}: ${mode} (${reason})`);
  const fsType = fsTypeOf(root);
  const racyWindowNs = hooks.racyWindowNs ?? racyWindowFor(fsType);
  if (racyWindowNs > DEFAULT_RACY_WINDOW_NS && hooks.racyWindowNs === undefined) {
    log(`${fsType} is served by another machine whose clock may differ: folders changed within ${racyWindowNs / 1_000_000_000n} s are read again next scan`);
  }

  const snapshot: Snapshot = cached?.snapshot ?? new Map<string, DirRecord>();
  const baseHeader: CacheHeader = {
    root,
    optionsKey: optionsKey(options),
    toolVersion: TOOL_VERSION,
    complete: false,
    scannedAt: header?.scannedAt ?? 0,
    verifiedAt: header?.verifiedAt ?? 0,
    savedAt: 0,
    lastMode: header?.lastMode ?? mode,
    lastDurationMs: header?.lastDurationMs ?? 0,
    dirs: 0,
    files: 0,
  };

  const checkpointer = new Checkpointer(file, baseHeader, snapshot, hooks.checkpointIntervalMs ?? 15_000, log);
  let outcome;
  try {
    outcome = await walk({
      root,
      options,
      mode,
      snapshot,
      concurrency: req.concurrency,
      signal: req.signal,
      onProgress: req.onProgress && ((p) => req.onProgress?.({ ...p, mode })),
      changeSampleLimit: req.changeSampleLimit,
      racyWindowNs,
      now: hooks.now,
      fs: hooks.fs,
      workers: hooks.workers,
    });
  } catch (err) {
    // The walk itself failed (a worker thread died, the store vanished): what it learnt so far is
    // a consistent tree; keep it as a checkpoint, and the next scan resumes from there.
    await checkpointer.stop();
    checkpointer.save();
    await checkpointer.stop();
    throw err;
  }
  await checkpointer.stop();
  const checkpoints = checkpointer.saved;

  const counts = countSnapshot(snapshot);
  const finishedAt = Date.now();
  const elapsedWalk = performance.now() - started;
  const complete = !outcome.cancelled;
  const finalHeader: CacheHeader = complete
    ? {
        ...baseHeader,
        complete: true,
        scannedAt: finishedAt,
        verifiedAt: mode === 'verify' || mode === 'full' || validatedAt === 0 ? finishedAt : validatedAt,
        savedAt: finishedAt,
        lastMode: mode,
        lastDurationMs: Math.round(elapsedWalk),
        ...counts,
      }
    : { ...baseHeader, complete: false, savedAt: finishedAt, ...counts };
  const cache: CachedScan = { header: finalHeader, snapshot };
  const saveStart = performance.now();
  // Nothing read, nothing changed, nothing new learnt: the body on disk is still right; only the
  // header's times move (a few KB instead of re-encoding every name).
  const unchanged =
    complete &&
    mode === 'quick' &&
    header?.complete === true &&
    outcome.dirsRead === 0 &&
    outcome.freshIssues === 0 &&
    outcome.changes.added.count + outcome.changes.removed.count + outcome.changes.modified.count === 0;
  const headerOnly = unchanged && (await saveCacheHeader(file, finalHeader));
  let cacheBytes: number;
  try {
    cacheBytes = headerOnly ? (await fs.promises.stat(file)).size : await saveCache(file, cache);
  } catch (err) {
    const kept = checkpoints > 0 ? 'its last checkpoint is kept and the next scan resumes from it' : 'the cache on disk is as before';
    throw new DatasetError(`the scan finished but its cache could not be saved — ${errorText(err)}; ${kept}`, 'ESTORE');
  }
  const cacheSaveMs = performance.now() - saveStart;
  if (outcome.cancelled) log(`scan cancelled; checkpoint saved (${counts.dirs} dirs, ${counts.files} files)`);
  for (const issue of outcome.issues) log(`  ${issue.code} ${issue.path || '.'}: ${issue.message}`);

  const report: ScanReport = {
    root,
    mode,
    reason,
    files: counts.files,
    dirs: counts.dirs,
    dirsRead: outcome.dirsRead,
    added: outcome.changes.added,
    removed: outcome.changes.removed,
    modified: outcome.changes.modified,
    errors: outcome.issues,
    skippedSymlinks: outcome.symlinks,
    elapsedMs: performance.now() - started,
    cacheLoadMs,
    cacheSaveMs,
    cacheBytes,
    fsOps: outcome.fsOps,
    threads: outcome.threads,
    roundTripMs: outcome.roundTripMs,
    cacheAgeMs,
    checkpoints,
    cancelled: outcome.cancelled,
    cacheFile: file,
  };
  if (outcome.roundTripMs !== null) log(`  listed on ${outcome.threads} threads (round trip ${outcome.roundTripMs.toFixed(3)} ms)`);
  log(
    `scan ${root}: ${mode} done in ${Math.round(report.elapsedMs)} ms; ${counts.files} files in ${counts.dirs} dirs; ` +
      `${report.dirsRead} dirs read; readdir ${report.fsOps.readdir}, stat ${report.fsOps.stat}; ` +
      `+${report.added.count} -${report.removed.count} ~${report.modified.count}; ${report.errors.length} errors` +
      (report.skippedSymlinks ? `; ${report.skippedSymlinks} symlinked images not followed` : ''),
  );
  return { report, cache };
}
