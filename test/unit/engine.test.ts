import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EngineClient } from '../../src/core/engine/client';
import { Engine } from '../../src/core/engine/engine';
import { FOLDER_GROUPS, type DatasetConfig, type GroupId } from '../../src/core/engine/protocol';
import type { FileEvent } from '../../src/core';
import { makePng } from '../helpers/images';
import { removeDir, tempDir, writeImage } from '../helpers/tmp';

type FolderGroup = Exclude<GroupId, 'duplicates'>;

let keys = 0;
function configOf(root: string, storeDir: string): DatasetConfig {
  return { key: `test-${process.pid}-${++keys}`, root, storeDir, options: {}, maxAgeMs: 24 * 3_600_000, perceptualHash: true, registerConcurrency: 4 };
}

/** Every path of a group, read page by page as a view would (folders first, then files). */
async function allPaths(children: (dir: string, offset: number, limit: number) => Promise<{ folders: { dir: string }[]; files: string[]; folderCount: number; fileCount: number }>): Promise<string[]> {
  const out: string[] = [];
  const stack = [''];
  while (stack.length) {
    const dir = stack.pop() as string;
    for (let offset = 0; ; offset += 97) {
      const page = await children(dir, offset, 97);
      for (const f of page.folders) stack.push(f.dir);
      for (const name of page.files) out.push(dir ? `${dir}/${name}` : name);
      if (offset + 97 >= page.folderCount + page.fileCount) break;
    }
  }
  return out.sort();
}

describe('engine worker: the protocol', function () {
  this.timeout(120_000);
  let root: string;
  let store: string;
  let client: EngineClient;
  before(() => {
    root = tempDir('engine-root');
    store = tempDir('engine-store');
    const png = makePng(2, 2, 1);
    fs.mkdirSync(path.join(root, 'big'));
    // Written directly (one tiny PNG, 3,000 names): a folder bigger than any page.
    for (let i = 0; i < 3000; i++) fs.writeFileSync(path.join(root, 'big', `p${i}.png`), png);
    for (let d = 0; d < 40; d++) writeImage(root, `sub/d${d}/x.png`);
    client = new EngineClient();
  });
  after(async () => {
    await client.dispose();
    removeDir(root);
    removeDir(store);
  });

  it('indexes in the worker and answers counts, then pages of a 3,000-image folder', async () => {
    const config = configOf(root, store);
    const progress: string[] = [];
    const summary = await client.index(config, { onProgress: (p) => progress.push(p.kind) });
    assert.equal(summary.new, 3040);
    assert.equal(summary.header?.files, 3040);
    assert.equal(summary.scan?.mode, 'full');
    const top = await client.children(config, 'new', '', 0, 200);
    assert.deepEqual(top.folders.map((f) => [f.dir, f.count]), [['big', 3000], ['sub', 40]]);
    const first = await client.children(config, 'new', 'big', 0, 200);
    assert.equal(first.files.length, 200);
    assert.deepEqual(first.files.slice(0, 3), ['p0.png', 'p1.png', 'p2.png']);
    assert.equal(first.fileCount, 3000);
    const last = await client.children(config, 'new', 'big', 2900, 200);
    assert.equal(last.files.length, 100);
    assert.equal(last.files[99], 'p2999.png');
    assert.equal((await allPaths((d, o, l) => client.children(config, 'new', d, o, l))).length, 3040);
    assert.equal(client.calls.get('index'), 1);
    await client.close(config.key);
  });

  it('carries errors across with their name and code', async () => {
    const config = configOf(path.join(root, 'no-such-folder'), store);
    await assert.rejects(client.index(config), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'ENOROOT');
      assert.ok(err instanceof Error);
      assert.match(err.message, /no-such-folder/);
      return true;
    });
  });

  it('an aborted signal reaches the scan in the worker: the report says cancelled, the next scan resumes', async () => {
    const config = configOf(root, tempDir('engine-store-cancel'));
    const controller = new AbortController();
    controller.abort();
    const summary = await client.index(config, { signal: controller.signal });
    assert.equal(summary.scan?.cancelled, true);
    const again = await client.index(config);
    assert.equal(again.scan?.cancelled, false);
    assert.equal(again.new, 3040);
  });

  it('requests are answered in any order, each to its caller', async () => {
    const a = configOf(root, store);
    await client.index(a);
    const pages = await Promise.all([0, 1, 2, 3, 4].map((i) => client.children(a, 'new', 'big', i * 500, 10)));
    assert.deepEqual(pages.map((p) => p.files[0]), ['p0.png', 'p500.png', 'p1000.png', 'p1500.png', 'p2000.png']);
  });

  it('a worker that dies fails its open request; the next request starts a new worker', async () => {
    const config = configOf(root, store);
    const dying = new EngineClient();
    await dying.index(config);
    const pending = dying.children(config, 'new', 'big', 0, 10);
    await dying.dispose();
    await assert.rejects(pending, /exited/);
    const page = await dying.children(config, 'new', 'big', 0, 10);
    // A new worker: the dataset comes back from the cache on disk (no scan needed for a page).
    assert.equal(page.fileCount, 0, 'a fresh engine has no status until it indexes');
    assert.equal((await dying.index(config)).scan?.mode, 'quick');
    await dying.dispose();
  });
});

