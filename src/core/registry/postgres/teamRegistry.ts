import * as path from 'node:path';
import type { Client } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import type { RegistryWriter } from '../backend';
import {
  emptyIndex, indexOfPaths, isTransientReason, type DuplicateGroup, type HashedRow, type ImageRow, type ImageStatus, type PerceptualHashes, type RegisteredIndex,
} from '../registry';
import { connectTeam, TeamRegistryError, type TeamRegistrySpec } from './connect';
import { readCopy } from './copyText';
import { fromSqlInteger, toSqlInteger } from '../../similar/hash64';
import { checkSchema, migrateTeam, table } from './schema';

/** Rows per statement of the batched writes (arrays bound as parameters: one round trip each). */
const WRITE_BATCH = 20_000;

/** A row as the team registry stores it: an ImageRow and its perceptual hash (int64 as decimal text; null when unknown). */
/** A row as ImageRow carries it: `phash` as 16 hex digits (the database stores a signed bigint). */
export type TeamRow = ImageRow;

/** The dataset's name when none is given: the root folder's base name. */
export function datasetNameFor(root: string, given?: string): string {
  const name = (given ?? path.basename(root)).trim();
  if (!name) throw new TeamRegistryError('the dataset needs a name (--dataset NAME): the folder has none');
  return name;
}

export const ROW_COLUMNS = 'path, size, mtime_ms, hash, width, height, format, status, reason, registered_at, phash';

function num(v: string | null): number | null {
  return v === null ? null : Number(v);
}

/** One COPY line of ROW_COLUMNS as a row. */
export function rowOfFields(f: readonly (string | null)[]): TeamRow {
  return {
    path: f[0] as string,
    size: num(f[1]),
    mtimeMs: num(f[2]),
    hash: f[3],
    width: num(f[4]),
    height: num(f[5]),
    format: f[6],
    status: f[7] as ImageStatus,
    reason: f[8],
    registeredAt: Number(f[9]),
    phash: f[10] === null ? null : fromSqlInteger(f[10]),
  };
}

export interface OpenTeamOptions {
  /** A writer migrates the schema and creates the dataset; a reader does neither (a read-only role suffices). */
  write: boolean;
  connectTimeoutMs?: number;
}

/**
 * One dataset of a team registry on PostgreSQL. Every query is parameterised; the only value
 * written into SQL text is the dataset's id inside COPY (COPY takes no parameters), and that is
 * an integer this class read from the database itself.
 */
export class TeamRegistry implements RegistryWriter {
  private constructor(
    readonly client: Client,
    readonly location: string,
    readonly dataset: string,
    /** null: a reader found no such dataset (or no tables): it has no rows. */
    readonly datasetId: number | null,
  ) {}

