import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { checkDistance } from './hashIndex';

/** What the thread is given: `count` hashes as halves, and the distance. */
export interface GroupsRequest {
  hi: Uint32Array;
  lo: Uint32Array;
  count: number;
  distance: number;
}

/**
 * Groups as two flat arrays (no array per group crosses the thread): group g is
 * `ids[starts[g] .. starts[g + 1])`, ids ascending within a group, groups largest first.
 */
export interface FlatGroups {
  ids: Uint32Array;
  starts: Uint32Array;
}

export type GroupsResponse = ({ ok: true } & FlatGroups) | { ok: false; message: string };

/** Threads started, for tests and benchmarks (a computation reused from the cache starts none). */
export const groupsThreadStats = { started: 0 };

/** Beside this file: out/src/core/similar/ (tsc) or dist/ (the bundle, built from it by esbuild). */
const WORKER_FILE = path.join(__dirname, 'similarGroupsWorker.js');

/**
 * Every near-duplicate group of a set of hashes, in a thread of its own (which builds the index and
 * unites on slice threads, sliceThreads.ts): at a million hashes and k = 10 the union-find over the
 * band tables runs for seconds, and the engine worker must keep answering the tree and the gallery
 * meanwhile. Aborting ends the thread and the slice threads it started (the loops have no await to
 * check a signal at), so a cancelled computation stops at once.
 */
export function groupsInThread(req: GroupsRequest, signal?: AbortSignal, workerFile = WORKER_FILE): Promise<FlatGroups> {
  if (signal?.aborted) return Promise.reject(abortError());
  return new Promise<FlatGroups>((resolve, reject) => {
    // Inside the executor: a bad distance rejects, as every other failure does.
    checkDistance(req.distance);
    const worker = new Worker(workerFile);
    groupsThreadStats.started++;
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      fn();
      void worker.terminate();
    };
    const onAbort = (): void => settle(() => reject(abortError()));
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (res: GroupsResponse) => settle(() => (res.ok ? resolve({ ids: res.ids, starts: res.starts }) : reject(new Error(res.message)))));
    worker.on('error', (err) => settle(() => reject(err)));
    worker.on('exit', (code) => settle(() => reject(new Error(`the near-duplicate groups thread exited (code ${code})`))));
    worker.postMessage(req);
  });
}

function abortError(): Error {
  const err = new Error('near-duplicate groups cancelled');
  err.name = 'AbortError';
  return err;
}
