import * as fs from 'node:fs';
import type { Database, QueryExecResult, SqlValue } from 'sql.js';
import { writeFileAtomic } from '../fsutil/atomicWrite';
import { TOOL_VERSION } from '../version';
import { migrate, SCHEMA_VERSION } from './schema';
import { loadSqlJs } from './sqlite';
import { halvesOfHexRun, toSqlInteger } from '../similar/hash64';
import {
  checkDatabase, checkOwnership, isCorruption, RegistryChangedError, RegistryCorruptError, RegistryForeignError, RegistrySchemaError,
  sumMatches, writeSum,
} from './integrity';

export { RegistryChangedError, RegistryCorruptError, RegistryForeignError, RegistrySchemaError };

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
  /** Perceptual hash, 16 hex digits (similar/); null or absent: none computed. */
  phash?: string | null;
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
  /** Unreadable rows whose cause can pass (see isTransientReason): read again by the next register. */
  retry: Uint8Array;
  /** Size and mtime per row: loaded only when the snapshot has file stats to compare them with. */
  size: Float64Array | null;
  mtimeMs: Float64Array | null;
}

export function emptyIndex(): RegisteredIndex {
  return { count: 0, byDir: new Map(), dirOf: [], nameOf: [], unreadable: new Uint8Array(0), retry: new Uint8Array(0), size: null, mtimeMs: null };
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
  "SELECT CAST(group_concat(path || char(0) || coalesce(reason, ''), char(0)) AS BLOB) FROM images INDEXED BY images_unreadable WHERE root_id = ? AND status = 'unreadable'";

/**
 * Reasons of unreadable rows that can pass without the file changing (a permission fixed, a
 * mount back, a copy finished): such rows are read again by the next register.
 */
const TRANSIENT_REASON = /\b(EACCES|EPERM|ENOENT|EIO|EAGAIN|EBUSY|ETIMEDOUT|EMFILE|ENFILE|ESTALE|ENXIO)\b|changed while being read/;

export function isTransientReason(reason: string | null): boolean {
  return reason !== null && TRANSIENT_REASON.test(reason);
}

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
      if (!lastMap) byDir.set(lastDir, (lastMap = new Map<string, number>()));
    }
    const name = joined.slice(nameStart, end);
    lastMap.set(name, i);
    dirOf[i] = lastDir;
    nameOf[i] = name;
    pos = end + 1;
  }
  return { count, byDir, dirOf, nameOf, unreadable: new Uint8Array(count), retry: new Uint8Array(count), size: null, mtimeMs: null };
}

/** A registered row's content identity, for pairing moved files with their old rows. */
export interface HashedRow {
  path: string;
  hash: string;
  size: number | null;
}

const REMOVE_BATCH = 50_000;

export interface DuplicateGroup {
  hash: string;
  paths: string[];
}

interface FileStamp {
  size: number;
  mtimeMs: number;
  ino: number;
}

const ROW_COLUMNS = "path, size, mtime_ms, hash, width, height, format, status, reason, registered_at, CASE WHEN phash IS NULL THEN NULL ELSE printf('%016x', phash) END";

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
    phash: v[10] as string | null,
  };
}

/** The row's perceptual hash as SQLite's signed INTEGER (decimal text, CAST in the statement). */
function sqlPhash(r: ImageRow): string | null {
  return r.phash ? toSqlInteger(r.phash) : null;
}

/** A root's perceptual hashes: paths and the hashes' halves, aligned (similar/hash64.ts). */
export interface PerceptualHashes {
  count: number;
  paths: string[];
  hi: Uint32Array;
  lo: Uint32Array;
  /** Rows of the root that have no perceptual hash (status ok, phash NULL). */
  unhashed: number;
}

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

function stampOf(st: fs.Stats): FileStamp {
  return { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino };
}

function timestampForFile(): string {
  return new Date().toISOString().replace(/[:.]/g, '-');
}

function sameStamp(a: FileStamp, b: FileStamp): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino;
}

function asideName(file: string): string {
  return `${file}.corrupt-${timestampForFile()}-${process.pid}`;
}

