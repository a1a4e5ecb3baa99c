import { imageSize } from 'image-size';
import { checkBmp } from './bmp';
import type { StructureCheck, StructureResult } from './check';
import type { FileBytes } from './fileBytes';
import { isImageFormat, type ImageFormat } from './formatNames';
import { checkGif } from './gif';
import { checkHeif, heifFormat } from './heif';
import { checkJpeg } from './jpeg';
import { checkJxl } from './jxl';
import { looksLikeText, notRasterKind } from './notRaster';
import { checkPng } from './png';
import { checkTiff } from './tiff';
import { checkWebp } from './webp';

/** The verdict on one file: `error` null means a decoder should read it, with these dimensions. */
export type ImageVerdict =
  | { error: null; format: ImageFormat; width: number; height: number }
  | { error: string; format: null; width: null; height: null };

const STRUCTURE_CHECKS: Partial<Record<ImageFormat, StructureCheck>> = {
  png: checkPng,
  jpg: checkJpeg,
  gif: checkGif,
  webp: checkWebp,
  bmp: checkBmp,
  tiff: checkTiff,
  heif: checkHeif,
  avif: checkHeif,
  jxl: checkJxl,
};

const HEIF_BRANDS = new Set(['avif', 'avis', 'heic', 'heix', 'hevc', 'hevx', 'mif1', 'msf1']);
const JXL_CONTAINER = Buffer.from([0, 0, 0, 0x0c, 0x4a, 0x58, 0x4c, 0x20, 0x0d, 0x0a, 0x87, 0x0a]);

/** The formats whose structure we check, by their magic bytes. */
function sniff(h: Buffer): ImageFormat | null {
  const at = (o: number, s: string): boolean => h.toString('latin1', o, o + s.length) === s;
  if (at(0, '\x89PNG\r\n\x1a\n')) return 'png';
  if (h[0] === 0xff && h[1] === 0xd8 && h[2] === 0xff) return 'jpg';
  if (at(0, 'GIF87a') || at(0, 'GIF89a')) return 'gif';
  if (at(0, 'RIFF') && at(8, 'WEBP')) return 'webp';
  if (at(0, 'BM') && h.length >= 18) return 'bmp';
  if (at(0, 'II*\0') || at(0, 'MM\0*') || at(0, 'II+\0') || at(0, 'MM\0+')) return 'tiff';
  if (at(4, 'ftyp') && HEIF_BRANDS.has(h.toString('latin1', 8, 12))) return heifFormat(h);
  if ((h[0] === 0xff && h[1] === 0x0a) || h.subarray(0, 12).equals(JXL_CONTAINER)) return 'jxl';
  return null;
}

/** image-size's type names that are not already ours. */
const ALIASES: Record<string, ImageFormat> = { bigtiff: 'tiff', 'jxl-stream': 'jxl', j2c: 'jp2' };

type Dims = { width: number; height: number; type: string } | { error: string };

function headerDims(head: Buffer): Dims {
  try {
    const r = imageSize(head);
    if (r.width && r.height && r.type) return { width: r.width, height: r.height, type: r.type };
    return { error: 'no dimensions in header' };
  } catch (err) {
    return { error: (err instanceof Error ? err.message : String(err)).replace(/: undefined$/, '') };
  }
}

const bad = (error: string): ImageVerdict => ({ error, format: null, width: null, height: null });

/**
 * Format, dimensions and whether a real decoder would read the file, without decoding pixels:
 * text (SVG, HTML) is rejected whatever its name; the formats we know get a structure check
 * (truncation, trailers, box and chunk lengths); others are taken on their header (image-size).
 */
export async function inspectImage(file: FileBytes): Promise<ImageVerdict> {
  const markup = notRasterKind(file.head);
  if (markup) return bad(`not a raster image (${markup})`);
  const format = sniff(file.head);
  const check = format ? STRUCTURE_CHECKS[format] : undefined;
  let structure: StructureResult | null;
  try {
    structure = check ? await check(file) : null;
  } catch (err) {
    // A header field pointing past a short head (a RangeError) is a damaged file, not a failed read.
    if (!(err instanceof RangeError)) throw err;
    return bad(`corrupt ${format} (${err.message})`);
  }
  if (structure?.error) return bad(structure.error);
  if (format && structure?.width && structure.height) return { error: null, format, width: structure.width, height: structure.height };
  const dims = headerDims(file.head);
  if ('error' in dims) {
    if (!format && looksLikeText(file.head)) return bad('not a raster image (text)');
    return bad(`not a recognised image: ${dims.error}`);
  }
  if (dims.type === 'svg') return bad('not a raster image (SVG)');
  const named = format ?? ALIASES[dims.type] ?? dims.type;
  if (!isImageFormat(named)) return bad(`not a recognised image: unknown type ${dims.type}`);
  return { error: null, format: named, width: dims.width, height: dims.height };
}
