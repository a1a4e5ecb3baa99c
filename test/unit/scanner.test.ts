import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  cacheFileFor, nodeFileSystem, readCacheHeader, scanDataset, snapshotFiles, type ScanDatasetRequest, type ScanDatasetResult,
  type ScanFileSystem,
} from '../../src/core';
import { DirWorkerPool } from '../../src/core/scanner/dirWorkerPool';
import { buildTree, removeDir, tempDir, writeImage, writeText, afterRacyWindow } from '../helpers/tmp';

const later = afterRacyWindow;

function scan(root: string, store: string, extra: Partial<ScanDatasetRequest> = {}): Promise<ScanDatasetResult> {
  return scanDataset({ root, storeDir: store, ...extra, hooks: { now: later, ...extra.hooks } });
}

function files(result: ScanDatasetResult): string[] {
  return [...snapshotFiles(result.cache.snapshot)].sort();
}

describe('scanner', () => {
  let root: string;
  let store: string;

  beforeEach(() => {
    root = tempDir('root');
    store = tempDir('store');
  });
  afterEach(() => {
    removeDir(root);
    removeDir(store);
  });

  it('first scan walks everything and finds every image, and only images', async () => {
    const expected = buildTree(root, 12, 5);
    writeText(root, 'top0/UPPER.JPEG', 'x');
    writeText(root, 'no-extension', 'x');
    writeText(root, '.hidden.png', 'x');
    const r = await scan(root, store);
    assert.equal(r.report.mode, 'full');
    assert.equal(r.report.reason, 'no scan cache yet');
    assert.deepEqual(files(r), [...expected, 'top0/UPPER.JPEG', '.hidden.png'].sort());
    assert.equal(r.report.added.count, 62);
    assert.equal(r.report.fsOps.readdir, r.report.dirs);
    assert.equal(r.report.errors.length, 0);
    assert.ok(fs.existsSync(r.report.cacheFile));
  });

  it('a no-change rescan is quick: one stat per directory, no readdir, from memory or from disk', async () => {
    buildTree(root, 20, 3);
    const first = await scan(root, store);
    const fromMemory = await scan(root, store, { cached: first.cache });
    assert.equal(fromMemory.report.mode, 'quick');
    assert.equal(fromMemory.report.fsOps.readdir, 0);
    assert.equal(fromMemory.report.fsOps.stat, first.report.dirs);
    assert.equal(fromMemory.report.cacheLoadMs, 0);
    const fromDisk = await scan(root, store);
    assert.equal(fromDisk.report.mode, 'quick');
    assert.equal(fromDisk.report.fsOps.readdir, 0);
    assert.deepEqual(files(fromDisk), files(first));
    assert.equal(fromDisk.report.added.count + fromDisk.report.removed.count, 0);
    assert.ok(fromDisk.report.cacheLoadMs > 0);
  });

  it('a no-change quick scan rewrites only the cache header, and the cache stays valid', async () => {
    buildTree(root, 10, 3);
    const first = await scan(root, store);
    const file = first.report.cacheFile;
    const before = fs.readFileSync(file);
    const quick = await scan(root, store);
    const after = fs.readFileSync(file);
    assert.equal(after.length, before.length);
    const headerEnd = 4096;
    assert.ok(after.subarray(headerEnd).equals(before.subarray(headerEnd)), 'the body was not rewritten');
    assert.ok(!after.subarray(0, headerEnd).equals(before.subarray(0, headerEnd)), 'the header was');
    const again = await scan(root, store);
    assert.equal(again.report.mode, 'quick');
    assert.ok((again.report.cacheAgeMs ?? Infinity) < 5_000, 'the new scan time was recorded');
    assert.deepEqual(files(again), files(quick));
    writeImage(root, 'top0/after.png');
    const changed = await scan(root, store);
    assert.deepEqual(changed.report.added.sample, ['top0/after.png']);
    assert.notEqual(fs.readFileSync(file).length, before.length, 'a change rewrites the whole cache');
  });

  it('finds added, removed and renamed files and folders at several depths, reading only those folders', async () => {
    buildTree(root, 12, 2);
    await scan(root, store);
    writeImage(root, 'top0/new-at-depth-1.png');
    writeImage(root, 'top1/mid1/leaf1/new-at-depth-3.jpg');
    fs.rmSync(path.join(root, 'top2/mid2/leaf2/img0.jpg'));
    fs.renameSync(path.join(root, 'top3/mid0/leaf3/img1.png'), path.join(root, 'top3/mid0/leaf3/renamed.png'));
    fs.mkdirSync(path.join(root, 'top0/brand/new/tree'), { recursive: true });
    writeImage(root, 'top0/brand/new/tree/deep.webp');
    fs.rmSync(path.join(root, 'top1/mid2/leaf5'), { recursive: true });
    fs.renameSync(path.join(root, 'top0/mid0/leaf0'), path.join(root, 'top0/mid0/moved'));

    const r = await scan(root, store);
    assert.equal(r.report.mode, 'quick');
    assert.deepEqual([...r.report.added.sample].sort(), [
      'top0/brand/new/tree/deep.webp',
      'top0/mid0/moved/img0.jpg',
      'top0/mid0/moved/img1.png',
      'top0/new-at-depth-1.png',
      'top1/mid1/leaf1/new-at-depth-3.jpg',
      'top3/mid0/leaf3/renamed.png',
    ]);
    assert.deepEqual([...r.report.removed.sample].sort(), [
      'top0/mid0/leaf0/img0.jpg',
      'top0/mid0/leaf0/img1.png',
      'top1/mid2/leaf5/img0.jpg',
      'top1/mid2/leaf5/img1.png',
      'top2/mid2/leaf2/img0.jpg',
      'top3/mid0/leaf3/img1.png',
    ]);
    // Changed: top0, top0/mid0, top1/mid2, top1/mid1/leaf1, leaf2, leaf3; new: brand, new, tree, moved.
    assert.equal(r.report.fsOps.readdir, 10);
    const fresh = await scan(root, tempDir('fresh-store'), { forceRescan: true });
    assert.deepEqual(files(r), files(fresh));
  });

  it('catches a file modified in place with verify, not with quick', async () => {
    buildTree(root, 3, 2);
    await scan(root, store);
    const v0 = await scan(root, store, { verify: true });
    assert.equal(v0.report.mode, 'verify');
    assert.equal(v0.report.fsOps.stat, v0.report.dirs + v0.report.files);
    const target = path.join(root, 'top1/mid1/leaf1/img0.jpg');
    fs.appendFileSync(target, Buffer.from('more bytes'));
    const quick = await scan(root, store);
    assert.equal(quick.report.mode, 'quick');
    assert.equal(quick.report.modified.count, 0);
    const verify = await scan(root, store, { verify: true });
    assert.deepEqual(verify.report.modified.sample, ['top1/mid1/leaf1/img0.jpg']);
    const again = await scan(root, store, { verify: true });
    assert.equal(again.report.modified.count, 0);
  });

  it('turns to a verify scan when the files were last verified longer ago than the max age', async () => {
    buildTree(root, 2, 2);
    await scan(root, store);
    const young = await scan(root, store, { maxAgeMs: 60_000 });
    assert.equal(young.report.mode, 'quick');
    await new Promise((r) => setTimeout(r, 30));
    const old = await scan(root, store, { maxAgeMs: 10 });
    assert.equal(old.report.mode, 'verify');
    assert.match(old.report.reason, /last verified .* ago, max age/);
  });

  it('re-reads a racy directory whose change left its stamp unchanged (same timestamp tick)', async () => {
    writeImage(root, 'd/a.png');
    // A file system whose clock tick is coarse: the directory's stamp stays frozen across a change.
    const frozen = new Map<string, fs.BigIntStats>();
    const coarse: ScanFileSystem = {
      ...nodeFileSystem,
      stat: (p) => {
        const st = nodeFileSystem.stat(p);
        if (!frozen.has(p)) frozen.set(p, st);
        return frozen.get(p) as fs.BigIntStats;
      },
    };
    // Default racy window: the directory was modified just now, so its stamp is not trusted.
    await scanDataset({ root, storeDir: store, hooks: { fs: coarse } });
    writeImage(root, 'd/b.png');
    const r = await scanDataset({ root, storeDir: store, hooks: { fs: coarse } });
    assert.deepEqual(r.report.added.sample, ['d/b.png']);

    // The same sequence with the racy check off misses the change: the test above is meaningful.
    const store2 = tempDir('store2');
    frozen.clear();
    await scanDataset({ root, storeDir: store2, hooks: { fs: coarse, now: later } });
    writeImage(root, 'd/c.png');
    const blind = await scanDataset({ root, storeDir: store2, hooks: { fs: coarse, now: later } });
    assert.equal(blind.report.added.count, 0);
    removeDir(store2);
  });

  it('trusts a directory again once its stamp is older than the racy window', async () => {
    writeImage(root, 'd/a.png');
    const t0 = BigInt(Date.now()) * 1_000_000n;
    await scanDataset({ root, storeDir: store, hooks: { now: () => t0 } });
    const later = await scanDataset({ root, storeDir: store, hooks: { now: () => t0 + 10_000_000_000n } });
    assert.equal(later.report.fsOps.readdir, 2, 'racy dirs are re-read once');
    const after = await scanDataset({ root, storeDir: store, hooks: { now: () => t0 + 20_000_000_000n } });
    assert.equal(after.report.fsOps.readdir, 0);
  });

  it('a changed extension list or exclude set invalidates the cache', async () => {
    buildTree(root, 4, 2);
    writeImage(root, 'skip/me.png');
    await scan(root, store);
    const ext = await scan(root, store, { options: { extensions: ['png'] } });
    assert.equal(ext.report.mode, 'full');
    assert.match(ext.report.reason, /options changed/);
    assert.ok(files(ext).every((f) => f.endsWith('.png')));
    const excl = await scan(root, store, { options: { extensions: ['png'], exclude: ['skip/**'] } });
    assert.equal(excl.report.mode, 'full');
    assert.ok(!files(excl).includes('skip/me.png'));
    const same = await scan(root, store, { options: { extensions: ['PNG'], exclude: ['skip/**'] } });
    assert.equal(same.report.mode, 'quick');
  });

  it('skips node_modules, .git and a store inside the root by default', async () => {
    writeImage(root, 'node_modules/pkg/logo.png');
    writeImage(root, 'sub/.git/objects/x.png');
    writeImage(root, 'ok.png');
    const inner = path.join(root, '.dataset-index');
    writeImage(root, '.dataset-index/thumb.png');
    const r = await scan(root, inner);
    assert.deepEqual(files(r), ['ok.png']);
  });

  for (const damage of ['truncated', 'corrupt', 'garbage'] as const) {
    it(`a ${damage} cache file leads to a full scan with the reason, never a crash`, async () => {
      const expected = buildTree(root, 5, 2);
      const first = await scan(root, store);
      const file = first.report.cacheFile;
      const buf = fs.readFileSync(file);
      if (damage === 'truncated') fs.writeFileSync(file, buf.subarray(0, buf.length - 7));
      if (damage === 'corrupt') {
        buf[buf.length - 20] ^= 0xff;
        fs.writeFileSync(file, buf);
      }
      if (damage === 'garbage') fs.writeFileSync(file, 'hello');
      const r = await scan(root, store);
      assert.equal(r.report.mode, 'full');
      assert.match(r.report.reason, /corrupt or truncated/);
      assert.deepEqual(files(r), expected);
      assert.equal((await scan(root, store)).report.mode, 'quick', 'the rewritten cache is valid again');
    });
  }

  it('does not follow symlinks by default, and reports a loop when following', async () => {
    writeImage(root, 'a/x.png');
    writeImage(root, 'elsewhere/y.png');
    fs.symlinkSync('..', path.join(root, 'a/loop'));
    fs.symlinkSync(path.join(root, 'elsewhere'), path.join(root, 'a/link-to-dir'));
    fs.symlinkSync(path.join(root, 'elsewhere/y.png'), path.join(root, 'a/link.png'));
    fs.symlinkSync(path.join(root, 'missing.png'), path.join(root, 'a/dangling.png'));
    const plain = await scan(root, store);
    assert.deepEqual(files(plain), ['a/x.png', 'elsewhere/y.png']);
    assert.equal(plain.report.errors.length, 0);

    const follow = await scan(root, tempDir('store-follow'), { options: { followSymlinks: true } });
    // elsewhere/ is shallower than a/link-to-dir/, so its files are listed there, once.
    assert.deepEqual(files(follow), ['a/link.png', 'a/x.png', 'elsewhere/y.png']);
    const codes = follow.report.errors.map((e) => `${e.code} ${e.path}`).sort();
    assert.deepEqual(codes, ['EDUPLICATE a/link-to-dir', 'ELOOP a/loop', 'ENOENT a/dangling.png']);
  });

  it('goes on when a directory vanishes mid-scan, and reports it', async () => {
    buildTree(root, 8, 2);
    const victim = path.join(root, 'top1/mid1/leaf1');
    const vanishing: ScanFileSystem = {
      ...nodeFileSystem,
      readdir: (p) => {
        const entries = nodeFileSystem.readdir(p);
        // Right after the parent is listed, its child disappears before we get to it.
        if (p === path.join(root, 'top1/mid1')) fs.rmSync(victim, { recursive: true, force: true });
        return entries;
      },
    };
    const r = await scan(root, store, { hooks: { fs: vanishing } });
    assert.deepEqual(r.report.errors.map((e) => [e.code, e.path]), [['ENOENT', 'top1/mid1/leaf1']]);
    assert.ok(!files(r).some((f) => f.startsWith('top1/mid1/leaf1/')));
    assert.equal(r.report.files, 14);
    assert.equal((await scan(root, store)).report.errors.length, 0);
  });

  it('keeps what it knew of a directory that became unreadable, reports it, and reads it again later', async () => {
    buildTree(root, 4, 2);
    const first = await scan(root, store);
    writeImage(root, 'top2/mid2/leaf2/later.png');
    const denied = path.join(root, 'top2/mid2/leaf2');
    const eacces: ScanFileSystem = {
      ...nodeFileSystem,
      readdir: (p) => {
        if (p === denied) throw Object.assign(new Error(`EACCES: permission denied, scandir '${p}'`), { code: 'EACCES' });
        return nodeFileSystem.readdir(p);
      },
    };
    const r = await scan(root, store, { hooks: { fs: eacces } });
    assert.deepEqual(r.report.errors.map((e) => [e.code, e.path]), [['EACCES', 'top2/mid2/leaf2']]);
    assert.deepEqual(files(r), files(first), 'nothing is lost');
    assert.equal(r.report.removed.count, 0);
    const healed = await scan(root, store);
    assert.deepEqual(healed.report.added.sample, ['top2/mid2/leaf2/later.png']);
  });

  it('worker threads and the main thread (an injected file system) build the same snapshot, file stats included', async () => {
    buildTree(root, 9, 4);
    writeImage(root, 'top0/été/ünï cödé.png');
    writeImage(root, 'top1/with space/two\nlines.jpg');
    writeImage(root, 'top2/skip-mask.png');
    fs.symlinkSync(path.join(root, 'top0'), path.join(root, 'top3/link-not-followed'));
    const options = { exclude: ['**/*-mask.png'] };
    // An injected file system is listed on the main thread, by the same listFolders the threads run.
    const pooled: ScanFileSystem = { ...nodeFileSystem };
    const flatten = (r: ScanDatasetResult): unknown[] =>
      [...r.cache.snapshot].sort(([a], [b]) => (a < b ? -1 : 1)).map(([rel, rec]) => [
        rel, [...rec.files].sort(), [...rec.subdirs].sort(),
        rec.files.map((name, i) => [name, rec.stats?.[i * 3]]).sort(),
      ]);
    const workerStore = tempDir('w-store');
    const poolStore = tempDir('p-store');
    let knownBefore: string[] = [];
    for (const verify of [false, true]) {
      const viaWorkers = await scan(root, workerStore, { options, verify });
      knownBefore = [...viaWorkers.cache.snapshot.keys()];
      const viaPool = await scan(root, poolStore, { options, verify, hooks: { fs: pooled } });
      assert.equal(viaWorkers.report.mode, verify ? 'verify' : 'full');
      assert.equal(viaPool.report.mode, viaWorkers.report.mode);
      assert.deepEqual(flatten(viaWorkers), flatten(viaPool));
      assert.deepEqual(viaWorkers.report.fsOps, viaPool.report.fsOps);
      assert.ok(!files(viaWorkers).includes('top2/skip-mask.png'));
      assert.equal(viaWorkers.cache.snapshot.get('top0/été')?.stats?.[0], verify ? fs.statSync(path.join(root, 'top0/été/ünï cödé.png')).size : undefined);
    }
    // Changes at several depths, then a quick scan each way: both must land where a fresh full
    // scan of the changed tree does.
    writeImage(root, 'new/a/b/c/deep.png');
    fs.rmSync(path.join(root, 'top1'), { recursive: true });
    fs.renameSync(path.join(root, 'top2/mid2'), path.join(root, 'top2/mid2-renamed'));
    writeImage(root, 'top0/mid0/leaf0/added.jpg');
    fs.rmSync(path.join(root, 'top3/mid0/leaf3/img0.jpg'));
    const quickWorkers = await scan(root, workerStore, { options });
    const quickPool = await scan(root, poolStore, { options, hooks: { fs: pooled } });
    assert.equal(quickWorkers.report.mode, 'quick');
    assert.deepEqual(flatten(quickWorkers), flatten(quickPool));
    // Every known folder is stat'd, the 8 that vanished included; only the changed ones are listed.
    const vanished = knownBefore.filter((rel) => !quickPool.cache.snapshot.has(rel)).length;
    assert.equal(vanished, 8);
    assert.deepEqual(quickWorkers.report.fsOps, quickPool.report.fsOps);
    const truth = await scan(root, tempDir('truth-store'), { options });
    assert.equal(truth.report.mode, 'full');
    const names = (r: ScanDatasetResult): unknown[] => flatten(r).map((row) => (row as unknown[]).slice(0, 3));
    assert.deepEqual(names(quickWorkers), names(truth));
    for (const kind of ['added', 'removed', 'modified'] as const) {
      assert.deepEqual([...quickWorkers.report[kind].sample].sort(), [...quickPool.report[kind].sample].sort(), kind);
    }
    assert.ok(files(quickWorkers).includes('new/a/b/c/deep.png'));
    assert.ok(files(quickWorkers).includes('top2/mid2-renamed/leaf2/img0.jpg'));
    assert.ok(!files(quickWorkers).some((f) => f.startsWith('top1/')));
    // And once more with nothing changed: no listing at all.
    const still = await scan(root, workerStore, { options });
    assert.equal(still.report.fsOps.readdir, 0);
    assert.deepEqual(flatten(still), flatten(quickPool));
  });

  it('verify keeps each file\'s stats beside its name when exclude globs drop some files', async () => {
    for (let i = 0; i < 6; i++) {
      writeText(root, `a/img${i}.png`, 'x'.repeat(10 + i));
      writeText(root, `a/img${i}-mask.png`, 'y'.repeat(100 + i));
    }
    const options = { exclude: ['**/*-mask.png'] };
    await scan(root, store, { options });
    // A file listed after the first scan: the verify scan lists its folder and stats the new listing.
    writeText(root, 'a/late.png', 'z');
    writeText(root, 'a/late-mask.png', 'zz');
    const r = await scan(root, store, { options, verify: true });
    assert.equal(r.report.mode, 'verify');
    const rec = r.cache.snapshot.get('a')!;
    assert.equal(rec.files.length, 7);
    rec.files.forEach((name, i) => assert.equal(rec.stats?.[i * 3], fs.statSync(path.join(root, 'a', name)).size, name));
  });

  it('a cancel reaches the worker threads through shared memory: nothing half-done is applied, the next scan finishes', async () => {
    for (let i = 0; i < 3000; i++) writeText(root, `flat/img${i}.png`, 'x');
    buildTree(root, 4, 2);
    const first = await scan(root, store);
    const controller = new AbortController();
    let reads = 0;
    // Cancelled just as the first batch is handed to a thread: only the shared flag can stop it there.
    const cancelOnFirstRead = (): bigint => {
      if (++reads === 1) controller.abort();
      return later();
    };
    const cut = await scan(root, store, { verify: true, signal: controller.signal, hooks: { now: cancelOnFirstRead } });
    assert.equal(cut.report.mode, 'verify');
    assert.equal(cut.report.cancelled, true);
    assert.ok([...cut.cache.snapshot.values()].every((rec) => rec.stats === undefined));
    assert.equal((await readCacheHeader(cacheFileFor(store, root)))?.complete, false);
    const next = await scan(root, store, { verify: true });
    assert.equal(next.report.mode, 'verify');
    assert.equal(next.report.cancelled, false);
    assert.equal(next.cache.snapshot.get('flat')?.stats?.length, 3000 * 3);
    assert.equal(next.report.files, first.report.files);
  });

  it('a scan whose worker thread dies fails with the reason, keeps a checkpoint, and the next scan resumes', async () => {
    buildTree(root, 12, 3);
    await scan(root, store);
    writeImage(root, 'top0/mid0/leaf0/after.png');
    const crashing = path.join(tempDir('crash'), 'crash.js');
    fs.writeFileSync(crashing, "require('node:worker_threads').parentPort.on('message', () => process.exit(3));\n");
    const pool = new DirWorkerPool(1, crashing);
    await assert.rejects(scan(root, store, { hooks: { workers: pool } }), /scan worker exited \(3\)/);
    const header = await readCacheHeader(cacheFileFor(store, root));
    assert.equal(header?.complete, false);
    const next = await scan(root, store);
    assert.equal(next.report.mode, 'resume');
    assert.deepEqual(next.report.added.sample, ['top0/mid0/leaf0/after.png']);
    assert.equal(next.report.errors.length, 0);
  });

  it('handles Unicode, spaces and newlines in names, and keeps them through the cache', async () => {
    const names = ['données/été 2024/chat noir.jpg', '日本/画像 1.png', 'line\nbreak/new\nline.png', 'emoji 🐱/😺.webp', ' lead/trail .gif'];
    for (const n of names) writeImage(root, n);
    const r = await scan(root, store);
    assert.deepEqual(files(r), [...names].sort());
    const again = await scan(root, store);
    assert.equal(again.report.fsOps.readdir, 0);
    assert.deepEqual(files(again), [...names].sort());
  });

  it('leaves out and reports a name that is not valid UTF-8, with no churn between scans', async () => {
    writeImage(root, 'a/good.png');
    // "bébé.png" in Latin-1: bytes that do not decode as UTF-8.
    fs.writeFileSync(Buffer.concat([Buffer.from(`${path.join(root, 'a')}/`), Buffer.from([0x62, 0xe9, 0x62, 0xe9]), Buffer.from('.png')]), 'x');
    const first = await scan(root, store);
    assert.deepEqual(files(first), ['a/good.png']);
    assert.deepEqual(first.report.errors.map((e) => e.code), ['EILSEQ']);
    assert.match(first.report.errors[0].message, /not valid UTF-8/);
    const verify = await scan(root, store, { verify: true });
    assert.equal(verify.report.mode, 'verify');
    assert.equal(verify.report.added.count + verify.report.removed.count, 0);
    assert.deepEqual(files(verify), ['a/good.png']);
  });

  it('stops on cancel, saves a checkpoint and resumes from it instead of starting over', async () => {
    buildTree(root, 60, 1);
    const r = await scan(root, store);
    const store2 = tempDir('store-cancel');
    const controller2 = new AbortController();
    let dirsDone = 0;
    const counting: ScanFileSystem = {
      ...nodeFileSystem,
      readdir: (p) => {
        if (++dirsDone === 30) controller2.abort();
        return nodeFileSystem.readdir(p);
      },
    };
    const cut = await scan(root, store2, { concurrency: 2, signal: controller2.signal, hooks: { fs: counting } });
    assert.equal(cut.report.cancelled, true);
    assert.ok(cut.report.files < 60, `only part was scanned (${cut.report.files})`);
    const resumed = await scan(root, store2);
    assert.equal(resumed.report.mode, 'resume');
    assert.equal(resumed.report.cancelled, false);
    assert.deepEqual(files(resumed), files(r));
    assert.ok(
      resumed.report.fsOps.readdir < r.report.fsOps.readdir,
      `resume read ${resumed.report.fsOps.readdir} dirs, a full scan ${r.report.fsOps.readdir}`,
    );
    assert.equal(resumed.report.added.count + cut.report.added.count, 60);
    assert.equal((await scan(root, store2)).report.mode, 'quick');
    removeDir(store2);
  });

  it('gives a clear error for a missing folder, a file, and an unwritable store', async () => {
    await assert.rejects(scan(path.join(root, 'nope'), store), /folder not found/);
    const file = writeImage(root, 'a.png');
    await assert.rejects(scan(file, store), /not a folder/);
    await assert.rejects(scan(root, path.join(file, 'store')), /cannot create the store .*ENOTDIR/);
  });
});
