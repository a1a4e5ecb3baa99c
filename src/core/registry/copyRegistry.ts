import { createHash, type Hash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { from as copyFrom } from 'pg-copy-streams';
import type { RegistryReader } from './backend';
import { SqliteBackend } from './backend';
import type { ImageRow } from './registry';
import { Registry } from './registry';
import { openWriteSession } from './writeSession';
import type { TeamRegistrySpec } from './postgres/connect';
import { copyLine, writeCopy } from './postgres/copyText';
import { table } from './postgres/schema';
import { ROW_COLUMNS, TeamRegistry, type TeamRow } from './postgres/teamRegistry';
import { toSqlInteger } from '../similar/hash64';

/** One end of a copy: a store's SQLite registry (rows of one root), or a team registry's dataset. */
export type RegistryEnd =
  | { kind: 'sqlite'; registryFile: string; root: string }
  | { kind: 'team'; spec: TeamRegistrySpec; root: string };

export interface CopyResult {
  from: string;
  to: string;
  rows: number;
  /** sha256 of every row in path order, as read from the source and read back from the target. */
  checksum: string;
}

export class RegistryCopyError extends Error {}

const UPSERT_BATCH = 50_000;

/** A row's perceptual hash as both backends hand it: 16 hex digits, or null. */
function phashOf(row: ImageRow): string | null {
  return row.phash ?? null;
}

/** The row as both sides must agree on it, field by field. */
function canonical(row: ImageRow): string {
  return copyLine([row.path, row.size, row.mtimeMs, row.hash, row.width, row.height, row.format, row.status, row.reason, row.registeredAt, phashOf(row)]);
}

/** Rows in path order, counted and hashed on the way through. */
async function* hashed(rows: AsyncIterable<ImageRow>, sum: Hash, counter: { n: number }): AsyncGenerator<ImageRow> {
  for await (const row of rows) {
    sum.update(canonical(row));
    counter.n++;
    yield row;
  }
}

async function checksumOf(rows: AsyncIterable<ImageRow>): Promise<{ n: number; sum: string }> {
  const sum = createHash('sha256');
  const counter = { n: 0 };
  for await (const row of hashed(rows, sum, counter)) void row;
  return { n: counter.n, sum: sum.digest('hex') };
}

async function openSource(end: RegistryEnd): Promise<RegistryReader> {
  if (end.kind === 'team') return TeamRegistry.open(end.spec, end.root, { write: false });
  if (!fs.existsSync(end.registryFile)) throw new RegistryCopyError(`no registry at ${end.registryFile}`);
  const { registry } = await Registry.open(end.registryFile, { readOnly: true });
  return new SqliteBackend(registry, registry.findRootId(end.root));
}

function refuseNonEmpty(where: string, n: number): RegistryCopyError {
  return new RegistryCopyError(`${where} already holds ${n} rows of this dataset; nothing was copied (--replace replaces them)`);
}

function mismatch(to: string, got: { n: number; sum: string }, want: { n: number; sum: string }): RegistryCopyError {
  return new RegistryCopyError(`verification failed: ${to} would hold ${got.n} rows (checksum ${got.sum.slice(0, 12)}), the source ${want.n} (${want.sum.slice(0, 12)}); nothing was written`);
}

/** Into a team registry: one transaction — COPY the rows in, read them back, compare, commit (or roll back). */
async function copyIntoTeam(source: RegistryReader, end: Extract<RegistryEnd, { kind: 'team' }>, replace: boolean): Promise<CopyResult> {
  const team = await TeamRegistry.open(end.spec, end.root, { write: true });
  try {
    return await team.inTransaction(async () => {
      const id = team.datasetId as number;
      const existing = await team.count();
      if (existing > 0 && !replace) throw refuseNonEmpty(team.location, existing);
      if (existing > 0) await team.client.query(`DELETE FROM ${table('images')} WHERE dataset_id = $1`, [id]);
      const sum = createHash('sha256');
      const counter = { n: 0 };
      const stream = team.client.query(copyFrom(`COPY ${table('images')} (dataset_id, ${ROW_COLUMNS}) FROM STDIN`));
      await writeCopy(stream, (async function* () {
        for await (const r of hashed(source.rows(), sum, counter)) {
          yield copyLine([id, r.path, r.size, r.mtimeMs, r.hash, r.width, r.height, r.format, r.status, r.reason, r.registeredAt, r.phash ? toSqlInteger(r.phash) : null]);
        }
      })());
      const want = { n: counter.n, sum: sum.digest('hex') };
      const got = await checksumOf(team.rows());
      if (got.n !== want.n || got.sum !== want.sum) throw mismatch(team.location, got, want);
      return { from: source.location, to: team.location, rows: want.n, checksum: want.sum };
    });
  } finally {
    await team.close();
  }
}

/** Into a store's SQLite registry: under its lock, rows upserted in batches, read back and compared before the one atomic save. */
async function copyIntoSqlite(source: RegistryReader, end: Extract<RegistryEnd, { kind: 'sqlite' }>, replace: boolean, say: (s: string) => void): Promise<CopyResult> {
  await fs.promises.mkdir(path.dirname(end.registryFile), { recursive: true });
  const session = await openWriteSession(end.registryFile, { command: `registry copy into ${end.root}`, say });
  try {
    const { registry, lock } = session;
    const rootId = registry.rootId(end.root);
    const target = new SqliteBackend(registry, rootId);
    const existing = registry.count(rootId);
    if (existing > 0 && !replace) throw refuseNonEmpty(end.registryFile, existing);
    if (existing > 0) {
      const old: string[] = [];
      for await (const r of target.rows()) old.push(r.path);
      registry.remove(rootId, old);
    }
    const sum = createHash('sha256');
    const counter = { n: 0 };
    let batch: TeamRow[] = [];
    for await (const r of hashed(source.rows(), sum, counter)) {
      batch.push(r);
      if (batch.length >= UPSERT_BATCH) {
        registry.upsert(rootId, batch);
        batch = [];
      }
    }
    registry.upsert(rootId, batch);
    const want = { n: counter.n, sum: sum.digest('hex') };
    const got = await checksumOf(target.rows());
    // Not saved: the file on disk stays as it was.
    if (got.n !== want.n || got.sum !== want.sum) throw mismatch(end.registryFile, got, want);
    lock.assertHeld();
    await registry.save();
    return { from: source.location, to: end.registryFile, rows: want.n, checksum: want.sum };
  } finally {
    await session.end();
  }
}

/**
 * Copies one dataset between registries (SQLite → PostgreSQL and back), verified: the target's
 * rows are read back and must match the source's in number and checksum, or nothing is written.
 * A target that already holds rows of the dataset is refused unless `replace`.
 */
export async function copyRegistry(from: RegistryEnd, to: RegistryEnd, options: { replace?: boolean; say?: (s: string) => void } = {}): Promise<CopyResult> {
  const source = await openSource(from);
  try {
    if ((await source.count()) === 0) throw new RegistryCopyError(`${source.location} holds no rows of ${from.kind === 'team' ? 'this dataset' : from.root}; nothing to copy`);
    return to.kind === 'team'
      ? await copyIntoTeam(source, to, options.replace === true)
      : await copyIntoSqlite(source, to, options.replace === true, options.say ?? (() => undefined));
  } finally {
    await source.close();
  }
}
