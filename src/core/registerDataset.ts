import * as fs from 'node:fs';
import * as path from 'node:path';
import { assertNotFolder, DatasetError, resolveOptions, scanDataset, type ScanDatasetRequest, type ScanReport } from './scanDataset';
import { cacheFileFor, loadCache, type CachedScan } from './cache/store';
import { diffSnapshot, snapshotHasStats, type DatasetDiff } from './registry/diff';
import { readExternalRegistry, type ExternalPaths, type ExternalRegistrySpec } from './registry/external';
import { externalNotices, summarizeExternal, type ExternalSummary } from './registry/externalMatch';
import type { LockHolder } from './registry/lock';
import { openWriteSession } from './registry/writeSession';
import { canonicalRoot } from './roots';
import { snapshotProblems } from './scanner/snapshot';
import type { DirRecord, ScanIssue } from './types';
import { emptyIndex, Registry, type DuplicateGroup, type RegisteredIndex } from './registry/registry';
import { SqliteBackend, type RegistryReader } from './registry/backend';
import type { TeamRegistrySpec } from './registry/postgres/connect';
import { presentDuplicates } from './registry/presentDuplicates';
import { MoveCandidates } from './register/moveCandidates';
import { registerFiles, type RegisterFilesOutcome, type RegisterProgress } from './register/registerFiles';
import type { Snapshot } from './types';
import { DEFAULT_SIMILAR_DISTANCE } from './similar/defaults';
import { checkDistance } from './similar/hashIndex';
import { RegistrationSimilarity, similarityOff } from './similar/registrationCheck';

export const REGISTRY_FILE = 'registry.sqlite';
export const DEFAULT_REGISTER_CONCURRENCY = 8;

export function registryFileFor(storeDir: string): string {
  return path.join(path.resolve(storeDir), REGISTRY_FILE);
}

export interface DatasetRequest extends ScanDatasetRequest {
  /** Paths listed in another tool's SQLite database count as registered. */
  readonly registeredFrom?: ExternalRegistrySpec;
  /** A team registry on PostgreSQL instead of the store's SQLite file (the scan cache stays in the store). */
  readonly team?: TeamRegistrySpec;
}

export interface RegisterRequest extends DatasetRequest {
  readonly registerConcurrency?: number;
  /** Only these relative paths (a selection in the tree); default: every new or changed image. */
  readonly only?: readonly string[];
  readonly onRegisterProgress?: (p: RegisterProgress) => void;
  /** How long to wait for another process holding the registry (ms). Default 10 min. */
  readonly lockWaitMs?: number;
  readonly onLockWait?: (holder: LockHolder | null) => void;
  /** A lock from another machine (or a PID namespace without OS locks) is stale after this long without heartbeat (ms). */
  readonly lockStaleMs?: number;
  readonly batchWindowMs?: number;
  /** With a team registry: claim lease, claim size, poll interval (tests shorten them). */
  readonly teamOptions?: { leaseMs?: number; claimSize?: number; pollMs?: number };
  /** Compute a perceptual hash per image and check it against the registered ones (default true). */
  readonly perceptualHash?: boolean;
  /** Hamming distance at which a new image counts as similar to a registered one (default DEFAULT_SIMILAR_DISTANCE). */
  readonly similarDistance?: number;
}

export interface StatusCounts {
  new: number;
  changed: number;
  missing: number;
  registered: number;
  unreadable: number;
  /** Of those, with a cause that can pass (EACCES, EIO, …): the next register reads them again. */
  unreadableToRetry: number;
  /** Groups of two or more files on disk with the same content (rows of missing files left out). */
  duplicateGroups: number;
  /** The files in those groups. */
  duplicateFiles: number;
  external: number;
  /** Where the `changed` figure comes from. */
  changedSource: string;
}

export interface StatusReport extends StatusCounts {
  root: string;
  scan: ScanReport | null;
  /** The folders' known problems: the scan's, or without a scan those kept in the cache. */
  errors: ScanIssue[];
  /** Image-named symbolic links not followed (see ScanReport.skippedSymlinks). */
  skippedSymlinks: number;
  cacheAgeMs: number | null;
  registryFile: string;
  notices: string[];
  /** With --registered-from: its rows, how many matched an image, examples of those that did not. */
  externalRegistry?: ExternalSummary;
}

export interface RegisterReport {
  root: string;
  scan: ScanReport;
  before: StatusCounts;
  outcome: RegisterFilesOutcome;
  toRegister: number;
  registryFile: string;
  notices: string[];
  elapsedMs: number;
  externalRegistry?: ExternalSummary;
}

function changedSource(statKnown: number, files: number, lastMode: string | undefined): string {
  if (files === 0) return 'no files';
  if (statKnown >= files) return 'verify scan (every file stat-ed)';
  if (statKnown === 0) return `${lastMode ?? 'quick'} scan: files not stat-ed, in-place edits unknown until a verify scan`;
  return `partial: ${statKnown} of ${files} files stat-ed by a verify scan`;
}

