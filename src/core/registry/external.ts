import * as path from 'node:path';
import { loadSqlJs } from './sqlite';
import { NotRegularFileError, readRegularFile } from '../fsutil/regularFile';
import { describeCause } from '../fsutil/atomicWrite';

export interface ExternalRegistrySpec {
  /** An existing SQLite file of the user's pipeline; read, never written. */
  file: string;
  table: string;
  pathColumn: string;
}

export interface ExternalPaths {
  /** Paths under the root, relative with POSIX separators. */
  paths: Set<string>;
  /** Rows whose path is outside the root (ignored). */
  outside: number;
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Reads registered paths from another tool's SQLite database. The file is read into memory and
 * opened there, so it cannot be modified; absolute paths are made relative to the root.
 */
export async function readExternalRegistry(spec: ExternalRegistrySpec, root: string): Promise<ExternalPaths> {
  const SQL = await loadSqlJs();
  let buf: Buffer;
  try {
    buf = await readRegularFile(spec.file);
  } catch (err) {
    if (err instanceof NotRegularFileError) throw new Error(`the external registry ${spec.file} is not a regular file (${err.kind})`);
    throw new Error(`cannot read the external registry ${spec.file}: ${describeCause(err)}`);
  }
  const db = new SQL.Database(buf);
  try {
    let columns: string[];
    try {
      columns = (db.exec(`PRAGMA table_info(${quoteIdent(spec.table)})`)[0]?.values ?? []).map((r) => String(r[1]));
    } catch (err) {
      throw new Error(`the external registry ${spec.file} is not a readable SQLite database: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (columns.length === 0) throw new Error(`the external registry ${spec.file} has no table ${spec.table}`);
    if (!columns.includes(spec.pathColumn)) {
      throw new Error(`table ${spec.table} in ${spec.file} has no column ${spec.pathColumn} (columns: ${columns.join(', ')})`);
    }
    const res = db.exec(
      `SELECT CAST(group_concat(${quoteIdent(spec.pathColumn)}, char(0)) AS BLOB) FROM ${quoteIdent(spec.table)} WHERE ${quoteIdent(spec.pathColumn)} IS NOT NULL`,
    );
    const blob = res[0]?.values[0]?.[0] as Uint8Array | null;
    const paths = new Set<string>();
    let outside = 0;
    if (blob) {
      const absRoot = path.resolve(root);
      for (const raw of Buffer.from(blob).toString('utf8').split('\0')) {
        const p = raw.replace(/\\/g, '/');
        let rel: string;
        if (path.isAbsolute(p)) {
          rel = path.relative(absRoot, p).split(path.sep).join('/');
          if (rel.startsWith('..') || path.isAbsolute(rel)) {
            outside++;
            continue;
          }
        } else {
          rel = path.posix.normalize(p).replace(/^\.\//, '');
        }
        paths.add(rel);
      }
    }
    return { paths, outside };
  } finally {
    db.close();
  }
}
