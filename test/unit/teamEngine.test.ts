import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { EngineClient } from '../../src/core/engine/client';
import type { DatasetConfig } from '../../src/core/engine/protocol';
import type { ImageRow } from '../../src/core';
import type { TeamRegistrySpec } from '../../src/core/registry/postgres/connect';
import { canStartCluster, startCluster, type PgCluster } from '../helpers/pgCluster';
import { buildTree, removeDir, tempDir, writeText } from '../helpers/tmp';

let keys = 0;
function configOf(root: string, storeDir: string, team?: TeamRegistrySpec): DatasetConfig {
  return { key: `team-engine-${process.pid}-${++keys}`, root, storeDir, options: {}, maxAgeMs: 24 * 3_600_000, perceptualHash: true, registerConcurrency: 4, ...(team ? { team } : {}) };
}

/** Every field but the registration time (each backend stamps its own). */
function comparable(rows: readonly (ImageRow | null)[]): (Omit<ImageRow, 'registeredAt'> | null)[] {
  return rows.map((r) => {
    if (!r) return null;
    const { registeredAt: _, ...rest } = r;
    return rest;
  });
}

/** Statements the server logged (log_statement = 'all') that match `re`. */
function logged(pg: PgCluster, re: RegExp): number {
  return fs.readFileSync(path.join(pg.dir, 'log'), 'utf8').split('\n').filter((l) => re.test(l)).length;
}
const LOOKUP_SQL = /(statement|execute [^:]*): SELECT path::text, .* = ANY\(\$2::text\[\]\)/;

