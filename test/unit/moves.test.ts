import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { acquireLock, datasetStatus, LockBusyError, newScratch, probeImage, pruneDataset, registerDataset, registryFileFor } from '../../src/core';
import { MoveCandidates } from '../../src/core/register/moveCandidates';
import { makeJpeg, makePng } from '../helpers/images';
import { afterRacyWindow, removeDir, tempDir } from '../helpers/tmp';

const repo = path.resolve(__dirname, '../../..');
const cli = path.join(repo, 'dist/cli.js');
const later = afterRacyWindow;

function put(root: string, rel: string, data: Buffer): void {
  const abs = path.join(root, rel);
  fs.mkdirSync(path.dirname(abs), { recursive: true });
  fs.writeFileSync(abs, data);
}

function sqlite(file: string, sql: string): string {
  return execFileSync('sqlite3', [file, sql], { encoding: 'utf8' }).trim();
}

function run(args: string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
}

function json(res: SpawnSyncReturns<string>): Record<string, unknown> {
  assert.equal(res.status, 0, res.stderr);
  return JSON.parse(res.stdout) as Record<string, unknown>;
}

/** The same non-image bytes twice: unreadable files with one content. */
const CORRUPT = Buffer.from('not an image at all, but two files hold exactly these bytes\n'.repeat(20));

/**
 * 20 files in `dir`: 7 unique images, copies of three images (4 + 3 + 4, some under other names
 * in subfolders) and 2 identical corrupt files.
 */
function folderWithCopies(root: string, dir: string): string[] {
  const a = makePng(12, 9, 1);
  const b = makeJpeg(24, 16, 2);
  const c = makePng(7, 7, 3);
  const files: [string, Buffer][] = [];
  for (let i = 0; i < 7; i++) files.push([`u${i}.png`, makePng(10 + i, 6, 40 + i)]);
  for (const name of ['a0.png', 'a1.png', 'sub/a0.png', 'sub/a-copy.png']) files.push([name, a]);
  for (const name of ['b0.jpg', 'b1.jpg', 'sub/b0.jpg']) files.push([name, b]);
  for (const name of ['c.png', 'sub/c.png', 'sub/deeper/c.png', 'c (1).png']) files.push([name, c]);
  files.push(['bad0.png', CORRUPT], ['sub/bad1.png', CORRUPT]);
  for (const [name, data] of files) put(root, `${dir}/${name}`, data);
  return files.map(([name]) => `${dir}/${name}`).sort();
}

