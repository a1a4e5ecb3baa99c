import { loadSqlJs } from './sqlite';
import { NotRegularFileError } from '../fsutil/regularFile';
import { describeCause } from '../fsutil/atomicWrite';
import { readDatabaseSnapshot } from './walSnapshot';
import { quoteIdent, resolveSource, type ResolvedSource } from './externalSchema';
import { externalPathRule } from './externalPathRule';

export interface ExternalRegistrySpec {
  /** An existing SQLite file of the user's pipeline; read, never written. */
  file: string;
  /** Case-insensitive, as in SQLite; `main.` may prefix it. A view works too. */
  table: string;
  pathColumn: string;
}

export interface ExternalPaths {
  /** Paths under the root, relative with POSIX separators (distinct, after the path rule). */
  paths: Set<string>;
  /** Non-null rows read. */
  rows: number;
  /** Rows whose path is outside the root, or a URI of another host (ignored). */
  outside: number;
  /** Committed frames taken from the database's write-ahead log. */
  walFrames: number;
}

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

async function readImage(file: string): Promise<{ image: Buffer; walFrames: number }> {
  try {
    return await readDatabaseSnapshot(file);
  } catch (err) {
    if (err instanceof NotRegularFileError) throw new Error(`the external registry ${err.file} is not a regular file (${err.kind})`, { cause: err });
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`the external registry ${file} does not exist (ENOENT)`, { cause: err });
    throw new Error(`cannot read the external registry ${file}: ${describeCause(err)}`, { cause: err });
  }
}

/**
 * Reads registered paths from another tool's SQLite database, as SQLite would see it now (its
 * WAL included). The file is read into memory and opened there, so it cannot be modified.
 * Names and the file are checked here, before any scan: a typo fails in a second with the
 * tables or columns there are.
 */
export async function readExternalRegistry(spec: ExternalRegistrySpec, root: string): Promise<ExternalPaths> {
  const SQL = await loadSqlJs();
  const { image, walFrames } = await readImage(spec.file);
  // An empty file is an empty database to SQLite (it then has no table); anything else must say so.
  if (image.length > 0 && (image.length < 100 || !image.subarray(0, 16).equals(SQLITE_MAGIC))) {
    throw new Error(`the external registry ${spec.file} is not a SQLite database (no SQLite header)`);
  }
  const db = new SQL.Database(image);
  try {
    let source: ResolvedSource;
    try {
      source = resolveSource(db, spec.file, spec.table, spec.pathColumn);
    } catch (err) {
      if (err instanceof Error && /no (table|column)|schema/.test(err.message)) throw err;
      throw new Error(`the external registry ${spec.file} is not a readable SQLite database: ${describeCause(err)}`, { cause: err });
    }
    const col = quoteIdent(source.column);
    // One string for all rows (NUL-separated): no per-row crossing of the wasm boundary.
    const res = db.exec(`SELECT count(*), CAST(group_concat(CAST(${col} AS TEXT), char(0)) AS BLOB) FROM ${quoteIdent(source.table)} WHERE ${col} IS NOT NULL`);
    const rows = Number(res[0]?.values[0]?.[0] ?? 0);
    const blob = res[0]?.values[0]?.[1] as Uint8Array | null;
    const paths = new Set<string>();
    let outside = 0;
    if (blob) {
      const rule = externalPathRule(root);
      for (const raw of Buffer.from(blob).toString('utf8').split('\0')) {
        const rel = rule(raw);
        if (rel === null) outside++;
        else paths.add(rel);
      }
    }
    return { paths, rows, outside, walFrames };
  } finally {
    db.close();
  }
}
