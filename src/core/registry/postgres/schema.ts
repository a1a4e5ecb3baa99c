import type { Client } from 'pg';
import { TOOL_VERSION } from '../../version';
import { TeamRegistryError } from './connect';

/** Every table lives in this schema (quoted wherever it is named). */
export const SCHEMA = 'dataset_index';

/** An identifier quoted as PostgreSQL reads it: "a""b". */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** schema.table, both quoted. */
export function table(name: string): string {
  return `${ident(SCHEMA)}.${ident(name)}`;
}

/**
 * Versioned migrations, as for SQLite: version i → i+1 each in its own transaction, recorded in
 * schema_migrations. Paths use the "C" collation: byte order, as SQLite sorts them, so both
 * backends list rows in the same order and a diff walks folders the same way.
 */
const MIGRATIONS: readonly string[] = [
  // 0 → 1: datasets by name; images keyed by path relative to the dataset's root; `phash` (a
  // perceptual hash, signed 64-bit) as the SQLite registry has it, null when unknown; the work
  // queue of concurrent registrars (claims with an owner's backend pid and a lease).
  `
  CREATE TABLE ${table('datasets')} (
    id bigserial PRIMARY KEY,
    name text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
  );
  CREATE TABLE ${table('images')} (
    dataset_id bigint NOT NULL REFERENCES ${table('datasets')}(id) ON DELETE CASCADE,
    path text COLLATE "C" NOT NULL,
    size bigint,
    mtime_ms double precision,
    hash text,
    width integer,
    height integer,
    format text,
    status text NOT NULL CHECK (status IN ('ok', 'unreadable')),
    reason text,
    registered_at bigint NOT NULL,
    phash bigint,
    PRIMARY KEY (dataset_id, path)
  );
  CREATE INDEX images_dataset_hash ON ${table('images')} (dataset_id, hash);
  CREATE INDEX images_unreadable ON ${table('images')} (dataset_id, path) WHERE status = 'unreadable';
  CREATE TABLE ${table('work')} (
    dataset_id bigint NOT NULL REFERENCES ${table('datasets')}(id) ON DELETE CASCADE,
    path text COLLATE "C" NOT NULL,
    kind text NOT NULL CHECK (kind IN ('new', 'again')),
    owner text,
    owner_pid integer,
    lease_until timestamptz,
    PRIMARY KEY (dataset_id, path)
  );
  `,
];

export const TEAM_SCHEMA_VERSION = MIGRATIONS.length;

/** Key of the advisory lock held while migrating (any constant: it only has to be the same for every process). */
const MIGRATION_LOCK = 0x64736978; // 'dsix'

async function currentVersion(client: Client): Promise<number | null> {
  const exists = await client.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [`${SCHEMA}.schema_migrations`]);
  if (exists.rows[0].t === null) return null;
  const res = await client.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${table('schema_migrations')}`);
  return res.rows[0].v ?? 0;
}

function tooNew(version: number): TeamRegistryError {
  return new TeamRegistryError(`the team registry's schema version ${version} is newer than this tool understands (${TEAM_SCHEMA_VERSION}); upgrade dataset-index`);
}

/**
 * A reader's check: no DDL, no lock. Returns whether the tables exist (a registry nothing was
 * registered into yet has none: every image is new). An older schema is refused: a reader never
 * writes, and the next `register` brings it forward.
 */
export async function checkSchema(client: Client): Promise<boolean> {
  const v = await currentVersion(client);
  if (v === null) return false;
  if (v > TEAM_SCHEMA_VERSION) throw tooNew(v);
  if (v < TEAM_SCHEMA_VERSION) {
    throw new TeamRegistryError(`the team registry's schema is at version ${v}, this tool needs ${TEAM_SCHEMA_VERSION}: run \`dataset-index register\` against it once to migrate it`);
  }
  return true;
}

/**
 * A writer's migration, under a session advisory lock so that registrars starting together
 * migrate once (the others wait, then find the schema current). Returns the version it found.
 */
export async function migrateTeam(client: Client): Promise<number> {
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
  try {
    const found = await currentVersion(client);
    if (found !== null && found > TEAM_SCHEMA_VERSION) throw tooNew(found);
    if (found === null) {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${ident(SCHEMA)}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${table('schema_migrations')} (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now(), tool_version text NOT NULL)`,
      );
    }
    for (let v = found ?? 0; v < TEAM_SCHEMA_VERSION; v++) {
      await client.query('BEGIN');
      try {
        await client.query(MIGRATIONS[v]);
        await client.query(`INSERT INTO ${table('schema_migrations')} (version, tool_version) VALUES ($1, $2)`, [v + 1, TOOL_VERSION]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw err;
      }
    }
    return found ?? 0;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
  }
}
