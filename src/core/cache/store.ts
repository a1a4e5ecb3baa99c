import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import type { ScanOptions, Snapshot } from '../types';
import { writeFileAtomic } from '../fsutil/atomicWrite';
import { canonicalRootSync } from '../roots';
import {
  decodeCache, decodeHeader, encodeCache, HEADER_LENGTH_OFFSET, HEADER_PREFIX_BYTES, HEADER_REWRITE_OFFSET, rewriteHeader,
  type CacheHeader,
} from './format';

export interface CachedScan {
  header: CacheHeader;
  snapshot: Snapshot;
}

export type CacheLoad =
  | { kind: 'hit'; cache: CachedScan; loadMs: number }
  | { kind: 'miss'; reason: string; loadMs: number; header?: CacheHeader };

/** One cache file per dataset root, so several roots can share a store and be cleared one by one. */
export function cacheFileFor(storeDir: string, root: string): string {
  // Named after the real folder: a symlinked path to it finds the same cache (see canonicalRoot).
  const id = createHash('sha256').update(canonicalRootSync(root)).digest('hex').slice(0, 16);
  return path.join(storeDir, `scan-${id}.dsxcache`);
}

/** What a snapshot depends on besides the disk: a change of any of these invalidates it. */
export function optionsKey(options: ScanOptions): string {
  return JSON.stringify({
    extensions: [...options.extensions].map((e) => e.toLowerCase()).sort(),
    exclude: [...options.exclude].sort(),
    followSymlinks: options.followSymlinks,
    // Only when set, so caches written before the option existed stay valid.
    ...(options.followSymlinks && options.crossFileSystems ? { crossFileSystems: true } : {}),
  });
}

export async function loadCache(file: string, root: string, options: ScanOptions): Promise<CacheLoad> {
  const start = performance.now();
  const elapsed = (): number => performance.now() - start;
  let buf: Buffer;
  try {
    buf = await fs.promises.readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { kind: 'miss', reason: code === 'ENOENT' ? 'no scan cache yet' : `cache unreadable (${code})`, loadMs: elapsed() };
  }
  let cache: CachedScan;
  try {
    cache = decodeCache(buf);
  } catch (err) {
    // Hostile bytes may also surface as a RangeError or TypeError: a corrupt cache all the same.
    const why = err instanceof Error ? err.message : String(err);
    return { kind: 'miss', reason: `cache file is corrupt or truncated: ${why}`, loadMs: elapsed() };
  }
  if (cache.header.root !== canonicalRootSync(root)) {
    return { kind: 'miss', reason: `cache was built for another root (${cache.header.root})`, loadMs: elapsed(), header: cache.header };
  }
  if (cache.header.optionsKey !== optionsKey(options)) {
    return {
      kind: 'miss',
      reason: `scan options changed since the cache was built (was ${cache.header.optionsKey})`,
      loadMs: elapsed(),
      header: cache.header,
    };
  }
  return { kind: 'hit', cache, loadMs: elapsed() };
}

/** The prefix and header bytes of an open cache file (null if the header length is absurd). */
async function readHeaderBytes(handle: fs.promises.FileHandle): Promise<Buffer | null> {
  const prefix = Buffer.alloc(HEADER_PREFIX_BYTES);
  await handle.read(prefix, 0, prefix.length, 0);
  const headLen = prefix.readUInt32LE(HEADER_LENGTH_OFFSET);
  if (headLen > 1 << 20) return null;
  const buf = Buffer.alloc(HEADER_PREFIX_BYTES + headLen);
  await handle.read(buf, 0, buf.length, 0);
  return buf;
}

/** Header only (a few hundred bytes): for a status line that must not load a million names. */
export async function readCacheHeader(file: string): Promise<CacheHeader | null> {
  let handle: fs.promises.FileHandle | undefined;
  try {
    handle = await fs.promises.open(file, 'r');
    const buf = await readHeaderBytes(handle);
    return buf && decodeHeader(buf).header;
  } catch {
    return null;
  } finally {
    await handle?.close();
  }
}

export async function saveCache(file: string, cache: CachedScan): Promise<number> {
  const data = encodeCache(cache.header, cache.snapshot);
  await writeFileAtomic(file, data);
  return data.length;
}

/**
 * Replaces only the header of a cache file whose body is unchanged (a quick scan that found
 * nothing new): a few KB written in place instead of the whole file. Returns false when it cannot
 * (no file, another body, a header that outgrew its slot): the caller then saves the whole cache.
 * A torn write leaves a header whose checksum fails: the next load treats the cache as corrupt
 * and scans fully — slower, never wrong.
 */
export async function saveCacheHeader(file: string, header: CacheHeader): Promise<boolean> {
  let handle: fs.promises.FileHandle | undefined;
  try {
    handle = await fs.promises.open(file, 'r+');
    const current = await readHeaderBytes(handle);
    if (!current) return false;
    const replacement = rewriteHeader(current, header);
    if (!replacement) return false;
    await handle.write(replacement, 0, replacement.length, HEADER_REWRITE_OFFSET);
    await handle.sync();
    return true;
  } catch {
    return false;
  } finally {
    await handle?.close();
  }
}

/** Removes this root's cache (and any checkpoint of it); other roots' caches in the store stay. */
export async function clearCache(storeDir: string, root: string): Promise<boolean> {
  const file = cacheFileFor(storeDir, root);
  try {
    await fs.promises.unlink(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
