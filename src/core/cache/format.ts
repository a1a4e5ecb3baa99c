import { crc32 } from 'node:zlib';
import type { DirRecord, ScanMode, Snapshot } from '../types';

/**
 * The scan cache file, version 3:
 *
 *   "DSXSCAN\n" | u32 version | u32 header length | u32 header CRC-32 | header (JSON) | body
 *   body = u32[3·D] (files, subdirs, flags per dir) | i64[4·D] stamps | f64[3·S] file stats | strings | extras
 *   strings = every dir path, then its file names, then its subdir names, joined by NUL
 *   extras = JSON, only the folders that have any: [dir index, symlinks, [[path, code, message]…]]…
 *            (each folder's known problems and image-named links not followed; usually a few bytes)
 *
 * NUL cannot occur in a POSIX file name, so it separates strings safely. The header holds the
 * body's CRC-32 and is covered by its own, so a flipped byte anywhere — in the timestamps that
 * decide when files are verified too — or a torn in-place header rewrite is a corrupt cache (a
 * full scan), never trusted. Versions 1 (no header CRC) and 2 (no extras) are still read, once: they
 * know no folder's problems nor its links, so every folder is marked racy and the first scan after
 * the upgrade lists each one again (as a full scan would, but its changes are diffed against the
 * old snapshot, and it stays a quick scan); the next save writes 3.
 */
export const CACHE_FORMAT_VERSION = 3;
const MAGIC = Buffer.from('DSXSCAN\n', 'latin1');
const LENGTH_AT = MAGIC.length + 4;
const HEADER_CRC_AT = MAGIC.length + 8;
const PREFIX = MAGIC.length + 12;
const PREFIX_V1 = MAGIC.length + 8;

const FLAG_STAMP = 1;
const FLAG_RACY = 2;
const FLAG_STATS = 4;

export interface CacheHeader {
  /** Absolute root path the snapshot describes. */
  root: string;
  /** Fingerprint of the options that shape the snapshot (extensions, excludes, symlinks). */
  optionsKey: string;
  toolVersion: string;
  /** False for a checkpoint of an interrupted scan. */
  complete: boolean;
  /** Wall-clock ms of the last complete scan (0 if none yet). */
  scannedAt: number;
  /** Wall-clock ms of the last complete verify scan (0 if none yet). */
  verifiedAt: number;
  /** Wall-clock ms when this file was written. */
  savedAt: number;
  lastMode: ScanMode;
  lastDurationMs: number;
  dirs: number;
  files: number;
}

interface BodyLayout {
  dirs: number;
  statCount: number;
  stringBytes: number;
  /** Bytes of the extras JSON after the strings (absent before version 3: none). */
  extraBytes?: number;
  crc: number;
}

/** One folder's extras: its index, its links not followed, its problems as [path, code, message]. */
type FolderExtras = [dir: number, symlinks: number, issues: [string, string, string][]];

export class CacheFormatError extends Error {}

