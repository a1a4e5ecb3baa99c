import type { Hash64 } from './hash64';
import { loadSharp as loadSharpOnce, type Sharp } from '../thumbnails/loadSharp';

/**
 * sharp is a native module, loaded once for thumbnails and hashes alike: a CLI or extension whose
 * sharp cannot load (another platform's binary) still starts, scans and registers; only the
 * hashes are missing, and the caller says why (PerceptualHashUnavailable).
 */
function loadSharp(): Promise<Sharp> {
  const load = loadSharpOnce();
  return load.ok ? Promise.resolve(load.sharp) : Promise.reject(new Error(load.message));
}

/** sharp could not be loaded at all: no image of this process will get a perceptual hash. */
export class PerceptualHashUnavailable extends Error {}

/** Loads sharp now; throws PerceptualHashUnavailable (with the loader's reason) when it cannot. */
export async function assertPerceptualHashAvailable(): Promise<void> {
  try {
    await loadSharp();
  } catch (err) {
    throw new PerceptualHashUnavailable(`perceptual hashes are off: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
}

/**
 * Two 64-bit perceptual hashes, both from a small grayscale picture of the whole image (aspect
 * ignored, EXIF orientation applied):
 * - dHash: 9×8 pixels; bit = "this pixel is brighter than its right neighbour" (8 per row).
 * - pHash: 32×32 pixels; 2-D DCT-II, the 8×8 lowest frequencies; bit = "above their median".
 * Which one registration stores is PERCEPTUAL_ALGORITHM (chosen by `npm run bench:similar-quality`).
 */
export type PerceptualAlgorithm = 'dhash' | 'phash';

export const PERCEPTUAL_ALGORITHMS: readonly PerceptualAlgorithm[] = ['dhash', 'phash'];

const DHASH_W = 9;
const DHASH_H = 8;
const PHASH_N = 32;
const PHASH_LOW = 8;

export function decodeSize(algorithm: PerceptualAlgorithm): { width: number; height: number } {
  return algorithm === 'dhash' ? { width: DHASH_W, height: DHASH_H } : { width: PHASH_N, height: PHASH_N };
}

/** Bits in reading order: bit 0 is the most significant bit of `hi`. */
function pack(bits: ArrayLike<boolean>): Hash64 {
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < 32; i++) hi = (hi << 1) | (bits[i] ? 1 : 0);
  for (let i = 32; i < 64; i++) lo = (lo << 1) | (bits[i] ? 1 : 0);
  return { hi: hi >>> 0, lo: lo >>> 0 };
}

/** dHash of 9×8 grayscale pixels (row-major). */
export function dHashOf(gray: Uint8Array): Hash64 {
  if (gray.length !== DHASH_W * DHASH_H) throw new Error(`dHash needs ${DHASH_W}×${DHASH_H} pixels, got ${gray.length}`);
  const bits: boolean[] = [];
  for (let y = 0; y < DHASH_H; y++) {
    for (let x = 0; x < DHASH_W - 1; x++) bits.push(gray[y * DHASH_W + x] > gray[y * DHASH_W + x + 1]);
  }
  return pack(bits);
}

/** cos((2x+1)uπ/2N) for the DCT-II, computed once. */
const COS = (() => {
  const t = new Float64Array(PHASH_LOW * PHASH_N);
  for (let u = 0; u < PHASH_LOW; u++) {
    for (let x = 0; x < PHASH_N; x++) t[u * PHASH_N + x] = Math.cos(((2 * x + 1) * u * Math.PI) / (2 * PHASH_N));
  }
  return t;
})();

/**
 * pHash of 32×32 grayscale pixels (row-major). Only the 8×8 low frequencies are computed (rows
 * first, then columns: 32·8·32 + 8·8·32 multiplications, not a full 32×32 transform). The DC term
 * is kept, as imagehash does; scale factors are left out (they change no comparison).
 */
export function pHashOf(gray: Uint8Array): Hash64 {
  if (gray.length !== PHASH_N * PHASH_N) throw new Error(`pHash needs ${PHASH_N}×${PHASH_N} pixels, got ${gray.length}`);
  const rows = new Float64Array(PHASH_N * PHASH_LOW); // [y][v]
  for (let y = 0; y < PHASH_N; y++) {
    for (let v = 0; v < PHASH_LOW; v++) {
      let s = 0;
      for (let x = 0; x < PHASH_N; x++) s += gray[y * PHASH_N + x] * COS[v * PHASH_N + x];
      rows[y * PHASH_LOW + v] = s;
    }
  }
  const low = new Float64Array(PHASH_LOW * PHASH_LOW); // [u][v]
  for (let u = 0; u < PHASH_LOW; u++) {
    for (let v = 0; v < PHASH_LOW; v++) {
      let s = 0;
      for (let y = 0; y < PHASH_N; y++) s += rows[y * PHASH_LOW + v] * COS[u * PHASH_N + y];
      low[u * PHASH_LOW + v] = s;
    }
  }
  const sorted = Float64Array.from(low).sort();
  const median = (sorted[31] + sorted[32]) / 2;
  return pack(Array.from(low, (c) => c > median));
}

export function hashOfPixels(algorithm: PerceptualAlgorithm, gray: Uint8Array): Hash64 {
  return algorithm === 'dhash' ? dHashOf(gray) : pHashOf(gray);
}

/**
 * The small grayscale picture, decoded by sharp (libvips). Shrink-on-load makes a JPEG (and WebP)
 * decode at 1/2–1/8 scale when the target is this small, so the cost is a fraction of a full
 * decode. Transparency is flattened onto white (transparent pixels' colour is arbitrary, white
 * is what viewers show). `failOn: 'none'`: a truncated file still gives what it has, as viewers do;
 * the structure check (formats/) is what decides readability.
 */
export async function decodeGray(input: string | Buffer, width: number, height: number): Promise<Uint8Array> {
  const sharp = await loadSharp();
  const { data, info } = await sharp(input, { failOn: 'none' })
    .rotate()
    .flatten({ background: '#ffffff' })
    .resize(width, height, { fit: 'fill' })
    .grayscale()
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.width !== width || info.height !== height || info.channels !== 1 || data.length !== width * height) {
    throw new Error(`decoded ${info.width}×${info.height}×${info.channels}, expected ${width}×${height}×1`);
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}

/** One image's hash: a file path, or the file's bytes when they are already in memory. */
export async function perceptualHash(input: string | Buffer, algorithm: PerceptualAlgorithm): Promise<Hash64> {
  const { width, height } = decodeSize(algorithm);
  return hashOfPixels(algorithm, await decodeGray(input, width, height));
}