describe('engine worker with a team registry: tooltip rows and Clear Registry', function () {
  this.timeout(180_000);
  let pg: PgCluster;
  let url: string;
  let readerUrl: string;
  let root: string;
  let client: EngineClient;
  /** One folder's images, as a page of the tree shows them. */
  let leaf: string[];

  before(async function () {
    if (!canStartCluster()) this.skip();
    pg = await startCluster('teameng');
    await pg.sql("CREATE ROLE team LOGIN PASSWORD 'team-pw'; CREATE ROLE reader LOGIN PASSWORD 'reader-pw'");
    await pg.sql('CREATE DATABASE registry OWNER team');
    await pg.sql("ALTER SYSTEM SET log_statement = 'all'");
    await pg.sql('SELECT pg_reload_conf()');
    url = pg.url('team', 'team-pw', 'registry');
    readerUrl = pg.url('reader', 'reader-pw', 'registry');
    root = tempDir('team-engine-root');
    leaf = buildTree(root, 6, 40).filter((p) => p.startsWith('top3/mid0/leaf3/'));
    writeText(root, 'top0/broken.png', 'not a png');
    client = new EngineClient();
  });
  after(async () => {
    await client?.dispose();
    pg?.stop();
    if (root) removeDir(root);
  });

  it('looks up a page of rows in one query, the same rows as the SQLite registry', async () => {
    const team = configOf(root, tempDir('team-engine-store'), { url, dataset: 'lookup' });
    const local = configOf(root, tempDir('team-engine-sqlite'));
    const page = [...leaf, 'top0/broken.png', 'top3/not-there.png'];
    // Hovered before the dataset exists: no rows; the same dataset's rows show once registered.
    assert.deepEqual(await client.lookupRows(team, page), page.map(() => null));
    const t = await client.register(team, undefined);
    const s = await client.register(local, undefined);
    assert.equal(t.report.registered, s.report.registered);
    assert.equal(t.summary.registered, 241);
    // A page as the tree shows it: one folder's images, a broken file, a path with no row.
    assert.equal(leaf.length, 40);
    const before = logged(pg, LOOKUP_SQL);
    const teamRows = await client.lookupRows(team, page);
    assert.equal(logged(pg, LOOKUP_SQL) - before, 1, 'one query for the page');
    const localRows = await client.lookupRows(local, page);
    assert.deepEqual(comparable(teamRows), comparable(localRows));
    assert.equal(teamRows.filter((r) => r !== null).length, 41);
    assert.equal(teamRows[40]?.status, 'unreadable');
    assert.equal(teamRows[41], null);
    assert.match(teamRows[0]?.hash ?? '', /^[0-9a-f]{16}$/);
    // The single lookup goes the same way; a dataset that does not exist has no rows (and is not created).
    assert.deepEqual(comparable([await client.lookup(team, leaf[7])]), comparable([localRows[7]]));
    assert.deepEqual(await client.lookupRows(configOf(root, tempDir('team-engine-other'), { url, dataset: 'nobody-registered-this' }), [leaf[1]]), [null]);
    // The password as the extension passes it (from SecretStorage, beside a URL without one) reaches the server.
    const fromSecrets = configOf(root, tempDir('team-engine-secret'), { url: pg.url('team', null, 'registry'), password: 'team-pw', dataset: 'lookup' });
    assert.deepEqual(comparable(await client.lookupRows(fromSecrets, page)), comparable(teamRows));
    await client.close(fromSecrets.key);
    // The local registry file of a team dataset is never written.
    assert.equal(fs.existsSync(path.join(team.storeDir, 'registry.sqlite')), false);
    await client.close(team.key);
    await client.close(local.key);
  });

  it('clears a team dataset only with the confirmed row count, no live claim and a role that may delete', async () => {
    const store = tempDir('team-engine-clear');
    const team = configOf(root, store, { url, dataset: 'clear' });
    await client.register(team, undefined);
    const info = await client.teamDataset(team);
    assert.deepEqual(info, { location: url.replace(':team-pw@', '@'), dataset: 'clear', rows: 241 });
    // Clear Scan Cache and Registry's first step: the local cache goes, the team rows stay, no local registry appears.
    await client.clearCache(team, true);
    assert.equal((await client.teamDataset(team)).rows, 241);
    assert.equal(fs.existsSync(path.join(store, 'registry.sqlite')), false);

    const stale = await client.clearTeamDataset(team, 240);
    assert.equal(stale.deleted, 0);
    assert.match(stale.refused ?? '', /has 241 rows, not 240; nothing deleted/);

    const c = new Client({ connectionString: url });
    await c.connect();
    try {
      const id = (await c.query<{ id: string }>("SELECT id FROM dataset_index.datasets WHERE name = 'clear'")).rows[0].id;
      await c.query("INSERT INTO dataset_index.work (dataset_id, path, kind, owner, owner_pid, lease_until) VALUES ($1, 'd9/x.png', 'new', 'other-machine', 1, now() + interval '1 minute')", [id]);
      const busy = await client.clearTeamDataset(team, 241);
      assert.equal(busy.deleted, 0);
      assert.match(busy.refused ?? '', /a registration is running .*1 files are claimed/);
      await c.query("UPDATE dataset_index.work SET lease_until = now() - interval '1 second' WHERE dataset_id = $1", [id]);

      await pg.sql('GRANT USAGE ON SCHEMA dataset_index TO reader; GRANT SELECT ON ALL TABLES IN SCHEMA dataset_index TO reader', 'registry');
      const asReader = configOf(root, store, { url: readerUrl, dataset: 'clear' });
      assert.equal((await client.teamDataset(asReader)).rows, 241, 'a read-only role sees the count');
      await assert.rejects(client.clearTeamDataset(asReader, 241), /cannot delete the rows of .*permission denied/);
      await client.close(asReader.key);

      const done = await client.clearTeamDataset(team, 241);
      assert.deepEqual(done, { deleted: 241 });
      assert.equal((await c.query<{ n: number }>("SELECT count(*)::int AS n FROM dataset_index.images i JOIN dataset_index.datasets d ON d.id = i.dataset_id WHERE d.name = 'clear'")).rows[0].n, 0);
      assert.equal((await c.query<{ n: number }>('SELECT count(*)::int AS n FROM dataset_index.work WHERE dataset_id = $1', [id])).rows[0].n, 0, 'its (dead) work queue went too');
      // Another dataset on the same server is untouched.
      assert.equal((await c.query<{ n: number }>("SELECT count(*)::int AS n FROM dataset_index.images i JOIN dataset_index.datasets d ON d.id = i.dataset_id WHERE d.name = 'lookup'")).rows[0].n, 241);
    } finally {
      await c.end();
    }
    // A tooltip lookup after the clear sees no row.
    assert.deepEqual(await client.lookupRows(team, [leaf[1]]), [null]);
    await client.close(team.key);
  });
});