export function encodeCache(header: CacheHeader, snapshot: Snapshot): Buffer {
  const dirs = snapshot.size;
  let statCount = 0;
  let chars = 0;
  for (const [rel, rec] of snapshot) {
    if (rec.stats) statCount += rec.files.length;
    chars += rel.length + 1;
    for (const f of rec.files) chars += f.length + 1;
    for (const d of rec.subdirs) chars += d.length + 1;
  }
  const countsBytes = dirs * 12;
  const stampsStart = countsBytes + ((8 - (countsBytes % 8)) % 8);
  const statsStart = stampsStart + dirs * 32;
  const stringsStart = statsStart + statCount * 24;

  // One buffer for the body, filled in place: names are written a folder at a time, never joined
  // into one giant string first. ASCII names fit the estimate exactly; other text grows it.
  // The header's slot goes in front of the body in the same buffer: its length is fixed now by a
  // layout with the widest numbers, so the real one always fits and the file is never copied again.
  const widest: BodyLayout = { dirs, statCount, stringBytes: Number.MAX_SAFE_INTEGER, extraBytes: Number.MAX_SAFE_INTEGER, crc: 0xffffffff };
  const headLen = paddedHeader(header, widest, 0).length;
  const bodyStart = PREFIX + headLen;
  let buf = Buffer.allocUnsafe(bodyStart + stringsStart + chars + 4096);
  const counts = new Uint32Array(dirs * 3);
  const stamps = new BigInt64Array(dirs * 4);
  const stats = new Float64Array(statCount * 3);
  let off = bodyStart + stringsStart;
  const put = (text: string): void => {
    if (off + text.length * 3 > buf.length) {
      const need = off + Buffer.byteLength(text, 'utf8');
      if (need > buf.length) {
        const grown = Buffer.allocUnsafe(Math.max(need, Math.ceil(buf.length * 1.5)));
        buf.copy(grown, 0, 0, off);
        buf = grown;
      }
    }
    off += buf.write(text, off, 'utf8');
  };
  let i = 0;
  let s = 0;
  const extras: FolderExtras[] = [];
  for (const [rel, rec] of snapshot) {
    if (rec.symlinks || rec.issues?.length) {
      extras.push([i, rec.symlinks ?? 0, (rec.issues ?? []).map((x): [string, string, string] => [x.path, x.code, x.message])]);
    }
    let flags = 0;
    if (rec.stamp) {
      flags |= FLAG_STAMP;
      stamps[i * 4] = rec.stamp.mtimeNs;
      stamps[i * 4 + 1] = rec.stamp.ctimeNs;
      stamps[i * 4 + 2] = rec.stamp.ino;
      stamps[i * 4 + 3] = rec.stamp.dev;
    }
    if (rec.racy) flags |= FLAG_RACY;
    const n = rec.files.length;
    if (rec.stats) {
      flags |= FLAG_STATS;
      const known = rec.stats.subarray(0, n * 3);
      stats.set(known, s * 3);
      if (known.length < n * 3) stats.fill(NaN, s * 3 + known.length, (s + n) * 3);
      s += n;
    }
    counts[i * 3] = n;
    counts[i * 3 + 1] = rec.subdirs.length;
    counts[i * 3 + 2] = flags;
    if (i > 0) buf[off++] = 0;
    put(rel);
    if (n) {
      buf[off++] = 0;
      put(rec.files.join('\0'));
    }
    if (rec.subdirs.length) {
      buf[off++] = 0;
      put(rec.subdirs.join('\0'));
    }
    i++;
  }
  const stringBytes = off - bodyStart - stringsStart;
  if (extras.length) put(JSON.stringify(extras));
  // The fixed-size tables go in front of the names last (the buffer may have been reallocated).
  Buffer.from(counts.buffer, counts.byteOffset, counts.byteLength).copy(buf, bodyStart);
  buf.fill(0, bodyStart + countsBytes, bodyStart + stampsStart);
  Buffer.from(stamps.buffer).copy(buf, bodyStart + stampsStart);
  Buffer.from(stats.buffer).copy(buf, bodyStart + statsStart);
  const layout: BodyLayout = {
    dirs, statCount, stringBytes, extraBytes: off - bodyStart - stringsStart - stringBytes, crc: crc32(buf.subarray(bodyStart, off)),
  };
  MAGIC.copy(buf, 0);
  buf.writeUInt32LE(CACHE_FORMAT_VERSION, MAGIC.length);
  buf.writeUInt32LE(headLen, LENGTH_AT);
  sealedHeader(header, layout, headLen).copy(buf, HEADER_CRC_AT);
  return buf.subarray(0, off);
}

/**
 * The header JSON padded with spaces to a whole slot: a later scan that changed nothing rewrites
 * only this slot in place (see rewriteHeader) instead of re-encoding a million names.
 */
const HEADER_SLOT = 4096;

function paddedHeader(header: CacheHeader, layout: BodyLayout, exactLength: number): Buffer {
  const json = Buffer.from(JSON.stringify({ ...header, layout }), 'utf8');
  const length = exactLength || Math.ceil((json.length + 256) / HEADER_SLOT) * HEADER_SLOT - PREFIX;
  if (json.length > length) throw new CacheFormatError('header does not fit its slot');
  const out = Buffer.alloc(length, 0x20);
  json.copy(out);
  return out;
}

