import * as fs from 'node:fs';
import xxhash, { type XXHashAPI } from 'xxhash-wasm';
import type { ImageRow } from '../registry/registry';
import { fileKind, READ_NONBLOCK } from '../fsutil/regularFile';
import { FileBytes, type ReadAt } from './formats/fileBytes';
import { inspectImage, type ImageVerdict } from './formats/inspectImage';

let hasher: Promise<XXHashAPI> | undefined;
const getHasher = (): Promise<XXHashAPI> => (hasher ??= xxhash());

const CHUNK = 1 << 20;
/**
 * Unreadable files up to this size are still hashed, so that two copies of one corrupt file are
 * paired when a folder moves; past it the verdict alone is kept and the rest is not read (a 100 GB
 * file with a bad header must not be read in full).
 */
export const UNREADABLE_HASH_LIMIT = 256 << 20;

export interface ProbeScratch {
  buffer: Buffer;
}

export function newScratch(): ProbeScratch {
  return { buffer: Buffer.allocUnsafe(CHUNK) };
}

function unreadable(path: string, reason: string, size: number | null, mtimeMs: number | null, hash: string | null = null): ImageRow {
  return { path, size, mtimeMs, hash, width: null, height: null, format: null, status: 'unreadable', reason, registeredAt: Date.now() };
}

const open = (p: string): Promise<number> => new Promise((res, rej) => fs.open(p, READ_NONBLOCK, (e, fd) => (e ? rej(e) : res(fd))));
const fstat = (fd: number): Promise<fs.Stats> => new Promise((res, rej) => fs.fstat(fd, (e, st) => (e ? rej(e) : res(st))));
const read = (fd: number, buf: Buffer, len: number, position: number | null = null): Promise<number> =>
  new Promise((res, rej) => fs.read(fd, buf, 0, len, position, (e, n) => (e ? rej(e) : res(n))));
const readAt = (fd: number): ReadAt => (buf, len, position) => read(fd, buf, len, position);

/** A probe stopped by its AbortSignal between two reads: no row, the file is read again next time. */
export const CANCELLED_PROBE = null;
export type ProbeResult = (ImageRow & { bytesRead: number }) | typeof CANCELLED_PROBE;
const close = (fd: number): Promise<void> => new Promise((res) => fs.close(fd, () => res()));

/**
 * Reads a file once, start to end: its content hash (xxHash64, streamed) and, from the first chunk
 * plus positional reads of what the format's structure check needs (formats/), its format,
 * dimensions and whether a decoder would read it. Never throws for a bad file: the row says why it
 * is unreadable. Uses the callback fs API (FileHandle adds a promise and bookkeeping per call,
 * measured at about 2× the cost here) and stops at the size fstat reported, so there is no final
 * empty read; a file that grew or shrank meanwhile is caught by comparing the bytes read.
 * An unreadable file is hashed too, unless it is larger than UNREADABLE_HASH_LIMIT: then the read
 * stops after the first chunk. A cancel on `signal` is honoured between chunks (CANCELLED_PROBE:
 * no row), so within a file of any size.
 */
export function probeImage(absPath: string, relPath: string, scratch: ProbeScratch): Promise<ImageRow & { bytesRead: number }>;
export function probeImage(absPath: string, relPath: string, scratch: ProbeScratch, signal: AbortSignal | undefined): Promise<ProbeResult>;
export async function probeImage(absPath: string, relPath: string, scratch: ProbeScratch, signal?: AbortSignal): Promise<ProbeResult> {
  const api = await getHasher();
  let fd: number;
  try {
    fd = await open(absPath);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { ...unreadable(relPath, code === 'ENOENT' ? 'vanished before it could be read (ENOENT)' : `cannot open: ${code}`, null, null), bytesRead: 0 };
  }
  let size: number | null = null;
  let mtimeMs: number | null = null;
  let bytesRead = 0;
  const bad = (reason: string, hash: string | null = null): ImageRow & { bytesRead: number } => ({ ...unreadable(relPath, reason, size, mtimeMs, hash), bytesRead });
  try {
    const st = await fstat(fd);
    size = st.size;
    mtimeMs = st.mtimeMs;
    if (!st.isFile()) return bad(`not a regular file (${fileKind(st)})`);
    if (st.size === 0) return bad('empty file (0 bytes)');
    const hash = api.create64();
    const buf = scratch.buffer;
    let verdict: ImageVerdict | null = null;
    for (;;) {
      if (signal?.aborted) return CANCELLED_PROBE;
      // Ask for one byte more than remains, so a file that grew is noticed without an extra read.
      const want = Math.min(buf.length, st.size - bytesRead + 1);
      const n = await read(fd, buf, want);
      if (n === 0) break;
      const chunk = buf.subarray(0, n);
      hash.update(chunk);
      bytesRead += n;
      if (!verdict) {
        // The check runs before the next read reuses the buffer it reads the head from.
        verdict = await inspectImage(new FileBytes(readAt(fd), st.size, chunk));
        if (verdict.error !== null && st.size > UNREADABLE_HASH_LIMIT) return bad(verdict.error);
      }
      if (bytesRead > st.size || n < want) break;
    }
    const digest = hash.digest().toString(16).padStart(16, '0');
    if (bytesRead !== size) return bad(`file changed while being read (${bytesRead} of ${size} bytes)`);
    if (!verdict) return bad('file changed while being read (no bytes)');
    if (verdict.error !== null) return bad(verdict.error, digest);
    return {
      path: relPath,
      size,
      mtimeMs,
      hash: digest,
      width: verdict.width,
      height: verdict.height,
      format: verdict.format,
      status: 'ok',
      reason: null,
      registeredAt: Date.now(),
      bytesRead,
    };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err));
    return bad(`read failed: ${code}`);
  } finally {
    await close(fd);
  }
}

/**
 * Size, format and dimensions for a tooltip, with the same checks as a registration (so a cut or
 * non-image file shows no format) but no hash.
 */
export async function probeHeader(absPath: string): Promise<{ size: number | null; width: number | null; height: number | null; format: string | null }> {
  let fd: number | undefined;
  try {
    fd = await open(absPath);
    const st = await fstat(fd);
    if (!st.isFile()) return { size: st.size, width: null, height: null, format: null };
    const head = Buffer.alloc(Math.min(st.size, 256 * 1024));
    const n = await read(fd, head, head.length, 0);
    const v = await inspectImage(new FileBytes(readAt(fd), st.size, head.subarray(0, n)));
    return { size: st.size, width: v.width, height: v.height, format: v.format };
  } catch {
    return { size: null, width: null, height: null, format: null };
  } finally {
    if (fd !== undefined) await close(fd);
  }
}
