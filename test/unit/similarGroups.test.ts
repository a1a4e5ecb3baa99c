// The Similar group's engine side: groups computed in their own thread (the same groups as the
// index's), kept per registry content and distance, cut to the files on disk, paged; through the
// engine in-process and through the real engine worker. Real registry, real images (libvips).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EngineClient } from '../../src/core/engine/client';
import { Engine } from '../../src/core/engine/engine';
import type { DatasetConfig } from '../../src/core/engine/protocol';
import { hamming } from '../../src/core/similar/hash64';
import { HashIndex } from '../../src/core/similar/hashIndex';
import { groupsInThread, groupsThreadStats } from '../../src/core/similar/groupsThread';
import { perceptualHash } from '../../src/core/similar/perceptualHash';
import { plantedHashes } from '../helpers/hashes';
import { nearCopies, picture } from '../helpers/pictures';
import { removeDir, tempDir } from '../helpers/tmp';

let keys = 0;
function configOf(root: string, storeDir: string, similarDistance?: number): DatasetConfig {
  return { key: `similar-${process.pid}-${++keys}`, root, storeDir, options: {}, maxAgeMs: 24 * 3_600_000, perceptualHash: true, registerConcurrency: 4, similarDistance };
}

describe('near-duplicate groups in a thread', function () {
  this.timeout(120_000);

  it('are the groups HashIndex.groups finds, as flat arrays', async () => {
    const n = 5000;
    // 5 % exact copies (the groups at k = 0), then near copies 0–2 bits off.
    const { hi, lo } = plantedHashes(3, n, { exact: 0.05, copies: 0.3, maxFlips: 2 });
    for (const k of [0, 3, 10]) {
      const expected = HashIndex.build(hi, lo).groups(k);
      assert.ok(expected.length > 50, `planted groups at k=${k}: ${expected.length}`);
      const flat = await groupsInThread({ hi, lo, count: n, distance: k });
      const got: number[][] = [];
      for (let g = 0; g + 1 < flat.starts.length; g++) got.push(Array.from(flat.ids.subarray(flat.starts[g], flat.starts[g + 1])));
      assert.deepEqual(got, expected, `k=${k}`);
    }
  });

  it('a cancelled computation rejects with AbortError; a bad distance is refused', async () => {
    const n = 200_000;
    const hi = new Uint32Array(n).map((_, i) => (i * 2654435761) >>> 0);
    const lo = new Uint32Array(n).map((_, i) => (i * 40503) >>> 0);
    const controller = new AbortController();
    const pending = groupsInThread({ hi, lo, count: n, distance: 16 }, controller.signal);
    controller.abort();
    await assert.rejects(pending, { name: 'AbortError' });
    await assert.rejects(groupsInThread({ hi, lo, count: n, distance: 17 }), /distance must be an integer from 0 to 16/);
  });
});

