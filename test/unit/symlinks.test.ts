import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { scanDataset, snapshotFiles, type ScanDatasetResult, type ScanOptions } from '../../src/core';
import { afterRacyWindow, removeDir, tempDir, writeImage } from '../helpers/tmp';

function scan(root: string, store: string, options: Partial<ScanOptions> = {}, forceRescan = false): Promise<ScanDatasetResult> {
  return scanDataset({ root, storeDir: store, forceRescan, options: { followSymlinks: true, ...options }, hooks: { now: afterRacyWindow } });
}

const files = (r: ScanDatasetResult): string[] => [...snapshotFiles(r.cache.snapshot)].sort();
const issues = (r: ScanDatasetResult): string[] => r.report.errors.map((e) => `${e.code} ${e.path}`).sort();

describe('following symlinks: each folder once, never off the root file system', () => {
  let base: string;
  let root: string;
  let store: string;

  beforeEach(() => {
    base = tempDir('links');
    root = path.join(base, 'root');
    store = path.join(base, 'store');
    fs.mkdirSync(root);
  });
  afterEach(() => removeDir(base));

  it('a DAG of 23 folders each linking twice to the next is walked once per folder, not 2^23 times; a rerun changes nothing', async function () {
    this.timeout(60_000);
    // outside/n0 … n22, each holding one image and two links (a, b) to the next: the dataset
    // reaches n22 by 2^22 paths.
    const outside = path.join(base, 'outside');
    for (let i = 0; i < 23; i++) writeImage(outside, `n${i}/img${i}.png`);
    for (let i = 0; i < 22; i++) {
      fs.symlinkSync(`../n${i + 1}`, path.join(outside, `n${i}/a`));
      fs.symlinkSync(`../n${i + 1}`, path.join(outside, `n${i}/b`));
    }
    fs.symlinkSync(path.join(outside, 'n0'), path.join(root, 'start'));
    const first = await scan(root, store);
    // Shallowest path first, then name order: always through the links named "a".
    const expected = Array.from({ length: 23 }, (_, i) => `start/${'a/'.repeat(i)}img${i}.png`);
    assert.deepEqual(files(first), expected.sort());
    assert.equal(first.report.dirs, 1 + 23 + 22, 'the root, 23 folders, and 22 duplicate links met once each');
    assert.deepEqual(
      issues(first),
      Array.from({ length: 22 }, (_, i) => `EDUPLICATE start/${'a/'.repeat(i)}b`).sort(),
      'every link not followed is reported',
    );
    assert.match(first.report.errors[0].message, /the same folder as start/);

    for (const mode of ['quick', 'quick'] as const) {
      const again = await scan(root, store);
      assert.equal(again.report.mode, mode);
      assert.deepEqual(files(again), expected.sort());
      assert.equal(again.report.added.count + again.report.removed.count, 0, 'no churn between scans');
      assert.deepEqual(issues(again), issues(first), 'the skipped links are reported by every scan, not only the first');
    }
  });

  it('a link to / or to a folder above the root is a loop, met at once; a link to /proc leaves the file system', async () => {
    writeImage(root, 'real/x.png');
    fs.symlinkSync('/', path.join(root, 'real/to-slash'));
    fs.symlinkSync(base, path.join(root, 'to-base'));
    fs.symlinkSync('/proc', path.join(root, 'to-proc'));
    const r = await scan(root, store);
    assert.deepEqual(files(r), ['real/x.png']);
    assert.deepEqual(issues(r), ['ELOOP real/to-slash', 'ELOOP to-base', 'EXDEV to-proc']);
    assert.ok(r.report.dirs <= 5, `${r.report.dirs} folders walked`);
    assert.match(r.report.errors.find((e) => e.code === 'EXDEV')?.message ?? '', /--cross-file-systems/);
  });

  it('a link to another file system (tmpfs) is reported, and walked with crossFileSystems', async function () {
    if (process.getuid?.() !== 0) this.skip(); // mounting needs root (CI runs as root)
    const mnt = path.join(base, 'mnt');
    fs.mkdirSync(mnt);
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mnt]);
    if (mounted.status !== 0) this.skip();
    try {
      writeImage(mnt, 'other/y.png');
      writeImage(root, 'x.png');
      fs.symlinkSync(mnt, path.join(root, 'to-tmpfs'));
      const stay = await scan(root, store);
      assert.deepEqual(files(stay), ['x.png']);
      assert.deepEqual(issues(stay), ['EXDEV to-tmpfs']);
      const cross = await scan(root, store, { crossFileSystems: true });
      assert.equal(cross.report.mode, 'full', 'another option: another cache');
      assert.deepEqual(files(cross), ['to-tmpfs/other/y.png', 'x.png']);
      assert.deepEqual(issues(cross), []);
    } finally {
      spawnSync('umount', [mnt]);
    }
  });

  it('when a shallower link appears, the folder moves to it: counted as removed there and added here', async () => {
    writeImage(root, 'deep/er/set/x.png');
    const first = await scan(root, store);
    assert.deepEqual(files(first), ['deep/er/set/x.png']);
    await new Promise((r) => setTimeout(r, 20));
    fs.symlinkSync(path.join(root, 'deep/er/set'), path.join(root, 'set'));
    const second = await scan(root, store);
    assert.deepEqual(files(second), ['set/x.png']);
    assert.equal(second.report.added.count, 1);
    assert.equal(second.report.removed.count, 1);
    assert.deepEqual(issues(second), ['EDUPLICATE deep/er/set']);
    fs.unlinkSync(path.join(root, 'set'));
    const third = await scan(root, store);
    assert.deepEqual(files(third), ['deep/er/set/x.png'], 'walked again where it is once the link is gone');
    assert.deepEqual(issues(third), []);
  });
});
