import type { DecodeRoute } from './types';

/** Bytes needed to choose a decoder: an ISO-BMFF `ftyp` box with a dozen compatible brands. */
export const SNIFF_BYTES = 64;

const HEVC_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'hevm', 'hevs']);
const AV1_BRANDS = new Set(['avif', 'avis']);

/** The major and compatible brands of an ISO-BMFF file (HEIF, AVIF), or null when it is not one. */
function ftypBrands(head: Uint8Array): string[] | null {
  if (head.length < 16) return null;
  const ascii = (o: number): string => String.fromCharCode(head[o], head[o + 1], head[o + 2], head[o + 3]);
  if (ascii(4) !== 'ftyp') return null;
  const boxSize = ((head[0] << 24) | (head[1] << 16) | (head[2] << 8) | head[3]) >>> 0;
  const end = Math.min(head.length, boxSize || head.length);
  const brands = [ascii(8)];
  for (let o = 16; o + 4 <= end; o += 4) brands.push(ascii(o));
  return brands;
}

/**
 * Which decoder reads these first bytes, or null when none here does. sharp's prebuilt libvips
 * reads HEIF only with AV1 inside (AVIF): HEVC (phones' HEIC) goes to libheif in wasm, and JPEG XL,
 * which that libvips lacks, to libjxl in wasm. BMP and SVG get no thumbnail (a codicon): sharp has
 * no BMP loader, and an SVG may reference anything.
 */
export function chooseRoute(head: Uint8Array): DecodeRoute | null {
  const b = head;
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'sharp'; // JPEG
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'sharp'; // PNG
  if (b.length >= 6 && b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x38) return 'sharp'; // GIF8
  if (b.length >= 12 && String.fromCharCode(...b.subarray(0, 4)) === 'RIFF' && String.fromCharCode(...b.subarray(8, 12)) === 'WEBP') return 'sharp';
  if (b.length >= 4 && ((b[0] === 0x49 && b[1] === 0x49 && b[2] === 0x2a && b[3] === 0) || (b[0] === 0x4d && b[1] === 0x4d && b[2] === 0 && b[3] === 0x2a))) return 'sharp'; // TIFF
  if (b.length >= 2 && b[0] === 0xff && b[1] === 0x0a) return 'jxl-wasm'; // JXL codestream
  if (b.length >= 12 && b[3] === 0x0c && String.fromCharCode(...b.subarray(4, 8)) === 'JXL ') return 'jxl-wasm'; // JXL container
  const brands = ftypBrands(b);
  if (brands) {
    // AV1 first: an AVIF may list `mif1`/`miaf` and, rarely, a HEVC brand as well.
    if (brands.some((x) => AV1_BRANDS.has(x))) return 'sharp';
    if (brands.some((x) => HEVC_BRANDS.has(x))) return 'heif-wasm';
    // `mif1`/`msf1` alone: a HEIF whose codec only the file's item info tells; libheif reads both.
    if (brands.includes('mif1') || brands.includes('msf1')) return 'heif-wasm';
  }
  return null;
}
