import type { FileBytes } from './fileBytes';

const MAX_BOXES = 100_000;

/**
 * Walks the top-level boxes of an ISO-BMFF file (HEIF, AVIF, the JPEG XL container) by their
 * sizes: the file is cut when a box ends past its end. Returns the problem or null.
 * `what` names the format in the reason.
 */
export async function topLevelBoxProblem(file: FileBytes, what: string): Promise<string | null> {
  let pos = 0;
  for (let n = 0; pos < file.size; n++) {
    if (n >= MAX_BOXES) return `corrupt ${what} (more than ${MAX_BOXES} top-level boxes)`;
    const h = await file.bytes(pos, 16);
    if (h.length < 8) return `truncated ${what} (ends in a box header at byte ${pos})`;
    const type = h.toString('latin1', 4, 8);
    let size = h.readUInt32BE(0);
    if (size === 1) {
      if (h.length < 16) return `truncated ${what} (ends in a box header at byte ${pos})`;
      const big = h.readBigUInt64BE(8);
      size = big > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(big);
    } else if (size === 0) {
      return null; // the last box: it runs to the end of the file
    }
    if (size < 8) return `corrupt ${what} (box of ${size} bytes at byte ${pos})`;
    if (!/^[\x20-\x7e]{4}$/.test(type)) return `corrupt ${what} (no box at byte ${pos})`;
    if (pos + size > file.size) return `truncated ${what} ('${type}' box ends at byte ${pos + size}, file has ${file.size})`;
    pos += size;
  }
  return null;
}
