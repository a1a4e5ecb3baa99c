import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { probeHeader } from '../register/probeImage';
import type { GalleryFacts } from './order';

export interface CompleteFactsOptions {
  /** Files read at once. */
  concurrency?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/** Arrays of `count` NaNs for what is needed and not given yet. */
export function emptyFacts(count: number, need: { stat: boolean; dims: boolean }, given: GalleryFacts = {}): GalleryFacts {
  const nan = (): Float64Array => new Float64Array(count).fill(NaN);
  return {
    size: given.size ?? (need.stat ? nan() : undefined),
    mtime: given.mtime ?? (need.stat ? nan() : undefined),
    width: given.width ?? (need.dims ? nan() : undefined),
    height: given.height ?? (need.dims ? nan() : undefined),
  };
}

/**
 * Fills the NaNs of `facts` that the query needs from the disk: a stat per file for sizes and
 * mtimes, a header read (no pixels) for dimensions. What the snapshot and the registry already
 * knew is never read again. Files that cannot be read stay NaN (they sort last and match no range).
 * Returns the number of files read.
 */
export async function completeFacts(root: string, paths: readonly string[], facts: GalleryFacts, options: CompleteFactsOptions = {}): Promise<number> {
  const { size, mtime, width, height } = facts;
  const todo: number[] = [];
  for (let i = 0; i < paths.length; i++) {
    const statMissing = size !== undefined && (Number.isNaN(size[i]) || (mtime !== undefined && Number.isNaN(mtime[i])));
    const dimsMissing = width !== undefined && (Number.isNaN(width[i]) || (height !== undefined && Number.isNaN(height[i])));
    if (statMissing || dimsMissing) todo.push(i);
  }
  const total = todo.length;
  let next = 0;
  let done = 0;
  let lastReport = 0;
  const worker = async (): Promise<void> => {
    while (next < total) {
      options.signal?.throwIfAborted();
      const i = todo[next++];
      const abs = path.join(root, paths[i]);
      if (size && (Number.isNaN(size[i]) || (mtime && Number.isNaN(mtime[i])))) {
        const st = await fsp.stat(abs).catch(() => null);
        if (st) {
          size[i] = st.size;
          if (mtime) mtime[i] = st.mtimeMs;
        }
      }
      if (width && height && (Number.isNaN(width[i]) || Number.isNaN(height[i]))) {
        const h = await probeHeader(abs);
        if (h.width !== null && h.height !== null) {
          width[i] = h.width;
          height[i] = h.height;
        }
      }
      done++;
      const now = Date.now();
      if (options.onProgress && now - lastReport > 250) {
        lastReport = now;
        options.onProgress(done, total);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 16, total)) }, worker));
  options.onProgress?.(done, total);
  return total;
}

/** One visible image's size, mtime and dimensions, read from the disk (a stat and a header read). */
export async function readItemFacts(abs: string): Promise<{ size: number | null; mtime: number | null; width: number | null; height: number | null; format: string | null }> {
  const st = await fsp.stat(abs).catch(() => null);
  if (!st) return { size: null, mtime: null, width: null, height: null, format: null };
  const h = await probeHeader(abs);
  return { size: st.size, mtime: st.mtimeMs, width: h.width, height: h.height, format: h.format };
}
