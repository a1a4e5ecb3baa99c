import type { FileBytes } from './fileBytes';
import { fine, type StructureResult } from './check';
import { topLevelBoxProblem } from './boxes';

/**
 * A JPEG XL container is checked by its box sizes (a cut jxlc/jxlp box is found). A bare codestream
 * carries no total length (frame sizes sit in a table of contents behind variable-length image
 * metadata, which needs a bit-level parser): a cut codestream is not detected, only one too short
 * for image-size to read its size header.
 */
export async function checkJxl(file: FileBytes): Promise<StructureResult> {
  if (file.head[0] === 0xff) return fine;
  return { error: await topLevelBoxProblem(file, 'JPEG XL') };
}
