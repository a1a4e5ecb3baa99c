import type { FileBytes } from './fileBytes';
import type { StructureResult } from './check';

/** Past this size a JPEG whose end is not its end-of-image marker is not searched for one. */
export const JPEG_EOI_SEARCH_LIMIT = 256 << 20;
const TAIL = 64 * 1024;
const SCAN_BLOCK = 1 << 20;
const EOI = Buffer.from([0xff, 0xd9]);

const isSof = (m: number): boolean => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;

/**
 * Walks the segments by their lengths (metadata of any size costs one read per segment, nothing
 * is buffered) up to the first scan: dimensions from the frame header (SOFn). Then the image
 * must reach an end-of-image marker: found at the end of the file (trailing zero padding allowed),
 * or, for bytes appended after the image (motion photos append a video), by a search forward
 * from the first scan, where entropy-coded data cannot hold FF D9.
 */
export async function checkJpeg(file: FileBytes): Promise<StructureResult> {
  let pos = 2;
  let width = 0;
  let height = 0;
  for (;;) {
    const m = await file.bytes(pos, 4);
    if (m.length < 2) return { error: 'truncated JPEG (ends in its headers)' };
    if (m[0] !== 0xff) return { error: `corrupt JPEG (no marker at byte ${pos})` };
    const marker = m[1];
    if (marker === 0xff) {
      pos += 1; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      pos += 2;
      continue;
    }
    if (marker === 0xd9) return { error: 'corrupt JPEG (end of image before any scan)' };
    if (m.length < 4) return { error: 'truncated JPEG (ends in its headers)' };
    const length = m.readUInt16BE(2);
    if (length < 2) return { error: `corrupt JPEG (segment length ${length} at byte ${pos})` };
    if (isSof(marker)) {
      const sof = await file.bytes(pos + 4, 5);
      if (sof.length < 5) return { error: 'truncated JPEG (ends in its frame header)' };
      height = sof.readUInt16BE(1);
      width = sof.readUInt16BE(3);
    }
    pos += 2 + length;
    if (pos > file.size) return { error: 'truncated JPEG (ends in its headers)' };
    if (marker === 0xda) break;
  }
  if (!width || !height) return { error: 'corrupt JPEG (no frame header with dimensions before the first scan)' };
  return (await endsWithEoi(file, pos)) || (await eoiAfter(file, pos)) ? { error: null, width, height } : { error: 'truncated JPEG (no end-of-image marker)', width, height };
}

async function endsWithEoi(file: FileBytes, scanStart: number): Promise<boolean> {
  const from = Math.max(scanStart, file.size - TAIL);
  const tail = await file.bytes(from, file.size - from);
  let end = tail.length;
  while (end > 0 && tail[end - 1] === 0) end--;
  return end >= 2 && tail[end - 2] === 0xff && tail[end - 1] === 0xd9;
}

async function eoiAfter(file: FileBytes, scanStart: number): Promise<boolean> {
  if (file.size > JPEG_EOI_SEARCH_LIMIT) return false;
  // Blocks overlap by one byte so a marker split between two reads is still seen.
  for (let pos = scanStart; pos < file.size - 1; pos += SCAN_BLOCK - 1) {
    if ((await file.bytes(pos, SCAN_BLOCK)).includes(EOI)) return true;
  }
  return false;
}
