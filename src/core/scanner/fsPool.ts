import type { BigIntStats, Dirent, Stats } from 'node:fs';
import type { FsOpCounts } from '../types';
import type { ScanFileSystem } from './fileSystem';

type Start<T> = (done: (err: NodeJS.ErrnoException | null, value: T) => void) => void;

/**
 * Every file-system call of a scan goes through here: at most `limit` are in flight (no EMFILE, no
 * flood of a network share), and each is counted so a scan's cost is visible on any machine.
 */
export class FsPool {
  readonly counts: FsOpCounts = { readdir: 0, stat: 0 };
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly fs: ScanFileSystem,
    private readonly limit: number,
  ) {
    if (!(limit >= 1)) throw new RangeError(`concurrency must be at least 1, got ${limit}`);
  }

  readdir(path: string): Promise<Dirent[]> {
    this.counts.readdir++;
    return this.call((done) => this.fs.readdir(path, done));
  }

  statDir(path: string): Promise<BigIntStats> {
    this.counts.stat++;
    return this.call((done) => this.fs.statDir(path, done));
  }

  stat(path: string): Promise<Stats> {
    this.counts.stat++;
    return this.call((done) => this.fs.stat(path, done));
  }

  lstat(path: string): Promise<Stats> {
    this.counts.stat++;
    return this.call((done) => this.fs.lstat(path, done));
  }

  private call<T>(start: Start<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const run = (): void => {
        this.active++;
        start((err, value) => {
          this.active--;
          const next = this.waiting.shift();
          if (next) next();
          if (err) reject(err);
          else resolve(value);
        });
      };
      if (this.active < this.limit) run();
      else this.waiting.push(run);
    });
  }
}
