import type { ScanOptions } from './types';

export const DEFAULT_EXTENSIONS: readonly string[] = [
  'jpg', 'jpeg', 'png', 'gif', 'bmp', 'webp', 'tif', 'tiff', 'heic', 'heif', 'avif', 'jxl',
];

export const DEFAULT_EXCLUDE: readonly string[] = ['**/node_modules/**', '**/.git/**'];

export const DEFAULT_CACHE_MAX_AGE_MS = 24 * 60 * 60 * 1000;

/** Batches in flight when a test's injected file system is listed on the main thread (the threads follow the round trip). */
export const DEFAULT_FS_CONCURRENCY = 16;

export const DEFAULT_SCAN_OPTIONS: ScanOptions = {
  extensions: DEFAULT_EXTENSIONS,
  exclude: DEFAULT_EXCLUDE,
  followSymlinks: false,
};

/** Normalises user input: "JPG, .png" → ["jpg", "png"], sorted and unique. */
export function normaliseExtensions(list: readonly string[]): string[] {
  const out = new Set<string>();
  for (const item of list) {
    for (const part of item.split(',')) {
      const ext = part.trim().replace(/^\*?\./, '').toLowerCase();
      if (ext) out.add(ext);
    }
  }
  return [...out].sort();
}
