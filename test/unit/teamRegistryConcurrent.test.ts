import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { makePng } from '../helpers/images';
import { canStartCluster, startCluster, type PgCluster } from '../helpers/pgCluster';
import { removeDir, tempDir } from '../helpers/tmp';

const repo = path.resolve(__dirname, '../../..');
const cli = path.join(repo, 'dist/cli.js');
const IMAGES = 20_000;
const PER_DIR = 200;

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function start(args: string[]): { child: ChildProcess; done: Promise<Outcome> } {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PGPASSWORD: '' } });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Outcome>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

/** Files read by one registrar, from its --json report. */
function probed(out: Outcome): number {
  assert.equal(out.code, 0, out.stderr);
  const r = JSON.parse(out.stdout) as { registered: number; unreadable: number; moved: number };
  return r.registered + r.unreadable + r.moved;
}

describe('team registry: many registrars at once', function () {
  this.timeout(600_000);
  let pg: PgCluster;
  let url: string;
  let root: string;
  let db: Client;
  const stores: string[] = [];

  const count = async (dataset: string, where = 'true'): Promise<number> => {
    const res = await db.query<{ n: string }>(
      `SELECT count(*) AS n FROM dataset_index.images i JOIN dataset_index.datasets d ON d.id = i.dataset_id WHERE d.name = $1 AND ${where}`, [dataset]);
    return Number(res.rows[0].n);
  };
  const work = async (dataset: string): Promise<{ total: number; claimed: number }> => {
    const res = await db.query<{ total: string; claimed: string }>(
      'SELECT count(*) AS total, count(owner) AS claimed FROM dataset_index.work w JOIN dataset_index.datasets d ON d.id = w.dataset_id WHERE d.name = $1', [dataset]);
    return { total: Number(res.rows[0].total), claimed: Number(res.rows[0].claimed) };
  };
  const store = (): string => {
    const s = tempDir('reg-store');
    stores.push(s);
    return s;
  };

  before(async function () {
    if (!canStartCluster()) this.skip();
    assert.ok(fs.existsSync(cli), 'dist/cli.js is built (npm test builds it before mocha)');
    pg = await startCluster('conc');
    await pg.sql("CREATE ROLE team LOGIN PASSWORD 'team-pw'");
    await pg.sql('CREATE DATABASE registry OWNER team');
    url = pg.url('team', 'team-pw', 'registry');
    db = new Client({ connectionString: url });
    await db.connect();
    root = tempDir('conc-root');
    // 20,000 small real PNGs, 200 per folder.
    for (let i = 0; i < IMAGES; i++) {
      const dir = path.join(root, `part${Math.floor(i / PER_DIR)}`);
      if (i % PER_DIR === 0) fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, `img${i}.png`), makePng(3, 2, i));
    }
  });
  after(async () => {
    await db?.end();
    pg?.stop();
    if (root) removeDir(root);
    for (const s of stores) removeDir(s);
  });

  it('four registrars on 20,000 images: 20,000 rows, none twice, the work shared and read once', async () => {
    const runs = Array.from({ length: 4 }, () => start(['register', root, '--store', store(), '--registry', url, '--dataset', 'four', '--read-concurrency', '4', '--json', '-q']));
    const outs = await Promise.all(runs.map((r) => r.done));
    const reads = outs.map(probed);
    assert.equal(await count('four'), IMAGES);
    const distinct = await db.query<{ n: string }>("SELECT count(DISTINCT path) AS n FROM dataset_index.images i JOIN dataset_index.datasets d ON d.id = i.dataset_id WHERE d.name = 'four'");
    assert.equal(Number(distinct.rows[0].n), IMAGES);
    assert.deepEqual(await work('four'), { total: 0, claimed: 0 });
    const total = reads.reduce((a, b) => a + b, 0);
    // Each file read once, but for the race of a file queued after another registrar committed it.
    assert.ok(total >= IMAGES && total <= IMAGES * 1.01, `files read ${total} (${reads.join(' + ')})`);
    assert.ok(reads.filter((n) => n > 0).length >= 2, `the work was shared: ${reads.join(' + ')}`);
    // A rerun finds nothing to do.
    const again = await start(['register', root, '--store', store(), '--registry', url, '--dataset', 'four', '--json', '-q']).done;
    assert.equal(probed(again), 0);
  });

  it('a registrar killed with SIGKILL loses at most its uncommitted batch; a rerun takes its claims over at once and finishes', async () => {
    // Its claims' lease is an hour: were they freed by its lease running out rather than by its
    // connection ending, the rerun would wait far beyond this test's timeout.
    const victim = start(['register', root, '--store', store(), '--registry', url, '--dataset', 'killed', '--read-concurrency', '1', '--lock-stale', '3600', '--json', '-q']);
    // Kill it once a few batches are committed.
    for (let i = 0; (await count('killed')) < 2000; i++) {
      assert.ok(i < 1200, 'the registrar commits rows within two minutes');
      await new Promise((r) => setTimeout(r, 100));
    }
    victim.child.kill('SIGKILL');
    const killed = await victim.done;
    assert.equal(killed.signal, 'SIGKILL');
    const kept = await count('killed');
    assert.ok(kept < IMAGES, `killed before the end (${kept})`);
    const queue = await work('killed');
    assert.equal(queue.total, IMAGES - kept, 'every file not registered is still queued');
    // Claimed and not committed (claim size 256 here): up to two batches in hand, one read since the
    // last commit (every 256 files or 1 s; more while a slow commit runs) and one in its commit's transaction.
    assert.ok(queue.claimed <= 5 * 256, `claims held by the dead registrar: ${queue.claimed}`);
    const t = performance.now();
    const rerun = await start(['register', root, '--store', store(), '--registry', url, '--dataset', 'killed', '--json', '-q']).done;
    assert.equal(probed(rerun), IMAGES - kept, 'the rerun reads exactly the files without a row');
    assert.equal(await count('killed'), IMAGES);
    assert.deepEqual(await work('killed'), { total: 0, claimed: 0 });
    // No waiting for the hour's lease: the dead session's claims were free at once.
    assert.ok(performance.now() - t < 3_600_000, 'the claims of the killed registrar were taken over without waiting for their lease');
  });
});
