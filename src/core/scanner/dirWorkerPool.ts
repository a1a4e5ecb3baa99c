import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ListRequest, ListResponse } from './listFolders';
import { MAX_SCAN_THREADS } from './scanThreads';
import type { ListingThreads } from './folderLister';

/**
 * The compiled worker sits beside this module: out/src/core/scanner/ under tsc, dist/ in the
 * bundles (esbuild.mjs builds it as an entry point of its own).
 */
const WORKER_FILE = path.join(__dirname, 'dirWorker.js');

/** Idle threads are ended after this, so an idle extension host holds no extra isolates. */
const IDLE_MS = 30_000;

interface Slot {
  worker: Worker;
  pending: Map<number, { resolve: (r: ListResponse) => void; reject: (e: Error) => void }>;
}

export class DirWorkerPool implements ListingThreads {
  private readonly slots: (Slot | null)[];
  private nextId = 1;
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly size: number = MAX_SCAN_THREADS,
    /** The worker's script (tests give one that fails). */
    private readonly workerFile: string = WORKER_FILE,
  ) {
    this.slots = new Array<Slot | null>(size).fill(null);
  }

  /** Lists a batch on the least busy of the first `threads` threads (starting it if needed). */
  list(req: Omit<ListRequest, 'id'>, transfer: ArrayBuffer[] = [], threads = this.size): Promise<ListResponse> {
    if (this.idleTimer) {
      clearTimeout(this.idleTimer);
      this.idleTimer = null;
    }
    let best = 0;
    let bestLoad = Infinity;
    for (let i = 0; i < Math.min(threads, this.slots.length); i++) {
      const load = this.slots[i]?.pending.size ?? 0;
      if (load < bestLoad) {
        best = i;
        bestLoad = load;
      }
    }
    const slot = this.slots[best] ?? this.start(best);
    const id = this.nextId++;
    return new Promise<ListResponse>((resolve, reject) => {
      // Busy, a thread keeps the process alive (or it could exit mid-scan); idle, it must not.
      if (slot.pending.size === 0) slot.worker.ref();
      slot.pending.set(id, { resolve, reject });
      slot.worker.postMessage({ ...req, id }, transfer);
    });
  }

  private start(index: number): Slot {
    const worker = new Worker(this.workerFile);
    const slot: Slot = { worker, pending: new Map() };
    worker.on('message', (res: ListResponse) => {
      const p = slot.pending.get(res.id);
      slot.pending.delete(res.id);
      if (slot.pending.size === 0) {
        worker.unref();
        this.armIdleTimer();
      }
      p?.resolve(res);
    });
    const fail = (err: Error): void => {
      if (this.slots[index] !== slot) return;
      this.slots[index] = null;
      for (const p of slot.pending.values()) p.reject(err);
      slot.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`scan worker exited (${code})`)));
    // After the listeners: attaching a 'message' listener refs the worker again.
    worker.unref();
    this.slots[index] = slot;
    return slot;
  }

  private armIdleTimer(): void {
    if (this.slots.some((s) => s !== null && s.pending.size > 0)) return;
    this.idleTimer = setTimeout(() => void this.close(), IDLE_MS);
    this.idleTimer.unref();
  }

  /** Ends every idle thread (a busy one is left to finish: its scan holds a promise on it). */
  async close(): Promise<void> {
    const ending: Promise<number>[] = [];
    this.slots.forEach((slot, i) => {
      if (!slot || slot.pending.size > 0) return;
      this.slots[i] = null;
      ending.push(slot.worker.terminate());
    });
    await Promise.all(ending);
  }
}

/** One pool per process; its threads start on first use (as many as a scan asks for) and end when idle. */
export const sharedDirWorkers = new DirWorkerPool(MAX_SCAN_THREADS);

/** Ends the shared pool's idle threads now (an extension's deactivate; they also end after 30 s idle). */
export function closeScanThreads(): Promise<void> {
  return sharedDirWorkers.close();
}