async function moveAside(file: string): Promise<string> {
  const aside = asideName(file);
  await fs.promises.rename(file, aside);
  await fs.promises.rm(`${file}.sum`, { force: true });
  return aside;
}

function moveAsideSync(file: string): string {
  const aside = asideName(file);
  fs.renameSync(file, aside);
  fs.rmSync(`${file}.sum`, { force: true });
  return aside;
}

export interface OpenOptions {
  readOnly?: boolean;
  /**
   * 'full': run integrity_check whatever the sum record says (after an unclean end of the last
   * writer). Default: integrity_check when the file is not the one this tool last saved.
   */
  integrity?: 'auto' | 'full';
}

const REBUILD = 'run `dataset-index register --verify <folder>` to rebuild it';

/**
 * The registration database: a real SQLite file (sql.js keeps it in memory) saved atomically as a
 * whole. Writers hold the lock (see lock.ts) from open to close; a file changed on disk by someone
 * else is re-read before the next write, and never overwritten unseen. Every query goes through
 * `guard`: SQLite's corruption errors become one RegistryCorruptError naming the file.
 */
export class Registry {
  private stamp: FileStamp | null = null;
  /** The schema version the file had when an older one was migrated at open (null: current). */
  private migratedFrom: number | null = null;
  /** Roots recorded under a symlinked path that this writer moved to the real one, not saved yet. */
  private renamedRoots: string[] = [];

  private constructor(
    readonly file: string,
    private db: Database,
    private readonly readOnly: boolean,
  ) {}

  /**
   * Opens (or creates) the database. A newer schema or another program's database is refused
   * (nothing on disk changes). A corrupt file is, for a writer, moved aside to
   * `<file>.corrupt-<time>` (never overwritten) and a fresh database started; `notice` says where
   * it went and how to rebuild. For a reader it is an error.
   */
  static async open(file: string, options: OpenOptions = {}): Promise<{ registry: Registry; notice?: string }> {
    const SQL = await loadSqlJs();
    const readOnly = options.readOnly === true;
    let buf: Buffer | null = null;
    let st: fs.Stats | null;
    try {
      // One descriptor for the stat and the bytes, so the sum record is checked against what was read.
      const handle = await fs.promises.open(file, 'r');
      try {
        st = await handle.stat();
        if (st.isDirectory()) throw new Error(`the registry ${file} is a directory, not a registry file; remove it or choose another --store`);
        buf = await handle.readFile();
      } finally {
        await handle.close();
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        if ((err as NodeJS.ErrnoException).code) throw new Error(`cannot read the registry ${file}: ${(err as NodeJS.ErrnoException).code}`, { cause: err });
        throw err;
      }
      st = null;
    }
    if (buf && st && buf.length > 0) {
      let db: Database | null = null;
      try {
        if (!buf.subarray(0, 16).equals(SQLITE_MAGIC)) throw new Error('not an SQLite database (bad header)');
        db = new SQL.Database(buf);
        checkOwnership(file, db);
        const trusted = options.integrity !== 'full' && (await sumMatches(file, st, buf));
        if (!trusted) {
          const verdict = checkDatabase(db, true);
          if (verdict !== 'ok') throw new Error(`integrity check failed: ${verdict}`);
          await writeSum(file, st, buf);
        }
        // A reader migrates in memory only (the file stays byte for byte as it is: a reader never
        // writes); a writer saves the migrated file at its next save, or at saveOpenChanges.
        const from = migrate(db);
        const registry = new Registry(file, db, readOnly);
        registry.stamp = stampOf(st);
        registry.migratedFrom = from < SCHEMA_VERSION ? from : null;
        return { registry };
      } catch (err) {
        db?.close();
        if (err instanceof RegistrySchemaError || err instanceof RegistryForeignError) throw err;
        const why = err instanceof Error ? err.message : String(err);
        if (readOnly) throw new RegistryCorruptError(`the registry ${file} is corrupt (${why}); run \`dataset-index register <folder>\` to move it aside and rebuild it`);
        const aside = await moveAside(file);
        const registry = Registry.fresh(SQL.Database, file);
        return { registry, notice: `the registry ${file} was corrupt (${why}); it was moved to ${aside} and a new one started (${REBUILD})` };
      }
    }
    return { registry: Registry.fresh(SQL.Database, file, readOnly) };
  }

