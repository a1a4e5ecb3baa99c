import * as fs from 'node:fs';
import type { DecodeThread } from './decodeThread';
import type { Sharp } from './loadSharp';
import { chooseRoute, SNIFF_BYTES } from './sniffFormat';
import { MAX_THUMB_SIZE } from './types';

/** The encoded thumbnail: WebP, at most `size` pixels on its longer side. */
export interface Encoded {
  data: Buffer;
  width: number;
  height: number;
}

/** A failure with the reason the caller shows: no decoder for the format, or the decode failed. */
export class ThumbnailError extends Error {
  constructor(
    readonly reason: 'unsupported' | 'decode-error' | 'unreadable',
    message: string,
  ) {
    super(message);
  }
}

/**
 * WebP at quality 70, effort 2: a 256-px photo in 8–15 KB, a 64-px icon in 1–2 KB, and the encoder
 * effort that costs little beside the decode (effort 4, the default, is ~2× slower for ~5% smaller).
 */
const WEBP = { quality: 70, effort: 2 } as const;

async function readHead(file: string): Promise<Uint8Array> {
  const fh = await fs.promises.open(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new ThumbnailError('unreadable', `${file} is not a regular file`);
    const buf = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await fh.read(buf, 0, SNIFF_BYTES, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/**
 * A thumbnail of `file`, `size` px on its longer side (never enlarged), oriented as the picture is
 * shown (EXIF orientation, HEIF irot/imir). JPEG/PNG/WebP/GIF/TIFF/AVIF are read by sharp from the
 * file, which for JPEG and WebP decodes at 1/2, 1/4 or 1/8 scale directly (shrink-on-load); HEIC and
 * JPEG XL are decoded to RGBA in the wasm thread and resized by sharp.
 */
export async function makeThumbnail(sharp: Sharp, decoder: DecodeThread, file: string, size: number, signal?: AbortSignal): Promise<Encoded> {
  if (!Number.isInteger(size) || size < 1 || size > MAX_THUMB_SIZE) throw new RangeError(`thumbnail size ${size} is not an integer in 1..${MAX_THUMB_SIZE}`);
  let head: Uint8Array;
  try {
    head = await readHead(file);
  } catch (err) {
    if (err instanceof ThumbnailError) throw err;
    throw new ThumbnailError('unreadable', `${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const route = chooseRoute(head);
  if (!route) throw new ThumbnailError('unsupported', `${file}: no decoder here reads this format`);
  signal?.throwIfAborted();
  const resize = { width: size, height: size, fit: 'inside', withoutEnlargement: true } as const;
  try {
    let pipeline;
    if (route === 'sharp') {
      // `failOn: 'error'`: a truncated JPEG shows what it has (grey below), garbage is an error.
      pipeline = sharp(file, { failOn: 'error' }).rotate().resize(resize);
    } else {
      const data = await fs.promises.readFile(file, signal ? { signal } : {});
      const img = await decoder.decode(route === 'heif-wasm' ? 'heif' : 'jxl', data);
      signal?.throwIfAborted();
      pipeline = sharp(img.data, { raw: { width: img.width, height: img.height, channels: 4 } }).resize(resize);
    }
    const { data, info } = await pipeline.webp(WEBP).toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height };
  } catch (err) {
    if (signal?.aborted) throw err;
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new ThumbnailError('decode-error', `${file}: ${why}`);
  }
}
