import type { DirRecord, DirStamp, FileStats, FsOpCounts, ScanOptions, Snapshot } from '../types';

/** A folder to visit. */
export interface Visit {
  rel: string;
  /** Its record, when the caller has it at hand (saves a lookup per folder). */
  rec?: DirRecord;
  /** dev:ino of the directories above, when following symlinks (loop detection). */
  chain: readonly string[];
}

/** A folder's listing, image files and walkable subfolders, before the exclude globs. */
export interface Listing {
  files: string[];
  subdirs: string[];
  /** Followed links to folders: name → dev:ino of the target. */
  links?: [name: string, key: string][];
  /** Image-named symbolic links left out because links are not followed. */
  symlinks?: number;
}

export type FileFailure = [file: number, code: string, message: string];

/** What the disk said of one folder (see listFolders). */
export interface FolderResult {
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
export const UNCHANGED: FolderResult = Object.freeze({ stamp: { mtimeNs: 0n, ctimeNs: 0n, ino: 0n, dev: 0n } });

/** The answer for a folder not done because the scan was cancelled first: never applied. */
export const CANCELLED: FolderResult = Object.freeze({ stamp: Object.freeze(errnoError('ABORT_ERR', 'scan cancelled')) });

/** What a lister needs to know of the walk it serves. */
export interface ListContext {
  readonly snapshot: Snapshot;
  readonly options: ScanOptions;
  /** Verify mode: stat the files too. */
  readonly verify: boolean;
  readonly signal?: AbortSignal;
  /** Every call is counted here. */
  readonly counts: FsOpCounts;
  /** The moment of a read, for the racy check. */
  now(): bigint;
  /** The stamp a folder must still have to be trusted without a listing (null: list it). */
  expectedStamp(rec: DirRecord): DirStamp | null;
  abs(rel: string): string;
}

export function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException | undefined)?.code ?? 'EUNKNOWN';
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function errnoError(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

export function joinRel(dir: string, name: string): string {
  return dir ? `${dir}/${name}` : name;
}

/**
 * Runs `fn` over `items` with at most `limit` at once; on cancel it starts no new ones and
 * resolves false.
 */
export async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  signal: AbortSignal | undefined,
  fn: (item: T, index: number) => Promise<void>,
): Promise<boolean> {
  let next = 0;
  let complete = true;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      if (signal?.aborted) {
        complete = false;
        return;
      }
      const i = next++;
      await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return complete;
}
