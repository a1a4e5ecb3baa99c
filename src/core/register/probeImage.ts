import * as fs from 'node:fs';
import { imageSize } from 'image-size';
import xxhash, { type XXHashAPI } from 'xxhash-wasm';
import type { ImageRow } from '../registry/registry';

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

export interface ProbeScratch {
  buffer: Buffer;
}

export function newScratch(): ProbeScratch {
  return { buffer: Buffer.allocUnsafe(CHUNK) };
}

function unreadable(path: string, reason: string, size: number | null, mtimeMs: number | null): ImageRow {
  return { path, size, mtimeMs, hash: null, width: null, height: null, format: null, status: 'unreadable', reason, registeredAt: Date.now() };
}

/**
 * Reads a file once, start to end: its content hash (xxHash64, streamed) and, from the first bytes,
 * its format and dimensions (image-size, header only). Never throws for a bad file: the row says
 * why it is unreadable.
 */
export async function probeImage(absPath: string, relPath: string, scratch: ProbeScratch): Promise<ImageRow & { bytesRead: number }> {
  const api = await getHasher();
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(absPath, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { ...unreadable(relPath, code === 'ENOENT' ? 'vanished before it could be read (ENOENT)' : `cannot open: ${code}`, null, null), bytesRead: 0 };
  }
  let size: number | null = null;
  let mtimeMs: number | null = null;
  let bytesRead = 0;
  try {
    const st = await handle.stat();
    size = st.size;
    mtimeMs = st.mtimeMs;
    if (!st.isFile()) return { ...unreadable(relPath, 'not a regular file', size, mtimeMs), bytesRead };
    if (st.size === 0) return { ...unreadable(relPath, 'empty file (0 bytes)', size, mtimeMs), bytesRead };
    const hash = api.create64();
    const buf = scratch.buffer;
    let header: Buffer | null = null;
    let dims: { width: number; height: number; type: string } | null = null;
    let headerError = '';
    let tail = Buffer.alloc(0);
    for (;;) {
      const { bytesRead: n } = await handle.read(buf, 0, buf.length, null);
      if (n === 0) break;
      const chunk = buf.subarray(0, n);
      hash.update(chunk);
      bytesRead += n;
      if (!dims && (header === null || header.length < HEADER_LIMIT)) {
        header = header ? Buffer.concat([header, chunk]) : Buffer.from(chunk);
        try {
          const r = imageSize(header);
          if (r.width && r.height && r.type) dims = { width: r.width, height: r.height, type: r.type };
          else headerError = 'no dimensions in header';
        } catch (err) {
          headerError = (err instanceof Error ? err.message : String(err)).replace(/: undefined$/, '');
        }
        if (dims) header = null;
      }
      tail = n >= 1024 ? Buffer.from(chunk.subarray(n - 1024)) : Buffer.concat([tail, chunk]).subarray(-1024);
    }
    if (bytesRead !== size) {
      return { ...unreadable(relPath, `file changed while being read (${bytesRead} of ${size} bytes)`, size, mtimeMs), bytesRead };
    }
    if (!dims) return { ...unreadable(relPath, `not a recognised image: ${headerError}`, size, mtimeMs), bytesRead };
    const problem = trailerProblem(dims.type, tail);
    if (problem) return { ...unreadable(relPath, problem, size, mtimeMs), bytesRead };
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
    return { ...unreadable(relPath, `read failed: ${code}`, size, mtimeMs), bytesRead };
  } finally {
    await handle.close();
  }
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
