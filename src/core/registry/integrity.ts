import * as fs from 'node:fs';
import type { Database } from 'sql.js';
import xxhash, { type XXHashAPI } from 'xxhash-wasm';
import { writeFileAtomic } from '../fsutil/atomicWrite';
import { SCHEMA_VERSION, schemaVersion } from './schema';

/** The registry was written by a newer version of the tool: refused, never replaced. */
export class RegistrySchemaError extends Error {}

/** The file is another program's SQLite database: refused, never moved or replaced. */
export class RegistryForeignError extends Error {}

/** Corrupt (moved aside when we own it); the message names the file and how to rebuild. */
export class RegistryCorruptError extends Error {}

/** The file on disk changed since this process read it: another writer was there. */
export class RegistryChangedError extends Error {}

const CORRUPTION = /malformed|file is not a database|SQLITE_CORRUPT|SQLITE_NOTADB|database disk image/i;

export function isCorruption(err: unknown): boolean {
  return CORRUPTION.test(err instanceof Error ? err.message : String(err));
}

const OUR_TABLES = ['images', 'meta', 'roots'];

/** Throws unless `db` is a registry of ours this version can use (or an empty database). */
export function checkOwnership(file: string, db: Database): void {
  const version = schemaVersion(db);
  if (version > SCHEMA_VERSION) {
    throw new RegistrySchemaError(
      `the registry ${file} has schema version ${version}, newer than this version of dataset-index understands (${SCHEMA_VERSION}); ` +
        'upgrade dataset-index — the file was left as it is',
    );
  }
  const tables = (db.exec("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")[0]?.values ?? []).map((r) => String(r[0]));
  if (version === 0 && tables.length === 0) return; // empty: ours to initialise
  const missing = OUR_TABLES.filter((t) => !tables.includes(t));
  if (version === 0 || missing.length > 0) {
    throw new RegistryForeignError(
      `${file} is an SQLite database of another program (tables: ${tables.join(', ') || 'none'}; schema version ${version}), ` +
        'not a dataset-index registry; it was left as it is — point --store elsewhere or move the file',
    );
  }
}

let hasher: Promise<XXHashAPI> | undefined;

/**
 * What this tool last wrote, beside the registry (`<file>.sum`): its stat and xxHash64. A file
 * that matches is byte for byte a database this tool saved from a checked one, so opening it needs
 * no check at all; one that does not (another program wrote it, bits flipped on disk, a save that
 * died between the rename and this record) gets the full `integrity_check`, which finds what
 * `quick_check` does not (index entries that disagree with their rows: measured at 1M rows,
 * quick_check 0.29 s, integrity_check 2.4 s, the hash 0.06 s).
 */
export interface RegistrySum {
  size: number;
  mtimeMs: number;
  ino: number;
  xxh64: string;
}

export function sumFileFor(file: string): string {
  return `${file}.sum`;
}

export async function contentHash(data: Uint8Array): Promise<string> {
  const api = await (hasher ??= xxhash());
  return api.h64Raw(data).toString(16).padStart(16, '0');
}

export async function readSum(file: string): Promise<RegistrySum | null> {
  try {
    const parsed = JSON.parse(await fs.promises.readFile(sumFileFor(file), 'utf8')) as Partial<RegistrySum> | null;
    if (!parsed || typeof parsed.xxh64 !== 'string' || typeof parsed.size !== 'number') return null;
    return parsed as RegistrySum;
  } catch {
    return null;
  }
}

export async function sumMatches(file: string, st: fs.Stats, data: Uint8Array): Promise<boolean> {
  const sum = await readSum(file);
  if (!sum || sum.size !== st.size || sum.mtimeMs !== st.mtimeMs || sum.ino !== st.ino) return false;
  return sum.xxh64 === (await contentHash(data));
}

/** Best effort: without the record the next open only checks more. */
export async function writeSum(file: string, st: fs.Stats, data: Uint8Array): Promise<void> {
  const sum: RegistrySum = { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, xxh64: await contentHash(data) };
  await writeFileAtomic(sumFileFor(file), Buffer.from(JSON.stringify(sum))).catch(() => undefined);
}

/** `PRAGMA quick_check` or `integrity_check`: 'ok', or SQLite's first complaint. */
export function checkDatabase(db: Database, full: boolean): string {
  const res = db.exec(full ? 'PRAGMA integrity_check(1)' : 'PRAGMA quick_check(1)');
  return String(res[0]?.values[0]?.[0] ?? '');
}
