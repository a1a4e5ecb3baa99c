/**
 * Real images for the registration benchmark, generated once and cached on disk.
 *
 * Encoding with jpeg-js is slow, so a few dozen distinct base images (PNG via pngjs, JPEG via
 * jpeg-js, widths 64–640 plus a few ~1–2 MB ones) are encoded once and every file is written as a
 * base plus a unique comment: a PNG tEXt chunk just before IEND, or a JPEG COM segment right after
 * SOI. Every file therefore has its own content hash and is still a valid image.
 *
 * Layout: <os.tmpdir()>/dataset-index-regbench-<N>/data/part_XX/set_Y/img_NNNNNN.{png,jpg}
 * (200 leaf folders). `marker.json` is written last and lists every file with its size; a
 * directory without a matching marker is deleted and regenerated.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import * as jpeg from 'jpeg-js';
import { crc32 } from 'node:zlib';

/** Bump when the generated content or layout changes: old caches are then rebuilt. */
const GEN_VERSION = 4;
const PARTS = 20;
const SETS_PER_PART = 10;
export const IMAGE_FOLDERS = PARTS * SETS_PER_PART;
/** Share of files copied from the large (~1–2 MB) bases. */
const LARGE_SHARE = 0.01;
/** Share of PNG among the other files (the rest are JPEG). */
const PNG_SHARE = 0.3;

export interface ImageFile {
  /** Relative to `root`, POSIX separators. */
  rel: string;
  size: number;
}

export interface ImageSet {
  base: string;
  root: string;
  files: ImageFile[];
  totalBytes: number;
  png: number;
  jpeg: number;
  folders: number;
  reused: boolean;
  generateMs: number;
}

interface Marker {
  version: number;
  n: number;
  totalBytes: number;
  files: [string, number][];
}

interface Base {
  kind: 'png' | 'jpg';
  data: Buffer;
  width: number;
  height: number;
  large: boolean;
}

/** Small deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Photo-ish RGBA pixels: smooth gradients and waves plus some noise (controls the encoded size). */
function pixels(width: number, height: number, seed: number, noise: number): Buffer {
  const rand = rng(seed);
  const buf = Buffer.alloc(width * height * 4);
  const fx = 2 + rand() * 10;
  const fy = 2 + rand() * 10;
  const phase = rand() * Math.PI * 2;
  const tint = [rand(), rand(), rand()];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const u = x / width;
      const v = y / height;
      const wave = Math.sin(u * fx + phase) * Math.cos(v * fy - phase);
      const o = (y * width + x) * 4;
      for (let c = 0; c < 3; c++) {
        const base = 128 + 90 * wave * (c === 1 ? -1 : 1) + 60 * (tint[c] * u - (1 - tint[c]) * v);
        const val = base + (rand() - 0.5) * 2 * noise;
        buf[o + c] = val < 0 ? 0 : val > 255 ? 255 : val;
      }
      buf[o + 3] = 255;
    }
  }
  return buf;
}

function encodePng(width: number, height: number, seed: number, noise: number): Buffer {
  const png = new PNG({ width, height });
  png.data = pixels(width, height, seed, noise);
  return PNG.sync.write(png, { colorType: 2 });
}

function encodeJpeg(width: number, height: number, seed: number, noise: number, quality: number): Buffer {
  return jpeg.encode({ width, height, data: pixels(width, height, seed, noise) }, quality).data;
}

function makeBases(log: (line: string) => void): Base[] {
  const rand = rng(12345);
  const bases: Base[] = [];
  const aspects = [0.75, 1, 4 / 3, 0.5625, 1.5];
  // 48 small/medium bases, half PNG, half JPEG, widths 64–640 (more small than large ones).
  for (let i = 0; i < 48; i++) {
    const width = Math.round(64 + (640 - 64) * ((i >> 1) / 23) ** 2);
    const height = Math.max(48, Math.round(width * aspects[i % aspects.length]));
    const kind = i % 2 ? 'jpg' : 'png';
    const data = kind === 'png'
      ? encodePng(width, height, 1000 + i, 0.5 + rand() * 2)
      : encodeJpeg(width, height, 1000 + i, 8 + rand() * 16, 80 + Math.round(rand() * 12));
    bases.push({ kind, data, width, height, large: false });
  }
  // 4 large ones: ~1–2 MB each.
  const large: [Base['kind'], number, number, number][] = [
    ['jpg', 1600, 1200, 30],
    ['jpg', 1800, 1200, 22],
    ['png', 800, 600, 40],
    ['png', 900, 700, 30],
  ];
  large.forEach(([kind, width, height, noise], i) => {
    const data = kind === 'png' ? encodePng(width, height, 2000 + i, noise) : encodeJpeg(width, height, 2000 + i, noise, 92);
    bases.push({ kind, data, width, height, large: true });
  });
  const kb = (b: Base): string => `${(b.data.length / 1024).toFixed(0)}`;
  const mean = (xs: Base[]): number => xs.reduce((a, b) => a + b.data.length, 0) / xs.length / 1024;
  const expected = LARGE_SHARE * mean(bases.filter((b) => b.large)) +
    (1 - LARGE_SHARE) * (PNG_SHARE * mean(bases.filter((b) => !b.large && b.kind === 'png')) +
      (1 - PNG_SHARE) * mean(bases.filter((b) => !b.large && b.kind === 'jpg')));
  log(`  bases: small ${bases.filter((b) => !b.large).map(kb).join(' ')} KB; large ${bases.filter((b) => b.large).map(kb).join(' ')} KB; ` +
    `expected mean file ${expected.toFixed(0)} KB`);
  return bases;
}

