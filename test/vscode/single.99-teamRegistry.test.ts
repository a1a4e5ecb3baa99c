// The extension against a team registry on PostgreSQL: a real throwaway cluster started here, in the
// extension host (initdb as an unprivileged user, loopback port and Unix socket, stopped in after()).
// Runs last in the profile (single.99-…): it switches the folder's registry and switches it back.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import * as vscode from 'vscode';
import type { DatasetIndexApi } from '../../src/extension/extension';
import { canStartCluster, startCluster, type PgCluster } from '../helpers/pgCluster';
import { api, findChild, groups, imagesOnDisk, run, tooltipOf, waitFor, workspaceRoot } from './helpers';

/** Statements the server logged (log_statement = 'all') that look up tooltip rows. */
function lookupsLogged(pg: PgCluster): number {
  return fs.readFileSync(path.join(pg.dir, 'log'), 'utf8').split('\n').filter((l) => /(statement|execute [^:]*): SELECT path::text, .* = ANY\(\$2::text\[\]\)/.test(l)).length;
}

describe('team registry: tooltips and Clear Scan Cache and Registry against PostgreSQL', function () {
  this.timeout(240_000);
  let a: DatasetIndexApi;
  let root: string;
  let pg: PgCluster;
  let url: string;
  let db: Client;
  const rows = async (): Promise<number> =>
    (await db.query<{ n: number }>("SELECT count(*)::int AS n FROM dataset_index.images i JOIN dataset_index.datasets d ON d.id = i.dataset_id WHERE d.name = 'ext-team'")).rows[0].n;

  before(async function () {
    if (!canStartCluster()) this.skip();
    a = await api();
    root = workspaceRoot();
    pg = await startCluster('extteam');
    await pg.sql("CREATE ROLE team LOGIN PASSWORD 'team-pw'");
    await pg.sql('CREATE DATABASE registry OWNER team');
    await pg.sql("ALTER SYSTEM SET log_statement = 'all'");
    await pg.sql('SELECT pg_reload_conf()');
    url = pg.url('team', null, 'registry');
    db = new Client({ connectionString: pg.url('team', 'team-pw', 'registry') });
    await db.connect();
    // The password as a user gives it: VS Code's SecretStorage, never the settings.
    await a.setTeamPassword(url, 'team-pw');
    const cfg = vscode.workspace.getConfiguration('datasetIndex');
    await cfg.update('registry.url', url, vscode.ConfigurationTarget.Workspace);
    await cfg.update('registry.dataset', 'ext-team', vscode.ConfigurationTarget.Workspace);
  });

  after(async () => {
    const cfg = vscode.workspace.getConfiguration('datasetIndex');
    await cfg.update('registry.url', undefined, vscode.ConfigurationTarget.Workspace);
    await cfg.update('registry.dataset', undefined, vscode.ConfigurationTarget.Workspace);
    await db?.end();
    pg?.stop();
  });

  it('indexes and registers into the team dataset; the local registry file is not written', async () => {
    const storeDir = a.datasets()[0].storeDir;
    const localBefore = fs.existsSync(path.join(storeDir, 'registry.sqlite')) ? fs.statSync(path.join(storeDir, 'registry.sqlite')).mtimeMs : null;
    const onDisk = imagesOnDisk(root);
    // The settings change restarts the dataset: its counts now come from the (empty) team dataset.
    const [indexed] = await waitFor(async () => {
      const r = await run('datasetIndex.indexImages');
      return r[0]?.new === onDisk.length ? r : null;
    }, 'every image to be new against the empty team dataset', 60_000, 500);
    assert.equal(indexed.registered, 0);
    await vscode.commands.executeCommand('datasetIndex.registerNew');
    assert.equal(await rows(), onDisk.length);
    assert.equal((await groups(a)).get('Registered')?.count, onDisk.length);
    const localAfter = fs.existsSync(path.join(storeDir, 'registry.sqlite')) ? fs.statSync(path.join(storeDir, 'registry.sqlite')).mtimeMs : null;
    assert.equal(localAfter, localBefore, 'the store\'s SQLite registry is untouched');
  });

  it('tooltips show the team rows: hovering a folder\'s images costs one request and one query', async () => {
    const registered = (await groups(a)).get('Registered')!.node;
    const folder = await findChild(a, registered, 'camera1', 'day3');
    const images = (await a.tree.getChildren(folder.node)) ?? [];
    assert.ok(images.length >= 3, `images in camera1/day3: ${images.length}`);
    const callsBefore = a.engineCalls().lookupRows ?? 0;
    const queriesBefore = lookupsLogged(pg);
    const tips: string[] = [];
    for (const node of images) tips.push(await tooltipOf(a, { node, item: a.tree.getTreeItem(node), label: '' }));
    assert.equal((a.engineCalls().lookupRows ?? 0) - callsBefore, 1, 'one engine request for the page');
    assert.equal(lookupsLogged(pg) - queriesBefore, 1, 'one query on the server for the page');
    const rel = (images[0] as { rel: string }).rel;
    const { rows: [row] } = await db.query<{ hash: string }>(
      "SELECT i.hash FROM dataset_index.images i JOIN dataset_index.datasets d ON d.id = i.dataset_id WHERE d.name = 'ext-team' AND i.path = $1",
      [rel],
    );
    assert.ok(tips[0].includes(`xxHash64 \`${row.hash}\``), `the team row's hash ${row.hash} in ${tips[0]}`);
    assert.match(tips[0], /registered /);
    // A row another machine changes shows after the dataset changes (here: a re-index drops the kept rows).
    await db.query("UPDATE dataset_index.images SET hash = 'feedfacefeedface' WHERE path = $1", [rel]);
    await run('datasetIndex.indexImages');
    const again = await findChild(a, (await groups(a)).get('Registered')!.node, 'camera1', 'day3', path.posix.basename(rel));
    assert.ok((await tooltipOf(a, again)).includes('xxHash64 `feedfacefeedface`'));
  });

  it('Clear Scan Cache and Registry names the server, dataset and row count, and deletes the team rows only when told to', async () => {
    const n = await rows();
    const before = a.teamClears().length;
    await vscode.commands.executeCommand('datasetIndex.clearCacheAndRegistry', { skipConfirmation: true, teamAnswer: 'keep' });
    const kept = a.teamClears()[before];
    assert.ok(kept, 'the team dataset was asked about');
    assert.equal(kept.asked, `Delete all ${n.toLocaleString()} rows of the team dataset "ext-team" on ${url}?`);
    assert.equal(kept.deleted, 0);
    assert.equal(await rows(), n, 'kept: the shared rows stay');
    assert.match(a.statusBarText(), /cache cleared/);
    // Without an answer (the freshIndex helper) a test never deletes a shared dataset.
    await vscode.commands.executeCommand('datasetIndex.clearCacheAndRegistry', { skipConfirmation: true });
    assert.equal(await rows(), n);

    await vscode.commands.executeCommand('datasetIndex.clearCacheAndRegistry', { skipConfirmation: true, teamAnswer: 'delete' });
    const deleted = a.teamClears()[a.teamClears().length - 1];
    assert.equal(deleted.deleted, n);
    assert.equal(await rows(), 0);
    const [r] = await run('datasetIndex.indexImages');
    assert.equal(r.new, imagesOnDisk(root).length, 'every image is new again in the team dataset');
  });
});
