import * as assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  acquireLock, datasetStatus, LockBusyError, Registry, registerDataset, registryFileFor, type RegisterRequest,
} from '../../src/core';
import { currentProcess } from '../../src/core/fsutil/processIdentity';
import { loadSqlJs } from '../../src/core/registry/sqlite';
import { SCHEMA_VERSION } from '../../src/core/registry/schema';
import { loadIndexSql, UNREADABLE_PATHS_SQL } from '../../src/core/registry/registry';
import { makeJpeg, makePng } from '../helpers/images';
import { UNDO_V5 } from '../helpers/schema';
import { removeDir, tempDir, afterRacyWindow } from '../helpers/tmp';

const repo = path.resolve(__dirname, '../../..');
const cli = path.join(repo, 'dist/cli.js');
const later = afterRacyWindow;

function put(root: string, rel: string, data: Buffer): string {
  const abs = path.join(root, rel);
  fs.mkdirSync(path.dirname(abs), { recursive: true });
  fs.writeFileSync(abs, data);
  return abs;
}

/** 12 PNGs and 8 JPEGs of varied sizes in three folders. */
function dataset(root: string): string[] {
  const rels: string[] = [];
  for (let i = 0; i < 12; i++) rels.push(path.relative(root, put(root, `png/set${i % 3}/p${i}.png`, makePng(8 + i, 5 + i, i))));
  for (let i = 0; i < 8; i++) rels.push(path.relative(root, put(root, `jpg/j${i}.jpg`, makeJpeg(16 + i * 8, 8 + i, i))));
  return rels.sort();
}

function sqlite(file: string, sql: string): string {
  return execFileSync('sqlite3', [file, sql], { encoding: 'utf8' }).trim();
}

