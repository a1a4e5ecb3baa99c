import * as fs from 'node:fs';
import { fileKind, READ_NONBLOCK, NotRegularFileError, readRegularFile } from '../fsutil/regularFile';

/**
 * A SQLite database as SQLite itself would read it right now: the main file with the committed
 * frames of its write-ahead log (`FILE-wal`) applied. A pipeline running in WAL mode keeps most
 * recent commits only in the WAL until a checkpoint; reading the main file alone is a silent,
 * stale read. Nothing is ever written: no `-shm`, no checkpoint, no header change on disk.
 *
 * Format: https://www.sqlite.org/fileformat2.html#walformat
 */

const WAL_HEADER = 32;
const FRAME_HEADER = 24;
const WAL_MAGIC_LE = 0x377f0682;
const WAL_MAGIC_BE = 0x377f0683;
const WAL_VERSION = 3007000;

export interface DatabaseImage {
  /** The page image to open in memory (rollback-journal mode: header bytes 18/19 set to 1). */
  image: Buffer;
  /** Committed WAL frames applied (0: no WAL, an empty one, or one with no valid commit). */
  walFrames: number;
}

export interface SnapshotOptions {
  /** Reads of DB and WAL tried before giving up on a file that keeps changing. */
  attempts?: number;
  /** Called between reading the WAL and re-checking it: lets a test move a checkpoint under the read. */
  afterDatabaseRead?: (attempt: number) => void | Promise<void>;
}

export class DatabaseChangingError extends Error {}

/**
 * SQLite's WAL checksum: pairs of 32-bit words, the byte order the magic number names, running
 * sums carried from the header through every frame.
 */
function checksum(buf: Buffer, start: number, end: number, bigEndian: boolean, s: [number, number]): [number, number] {
  let s0 = s[0];
  let s1 = s[1];
  for (let i = start; i < end; i += 8) {
    const x0 = bigEndian ? buf.readUInt32BE(i) : buf.readUInt32LE(i);
    const x1 = bigEndian ? buf.readUInt32BE(i + 4) : buf.readUInt32LE(i + 4);
    s0 = (s0 + x0 + s1) >>> 0;
    s1 = (s1 + x1 + s0) >>> 0;
  }
  return [s0, s1];
}

export interface CommittedWal {
  pageSize: number;
  /** Database size in pages after the last valid commit. */
  dbPages: number;
  /** Page number → offset of its newest committed copy in the WAL buffer. */
  pages: Map<number, number>;
  frames: number;
}

/**
 * The frames SQLite's recovery would accept: a valid header, then frames whose salts match it
 * and whose cumulative checksum holds, up to the last frame that ends a transaction. Anything
 * after the first bad frame — a torn write, garbage, frames left from before a WAL reset (other
 * salts), an uncommitted transaction — is ignored, as SQLite ignores it. Null: no usable WAL.
 */
export function committedFrames(wal: Buffer): CommittedWal | null {
  if (wal.length < WAL_HEADER) return null;
  const magic = wal.readUInt32BE(0);
  if (magic !== WAL_MAGIC_LE && magic !== WAL_MAGIC_BE) return null;
  const bigEndian = magic === WAL_MAGIC_BE;
  // SQLite refuses to open a WAL of another format version rather than ignore it: so do we.
  if (wal.readUInt32BE(4) !== WAL_VERSION) throw new Error(`its write-ahead log has format version ${wal.readUInt32BE(4)}, not ${WAL_VERSION}: not supported`);
  const pageSize = wal.readUInt32BE(8) === 1 ? 65536 : wal.readUInt32BE(8);
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) return null;
  let sum = checksum(wal, 0, 24, bigEndian, [0, 0]);
  if (sum[0] !== wal.readUInt32BE(24) || sum[1] !== wal.readUInt32BE(28)) return null;
  const salt1 = wal.readUInt32BE(16);
  const salt2 = wal.readUInt32BE(20);
  const pages = new Map<number, number>();
  const pending = new Map<number, number>();
  let dbPages = 0;
  let frames = 0;
  let seen = 0;
  for (let at = WAL_HEADER; at + FRAME_HEADER + pageSize <= wal.length; at += FRAME_HEADER + pageSize) {
    const pgno = wal.readUInt32BE(at);
    const commitSize = wal.readUInt32BE(at + 4);
    if (pgno === 0) break;
    if (wal.readUInt32BE(at + 8) !== salt1 || wal.readUInt32BE(at + 12) !== salt2) break;
    sum = checksum(wal, at, at + 8, bigEndian, sum);
    sum = checksum(wal, at + FRAME_HEADER, at + FRAME_HEADER + pageSize, bigEndian, sum);
    if (sum[0] !== wal.readUInt32BE(at + 16) || sum[1] !== wal.readUInt32BE(at + 20)) break;
    seen++;
    pending.set(pgno, at + FRAME_HEADER);
    if (commitSize !== 0) {
      for (const [p, off] of pending) pages.set(p, off);
      pending.clear();
      dbPages = commitSize;
      frames = seen;
    }
  }
  return frames ? { pageSize, dbPages, pages, frames } : null;
}