/** The header CRC followed by the padded header: one contiguous write, at HEADER_REWRITE_OFFSET. */
function sealedHeader(header: CacheHeader, layout: BodyLayout, exactLength: number): Buffer {
  const slot = paddedHeader(header, layout, exactLength);
  const out = Buffer.allocUnsafe(4 + slot.length);
  out.writeUInt32LE(crc32(slot), 0);
  slot.copy(out, 4);
  return out;
}

/** The bytes to write at HEADER_REWRITE_OFFSET to replace a header in place, or null if it cannot be. */
export function rewriteHeader(existing: Buffer, header: CacheHeader): Buffer | null {
  if (existing.length < PREFIX || existing.readUInt32LE(MAGIC.length) !== CACHE_FORMAT_VERSION) return null; // an old file: saved whole
  const { header: old, layout } = decodeHeader(existing);
  // Only over the body of the same snapshot: same root, same options, same number of folders.
  if (old.root !== header.root || old.optionsKey !== header.optionsKey || layout.dirs !== header.dirs) return null;
  const headLen = existing.readUInt32LE(LENGTH_AT);
  try {
    return sealedHeader(header, layout, headLen);
  } catch {
    return null;
  }
}

/** Bytes to read for the header's length (the prefix of any version), and where a rewrite goes. */
export const HEADER_PREFIX_BYTES = PREFIX;
export const HEADER_LENGTH_OFFSET = LENGTH_AT;
export const HEADER_REWRITE_OFFSET = HEADER_CRC_AT;


const isCount = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/** A header as this version writes it: anything else (null, wrong types) is corruption, not a crash. */
function isHeaderShape(v: unknown): v is CacheHeader & { layout: BodyLayout } {
  if (!v || typeof v !== 'object') return false;
  const h = v as Record<string, unknown>;
  const l = h.layout as Record<string, unknown> | null | undefined;
  return (
    typeof h.root === 'string' && typeof h.optionsKey === 'string' && typeof h.complete === 'boolean' &&
    ['scannedAt', 'verifiedAt', 'savedAt', 'dirs', 'files'].every((k) => typeof h[k] === 'number' && Number.isFinite(h[k])) &&
    !!l && typeof l === 'object' && ['dirs', 'statCount', 'stringBytes', 'crc'].every((k) => isCount(l[k])) &&
    (l.extraBytes === undefined || isCount(l.extraBytes))
  );
}

/** Reads only the header: cheap enough for a status bar. Throws CacheFormatError on anything odd. */
export function decodeHeader(buf: Buffer): { header: CacheHeader; layout: BodyLayout; bodyStart: number; version: number } {
  if (buf.length < PREFIX || !buf.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new CacheFormatError('not a scan cache file (bad magic)');
  }
  const version = buf.readUInt32LE(MAGIC.length);
  if (version !== CACHE_FORMAT_VERSION && version !== 1 && version !== 2) {
    throw new CacheFormatError(`cache format version ${version}, expected ${CACHE_FORMAT_VERSION}`);
  }
  const start = version === 1 ? PREFIX_V1 : PREFIX;
  const headLen = buf.readUInt32LE(LENGTH_AT);
  if (start + headLen > buf.length) throw new CacheFormatError('truncated header');
  const slot = buf.subarray(start, start + headLen);
  if (version !== 1 && crc32(slot) !== buf.readUInt32LE(HEADER_CRC_AT)) {
    throw new CacheFormatError('header checksum mismatch (corrupt cache)');
  }
  let parsed: CacheHeader & { layout: BodyLayout };
  try {
    parsed = JSON.parse(slot.toString('utf8')) as CacheHeader & { layout: BodyLayout };
  } catch {
    throw new CacheFormatError('corrupt header');
  }
  if (!isHeaderShape(parsed)) throw new CacheFormatError('corrupt header (unexpected content)');
  // Version 3 always writes extraBytes, older ones never: a mismatch is a damaged version number.
  if ((version >= 3) !== (parsed.layout.extraBytes !== undefined)) throw new CacheFormatError('corrupt header (version and layout disagree)');
  const { layout, ...header } = parsed;
  return { header, layout, bodyStart: start + headLen, version };
}

