import type { FileBytes } from './fileBytes';
import type { StructureResult } from './check';
import { topLevelBoxProblem } from './boxes';

/**
 * HEIF and AVIF keep the coded image in `mdat`, usually the last box: a cut file shows as a box
 * (mdat, or meta when cut early) ending past the end of the file. Item extents (iloc) inside a
 * complete box structure are not followed.
 */
export async function checkHeif(file: FileBytes): Promise<StructureResult> {
  return { error: await topLevelBoxProblem(file, file.head.toString('latin1', 8, 12) === 'avif' ? 'AVIF' : 'HEIF') };
}

/** AVIF when the major brand or a compatible brand says so, else HEIF (HEIC, mif1, msf1, …). */
export function heifFormat(head: Buffer): 'avif' | 'heif' {
  const ftypSize = Math.min(head.readUInt32BE(0), head.length);
  for (let o = 8; o + 4 <= ftypSize; o += 4) {
    if (o === 12) continue; // minor version
    const brand = head.toString('latin1', o, o + 4);
    if (brand === 'avif' || brand === 'avis') return 'avif';
    if (brand === 'heic' || brand === 'heix' || brand === 'hevc' || brand === 'hevx') return 'heif';
  }
  return 'heif';
}
