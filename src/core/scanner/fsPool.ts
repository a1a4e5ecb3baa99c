import type { BigIntStats, Dirent, Stats } from 'node:fs';
import type { FsOpCounts } from '../types';
import type { ScanFileSystem } from './fileSystem';

/** Rejection of calls that were still queued when the scan was cancelled. */
export const ABORTED = Object.freeze(Object.assign(new Error('scan cancelled'), { code: 'ABORT_ERR' }));

type Start<T> = (done: (err: NodeJS.ErrnoException | null, value: T) => void) => void;

/**
 * The file-system calls of a scan over an injected file system (the real one is walked on worker
 * threads, see dirWorkerPool.ts) go through here: at most `limit` are in flight (no EMFILE, no
 * flood of a network share), each is counted, and queued calls are rejected on cancel. The walker
 * also keeps the worker threads' counts here, so a scan's cost reads the same either way.
 */
export class FsPool {
  readonly counts: FsOpCounts = { readdir: 0, stat: 0 };
  private active = 0;
  /** FIFO with a moving head: Array#shift on a queue of a million calls would be quadratic. */
  private waiting: (() => void)[] = [];
  private head = 0;

  constructor(
    private readonly fs: ScanFileSystem,
    private readonly limit: number,
    private readonly signal?: AbortSignal,
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
        if (this.signal?.aborted) {
          reject(ABORTED);
          return;
        }
        this.active++;
        start((err, value) => {
          this.active--;
          this.startWaiting();
          if (err) reject(err);
          else resolve(value);
        });
      };
      this.waiting.push(run);
      this.startWaiting();
    });
  }

  /** A loop, not recursion: after a cancel, a million queued calls are rejected without deepening the stack. */
  private startWaiting(): void {
    while (this.active < this.limit && this.head < this.waiting.length) {
      const run = this.waiting[this.head++];
      if (this.head === this.waiting.length) {
        this.waiting = [];
        this.head = 0;
      } else if (this.head >= 4096 && this.head * 2 >= this.waiting.length) {
        this.waiting = this.waiting.slice(this.head);
        this.head = 0;
      }
      run();
    }
  }
}
