import * as assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { datasetStatus, registerDataset, registryFileFor, type ImageRow } from '../../src/core';
import { Registry } from '../../src/core/registry/registry';
import { copyRegistry } from '../../src/core/registry/copyRegistry';
import { TeamRegistry } from '../../src/core/registry/postgres/teamRegistry';
import { canStartCluster, startCluster, type PgCluster } from '../helpers/pgCluster';
import { afterRacyWindow, buildTree, removeDir, tempDir, writeImage, writeText } from '../helpers/tmp';

const repo = path.resolve(__dirname, '../../..');
const cli = path.join(repo, 'dist/cli.js');

function run(args: string[], env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, PGPASSWORD: '', ...env } });
}

/** Every field but the registration time (each backend stamps its own). */
function comparable(rows: readonly ImageRow[]): Omit<ImageRow, 'registeredAt'>[] {
  return rows.map(({ registeredAt: _, ...rest }) => rest);
}

async function sqliteRows(store: string, root: string): Promise<ImageRow[]> {
  const { registry } = await Registry.open(registryFileFor(store), { readOnly: true });
  try {
    return [...registry.rows(registry.findRootId(fs.realpathSync(root)))];
  } finally {
    registry.close();
  }
}

async function teamRows(url: string, dataset: string, root: string): Promise<ImageRow[]> {
  const team = await TeamRegistry.open({ url, dataset }, root, { write: false });
  try {
    const out: ImageRow[] = [];
    // Perceptual hashes included: both backends compute and store the same 16 hex digits.
    for await (const r of team.rows()) out.push(r);
    return out;
  } finally {
    await team.close();
  }
}

