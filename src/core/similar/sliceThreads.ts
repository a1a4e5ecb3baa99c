import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { bandRadii, checkDistance, flatten, GROUP_SLICE, unite, type HashIndex } from './hashIndex';
import type { GroupSliceJob, GroupSliceResult } from './similarGroupsWorker';

/** Beside this file in out/ (tsc) and in dist/ (the bundles). */
const WORKER_FILE = path.join(__dirname, 'similarGroupsWorker.js');
/** Below this many distinct hashes, starting threads costs more than it saves. */
const MIN_PARALLEL = 50_000;

export interface GroupThreadsOptions {
  /** Default: the cores this process may use, at most 8. */
  threads?: number;
  signal?: AbortSignal;
}

/**
 * HashIndex.groups on several threads: each takes (band, slice of buckets) units from a shared
 * counter and unites what it finds in its own union-find; the band tables are shared memory, so
 * nothing is copied but each thread's parent array. The groups are the same as `groups(k)`'s.
 */
export async function groupsOnThreads(index: HashIndex, k: number, options: GroupThreadsOptions = {}): Promise<number[][]> {
  checkDistance(k);
  const threads = Math.max(1, Math.min(options.threads ?? availableParallelism(), 8));
  if (threads === 1 || index.distinct < MIN_PARALLEL || !existsSync(WORKER_FILE)) return index.groups(k);
  options.signal?.throwIfAborted();
  const next = new Int32Array(new SharedArrayBuffer(4));
  const job: GroupSliceJob = { bands: index.bands, radii: bandRadii(k), k, distinct: index.distinct, next, slice: GROUP_SLICE };
  const workers: Worker[] = [];
  let abort = (): void => undefined;
  const aborted = new Promise<never>((_, reject) => {
    abort = () => reject(options.signal?.reason instanceof Error ? options.signal.reason : new Error('near-duplicate groups: aborted'));
  });
  options.signal?.addEventListener('abort', abort);
  try {
    const results = await Promise.race([
      aborted,
      Promise.all(
        Array.from({ length: threads }, () =>
          new Promise<Int32Array>((resolve, reject) => {
            const worker = new Worker(WORKER_FILE, { workerData: job });
            workers.push(worker);
            worker.once('message', (r: GroupSliceResult) => resolve(new Int32Array(r.parent)));
            worker.once('error', reject);
            worker.once('exit', (code) => reject(new Error(`a near-duplicate group thread stopped (exit ${code})`)));
          }),
        ),
      ),
    ]);
    const parent = index.singletons();
    for (const theirs of results) {
      for (let u = 0; u < theirs.length; u++) if (theirs[u] !== u) unite(parent, u, theirs[u]);
    }
    flatten(parent);
    return index.components(parent);
  } finally {
    options.signal?.removeEventListener('abort', abort);
    for (const w of workers) void w.terminate();
  }
}
