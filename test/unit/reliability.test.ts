// The reliability promises on real processes and files: a lock that fences its writers across
// PID namespaces and paused holders, temp files that cannot be planted or left behind, and
// failures that end in one line naming the file, with nothing lost.
import * as assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cacheFileFor, registerDataset, registryFileFor, scanDataset } from '../../src/core';
import { acquireLock, LockBusyError } from '../../src/core/registry/lock';
import { RegisterSaveError } from '../../src/core/register/registerFiles';
import { openAtomic, removeStaleTempFiles } from '../../src/core/fsutil/atomicWrite';
import { currentProcess } from '../../src/core/fsutil/processIdentity';
import { makePng } from '../helpers/images';
import { removeDir, tempDir } from '../helpers/tmp';

const repo = path.resolve(__dirname, '../../..');
const cli = path.join(repo, 'dist/cli.js');
const fixture = (name: string): string => path.join(repo, `out/test/fixtures/${name}.js`);

function run(args: string[], env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
}

function sqlite(file: string, sql: string): string {
  return execFileSync('sqlite3', [file, sql], { encoding: 'utf8' }).trim();
}

function put(root: string, n: number, from = 0, size = 8): void {
  for (let i = from; i < from + n; i++) {
    const abs = path.join(root, `d${i % 10}`, `img${i}.png`);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, makePng(size, size, i));
  }
}

/** One line on stderr, no stack trace. */
function assertOneLine(stderr: string): void {
  const lines = stderr.trim().split('\n').filter((l) => !/^\s*$/.test(l));
  assert.equal(lines.filter((l) => /^\s+at /.test(l)).length, 0, `no stack trace:\n${stderr}`);
  assert.ok(lines.some((l) => l.startsWith('dataset-index: ')), stderr);
}

async function waitFor(check: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}

function canUnshare(flags: string[]): boolean {
  return spawnSync('unshare', [...flags, 'true']).status === 0;
}

