import * as fs from 'node:fs';
import { assertNotFolder, DatasetError, scanDataset, type ScanDatasetRequest, type ScanReport } from './scanDataset';
import { canonicalRoot } from './roots';
import type { LockHolder } from './registry/lock';
import { openWriteSession } from './registry/writeSession';
import { goneRows, goneRowsIn } from './goneRows';
import { registryFileFor } from './registerDataset';
import { SqliteBackend } from './registry/backend';
import type { TeamRegistrySpec } from './registry/postgres/connect';

export interface PruneRequest extends ScanDatasetRequest {
  /** List what would be removed; write nothing. */
  readonly dryRun?: boolean;
  /** How long to wait for another process holding the registry (ms). Default 10 min. */
  readonly lockWaitMs?: number;
  readonly onLockWait?: (holder: LockHolder | null) => void;
  readonly lockStaleMs?: number;
  /** Prune even when the folder holds no image at all (by default that looks like an unmounted share). */
  readonly allowEmpty?: boolean;
  /** A team registry on PostgreSQL instead of the store's SQLite file. */
  readonly team?: TeamRegistrySpec;
}

export interface PruneReport {
  root: string;
  scan: ScanReport;
  registryFile: string;
  /** Relative paths (registry order) of the rows removed — or, with dryRun, that would be. */
  paths: string[];
  dryRun: boolean;
  /** Interrupted: nothing was written. */
  cancelled: boolean;
  notices: string[];
}

/**
 * Removes the rows of files no longer on disk — only when asked: nothing else ever prunes. "Gone"
 * is decided by a scan run now (incremental, but never a cache taken as it is: scanDataset checks
 * every folder's stamp and verifies a cache past its max age), then confirmed per candidate (see
 * goneFiles). The rows are removed under the registry lock, in one transaction and one atomic
 * save, fenced as register's saves are; interrupted before that save, nothing is written.
 */
export async function pruneDataset(req: PruneRequest): Promise<PruneReport> {
  const root = await canonicalRoot(req.root);
  if (req.team && !req.dryRun) return pruneTeam(req, root, req.team);
  const file = registryFileFor(req.storeDir);
  const notices: string[] = [];
  const say = (notice: string): void => {
    notices.push(notice);
    req.log?.(notice);
  };
  await assertNotFolder(file, 'registry');
  // A share that is not mounted leaves an empty mount point: every row would look gone.
  const emptyRoot = (scan: ScanReport, gone: readonly string[]): string | null =>
    scan.files === 0 && gone.length > 0 && !req.allowEmpty
      ? `${root} holds no image at all now, yet ${gone.length} registered rows are for it — as when a network share is not mounted`
      : null;
  if (req.dryRun) {
    const { scan, paths } = await goneRows(req);
    const empty = emptyRoot(scan, paths ?? []);
    if (empty) say(`${empty}; prune would refuse without --allow-empty`);
    return { root, scan, registryFile: req.team ? 'team registry' : file, paths: paths ?? [], dryRun: true, cancelled: paths === null, notices };
  }
  const { report: scan, cache } = await scanDataset(req);
  const report: PruneReport = { root, scan, registryFile: file, paths: [], dryRun: false, cancelled: scan.cancelled, notices };
  // An interrupted scan has not seen every folder: its "missing" would be wrong.
  if (scan.cancelled || !fs.existsSync(file)) return report;

  const session = await openWriteSession(file, { ...req, command: `prune ${root}`, say });
  const { lock, registry } = session;
  try {
    // Read under the lock: rows registered while this process waited are judged too.
    const gone = await goneRowsIn(new SqliteBackend(registry, registry.findRootId(root)), root, cache.snapshot, req.signal);
    if (gone === null || req.signal?.aborted) {
      report.cancelled = true;
      return report;
    }
    if (gone.length === 0) return report;
    const empty = emptyRoot(scan, gone);
    if (empty) throw new DatasetError(`${empty}. Nothing was pruned; if the folder is really empty now, run prune with --allow-empty`, 'EEMPTY');
    const rootId = registry.findRootId(root) as number;
    registry.remove(rootId, gone);
    // Last chance to stop: past this point the save is atomic, so it lands whole or not at all.
    if (req.signal?.aborted) {
      report.cancelled = true;
      return report;
    }
    lock.assertHeld();
    await registry.save();
    report.paths = gone;
    return report;
  } finally {
    await session.end();
  }
}

function emptyRoot(root: string, scan: ScanReport, gone: readonly string[], allowEmpty: boolean | undefined): string | null {
  return scan.files === 0 && gone.length > 0 && !allowEmpty
    ? `${root} holds no image at all now, yet ${gone.length} registered rows are for it — as when a network share is not mounted`
    : null;
}

/**
 * Prune against a team registry: connected before the scan (an unreachable registry writes
 * nothing), rows of files gone removed in one transaction. Rows registered by others while this
 * scan ran are judged too: the index is read after the scan.
 */
async function pruneTeam(req: PruneRequest, root: string, spec: TeamRegistrySpec): Promise<PruneReport> {
  const { TeamRegistry } = await import('./registry/postgres/teamRegistry');
  const team = await TeamRegistry.open(spec, root, { write: false });
  try {
    const { report: scan, cache } = await scanDataset(req);
    const report: PruneReport = { root, scan, registryFile: team.location, paths: [], dryRun: false, cancelled: scan.cancelled, notices: [] };
    if (scan.cancelled) return report;
    const gone = await goneRowsIn(team, root, cache.snapshot, req.signal);
    if (gone === null || req.signal?.aborted) {
      report.cancelled = true;
      return report;
    }
    if (gone.length === 0) return report;
    const empty = emptyRoot(root, scan, gone, req.allowEmpty);
    if (empty) throw new DatasetError(`${empty}. Nothing was pruned; if the folder is really empty now, run prune with --allow-empty`, 'EEMPTY');
    await team.remove(gone);
    report.paths = gone;
    return report;
  } finally {
    await team.close();
  }
}
