import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DirRecord, FileStat, ScanOptions, Snapshot } from '../types';
import { buildFilter } from './filters';
import { appendFileStats, keepFileStats, setFileStat, unknownFileStats } from './fileStats';

export type FileEventKind = 'created' | 'deleted' | 'changed';

export interface FileEvent {
  kind: FileEventKind;
  /** Absolute path. */
  path: string;
}

export interface ApplyEventsOutcome {
  added: string[];
  removed: string[];
  changed: string[];
  /** Set when the events cannot be applied safely and a quick rescan must decide instead. */
  rescanReason: string | null;
}

export const MAX_EVENTS_PER_BATCH = 20_000;

/**
 * Applies watcher events to a snapshot without a rescan. Events are hints: each is checked with
 * one stat (an event may be stale by the time we see it), and anything the snapshot cannot place
 * (a folder it does not know, a deleted folder, a flood of events) asks for a quick rescan instead.
 * Directory stamps are left alone, so the next scan re-reads touched folders and stays correct.
 */
export async function applyFileEvents(
  snapshot: Snapshot,
  root: string,
  options: ScanOptions,
  events: readonly FileEvent[],
): Promise<ApplyEventsOutcome> {
  const out: ApplyEventsOutcome = { added: [], removed: [], changed: [], rescanReason: null };
  if (events.length > MAX_EVENTS_PER_BATCH) {
    out.rescanReason = `${events.length} file events at once`;
    return out;
  }
  const filter = buildFilter(options);
  // Per folder touched, its names → positions, built once per batch (not an indexOf per event).
  const nameIndex = new Map<string, Map<string, number>>();
  const namesOf = (dir: string, rec: DirRecord): Map<string, number> => {
    let m = nameIndex.get(dir);
    if (!m) nameIndex.set(dir, (m = new Map(rec.files.map((n, i) => [n, i]))));
    return m;
  };
  const removedIn = new Set<string>();
  // Stats of files added to folders that carry stats, appended once per folder at the end.
  const addedStats = new Map<DirRecord, FileStat[]>();
  const add = (rec: DirRecord, names: Map<string, number>, name: string, stat: FileStat, rel: string): void => {
    names.set(name, rec.files.length);
    rec.files.push(name);
    if (rec.stats) {
      let list = addedStats.get(rec);
      if (!list) addedStats.set(rec, (list = []));
      list.push(stat);
    }
    out.added.push(rel);
  };
  /** Known folders in which the batch added or removed images: listed once more at the end. */
  const touched = new Set<string>();
  const reconcile = async (dir: string): Promise<void> => {
    const rec = snapshot.get(dir);
    if (!rec) return;
    let entries: fs.Dirent[];
    try {
      entries = await fs.promises.readdir(dir ? path.join(root, ...dir.split('/')) : root, { withFileTypes: true });
    } catch {
      return;
    }
    const names = namesOf(dir, rec);
    const present = new Set<string>();
    for (const e of entries) {
      present.add(e.name);
      if (!e.isFile() || names.has(e.name) || !filter.isImageName(e.name)) continue;
      const rel = dir ? `${dir}/${e.name}` : e.name;
      if (filter.isExcludedFile(rel)) continue;
      let st: fs.Stats;
      try {
        st = await fs.promises.stat(path.join(root, ...rel.split('/')));
      } catch {
        continue;
      }
      if (st.isFile()) add(rec, names, e.name, { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino }, rel);
    }
    for (const name of [...names.keys()]) {
      if (present.has(name)) continue;
      names.delete(name);
      removedIn.add(dir);
      out.removed.push(dir ? `${dir}/${name}` : name);
    }
  };
  const latest = new Map<string, FileEventKind>();
  for (const e of events) latest.set(e.path, e.kind);
  const prefetch = prefetchStats([...latest.keys()].filter((abs) => filter.isImageName(path.basename(abs))));
  for (const [abs, kind] of latest) {
    const rel = path.relative(root, abs).split(path.sep).join('/');
    if (!rel || rel.startsWith('../') || rel === '..' || path.isAbsolute(rel)) continue;
    if (kind === 'deleted' && snapshot.has(rel)) {
      out.rescanReason = `folder ${rel} was deleted`;
      break;
    }
    const slash = rel.lastIndexOf('/');
    const dir = slash < 0 ? '' : rel.slice(0, slash);
    const name = rel.slice(slash + 1);
    const image = filter.isImageName(name);
    const isExcludedDir = (d: string): boolean => filter.isExcludedDir(d);
    // A folder that appeared may never bring events for what is in it: a folder moved in is one
    // event, and files written right after a mkdir can land before the watcher watches the folder.
    // (Image names are checked below, with the stat they get anyway.)
    const appeared = (): boolean => kind !== 'deleted' && !snapshot.has(rel) && !excludedByAncestor(isExcludedDir, rel);
    if (!image && appeared() && (await isFolder(abs, options))) {
      out.rescanReason = `folder ${rel} appeared, a folder the index does not know yet`;
      break;
    }
    if (!image || filter.isExcludedFile(rel) || excludedByAncestor(isExcludedDir, dir)) continue;
    const rec = snapshot.get(dir);
    if (!rec) {
      out.rescanReason = `a file appeared in ${dir || '.'}, a folder the index does not know yet`;
      break;
    }
    const st = await prefetch.statOf(abs);
    if (st?.isDirectory() && appeared() && (await isFolder(abs, options))) {
      out.rescanReason = `folder ${rel} appeared, a folder the index does not know yet`;
      break;
    }
    const names = namesOf(dir, rec);
    const at = names.get(name);
    if (st && st.isFile()) {
      const stat: FileStat = { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino };
      if (at === undefined) {
        add(rec, names, name, stat, rel);
        touched.add(dir);
      } else {
        setFileStat((rec.stats ??= unknownFileStats(rec.files.length)), at, stat);
        if (kind === 'changed') out.changed.push(rel);
      }
    } else if (!st && at !== undefined) {
      names.delete(name);
      removedIn.add(dir);
      touched.add(dir);
      out.removed.push(rel);
    }
  }
  prefetch.stop();
  // Events are hints, and some get lost (a platform watcher under load drops or merges them): each
  // folder where the batch added or removed images is listed once more, and what its events missed
  // is made up from the listing. One readdir per touched folder, not per event.
  if (!out.rescanReason) {
    for (const dir of touched) await reconcile(dir);
  }
  for (const [rec, list] of addedStats) if (rec.stats) rec.stats = appendFileStats(rec.stats, list);
  // Removals are applied once per folder at the end: splicing per event would cost a folder's size each.
  for (const dir of removedIn) {
    const rec = snapshot.get(dir) as DirRecord;
    const keep = new Set(nameIndex.get(dir)?.values());
    if (rec.stats) rec.stats = keepFileStats(rec.stats, rec.files.length, (i) => keep.has(i));
    rec.files = rec.files.filter((_, i) => keep.has(i));
  }
  return out;
}

