import { externalSummary, openDatasetView, type DatasetRequest } from './registerDataset';
import type { ScanReport } from './scanDataset';
import { hasFileStat, STAT_FIELDS } from './scanner/fileStats';
import type { ImageRow } from './registry/registry';
import { snapshotProblems } from './scanner/snapshot';
import type { DirRecord, ScanIssue, Snapshot } from './types';

/**
 * Each image is listed once, in its most specific state: `unreadable` before `changed` before
 * `registered`, so `registered` means registered, readable and unchanged. Files counted as
 * registered through `--registered-from` are `registered` too (with `source: 'external'`).
 */
export const LIST_STATUSES = ['new', 'changed', 'missing', 'registered', 'unreadable'] as const;
export type ListStatus = (typeof LIST_STATUSES)[number];

/** What is known of a listed image: a scan's stat, or the registry's row. */
export type ListedDetails = Pick<ImageRow, 'size' | 'mtimeMs' | 'hash' | 'width' | 'height' | 'format' | 'reason'> & { source?: 'external' };

export interface ListSink {
  /** `rel` is the path under the root, '/'-separated; details only when the request asked for them. */
  image(rel: string, status: ListStatus, details?: ListedDetails): void;
  /**
   * Awaited between folders and every few thousand images, so a slow reader holds the listing back
   * instead of memory filling up; `final` at the end. The sink decides when to write.
   */
  flush(final?: boolean): Promise<void>;
}

export interface ListRequest extends DatasetRequest {
  readonly statuses: ReadonlySet<ListStatus>;
  /** Sizes, hashes, dimensions: costs one pass over the root's rows in the registry. */
  readonly details?: boolean;
  /** Use the scan cache as it is instead of a quick rescan. */
  readonly scan?: boolean;
}

export interface ListResult {
  root: string;
  scan: ScanReport | null;
  /** The folders' known problems (the scan's, or those kept in the cache): what the list may lack. */
  errors: ScanIssue[];
  skippedSymlinks: number;
  /** Images listed, by state. */
  listed: Record<ListStatus, number>;
  notices: string[];
  cancelled: boolean;
}

const ON_DISK = 1;
const CHANGED = 2;

function fromStat(stats: Float64Array | undefined, k: number): ListedDetails {
  const known = hasFileStat(stats, k);
  return {
    size: known ? stats[k * STAT_FIELDS] : null,
    mtimeMs: known ? stats[k * STAT_FIELDS + 1] : null,
    hash: null, width: null, height: null, format: null, reason: null,
  };
}

function fromRow(row: ImageRow): ListedDetails {
  return { size: row.size, mtimeMs: row.mtimeMs, hash: row.hash, width: row.width, height: row.height, format: row.format, reason: row.reason };
}

/**
 * Streams the images of one dataset in the chosen states: the same set-based comparison as
 * `status`, folder by folder, handing each image to the sink as it is found, so the first line
 * leaves before the last folder is compared and no list of a million paths is ever built. The
 * registry's details, when asked for, come from one ordered pass over the root's rows.
 */
export async function listDataset(req: ListRequest, sink: ListSink): Promise<ListResult> {
  const view = await openDatasetView(req);
  const { root, scan, cache, reader, index, external, notices } = view;
  const listed: Record<ListStatus, number> = { new: 0, changed: 0, missing: 0, registered: 0, unreadable: 0 };
  const want = req.statuses;
  const details = req.details === true;
  // The registry's rows are read in a second pass when their details are wanted.
  const rowsLater = details && reader !== null && (want.has('changed') || want.has('registered') || want.has('unreadable') || want.has('missing'));
  const emit = (rel: string, status: ListStatus, d?: ListedDetails): void => {
    listed[status]++;
    sink.image(rel, status, d);
  };
  let cancelled = scan?.cancelled ?? false;
  const problems = scan ? { issues: scan.errors, symlinks: scan.skippedSymlinks } : snapshotProblems(cache?.snapshot ?? new Map<string, DirRecord>());
  const result = (): ListResult => ({ root, scan, errors: problems.issues, skippedSymlinks: problems.symlinks, listed, notices, cancelled });
  try {
    // An interrupted scan knows only part of the tree: every file it did not reach would be missing.
    if (cancelled) return result();
    const state = new Uint8Array(index.count);
    const snapshot: Snapshot = cache?.snapshot ?? new Map<string, DirRecord>();
    const statsKnown = index.size !== null && index.mtimeMs !== null;
    const externalSet = external?.paths;
    let externalMatched = 0;
    for (const [dir, rec] of snapshot) {
      if (req.signal?.aborted) {
        cancelled = true;
        break;
      }
      const prefix = dir ? `${dir}/` : '';
      const rows = index.byDir.get(dir);
      const { files, stats } = rec;
      for (let k = 0; k < files.length; k++) {
        const i = rows?.get(files[k]);
        if (externalSet && externalSet.has(prefix + files[k])) externalMatched++;
        if (i === undefined) {
          const rel = prefix + files[k];
          if (externalSet?.has(rel)) {
            if (want.has('registered')) emit(rel, 'registered', details ? { ...fromStat(stats, k), source: 'external' } : undefined);
          } else if (want.has('new')) {
            emit(rel, 'new', details ? fromStat(stats, k) : undefined);
          }
          if ((k & 4095) === 4095) await sink.flush();
          continue;
        }
        let flag = ON_DISK;
        if (statsKnown && hasFileStat(stats, k)) {
          const at = k * STAT_FIELDS;
          if (stats[at] !== index.size?.[i] || stats[at + 1] !== index.mtimeMs?.[i]) flag = CHANGED;
        }
        state[i] = flag;
        if (rowsLater) continue;
        const status: ListStatus = index.unreadable[i] ? 'unreadable' : flag === CHANGED ? 'changed' : 'registered';
        if (want.has(status)) emit(prefix + files[k], status);
        if ((k & 4095) === 4095) await sink.flush();
      }
      await sink.flush();
    }
    if (!cancelled && rowsLater && reader) {
      let n = 0;
      for await (const row of reader.rows()) {
        const slash = row.path.lastIndexOf('/');
        const i = index.byDir.get(slash < 0 ? '' : row.path.slice(0, slash))?.get(row.path.slice(slash + 1));
        if (i === undefined) continue;
        const status: ListStatus = state[i] === 0 ? 'missing' : index.unreadable[i] ? 'unreadable' : state[i] === CHANGED ? 'changed' : 'registered';
        if (want.has(status)) emit(row.path, status, fromRow(row));
        if (++n % 4096 === 0) {
          await sink.flush();
          if (req.signal?.aborted) {
            cancelled = true;
            break;
          }
        }
      }
    } else if (!cancelled && want.has('missing')) {
      for (let i = 0; i < index.count; i++) {
        if (state[i] !== 0) continue;
        const dir = index.dirOf[i];
        emit(dir ? `${dir}/${index.nameOf[i]}` : index.nameOf[i], 'missing');
        if (listed.missing % 4096 === 0) await sink.flush();
      }
    }
    await sink.flush(true);
    if (!cancelled) externalSummary(external, externalMatched, snapshot, root, notices);
    return result();
  } finally {
    await reader?.close();
  }
}
