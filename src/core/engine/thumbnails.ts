/**
 * The thumbnails of the engine worker: one Thumbnailer (cache, queue) per store, sharp and the wasm
 * decode thread loaded here, on the worker's thread — never on the extension host's, where the
 * first native `require('sharp')` alone costs tens of milliseconds and every thumbnail a stat, a
 * cache lookup and queue bookkeeping.
 */
import * as path from 'node:path';
import { closeDecodeThread, Thumbnailer } from '../thumbnails/thumbnailer';
import type { ThumbnailResult } from '../thumbnails/types';

export interface ThumbnailRequest {
  /** The dataset's store: thumbnails live in `<storeDir>/thumbnails`. */
  storeDir: string;
  /** The cache's cap (datasetIndex.thumbnails.maxCacheMB); a new value applies from this request on. */
  maxCacheBytes: number;
  file: string;
  size: number;
  /** The stamp an earlier result carried: an unchanged file is answered `unchanged` after one stat. */
  knownStamp?: string;
}

function checkCap(maxCacheBytes: number): void {
  if (!Number.isSafeInteger(maxCacheBytes) || maxCacheBytes < 1) throw new RangeError(`thumbnail cache cap ${maxCacheBytes} is not a positive integer of bytes`);
}

export class EngineThumbnails {
  private readonly byStore = new Map<string, Thumbnailer>();

  /** One thumbnail (see Thumbnailer.thumbnail: failures are results with a reason; `signal` reaches the queue). */
  thumbnail(req: ThumbnailRequest, signal?: AbortSignal): Promise<ThumbnailResult> {
    return this.thumbnailer(req.storeDir, req.maxCacheBytes).thumbnail(req.file, req.size, signal, req.knownStamp);
  }

  /** The setting changed: the store's cache takes the new cap now (evicting at once when lowered). */
  async setCacheCap(storeDir: string, maxCacheBytes: number): Promise<void> {
    checkCap(maxCacheBytes);
    await this.byStore.get(storeDir)?.cache.setMaxBytes(maxCacheBytes);
  }

  private thumbnailer(storeDir: string, maxCacheBytes: number): Thumbnailer {
    checkCap(maxCacheBytes);
    if (!path.isAbsolute(storeDir)) throw new RangeError(`thumbnail store ${storeDir} is not an absolute path`);
    let t = this.byStore.get(storeDir);
    if (!t) {
      t = new Thumbnailer({ cacheDir: path.join(storeDir, 'thumbnails'), maxCacheBytes });
      this.byStore.set(storeDir, t);
    } else if (t.cache.stats.maxBytes !== maxCacheBytes) {
      // A request with another cap than the cache has: the setting changed (a restarted worker gets it here).
      void t.cache.setMaxBytes(maxCacheBytes).catch(() => undefined);
    }
    return t;
  }

  /** Ends the wasm decode thread; the caches are dropped (the next request opens them again from disk). */
  close(): Promise<void> {
    this.byStore.clear();
    return closeDecodeThread();
  }
}
