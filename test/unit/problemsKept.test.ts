import * as assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { datasetStatus, nodeFileSystem, scanDataset, snapshotFiles, type ScanDatasetResult, type ScanFileSystem } from '../../src/core';
import { afterRacyWindow, removeDir, tempDir, writeImage } from '../helpers/tmp';

const repo = path.resolve(__dirname, '../../..');
const cli = path.join(repo, 'dist/cli.js');

function run(args: string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
}

function json(res: SpawnSyncReturns<string>): Record<string, unknown> {
  assert.equal(res.status, 0, res.stderr);
  return JSON.parse(res.stdout) as Record<string, unknown>;
}

const codes = (out: Record<string, unknown>): string[] => (out.issues as { code: string; path: string }[]).map((i) => `${i.code} ${i.path}`);
const files = (r: ScanDatasetResult): string[] => [...snapshotFiles(r.cache.snapshot)].sort();

describe('a folder\'s problems are reported by every scan, status and register until it reads clean', () => {
  let root: string;
  let store: string;
  beforeEach(() => {
    root = tempDir('kept-root');
    store = tempDir('kept-store');
  });
  afterEach(() => {
    removeDir(root);
    removeDir(store);
  });

  it('a non-UTF-8 name (EILSEQ): the scan, then a quick scan that does not read its folder, status and register --json; gone once renamed', async () => {
    writeImage(root, 'a/good.png');
    const bad = Buffer.concat([Buffer.from(`${path.join(root, 'a')}/`), Buffer.from([0x62, 0xe9, 0x62, 0xe9]), Buffer.from('.png')]);
    fs.writeFileSync(bad, fs.readFileSync(path.join(root, 'a/good.png')));
    {
      // Stamps trusted at once (as a later scan would), so the next scans do not read the folder.
      const first = await scanDataset({ root, storeDir: store, hooks: { now: afterRacyWindow } });
      assert.deepEqual(first.report.errors.map((e) => `${e.code} ${e.path}`), [`EILSEQ a/b\uFFFDb\uFFFD.png`]);

      const quick = json(run(['scan', root, '--store', store, '--json']));
      assert.equal(quick.mode, 'quick');
      assert.equal(quick.dirsRead, 0, 'the folder was not read again');
      assert.equal(quick.errors, 1);
      assert.deepEqual(codes(quick), ['EILSEQ a/b\uFFFDb\uFFFD.png']);
      assert.equal(quick.issuesOmitted, 0);
      assert.match(run(['scan', root, '--store', store]).stdout, /1 problem:\n\s+EILSEQ "a\/b\uFFFDb\uFFFD\.png"/);

      for (const args of [['status', root], ['status', root, '--no-scan'], ['register', root]]) {
        const out = json(run([...args, '--store', store, '--json']));
        assert.equal(out.errors, 1, args.join(' '));
        assert.deepEqual(codes(out), ['EILSEQ a/b\uFFFDb\uFFFD.png'], args.join(' '));
      }
      assert.match(run(['status', root, '--store', store]).stdout, /1 problem:/);

      // Fixed: the folder changes, is read again, and reads clean.
      fs.renameSync(bad, path.join(root, 'a/renamed.png'));
      const fixed = json(run(['scan', root, '--store', store, '--json']));
      assert.equal(fixed.errors, 0);
      assert.deepEqual(fixed.issues, []);
      assert.equal(fixed.files, 2);
      for (const args of [['status', root], ['status', root, '--no-scan'], ['register', root]]) {
        assert.equal(json(run([...args, '--store', store, '--json'])).errors, 0, args.join(' '));
      }
    }
  });

  it('an unreadable folder (EACCES, injected) stays reported by status without a scan until a scan reads it', async () => {
    writeImage(root, 'ok/a.png');
    writeImage(root, 'locked/b.png');
    const locked = path.join(root, 'locked');
    const denying: ScanFileSystem = {
      ...nodeFileSystem,
      readdir: (p) => {
        if (p === locked) throw Object.assign(new Error(`EACCES: permission denied, scandir '${p}'`), { code: 'EACCES' });
        return nodeFileSystem.readdir(p);
      },
    };
    const first = await scanDataset({ root, storeDir: store, hooks: { fs: denying, now: afterRacyWindow } });
    assert.deepEqual(first.report.errors.map((e) => `${e.code} ${e.path}`), ['EACCES locked']);
    const noScan = await datasetStatus({ root, storeDir: store, scan: false });
    assert.deepEqual(noScan.errors.map((e) => `${e.code} ${e.path}`), ['EACCES locked']);
    const again = await scanDataset({ root, storeDir: store, hooks: { fs: denying, now: afterRacyWindow } });
    assert.deepEqual(again.report.errors.map((e) => `${e.code} ${e.path}`), ['EACCES locked']);
    // Readable again: the next scan reads it (its stamp was not trusted) and the problem is gone.
    const clean = await scanDataset({ root, storeDir: store, hooks: { now: afterRacyWindow } });
    assert.deepEqual(clean.report.errors, []);
    assert.deepEqual(files(clean), ['locked/b.png', 'ok/a.png']);
    assert.deepEqual((await datasetStatus({ root, storeDir: store, scan: false })).errors, []);
  });

  it('a file that fails its stat in a verify scan is reported until a verify stats it again', async () => {
    writeImage(root, 'v/a.png');
    writeImage(root, 'v/b.png');
    const target = path.join(root, 'v/b.png');
    const failing: ScanFileSystem = {
      ...nodeFileSystem,
      statFile: (p) => {
        if (p === target) throw Object.assign(new Error('EIO: i/o error'), { code: 'EIO' });
        return nodeFileSystem.statFile(p);
      },
    };
    await scanDataset({ root, storeDir: store, hooks: { now: afterRacyWindow } });
    const verify = await scanDataset({ root, storeDir: store, verify: true, hooks: { fs: failing, now: afterRacyWindow } });
    assert.deepEqual(verify.report.errors.map((e) => `${e.code} ${e.path}`), ['EIO v/b.png']);
    const quick = await scanDataset({ root, storeDir: store, hooks: { now: afterRacyWindow } });
    assert.equal(quick.report.mode, 'quick');
    assert.deepEqual(quick.report.errors.map((e) => `${e.code} ${e.path}`), ['EIO v/b.png']);
    const verified = await scanDataset({ root, storeDir: store, verify: true, hooks: { now: afterRacyWindow } });
    assert.deepEqual(verified.report.errors, []);
  });
});

