import * as fs from 'node:fs';
import { imageSize } from 'image-size';
import xxhash, { type XXHashAPI } from 'xxhash-wasm';
import type { ImageRow } from '../registry/registry';
import { fileKind, READ_NONBLOCK } from '../fsutil/regularFile';

let hasher: Promise<XXHashAPI> | undefined;
const getHasher = (): Promise<XXHashAPI> => (hasher ??= xxhash());

const CHUNK = 1 << 20;
/** Header parsing gives up past this many bytes (a JPEG's size marker can follow large EXIF blocks). */
const HEADER_LIMIT = 4 << 20;

/**
 * What every format must end with: a file cut short by a failed copy still parses its header but
 * not its trailer. Formats without a fixed trailer are not checked.
 */
function trailerProblem(format: string, tail: Buffer): string | null {
  if (format === 'png') {
    const iend = Buffer.from([0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);
    return tail.subarray(tail.length - 8).equals(iend) ? null : 'truncated PNG (no IEND chunk at the end)';
  }
  if (format === 'jpg') {
    // Some writers pad after EOI; look for it near the end.
    for (let i = tail.length - 2; i >= 0; i--) if (tail[i] === 0xff && tail[i + 1] === 0xd9) return null;
    return 'truncated JPEG (no end-of-image marker)';
  }
  if (format === 'gif') return tail[tail.length - 1] === 0x3b ? null : 'truncated GIF (no trailer)';
  return null;
}

const TRAILER_FORMATS = new Set(['png', 'jpg', 'gif']);

export interface ProbeScratch {
  buffer: Buffer;
  /** The last bytes of the file so far, for the trailer check (reused, never reallocated). */
  tail: Buffer;
}

export function newScratch(): ProbeScratch {
  return { buffer: Buffer.allocUnsafe(CHUNK), tail: Buffer.allocUnsafe(TAIL) };
}

const TAIL = 1024;

function unreadable(path: string, reason: string, size: number | null, mtimeMs: number | null): ImageRow {
  return { path, size, mtimeMs, hash: null, width: null, height: null, format: null, status: 'unreadable', reason, registeredAt: Date.now() };
}

type Dims = { width: number; height: number; type: string };

function parseHeader(bytes: Uint8Array): { dims: Dims | null; error: string } {
  try {
    const r = imageSize(bytes);
    if (r.width && r.height && r.type) return { dims: { width: r.width, height: r.height, type: r.type }, error: '' };
    return { dims: null, error: 'no dimensions in header' };
  } catch (err) {
    return { dims: null, error: (err instanceof Error ? err.message : String(err)).replace(/: undefined$/, '') };
  }
}

const open = (p: string): Promise<number> => new Promise((res, rej) => fs.open(p, READ_NONBLOCK, (e, fd) => (e ? rej(e) : res(fd))));
const fstat = (fd: number): Promise<fs.Stats> => new Promise((res, rej) => fs.fstat(fd, (e, st) => (e ? rej(e) : res(st))));
const read = (fd: number, buf: Buffer, len: number, position: number | null = null): Promise<number> =>
  new Promise((res, rej) => fs.read(fd, buf, 0, len, position, (e, n) => (e ? rej(e) : res(n))));

/** A probe stopped by its AbortSignal between two reads: no row, the file is read again next time. */
export const CANCELLED_PROBE = null;
export type ProbeResult = (ImageRow & { bytesRead: number }) | typeof CANCELLED_PROBE;
const close = (fd: number): Promise<void> => new Promise((res) => fs.close(fd, () => res()));

/**
 * Reads a file once, start to end: its content hash (xxHash64, streamed) and, from the first bytes,
 * its format and dimensions (image-size, header only). Never throws for a bad file: the row says
 * why it is unreadable. Uses the callback fs API (FileHandle adds a promise and bookkeeping per
 * call, measured at about 2× the cost here) and stops at the size fstat reported, so there is no
 * final empty read; a file that grew or shrank meanwhile is caught by comparing the bytes read.
 * It stops early where the verdict is known: after a rejected header (at most 4 MiB read), after a
 * wrong trailer (read from the end as soon as the header parsed); and between chunks on `signal`
 * (CANCELLED_PROBE: no row), so a cancel is honoured within a file of any size.
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
  const bad = (reason: string): ImageRow & { bytesRead: number } => ({ ...unreadable(relPath, reason, size, mtimeMs), bytesRead });
  try {
    const st = await fstat(fd);
    size = st.size;
    mtimeMs = st.mtimeMs;
    if (!st.isFile()) return bad(`not a regular file (${fileKind(st)})`);
    if (st.size === 0) return bad('empty file (0 bytes)');
    const hash = api.create64();
    const buf = scratch.buffer;
    const tail = scratch.tail;
    let tailLen = 0;
    let header: Buffer | null = null; // only when a header spans chunks
    let dims: Dims | null = null;
    let headerError = '';
    let headerDone = false;
    for (;;) {
      if (signal?.aborted) return CANCELLED_PROBE;
      // Ask for one byte more than remains, so a file that grew is noticed without an extra read.
      const want = Math.min(buf.length, st.size - bytesRead + 1);
      const n = await read(fd, buf, want);
      if (n === 0) break;
      const chunk = buf.subarray(0, n);
      hash.update(chunk);
      bytesRead += n;
      if (!headerDone) {
        const bytes = header ? (header = Buffer.concat([header, chunk])) : chunk;
        ({ dims, error: headerError } = parseHeader(bytes));
        if (dims || bytes.length >= HEADER_LIMIT || bytesRead >= st.size) headerDone = true;
        else if (!header) header = Buffer.from(chunk);
        if (headerDone) {
          header = null;
          // A rejected header ends the read here: the rest of the file cannot change the verdict.
          if (!dims) return bad(`not a recognised image: ${headerError}`);
          // So does a wrong trailer, read from the end at once: a truncated copy of a big file is
          // found in two reads instead of a hash of all of it.
          const early = bytesRead < st.size ? await trailerAtEnd(fd, dims.type, st.size, tail) : null;
          if (early) return bad(early);
        }
      }
      if (n >= TAIL) {
        chunk.copy(tail, 0, n - TAIL);
        tailLen = TAIL;
      } else {
        const keep = Math.min(tailLen, TAIL - n);
        tail.copy(tail, 0, tailLen - keep, tailLen);
        chunk.copy(tail, keep);
        tailLen = keep + n;
      }
      if (bytesRead > st.size || n < want) break;
    }
    if (bytesRead !== size) return bad(`file changed while being read (${bytesRead} of ${size} bytes)`);
    if (!dims) return bad(`not a recognised image: ${headerError}`);
    const problem = trailerProblem(dims.type, tail.subarray(0, tailLen));
    if (problem) return bad(problem);
    return {
      path: relPath,
      size,
      mtimeMs,
      hash: hash.digest().toString(16).padStart(16, '0'),
      width: dims.width,
      height: dims.height,
      format: dims.type,
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

/** The trailer problem of a file, from its last bytes (a positional read; the stream position stays). */
async function trailerAtEnd(fd: number, format: string, size: number, scratch: Buffer): Promise<string | null> {
  if (!TRAILER_FORMATS.has(format)) return null;
  const len = Math.min(scratch.length, size);
  const n = await read(fd, scratch, len, size - len);
  return trailerProblem(format, scratch.subarray(0, n));
}

/** Size and, from the first 256 KB, format and dimensions: enough for a tooltip, no hash. */
export async function probeHeader(absPath: string): Promise<{ size: number | null; width: number | null; height: number | null; format: string | null }> {
  let handle: fs.promises.FileHandle | undefined;
  try {
    handle = await fs.promises.open(absPath, 'r');
    const st = await handle.stat();
    const buf = Buffer.alloc(Math.min(st.size, 256 * 1024));
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    try {
      const r = imageSize(buf.subarray(0, bytesRead));
      return { size: st.size, width: r.width ?? null, height: r.height ?? null, format: r.type ?? null };
    } catch {
      return { size: st.size, width: null, height: null, format: null };
    }
  } catch {
    return { size: null, width: null, height: null, format: null };
  } finally {
    await handle?.close();
  }
}