/** Starts a holder of `lockFile` (optionally in new namespaces) and resolves with the pid to signal. */
async function startHolder(lockFile: string, unshare: string[] = []): Promise<{ child: ChildProcess; pid: number }> {
  const argv = [process.execPath, fixture('holdLock'), lockFile];
  const child = unshare.length ? spawn('unshare', [...unshare, ...argv], { stdio: ['ignore', 'pipe', 'inherit'] }) : spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  await waitFor(() => /held \d+/.test(out));
  // In a new PID namespace the holder is unshare's child: signal it by its pid out here.
  const pid = unshare.length ? Number(execFileSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' }).trim().split('\n')[0]) : (child.pid as number);
  return { child, pid };
}

function stopAll(...children: (ChildProcess | undefined)[]): void {
  for (const c of children) {
    try {
      c?.kill('SIGKILL');
    } catch {
      // gone already
    }
  }
}

describe('reliability: the registry lock', function () {
  this.timeout(60_000);
  let store: string;
  beforeEach(() => {
    store = tempDir('lock');
  });
  afterEach(() => removeDir(store));

  it('a holder in another PID namespace is never taken over while it lives (also when stopped); at once when it dies', async function () {
    if (!canUnshare(['--pid', '--fork', '--mount-proc'])) this.skip();
    const lockFile = path.join(store, 'registry.sqlite.lock');
    const { child, pid } = await startHolder(lockFile, ['--pid', '--fork', '--mount-proc']);
    try {
      const inside = JSON.parse(fs.readFileSync(lockFile, 'utf8')) as { pid: number; pidNs: string };
      assert.notEqual(inside.pidNs, currentProcess().pidNs, 'the holder runs in another PID namespace');
      await assert.rejects(acquireLock(lockFile, { command: 'second', waitMs: 300, staleMs: 50 }), LockBusyError);
      process.kill(pid, 'SIGSTOP');
      await new Promise((r) => setTimeout(r, 200)); // past the (shortened) stale time: the heartbeat alone would say dead
      await assert.rejects(acquireLock(lockFile, { command: 'second', waitMs: 300, staleMs: 50 }), LockBusyError);
      process.kill(pid, 'SIGKILL');
      await waitFor(() => spawnSync('kill', ['-0', String(pid)]).status !== 0);
      const told: string[] = [];
      const lock = await acquireLock(lockFile, { command: 'after', waitMs: 2000, onTakeover: (t) => told.push(t.why) });
      assert.deepEqual(told, ['its process has ended (its OS lock was free)']);
      assert.ok(lock.takeover);
      lock.assertHeld();
      await lock.release();
      assert.ok(!fs.existsSync(lockFile));
    } finally {
      stopAll(child);
    }
  });

  it('a lock naming a live but unrelated pid (a restarted container: pid 1) is taken over, and says why', async () => {
    const lockFile = path.join(store, 'registry.sqlite.lock');
    const me = currentProcess();
    const base = { pid: 1, host: me.host, command: 'register /old', since: '2026-01-01T00:00:00Z', token: 'old' };
    // As a current holder writes it: the OS lock it held is free now.
    fs.writeFileSync(lockFile, JSON.stringify({ ...base, bootId: me.bootId, pidNs: 'pid:[1]', startTicks: '1', osLock: true }));
    let told = '';
    let lock = await acquireLock(lockFile, { command: 'new', waitMs: 0, onTakeover: (t) => (told = t.why) });
    assert.equal(told, 'its process has ended (its OS lock was free)');
    await lock.release();
    // As an older version wrote it (no boot id, no OS lock): judged by its two-hour-old heartbeat.
    fs.writeFileSync(lockFile, JSON.stringify(base));
    const old = new Date(Date.now() - 2 * 3_600_000);
    fs.utimesSync(lockFile, old, old);
    lock = await acquireLock(lockFile, { command: 'new', waitMs: 0, onTakeover: (t) => (told = t.why) });
    assert.match(told, /no heartbeat for 7200 s/);
    await lock.release();
    // The same with a fresh heartbeat cannot be proven dead: it waits.
    fs.writeFileSync(lockFile, JSON.stringify(base));
    await assert.rejects(acquireLock(lockFile, { command: 'new', waitMs: 0 }), LockBusyError);
  });

  it('a holder paused past the stale time on another machine is fenced: its later save is refused, the new writer\'s rows stay', async function () {
    this.timeout(120_000);
    if (!canUnshare(['--uts', '--pid', '--fork', '--mount-proc'])) this.skip();
    const rootA = tempDir('fence-a');
    const rootB = tempDir('fence-b');
    try {
      put(rootA, 500);
      put(rootB, 700);
      const file = registryFileFor(store);
      // The first writer runs on "another machine": its own host name, its own PID namespace.
      const script = `hostname other-machine && exec "${process.execPath}" "${cli}" register "${rootA}" --store "${store}" --json`;
      const first = spawn('unshare', ['--uts', '--pid', '--fork', '--mount-proc', 'sh', '-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
      let firstErr = '';
      first.stderr?.on('data', (d) => (firstErr += d));
      // The lock file is created, then written: wait for its holder's record, not for the name alone.
      const lockText = (): string => (fs.existsSync(`${file}.lock`) ? fs.readFileSync(`${file}.lock`, 'utf8') : '');
      await waitFor(() => /other-machine/.test(lockText()));
      const pid = Number(execFileSync('pgrep', ['-P', String(first.pid)], { encoding: 'utf8' }).trim().split('\n')[0]);
      process.kill(pid, 'SIGSTOP');
      try {
        assert.match(fs.readFileSync(`${file}.lock`, 'utf8'), /other-machine/);
        await new Promise((r) => setTimeout(r, 1500));
        // This machine has no OS lock to ask (no flock(1) on its PATH), as a machine across NFS may not.
        const second = run(['register', rootB, '--store', store, '--lock-stale', '1', '--json'], { PATH: '/nonexistent' });
        assert.equal(second.status, 0, second.stderr);
        assert.match(second.stderr, /took over the registry lock of register .* \(pid \d+ on other-machine.*no heartbeat for \d+ s/);
        assert.equal(sqlite(file, 'SELECT count(*) FROM images'), '700');
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      const code = await new Promise<number | null>((r) => first.once('exit', r));
      assert.equal(code, 1, firstErr);
      assert.match(firstErr, /^dataset-index: the registry lock .* now belongs to another process: this process was paused .* rerun to register them/m);
      assertOneLine(firstErr);
      assert.equal(sqlite(file, 'SELECT count(*) FROM images'), '700', 'the fenced writer wrote nothing over the new rows');
      const rerun = run(['register', rootA, '--store', store, '--json']);
      assert.equal(rerun.status, 0, rerun.stderr);
      assert.equal(sqlite(file, 'SELECT count(*) FROM images'), '1200');
    } finally {
      removeDir(rootA);
      removeDir(rootB);
    }
  });
});

describe('reliability: files written safely', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => {
    dir = tempDir('safe');
  });
  afterEach(() => removeDir(dir));

  it('a symlink planted at the temp name is not followed; the write goes elsewhere and keeps the mode', async () => {
    const victim = path.join(dir, 'victim');
    fs.writeFileSync(victim, 'secret', { mode: 0o600 });
    const target = path.join(dir, 'out.csv');
    fs.writeFileSync(target, 'old');
    fs.chmodSync(target, 0o640);
    const names = ['planted', 'fresh'];
    fs.symlinkSync(victim, path.join(dir, '.out.csv.planted.tmp'));
    const file = await openAtomic(target, () => names.shift() ?? 'other');
    await file.handle.writeFile('new');
    await file.commit();
    assert.equal(fs.readFileSync(victim, 'utf8'), 'secret');
    assert.equal(fs.statSync(victim).mode & 0o777, 0o600);
    assert.ok(fs.lstatSync(path.join(dir, '.out.csv.planted.tmp')).isSymbolicLink(), 'the planted link is left alone');
    assert.equal(fs.readFileSync(target, 'utf8'), 'new');
    assert.ok(!fs.lstatSync(target).isSymbolicLink());
    assert.equal(fs.statSync(target).mode & 0o777, 0o640, 'the mode of the file replaced is kept');
  });

  it('a symlinked registry is written through to its target, which keeps its mode', async () => {
    const root = tempDir('link-root');
    const elsewhere = tempDir('link-real');
    try {
      put(root, 20);
      const store = path.join(dir, 'store');
      fs.mkdirSync(store);
      const real = path.join(elsewhere, 'team.sqlite');
      await registerDataset({ root, storeDir: elsewhere });
      fs.renameSync(registryFileFor(elsewhere), real);
      fs.chmodSync(real, 0o600);
      fs.symlinkSync(real, registryFileFor(store));
      put(root, 5, 20);
      await registerDataset({ root, storeDir: store });
      assert.ok(fs.lstatSync(registryFileFor(store)).isSymbolicLink(), 'still a link');
      assert.equal(sqlite(real, 'SELECT count(*) FROM images'), '25');
      assert.equal(fs.statSync(real).mode & 0o777, 0o600);
    } finally {
      removeDir(root);
      removeDir(elsewhere);
    }
  });

  it('a save killed half-way leaves a temp file the next run removes; a live writer\'s temp file is kept', async () => {
    const root = tempDir('kill-root');
    try {
      put(root, 10);
      const target = registryFileFor(dir);
      const writer = spawn(process.execPath, [fixture('atomicWriter'), target], { stdio: ['ignore', 'pipe', 'inherit'] });
      const temps = (): string[] => fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'));
      await waitFor(() => temps().length === 1 && fs.statSync(path.join(dir, temps()[0])).size > 20 << 20);
      writer.kill('SIGKILL');
      await new Promise((r) => writer.once('exit', r));
      const [left] = temps();
      assert.match(left, /^\.registry\.sqlite\.[0-9a-f]{24}\.tmp$/);
      // An older version's name for its temp file, and a live writer's.
      fs.writeFileSync(path.join(dir, '.registry.sqlite.4242.0badcafe.tmp'), 'x');
      const live = spawn(process.execPath, [fixture('atomicWriter'), path.join(dir, 'registry.sqlite'), 'hold'], { stdio: ['ignore', 'pipe', 'inherit'] });
      try {
        await waitFor(() => temps().length === 3);
        const liveName = temps().find((f) => f !== left && !f.includes('4242')) as string;
        const report = await registerDataset({ root, storeDir: dir });
        assert.ok(report.notices.some((n) => /removed 2 temp file\(s\) of an interrupted save \(\d+ MB\)/.test(n)), report.notices.join('\n'));
        assert.deepEqual(temps(), [liveName]);
        live.kill('SIGKILL');
        await new Promise((r) => live.once('exit', r));
        assert.equal((await removeStaleTempFiles(dir, 'registry.sqlite')).removed, 1, 'once its writer is dead, it goes too');
      } finally {
        stopAll(live);
      }
      // The scan cache's temp files likewise, by the next scan.
      fs.writeFileSync(path.join(dir, '.scan-0123456789abcdef.dsxcache.000000000000000000000000.tmp'), 'x');
      const logs: string[] = [];
      await scanDataset({ root, storeDir: dir, log: (l) => logs.push(l) });
      assert.ok(logs.some((l) => /removed 1 temp file/.test(l)), logs.join('\n'));
      assert.deepEqual(temps(), []);
    } finally {
      removeDir(root);
    }
  });

  it('export --out refuses the store, and a bad target is one line with the cause, exit 1', async () => {
    const root = tempDir('export-root');
    try {
      put(root, 5);
      const store = path.join(dir, 'store');
      assert.equal(run(['register', root, '--store', store, '-q']).status, 0);
      const file = registryFileFor(store);
      const before = fs.readFileSync(file);
      for (const out of [file, path.join(store, 'x.csv'), path.join(store, '..', 'store', 'registry.sqlite')]) {
        const res = run(['export', root, '--store', store, '--format', 'csv', '--out', out]);
        assert.equal(res.status, 2, res.stderr);
        assert.match(res.stderr, /refusing to export to .*inside the store/);
      }
      fs.symlinkSync(file, path.join(dir, 'innocent.csv'));
      assert.equal(run(['export', root, '--store', store, '--format', 'csv', '--out', path.join(dir, 'innocent.csv')]).status, 2);
      assert.ok(before.equals(fs.readFileSync(file)), 'the registry is untouched');
      const cases: [string, RegExp][] = [
        [path.join(dir, 'missing', 'out.csv'), /cannot write .*missing\/out\.csv: ENOENT \(its folder does not exist\)/],
        [path.join(dir, `${'n'.repeat(250)}.csv`), /ENAMETOOLONG \(file name too long\)/],
        [dir, /EISDIR \(it is a folder\)/],
      ];
      for (const [out, message] of cases) {
        const res = run(['export', root, '--store', store, '--format', 'jsonl', '--out', out]);
        assert.equal(res.status, 1, res.stderr);
        assert.match(res.stderr, message);
        assertOneLine(res.stderr);
      }
      const ok = run(['export', root, '--store', store, '--format', 'csv', '--out', path.join(dir, 'm.csv')]);
      assert.equal(ok.status, 0, ok.stderr);
      assert.equal(fs.readFileSync(path.join(dir, 'm.csv'), 'utf8').trim().split('\n').length, 6);
      assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
    } finally {
      removeDir(root);
    }
  });
});

describe('reliability: failures end cleanly', function () {
  this.timeout(120_000);
  let root: string;
  let dir: string;
  beforeEach(() => {
    root = tempDir('fail-root');
    dir = tempDir('fail');
  });
  afterEach(() => {
    removeDir(root);
    removeDir(dir);
  });

  it('a full store (2 MB tmpfs): one line naming the file and what was kept, exit 1, lock released; the rerun finishes', function () {
    const store = path.join(dir, 'store');
    fs.mkdirSync(store);
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', store]).status !== 0) this.skip();
    try {
      put(root, 300);
      assert.equal(run(['register', root, '--store', store, '-q']).status, 0);
      const file = registryFileFor(store);
      put(root, 3000, 300);
      // Leave less room than the next save needs.
      const free = Number(execFileSync('df', ['--output=avail', '-B1', store], { encoding: 'utf8' }).trim().split('\n')[1]);
      fs.writeFileSync(path.join(store, 'filler'), Buffer.alloc(Math.max(0, free - 64 * 1024)));
      const res = run(['register', root, '--store', store]);
      assert.equal(res.status, 1, res.stderr);
      assert.match(res.stderr, /ENOSPC \(no space left on device\)/);
      assert.match(res.stderr, new RegExp(`${store.replace(/[/.]/g, '\\$&')}/\\S+`), 'names the file');
      assert.match(res.stderr, /kept|next (run|scan)/);
      assertOneLine(res.stderr);
      assert.ok(!fs.existsSync(`${file}.lock`), 'the lock was released');
      assert.equal(sqlite(file, 'PRAGMA integrity_check'), 'ok');
      assert.ok(Number(sqlite(file, 'SELECT count(*) FROM images')) >= 300, 'the rows of the earlier run are kept');
      assert.deepEqual(fs.readdirSync(store).filter((f) => f.endsWith('.tmp')), [], 'no temp file left on the full disk');
      fs.rmSync(path.join(store, 'filler'));
      const rerun = run(['register', root, '--store', store, '-q']);
      assert.equal(rerun.status, 0, rerun.stderr);
      assert.equal(sqlite(file, 'SELECT count(*) FROM images'), '3300');
    } finally {
      spawnSync('umount', [store]);
    }
  });

  it('a save failing mid-run (the disk fills between batches) is one error saying what was kept; nothing is unhandled', async function () {
    const store = path.join(dir, 'store');
    fs.mkdirSync(store);
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', store]).status !== 0) this.skip();
    try {
      put(root, 2500);
      const file = registryFileFor(store);
      let filled = false;
      const err = await registerDataset({
        root,
        storeDir: store,
        registerConcurrency: 1,
        batchWindowMs: 1,
        onRegisterProgress: (p) => {
          // Once a few batches are saved, take the rest of the room.
          if (!filled && p.done > 500 && fs.existsSync(file)) {
            filled = true;
            const free = Number(execFileSync('df', ['--output=avail', '-B1', store], { encoding: 'utf8' }).trim().split('\n')[1]);
            fs.writeFileSync(path.join(store, 'filler'), Buffer.alloc(Math.max(0, free - 16 * 1024)));
          }
        },
      }).then(
        () => null,
        (e: unknown) => e,
      );
      assert.ok(err instanceof RegisterSaveError, String(err));
      assert.match(err.message, /^cannot write .*registry\.sqlite: ENOSPC \(no space left on device\); the \d+ rows this run saved before are kept; \d+ rows were not saved — the next run registers them$/);
      assert.ok(err.savedRows > 0);
      assert.equal(sqlite(file, 'SELECT count(*) FROM images'), String(err.savedRows), 'the file holds exactly the saved batches');
      assert.ok(!fs.existsSync(`${file}.lock`), 'the lock was released');
      fs.rmSync(path.join(store, 'filler'));
      const rest = await registerDataset({ root, storeDir: store });
      assert.equal(rest.toRegister, 2500 - err.savedRows);
    } finally {
      spawnSync('umount', [store]);
    }
  });

  it('a file swapped for a FIFO between the scan and its read is unreadable with the reason; the run ends', async () => {
    put(root, 20);
    const swapped = path.join(root, 'd3', 'img3.png');
    const report = await registerDataset({
      root,
      storeDir: path.join(dir, 'store'),
      // The line logged right before registration starts: the scan has seen a regular file.
      log: (line) => {
        if (line.startsWith('register ')) {
          fs.rmSync(swapped);
          execFileSync('mkfifo', [swapped]);
        }
      },
    });
    assert.equal(report.outcome.registered, 19);
    assert.equal(report.outcome.unreadable, 1);
    assert.match(report.outcome.unreadableSamples[0].reason, /FIFO/);
  });

  it('a FIFO, a folder or a missing file given as --registered-from fails at once, before any scan, and never hangs', () => {
    put(root, 3);
    const store = path.join(dir, 'store');
    const fifo = path.join(dir, 'pipeline.fifo');
    execFileSync('mkfifo', [fifo]);
    for (const [target, why] of [[fifo, /not a regular file \(FIFO\)/], [dir, /not a regular file \(directory\)/], [path.join(dir, 'nope.db'), /ENOENT/]] as const) {
      for (const command of ['status', 'register']) {
        const started = Date.now();
        const r = spawnSync(process.execPath, [cli, command, root, '--store', store, '--registered-from', target, '--table', 'images', '--path-column', 'path'], { encoding: 'utf8', timeout: 20_000 });
        assert.equal(r.signal, null, `${command} --registered-from ${target} hung`);
        assert.equal(r.status, 1, r.stderr);
        assertOneLine(r.stderr);
        assert.match(r.stderr, why);
        assert.ok(Date.now() - started < 10_000);
        assert.ok(!fs.existsSync(cacheFileFor(store, root)), 'nothing was scanned before the check');
      }
    }
  });

  it('an image unreadable for a cause that can pass (EACCES) is retried by the next register once readable', function () {
    const setpriv = '/usr/bin/setpriv';
    if (process.getuid?.() !== 0 || !fs.existsSync(setpriv)) this.skip();
    put(root, 6);
    const store = path.join(dir, 'store');
    fs.mkdirSync(store);
    for (const d of [dir, root, store]) fs.chmodSync(d, 0o777);
    const locked = path.join(root, 'd2', 'img2.png');
    fs.chmodSync(locked, 0o000); // root-owned: nobody cannot open it
    const asNobody = (args: string[]): SpawnSyncReturns<string> =>
      spawnSync(setpriv, ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, cli, ...args], { encoding: 'utf8' });
    const first = asNobody(['register', root, '--store', store, '--json']);
    assert.equal(first.status, 0, first.stderr);
    assert.equal(sqlite(registryFileFor(store), "SELECT reason FROM images WHERE status = 'unreadable'"), 'cannot open: EACCES');
    fs.chmodSync(locked, 0o644);
    const second = asNobody(['register', root, '--store', store, '--json']);
    assert.equal(second.status, 0, second.stderr);
    assert.equal((JSON.parse(second.stdout) as { toRegister: number }).toRegister, 1, 'only the unreadable one is read again');
    assert.equal(sqlite(registryFileFor(store), "SELECT count(*) FROM images WHERE status = 'ok'"), '6');
  });

  it('a second Ctrl-C quits at once; what was saved stays saved', async () => {
    put(root, 4000, 0, 24);
    const store = path.join(dir, 'store');
    const file = registryFileFor(store);
    const child = spawn(process.execPath, [cli, 'register', root, '--store', store, '--concurrency', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    await waitFor(() => fs.existsSync(`${file}.lock`));
    child.kill('SIGINT');
    child.kill('SIGINT');
    const started = Date.now();
    const [code, signal] = await new Promise<[number | null, string | null]>((r) => child.once('exit', (c, s) => r([c, s])));
    assert.ok(code === 130 || signal === 'SIGINT', `exit ${code} ${signal}`);
    assert.ok(Date.now() - started < 10_000);
    if (fs.existsSync(file)) assert.equal(sqlite(file, 'PRAGMA integrity_check'), 'ok');
  });

  it('a root folder with a 250-byte name gets a store name that fits', () => {
    const long = path.join(dir, 'é'.repeat(125));
    put(long, 3);
    const res = run(['register', long, '-q', '--json'], { XDG_CACHE_HOME: path.join(dir, 'cache') });
    assert.equal(res.status, 0, res.stderr);
    const [storeName] = fs.readdirSync(path.join(dir, 'cache', 'dataset-index'));
    assert.ok(Buffer.byteLength(storeName) <= 80, storeName);
  });

  it('a registry with a newer schema is refused with both versions, exit 1, and left as it was', () => {
    put(root, 3);
    const store = path.join(dir, 'store');
    assert.equal(run(['register', root, '--store', store, '-q']).status, 0);
    const file = registryFileFor(store);
    sqlite(file, 'PRAGMA user_version = 99');
    const before = fs.readFileSync(file);
    for (const cmd of ['register', 'status']) {
      const res = run([cmd, root, '--store', store]);
      assert.equal(res.status, 1, res.stderr);
      assert.match(res.stderr, /99/);
      assertOneLine(res.stderr);
    }
    assert.ok(before.equals(fs.readFileSync(file)));
    assert.deepEqual(fs.readdirSync(store).filter((f) => f.includes('corrupt')), []);
  });

  it('a directory where the registry or the cache should be is a clear error', () => {
    put(root, 3);
    const store = path.join(dir, 'store');
    fs.mkdirSync(path.join(store, 'registry.sqlite'), { recursive: true });
    const res = run(['register', root, '--store', store]);
    assert.equal(res.status, 1, res.stderr);
    assert.match(res.stderr, /registry\.sqlite.*(is a directory|is a folder)/);
    assertOneLine(res.stderr);
    assert.ok(!fs.existsSync(cacheFileFor(store, root)), 'refused before the scan, not after it');

    // The scan cache: refused before the walk (the save would fail only at its end).
    const store2 = path.join(dir, 'store2');
    fs.mkdirSync(cacheFileFor(store2, root), { recursive: true });
    for (const cmd of ['scan', 'register', 'status']) {
      const r = run([cmd, root, '--store', store2]);
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /scan cache .*\.dsxcache is a folder, not a file/);
      assertOneLine(r.stderr);
    }
    assert.ok(!fs.existsSync(registryFileFor(store2)));

    // A store that is a file.
    const store3 = path.join(dir, 'store3');
    fs.writeFileSync(store3, 'x');
    const r3 = run(['scan', root, '--store', store3]);
    assert.equal(r3.status, 1, r3.stderr);
    assert.match(r3.stderr, /the store is not a directory: .*store3/);
    assertOneLine(r3.stderr);
  });
});
