import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { errnoCode, writeFileAtomic } from '../fsutil/atomicWrite';
import type { ContentStamp } from './types';
import { WEBP_HEADER_BYTES, webpDimensions } from './webpHeader';

/** Bumped when the encoding changes (size rule, quality): old entries are then never hit, and age out. */
const FORMAT_VERSION = 1;
/** A hit rewrites the entry's mtime (its last use, read back at the next start) at most this often. */
const TOUCH_EVERY_MS = 10 * 60_000;
const ENTRY_BODY = /[0-9a-f]{32}-\d{1,3}\.webp/;
const ENTRY_NAME = new RegExp(`^${ENTRY_BODY.source}$`);
/** Temp files of our atomic writes (`.<name>.<24 hex>.tmp`). */
const TEMP_NAME = new RegExp(`^\\.${ENTRY_BODY.source}\\.[0-9a-f]{24}\\.tmp$`);
/** A writer renames its temp file within milliseconds; one this old was left by a killed process. */
const TEMP_MAX_AGE_MS = 10 * 60_000;

/** Temp files that killed writers left (written without an OS lock, so judged by age). */
async function removeOldTempFiles(subdir: string, names: string[]): Promise<void> {
  const now = Date.now();
  await Promise.all(
    names.filter((n) => TEMP_NAME.test(n)).map(async (n) => {
      const p = path.join(subdir, n);
      const st = await fs.promises.lstat(p).catch(() => null);
      if (st?.isFile() && now - st.mtimeMs > TEMP_MAX_AGE_MS) await fs.promises.rm(p, { force: true }).catch(() => undefined);
    }),
  );
}
const SUBDIR = /^[0-9a-f]{2}$/;

interface Entry {
  bytes: number;
  /** Last use (ms), as last written to the file's mtime or kept in memory since. */
  used: number;
  touched: number;
}

export interface CachedThumb {
  file: string;
  width: number;
  height: number;
  bytes: number;
}

/** The cache key of one original at one size: its content stamp, never its path (a moved file keeps its thumbnail). */
export function entryName(stamp: ContentStamp, size: number): string {
  const key = createHash('sha1').update(`v${FORMAT_VERSION}:${stamp.dev}:${stamp.ino}:${stamp.size}:${stamp.mtimeNs}`).digest('hex').slice(0, 32);
  return `${key.slice(0, 2)}/${key}-${size}.webp`;
}

/**
 * Thumbnails on disk under `dir`, 256 sub-folders by the key's first byte, capped at `maxBytes` in
 * total with least-recently-used eviction. The recency of each entry is its file's mtime (rewritten on
 * use, at most every 10 minutes), so no index file can go stale or be torn; what is kept in memory is
 * one small record per entry, and the cap bounds how many entries there are. Entries are written
 * atomically (never seen half-written); one that reads wrong (cut short by a power failure, a disk
 * fault) is removed and made again.
 */
export class ThumbnailCache {
  private readonly entries = new Map<string, Entry>();
  private total = 0;
  private opening: Promise<void> | undefined;

  constructor(
    readonly dir: string,
    private maxBytes: number,
  ) {}

  setMaxBytes(maxBytes: number): Promise<void> {
    this.maxBytes = maxBytes;
    return this.evict();
  }

  /** Entries and bytes this process counts (for tests and the log). */
  get stats(): { entries: number; bytes: number; maxBytes: number } {
    return { entries: this.entries.size, bytes: this.total, maxBytes: this.maxBytes };
  }

  /** Reads what is on disk once: each entry's size and last use, oldest first; temp files of killed writers removed. */
  open(): Promise<void> {
    this.opening ??= (async () => {
      await fs.promises.mkdir(this.dir, { recursive: true });
      const found: [string, Entry][] = [];
      for (const sub of await fs.promises.readdir(this.dir)) {
        if (!SUBDIR.test(sub)) continue;
        const subdir = path.join(this.dir, sub);
        const names = await fs.promises.readdir(subdir).catch(() => [] as string[]);
        await removeOldTempFiles(subdir, names);
        const stats = await Promise.all(
          names.filter((n) => ENTRY_NAME.test(n)).map(async (n) => [n, await fs.promises.stat(path.join(subdir, n)).catch(() => null)] as const),
        );
        for (const [n, st] of stats) if (st?.isFile()) found.push([`${sub}/${n}`, { bytes: st.size, used: st.mtimeMs, touched: st.mtimeMs }]);
      }
      found.sort((a, b) => a[1].used - b[1].used);
      for (const [name, e] of found) this.add(name, e);
      await this.evict();
    })();
    return this.opening;
  }

  /** The entry, checked whole, or null (never made, evicted, or removed because it read wrong). */
  async get(name: string): Promise<CachedThumb | null> {
    await this.open();
    const file = path.join(this.dir, name);
    let fh: fs.promises.FileHandle;
    try {
      fh = await fs.promises.open(file, 'r');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') this.drop(name);
      return null;
    }
    let dims: { width: number; height: number } | null;
    let bytes: number;
    try {
      bytes = (await fh.stat()).size;
      const head = Buffer.alloc(WEBP_HEADER_BYTES);
      const { bytesRead } = await fh.read(head, 0, WEBP_HEADER_BYTES, 0);
      dims = webpDimensions(head.subarray(0, bytesRead), bytes);
    } finally {
      await fh.close();
    }
    if (!dims) {
      await this.remove(name);
      return null;
    }
    const now = Date.now();
    // Another process (the CLI, a second window) may have made it: adopt it.
    const entry = this.entries.get(name) ?? { bytes, used: now, touched: now };
    this.drop(name);
    entry.used = now;
    this.add(name, entry);
    if (now - entry.touched > TOUCH_EVERY_MS) {
      entry.touched = now;
      await fs.promises.utimes(file, now / 1000, now / 1000).catch(() => undefined);
    }
    return { file, ...dims, bytes };
  }

  /** Writes an entry atomically, then evicts the least recently used ones beyond the cap. */
  async put(name: string, data: Uint8Array): Promise<string> {
    await this.open();
    const file = path.join(this.dir, name);
    await fs.promises.mkdir(path.dirname(file), { recursive: true });
    // Atomic, not durable: a thumbnail lost or cut short by a power failure is caught by the length
    // check in `get` and made again; two fsyncs and a flock(1) child per thumbnail would cost more
    // than making it (and the child is started synchronously, on the caller's thread).
    await writeFileAtomic(file, data, { durable: false, osLock: false });
    const now = Date.now();
    this.drop(name);
    this.add(name, { bytes: data.byteLength, used: now, touched: now });
    await this.evict();
    return file;
  }

  async remove(name: string): Promise<void> {
    this.drop(name);
    await fs.promises.rm(path.join(this.dir, name), { force: true }).catch(() => undefined);
  }

  private add(name: string, e: Entry): void {
    this.entries.set(name, e);
    this.total += e.bytes;
  }

  private drop(name: string): void {
    const e = this.entries.get(name);
    if (!e) return;
    this.entries.delete(name);
    this.total -= e.bytes;
  }

  /** Oldest first (the Map keeps use order) until the total is at most 90% of the cap. */
  private async evict(): Promise<void> {
    if (this.total <= this.maxBytes) return;
    const target = this.maxBytes * 0.9;
    const victims: string[] = [];
    for (const [name, e] of this.entries) {
      if (this.total <= target) break;
      victims.push(name);
      this.total -= e.bytes;
    }
    for (const name of victims) this.entries.delete(name);
    await Promise.all(victims.map((n) => fs.promises.rm(path.join(this.dir, n), { force: true }).catch(() => undefined)));
  }
}
