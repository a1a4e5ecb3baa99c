import * as fs from 'node:fs';
import { canonicalRoot } from './roots';
import { scanDataset, type ScanDatasetRequest, type ScanReport } from './scanDataset';
import type { CachedScan } from './cache/store';
import { diffSnapshot } from './registry/diff';
import { goneFiles } from './fsutil/goneFiles';
import { Registry } from './registry/registry';
import { registryFileFor } from './registerDataset';
import { SqliteBackend, type RegistryReader } from './registry/backend';
import type { TeamRegistrySpec } from './registry/postgres/connect';

export interface GoneRows {
  scan: ScanReport;
  /** Relative paths, registry order, of rows whose file is gone; null when interrupted (scan or check). */
  paths: string[] | null;
}

/**
 * The rows of a registry whose files are no longer on disk, judged against `snapshot` (a scan just
 * run) and confirmed one candidate at a time (goneFiles): a scan with other options than the
 * registration's does not make a present file "gone".
 */
export async function goneRowsIn(registry: RegistryReader, root: string, snapshot: CachedScan['snapshot'], signal?: AbortSignal): Promise<string[] | null> {
  const index = await registry.loadIndex();
  return goneFiles(root, diffSnapshot(snapshot, index).missing, signal);
}

/**
 * Scans now — the cache plus an incremental scan, as `status` does (a cache past its max age is
 * verified, never taken as it is) — then reads the registry read-only for the rows that are gone.
 */
export async function goneRows(req: ScanDatasetRequest & { team?: TeamRegistrySpec }): Promise<GoneRows> {
  const root = await canonicalRoot(req.root);
  if (req.team) {
    const { TeamRegistry } = await import('./registry/postgres/teamRegistry');
    const team = await TeamRegistry.open(req.team, root, { write: false });
    try {
      const { report: scan, cache } = await scanDataset(req);
      if (scan.cancelled) return { scan, paths: null };
      return { scan, paths: await goneRowsIn(team, root, cache.snapshot, req.signal) };
    } finally {
      await team.close();
    }
  }
  const { report: scan, cache } = await scanDataset(req);
  const file = registryFileFor(req.storeDir);
  // An interrupted scan has not seen every folder: its "missing" would be wrong.
  if (scan.cancelled) return { scan, paths: null };
  if (!fs.existsSync(file)) return { scan, paths: [] };
  const { registry } = await Registry.open(file, { readOnly: true });
  try {
    return { scan, paths: await goneRowsIn(new SqliteBackend(registry, registry.findRootId(root)), root, cache.snapshot, req.signal) };
  } finally {
    registry.close();
  }
}
