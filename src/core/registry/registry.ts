import * as fs from 'node:fs';
import type { Database, QueryExecResult, SqlValue } from 'sql.js';
import { writeFileAtomic } from '../fsutil/atomicWrite';
import { TOOL_VERSION } from '../version';
import { migrate } from './schema';
import { loadSqlJs } from './sqlite';

export type ImageStatus = 'ok' | 'unreadable';

export interface ImageRow {
  path: string;
  size: number | null;
  mtimeMs: number | null;
  hash: string | null;
  width: number | null;
  height: number | null;
  format: string | null;
  status: ImageStatus;
  reason: string | null;
  registeredAt: number;
}

/**
 * Every registered row of one root, arranged by folder like a snapshot, so the diff looks names
 * up in a small per-folder map instead of hashing a million freshly built full paths.
 */
export interface RegisteredIndex {
  count: number;
  /** folder (relative, '' = root) → file name → row number */
  byDir: Map<string, Map<string, number>>;
  dirOf: string[];
  nameOf: string[];
  unreadable: Uint8Array;
  /** Size and mtime per row: loaded only when the snapshot has file stats to compare them with. */
  size: Float64Array | null;
  mtimeMs: Float64Array | null;
}

export function emptyIndex(): RegisteredIndex {
  return { count: 0, byDir: new Map(), dirOf: [], nameOf: [], unreadable: new Uint8Array(0), size: null, mtimeMs: null };
}

export function indexPath(index: RegisteredIndex, row: number): string {
  const dir = index.dirOf[row];
  return dir ? `${dir}/${index.nameOf[row]}` : index.nameOf[row];
}

/**
 * A root's paths (and sizes and mtimes) in path order. The order matters: left to itself the
 * planner reads the smaller (root_id, hash) index, which covers `path` too, and returns rows in
 * hash order; the index then meets every folder a hundred times over instead of once (measured
 * at 1M rows with random hashes: 2.1 s against 0.4 s to build). The primary key serves the rows
 * already sorted. It is named, as SQLite names the primary key of a WITHOUT ROWID table
 * (`sqlite_autoindex_images_1`), which saves the ORDER BY subquery's ~100 ms at 1M rows; should
 * that name ever be refused, the subquery gives the same rows.
 */
export function loadIndexSql(withStats: boolean, viaPrimaryKey = true): string {
  // JSON arrays, not text lists: SQLite writes them faster and JSON.parse reads a million numbers
  // in a tenth of the time split + Number take (1M rows: 0.7 s against 1.3–1.6 s in all). SQLite
  // 3.54 prints REALs so that they read back exactly, which the changed-file check relies on.
  const stats = withStats ? ', json_group_array(size), json_group_array(mtime_ms)' : '';
  const head = `SELECT count(*), CAST(group_concat(path, char(0)) AS BLOB)${stats}`;
  if (viaPrimaryKey) return `${head} FROM images INDEXED BY sqlite_autoindex_images_1 WHERE root_id = ?`;
  const columns = withStats ? 'path, size, mtime_ms' : 'path';
  return `${head} FROM (SELECT ${columns} FROM images WHERE root_id = ? ORDER BY path)`;
}

/** A JSON array of numbers and nulls (unknown → NaN) as `count` doubles. */
function numbersOf(json: string | undefined, count: number): Float64Array {
  const values = JSON.parse(json ?? '[]') as (number | null)[];
  const out = new Float64Array(count).fill(NaN);
  for (let i = 0; i < count && i < values.length; i++) {
    const v = values[i];
    if (v !== null) out[i] = v;
  }
  return out;
}

/**
 * A root's unreadable paths, NUL-joined. Without statistics the planner prefers the primary key
 * (every row of the root); INDEXED BY holds it to the partial index of those few rows.
 */
export const UNREADABLE_PATHS_SQL =
  "SELECT CAST(group_concat(path, char(0)) AS BLOB) FROM images INDEXED BY images_unreadable WHERE root_id = ? AND status = 'unreadable'";

/**
 * The index of NUL-joined relative paths, read in place: one string per file name, none per full
 * path, and a folder's name only when it changes (rows come sorted by path, so a folder's rows
 * mostly arrive together).
 */
