import * as path from 'node:path';
import { Worker } from 'node:worker_threads';

export interface DecodeRequest {
  id: number;
  kind: 'heif' | 'jxl';
  data: ArrayBuffer;
}

export type DecodeResponse =
  | { id: number; ok: true; width: number; height: number; data: Uint8Array }
  | { id: number; ok: false; message: string };

/** Beside this file: out/src/core/thumbnails/ (tsc) or dist/ (the bundle, built from it by esbuild). */
const WORKER_FILE = path.join(__dirname, 'decodeWorker.js');
/**
 * A decoder that runs this long on one file is stuck (or the file is a decompression bomb). libjxl
 * in wasm takes ~15 s for a 9-MP JPEG XL on a busy 2-core machine here, > 60 s at a load of 30.
 */
const DECODE_TIMEOUT_MS = 180_000;
/** The thread (and the ~10 MB of wasm it holds) ends after this long without work. */
const IDLE_MS = 30_000;

interface Pending {
  resolve(r: { width: number; height: number; data: Uint8Array }): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * One worker thread for the wasm decoders (libheif, libjxl): started on first use, ended when idle,
 * restarted after a crash or a stuck decode. Requests are answered in order, one at a time.
 */
export class DecodeThread {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(private readonly workerFile = WORKER_FILE) {}

  decode(kind: 'heif' | 'jxl', data: Uint8Array): Promise<{ width: number; height: number; data: Uint8Array }> {
    const worker = this.ensureWorker();
    const id = this.nextId++;
    // The file's bytes move to the thread, not copied: the caller read them for this call only.
    // A pooled Buffer is a view into a larger shared block: that one is copied (Buffer#slice would not copy).
    const whole = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer;
    const buf = whole ? (data.buffer) : new Uint8Array(data).buffer;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new Error(`decoding took longer than ${DECODE_TIMEOUT_MS / 1000} s`)), DECODE_TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer });
      const req: DecodeRequest = { id, kind, data: buf };
      worker.postMessage(req, [buf]);
    });
  }

  private ensureWorker(): Worker {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (this.worker) return this.worker;
    const worker = new Worker(this.workerFile);
    worker.unref();
    worker.on('message', (res: DecodeResponse) => {
      const p = this.pending.get(res.id);
      if (!p) return;
      this.pending.delete(res.id);
      clearTimeout(p.timer);
      if (res.ok) p.resolve({ width: res.width, height: res.height, data: res.data });
      else p.reject(new Error(res.message));
      if (this.pending.size === 0) this.scheduleIdle();
    });
    // Only the current thread's end fails the waiting decodes: a thread ended by `fail` (stuck)
    // reports its exit later, when its successor may already have work.
    worker.on('error', (err) => {
      if (this.worker === worker) this.fail(err);
    });
    worker.on('exit', (code) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      if (this.pending.size) this.fail(new Error(`the decode thread exited (code ${code})`));
    });
    this.worker = worker;
    return worker;
  }

  /** Every waiting decode fails with `err`; the thread is replaced on the next request. */
  private fail(err: Error): void {
    const worker = this.worker;
    this.worker = undefined;
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const p of waiting) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    if (worker) void worker.terminate();
  }

  private scheduleIdle(): void {
    this.idleTimer = setTimeout(() => void this.close(), IDLE_MS);
    this.idleTimer.unref();
  }

  async close(): Promise<void> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    const worker = this.worker;
    this.worker = undefined;
    if (worker && this.pending.size) this.fail(new Error('the decode thread was closed'));
    if (worker) await worker.terminate();
  }
}