function dbPageSize(db: Buffer): number {
  const v = db.readUInt16BE(16);
  return v === 1 ? 65536 : v;
}

/** The main file's pages with the committed WAL pages written over them, sized as the last commit says. */
export function applyWal(db: Buffer, wal: Buffer): DatabaseImage {
  const committed = committedFrames(wal);
  let image: Buffer;
  if (committed) {
    if (db.length >= 100 && dbPageSize(db) !== committed.pageSize) {
      throw new Error(`its write-ahead log has pages of ${committed.pageSize} bytes but the database ${dbPageSize(db)}: not a log of this database`);
    }
    const { pageSize, dbPages } = committed;
    image = Buffer.alloc(dbPages * pageSize);
    db.copy(image, 0, 0, Math.min(db.length, image.length));
    for (const [pgno, off] of committed.pages) {
      if (pgno <= dbPages) wal.copy(image, (pgno - 1) * pageSize, off, off + pageSize);
    }
  } else {
    image = Buffer.from(db);
  }
  // Bytes 18/19 = 2 make SQLite look for a WAL and -shm beside the file; in memory there are none.
  if (image.length >= 100) {
    if (image[18] === 2) image[18] = 1;
    if (image[19] === 2) image[19] = 1;
  }
  return { image, walFrames: committed?.frames ?? 0 };
}

async function readIfPresent(file: string): Promise<Buffer | null> {
  try {
    return await readRegularFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** The WAL's header and length, to tell whether it moved (grew, was reset or removed) since it was read. */
async function walMark(file: string): Promise<string> {
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(file, READ_NONBLOCK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw err;
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new NotRegularFileError(file, fileKind(st));
    const head = Buffer.alloc(WAL_HEADER);
    const { bytesRead } = await handle.read(head, 0, WAL_HEADER, 0);
    return `${st.size}:${head.subarray(0, bytesRead).toString('hex')}`;
  } finally {
    await handle.close();
  }
}

function markOf(wal: Buffer | null): string {
  return wal ? `${wal.length}:${wal.subarray(0, WAL_HEADER).toString('hex')}` : 'absent';
}

/**
 * Reads the WAL, then the database, then checks the WAL did not move in between. A checkpoint
 * copying newer frames into the database, or a reset rewriting the WAL, would otherwise mix two
 * states; such a read is retried, and after `attempts` fails loudly rather than returning it.
 */
export async function readDatabaseSnapshot(file: string, opts: SnapshotOptions = {}): Promise<DatabaseImage> {
  const attempts = opts.attempts ?? 5;
  const walFile = `${file}-wal`;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const wal = await readIfPresent(walFile);
    const db = await readRegularFile(file);
    await opts.afterDatabaseRead?.(attempt);
    if ((await walMark(walFile)) !== markOf(wal)) {
      await new Promise((r) => setTimeout(r, 20 * attempt));
      continue;
    }
    if (!wal || wal.length === 0) return applyWal(db, Buffer.alloc(0));
    return applyWal(db, wal);
  }
  throw new DatabaseChangingError(`its write-ahead log ${walFile} changed during each of ${attempts} reads (a busy writer checkpointing); try again`);
}