export function indexOfPaths(joined: string, count: number): RegisteredIndex {
  const byDir = new Map<string, Map<string, number>>();
  const dirOf = new Array<string>(count);
  const nameOf = new Array<string>(count);
  let lastDir = '';
  let lastMap: Map<string, number> | undefined;
  let pos = 0;
  for (let i = 0; i < count; i++) {
    let end = joined.indexOf('\0', pos);
    if (end < 0) end = joined.length;
    const slash = joined.lastIndexOf('/', end - 1);
    const nameStart = slash < pos ? pos : slash + 1;
    const dirLen = nameStart === pos ? 0 : slash - pos;
    if (lastMap === undefined || dirLen !== lastDir.length || (dirLen > 0 && !joined.startsWith(lastDir, pos))) {
      lastDir = dirLen === 0 ? '' : joined.slice(pos, slash);
      lastMap = byDir.get(lastDir);
      if (!lastMap) byDir.set(lastDir, (lastMap = new Map()));
    }
    const name = joined.slice(nameStart, end);
    lastMap.set(name, i);
    dirOf[i] = lastDir;
    nameOf[i] = name;
    pos = end + 1;
  }
  return { count, byDir, dirOf, nameOf, unreadable: new Uint8Array(count), size: null, mtimeMs: null };
}

export interface DuplicateGroup {
  hash: string;
  paths: string[];
}

export class RegistryCorruptError extends Error {}

interface FileStamp {
  size: number;
  mtimeMs: number;
  ino: number;
}

const ROW_COLUMNS = 'path, size, mtime_ms, hash, width, height, format, status, reason, registered_at';

/** One result row of ROW_COLUMNS as an ImageRow. */
function rowOf(v: SqlValue[]): ImageRow {
  return {
    path: String(v[0]),
    size: v[1] as number | null,
    mtimeMs: v[2] as number | null,
    hash: v[3] as string | null,
    width: v[4] as number | null,
    height: v[5] as number | null,
    format: v[6] as string | null,
    status: v[7] as ImageStatus,
    reason: v[8] as string | null,
    registeredAt: Number(v[9]),
  };
}

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

function stampOf(st: fs.Stats): FileStamp {
  return { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino };
}

function timestampForFile(): string {
  return new Date().toISOString().replace(/[:.]/g, '-');
}

/**
 * The registration database: a real SQLite file (sql.js keeps it in memory) saved atomically as a
 * whole. Writers hold the lock (see lock.ts) from open to close; a file changed on disk by someone
 * else is re-read before the next write.
 */
export class Registry {
  private stamp: FileStamp | null = null;

  private constructor(
    readonly file: string,
    private db: Database,
  ) {}

