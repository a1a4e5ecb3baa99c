import type { FileBytes } from './fileBytes';
import { fine, type StructureResult } from './check';

const cut = { error: 'truncated GIF (no trailer)' };

/**
 * A GIF is complete when its blocks, walked by their sub-block lengths, reach the trailer (0x3B)
 * inside the file; bytes after it are ignored, as decoders do. A last byte of 0x3B is taken as the
 * trailer without a walk (the common case; a cut file ends there by chance once in 256).
 */
export async function checkGif(file: FileBytes): Promise<StructureResult> {
  if ((await file.bytes(file.size - 1, 1))[0] === 0x3b) return fine;
  const lsd = await file.bytes(10, 1);
  if (lsd.length < 1) return cut;
  let pos = 13 + (lsd[0] & 0x80 ? 3 << ((lsd[0] & 7) + 1) : 0);
  const skipSubBlocks = async (): Promise<boolean> => {
    for (;;) {
      const n = await file.bytes(pos, 1);
      if (n.length < 1) return false;
      pos += 1 + n[0];
      if (n[0] === 0) return true;
    }
  };
  while (pos < file.size) {
    const b = (await file.bytes(pos, 1))[0];
    if (b === 0x3b) return fine;
    if (b === 0x21) {
      pos += 2;
      if (!(await skipSubBlocks())) return cut;
    } else if (b === 0x2c) {
      const d = await file.bytes(pos, 10);
      if (d.length < 10) return cut;
      pos += 10 + (d[9] & 0x80 ? 3 << ((d[9] & 7) + 1) : 0) + 1;
      if (!(await skipSubBlocks())) return cut;
    } else {
      return { error: `corrupt GIF (unknown block 0x${b.toString(16)} at byte ${pos})` };
    }
  }
  return cut;
}
