import { from as copyFrom } from 'pg-copy-streams';
import { copyLine, writeCopy } from './copyText';
import { table } from './schema';
import type { TeamRegistry } from './teamRegistry';

/**
 * The shared work of concurrent registrars: one row per file to (re-)register, in the database.
 * A registrar claims a batch with `FOR UPDATE SKIP LOCKED` (two registrars never claim the same
 * row, and neither waits for the other), probes it, and in one transaction writes the images'
 * rows and deletes the batch's work rows. A claim is dead — and claimable again — when its lease
 * ran out or its owner's server session is gone (a registrar killed with SIGKILL drops its
 * connection, and the server ends that session at once): the claim records the session's
 * backend pid, and live pids are in pg_stat_activity (visible to every role).
 */

export type WorkKind = 'new' | 'again';

export interface Claimed {
  path: string;
  kind: WorkKind;
}

/** Claimable: never claimed, released, past its lease, or claimed by a session that no longer exists. */
const CLAIMABLE = `(w.owner IS NULL OR w.lease_until < now() OR w.owner_pid NOT IN (SELECT pid FROM pg_stat_activity WHERE pid IS NOT NULL))`;

/**
 * Adds this registrar's to-do list to the queue (COPY into a temporary table, then one
 * INSERT … SELECT). A new file another registrar has registered since this one's diff is left
 * out, and a file already queued is not queued twice. Returns how many rows were added.
 */
export async function enqueue(team: TeamRegistry, newPaths: readonly string[], again: readonly string[]): Promise<number> {
  if (newPaths.length + again.length === 0) return 0;
  const id = team.datasetId as number;
  return team.inTransaction(async () => {
    await team.client.query('CREATE TEMPORARY TABLE dsx_todo (path text COLLATE "C" NOT NULL, kind text NOT NULL) ON COMMIT DROP');
    const stream = team.client.query(copyFrom('COPY dsx_todo (path, kind) FROM STDIN'));
    await writeCopy(stream, (function* () {
      for (const p of newPaths) yield copyLine([p, 'new']);
      for (const p of again) yield copyLine([p, 'again']);
    })());
    const res = await team.client.query(
      `INSERT INTO ${table('work')} (dataset_id, path, kind)
       SELECT $1, t.path, t.kind FROM dsx_todo t
       WHERE t.kind = 'again' OR NOT EXISTS (SELECT 1 FROM ${table('images')} i WHERE i.dataset_id = $1 AND i.path = t.path)
       ON CONFLICT (dataset_id, path) DO NOTHING`,
      [id],
    );
    return res.rowCount ?? 0;
  });
}

/**
 * Claims up to `n` work rows in path order (neighbours: one folder's files mostly go to one
 * registrar). New files registered meanwhile by someone else (queued twice over a race) are
 * dropped from the queue instead of being read again.
 */
export async function claim(team: TeamRegistry, owner: string, n: number, leaseMs: number): Promise<Claimed[]> {
  // Named: planned once per connection (planning took longer than running it, ~50 ms against ~35 ms).
  const res = await team.client.query<Claimed>({
    name: 'dataset-index-claim',
    text: `WITH c AS (
       SELECT w.path, w.kind FROM ${table('work')} w WHERE w.dataset_id = $1 AND ${CLAIMABLE}
       ORDER BY w.path LIMIT $2 FOR UPDATE SKIP LOCKED),
     stale AS (
       DELETE FROM ${table('work')} w USING c
       WHERE w.dataset_id = $1 AND w.path = c.path AND c.kind = 'new'
         AND EXISTS (SELECT 1 FROM ${table('images')} i WHERE i.dataset_id = $1 AND i.path = c.path)
       RETURNING w.path),
     claimed AS (
       UPDATE ${table('work')} w SET owner = $3, owner_pid = pg_backend_pid(), lease_until = now() + $4 * interval '1 millisecond'
       FROM c WHERE w.dataset_id = $1 AND w.path = c.path AND c.path NOT IN (SELECT path FROM stale)
       RETURNING w.path, w.kind)
     SELECT path, kind FROM claimed ORDER BY path`,
    values: [team.datasetId, n, owner, leaseMs],
  });
  return res.rows;
}

/** Work rows someone else holds under a live claim: wait for them (or take them over when they die). */
export async function heldByOthers(team: TeamRegistry, owner: string): Promise<{ held: number; claimable: number }> {
  const res = await team.client.query<{ held: string; claimable: string }>(
    `SELECT count(*) FILTER (WHERE NOT ${CLAIMABLE} AND w.owner <> $2) AS held, count(*) FILTER (WHERE ${CLAIMABLE}) AS claimable
     FROM ${table('work')} w WHERE w.dataset_id = $1`,
    [team.datasetId, owner],
  );
  return { held: Number(res.rows[0].held), claimable: Number(res.rows[0].claimable) };
}

/** Done: the batch's work rows go (in the transaction that wrote its images' rows). */
export async function complete(team: TeamRegistry, owner: string, paths: readonly string[]): Promise<void> {
  if (paths.length === 0) return;
  await team.client.query(`DELETE FROM ${table('work')} WHERE dataset_id = $1 AND owner = $2 AND path = ANY($3::text[])`, [team.datasetId, owner, paths]);
}

/** Claimed but not done (cancelled): back to the queue at once. */
export async function release(team: TeamRegistry, owner: string, paths: readonly string[]): Promise<void> {
  if (paths.length === 0) return;
  await team.client.query(
    `UPDATE ${table('work')} SET owner = NULL, owner_pid = NULL, lease_until = NULL WHERE dataset_id = $1 AND owner = $2 AND path = ANY($3::text[])`,
    [team.datasetId, owner, paths],
  );
}

/** Extends this registrar's claims: a live registrar keeps its work, a hung one loses it after one lease. */
export async function heartbeat(team: TeamRegistry, owner: string, leaseMs: number): Promise<void> {
  await team.client.query(
    `UPDATE ${table('work')} SET lease_until = now() + $3 * interval '1 millisecond' WHERE dataset_id = $1 AND owner = $2`,
    [team.datasetId, owner, leaseMs],
  );
}