describe('the engine: Similar groups of a dataset', function () {
  this.timeout(180_000);
  let root: string;
  let store: string;

  before(async () => {
    root = tempDir('similar-engine-root');
    store = tempDir('similar-engine-store');
    fs.mkdirSync(path.join(root, 'a'));
    fs.mkdirSync(path.join(root, 'b'));
    for (let i = 0; i < 4; i++) fs.writeFileSync(path.join(root, 'a', `p${i}.png`), await picture(10 + i));
    const p0 = await nearCopies(fs.readFileSync(path.join(root, 'a', 'p0.png')));
    fs.writeFileSync(path.join(root, 'b', 'p0-crop.jpg'), p0.crop);
    fs.writeFileSync(path.join(root, 'b', 'p0-quarter.jpg'), p0.quarter);
    fs.copyFileSync(path.join(root, 'a', 'p1.png'), path.join(root, 'b', 'p1-copy.png'));
  });
  after(() => {
    removeDir(root);
    removeDir(store);
  });

  it('computes the groups once per registry content, pages them, cuts them to the files on disk', async () => {
    const engine = new Engine();
    const config = configOf(root, store);
    const { summary } = await engine.register(config, undefined, {});
    assert.equal(summary.registered, 7);
    assert.equal(summary.similar, null, 'not computed before someone asks');
    assert.equal(engine.similarPage(config, 0, 10), null);

    const started = groupsThreadStats.started;
    const counts = await engine.similar(config, {});
    assert.equal(groupsThreadStats.started, started + 1);
    assert.deepEqual(counts, { groups: 2, images: 5, distance: 10, hashed: 7, unhashed: 0 });
    const page = engine.similarPage(config, 0, 10)!;
    assert.equal(page.total, 2);
    assert.deepEqual(page.groups.map((g) => [g.paths, g.size]), [
      [['a/p0.png', 'b/p0-crop.jpg', 'b/p0-quarter.jpg'], 3],
      [['a/p1.png', 'b/p1-copy.png'], 2],
    ]);
    // The diameter, against hashes computed here from the files.
    const hashes = await Promise.all(page.groups[0].paths.map((p) => perceptualHash(path.join(root, p), 'phash')));
    let max = 0;
    for (const x of hashes) for (const y of hashes) max = Math.max(max, hamming(x.hi, x.lo, y.hi, y.lo));
    assert.equal(page.groups[0].maxDistance, max);
    assert.ok(max > 0 && max <= 10, `the copies are near, not equal (${max})`);
    assert.equal(page.groups[1].maxDistance, 0, 'an exact copy');
    assert.deepEqual(engine.similarPage(config, 1, 10)?.groups.map((g) => g.paths[0]), ['a/p1.png']);
    assert.deepEqual(engine.similarGroup(config, 'b/p0-quarter.jpg'), ['a/p0.png', 'b/p0-crop.jpg', 'b/p0-quarter.jpg']);
    assert.equal(engine.similarGroup(config, 'a/p2.png'), null, 'a distinct picture is in no group');
    assert.deepEqual((await engine.index(config, {}, {})).similar, null, 'a new status: the registry may have changed');

    // Nothing changed in the registry: the hashes are read again, the groups reused (no thread).
    await engine.similar(config, {});
    assert.equal(groupsThreadStats.started, started + 1);
    assert.deepEqual((await engine.index(config, {}, {})).similar, null);
    await engine.similar(config, {});
    const summaryAfter = (engine as unknown as { datasets: Map<string, { summary(): { similar?: unknown } }> }).datasets.get(config.key)!.summary();
    assert.deepEqual(summaryAfter.similar, counts);

    // A copy deleted from disk (watcher): it leaves its group, the Similar row is named, no recomputation.
    fs.rmSync(path.join(root, 'b', 'p0-quarter.jpg'));
    const applied = await engine.applyEvents(config, [{ kind: 'deleted', path: path.join(root, 'b', 'p0-quarter.jpg') }], {});
    assert.ok(applied.rows !== 'all' && applied.rows.some((r) => r.group === 'similar'), JSON.stringify(applied.rows));
    assert.deepEqual(applied.summary?.similar, { groups: 2, images: 4, distance: 10, hashed: 7, unhashed: 0 });
    assert.deepEqual(engine.similarPage(config, 0, 10)?.groups.map((g) => g.paths), [['a/p0.png', 'b/p0-crop.jpg'], ['a/p1.png', 'b/p1-copy.png']]);
    fs.rmSync(path.join(root, 'b', 'p0-crop.jpg'));
    await engine.applyEvents(config, [{ kind: 'deleted', path: path.join(root, 'b', 'p0-crop.jpg') }], {});
    assert.deepEqual(engine.similarPage(config, 0, 10)?.groups.map((g) => g.paths), [['a/p1.png', 'b/p1-copy.png']], 'a group of one is no group');
    // Restored: back in its group.
    fs.writeFileSync(path.join(root, 'b', 'p0-crop.jpg'), (await nearCopies(fs.readFileSync(path.join(root, 'a', 'p0.png')))).crop);
    await engine.applyEvents(config, [{ kind: 'created', path: path.join(root, 'b', 'p0-crop.jpg') }], {});
    assert.equal(engine.similarPage(config, 0, 10)?.total, 2);
    assert.equal(groupsThreadStats.started, started + 1);

    // Another distance: nothing known at it until computed; at 0 only the exact copy.
    const exact = { ...config, similarDistance: 0 };
    assert.equal(engine.similarPage(exact, 0, 10), null);
    assert.equal((await engine.similar(exact, {})).distance, 0);
    assert.equal(groupsThreadStats.started, started + 2);
    assert.deepEqual(engine.similarPage(exact, 0, 10)?.groups.map((g) => [g.paths, g.maxDistance]), [[['a/p1.png', 'b/p1-copy.png'], 0]]);
    await engine.close(config.key);
  });

  it('through the engine worker: the same groups, the thread started from the worker', async () => {
    const client = new EngineClient();
    try {
      const config = configOf(root, store);
      await client.index(config);
      assert.equal(await client.similarPage(config, 0, 10), null);
      const counts = await client.similar(config);
      assert.equal(counts.groups, 2);
      const page = await client.similarPage(config, 0, 1);
      // The first test deleted b/p0-quarter.jpg: its row stays registered, the page leaves it out.
      assert.deepEqual(page && [page.total, page.groups.length, page.groups[0].paths], [2, 1, ['a/p0.png', 'b/p0-crop.jpg']]);
      assert.deepEqual(await client.similarGroup(config, 'a/p1.png'), ['a/p1.png', 'b/p1-copy.png']);
    } finally {
      await client.dispose();
    }
  });
});