describe('moves keep every row', () => {
  let root: string;
  let store: string;
  const register = () => registerDataset({ root, storeDir: store, hooks: { now: later } });

  beforeEach(() => {
    root = tempDir('mv-root');
    store = tempDir('mv-store');
  });
  afterEach(() => {
    removeDir(root);
    removeDir(store);
  });

  it('moves every row of a moved folder, copies and identical corrupt files included', async () => {
    const before = folderWithCopies(root, 'batch');
    put(root, 'other/keep.png', makePng(5, 5, 99));
    const first = await register();
    assert.equal(first.outcome.registered + first.outcome.unreadable, 21);
    const file = registryFileFor(store);
    const stamps = new Map(sqlite(file, 'SELECT path, registered_at FROM images').split('\n').map((l) => l.split('|') as [string, string]));

    fs.renameSync(path.join(root, 'batch'), path.join(root, 'moved'));
    const second = await register();

    // Until probeImage hashes unreadable files, their rows have no hash and cannot be paired.
    const corruptHashed = (await probeImage(path.join(root, 'moved/bad0.png'), 'moved/bad0.png', newScratch())).hash !== null;
    const movable = corruptHashed ? 20 : 18;
    assert.equal(second.outcome.moved, movable, 'one move per file, also for copies');
    assert.equal(second.outcome.registered, 0, 'no readable file registered again');
    assert.equal(second.outcome.unreadable, 20 - movable);

    assert.equal(sqlite(file, 'SELECT count(*) FROM images'), String(21 + (20 - movable)));
    assert.equal(sqlite(file, "SELECT count(*) FROM images WHERE path LIKE 'moved/%'"), '20');
    assert.equal(sqlite(file, 'SELECT count(*) FROM (SELECT path FROM images GROUP BY path HAVING count(*) > 1)'), '0');
    // A moved row keeps its registration: same registered_at as its old path.
    for (const rel of before) {
      const now = sqlite(file, `SELECT registered_at FROM images WHERE path = '${rel.replace('batch/', 'moved/').replace(/'/g, "''")}'`);
      if (!rel.includes('bad') || corruptHashed) assert.equal(now, stamps.get(rel), `${rel} kept its row`);
    }
    if (corruptHashed) {
      assert.equal(sqlite(file, "SELECT count(*) FROM images WHERE status = 'unreadable' AND path LIKE 'moved/%'"), '2', 'moved rows keep the new probe status');
    }

    const s = json(run(['status', root, '--store', store, '--json', '-q']));
    assert.equal(s.missing, 20 - movable);
    assert.equal(s.new, 0);
    // Groups: a (4), b (3), c (4), and the corrupt pair once it has a hash.
    assert.equal(s.duplicateGroups, corruptHashed ? 4 : 3);
    assert.equal(s.duplicateFiles, corruptHashed ? 13 : 11);
  });

  it('pairs copies by file name first, then the rest in path order, each old row once', async () => {
    const png = makePng(9, 9, 5);
    for (const name of ['x/a.png', 'x/b.png', 'x/c.png']) put(root, name, png);
    await register();
    const file = registryFileFor(store);
    // Distinct registration times tell the rows apart after the move.
    sqlite(file, "UPDATE images SET registered_at = CASE path WHEN 'x/a.png' THEN 1000 WHEN 'x/b.png' THEN 2000 ELSE 3000 END");
    fs.rmSync(`${file}.sum`, { force: true });
    fs.mkdirSync(path.join(root, 'y'));
    fs.renameSync(path.join(root, 'x/b.png'), path.join(root, 'y/b.png'));
    fs.renameSync(path.join(root, 'x/a.png'), path.join(root, 'y/z1.png'));
    fs.renameSync(path.join(root, 'x/c.png'), path.join(root, 'y/z2.png'));
    const r = await register();
    assert.equal(r.outcome.moved, 3);
    assert.equal(r.outcome.registered, 0);
    assert.equal(sqlite(file, 'SELECT path, registered_at FROM images ORDER BY path'), 'y/b.png|2000\ny/z1.png|1000\ny/z2.png|3000');
  });

  it('pairs a missing row by its hash whatever its status; the moved row takes the new probe\'s status', async () => {
    const png = makePng(8, 8, 7);
    put(root, 'x/img.png', png);
    await register();
    const file = registryFileFor(store);
    // An unreadable row that has a hash (as probeImage gives unreadable files once they are hashed).
    sqlite(file, "UPDATE images SET status = 'unreadable', reason = 'read failed: EIO', width = NULL, height = NULL, format = NULL, registered_at = 1234");
    fs.rmSync(`${file}.sum`, { force: true });
    fs.mkdirSync(path.join(root, 'y'));
    fs.renameSync(path.join(root, 'x/img.png'), path.join(root, 'y/img.png'));
    const r = await register();
    assert.deepEqual([r.outcome.moved, r.outcome.registered, r.outcome.unreadable], [1, 0, 0]);
    assert.equal(sqlite(file, 'SELECT path, status, reason IS NULL, width, format, registered_at FROM images'), 'y/img.png|ok|1|8|png|1234');
  });

  it('MoveCandidates: same name and size first, any other after, none twice', () => {
    const m = new MoveCandidates([
      { path: 'old/a.png', hash: 'h', size: 10 },
      { path: 'old/b.png', hash: 'h', size: 10 },
      { path: 'old/sub/b.png', hash: 'h', size: 10 },
      { path: 'old/q.png', hash: 'k', size: 3 },
    ]);
    assert.equal(m.takeSameName('h', 'new/b.png', 10), 'old/b.png');
    assert.equal(m.takeSameName('h', 'new/sub/b.png', 10), 'old/sub/b.png');
    assert.equal(m.takeSameName('h', 'new/b.png', 10), undefined, 'both b.png rows are taken');
    assert.equal(m.takeSameName('h', 'new/a.png', 99), undefined, 'another size is not the same file');
    assert.equal(m.takeAny('h'), 'old/a.png');
    assert.equal(m.takeAny('h'), undefined);
    assert.equal(m.takeSameName('h', 'new/a.png', 10), undefined, 'taken by takeAny');
    assert.ok(m.knows('k') && m.knows('h') && !m.knows('zzz') && !m.knows(null));
    assert.equal(m.takeAny('k'), 'old/q.png');
  });

  it('MoveCandidates: copies with one name pair by their longest shared path, whatever order they are probed in', () => {
    const rows = ['old/a/c.png', 'old/c.png', 'old/sub/c.png', 'old/sub/deeper/c.png'].map((p) => ({ path: p, hash: 'h', size: 10 }));
    const wanted = ['new/sub/deeper/c.png', 'new/sub/c.png', 'new/c.png', 'new/a/c.png'];
    for (const order of [wanted, [...wanted].reverse(), [wanted[2], wanted[0], wanted[3], wanted[1]]]) {
      const m = new MoveCandidates(rows);
      for (const p of order) assert.equal(m.takeSameName('h', p, 10), p.replace('new/', 'old/'), `${p} in order ${order.join(', ')}`);
    }
    // Moved one level down: the folder path under the moved folder still decides.
    const m = new MoveCandidates(rows);
    assert.equal(m.takeSameName('h', 'top/new/sub/c.png', 10), 'old/sub/c.png');
    assert.equal(m.takeSameName('h', 'top/new/c.png', 10), 'old/a/c.png', 'no same-depth row: the first by path with that name');
  });

  it('duplicate groups list only files on disk, with duplicateFiles', async () => {
    const png = makePng(9, 9, 1);
    for (const name of ['a/one.png', 'b/two.png', 'c/three.png']) put(root, name, png);
    put(root, 'c/other.png', makePng(9, 9, 2));
    await register();
    fs.rmSync(path.join(root, 'b/two.png'));
    let s = await datasetStatus({ root, storeDir: store, hooks: { now: later } });
    assert.equal(s.missing, 1);
    assert.deepEqual([s.duplicateGroups, s.duplicateFiles], [1, 2]);
    assert.deepEqual(s.duplicates[0].paths, ['a/one.png', 'c/three.png']);
    const r = await register();
    assert.deepEqual([r.before.duplicateGroups, r.before.duplicateFiles], [1, 2]);
    fs.rmSync(path.join(root, 'a/one.png'));
    s = await datasetStatus({ root, storeDir: store, hooks: { now: later } });
    assert.deepEqual([s.duplicateGroups, s.duplicateFiles, s.duplicates.length], [0, 0, 0], 'one file left is no group');
    const cliStatus = json(run(['status', root, '--store', store, '--json', '-q']));
    assert.deepEqual([cliStatus.duplicateGroups, cliStatus.duplicateFiles, cliStatus.duplicates], [0, 0, []]);
  });
});

