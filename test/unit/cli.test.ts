import * as assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cacheFileFor, readCacheHeader, scanDataset } from '../../src/core';
import { buildTree, removeDir, tempDir, writeImage } from '../helpers/tmp';

const repo = path.resolve(__dirname, '../../..');
const cli = path.join(repo, 'dist/cli.js');

function run(args: string[], env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
}

function json(res: SpawnSyncReturns<string>): Record<string, unknown> {
  assert.equal(res.status, 0, res.stderr);
  return JSON.parse(res.stdout) as Record<string, unknown>;
}

describe('CLI', () => {
  let root: string;
  let store: string;
  before(() => assert.ok(fs.existsSync(cli), 'dist/cli.js is built (npm test builds it before mocha)'));
  beforeEach(() => {
    root = tempDir('cli-root');
    store = tempDir('cli-store');
  });
  afterEach(() => {
    removeDir(root);
    removeDir(store);
  });

  it('scan --json prints one object with the documented fields', () => {
    buildTree(root, 5, 3);
    const out = json(run(['scan', root, '--store', store, '--json']));
    for (const key of ['root', 'mode', 'files', 'dirs', 'added', 'removed', 'modified', 'errors', 'elapsedMs', 'cacheLoadMs', 'fsOps', 'cacheAgeMs']) {
      assert.ok(key in out, `missing ${key}`);
    }
    assert.equal(out.root, root);
    assert.equal(out.mode, 'full');
    assert.equal(out.files, 15);
    assert.equal(out.added, 15);
    assert.equal(out.cacheAgeMs, null);
    assert.deepEqual(Object.keys(out.fsOps as object).sort(), ['readdir', 'stat']);
    const again = json(run(['scan', root, '--store', store, '--json', '--use-cache']));
    assert.equal(again.mode, 'quick');
    assert.equal(typeof again.cacheAgeMs, 'number');
    assert.equal(json(run(['scan', root, '--store', store, '--json', '--force-rescan'])).mode, 'full');
    assert.equal(json(run(['scan', root, '--store', store, '--json', '--verify'])).mode, 'verify');
  });

  it('prints a human summary without --json, and honours --ext and --exclude', () => {
    writeImage(root, 'a/one.png');
    writeImage(root, 'a/two.jpg');
    writeImage(root, 'skip/three.png');
    const res = run(['scan', root, '--store', store, '--ext', 'png', '--exclude', 'skip/**']);
    assert.equal(res.status, 0, res.stderr);
    assert.match(res.stdout, /full scan \(no scan cache yet\)/);
    assert.match(res.stdout, /1 images in 2 folders/);
  });

  it('exits 1 with a one-line message for a missing folder, a file, and an unwritable store', () => {
    const file = writeImage(root, 'x.png');
    for (const [args, message] of [
      [['scan', path.join(root, 'missing')], /folder not found/],
      [['scan', file, '--store', store], /not a folder/],
      [['scan', root, '--store', path.join(file, 'store')], /cannot create the store .*ENOTDIR/],
    ] as const) {
      const res = run([...args]);
      assert.equal(res.status, 1, res.stderr);
      assert.match(res.stderr, message);
      assert.equal(res.stderr.trim().split('\n').length, 1, res.stderr);
    }
  });

  it('exits 2 on usage errors', () => {
    assert.equal(run(['scan']).status, 2);
    assert.equal(run(['scan', root, '--no-such-flag']).status, 2);
    assert.equal(run(['scan', root, '--concurrency', 'zero']).status, 2);
    assert.equal(run(['frobnicate']).status, 2);
    assert.equal(run(['--help']).status, 0);
    for (const ext of ['', ',', ' , .']) {
      const res = run(['scan', root, '--store', store, '--ext', ext]);
      assert.equal(res.status, 2, `--ext ${JSON.stringify(ext)}: ${res.stderr}`);
      assert.match(res.stderr, /expected one or more extensions/);
    }
  });

  it('says each thing once: the result without log lines, the log with --verbose; help names each concurrency once', () => {
    writeImage(root, 'a.png');
    const plain = run(['register', root, '--store', store]);
    assert.equal(plain.status, 0, plain.stderr);
    assert.equal(plain.stderr, '', 'no log lines without --verbose');
    assert.match(plain.stdout, /registered 1 · .* · 1 save\b/);
    const verbose = run(['scan', root, '--store', store, '--verbose']);
    assert.match(verbose.stderr, /scan .*: quick \(valid cache\)/);
    const help = run(['register', '--help']).stdout;
    assert.match(help, /--read-concurrency <n>\s+images read at once/);
    assert.match(help, /--fs-concurrency <n>\s+file-system calls in flight/);
    assert.doesNotMatch(help, /--concurrency </);
    assert.match(help.replace(/\s+/g, " "), /content hash, format, width, height, size and mtime/);
    assert.doesNotMatch(run(['scan', '--help']).stdout, /--concurrency </);
    assert.equal(run(['register', root, '--store', store, '--concurrency', '2']).status, 0, 'the old name still works');
  });

  it('register lists the first unreadable files, then says how many more', () => {
    for (let i = 0; i < 14; i++) {
      fs.mkdirSync(path.join(root, 'bad'), { recursive: true });
      fs.writeFileSync(path.join(root, `bad/broken${i}.png`), `not a png ${i}`);
    }
    const res = run(['register', root, '--store', store]);
    assert.equal(res.status, 0, res.stderr);
    assert.equal((res.stdout.match(/^ {4}unreadable /gm) ?? []).length, 10);
    assert.match(res.stdout, /… and 4 more \(`dataset-index list --status unreadable --jsonl` lists them all\)/);
  });

  it('clear-cache of a folder that is neither there nor cached exits 1; of a deleted but cached folder, clears it', () => {
    const gone = path.join(root, 'no-such-folder');
    const res = run(['clear-cache', gone, '--store', store]);
    assert.equal(res.status, 1);
    assert.match(res.stderr, /folder not found and no scan cache for it: .*no-such-folder/);
    const sub = path.join(root, 'was-here');
    writeImage(sub, 'a.png');
    json(run(['scan', sub, '--store', store, '--json']));
    fs.rmSync(sub, { recursive: true });
    const cleared = run(['clear-cache', sub, '--store', store]);
    assert.equal(cleared.status, 0, cleared.stderr);
    assert.match(cleared.stdout, /removed/);
  });

  it('clear-cache removes only that folder\'s cache', () => {
    const other = tempDir('cli-other');
    writeImage(root, 'a.png');
    writeImage(other, 'b.png');
    json(run(['scan', root, '--store', store, '--json']));
    json(run(['scan', other, '--store', store, '--json']));
    const cleared = json(run(['clear-cache', root, '--store', store, '--json']));
    assert.equal(cleared.removed, true);
    assert.ok(!fs.existsSync(cacheFileFor(store, root)));
    assert.ok(fs.existsSync(cacheFileFor(store, other)));
    assert.equal(json(run(['scan', other, '--store', store, '--json'])).mode, 'quick');
    assert.equal(json(run(['scan', root, '--store', store, '--json'])).mode, 'full');
    assert.equal(json(run(['scan', root, '--store', store, '--json', '--clear-cache'])).mode, 'full');
    removeDir(other);
  });

  it('defaults the store to a per-folder directory under the user cache dir', () => {
    writeImage(root, 'a.png');
    const out = json(run(['scan', root, '--json'], { XDG_CACHE_HOME: store }));
    assert.ok(String(out.cacheFile).startsWith(path.join(store, 'dataset-index', path.basename(root) + '-')));
    const res = run(['clear-cache', root], { XDG_CACHE_HOME: store });
    assert.match(res.stdout, /removed/);
  });

  it('expands glob patterns into several roots, one JSON object per line', () => {
    writeImage(root, 'cam1/images/a.png');
    writeImage(root, 'cam2/images/b.png');
    writeImage(root, 'cam2/other/c.png');
    const res = spawnSync(process.execPath, [cli, 'scan', 'cam*/images', '--store', store, '--json'], { cwd: root, encoding: 'utf8' });
    assert.equal(res.status, 0, res.stderr);
    const lines = res.stdout.trim().split('\n').map((l) => JSON.parse(l) as { root: string; files: number });
    assert.deepEqual(lines.map((l) => [path.relative(root, l.root), l.files]), [['cam1/images', 1], ['cam2/images', 1]]);
    assert.equal(spawnSync(process.execPath, [cli, 'scan', 'nomatch*/x'], { cwd: root, encoding: 'utf8' }).status, 1);
  });

  it('reports a folder it may not read (as an unprivileged user) and goes on', function () {
    const setpriv = '/usr/bin/setpriv';
    if (process.getuid?.() !== 0 || !fs.existsSync(setpriv)) this.skip();
    buildTree(root, 4, 2);
    fs.chmodSync(root, 0o755);
    fs.chmodSync(store, 0o777);
    fs.chmodSync(path.join(root, 'top2/mid2/leaf2'), 0o700); // root-owned: nobody cannot list it
    const res = spawnSync(setpriv, ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, cli, 'scan', root, '--store', store, '--json'], {
      encoding: 'utf8',
    });
    const out = json(res);
    assert.equal(out.errors, 1);
    assert.deepEqual((out.issues as { code: string; path: string }[]).map((i) => [i.code, i.path]), [['EACCES', 'top2/mid2/leaf2']]);
    assert.equal(out.files, 6);
  });

  it('a first scan killed with SIGKILL resumes from its last checkpoint', async function () {
    this.timeout(120_000);
    buildTree(root, 150, 1);
    // Let the tree age past the racy window, or every checkpointed folder would be re-read anyway.
    await new Promise((r) => setTimeout(r, 2_100));
    const fixture = path.join(repo, 'out/test/fixtures/slowScan.js');
    const child = spawn(process.execPath, [fixture, root, store], { stdio: 'inherit' });
    const cacheFile = cacheFileFor(store, root);
    const deadline = Date.now() + 60_000;
    let header = await readCacheHeader(cacheFile);
    while (!(header && !header.complete && header.files >= 20) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      header = await readCacheHeader(cacheFile);
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    assert.ok(header && !header.complete, 'a checkpoint was written before the kill');
    const killedAt = (await readCacheHeader(cacheFile))!;
    assert.equal(killedAt.complete, false);
    assert.ok(killedAt.files < 150, `killed mid-scan (${killedAt.files} files checkpointed)`);

    const { report } = await scanDataset({ root, storeDir: store });
    assert.equal(report.mode, 'resume');
    assert.equal(report.files, 150);
    assert.ok(report.fsOps.readdir < report.dirs, `resume re-read ${report.fsOps.readdir} of ${report.dirs} folders`);
  });
});