/** Stats in flight at once: enough to hide each call's round trip, few enough to leave libuv's pool to others. */
const STAT_CONCURRENCY = 16;

/**
 * The `stat` of each path, started at once for all of them (at most STAT_CONCURRENCY in flight) and
 * awaited in the caller's order: a burst of 5,000 files costs 5,000 / 16 round trips, not 5,000.
 * A path not prefetched is stat'ed when asked.
 */
function prefetchStats(paths: readonly string[]): { statOf: (abs: string) => Promise<fs.Stats | null>; stop: () => void } {
  const results = new Map<string, Promise<fs.Stats | null>>();
  const resolvers = new Map<string, (st: fs.Stats | null) => void>();
  for (const p of paths) results.set(p, new Promise((resolve) => resolvers.set(p, resolve)));
  let next = 0;
  let stopped = false;
  const lane = async (): Promise<void> => {
    while (next < paths.length && !stopped) {
      const p = paths[next++];
      resolvers.get(p)?.(await fs.promises.stat(p).catch(() => null));
    }
  };
  for (let k = 0; k < Math.min(STAT_CONCURRENCY, paths.length); k++) void lane();
  return {
    statOf: (abs) => results.get(abs) ?? fs.promises.stat(abs).catch(() => null),
    /** The batch is placed (or given up for a rescan): the paths not stat'ed yet never will be. */
    stop: () => {
      stopped = true;
    },
  };
}

/** Is this path a folder (a link to one counts only when following links)? */
async function isFolder(abs: string, options: ScanOptions): Promise<boolean> {
  try {
    return (await (options.followSymlinks ? fs.promises.stat(abs) : fs.promises.lstat(abs))).isDirectory();
  } catch {
    return false;
  }
}

function excludedByAncestor(isExcludedDir: (rel: string) => boolean, dir: string): boolean {
  for (let d = dir; d; d = d.includes('/') ? d.slice(0, d.lastIndexOf('/')) : '') {
    if (isExcludedDir(d)) return true;
  }
  return false;
}