  private static fresh(Db: new () => Database, file: string, readOnly = false): Registry {
    const registry = new Registry(file, new Db(), readOnly);
    migrate(registry.db);
    registry.setMeta();
    return registry;
  }

  private setMeta(): void {
    this.db.run("INSERT OR IGNORE INTO meta(key, value) VALUES ('created_at', ?)", [new Date().toISOString()]);
    this.db.run("INSERT OR REPLACE INTO meta(key, value) VALUES ('tool_version', ?)", [TOOL_VERSION]);
  }

  /**
   * Runs a query; SQLite's "malformed" (and kin) becomes RegistryCorruptError, at any point, not
   * only at open. A writer's file is moved aside then — if it is still the file we read.
   */
  private guard<T>(query: () => T): T {
    try {
      return query();
    } catch (err) {
      if (!isCorruption(err)) throw err;
      throw this.corrupted(err);
    }
  }

  private corrupted(err: unknown): RegistryCorruptError {
    const why = err instanceof Error ? err.message : String(err);
    if (this.readOnly) {
      return new RegistryCorruptError(`the registry ${this.file} is corrupt (${why}); run \`dataset-index register <folder>\` to move it aside and rebuild it`);
    }
    let aside: string | null = null;
    try {
      if (this.stamp && sameStamp(stampOf(fs.statSync(this.file)), this.stamp)) aside = moveAsideSync(this.file);
    } catch {
      // gone or replaced: nothing of ours to move
    }
    return new RegistryCorruptError(
      `the registry ${this.file} is corrupt (${why}); ` + (aside ? `it was moved to ${aside}; ` : '') + `nothing more was written; ${REBUILD}`,
    );
  }

  /** A failed transaction's rollback must not hide why it failed (on a corrupt file it may fail too). */
  private rollback(): void {
    try {
      this.db.exec('ROLLBACK');
    } catch {
      // the original error is the one to report
    }
  }

  /** Re-reads the file if another process replaced it since we read or wrote it. Returns whether it did. */
  async reloadIfChanged(): Promise<boolean> {
    let st: fs.Stats;
    try {
      st = await fs.promises.stat(this.file);
    } catch {
      return false;
    }
    if (this.stamp && sameStamp(stampOf(st), this.stamp)) return false;
    const { registry } = await Registry.open(this.file, { readOnly: this.readOnly });
    this.db.close();
    this.db = registry.db;
    this.stamp = registry.stamp;
    this.migratedFrom = registry.migratedFrom;
    return true;
  }

  rootId(root: string): number {
    return this.guard(() => this.rootIdOf(root));
  }

  private rootIdOf(root: string): number {
    const alias = this.exactRootId(root) === null ? this.aliasRootId(root) : null;
    // Rows recorded under a symlinked path of this folder (before roots were real paths) are its rows.
    if (alias !== null) {
      const recorded = String(this.db.exec('SELECT path FROM roots WHERE id = ?', [alias])[0].values[0][0]);
      this.db.run('UPDATE roots SET path = ? WHERE id = ?', [root, alias]);
      this.renamedRoots.push(recorded);
    }
    this.db.run('INSERT OR IGNORE INTO roots(path, added_at) VALUES (?, ?)', [root, new Date().toISOString()]);
    return Number(this.db.exec('SELECT id FROM roots WHERE path = ?', [root])[0].values[0][0]);
  }

  /**
   * The root's id, or null when it was never registered (read-only callers must not insert it).
   * `root` is a real path; a root recorded under another path of the same folder is found too.
   */
  findRootId(root: string): number | null {
    return this.guard(() => this.exactRootId(root) ?? this.aliasRootId(root));
  }

  private exactRootId(root: string): number | null {
    const res = this.db.exec('SELECT id FROM roots WHERE path = ?', [root]);
    return res.length ? Number(res[0].values[0][0]) : null;
  }

