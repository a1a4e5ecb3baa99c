import type { DirStamp } from '../types';
import {
  FOLDER_CANCELLED, FOLDER_LIST_FAILED, FOLDER_STAT_FAILED, FOLDER_UNCHANGED, type ListRequest, type ListResponse,
} from './listFolders';
import { CANCELLED, errnoError, forEachLimited, UNCHANGED, type FolderResult, type ListContext, type Visit } from './folderResult';
import { STAT_FIELDS } from './fileStats';

/**
 * Devices that gave a listing without entry types, in this process (see
 * ListRequest.untypedDevices). A device number reused by another mount later costs nothing
 * wrong: a listing by name is right on any file system, only slower on one that gives types.
 */
const untypedDevices = new Set<bigint>();

/** Folders per worker message, and files to stat per message in verify mode. */
const BATCH_FOLDERS = 256;
const BATCH_FILES = 4096;

/**
 * Who answers the batches: the worker threads (DirWorkerPool), or for a test's injected file
 * system the same listFolders on this thread (InProcessListing).
 */
export interface ListingThreads {
  /** The most threads it has. */
  readonly size: number;
  /** Folders per batch at most (default BATCH_FOLDERS). */
  readonly batchFolders?: number;
  /** Lists a batch on the least busy of the first `threads` threads. */
  list(req: Omit<ListRequest, 'id'>, transfer: ArrayBuffer[], threads: number): Promise<ListResponse>;
}

/**
 * Lists folders for the walk, a batch per message. With each batch go the stamps the folders
 * should still have; back come their stamps, the listings of the changed ones and, in verify
 * mode, the file stats.
 */
export class FolderLister {
  private readonly extensions: string[];

  constructor(
    private readonly workers: ListingThreads,
    private readonly ctx: ListContext,
    /** Threads to use, each one call in flight (see scanThreads.ts). */
    private readonly threads: number,
  ) {
    this.extensions = [...ctx.options.extensions];
  }