describe('team registry on PostgreSQL', function () {
  this.timeout(180_000);
  let pg: PgCluster;
  let url: string;
  let readerUrl: string;
  let root: string;

  before(async function () {
    if (!canStartCluster()) this.skip();
    assert.ok(fs.existsSync(cli), 'dist/cli.js is built (npm test builds it before mocha)');
    pg = await startCluster('team');
    await pg.sql("CREATE ROLE team LOGIN PASSWORD 'team-pw'; CREATE ROLE reader LOGIN PASSWORD 'reader-pw'");
    await pg.sql('CREATE DATABASE registry OWNER team');
    url = pg.url('team', 'team-pw', 'registry');
    readerUrl = pg.url('reader', 'reader-pw', 'registry');
  });
  after(() => pg?.stop());
  beforeEach(() => {
    root = tempDir('team-root');
  });
  afterEach(() => removeDir(root));

  it('registers the same rows as the SQLite backend, and diffs the same after adds, deletes, edits and moves', async () => {
    buildTree(root, 12, 5);
    writeText(root, 'top0/broken.png', 'not a png at all');
    writeImage(root, 'copies/a.png');
    fs.copyFileSync(path.join(root, 'copies/a.png'), path.join(root, 'copies/b.png'));
    const store = tempDir('team-sqlite');
    const teamStore = tempDir('team-cache');
    const spec = { url, dataset: 'agree' };
    const now = afterRacyWindow;
    const sq = await registerDataset({ root, storeDir: store, hooks: { now } });
    const tm = await registerDataset({ root, storeDir: teamStore, hooks: { now }, team: spec });
    assert.equal(tm.outcome.registered, sq.outcome.registered);
    assert.equal(tm.outcome.unreadable, 1);
    assert.match(tm.registryFile, /^postgresql:\/\/team@127\.0\.0\.1:\d+\/registry \(dataset agree\)$/);
    assert.deepEqual(comparable(await teamRows(url, 'agree', root)), comparable(await sqliteRows(store, root)));

    // Change the tree: a new file, a deleted one, a folder moved (its rows follow by hash), an edit in place.
    writeImage(root, 'fresh/new.png');
    fs.rmSync(path.join(root, 'top1/mid1/leaf1/img0.jpg'));
    fs.renameSync(path.join(root, 'top2/mid2/leaf2'), path.join(root, 'moved-leaf2'));
    fs.writeFileSync(path.join(root, 'top3/mid0/leaf3/img1.png'), fs.readFileSync(path.join(root, 'copies/a.png')));
    for (const [storeDir, team] of [[store, undefined], [teamStore, spec]] as const) {
      await datasetStatus({ root, storeDir, hooks: { now }, verify: true, ...(team ? { team } : {}) });
    }
    const s1 = await datasetStatus({ root, storeDir: store, hooks: { now }, scan: false });
    const t1 = await datasetStatus({ root, storeDir: teamStore, hooks: { now }, scan: false, team: spec });
    for (const key of ['new', 'changed', 'missing', 'registered', 'unreadable', 'duplicateGroups', 'duplicateFiles'] as const) assert.equal(t1[key], s1[key], key);
    assert.deepEqual(t1.diff, s1.diff);
    assert.equal(t1.diff.newFiles.length, 6);
    assert.equal(t1.diff.changed.length, 1);
    assert.deepEqual(t1.duplicates, s1.duplicates);
    const sq2 = await registerDataset({ root, storeDir: store, hooks: { now } });
    const tm2 = await registerDataset({ root, storeDir: teamStore, hooks: { now }, team: spec });
    assert.equal(sq2.outcome.moved, 5);
    assert.equal(tm2.outcome.moved, sq2.outcome.moved);
    assert.equal(tm2.outcome.registered, sq2.outcome.registered);
    assert.deepEqual(comparable(await teamRows(url, 'agree', root)), comparable(await sqliteRows(store, root)));
    removeDir(store);
    removeDir(teamStore);
  });

  it('copies a dataset SQLite → PostgreSQL → SQLite, verified, and refuses to overwrite without --replace', async () => {
    buildTree(root, 6, 4);
    const store = tempDir('copy-a');
    const back = tempDir('copy-b');
    await registerDataset({ root, storeDir: store, hooks: { now: afterRacyWindow } });
    const real = fs.realpathSync(root);
    const there = await copyRegistry({ kind: 'sqlite', registryFile: registryFileFor(store), root: real }, { kind: 'team', spec: { url, dataset: 'copied' }, root: real });
    assert.equal(there.rows, 24);
    assert.deepEqual(await teamRows(url, 'copied', root), await sqliteRows(store, root));
    const again = run(['registry', 'copy', '--from', store, '--to', url, '--dataset', 'copied', '--root', root]);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /already holds 24 rows of this dataset; nothing was copied/);
    const res = run(['registry', 'copy', '--from', url, '--to', back, '--dataset', 'copied', '--root', root, '--json']);
    assert.equal(res.status, 0, res.stderr);
    const out = JSON.parse(res.stdout) as { rows: number; checksum: string };
    assert.equal(out.rows, 24);
    assert.equal(out.checksum, there.checksum);
    assert.deepEqual(await sqliteRows(back, root), await sqliteRows(store, root));
    const replaced = run(['registry', 'copy', '--from', back, '--to', url, '--dataset', 'copied', '--root', root, '--replace', '--json']);
    assert.equal(replaced.status, 0, replaced.stderr);
    assert.equal((JSON.parse(replaced.stdout) as { checksum: string }).checksum, there.checksum);
    removeDir(store);
    removeDir(back);
  });

  it('a read-only role is enough for status, list and export; register with it fails and writes nothing', async () => {
    buildTree(root, 4, 3);
    const store = tempDir('ro-store');
    const reg = run(['register', root, '--store', store, '--registry', url, '--dataset', 'ro', '--json', '-q']);
    assert.equal(reg.status, 0, reg.stderr);
    await pg.sql('GRANT USAGE ON SCHEMA dataset_index TO reader; GRANT SELECT ON ALL TABLES IN SCHEMA dataset_index TO reader;', 'registry');
    writeImage(root, 'later/one.png');
    const roStore = tempDir('ro-cache');
    const st = run(['status', root, '--store', roStore, '--dataset', 'ro', '--json', '-q'], { DATASET_INDEX_REGISTRY: readerUrl.replace(':reader-pw', ''), PGPASSWORD: 'reader-pw' });
    assert.equal(st.status, 0, st.stderr);
    const status = JSON.parse(st.stdout) as { new: number; registered: number };
    assert.equal(status.registered, 12);
    assert.equal(status.new, 1);
    const list = run(['list', root, '--store', roStore, '--registry', readerUrl, '--dataset', 'ro', '--status', 'new,registered', '--jsonl', '--relative', '-q']);
    assert.equal(list.status, 0, list.stderr);
    assert.equal(list.stdout.trim().split('\n').length, 13);
    const exp = run(['export', root, '--store', roStore, '--registry', readerUrl, '--dataset', 'ro', '--format', 'csv']);
    assert.equal(exp.status, 0, exp.stderr);
    assert.equal(exp.stdout.trim().split('\n').length, 13); // header + 12 rows
    const denied = run(['register', root, '--store', roStore, '--registry', readerUrl, '--dataset', 'ro', '-q']);
    assert.equal(denied.status, 1);
    assert.match(denied.stderr, /permission denied/);
    assert.doesNotMatch(denied.stderr + st.stderr + list.stderr, /reader-pw/);
    const c = new Client({ connectionString: url });
    await c.connect();
    const n = await c.query<{ n: string }>("SELECT count(*) AS n FROM dataset_index.images i JOIN dataset_index.datasets d ON d.id = i.dataset_id WHERE d.name = 'ro'");
    await c.end();
    assert.equal(Number(n.rows[0].n), 12);
    removeDir(store);
    removeDir(roStore);
  });

  it('a bad URL, a wrong password, a server down: one line naming host and database, exit 1, nothing written locally', async () => {
    buildTree(root, 2, 2);
    const store = tempDir('bad-store');
    const cases: [string[], RegExp][] = [
      [['--registry', 'mysql://x@127.0.0.1/db'], /--registry expects a postgresql:\/\/ URL/],
      [['--registry', pg.url('team', 'wrong-secret', 'registry')], /cannot connect to the team registry \(host 127\.0\.0\.1:\d+, database registry\): password authentication failed for user "team"/],
      [['--registry', `postgresql://team:team-pw@127.0.0.1:${pg.port === 1 ? 2 : 1}/registry`], /cannot connect to the team registry \(host 127\.0\.0\.1:1, database registry\): connect ECONNREFUSED/],
    ];
    for (const [args, want] of cases) {
      for (const cmd of ['register', 'status']) {
        const res = run([cmd, root, '--store', store, '-q', ...args]);
        assert.notEqual(res.status, 0, `${cmd} ${args.join(' ')}`);
        assert.match(res.stderr, want);
        assert.equal(res.stderr.trim().split('\n').length, 1, res.stderr);
        assert.doesNotMatch(res.stderr, /wrong-secret|team-pw/);
        assert.deepEqual(fs.readdirSync(store), [], 'nothing written in the store');
      }
    }
    removeDir(store);
  });
});