describe('prune and export leave out files that are gone', () => {
  let root: string;
  let store: string;

  beforeEach(() => {
    root = tempDir('prune-root');
    store = tempDir('prune-store');
    for (let i = 0; i < 6; i++) put(root, `keep/k${i}.png`, makePng(6, 6, i));
    for (let i = 0; i < 3; i++) put(root, `gone/g${i}.png`, makePng(6, 6, 10 + i));
    put(root, 'keep/also-gone.png', makePng(6, 6, 20));
    // A PNG named .tif: registered with --ext, outside the default scan's view, but on disk.
    put(root, 'keep/scan.tif', makePng(6, 6, 30));
    assert.equal(run(['register', root, '--store', store, '-q', '--ext', 'png,tif']).status, 0);
  });
  afterEach(() => {
    removeDir(root);
    removeDir(store);
  });

  const gone = ['gone/g0.png', 'gone/g1.png', 'gone/g2.png', 'keep/also-gone.png'];
  const removeSome = (): void => {
    fs.rmSync(path.join(root, 'gone'), { recursive: true });
    fs.rmSync(path.join(root, 'keep/also-gone.png'));
  };

  it('prune --dry-run lists, prune removes exactly the rows of files gone, under a fresh scan', () => {
    const file = registryFileFor(store);
    assert.equal(sqlite(file, 'SELECT count(*) FROM images'), '11');
    removeSome();
    const bytes = fs.readFileSync(file);
    const dry = json(run(['prune', root, '--store', store, '--dry-run', '--json', '-q']));
    assert.deepEqual(dry, { root, removed: 4, dryRun: true, cancelled: false, paths: gone });
    assert.ok(bytes.equals(fs.readFileSync(file)), '--dry-run writes nothing');

    // No --ext: the scan does not see keep/scan.tif, but the file is there, so its row stays.
    const text = run(['prune', root, '--store', store]);
    assert.equal(text.status, 0, text.stderr);
    assert.equal(text.stdout, `${root}: removed 4 rows of files no longer on disk:\n${gone.map((p) => `  ${p}\n`).join('')}`);
    assert.equal(sqlite(file, 'SELECT count(*) FROM images'), '7');
    assert.equal(sqlite(file, "SELECT count(*) FROM images WHERE path = 'keep/scan.tif'"), '1');
    assert.equal(sqlite(file, 'PRAGMA integrity_check'), 'ok');
    assert.deepEqual(fs.readdirSync(store).filter((f) => f.includes('.tmp')), []);

    const s = json(run(['status', root, '--store', store, '--json', '-q', '--ext', 'png,tif']));
    assert.deepEqual([s.missing, s.registered], [0, 7]);
    assert.deepEqual(json(run(['prune', root, '--store', store, '--json', '-q'])), { root, removed: 0, dryRun: false, cancelled: false, paths: [] });
  });

  it('prune refuses when the folder holds no image at all (an unmounted share looks so), unless --allow-empty', () => {
    const file = registryFileFor(store);
    for (const name of fs.readdirSync(root)) fs.rmSync(path.join(root, name), { recursive: true });
    const bytes = fs.readFileSync(file);
    const refused = run(['prune', root, '--store', store]);
    assert.equal(refused.status, 1, refused.stderr);
    assert.match(refused.stderr, /holds no image at all now, yet \d+ registered rows are for it .* Nothing was pruned; .*--allow-empty/);
    assert.equal(refused.stderr.trim().split('\n').length, 1, refused.stderr);
    assert.ok(bytes.equals(fs.readFileSync(file)), 'nothing written');
    const dry = run(['prune', root, '--store', store, '--dry-run']);
    assert.equal(dry.status, 0, dry.stderr);
    assert.match(dry.stderr, /prune would refuse without --allow-empty/);
    const allowed = run(['prune', root, '--store', store, '--allow-empty', '--json', '-q']);
    assert.equal(allowed.status, 0, allowed.stderr);
    assert.equal(sqlite(file, 'SELECT count(*) FROM images'), '0');
  });

  it('prune waits for the registry lock, and an interrupted prune writes nothing', async () => {
    removeSome();
    const file = registryFileFor(store);
    const bytes = fs.readFileSync(file);
    const held = await acquireLock(`${file}.lock`, { command: 'test', waitMs: 0 });
    try {
      await assert.rejects(pruneDataset({ root, storeDir: store, lockWaitMs: 300 }), LockBusyError);
    } finally {
      await held.release();
    }
    const controller = new AbortController();
    const cut = await pruneDataset({ root, storeDir: store, forceRescan: true, signal: controller.signal, onProgress: () => controller.abort(), hooks: { now: later } });
    assert.equal(cut.cancelled, true);
    assert.deepEqual(cut.paths, []);
    assert.ok(bytes.equals(fs.readFileSync(file)), 'interrupted: the registry is as it was');
    const done = await pruneDataset({ root, storeDir: store, hooks: { now: later } });
    assert.deepEqual(done.paths, gone);
  });

  it('export leaves out rows of files gone unless --include-missing, and says so', () => {
    removeSome();
    const res = run(['export', root, '--store', store, '--format', 'csv']);
    assert.equal(res.status, 0, res.stderr);
    assert.equal(res.stdout.trim().split('\n').length, 1 + 7);
    assert.ok(!gone.some((p) => res.stdout.includes(p)));
    assert.match(res.stderr, /^dataset-index: exported 7 rows \(4 rows of files no longer on disk left out; --include-missing to keep them\)\n$/);
    const all = run(['export', root, '--store', store, '--format', 'jsonl', '--include-missing']);
    assert.equal(all.status, 0, all.stderr);
    assert.equal(all.stdout.trim().split('\n').length, 11);
    assert.equal(all.stderr, 'dataset-index: exported 11 rows\n');
  });

  it('export of a folder without registered rows fails with one line', () => {
    const other = tempDir('prune-other');
    try {
      put(other, 'x.png', makePng(4, 4));
      const res = run(['export', other, '--store', store, '--format', 'csv']);
      assert.equal(res.status, 1);
      assert.equal(res.stdout, '');
      assert.equal(res.stderr, `dataset-index: no registered images for ${other} in ${store}\n`);
      const empty = tempDir('prune-empty-store');
      const none = run(['export', other, '--store', empty, '--format', 'csv']);
      removeDir(empty);
      assert.equal(none.status, 1);
      assert.equal(none.stderr, `dataset-index: no registered images for ${other} in ${empty}\n`);
    } finally {
      removeDir(other);
    }
  });
});
