import type { FileBytes } from './fileBytes';
import { fine, type StructureResult } from './check';

const IEND_CHUNK = Buffer.from([0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);

/**
 * A PNG is complete when its chunks, walked by their lengths, reach IEND inside the file. Bytes
 * after IEND are ignored, as libpng does. The common case, IEND as the last 12 bytes, costs one read.
 */
export async function checkPng(file: FileBytes): Promise<StructureResult> {
  if (file.size >= 8 + IEND_CHUNK.length && (await file.bytes(file.size - 12, 12)).equals(IEND_CHUNK)) return fine;
  let pos = 8;
  while (pos + 12 <= file.size) {
    const h = await file.bytes(pos, 8);
    const length = h.readUInt32BE(0);
    const type = h.toString('latin1', 4, 8);
    if (!/^[A-Za-z]{4}$/.test(type)) break;
    if (pos + 12 + length > file.size) break;
    if (type === 'IEND') return fine;
    pos += 12 + length;
  }
  return { error: 'truncated PNG (no IEND chunk)' };
}
