import type { FileBytes } from './fileBytes';
import type { StructureResult } from './check';

const TAG_WIDTH = 256;
const TAG_HEIGHT = 257;
const STRIP_OFFSETS = 273;
const STRIP_BYTE_COUNTS = 279;
const TILE_OFFSETS = 324;
const TILE_BYTE_COUNTS = 325;
const MAX_IFDS = 1024;
/** Classic TIFF cannot exceed 65535; a BigTIFF count beyond this is a corrupt file, not a reason to allocate. */
const MAX_ENTRIES = 1 << 16;
const MAX_VALUES = 1 << 24;

const TYPE_SIZE: Record<number, number> = { 1: 1, 3: 2, 4: 4, 6: 1, 8: 2, 9: 4, 13: 4, 16: 8, 17: 8, 18: 8 };

interface Layout {
  le: boolean;
  big: boolean;
}

/**
 * Walks every IFD of a TIFF or BigTIFF: each directory must lie inside the file, and so must every
 * strip or tile (offset + byte count). Dimensions come from the first IFD (image-size reads the
 * IFD only when it is in the first bytes; writers often put it at the end).
 */
export async function checkTiff(file: FileBytes): Promise<StructureResult> {
  const h = file.head;
  const le = h[0] === 0x49;
  const big = (le ? h.readUInt16LE(2) : h.readUInt16BE(2)) === 43;
  const lay: Layout = { le, big };
  let ifd = big ? readU64(h, 8, le) : le ? h.readUInt32LE(4) : h.readUInt32BE(4);
  let width = 0;
  let height = 0;
  const seen = new Set<number>();
  for (let n = 0; ifd !== 0; n++) {
    if (n >= MAX_IFDS || seen.has(ifd)) return { error: 'corrupt TIFF (directory chain loops)' };
    seen.add(ifd);
    const countSize = big ? 8 : 2;
    const entrySize = big ? 20 : 12;
    const c = await file.bytes(ifd, countSize);
    if (c.length < countSize) return { error: `truncated TIFF (directory at byte ${ifd}, file has ${file.size})` };
    const count = big ? readU64(c, 0, le) : le ? c.readUInt16LE(0) : c.readUInt16BE(0);
    if (count > MAX_ENTRIES) return { error: `corrupt TIFF (${count} entries in the directory at byte ${ifd})` };
    const dirLength = count * entrySize + (big ? 8 : 4);
    const dir = Buffer.from(await file.bytes(ifd + countSize, dirLength));
    if (dir.length < dirLength) return { error: `truncated TIFF (directory at byte ${ifd} ends past the end of the file)` };
    const tags = new Map<number, number[]>();
    for (let i = 0; i < count; i++) {
      const e = i * entrySize;
      const tag = u16(dir, e, le);
      if (tag !== TAG_WIDTH && tag !== TAG_HEIGHT && tag !== STRIP_OFFSETS && tag !== STRIP_BYTE_COUNTS && tag !== TILE_OFFSETS && tag !== TILE_BYTE_COUNTS) continue;
      const values = await tagValues(file, dir, e, lay);
      if (!values) return { error: `truncated TIFF (tag ${tag} values past the end of the file)` };
      tags.set(tag, values);
    }
    if (n === 0) {
      width = tags.get(TAG_WIDTH)?.[0] ?? 0;
      height = tags.get(TAG_HEIGHT)?.[0] ?? 0;
    }
    for (const [offTag, lenTag] of [[STRIP_OFFSETS, STRIP_BYTE_COUNTS], [TILE_OFFSETS, TILE_BYTE_COUNTS]] as const) {
      const offsets = tags.get(offTag) ?? [];
      const lengths = tags.get(lenTag) ?? [];
      for (let i = 0; i < offsets.length; i++) {
        const end = offsets[i] + (lengths[i] ?? 0);
        if (end > file.size) return { error: `truncated TIFF (image data ends at byte ${end}, file has ${file.size})`, width, height };
      }
    }
    const next = dir.subarray(count * entrySize);
    ifd = big ? readU64(next, 0, le) : le ? next.readUInt32LE(0) : next.readUInt32BE(0);
  }
  if (!width || !height) return { error: 'corrupt TIFF (no width or height in the first directory)' };
  return { error: null, width, height };
}

const u16 = (b: Buffer, o: number, le: boolean): number => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));

function readU64(b: Buffer, o: number, le: boolean): number {
  const v = le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o);
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
}

function readValue(b: Buffer, o: number, type: number, le: boolean): number {
  if (type === 3 || type === 8) return u16(b, o, le);
  if (type === 16 || type === 17 || type === 18) return readU64(b, o, le);
  if (type === 1 || type === 6) return b[o];
  return le ? b.readUInt32LE(o) : b.readUInt32BE(o);
}

/** The values of one entry, inline or at their offset; null when they lie past the end of the file. */
async function tagValues(file: FileBytes, dir: Buffer, e: number, { le, big }: Layout): Promise<number[] | null> {
  const type = u16(dir, e + 2, le);
  const count = big ? readU64(dir, e + 4, le) : le ? dir.readUInt32LE(e + 4) : dir.readUInt32BE(e + 4);
  if (count > MAX_VALUES) return null;
  const size = TYPE_SIZE[type] ?? 4;
  const inlineRoom = big ? 8 : 4;
  const valueAt = e + (big ? 12 : 8);
  let data: Buffer;
  if (count * size <= inlineRoom) {
    data = dir.subarray(valueAt, valueAt + inlineRoom);
  } else {
    const offset = big ? readU64(dir, valueAt, le) : le ? dir.readUInt32LE(valueAt) : dir.readUInt32BE(valueAt);
    if (offset + count * size > file.size) return null;
    data = Buffer.from(await file.bytes(offset, count * size));
  }
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(readValue(data, i * size, type, le));
  return out;
}
