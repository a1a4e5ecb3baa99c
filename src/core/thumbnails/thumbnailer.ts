import * as fs from 'node:fs';
import { DecodeThread } from './decodeThread';
import { loadSharp } from './loadSharp';
import { makeThumbnail, ThumbnailError } from './makeThumbnail';
import { entryName, ThumbnailCache } from './thumbnailCache';
import { GONE_STAMP, MAX_THUMB_SIZE, stampKey, type ContentStamp, type ThumbnailResult } from './types';
import { CancelledError, WorkQueue } from './workQueue';

export interface ThumbnailerOptions {
  /** Where the thumbnails live: `<store>/thumbnails`. */
  cacheDir: string;
  maxCacheBytes: number;
  /** Thumbnails made at once (each may use libvips' threads). */
  concurrency?: number;
  /** Told once, the first time sharp is found missing; thumbnails are then failures with reason `no-sharp`. */
  notice?: (message: string) => void;
}

/** The shared wasm thread: one per process, whatever the number of caches. */
let sharedDecoder: DecodeThread | undefined;

/**
 * Thumbnails on demand: content stamp → cache → (miss) bounded queue → decode, resize, encode →
 * atomic write. Everything is asynchronous; the CPU work runs on libuv's threads (sharp) or the
 * decode worker thread (wasm), never on the caller's.
 */
export class Thumbnailer {
  readonly cache: ThumbnailCache;
  readonly queue: WorkQueue<ThumbnailResult>;
  private noticeGiven = false;

  constructor(private readonly options: ThumbnailerOptions) {
    this.cache = new ThumbnailCache(options.cacheDir, options.maxCacheBytes);
    this.queue = new WorkQueue(options.concurrency ?? 2);
  }

  /**
   * The thumbnail of `file` at `size` px, made if need be. Never throws for the file's sake: a
   * format with no decoder, a corrupt file, sharp missing, a cancel are results with a reason.
   * With `knownStamp` (a stamp an earlier result carried) and the file unchanged since, the answer
   * is `unchanged` after one stat: no cache lookup, no decode (a failure is not tried again).
   */
  async thumbnail(file: string, size: number, signal?: AbortSignal, knownStamp?: string): Promise<ThumbnailResult> {
    if (!Number.isInteger(size) || size < 1 || size > MAX_THUMB_SIZE) throw new RangeError(`thumbnail size ${size} is not an integer in 1..${MAX_THUMB_SIZE}`);
    const sharp = loadSharp();
    if (!sharp.ok) {
      if (!this.noticeGiven) {
        this.noticeGiven = true;
        this.options.notice?.(`Thumbnails are off, icons are shown instead: ${sharp.message}`);
      }
      return { ok: false, reason: 'no-sharp', message: sharp.message };
    }
    let stamp: ContentStamp;
    let key: string;
    try {
      const st = await fs.promises.stat(file, { bigint: true });
      stamp = { dev: st.dev, ino: st.ino, size: st.size, mtimeNs: st.mtimeNs };
      key = stampKey(stamp);
      if (key === knownStamp) return { ok: false, reason: 'unchanged', message: 'unchanged', stamp: key };
      if (!st.isFile()) return { ok: false, reason: 'unreadable', message: `${file} is not a regular file`, stamp: key };
    } catch (err) {
      if (knownStamp === GONE_STAMP) return { ok: false, reason: 'unchanged', message: 'unchanged', stamp: GONE_STAMP };
      return { ok: false, reason: 'unreadable', message: err instanceof Error ? err.message : String(err), stamp: GONE_STAMP };
    }
    const name = entryName(stamp, size);
    const hit = await this.cache.get(name);
    if (hit) return { ok: true, ...hit, cached: true, stamp: key };
    try {
      return await this.queue.run(
        name,
        async (jobSignal) => {
          const made = await makeThumbnail(sharp.sharp, this.decoder(), file, size, jobSignal);
          const out = await this.cache.put(name, made.data);
          return { ok: true, file: out, width: made.width, height: made.height, bytes: made.data.byteLength, cached: false, stamp: key };
        },
        signal,
      );
    } catch (err) {
      if (err instanceof ThumbnailError) return { ok: false, reason: err.reason, message: err.message, stamp: key };
      if (err instanceof CancelledError || signal?.aborted) return { ok: false, reason: 'cancelled', message: 'cancelled', stamp: key };
      return { ok: false, reason: 'decode-error', message: err instanceof Error ? err.message : String(err), stamp: key };
    }
  }

  private decoder(): DecodeThread {
    sharedDecoder ??= new DecodeThread();
    return sharedDecoder;
  }
}

/** Ends the wasm decode thread (it also ends by itself when idle). */
export function closeDecodeThread(): Promise<void> {
  const d = sharedDecoder;
  sharedDecoder = undefined;
  return d ? d.close() : Promise.resolve();
}
