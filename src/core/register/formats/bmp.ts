import type { FileBytes } from './fileBytes';
import type { StructureResult } from './check';

/** Compressions whose pixel array length follows from width, height and bits per pixel. */
const UNCOMPRESSED_WINDOWS = new Set([0, 3, 6]); // BI_RGB, BI_BITFIELDS, BI_ALPHABITFIELDS

/**
 * Reads the DIB header itself: image-size reads every BMP as Windows v3+, so an OS/2 v1 header
 * (12 bytes, 16-bit width and height) gave nonsense sizes. The pixel array must end inside the
 * file: its end is bfOffBits plus the rows (stride × height) when uncompressed, plus the header's
 * image size when compressed.
 */
export async function checkBmp(file: FileBytes): Promise<StructureResult> {
  const h = file.head;
  if (h.length < 26) return { error: 'truncated BMP (ends in its header)' };
  const offBits = h.readUInt32LE(10);
  const dibSize = h.readUInt32LE(14);
  let width: number;
  let height: number;
  let bpp: number;
  let compression = 0;
  let imageSize = 0;
  let os2v2 = false;
  if (dibSize === 12) {
    width = h.readUInt16LE(18);
    height = h.readUInt16LE(20);
    bpp = h.readUInt16LE(24);
  } else if (dibSize >= 16 && h.length >= 14 + Math.min(dibSize, 40)) {
    width = h.readInt32LE(18);
    height = Math.abs(h.readInt32LE(22));
    bpp = h.readUInt16LE(28);
    // OS/2 v2 headers may be cut after any field; absent fields are zero.
    if (dibSize >= 20) compression = h.readUInt32LE(30);
    if (dibSize >= 24) imageSize = h.readUInt32LE(34);
    os2v2 = dibSize === 64 || (dibSize > 12 && dibSize < 40);
  } else {
    return { error: `corrupt BMP (DIB header of ${dibSize} bytes)` };
  }
  if (width <= 0 || height <= 0) return { error: `corrupt BMP (size ${width}×${height})` };
  const uncompressed = os2v2 ? compression === 0 : UNCOMPRESSED_WINDOWS.has(compression);
  let end: number;
  if (uncompressed) {
    if (![1, 2, 4, 8, 16, 24, 32, 64].includes(bpp)) return { error: `corrupt BMP (${bpp} bits per pixel)` };
    end = offBits + Math.floor((width * bpp + 31) / 32) * 4 * height;
  } else {
    end = offBits + imageSize;
  }
  if (end > file.size) return { error: `truncated BMP (pixels end at byte ${end}, file has ${file.size})`, width, height };
  return { error: null, width, height };
}
