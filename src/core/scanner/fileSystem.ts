import * as fs from 'node:fs';

/**
 * The scanner's only door to the disk: what listFolders calls, synchronously (it runs on worker
 * threads, where a sync call costs least). Production uses `nodeFileSystem` on the threads; a
 * test may pass a wrapper of it (to freeze a stamp, inject an error, vanish a folder mid-scan),
 * and the same listFolders then runs on the main thread with it (see inProcessListing.ts).
 */
export interface ScanFileSystem {
  /** bigint stat following symlinks: a folder's stamp (ns timestamps), a followed link's target. */
  stat(path: string): fs.BigIntStats;
  /** bigint lstat: an entry the listing could not type. */
  lstat(path: string): fs.BigIntStats;
  /** Plain stat of a file (verify: size, mtimeMs, ino as recorded). */
  statFile(path: string): fs.Stats;
  /** Entries with their types (Node lstat's the ones the OS leaves untyped). */
  readdir(path: string): fs.Dirent[];
  /** Names only (devices that give no entry types). */
  readdirNames(path: string): string[];
  /** Raw names, to find those that are not valid UTF-8. */
  readdirRaw(path: string): Buffer[];
}

export const nodeFileSystem: ScanFileSystem = {
  stat: (path) => fs.statSync(path, { bigint: true }),
  lstat: (path) => fs.lstatSync(path, { bigint: true }),
  statFile: (path) => fs.statSync(path),
  readdir: (path) => fs.readdirSync(path, { withFileTypes: true }),
  readdirNames: (path) => fs.readdirSync(path),
  readdirRaw: (path) => fs.readdirSync(path, { encoding: 'buffer' }),
};