  /** Only when the exact path is not recorded: one realpath per recorded root (a handful), never per row. */
  private aliasRootId(root: string): number | null {
    for (const [id, recorded] of this.db.exec('SELECT id, path FROM roots')[0]?.values ?? []) {
      try {
        if (fs.realpathSync(String(recorded)) === root) return Number(id);
      } catch {
        // A recorded root that is gone or unreadable is no alias of this one.
      }
    }
    return null;
  }

  /**
   * One query, aggregated: a per-row loop through the WASM boundary costs microseconds a row, a
   * million rows in one string cost one copy. Paths are joined by NUL and returned as a BLOB (a NUL
   * cannot be in a file name, and text results would stop at the first NUL). The few unreadable
   * rows come from their partial index in a second query.
   */
  loadIndex(rootId: number | null, options: { withStats?: boolean } = {}): RegisteredIndex {
    return this.guard(() => this.loadIndexOf(rootId, options));
  }

  private loadIndexOf(rootId: number | null, options: { withStats?: boolean }): RegisteredIndex {
    if (rootId === null) return emptyIndex();
    const withStats = options.withStats === true;
    let res: QueryExecResult[];
    try {
      res = this.db.exec(loadIndexSql(withStats), [rootId]);
    } catch (err) {
      if (isCorruption(err)) throw err;
      res = this.db.exec(loadIndexSql(withStats, false), [rootId]);
    }
    const [count, pathBlob, sizes, mtimes] = res[0].values[0] as [number, Uint8Array | null, string | undefined, string | undefined];
    if (!count || !pathBlob) return emptyIndex();
    const index = indexOfPaths(Buffer.from(pathBlob.buffer, pathBlob.byteOffset, pathBlob.byteLength).toString('utf8'), count);
    const bad = this.db.exec(UNREADABLE_PATHS_SQL, [rootId]);
    const badBlob = bad[0]?.values[0]?.[0] as Uint8Array | null | undefined;
    if (badBlob) {
      const parts = Buffer.from(badBlob).toString('utf8').split('\0');
      for (let k = 0; k + 1 < parts.length; k += 2) {
        const p = parts[k];
        const slash = p.lastIndexOf('/');
        const row = index.byDir.get(slash < 0 ? '' : p.slice(0, slash))?.get(p.slice(slash + 1));
        if (row === undefined) continue;
        index.unreadable[row] = 1;
        if (isTransientReason(parts[k + 1])) index.retry[row] = 1;
      }
    }
    if (options.withStats) {
      index.size = numbersOf(sizes, count);
      index.mtimeMs = numbersOf(mtimes, count);
    }
    return index;
  }

  /**
   * Path, content hash and size of some rows (the missing ones, for move detection), in path order,
   * in one query. Any row with a hash counts, whatever its status: an unreadable file hashed by its
   * bytes moves like a readable one.
   */
  hashedRowsOf(rootId: number, paths: readonly string[]): HashedRow[] {
    if (paths.length === 0) return [];
    const res = this.guard(() => this.db.exec(
      `SELECT CAST(group_concat(path, char(0)) AS BLOB), group_concat(hash, ','), json_group_array(size) FROM (
         SELECT path, hash, size FROM images
         WHERE root_id = ? AND hash IS NOT NULL AND path IN (SELECT value FROM json_each(?)) ORDER BY path)`,
      [rootId, JSON.stringify(paths)],
    ));
    const [blob, hashes, sizes] = res[0].values[0] as [Uint8Array | null, string | null, string];
    if (!blob || !hashes) return [];
    const ps = Buffer.from(blob).toString('utf8').split('\0');
    const hs = hashes.split(',');
    const ss = JSON.parse(sizes) as (number | null)[];
    return ps.map((p, i) => ({ path: p, hash: hs[i], size: ss[i] }));
  }

