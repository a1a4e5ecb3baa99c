/** Bytes that hold a WebP file's RIFF length and its first chunk's dimensions. */
export const WEBP_HEADER_BYTES = 30;

/**
 * Dimensions of a complete WebP file, or null when these first bytes and the file's length do not
 * make one (a cache entry cut short by a crash of the disk, not of our writes, which are atomic).
 */
export function webpDimensions(head: Uint8Array, fileSize: number): { width: number; height: number } | null {
  if (head.length < WEBP_HEADER_BYTES) return null;
  const str = (o: number): string => String.fromCharCode(head[o], head[o + 1], head[o + 2], head[o + 3]);
  if (str(0) !== 'RIFF' || str(8) !== 'WEBP') return null;
  const riffSize = head[4] | (head[5] << 8) | (head[6] << 16) | (head[7] << 24);
  if (riffSize + 8 !== fileSize) return null;
  const u24 = (o: number): number => head[o] | (head[o + 1] << 8) | (head[o + 2] << 16);
  switch (str(12)) {
    case 'VP8X':
      return { width: u24(24) + 1, height: u24(27) + 1 };
    case 'VP8 ':
      return { width: (head[26] | (head[27] << 8)) & 0x3fff, height: (head[28] | (head[29] << 8)) & 0x3fff };
    case 'VP8L': {
      const bits = head[21] | (head[22] << 8) | (head[23] << 16) | (head[24] << 24);
      return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
    }
    default:
      return null;
  }
}