describe('symlinked image files', () => {
  let root: string;
  let store: string;
  let outside: string;
  beforeEach(() => {
    root = tempDir('links-root');
    store = tempDir('links-store');
    outside = tempDir('links-outside');
    writeImage(root, 'a/real.png');
    fs.symlinkSync(path.join(root, 'a/real.png'), path.join(root, 'a/link.png'));
    fs.symlinkSync(path.join(root, 'a/nothing.png'), path.join(root, 'a/dangling.png'));
    fs.symlinkSync(path.join(root, 'a/real.png'), path.join(root, 'a/link.txt')); // not an image name
    fs.mkdirSync(path.join(root, 'b'));
    fs.symlinkSync(writeImage(outside, 'x.png'), path.join(root, 'b/out.png'));
  });
  afterEach(() => {
    removeDir(root);
    removeDir(store);
    removeDir(outside);
  });

  it('not followed (the default): counted per folder, kept in the cache, reported by every scan, status and register', async () => {
    const first = await scanDataset({ root, storeDir: store, hooks: { now: afterRacyWindow } });
    assert.deepEqual(files(first), ['a/real.png']);
    assert.equal(first.report.skippedSymlinks, 3);
    assert.deepEqual(first.report.errors, []);
    const quick = json(run(['scan', root, '--store', store, '--json']));
    assert.equal(quick.dirsRead, 0, 'from the cache, not a new listing');
    assert.equal(quick.skippedSymlinks, 3);
    assert.match(run(['scan', root, '--store', store]).stdout, /3 symlinked images not followed; --follow-symlinks follows them/);
    for (const args of [['status', root], ['status', root, '--no-scan'], ['register', root]]) {
      assert.equal(json(run([...args, '--store', store, '--json'])).skippedSymlinks, 3, args.join(' '));
    }
    // A new link in one folder: that folder is read again and its count follows.
    fs.symlinkSync(path.join(root, 'a/real.png'), path.join(root, 'b/again.PNG'));
    assert.equal(json(run(['scan', root, '--store', store, '--json'])).skippedSymlinks, 4);
  });

  it('followed: links to images are images (also one to a file outside the root), a dangling one is a problem', async () => {
    const r = await scanDataset({ root, storeDir: store, options: { followSymlinks: true } });
    assert.deepEqual(files(r), ['a/link.png', 'a/real.png', 'b/out.png']);
    assert.equal(r.report.skippedSymlinks, 0);
    assert.deepEqual(r.report.errors.map((e) => `${e.code} ${e.path}`), ['ENOENT a/dangling.png']);
    const out = json(run(['status', root, '--store', store, '--follow-symlinks', '--json']));
    assert.equal(out.errors, 1);
    assert.equal(out.new, 3);
  });
});