  /** Deletes rows by path in one transaction (prune: the files are gone). Returns how many went. */
  remove(rootId: number, paths: readonly string[]): number {
    if (paths.length === 0) return 0;
    return this.guard(() => {
      this.db.exec('BEGIN');
      try {
        let removed = 0;
        // Bounded JSON arguments: a million paths in one string would be one huge copy into WASM.
        for (let at = 0; at < paths.length; at += REMOVE_BATCH) {
          this.db.run('DELETE FROM images WHERE root_id = ? AND path IN (SELECT value FROM json_each(?))', [
            rootId, JSON.stringify(paths.slice(at, at + REMOVE_BATCH)),
          ]);
          removed += this.db.getRowsModified();
        }
        this.db.exec('COMMIT');
        return removed;
      } catch (err) {
        this.rollback();
        throw err;
      }
    });
  }

  /** Inserts or replaces rows in one transaction. */
  upsert(rootId: number, rows: readonly ImageRow[]): void {
    if (rows.length > 0) this.guard(() => this.upsertRows(rootId, rows));
  }

  private upsertRows(rootId: number, rows: readonly ImageRow[]): void {
    this.db.exec('BEGIN');
    const stmt = this.db.prepare(
      `INSERT OR REPLACE INTO images(root_id, path, size, mtime_ms, hash, width, height, format, status, reason, registered_at, phash)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, CAST(? AS INTEGER))`,
    );
    try {
      for (const r of rows) {
        stmt.run([rootId, r.path, r.size, r.mtimeMs, r.hash, r.width, r.height, r.format, r.status, r.reason, r.registeredAt, sqlPhash(r)]);
      }
      stmt.free();
      this.db.exec('COMMIT');
    } catch (err) {
      stmt.free();
      this.rollback();
      throw err;
    }
  }

  /**
   * The row of a file that moved follows it: same registration time, new path and stat, and what
   * the new probe found (an unreadable file that moved may read now, or the other way round).
   */
  move(rootId: number, moves: readonly { from: string; row: ImageRow }[]): void {
    if (moves.length > 0) this.guard(() => this.moveRows(rootId, moves));
  }

  private moveRows(rootId: number, moves: readonly { from: string; row: ImageRow }[]): void {
    this.db.exec('BEGIN');
    try {
      for (const { from, row } of moves) {
        this.db.run('DELETE FROM images WHERE root_id = ? AND path = ?', [rootId, row.path]);
        this.db.run(
          `UPDATE images SET path = ?, size = ?, mtime_ms = ?, width = ?, height = ?, format = ?, status = ?, reason = ?, phash = CAST(? AS INTEGER)
           WHERE root_id = ? AND path = ?`,
          [row.path, row.size, row.mtimeMs, row.width, row.height, row.format, row.status, row.reason, sqlPhash(row), rootId, from],
        );
      }
      this.db.exec('COMMIT');
    } catch (err) {
      this.rollback();
      throw err;
    }
  }

  /**
   * Rows without a hash (files never read through) are in no group, and the hash index covers
   * both steps. Rows of files gone from disk are still here: callers leave them out against the
   * diff (presentDuplicates). The duplicate hashes are found first, by counting alone; only their
   * paths are then joined (joining every row's path and dropping the single ones took twice as long:
   * 0.8–1.0 s against 0.4–0.5 s at 1M rows).
   */
  duplicateGroups(rootId: number | null): DuplicateGroup[] {
    if (rootId === null) return [];
    const res = this.guard(() => this.db.exec(
      `SELECT hash, CAST(group_concat(path, char(0)) AS BLOB) FROM images
       WHERE root_id = ?1 AND hash IN (
         SELECT hash FROM images WHERE root_id = ?1 AND hash IS NOT NULL GROUP BY hash HAVING count(*) > 1)
       GROUP BY hash ORDER BY hash`,
      [rootId],
    ));
    if (!res.length) return [];
    return res[0].values.map(([hash, blob]) => ({
      hash: String(hash),
      paths: Buffer.from(blob as Uint8Array).toString('utf8').split('\0').sort(),
    }));
  }