export function decodeCache(buf: Buffer): { header: CacheHeader; snapshot: Snapshot } {
  const { header, layout, bodyStart, version } = decodeHeader(buf);
  const D = layout.dirs;
  const countsBytes = D * 12;
  const stampsStart = countsBytes + ((8 - (countsBytes % 8)) % 8);
  const statsStart = stampsStart + D * 32;
  const stringsStart = statsStart + layout.statCount * 24;
  const extraBytes = version >= 3 ? (layout.extraBytes ?? 0) : 0;
  const bodyLen = stringsStart + layout.stringBytes + extraBytes;
  if (buf.length - bodyStart !== bodyLen) {
    throw new CacheFormatError(`truncated or padded body: ${buf.length - bodyStart} bytes, expected ${bodyLen}`);
  }
  const body = buf.subarray(bodyStart);
  if (crc32(body) !== layout.crc) throw new CacheFormatError('checksum mismatch (corrupt cache)');

  // Copy into aligned memory: the file buffer's offset is arbitrary.
  const aligned = new ArrayBuffer(stringsStart);
  new Uint8Array(aligned).set(body.subarray(0, stringsStart));
  const counts = new Uint32Array(aligned, 0, D * 3);
  const stamps = new BigInt64Array(aligned, stampsStart, D * 4);
  const stats = new Float64Array(aligned, statsStart, layout.statCount * 3);
  const strings = body.toString('utf8', stringsStart, stringsStart + layout.stringBytes).split('\0');

  const snapshot: Snapshot = new Map();
  let k = 0;
  let s = 0;
  for (let i = 0; i < D; i++) {
    const nFiles = counts[i * 3];
    const nSub = counts[i * 3 + 1];
    const flags = counts[i * 3 + 2];
    const rel = strings[k++];
    if (rel === undefined || k + nFiles + nSub > strings.length) throw new CacheFormatError('corrupt string table');
    const files = strings.slice(k, (k += nFiles));
    const subdirs = strings.slice(k, (k += nSub));
    const rec: DirRecord = {
      stamp:
        flags & FLAG_STAMP
          ? { mtimeNs: stamps[i * 4], ctimeNs: stamps[i * 4 + 1], ino: stamps[i * 4 + 2], dev: stamps[i * 4 + 3] }
          : null,
      // An older version knew no folder's problems nor links: racy, so the next scan lists it again.
      racy: (flags & FLAG_RACY) !== 0 || version < 3,
      files,
      subdirs,
    };
    if (flags & FLAG_STATS) {
      if (s + nFiles * 3 > stats.length) throw new CacheFormatError('corrupt stats table');
      rec.stats = stats.subarray(s, (s += nFiles * 3));
    }
    snapshot.set(rel, rec);
  }
  if (k !== strings.length && !(D === 0 && strings.length === 1)) throw new CacheFormatError('corrupt string table');
  if (extraBytes) applyExtras(snapshot, body.toString('utf8', stringsStart + layout.stringBytes));
  return { header, snapshot };
}

const isText = (v: unknown): v is string => typeof v === 'string';

/** Puts each folder's extras back on its record; anything malformed is a corrupt cache. */
function applyExtras(snapshot: Snapshot, json: string): void {
  let extras: unknown;
  try {
    extras = JSON.parse(json);
  } catch {
    throw new CacheFormatError('corrupt extras');
  }
  if (!Array.isArray(extras)) throw new CacheFormatError('corrupt extras');
  const records = [...snapshot.values()];
  for (const entry of extras as unknown[]) {
    if (!Array.isArray(entry) || entry.length !== 3) throw new CacheFormatError('corrupt extras');
    const [dir, symlinks, issues] = entry as unknown[];
    const rec = typeof dir === 'number' ? records[dir] : undefined;
    if (!rec || !isCount(symlinks) || !Array.isArray(issues)) throw new CacheFormatError('corrupt extras');
    if (symlinks) rec.symlinks = symlinks as number;
    if (issues.length) {
      rec.issues = issues.map((x: unknown) => {
        if (!Array.isArray(x) || x.length !== 3 || !x.every(isText)) throw new CacheFormatError('corrupt extras');
        const [path, code, message] = x;
        return { path, code, message };
      });
    }
  }
}
