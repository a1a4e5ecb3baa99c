import type { FileBytes } from './fileBytes';
import { fine, type StructureResult } from './check';

/** A WebP is a RIFF file: its header gives the length of everything after the first 8 bytes. */
export async function checkWebp(file: FileBytes): Promise<StructureResult> {
  const riffSize = file.head.readUInt32LE(4);
  const needed = 8 + riffSize;
  if (needed > file.size) return { error: `truncated WebP (RIFF says ${needed} bytes, file has ${file.size})` };
  return fine;
}