describe('engine: group indexes follow file events (real files, real registry)', function () {
  this.timeout(120_000);
  let root: string;
  let store: string;
  beforeEach(() => {
    root = tempDir('engine-ev-root');
    store = tempDir('engine-ev-store');
  });
  afterEach(() => {
    removeDir(root);
    removeDir(store);
  });

  /** Every folder group of an engine's dataset, read through pages. */
  async function groupsOf(engine: Engine, config: DatasetConfig): Promise<Record<FolderGroup, string[]>> {
    const out = {} as Record<FolderGroup, string[]>;
    for (const g of FOLDER_GROUPS) out[g] = await allPaths(async (d, o, l) => engine.children(config, g, d, o, l));
    return out;
  }

  it('after a batch of creations, deletions and edits, every group equals a fresh index of the disk', async () => {
    for (let d = 0; d < 6; d++) for (let f = 0; f < 5; f++) writeImage(root, `cam${d % 2}/day${d}/img${f}.png`);
    const config = configOf(root, store);
    const engine = new Engine();
    await engine.index(config, { verify: true }, {});
    // Register half, so that each group has members.
    const half: string[] = [];
    for (let d = 0; d < 3; d++) for (let f = 0; f < 5; f++) half.push(`cam${d % 2}/day${d}/img${f}.png`);
    await engine.register(config, { paths: half }, {});
    await engine.index(config, { verify: true }, {});
    const built = await groupsOf(engine, config);
    assert.equal(built.registered.length, 15);
    assert.equal(built.new.length, 15);

    const events: FileEvent[] = [];
    const ev = (kind: FileEvent['kind'], rel: string): void => {
      events.push({ kind, path: path.join(root, rel) });
    };
    for (let i = 0; i < 4; i++) ev('created', path.relative(root, writeImage(root, `cam1/day3/burst${i}.png`)));
    for (const rel of ['cam0/day0/img0.png', 'cam0/day0/img1.png', 'cam1/day5/img4.png']) {
      fs.rmSync(path.join(root, rel));
      ev('deleted', rel);
    }
    fs.writeFileSync(path.join(root, 'cam1/day1/img2.png'), makePng(9, 9, 999));
    ev('changed', 'cam1/day1/img2.png');
    const applied = await engine.applyEvents(config, events, {});
    assert.equal(applied.rescan, null);
    assert.deepEqual([applied.added, applied.removed, applied.changed], [4, 3, 1]);
    assert.ok(applied.rows !== 'all');
    const rows = new Map(applied.rows.map((r) => [r.group, [...r.dirs].sort()]));
    assert.deepEqual(rows.get('new'), ['', 'cam1', 'cam1/day3', 'cam1/day5']);
    assert.deepEqual(rows.get('missing'), ['', 'cam0', 'cam0/day0']);
    assert.deepEqual(rows.get('changed'), ['', 'cam1', 'cam1/day1']);
    assert.deepEqual(rows.get('registered'), ['', 'cam0', 'cam0/day0']);

    const updated = await groupsOf(engine, config);
    const fresh = new Engine();
    const freshConfig = configOf(root, tempDir('engine-ev-fresh'));
    fs.copyFileSync(path.join(store, 'registry.sqlite'), path.join(freshConfig.storeDir, 'registry.sqlite'));
    // A first scan is a full one (no file stats); the verify scan after it stats every file, as the watched one had.
    await fresh.index(freshConfig, {}, {});
    const freshSummary = await fresh.index(freshConfig, { verify: true }, {});
    assert.equal(freshSummary.scan?.mode, 'verify');
    assert.deepEqual(updated, await groupsOf(fresh, freshConfig));
    assert.deepEqual(
      [applied.summary?.new, applied.summary?.changed, applied.summary?.missing, applied.summary?.registered],
      [freshSummary.new, freshSummary.changed, freshSummary.missing, freshSummary.registered],
    );
    assert.deepEqual(updated.missing, ['cam0/day0/img0.png', 'cam0/day0/img1.png']);
    assert.deepEqual(updated.changed, ['cam1/day1/img2.png']);
  });

  it('duplicate groups follow deletions and restorations (a deleted copy leaves its group)', async () => {
    const png = makePng(6, 6, 4242);
    for (const rel of ['a/one.png', 'b/two.png', 'c/three.png']) {
      fs.mkdirSync(path.join(root, path.dirname(rel)), { recursive: true });
      fs.writeFileSync(path.join(root, rel), png);
    }
    writeImage(root, 'a/other.png');
    const config = configOf(root, store);
    const engine = new Engine();
    await engine.register(config, undefined, {});
    const first = await engine.index(config, {}, {});
    assert.equal(first.duplicateGroups, 1);
    assert.deepEqual(engine.duplicates(config, 0, 10).groups[0].paths, ['a/one.png', 'b/two.png', 'c/three.png']);

    fs.rmSync(path.join(root, 'b/two.png'));
    const one = await engine.applyEvents(config, [{ kind: 'deleted', path: path.join(root, 'b/two.png') }], {});
    assert.deepEqual(engine.duplicates(config, 0, 10).groups[0].paths, ['a/one.png', 'c/three.png'], 'the deleted copy left the group');
    assert.ok(one.rows !== 'all' && one.rows.some((r) => r.group === 'duplicates'), 'the Duplicates row is refreshed');

    fs.rmSync(path.join(root, 'c/three.png'));
    const two = await engine.applyEvents(config, [{ kind: 'deleted', path: path.join(root, 'c/three.png') }], {});
    assert.equal(two.summary?.duplicateGroups, 0);
    assert.deepEqual(engine.duplicates(config, 0, 10).groups, [], 'one file left is no group');

    fs.writeFileSync(path.join(root, 'c/three.png'), png);
    const back = await engine.applyEvents(config, [{ kind: 'created', path: path.join(root, 'c/three.png') }], {});
    assert.equal(back.summary?.duplicateGroups, 1);
    assert.deepEqual(engine.duplicates(config, 0, 10).groups[0].paths, ['a/one.png', 'c/three.png'], 'a restored copy rejoins');
  });
});