/** The base with a tEXt chunk inserted before IEND (the last 12 bytes). */
function variantPng(base: Buffer, text: string): Buffer {
  const body = Buffer.concat([Buffer.from('tEXt', 'latin1'), Buffer.from(`Comment\0${text}`, 'latin1')]);
  const chunk = Buffer.alloc(4 + body.length + 4);
  chunk.writeUInt32BE(body.length - 4, 0);
  body.copy(chunk, 4);
  chunk.writeUInt32BE(crc32(body), 4 + body.length);
  const iend = base.length - 12;
  return Buffer.concat([base.subarray(0, iend), chunk, base.subarray(iend)]);
}

/** The base with a COM segment right after SOI. */
function variantJpeg(base: Buffer, text: string): Buffer {
  const payload = Buffer.from(text, 'latin1');
  const seg = Buffer.alloc(4 + payload.length);
  seg[0] = 0xff;
  seg[1] = 0xfe;
  seg.writeUInt16BE(payload.length + 2, 2);
  payload.copy(seg, 4);
  return Buffer.concat([base.subarray(0, 2), seg, base.subarray(2)]);
}

function relFor(i: number, n: number, kind: Base['kind']): string {
  const folder = Math.floor((i * IMAGE_FOLDERS) / n);
  const part = String(Math.floor(folder / SETS_PER_PART)).padStart(2, '0');
  const set = folder % SETS_PER_PART;
  return `part_${part}/set_${set}/img_${String(i).padStart(6, '0')}.${kind}`;
}

function readMarker(file: string, n: number): Marker | null {
  try {
    const m = JSON.parse(fs.readFileSync(file, 'utf8')) as Marker;
    return m.version === GEN_VERSION && m.n === n && m.files.length === n ? m : null;
  } catch {
    return null;
  }
}

function toSet(base: string, m: Marker, reused: boolean, generateMs: number): ImageSet {
  const files = m.files.map(([rel, size]) => ({ rel, size }));
  return {
    base,
    root: path.join(base, 'data'),
    files,
    totalBytes: m.totalBytes,
    png: files.filter((f) => f.rel.endsWith('.png')).length,
    jpeg: files.filter((f) => f.rel.endsWith('.jpg')).length,
    folders: IMAGE_FOLDERS,
    reused,
    generateMs,
  };
}

/** The cached image set for `n` files, generating it when missing or stale. */
export function ensureImages(n: number, log: (line: string) => void): ImageSet {
  const base = path.join(os.tmpdir(), `dataset-index-regbench-${n}`);
  const markerFile = path.join(base, 'marker.json');
  const root = path.join(base, 'data');
  const found = readMarker(markerFile, n);
  if (found && fs.existsSync(root)) return toSet(base, found, true, 0);

  const started = performance.now();
  log(`generating ${n} images in ${base} (cached for later runs)`);
  fs.rmSync(base, { recursive: true, force: true });
  fs.mkdirSync(root, { recursive: true });
  const bases = makeBases(log);
  const smallPng = bases.filter((b) => !b.large && b.kind === 'png');
  const smallJpeg = bases.filter((b) => !b.large && b.kind === 'jpg');
  const large = bases.filter((b) => b.large);
  const rand = rng(777 + n);
  const files: [string, number][] = [];
  let totalBytes = 0;
  const made = new Set<string>();
  for (let i = 0; i < n; i++) {
    const pool = rand() < LARGE_SHARE ? large : rand() < PNG_SHARE ? smallPng : smallJpeg;
    const b = pool[Math.floor(rand() * pool.length)];
    const rel = relFor(i, n, b.kind);
    const dir = path.dirname(rel);
    if (!made.has(dir)) {
      fs.mkdirSync(path.join(root, dir), { recursive: true });
      made.add(dir);
    }
    const text = `dataset-index regbench file ${i} of ${n} (${rand().toString(36).slice(2)})`;
    const data = b.kind === 'png' ? variantPng(b.data, text) : variantJpeg(b.data, text);
    fs.writeFileSync(path.join(root, rel), data);
    files.push([rel, data.length]);
    totalBytes += data.length;
    if ((i + 1) % 5000 === 0) log(`  ${i + 1}/${n} written (${(totalBytes / 1048576).toFixed(0)} MB)`);
  }
  const marker: Marker = { version: GEN_VERSION, n, totalBytes, files };
  fs.writeFileSync(markerFile, JSON.stringify(marker));
  return toSet(base, marker, false, performance.now() - started);
}
