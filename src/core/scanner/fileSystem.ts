import * as fs from 'node:fs';

/**
 * The scanner's only door to the disk. Production code uses `nodeFileSystem`; tests may wrap it to
 * inject an error or freeze a timestamp at this boundary while every call still reaches the real disk.
 */
export interface ScanFileSystem {
  readdir(path: string, cb: (err: NodeJS.ErrnoException | null, entries: fs.Dirent[]) => void): void;
  /** bigint stat, following symlinks (directory stamps need ns timestamps). */
  statDir(path: string, cb: (err: NodeJS.ErrnoException | null, stats: fs.BigIntStats) => void): void;
  /** Plain stat, following symlinks (per-file metadata). */
  stat(path: string, cb: (err: NodeJS.ErrnoException | null, stats: fs.Stats) => void): void;
  lstat(path: string, cb: (err: NodeJS.ErrnoException | null, stats: fs.Stats) => void): void;
}

export const nodeFileSystem: ScanFileSystem = {
  readdir: (path, cb) => fs.readdir(path, { withFileTypes: true }, cb),
  statDir: (path, cb) => fs.stat(path, { bigint: true }, cb),
  stat: (path, cb) => fs.stat(path, cb),
  lstat: (path, cb) => fs.lstat(path, cb),
};