  /**
   * Every perceptual hash of a root with its path, in one aggregated query (as loadIndex: no
   * per-row crossing of the WASM boundary): paths NUL-joined, hashes as one run of 16-digit hex.
   * Both aggregates see the rows in the same order, so the i-th path goes with the i-th hash.
   */
  perceptualHashes(rootId: number | null): PerceptualHashes {
    const none: PerceptualHashes = { count: 0, paths: [], hi: new Uint32Array(0), lo: new Uint32Array(0), unhashed: 0 };
    if (rootId === null) return none;
    const res = this.guard(() => this.db.exec(
      `SELECT count(*), CAST(group_concat(path, char(0)) AS BLOB), group_concat(printf('%016x', phash), ''),
              (SELECT count(*) FROM images WHERE root_id = ?1 AND status = 'ok' AND phash IS NULL)
       FROM images WHERE root_id = ?1 AND phash IS NOT NULL`,
      [rootId],
    ));
    const [count, blob, run, unhashed] = res[0].values[0] as [number, Uint8Array | null, string | null, number];
    if (!count || !blob || !run) return { ...none, unhashed: Number(unhashed) };
    const paths = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength).toString('utf8').split('\0');
    if (paths.length !== count) throw new Error(`perceptual hashes: ${count} rows but ${paths.length} paths`);
    return { count, paths, ...halvesOfHexRun(run, count), unhashed: Number(unhashed) };
  }

  /** Rows of a root in path order, one at a time (for export: never a million objects at once). */
  *rows(rootId: number | null): Generator<ImageRow> {
    if (rootId === null) return;
    const stmt = this.guard(() => this.db.prepare(`SELECT ${ROW_COLUMNS} FROM images WHERE root_id = ? ORDER BY path`));
    try {
      stmt.bind([rootId]);
      while (this.guard(() => stmt.step())) {
        yield rowOf(stmt.get());
      }
    } finally {
      stmt.free();
    }
  }

  find(rootId: number | null, relPath: string): ImageRow | null {
    if (rootId === null) return null;
    const stmt = this.guard(() => this.db.prepare(`SELECT ${ROW_COLUMNS} FROM images WHERE root_id = ? AND path = ?`));
    try {
      stmt.bind([rootId, relPath]);
      if (!this.guard(() => stmt.step())) return null;
      return rowOf(stmt.get());
    } finally {
      stmt.free();
    }
  }

  count(rootId: number | null): number {
    if (rootId === null) return 0;
    return Number(this.guard(() => this.db.exec('SELECT count(*) FROM images WHERE root_id = ?', [rootId]))[0].values[0][0]);
  }

  /**
   * Writes the whole database atomically; returns its size in bytes. Refused when the file on
   * disk is not the one this process last read or wrote: another writer replaced it (the second
   * fence, after the lock's), and writing would erase its rows.
   */
  async save(): Promise<number> {
    const now = await fs.promises.stat(this.file).then(stampOf, () => null);
    if ((now === null) !== (this.stamp === null) || (now && this.stamp && !sameStamp(now, this.stamp))) {
      throw new RegistryChangedError(
        `the registry ${this.file} was replaced by another writer since this process read it; this batch was not saved over it (rerun to register its rows)`,
      );
    }
    const data = this.guard(() => this.db.export());
    await writeFileAtomic(this.file, data);
    const st = await fs.promises.stat(this.file);
    this.stamp = stampOf(st);
    this.migratedFrom = null;
    this.renamedRoots = [];
    await writeSum(this.file, st, data);
    return data.length;
  }

  /**
   * A writer that migrated an older file, or recorded a root under its real path, saves it even
   * when it has nothing else to write, so the next reader finds that on disk. Returns what it
   * saved, for the user (empty: nothing to save).
   */
  async saveOpenChanges(): Promise<string[]> {
    if (this.readOnly) return [];
    const what: string[] = [];
    if (this.migratedFrom !== null) what.push('the registry was brought to the current schema and saved');
    if (this.renamedRoots.length) what.push(`recorded ${this.renamedRoots.join(', ')} under the real path of the folder`);
    if (what.length === 0) return [];
    await this.save();
    return what;
  }

  close(): void {
    this.db.close();
  }
}