describe('registry and registration', () => {
  let root: string;
  let store: string;
  const register = (extra: Partial<RegisterRequest> = {}) => registerDataset({ root, storeDir: store, ...extra, hooks: { now: later, ...extra.hooks } });
  const status = (extra: Partial<RegisterRequest> & { scan?: boolean } = {}) => datasetStatus({ root, storeDir: store, ...extra, hooks: { now: later, ...extra.hooks } });

  beforeEach(() => {
    root = tempDir('reg-root');
    store = tempDir('reg-store');
  });
  afterEach(() => {
    removeDir(root);
    removeDir(store);
  });

  it('registers every image with format, dimensions and hash; a rerun registers nothing', async () => {
    const rels = dataset(root);
    const first = await register();
    assert.equal(first.outcome.registered, 20);
    assert.equal(first.before.new, 20);
    const { registry } = await Registry.open(registryFileFor(store), { readOnly: true });
    const rows = [...registry.rows(registry.findRootId(root))];
    registry.close();
    assert.deepEqual(rows.map((r) => r.path), rels);
    const p3 = rows.find((r) => r.path === 'png/set0/p3.png')!;
    assert.deepEqual([p3.format, p3.width, p3.height, p3.status], ['png', 11, 8, 'ok']);
    const j2 = rows.find((r) => r.path === 'jpg/j2.jpg')!;
    assert.deepEqual([j2.format, j2.width, j2.height], ['jpg', 32, 10]);
    assert.match(j2.hash ?? '', /^[0-9a-f]{16}$/);
    assert.equal(j2.size, fs.statSync(path.join(root, 'jpg/j2.jpg')).size);

    const again = await register();
    assert.equal(again.toRegister, 0);
    assert.equal(again.outcome.saves, 0, 'nothing to write, nothing written');
    const s = await status();
    assert.deepEqual([s.new, s.changed, s.missing, s.registered], [0, 0, 0, 20]);
  });

  it('tracks add → new, edit → changed (after a verify scan), delete → missing, move → moved', async () => {
    dataset(root);
    await register();
    put(root, 'png/set1/added.png', makePng(30, 30, 99));
    fs.rmSync(path.join(root, 'jpg/j0.jpg'));
    // Rewritten in place: the folder's stamp does not change, so only a verify scan sees it.
    const edited = path.join(root, 'png/set2/p2.png');
    fs.writeFileSync(edited, makePng(40, 40, 7));
    fs.renameSync(path.join(root, 'jpg/j1.jpg'), path.join(root, 'png/set0/j1-moved.jpg'));

    const quick = await status();
    assert.equal(quick.changed, 0);
    assert.match(quick.changedSource, /in-place edits unknown/);
    assert.deepEqual([...quick.diff.newFiles].sort(), ['png/set0/j1-moved.jpg', 'png/set1/added.png']);
    assert.deepEqual([...quick.diff.missing].sort(), ['jpg/j0.jpg', 'jpg/j1.jpg']);

    const verified = await status({ verify: true });
    assert.deepEqual(verified.diff.changed, ['png/set2/p2.png']);
    assert.match(verified.changedSource, /verify scan/);

    const r = await register();
    assert.equal(r.outcome.moved, 1);
    assert.equal(r.outcome.registered, 2, 'the new file and the edited one');
    const { registry } = await Registry.open(registryFileFor(store), { readOnly: true });
    const rows = new Map([...registry.rows(registry.findRootId(root))].map((row) => [row.path, row]));
    registry.close();
    assert.ok(!rows.has('jpg/j1.jpg'), 'the moved row left its old path');
    assert.equal(rows.get('png/set0/j1-moved.jpg')?.format, 'jpg');
    assert.equal(rows.get('png/set2/p2.png')?.width, 40);
    assert.equal(rows.size, 21, 'the 20 rows (deleted j0 stays as missing, j1 moved) plus added.png');
    const after = await status();
    assert.deepEqual([after.new, after.changed, after.missing], [0, 0, 1]);
    assert.deepEqual(after.diff.missing, ['jpg/j0.jpg']);
  });

  it('reports duplicate groups by content hash', async () => {
    const png = makePng(9, 9, 1);
    put(root, 'a/one.png', png);
    put(root, 'b/two.png', png);
    put(root, 'c/three.png', png);
    put(root, 'c/other.png', makePng(9, 9, 2));
    await register();
    const s = await status();
    assert.equal(s.duplicateGroups, 1);
    assert.deepEqual(s.duplicates[0].paths, ['a/one.png', 'b/two.png', 'c/three.png']);
  });

  it('records corrupt, truncated, zero-byte and non-image files as unreadable, and goes on', async () => {
    put(root, 'ok.png', makePng(5, 5));
    put(root, 'empty.jpg', Buffer.alloc(0));
    put(root, 'text.png', Buffer.from('this is not a PNG'));
    put(root, 'cut.png', makePng(64, 64, 3).subarray(0, 80));
    const jpg = makeJpeg(64, 64, 1);
    put(root, 'cut.jpg', jpg.subarray(0, jpg.length - 100));
    put(root, 'random.webp', Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 37) & 255)));
    const r = await register();
    assert.equal(r.outcome.registered, 1);
    assert.equal(r.outcome.unreadable, 5);
    const reasons = Object.fromEntries(r.outcome.unreadableSamples.map((u) => [u.path, u.reason]));
    assert.match(reasons['empty.jpg'], /empty file/);
    assert.match(reasons['text.png'], /not a raster image \(text\)/);
    assert.match(reasons['cut.png'], /truncated PNG/);
    assert.match(reasons['cut.jpg'], /truncated JPEG/);
    assert.match(reasons['random.webp'], /not a recognised image/);
    const s = await status();
    assert.deepEqual([s.new, s.unreadable, s.registered], [0, 5, 6]);
  });

  it('counts paths of an external SQLite registry as registered, and never writes that file', async () => {
    const rels = dataset(root);
    const SQL = await loadSqlJs();
    const db = new SQL.Database();
    db.run('CREATE TABLE processed (id INTEGER PRIMARY KEY, file_path TEXT)');
    db.run('INSERT INTO processed(file_path) VALUES (?), (?), (?), (?)', [path.join(root, rels[0]), rels[1], `./${rels[2]}`, '/elsewhere/x.png']);
    const extFile = path.join(store, 'pipeline.db');
    fs.writeFileSync(extFile, db.export());
    db.close();
    const before = createHash('sha256').update(fs.readFileSync(extFile)).digest('hex');
    const mtime = fs.statSync(extFile).mtimeMs;
    const registeredFrom = { file: extFile, table: 'processed', pathColumn: 'file_path' };

    const s = await status({ registeredFrom });
    assert.equal(s.external, 3);
    assert.equal(s.new, 17);
    assert.match(s.notices.join(), /1 of 4 rows in .* are outside/);
    const r = await register({ registeredFrom });
    assert.equal(r.toRegister, 17);
    assert.equal(createHash('sha256').update(fs.readFileSync(extFile)).digest('hex'), before);
    assert.equal(fs.statSync(extFile).mtimeMs, mtime);
    await assert.rejects(status({ registeredFrom: { ...registeredFrom, pathColumn: 'nope' } }), /has no column nope \(columns: id, file_path\)/);
    await assert.rejects(status({ registeredFrom: { ...registeredFrom, table: 'nope' } }), /has no table nope/);
  });

  it('moves a corrupt database aside, says where, and starts a fresh one', async () => {
    dataset(root);
    await register();
    const file = registryFileFor(store);
    const good = fs.readFileSync(file);
    const damaged = Buffer.concat([good.subarray(0, 4096), Buffer.alloc(good.length - 4096, 0xab)]);
    fs.writeFileSync(file, damaged);
    const r = await register();
    assert.equal(r.notices.length, 1);
    const aside = /moved to (\S+) and a new one started/.exec(r.notices[0])?.[1];
    assert.ok(aside && fs.existsSync(aside), r.notices[0]);
    assert.ok(fs.readFileSync(aside).equals(damaged), 'the damaged file is kept as it was');
    assert.equal(r.outcome.registered, 20, 'a fresh registry registers everything again');
    assert.equal(sqlite(file, 'PRAGMA integrity_check'), 'ok');
  });

  it('is a real SQLite file: sqlite3 and Python read it, schema and view included', async function () {
    dataset(root);
    await register();
    const file = registryFileFor(store);
    assert.equal(sqlite(file, 'PRAGMA integrity_check'), 'ok');
    assert.equal(sqlite(file, 'PRAGMA user_version'), String(SCHEMA_VERSION));
    assert.equal(sqlite(file, "SELECT count(*) FROM images WHERE status = 'ok'"), '20');
    assert.equal(sqlite(file, 'SELECT path FROM roots'), root);
    assert.match(sqlite(file, "SELECT value FROM meta WHERE key = 'tool_version'"), /^\d+\.\d+\.\d+/);
    assert.match(sqlite(file, 'SELECT registered_at FROM images_readable LIMIT 1'), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const py = spawnSync('python3', ['-c', 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(c.execute("select count(*), count(distinct hash) from images").fetchone())', file], { encoding: 'utf8' });
    if (py.status === null) this.skip();
    assert.equal(py.stdout.trim(), '(20, 20)');
  });

  it('brings a version-1 database forward through every migration, keeping its rows', async () => {
    dataset(root);
    await register();
    const file = registryFileFor(store);
    // Turn it back into what version 1 wrote.
    execFileSync('sqlite3', [file, `${UNDO_V5} DROP INDEX images_unreadable; DROP INDEX images_root_hash; CREATE INDEX images_hash ON images(hash); PRAGMA user_version = 1;`]);
    put(root, 'png/set0/later.png', makePng(7, 7, 77));
    const r = await register();
    assert.equal(r.outcome.registered, 1);
    assert.equal(sqlite(file, 'PRAGMA user_version'), String(SCHEMA_VERSION));
    assert.equal(sqlite(file, "SELECT count(*) FROM sqlite_master WHERE name IN ('images_root_hash', 'images_unreadable')"), '2');
    assert.equal(sqlite(file, "SELECT count(*) FROM sqlite_master WHERE name = 'images_hash'"), '0');
    // The index loads in path order from the primary key (both ways of asking), never from the hash index.
    for (const viaPrimaryKey of [true, false]) {
      assert.match(sqlite(file, `EXPLAIN QUERY PLAN ${loadIndexSql(true, viaPrimaryKey).replace('?', '1')}`), /USING PRIMARY KEY \(root_id=\?\)/);
    }
    assert.equal(sqlite(file, loadIndexSql(true, true).replace('?', '1')), sqlite(file, loadIndexSql(true, false).replace('?', '1')));
    // The unreadable rows' query is served by the partial index, not a scan of every row.
    assert.match(sqlite(file, `EXPLAIN QUERY PLAN ${UNREADABLE_PATHS_SQL.replace('?', '1')}`), /USING INDEX images_unreadable/);
    assert.equal(sqlite(file, 'SELECT count(*) FROM images'), '21');
  });

  it('re-reads a database another process changed before writing to it', async () => {
    dataset(root);
    await register();
    const file = registryFileFor(store);
    const { registry } = await Registry.open(file);
    assert.equal(await registry.reloadIfChanged(), false);
    execFileSync('sqlite3', [file, "DELETE FROM images WHERE path LIKE 'jpg/%'"]);
    assert.equal(await registry.reloadIfChanged(), true);
    assert.equal(registry.count(registry.findRootId(root)), 12);
    registry.close();
  });

  it('a second writer waits for the lock, or fails cleanly when told not to wait', async () => {
    const lockFile = `${registryFileFor(store)}.lock`;
    const held = await acquireLock(lockFile, { command: 'test holder', waitMs: 0 });
    await assert.rejects(acquireLock(lockFile, { command: 'second', waitMs: 0 }), (err: unknown) => {
      assert.ok(err instanceof LockBusyError);
      assert.match(err.message, new RegExp(`in use by test holder \\(pid ${process.pid}`));
      return true;
    });
    let waited = false;
    const second = acquireLock(lockFile, { command: 'second', waitMs: 5000, onWait: () => (waited = true) });
    setTimeout(() => void held.release(), 300);
    const got = await second;
    assert.ok(waited);
    await got.release();
    assert.ok(!fs.existsSync(lockFile));
    // A lock left by a dead process of this PID namespace is taken over.
    const me = currentProcess();
    fs.writeFileSync(lockFile, JSON.stringify({ ...me, pid: 999_999, startTicks: '1', command: 'dead', since: '', token: 'x' }));
    const taken = await acquireLock(lockFile, { command: 'after crash', waitMs: 0 });
    await taken.release();
  });

  it('two processes registering into one database at once lose no rows', async function () {
    this.timeout(120_000);
    const other = tempDir('reg-other');
    const a = dataset(root);
    const b = dataset(other);
    const run = (dir: string) =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [cli, 'register', dir, '--store', store, '--json', '-q'], { stdio: ['ignore', 'pipe', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (d) => (stderr += d));
        child.on('exit', (code) => resolve({ code, stderr }));
      });
    const results = await Promise.all([run(root), run(other), run(root)]);
    assert.deepEqual(results.map((r) => r.code), [0, 0, 0], results.map((r) => r.stderr).join('\n'));
    const file = registryFileFor(store);
    assert.equal(sqlite(file, 'SELECT count(*) FROM images'), String(a.length + b.length));
    assert.equal(sqlite(file, 'SELECT count(*) FROM (SELECT DISTINCT root_id, path FROM images)'), String(a.length + b.length));
    assert.ok(results.some((r) => /waiting for the registry/.test(r.stderr)), 'someone had to wait');
    removeDir(other);
  });

  it('a registration killed with SIGKILL keeps every saved batch, and a rerun completes without duplicates', async function () {
    this.timeout(120_000);
    const n = 2000;
    for (let i = 0; i < n; i++) put(root, `d${i % 10}/img${i}.png`, makePng(16, 16, i));
    const file = registryFileFor(store);
    const child = spawn(process.execPath, [path.join(repo, 'out/test/fixtures/slowRegister.js'), root, store], { stdio: ['ignore', 'pipe', 'inherit'] });
    // Killed once a few hundred files are done (several batch saves behind it, most of the work ahead).
    await new Promise<void>((resolve, reject) => {
      let text = '';
      child.stdout.on('data', (d: Buffer) => {
        text += d.toString();
        const done = [...text.matchAll(/done (\d+)/g)].map((m) => Number(m[1]));
        if (done.some((d) => d >= 300)) resolve();
      });
      child.once('exit', (code) => reject(new Error(`the registration ended (exit ${code}) before it could be killed`)));
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const saved = Number(sqlite(file, 'SELECT count(*) FROM images'));
    assert.ok(saved >= 1 && saved < n, `killed mid-run with ${saved} rows saved`);
    assert.equal(sqlite(file, 'PRAGMA integrity_check'), 'ok');
    assert.ok(fs.existsSync(`${file}.lock`), 'the dead process left its lock');

    const r = await register();
    assert.equal(r.toRegister, n - saved, 'the rerun does only what is left');
    assert.equal(sqlite(file, 'SELECT count(*) FROM images'), String(n));
    assert.equal(sqlite(file, 'SELECT count(DISTINCT path) FROM images'), String(n));
  });

  it('cancel stops registration after saving what is done; the next run finishes it', async () => {
    for (let i = 0; i < 1000; i++) put(root, `d${i % 3}/img${i}.png`, makePng(8, 8, i));
    const controller = new AbortController();
    const first = await register({
      signal: controller.signal,
      registerConcurrency: 2,
      onRegisterProgress: (p) => {
        if (p.done >= 1) controller.abort();
      },
    });
    assert.equal(first.outcome.cancelled, true);
    const done = first.outcome.registered;
    assert.ok(done >= 1 && done < 1000, `${done} registered before the cancel`);
    const second = await register();
    assert.equal(second.toRegister, 1000 - done);
    assert.equal((await status()).registered, 1000);
  });

  it('register on the command line: Ctrl-C (SIGINT) stops after saving, exit 130; the next run finishes', async function () {
    this.timeout(120_000);
    const n = 6000;
    for (let i = 0; i < n; i++) put(root, `d${i % 10}/img${i}.png`, makePng(24, 24, i));
    const file = registryFileFor(store);
    const child = spawn(process.execPath, [cli, 'register', root, '--store', store, '--concurrency', '1', '--json', '--verbose'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    // Interrupt once registration is under way, as its log says (the lock is taken before the
    // registry is read and diffed: a loaded machine may not have registered anything by then).
    await new Promise<void>((resolve, reject) => {
      let text = '';
      child.stderr.on('data', (d: Buffer) => {
        text += d.toString();
        if (/registering 6000/.test(text)) resolve();
      });
      child.once('exit', (code) => reject(new Error(`register ended (exit ${code}) before it could be interrupted: ${text}`)));
    });
    // …and has read image bytes (~100 images; a loaded machine may take a while to start).
    const readBytes = (): number => Number(/rchar: (\d+)/.exec(fs.readFileSync(`/proc/${child.pid}/io`, 'utf8'))?.[1] ?? 0);
    const base = readBytes();
    const deadline = Date.now() + 60_000;
    while (readBytes() < base + 150_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    assert.equal(code, 130, stdout);
    const report = JSON.parse(stdout) as { registered: number; cancelled: boolean };
    assert.equal(report.cancelled, true);
    assert.ok(report.registered > 0 && report.registered < n, `${report.registered} registered before Ctrl-C`);
    assert.equal(Number(sqlite(file, 'SELECT count(*) FROM images')), report.registered, 'every registered row was saved');
    assert.ok(!fs.existsSync(`${file}.lock`), 'the lock was released');
    const rest = await register();
    assert.equal(rest.toRegister, n - report.registered);
    assert.equal(sqlite(file, 'SELECT count(*) FROM images'), String(n));
  });
});