  /**
   * Opens (or creates) the database. A corrupt file is moved aside to `<file>.corrupt-<time>`
   * (never overwritten) and a fresh database started; `notice` says where it went.
   */
  static async open(file: string, options: { readOnly?: boolean } = {}): Promise<{ registry: Registry; notice?: string }> {
    const SQL = await loadSqlJs();
    let buf: Buffer | null = null;
    let st: fs.Stats | null = null;
    try {
      buf = await fs.promises.readFile(file);
      st = await fs.promises.stat(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (buf && buf.length > 0) {
      try {
        if (!buf.subarray(0, 16).equals(SQLITE_MAGIC)) throw new Error('not an SQLite database (bad header)');
        const db = new SQL.Database(buf);
        try {
          const check = db.exec('PRAGMA quick_check(1)');
          const verdict = String(check[0]?.values[0]?.[0] ?? '');
          if (verdict !== 'ok') throw new Error(`integrity check failed: ${verdict}`);
          if (!options.readOnly) migrate(db);
        } catch (err) {
          db.close();
          throw err;
        }
        const registry = new Registry(file, db);
        registry.stamp = st && stampOf(st);
        return { registry };
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        if (options.readOnly) throw new RegistryCorruptError(`registry ${file} is unreadable: ${why}`);
        const aside = `${file}.corrupt-${timestampForFile()}`;
        await fs.promises.rename(file, aside);
        const registry = new Registry(file, new SQL.Database());
        migrate(registry.db);
        registry.setMeta();
        return { registry, notice: `the registry ${file} was corrupt (${why}); it was moved to ${aside} and a new one started` };
      }
    }
    const registry = new Registry(file, new SQL.Database());
    migrate(registry.db);
    registry.setMeta();
    return { registry };
  }

  private setMeta(): void {
    this.db.run("INSERT OR IGNORE INTO meta(key, value) VALUES ('created_at', ?)", [new Date().toISOString()]);
    this.db.run("INSERT OR REPLACE INTO meta(key, value) VALUES ('tool_version', ?)", [TOOL_VERSION]);
  }

  /** Re-reads the file if another process replaced it since we read or wrote it. Returns whether it did. */
  async reloadIfChanged(): Promise<boolean> {
    let st: fs.Stats;
    try {
      st = await fs.promises.stat(this.file);
    } catch {
      return false;
    }
    const now = stampOf(st);
    if (this.stamp && now.size === this.stamp.size && now.mtimeMs === this.stamp.mtimeMs && now.ino === this.stamp.ino) return false;
    const { registry } = await Registry.open(this.file);
    this.db.close();
    this.db = registry.db;
    this.stamp = registry.stamp;
    return true;
  }

  rootId(root: string): number {
    this.db.run('INSERT OR IGNORE INTO roots(path, added_at) VALUES (?, ?)', [root, new Date().toISOString()]);
    return Number(this.db.exec('SELECT id FROM roots WHERE path = ?', [root])[0].values[0][0]);
  }

  /** The root's id, or null when it was never registered (read-only callers must not insert it). */
  findRootId(root: string): number | null {
    const res = this.db.exec('SELECT id FROM roots WHERE path = ?', [root]);
    return res.length ? Number(res[0].values[0][0]) : null;
  }

  /**
   * One query, aggregated: a per-row loop through the WASM boundary costs microseconds a row, a
   * million rows in one string cost one copy. Paths are joined by NUL and returned as a BLOB (a NUL
   * cannot be in a file name, and text results would stop at the first NUL). The few unreadable
   * rows come from their partial index in a second query.
   */
  loadIndex(rootId: number | null, options: { withStats?: boolean } = {}): RegisteredIndex {
    if (rootId === null) return emptyIndex();
    const withStats = options.withStats === true;
    let res: QueryExecResult[];
    try {
      res = this.db.exec(loadIndexSql(withStats), [rootId]);
    } catch {
      res = this.db.exec(loadIndexSql(withStats, false), [rootId]);
    }
    const [count, pathBlob, sizes, mtimes] = res[0].values[0] as [number, Uint8Array | null, string | undefined, string | undefined];
    if (!count || !pathBlob) return emptyIndex();
    const index = indexOfPaths(Buffer.from(pathBlob.buffer, pathBlob.byteOffset, pathBlob.byteLength).toString('utf8'), count);
    const bad = this.db.exec(UNREADABLE_PATHS_SQL, [rootId]);
    const badBlob = bad[0]?.values[0]?.[0] as Uint8Array | null | undefined;
    if (badBlob) {
      for (const p of Buffer.from(badBlob).toString('utf8').split('\0')) {
        const slash = p.lastIndexOf('/');
        const row = index.byDir.get(slash < 0 ? '' : p.slice(0, slash))?.get(p.slice(slash + 1));
        if (row !== undefined) index.unreadable[row] = 1;
      }
    }
    if (options.withStats) {
      index.size = numbersOf(sizes, count);
      index.mtimeMs = numbersOf(mtimes, count);
    }
    return index;
  }

  /** Content hashes of some rows (the missing ones, for move detection), in one query. */
  hashesOf(rootId: number, paths: readonly string[]): Map<string, string> {
    const out = new Map<string, string>();
    if (paths.length === 0) return out;
    const res = this.db.exec(
      `SELECT CAST(group_concat(path, char(0)) AS BLOB), group_concat(hash, ',') FROM images
       WHERE root_id = ? AND hash IS NOT NULL AND path IN (SELECT value FROM json_each(?))`,
      [rootId, JSON.stringify(paths)],
    );
    const [blob, hashes] = res[0].values[0] as [Uint8Array | null, string | null];
    if (!blob || !hashes) return out;
    const ps = Buffer.from(blob).toString('utf8').split('\0');
    const hs = hashes.split(',');
    for (let i = 0; i < ps.length; i++) out.set(ps[i], hs[i]);
    return out;
  }

  /** Inserts or replaces rows in one transaction. */
  upsert(rootId: number, rows: readonly ImageRow[]): void {
    if (rows.length === 0) return;
    this.db.exec('BEGIN');
    const stmt = this.db.prepare(
      `INSERT OR REPLACE INTO images(root_id, path, size, mtime_ms, hash, width, height, format, status, reason, registered_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    try {
      for (const r of rows) {
        stmt.run([rootId, r.path, r.size, r.mtimeMs, r.hash, r.width, r.height, r.format, r.status, r.reason, r.registeredAt]);
      }
      stmt.free();
      this.db.exec('COMMIT');
    } catch (err) {
      stmt.free();
      this.db.exec('ROLLBACK');
      throw err;
    }
  }

  /** The row of a file that moved follows it: same registration, new path and stat. */
  move(rootId: number, moves: readonly { from: string; row: ImageRow }[]): void {
    if (moves.length === 0) return;
    this.db.exec('BEGIN');
    try {
      for (const { from, row } of moves) {
        this.db.run('DELETE FROM images WHERE root_id = ? AND path = ?', [rootId, row.path]);
        this.db.run('UPDATE images SET path = ?, size = ?, mtime_ms = ? WHERE root_id = ? AND path = ?', [row.path, row.size, row.mtimeMs, rootId, from]);
      }
      this.db.exec('COMMIT');
    } catch (err) {
      this.db.exec('ROLLBACK');
      throw err;
    }
  }

  /**
   * Unreadable rows have no hash, so `hash IS NOT NULL` is the readable ones, and the hash index
   * covers both steps. The duplicate hashes are found first, by counting alone; only their paths
   * are then joined (joining every row's path and dropping the single ones took twice as long:
   * 0.8–1.0 s against 0.4–0.5 s at 1M rows).
   */
  duplicateGroups(rootId: number | null): DuplicateGroup[] {
    if (rootId === null) return [];
    const res = this.db.exec(
      `SELECT hash, CAST(group_concat(path, char(0)) AS BLOB) FROM images
       WHERE root_id = ?1 AND hash IN (
         SELECT hash FROM images WHERE root_id = ?1 AND hash IS NOT NULL GROUP BY hash HAVING count(*) > 1)
       GROUP BY hash ORDER BY hash`,
      [rootId],
    );
    if (!res.length) return [];
    return res[0].values.map(([hash, blob]) => ({
      hash: String(hash),
      paths: Buffer.from(blob as Uint8Array).toString('utf8').split('\0').sort(),
    }));
  }

  /** Rows of a root in path order, one at a time (for export: never a million objects at once). */
  *rows(rootId: number | null): Generator<ImageRow> {
    if (rootId === null) return;
    const stmt = this.db.prepare(`SELECT ${ROW_COLUMNS} FROM images WHERE root_id = ? ORDER BY path`);
    try {
      stmt.bind([rootId]);
      while (stmt.step()) {
        yield rowOf(stmt.get());
      }
    } finally {
      stmt.free();
    }
  }

  find(rootId: number | null, relPath: string): ImageRow | null {
    if (rootId === null) return null;
    const stmt = this.db.prepare(`SELECT ${ROW_COLUMNS} FROM images WHERE root_id = ? AND path = ?`);
    try {
      stmt.bind([rootId, relPath]);
      if (!stmt.step()) return null;
      return rowOf(stmt.get());
    } finally {
      stmt.free();
    }
  }

  count(rootId: number | null): number {
    if (rootId === null) return 0;
    return Number(this.db.exec('SELECT count(*) FROM images WHERE root_id = ?', [rootId])[0].values[0][0]);
  }

  /** Writes the whole database atomically; returns its size in bytes. */
  async save(): Promise<number> {
    const data = this.db.export();
    await writeFileAtomic(this.file, data);
    this.stamp = stampOf(await fs.promises.stat(this.file));
    return data.length;
  }

  close(): void {
    this.db.close();
  }
}