describe('engine: gallery pages (orderings built and cached in the worker)', function () {
  this.timeout(120_000);
  let root: string;
  let store: string;
  beforeEach(() => {
    root = tempDir('engine-gal-root');
    store = tempDir('engine-gal-store');
  });
  afterEach(() => {
    removeDir(root);
    removeDir(store);
  });

  it('sorts by dimensions and filters by folder and width as the files say, through the worker; a file event drops the cached ordering', async () => {
    // Real PNGs of distinct sizes, in two folders.
    const dims: Record<string, [number, number]> = { 'a/w5.png': [5, 5], 'a/w9.png': [9, 2], 'a/w3.png': [3, 7], 'b/w7.png': [7, 7], 'b/w1.png': [1, 1] };
    for (const [rel, [w, h]] of Object.entries(dims)) {
      fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
      fs.writeFileSync(path.join(root, rel), makePng(w, h, w));
    }
    const config = configOf(root, store);
    const client = new EngineClient();
    try {
      await client.index(config);
      const byPixels = { sort: 'dimensions' as const, descending: true, filter: {} };
      const page = await client.galleryPage(config, { group: 'new' }, byPixels, 0, 10, true);
      assert.equal(page.total, 5);
      // Pixels: 49, 25, 21, 18, 1.
      assert.deepEqual(page.items.map((i) => i.rel), ['b/w7.png', 'a/w5.png', 'a/w3.png', 'a/w9.png', 'b/w1.png']);
      for (const item of page.items) {
        assert.deepEqual([item.width, item.height], dims[item.rel]);
        assert.equal(item.size, fs.statSync(path.join(root, item.rel)).size);
        assert.equal(item.status, 'new');
      }
      const second = await client.galleryPage(config, { group: 'new' }, byPixels, 1, 2, false);
      assert.deepEqual(second.rels, ['a/w5.png', 'a/w3.png']);
      assert.deepEqual(second.items, []);
      const filtered = await client.galleryPage(config, { group: 'new', dir: 'a' }, { sort: 'name', descending: false, filter: { minWidth: 4 } }, 0, 10, false);
      assert.deepEqual(filtered.rels, ['a/w5.png', 'a/w9.png']);
      const choices = await client.galleryChoices(config, { group: 'new' });
      assert.deepEqual(choices.formats, [{ format: 'png', count: 5 }]);
      assert.deepEqual(choices.folders, ['a', 'b']);

      fs.writeFileSync(path.join(root, 'a/w8.png'), makePng(8, 8, 8));
      await client.applyEvents(config, [{ kind: 'created', path: path.join(root, 'a/w8.png') }]);
      const after = await client.galleryPage(config, { group: 'new' }, byPixels, 0, 1, true);
      assert.equal(after.total, 6);
      assert.deepEqual(after.items.map((i) => [i.rel, i.width]), [['a/w8.png', 8]]);
      await client.close(config.key);
    } finally {
      await client.dispose();
    }
  });

  it('a page whose cells left the view (its signal aborted) reads no facts and rejects with AbortError; the next one answers', async () => {
    for (let i = 0; i < 6; i++) fs.writeFileSync(path.join(root, `p${i}.png`), makePng(4 + i, 4, i));
    const config = configOf(root, store);
    const engine = new Engine();
    await engine.index(config, {}, {});
    const query = { sort: 'path' as const, descending: false, filter: {} };
    const gone = new AbortController();
    gone.abort();
    await assert.rejects(engine.galleryPage(config, { group: 'new' }, query, 0, 6, true, { signal: gone.signal }), (err: Error) => err.name === 'AbortError');
    const page = await engine.galleryPage(config, { group: 'new' }, query, 0, 6, true, { signal: new AbortController().signal });
    assert.deepEqual(page.items.map((i) => i.width), [4, 5, 6, 7, 8, 9]);
    await engine.close(config.key);
  });

  it('sorting registered images by dimensions takes them from the registry rows, not from a read of each file; new files are read', async () => {
    fs.mkdirSync(path.join(root, 'd'));
    for (const [name, w] of [['a.png', 3], ['b.png', 9], ['c.png', 6]] as const) fs.writeFileSync(path.join(root, 'd', name), makePng(w, w, w));
    const config = configOf(root, store);
    const engine = new Engine();
    await engine.index(config, { verify: true }, {});
    await engine.register(config, undefined, {});
    // b.png gets other pixels in place, its mtime put back: the quick scan and the diff still call it
    // registered, so only a read of the file could tell its new size — which the gallery must not need.
    const b = path.join(root, 'd/b.png');
    const before = fs.statSync(b);
    fs.writeFileSync(b, makePng(1, 1, 1));
    fs.utimesSync(b, before.atime, before.mtime);
    fs.writeFileSync(path.join(root, 'e.png'), makePng(7, 7, 7));
    await engine.index(config, {}, {});
    const bySize = { sort: 'dimensions' as const, descending: true, filter: {} };
    const registered = await engine.galleryPage(config, { group: 'registered' }, bySize, 0, 10, true);
    assert.deepEqual(registered.items.map((i) => [i.rel, i.width]), [['d/b.png', 9], ['d/c.png', 6], ['d/a.png', 3]]);
    const all = await engine.galleryPage(config, { group: 'all' }, bySize, 0, 10, true);
    assert.deepEqual(all.items.map((i) => [i.rel, i.width, i.status]), [['d/b.png', 9, 'registered'], ['e.png', 7, 'new'], ['d/c.png', 6, 'registered'], ['d/a.png', 3, 'registered']]);
    await engine.close(config.key);
  });

  it('"All images" holds every image of the scan, each once with its status: new, changed, registered and unreadable', async () => {
    fs.mkdirSync(path.join(root, 'd'));
    for (let i = 0; i < 4; i++) fs.writeFileSync(path.join(root, `d/img${i}.png`), makePng(6, 4, i));
    fs.writeFileSync(path.join(root, 'd/broken.png'), makePng(6, 4, 99).subarray(0, 40));
    const config = configOf(root, store);
    const engine = new Engine();
    await engine.index(config, { verify: true }, {});
    await engine.register(config, undefined, {});
    fs.writeFileSync(path.join(root, 'e.png'), makePng(5, 5, 100));
    // An in-place edit with other bytes and a later mtime: a verify scan calls it changed.
    const edited = path.join(root, 'd/img1.png');
    fs.writeFileSync(edited, makePng(9, 9, 7));
    fs.utimesSync(edited, new Date(), new Date(Date.now() + 5000));
    await engine.index(config, { verify: true }, {});
    const page = await engine.galleryPage(config, { group: 'all' }, { sort: 'name', descending: false, filter: {} }, 0, 100, true);
    const statuses = Object.fromEntries(page.items.map((i) => [i.rel, i.status]));
    assert.deepEqual(statuses, {
      'd/broken.png': 'unreadable',
      'd/img0.png': 'registered',
      'd/img1.png': 'changed',
      'd/img2.png': 'registered',
      'd/img3.png': 'registered',
      'e.png': 'new',
    });
    assert.equal(page.total, 6);
    await engine.close(config.key);
  });
});