  static async open(spec: TeamRegistrySpec, root: string, options: OpenTeamOptions): Promise<TeamRegistry> {
    const dataset = datasetNameFor(root, spec.dataset);
    const { client, location } = await connectTeam(spec, options.connectTimeoutMs);
    try {
      let id: number | null = null;
      if (options.write) {
        await migrateTeam(client);
        await client.query(`INSERT INTO ${table('datasets')} (name) VALUES ($1) ON CONFLICT (name) DO NOTHING`, [dataset]);
        id = await TeamRegistry.idOf(client, dataset);
      } else if (await checkSchema(client)) {
        id = await TeamRegistry.idOf(client, dataset);
      }
      return new TeamRegistry(client, `${location} (dataset ${dataset})`, dataset, id);
    } catch (err) {
      await client.end().catch(() => undefined);
      if (err instanceof TeamRegistryError) throw err;
      throw new TeamRegistryError(`the team registry ${location} refused: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private static async idOf(client: Client, dataset: string): Promise<number | null> {
    const res = await client.query<{ id: string }>(`SELECT id FROM ${table('datasets')} WHERE name = $1`, [dataset]);
    return res.rows.length ? Number(res.rows[0].id) : null;
  }

  /** The id, checked as an integer: it is the one value COPY needs written into its text. */
  private idLiteral(): string {
    if (this.datasetId === null || !Number.isSafeInteger(this.datasetId)) throw new Error(`no dataset id for ${this.dataset}`);
    return String(this.datasetId);
  }

  private writableId(): number {
    if (this.datasetId === null) throw new Error(`the team registry was opened read-only for ${this.dataset}`);
    return this.datasetId;
  }

  /** Streams `COPY (query) TO STDOUT` rows to `onRow`. */
  async copyOut(query: string, onRow: (fields: (string | null)[]) => void): Promise<void> {
    const stream = this.client.query(copyTo(`COPY (${query}) TO STDOUT`));
    await readCopy(stream, onRow);
  }

  /**
   * The dataset's paths streamed in path order by COPY (the primary key serves them sorted) and
   * arranged by folder as the SQLite backend's are, so the same diff runs on them. Unreadable
   * rows carry their reason; readable ones a null (two bytes). Measured against diffing in the
   * server through a temporary table filled by COPY (serverDiff.ts): see the README's figures.
   */
  async loadIndex(options: { withStats?: boolean } = {}): Promise<RegisteredIndex> {
    if (this.datasetId === null) return emptyIndex();
    const withStats = options.withStats === true;
    const paths: string[] = [];
    const bad: number[] = [];
    const badReason: (string | null)[] = [];
    const sizes: number[] = [];
    const mtimes: number[] = [];
    const stats = withStats ? ', size, mtime_ms' : '';
    await this.copyOut(
      `SELECT path, CASE WHEN status = 'unreadable' THEN coalesce(reason, '') END${stats} FROM ${table('images')} WHERE dataset_id = ${this.idLiteral()} ORDER BY path`,
      (f) => {
        if (f[1] !== null) {
          bad.push(paths.length);
          badReason.push(f[1]);
        }
        paths.push(f[0] as string);
        if (withStats) {
          sizes.push(f[2] === null ? NaN : Number(f[2]));
          mtimes.push(f[3] === null ? NaN : Number(f[3]));
        }
      },
    );
    if (paths.length === 0) return emptyIndex();
    const index = indexOfPaths(paths.join('\0'), paths.length);
    for (let k = 0; k < bad.length; k++) {
      index.unreadable[bad[k]] = 1;
      if (isTransientReason(badReason[k])) index.retry[bad[k]] = 1;
    }
    if (withStats) {
      index.size = Float64Array.from(sizes);
      index.mtimeMs = Float64Array.from(mtimes);
    }
    return index;
  }

  /** Hashes that occur twice are found by counting on the (dataset_id, hash) index; only their paths are then read. */
  async duplicateGroups(): Promise<DuplicateGroup[]> {
    if (this.datasetId === null) return [];
    const res = await this.client.query<{ hash: string; paths: string[] }>(
      `SELECT hash, array_agg(path ORDER BY path) AS paths FROM ${table('images')}
       WHERE dataset_id = $1 AND hash IN (
         SELECT hash FROM ${table('images')} WHERE dataset_id = $1 AND hash IS NOT NULL GROUP BY hash HAVING count(*) > 1)
       GROUP BY hash ORDER BY hash`,
      [this.datasetId],
    );
    return res.rows.map((r) => ({ hash: r.hash, paths: r.paths }));
  }

  /**
   * Every row in path order. COPY streams them; they are handed on in slices of a few thousand,
   * so a million rows never sit in memory at once and a slow reader holds the stream back.
   */
  async *rows(): AsyncIterable<TeamRow> {
    if (this.datasetId === null) return;
    const stream = this.client.query(copyTo(`COPY (SELECT ${ROW_COLUMNS} FROM ${table('images')} WHERE dataset_id = ${this.idLiteral()} ORDER BY path) TO STDOUT`));
    // readCopy pushes; this generator pulls: rows wait in a small queue, the stream paused when it fills.
    let queue: TeamRow[] = [];
    let wake: (() => void) | null = null;
    let finished = false;
    let failure: unknown = null;
    const reading = readCopy(stream, (f) => {
      queue.push(rowOfFields(f));
      if (queue.length >= 4096 && !stream.isPaused()) stream.pause();
      wake?.();
    }).then(
      () => {
        finished = true;
        wake?.();
      },
      (err: unknown) => {
        failure = err;
        finished = true;
        wake?.();
      },
    );
    try {
      for (;;) {
        if (queue.length) {
          const slice = queue;
          queue = [];
          if (stream.isPaused()) stream.resume();
          yield* slice;
          continue;
        }
        if (finished) break;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
      }
      if (failure) throw failure instanceof Error ? failure : new Error('the COPY stream failed');
    } finally {
      if (!finished) stream.destroy();
      await reading;
    }
  }

  async perceptualHashes(): Promise<PerceptualHashes> {
    const none: PerceptualHashes = { count: 0, paths: [], hi: new Uint32Array(0), lo: new Uint32Array(0), unhashed: 0 };
    if (this.datasetId === null) return none;
    const res = await this.client.query<{ path: string; phash: string }>(
      `SELECT path, phash::text AS phash FROM ${table('images')} WHERE dataset_id = $1 AND phash IS NOT NULL ORDER BY path`,
      [this.datasetId],
    );
    const unhashed = await this.client.query<{ n: string }>(
      `SELECT count(*) AS n FROM ${table('images')} WHERE dataset_id = $1 AND status = 'ok' AND phash IS NULL`,
      [this.datasetId],
    );
    const n = res.rows.length;
    const hi = new Uint32Array(n);
    const lo = new Uint32Array(n);
    res.rows.forEach((r, i) => {
      const u = BigInt.asUintN(64, BigInt(r.phash));
      hi[i] = Number(u >> 32n);
      lo[i] = Number(u & 0xffffffffn);
    });
    return { count: n, paths: res.rows.map((r) => r.path), hi, lo, unhashed: Number(unhashed.rows[0].n) };
  }

  async count(): Promise<number> {
    if (this.datasetId === null) return 0;
    const res = await this.client.query<{ n: string }>(`SELECT count(*) AS n FROM ${table('images')} WHERE dataset_id = $1`, [this.datasetId]);
    return Number(res.rows[0].n);
  }

  async hashedRowsOf(paths: readonly string[]): Promise<HashedRow[]> {
    if (this.datasetId === null || paths.length === 0) return [];
    const out: HashedRow[] = [];
    for (let at = 0; at < paths.length; at += WRITE_BATCH) {
      const res = await this.client.query<{ path: string; hash: string; size: string | null }>(
        `SELECT path, hash, size FROM ${table('images')} WHERE dataset_id = $1 AND hash IS NOT NULL AND path = ANY($2::text[]) ORDER BY path`,
        [this.datasetId, paths.slice(at, at + WRITE_BATCH)],
      );
      for (const r of res.rows) out.push({ path: r.path, hash: r.hash, size: r.size === null ? null : Number(r.size) });
    }
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  async upsert(rows: readonly TeamRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.inTransaction(async () => {
      for (let at = 0; at < rows.length; at += WRITE_BATCH) await this.upsertSome(rows.slice(at, at + WRITE_BATCH));
    });
  }

  /** One INSERT … ON CONFLICT for a batch: columns bound as arrays and unnested in the server. */
  async upsertSome(rows: readonly TeamRow[]): Promise<void> {
    const id = this.writableId();
    await this.client.query(
      `INSERT INTO ${table('images')} (dataset_id, ${ROW_COLUMNS})
       SELECT $1, * FROM unnest($2::text[], $3::bigint[], $4::float8[], $5::text[], $6::int[], $7::int[], $8::text[], $9::text[], $10::text[], $11::bigint[], $12::bigint[])
       ON CONFLICT (dataset_id, path) DO UPDATE SET size = EXCLUDED.size, mtime_ms = EXCLUDED.mtime_ms, hash = EXCLUDED.hash,
         width = EXCLUDED.width, height = EXCLUDED.height, format = EXCLUDED.format, status = EXCLUDED.status,
         reason = EXCLUDED.reason, registered_at = EXCLUDED.registered_at, phash = EXCLUDED.phash`,
      [
        id, rows.map((r) => r.path), rows.map((r) => r.size), rows.map((r) => r.mtimeMs), rows.map((r) => r.hash), rows.map((r) => r.width),
        rows.map((r) => r.height), rows.map((r) => r.format), rows.map((r) => r.status), rows.map((r) => r.reason),
        rows.map((r) => r.registeredAt), rows.map((r) => (r.phash ? toSqlInteger(r.phash) : null)),
      ],
    );
  }

  async move(moves: readonly { from: string; row: TeamRow }[]): Promise<void> {
    if (moves.length === 0) return;
    await this.inTransaction(() => this.moveSome(moves));
  }

  /**
   * Moves in two statements: the target paths' rows (if any) go, then the old rows take the new
   * paths and probes. A row another registrar already moved is not found: its file becomes a new
   * row instead, so no file is left without one.
   */
  async moveSome(moves: readonly { from: string; row: TeamRow }[]): Promise<void> {
    const id = this.writableId();
    const to = moves.map((m) => m.row.path);
    await this.client.query(`DELETE FROM ${table('images')} WHERE dataset_id = $1 AND path = ANY($2::text[])`, [id, to]);
    const res = await this.client.query<{ path: string }>(
      `UPDATE ${table('images')} i SET path = m.to_path, size = m.size, mtime_ms = m.mtime_ms, width = m.width, height = m.height,
         format = m.format, status = m.status, reason = m.reason, phash = m.phash
       FROM unnest($2::text[], $3::text[], $4::bigint[], $5::float8[], $6::int[], $7::int[], $8::text[], $9::text[], $10::text[], $11::bigint[])
         AS m(from_path, to_path, size, mtime_ms, width, height, format, status, reason, phash)
       WHERE i.dataset_id = $1 AND i.path = m.from_path
       RETURNING i.path`,
      [
        id, moves.map((m) => m.from), to, moves.map((m) => m.row.size), moves.map((m) => m.row.mtimeMs), moves.map((m) => m.row.width),
        moves.map((m) => m.row.height), moves.map((m) => m.row.format), moves.map((m) => m.row.status), moves.map((m) => m.row.reason),
        moves.map((m) => (m.row.phash ? toSqlInteger(m.row.phash) : null)),
      ],
    );
    if (res.rows.length < moves.length) {
      const moved = new Set(res.rows.map((r) => r.path));
      await this.upsertSome(moves.filter((m) => !moved.has(m.row.path)).map((m) => m.row));
    }
  }

  async remove(paths: readonly string[]): Promise<number> {
    if (this.datasetId === null || paths.length === 0) return 0;
    const id = this.datasetId;
    let removed = 0;
    await this.inTransaction(async () => {
      for (let at = 0; at < paths.length; at += WRITE_BATCH) {
        const res = await this.client.query(`DELETE FROM ${table('images')} WHERE dataset_id = $1 AND path = ANY($2::text[])`, [id, paths.slice(at, at + WRITE_BATCH)]);
        removed += res.rowCount ?? 0;
      }
    });
    return removed;
  }

  /** Each write above is its own committed transaction. */
  commit(): Promise<void> {
    return Promise.resolve();
  }

  async inTransaction<T>(work: () => Promise<T>): Promise<T> {
    await this.client.query('BEGIN');
    try {
      const out = await work();
      await this.client.query('COMMIT');
      return out;
    } catch (err) {
      await this.client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }
}