/** `duplicates` as the registry groups them: the rows of files no longer on disk are left out here. */
export function countsOf(diff: DatasetDiff, duplicates: readonly DuplicateGroup[], scanMode: string | undefined, files: number): StatusCounts {
  const present = presentDuplicates(duplicates, diff.missing);
  return {
    new: diff.newFiles.length,
    changed: diff.changed.length,
    missing: diff.missing.length,
    registered: diff.registered,
    unreadable: diff.unreadable,
    unreadableToRetry: diff.retry.length,
    duplicateGroups: present.groups.length,
    duplicateFiles: present.files,
    external: diff.external,
    changedSource: changedSource(diff.statKnown, files, scanMode),
  };
}

export type ExternalRead = ExternalPaths & { file: string };

export async function externalPaths(req: DatasetRequest, root: string): Promise<ExternalRead | undefined> {
  if (!req.registeredFrom) return undefined;
  return { ...(await readExternalRegistry(req.registeredFrom, root)), file: req.registeredFrom.file };
}

/** After the diff, which knows how many external paths name an image: the summary and its notices. */
export function externalSummary(ext: ExternalRead | undefined, matched: number, snapshot: Snapshot, root: string, notices: string[]): ExternalSummary | undefined {
  if (!ext) return undefined;
  const summary = summarizeExternal(ext.file, ext, matched, snapshot);
  notices.push(...externalNotices(summary, root));
  return summary;
}


/** Scan (incremental), diff with the registry, without writing the registry. */
export interface DatasetStatusResult extends StatusReport {
  diff: DatasetDiff;
  duplicates: DuplicateGroup[];
  /** The registry's groups before missing files were cut out: kept to cut them again after file events. */
  registeredDuplicates: DuplicateGroup[];
  cache: CachedScan | null;
  /** The registered rows the diff used: keep it to re-diff after file events without a query. */
  index: RegisteredIndex;
  /** Paths counted as registered through the external registry. */
  externalPaths?: ReadonlySet<string>;
}

/** What a read of a dataset sees: its scan, the registry open read-only, the registered rows. */
export interface DatasetView {
  root: string;
  scan: ScanReport | null;
  cache: CachedScan | null;
  /** The dataset's rows (null: no registry file yet). */
  reader: RegistryReader | null;
  index: RegisteredIndex;
  external?: ExternalRead;
  notices: string[];
  registryFile: string;
}

/** The registry read-only: the team registry (connected before anything else, so a bad URL writes nothing), or the store's file if it exists. */
/** The dataset's registry, read-only (null: no SQLite registry yet); `root` canonical. The caller closes it. */
export async function openReader(req: DatasetRequest, root: string): Promise<RegistryReader | null> {
  if (req.team) {
    const { TeamRegistry } = await import('./registry/postgres/teamRegistry');
    return TeamRegistry.open(req.team, root, { write: false });
  }
  const registryFile = registryFileFor(req.storeDir);
  if (!fs.existsSync(registryFile)) return null;
  const { registry } = await Registry.open(registryFile, { readOnly: true });
  return new SqliteBackend(registry, registry.findRootId(root));
}

/**
 * Scan (incremental, unless `scan: false`), then open the registry read-only and load the
 * root's registered rows. The caller closes `reader`.
 */
export async function openDatasetView(req: DatasetRequest & { scan?: boolean }): Promise<DatasetView> {
  const root = await canonicalRoot(req.root);
  const notices: string[] = [];
  // A team registry that cannot be reached fails here, before the scan writes its cache.
  const early = req.team ? await openReader(req, root) : undefined;
  try {
    return await openDatasetViewWith(req, root, notices, early);
  } catch (err) {
    await early?.close();
    throw err;
  }
}

async function openDatasetViewWith(req: DatasetRequest & { scan?: boolean }, root: string, notices: string[], early: RegistryReader | null | undefined): Promise<DatasetView> {
  // Before the scan: a missing or wrong --registered-from fails in a second, not after an hour.
  const external = await externalPaths(req, root);
  let scan: ScanReport | null = null;
  let cache: CachedScan | null = req.cached ?? null;
  if (req.scan !== false) {
    const res = await scanDataset(req);
    scan = res.report;
    cache = res.cache;
  } else if (!cache) {
    const load = await loadCache(cacheFileFor(req.storeDir, root), root, resolveOptions(root, path.resolve(req.storeDir), req.options));
    if (load.kind === 'hit') cache = load.cache;
    else throw new DatasetError(`no usable scan of ${root} (${load.reason}): run \`dataset-index scan ${root}\` first, or leave out --no-scan`, 'ENOSCAN');
  }
  const reader = early !== undefined ? early : await openReader(req, root);
  try {
    const snapshot: Snapshot = cache?.snapshot ?? new Map<string, DirRecord>();
    const index = reader ? await reader.loadIndex({ withStats: snapshotHasStats(snapshot) }) : emptyIndex();
    return { root, scan, cache, reader, index, external, notices, registryFile: reader?.location ?? registryFileFor(req.storeDir) };
  } catch (err) {
    // The team reader is closed by openDatasetView.
    if (early === undefined) await reader?.close();
    throw err;
  }
}