  /**
   * Calls `onResult` once per folder, as answers come in, with the moment taken before its read.
   * Resolves false when cancelled before every folder was answered.
   */
  async listAll(visits: Visit[], onResult: (visit: Visit, result: FolderResult, readStart: bigint) => void): Promise<boolean> {
    // The threads see a cancel through shared memory, even in the middle of a batch.
    const cancel = new Int32Array(new SharedArrayBuffer(4));
    const signal = this.ctx.signal;
    const onAbort = (): void => {
      Atomics.store(cancel, 0, 1);
    };
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort);
    let cut = false;
    try {
      // Two batches per thread in flight: a thread never waits for the main thread to hand it work.
      const complete = await forEachLimited(this.batchesOf(visits), this.threads * 2, signal, async (batch) => {
        const { results, readStart } = await this.listBatch(batch, cancel);
        batch.forEach((v, i) => {
          if (results[i] === CANCELLED) cut = true;
          else onResult(v, results[i], readStart);
        });
      });
      return complete && !cut;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Batches small enough to share among the threads, bounded in files to stat. */
  private batchesOf(visits: Visit[]): Visit[][] {
    const size = Math.max(1, Math.min(this.workers.batchFolders ?? BATCH_FOLDERS, Math.ceil(visits.length / (this.threads * 4))));
    const batches: Visit[][] = [];
    let batch: Visit[] = [];
    let files = 0;
    for (const v of visits) {
      batch.push(v);
      if (this.ctx.verify) files += (v.rec ?? this.ctx.snapshot.get(v.rel))?.files.length ?? 0;
      if (batch.length >= size || files >= BATCH_FILES) {
        batches.push(batch);
        batch = [];
        files = 0;
      }
    }
    if (batch.length) batches.push(batch);
    return batches;
  }

  private async listBatch(batch: Visit[], cancel: Int32Array): Promise<{ results: FolderResult[]; readStart: bigint }> {
    const { ctx } = this;
    const n = batch.length;
    const expect = new BigInt64Array(n * 4);
    const expectMask = new Uint8Array(n);
    const verifyNames: string[] | null = ctx.verify ? new Array<string>(n).fill('') : null;
    batch.forEach((v, i) => {
      const rec = v.rec ?? ctx.snapshot.get(v.rel);
      const stamp = rec && ctx.expectedStamp(rec);
      if (!stamp) return;
      expectMask[i] = 1;
      expect[i * 4] = stamp.mtimeNs;
      expect[i * 4 + 1] = stamp.ctimeNs;
      expect[i * 4 + 2] = stamp.ino;
      expect[i * 4 + 3] = stamp.dev;
      if (verifyNames && rec) verifyNames[i] = rec.files.join('\0');
    });
    const readStart = ctx.now();
    const res = await this.workers.list(
      {
        paths: batch.map((v) => ctx.abs(v.rel)),
        expect,
        expectMask,
        extensions: this.extensions,
        followSymlinks: ctx.options.followSymlinks,
        verifyNames,
        untypedDevices: [...untypedDevices],
        cancel,
      },
      [expect.buffer, expectMask.buffer],
      this.threads,
    );
    ctx.counts.readdir += res.readdirCalls;
    ctx.counts.stat += res.statCalls;
    for (const dev of res.untypedDevices) untypedDevices.add(dev);
    return { results: this.unpack(batch, res), readStart };
  }

  private unpack(batch: Visit[], res: ListResponse): FolderResult[] {
    const verify = this.ctx.verify;
    const out: FolderResult[] = new Array<FolderResult>(batch.length);
    const failed = new Map<number, NodeJS.ErrnoException>();
    for (const [i, code, message] of res.errors) failed.set(i, errnoError(code, message));
    const names = res.names === '' ? [] : res.names.split('\0');
    let k = 0;
    let s = 0;
    for (let i = 0; i < batch.length; i++) {
      const state = res.state[i];
      if (state === FOLDER_CANCELLED) {
        // Skip whatever it had sent, to keep the offsets of the folders after it.
        k += res.counts[i * 2] + res.counts[i * 2 + 1];
        s += res.statCounts[i];
        out[i] = CANCELLED;
        continue;
      }
      if (state === FOLDER_STAT_FAILED) {
        out[i] = { stamp: failed.get(i) as NodeJS.ErrnoException };
        continue;
      }
      if (state === FOLDER_UNCHANGED && !verify) {
        out[i] = UNCHANGED;
        continue;
      }
      // Unchanged means equal to the recorded stamp: keep that object rather than build a new one.
      const known = state === FOLDER_UNCHANGED ? (batch[i].rec ?? this.ctx.snapshot.get(batch[i].rel))?.stamp : null;
      const stamp: DirStamp = known ?? {
        mtimeNs: res.stamps[i * 4], ctimeNs: res.stamps[i * 4 + 1], ino: res.stamps[i * 4 + 2], dev: res.stamps[i * 4 + 3],
      };
      const result: FolderResult = { stamp };
      if (state === FOLDER_LIST_FAILED) {
        result.listing = failed.get(i);
      } else if (state !== FOLDER_UNCHANGED) {
        const nFiles = res.counts[i * 2];
        const nSub = res.counts[i * 2 + 1];
        result.listing = { files: names.slice(k, (k += nFiles)), subdirs: names.slice(k, (k += nSub)) };
        if (res.symlinks[i]) result.listing.symlinks = res.symlinks[i];
      }
      const nStats = res.statCounts[i];
      if (verify && state !== FOLDER_LIST_FAILED) {
        result.stats = res.stats.subarray(s * STAT_FIELDS, (s + nStats) * STAT_FIELDS);
        s += nStats;
      }
      out[i] = result;
    }
    for (const [i, name, key] of res.links) {
      const listing = out[i].listing;
      if (listing && !(listing instanceof Error)) (listing.links ??= []).push([name, key]);
    }
    for (const [i, name, code, message] of res.entryIssues) (out[i].issues ??= []).push([name, code, message]);
    for (const [i, f, code, message] of res.fileErrors) (out[i].fileFailures ??= []).push([f, code, message]);
    return out;
  }
}
