/** A directory's identity and version as the file system reports it (all in ns / raw numbers). */
export interface DirStamp {
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
  readonly ino: bigint;
  readonly dev: bigint;
}

/** Size, mtime and inode of one file, taken only by verify scans (and registration). */
export interface FileStat {
  readonly size: number;
  readonly mtimeMs: number;
  readonly ino: number;
}

/**
 * [size, mtimeMs, ino] per file, three numbers each, aligned with a folder's `files`; a NaN size
 * means unknown. One typed array per folder instead of an object per file: a million verified
 * files cost 24 MB, not a million objects for the garbage collector to trace.
 */
export type FileStats = Float64Array;

/**
 * One directory of the snapshot. `stamp === null` means "not read yet" (a pending directory of an
 * interrupted scan, or one whose last read failed): the next scan reads it.
 */
export interface DirRecord {
  stamp: DirStamp | null;
  /** The directory changed within the same timestamp tick as our read: its stamp cannot be trusted. */
  racy: boolean;
  /** Image file names (not paths), in readdir order. */
  files: string[];
  /** Names of the subdirectories that are walked (not excluded). */
  subdirs: string[];
  /** Aligned with `files` when the directory was last verified (see FileStats). */
  stats?: FileStats;
  /**
   * What its last read found wrong (the folder itself, an entry, a file's stat). Kept with the
   * folder, so every later scan that does not re-read it reports them too, until it reads clean.
   */
  issues?: ScanIssue[];
  /** Image-named symbolic links in it, left out because links are not followed. */
  symlinks?: number;
}

/** Relative directory path ('' for the root, POSIX separators) → its record. */
export type Snapshot = Map<string, DirRecord>;

export type ScanMode = 'full' | 'quick' | 'verify' | 'resume';

export interface ScanOptions {
  /** Lower-case extensions without the dot. */
  readonly extensions: readonly string[];
  /** Globs relative to the root, matched against directory and file paths (POSIX). */
  readonly exclude: readonly string[];
  readonly followSymlinks: boolean;
  /** Following symlinks, also walk folders on other file systems than the root's (default: no). */
  readonly crossFileSystems?: boolean;
}

export interface ScanIssue {
  /** Path relative to the root ('' = the root itself). */
  readonly path: string;
  readonly code: string;
  readonly message: string;
}

export interface ScanProgress {
  readonly dirs: number;
  readonly files: number;
}

export interface FsOpCounts {
  readdir: number;
  stat: number;
}

export interface ChangeList {
  /** How many there are in all. */
  count: number;
  /** The first `sampleLimit` of them (relative POSIX paths). */
  sample: string[];
}

export interface ScanChanges {
  readonly added: ChangeList;
  readonly removed: ChangeList;
  readonly modified: ChangeList;
}