export async function datasetStatus(req: DatasetRequest & { scan?: boolean }): Promise<DatasetStatusResult> {
  const view = await openDatasetView(req);
  const { root, scan, cache, reader, index, external, notices, registryFile } = view;
  try {
    const snapshot: Snapshot = cache?.snapshot ?? new Map<string, DirRecord>();
    const diff = diffSnapshot(snapshot, index, external?.paths);
    const externalRegistry = externalSummary(external, diff.externalMatched, snapshot, root, notices);
    const registeredDuplicates = (await reader?.duplicateGroups()) ?? [];
    const duplicates = presentDuplicates(registeredDuplicates, diff.missing).groups;
    const files = cache?.header.files ?? 0;
    const mode = scan?.mode ?? cache?.header.lastMode;
    const cacheAgeMs = cache?.header.scannedAt ? Date.now() - cache.header.scannedAt : null;
    const problems = scan ? { issues: scan.errors, symlinks: scan.skippedSymlinks } : snapshotProblems(snapshot);
    return {
      root, scan, errors: problems.issues, skippedSymlinks: problems.symlinks, cacheAgeMs, registryFile, notices, ...countsOf(diff, duplicates, mode, files), diff, duplicates, registeredDuplicates, cache, index, externalPaths: external?.paths,
      externalRegistry,
    };
  } finally {
    await reader?.close();
  }
}

/**
 * The user's question end to end: scan, diff, register what is new or changed. Holds the registry
 * lock from before reading it until the last save, so a second writer waits instead of losing rows.
 */
export async function registerDataset(req: RegisterRequest): Promise<RegisterReport & { cache: CachedScan }> {
  if (req.team) {
    const { registerTeam } = await import('./registry/postgres/registerTeam');
    return registerTeam({ ...req, team: req.team });
  }
  const started = performance.now();
  const similarDistance = req.similarDistance ?? DEFAULT_SIMILAR_DISTANCE;
  checkDistance(similarDistance);
  const root = await canonicalRoot(req.root);
  const notices: string[] = [];
  const external = await externalPaths(req, root);
  const file = registryFileFor(req.storeDir);
  await assertNotFolder(file, 'registry');
  const { report: scan, cache } = await scanDataset(req);
  const say = (notice: string): void => {
    notices.push(notice);
    req.log?.(notice);
  };
  const session = await openWriteSession(file, { ...req, command: `register ${root}`, say });
  const { lock, registry } = session;
  try {
    const rootId = registry.rootId(root);
    const index = registry.loadIndex(rootId, { withStats: snapshotHasStats(cache.snapshot) });
    const diff = diffSnapshot(cache.snapshot, index, external?.paths);
    const externalRegistry = externalSummary(external, diff.externalMatched, cache.snapshot, root, notices);
    const before = countsOf(diff, registry.duplicateGroups(rootId), scan.mode, scan.files);
    let todo = [...diff.newFiles, ...diff.changed, ...diff.retry];
    if (req.only) {
      const wanted = new Set(req.only);
      todo = todo.filter((p) => wanted.has(p));
    }
    req.log?.(
      `register ${root}: ${diff.newFiles.length} new, ${diff.changed.length} changed, ${diff.retry.length} unreadable to retry, ` +
        `${diff.missing.length} missing; registering ${todo.length}`,
    );
    const similarity = req.perceptualHash === false || scan.cancelled || todo.length === 0
      ? similarityOff(req.perceptualHash === false ? 'off (--no-phash or datasetIndex.perceptualHash)' : 'on', similarDistance)
      : await RegistrationSimilarity.open(() => registry.perceptualHashes(rootId), similarDistance);
    if (!(similarity instanceof RegistrationSimilarity) && similarity.state.startsWith('perceptual hashes are off')) say(similarity.state);
    const outcome = scan.cancelled
      ? { registered: 0, unreadable: 0, moved: 0, bytes: 0, saves: 0, cancelled: true, unreadableSamples: [] }
      : await registerFiles({
          root,
          rootId,
          registry,
          files: todo,
          moveCandidates: new MoveCandidates(registry.hashedRowsOf(rootId, diff.missing)),
          concurrency: req.registerConcurrency ?? DEFAULT_REGISTER_CONCURRENCY,
          signal: req.signal,
          onProgress: req.onRegisterProgress,
          batchWindowMs: req.batchWindowMs,
          log: req.log,
          beforeSave: () => lock.assertHeld(),
          similarity: similarity instanceof RegistrationSimilarity ? similarity : undefined,
        });
    outcome.similarity ??= similarity instanceof RegistrationSimilarity ? similarity.outcome : similarity;
    // An older schema migrated at open is written even when nothing was registered.
    if (!outcome.cancelled) {
      lock.assertHeld();
      for (const saved of await registry.saveOpenChanges()) say(saved);
    }
    return { root, scan, before, outcome, toRegister: todo.length, registryFile: file, notices, elapsedMs: performance.now() - started, cache, externalRegistry };
  } finally {
    await session.end();
  }
}
