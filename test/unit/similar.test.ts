import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { openSimilarImages, registerDataset, registryFileFor, similarGroups } from '../../src/core';
import { SCHEMA_VERSION } from '../../src/core/registry/schema';
import { fromHex, hamming, toHex, toSqlInteger } from '../../src/core/similar/hash64';
import { groupsOnThreads } from '../../src/core/similar/sliceThreads';
import { GrowingHashIndex, HashIndex } from '../../src/core/similar/hashIndex';
import { perceptualHash } from '../../src/core/similar/perceptualHash';
import { plantedHashes } from '../helpers/hashes';
import { picture } from '../helpers/pictures';
import { UNDO_V5 } from '../helpers/schema';
import { removeDir, tempDir } from '../helpers/tmp';
import { rng } from '../../bench/imagesGen';

const repo = path.resolve(__dirname, '../../..');
const cli = path.join(repo, 'dist/cli.js');

function run(args: string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
}

function sqlite(file: string, sql: string): string {
  return execFileSync('sqlite3', [file, sql], { encoding: 'utf8' }).trim();
}

describe('perceptual hashes and the near-duplicate index', () => {
  it('hex, halves and SQLite integers round-trip, the top bit included', () => {
    for (const hex of ['0000000000000000', 'ffffffffffffffff', '8000000000000000', '7fffffffffffffff', 'c2924c5532bdddca']) {
      assert.equal(toHex(fromHex(hex)), hex);
      assert.equal(BigInt.asUintN(64, BigInt(toSqlInteger(hex))).toString(16).padStart(16, '0'), hex);
    }
    assert.equal(toSqlInteger('ffffffffffffffff'), '-1');
    assert.throws(() => fromHex('12345'), /16 digits/);
    assert.equal(hamming(0xffffffff, 0, 0, 0), 32);
    assert.equal(hamming(0x80000001, 0x3, 0, 0x1), 3);
  });

  it('finds exactly the pairs a brute-force comparison finds, at distances 0 to 12', () => {
    const n = 3000;
    // 40 % near copies of an earlier hash, 0–12 bits flipped.
    const { hi, lo } = plantedHashes(7, n, { copies: 0.4, maxFlips: 12 });
    const r = rng(8);
    const index = HashIndex.build(hi, lo);
    for (const k of [0, 3, 4, 6, 9, 12]) {
      // Neighbours of 200 queries against a linear scan.
      for (let q = 0; q < 200; q++) {
        const a = Math.floor(r() * n);
        const expected = [];
        for (let i = 0; i < n; i++) if (hamming(hi[a], lo[a], hi[i], lo[i]) <= k) expected.push(i);
        assert.deepEqual(index.neighbours(hi[a], lo[a], k).map((x) => x.id).sort((x, y) => x - y), expected, `k=${k}, query ${a}`);
      }
      // Groups against union-find over every pair.
      const parent = Array.from({ length: n }, (_, i) => i);
      const find = (x: number): number => (parent[x] === x ? x : (parent[x] = find(parent[x])));
      for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) if (hamming(hi[i], lo[i], hi[j], lo[j]) <= k) parent[find(i)] = find(j);
      const byRoot = new Map<number, number[]>();
      for (let i = 0; i < n; i++) byRoot.set(find(i), [...(byRoot.get(find(i)) ?? []), i]);
      const expected = [...byRoot.values()].filter((g) => g.length > 1).map((g) => g.join(',')).sort();
      const got = index.groups(k).map((g) => g.join(',')).sort();
      assert.deepEqual(got, expected, `groups at k=${k}`);
      assert.ok(k === 0 || got.length > 0, 'the planted copies make groups');
    }
    assert.throws(() => index.neighbours(0, 0, 17), /distance must be an integer from 0 to 16/);
  });

  it('groups found on several threads are the groups of one thread, and an abort stops them', async () => {
    // Above the size where threads start (50,000 distinct hashes), with near copies that chain.
    const n = 80_000;
    const { hi, lo } = plantedHashes(11, n, { copies: 0.2, maxFlips: 10 });
    const index = HashIndex.build(hi, lo);
    assert.ok(index.distinct > 50_000);
    for (const k of [4, 10]) {
      const one = index.groups(k);
      assert.ok(one.length > 1000, `k=${k}: the planted copies make groups (${one.length})`);
      assert.deepEqual(await groupsOnThreads(index, k, { threads: 2 }), one, `k=${k}: 2 threads`);
      assert.deepEqual(await groupsOnThreads(index, k, { threads: 3 }), one, `k=${k}: 3 threads`);
    }
    const ac = new AbortController();
    const pending = groupsOnThreads(index, 16, { threads: 2, signal: ac.signal });
    ac.abort(new Error('stop'));
    await assert.rejects(pending, /stop/);
  });

  it('a growing index answers like one built at once', () => {
    const r = rng(3);
    const g = new GrowingHashIndex();
    const hi: number[] = [];
    const lo: number[] = [];
    for (let i = 0; i < 9000; i++) {
      const h = i % 3 === 0 && i > 0 ? hi[i - 1] ^ 1 : Math.floor(r() * 2 ** 32);
      const l = Math.floor(r() * 2 ** 32);
      hi.push(h >>> 0);
      lo.push(i % 3 === 0 && i > 0 ? lo[i - 1] : l);
      assert.equal(g.add(hi[i], lo[i]), i);
    }
    const built = HashIndex.build(Uint32Array.from(hi), Uint32Array.from(lo));
    for (let q = 0; q < 9000; q += 97) {
      assert.deepEqual(g.neighbours(hi[q], lo[q], 5), built.neighbours(hi[q], lo[q], 5));
    }
  });

  it('a resized and recompressed copy hashes near its original, another picture far from it', async () => {
    const a = await picture(1);
    const b = await picture(2);
    const copy = await sharp(a).resize(160, 120).jpeg({ quality: 60 }).toBuffer();
    const webp = await sharp(a).resize(80, 60).webp({ quality: 75 }).toBuffer();
    for (const algorithm of ['phash', 'dhash'] as const) {
      const [ha, hb, hc, hw] = await Promise.all([a, b, copy, webp].map((x) => perceptualHash(x, algorithm)));
      const d = (x: typeof ha, y: typeof ha): number => hamming(x.hi, x.lo, y.hi, y.lo);
      assert.ok(d(ha, hc) <= 4, `${algorithm}: resized JPEG q60 copy at ${d(ha, hc)}`);
      assert.ok(d(ha, hw) <= 6, `${algorithm}: WebP copy at ${d(ha, hw)}`);
      assert.ok(d(ha, hb) > 12, `${algorithm}: another picture at ${d(ha, hb)}`);
    }
  });
});

describe('near-duplicates in the registry and the CLI', () => {
  let root: string;
  let store: string;
  const json = (args: string[]): Record<string, unknown> => {
    const res = run([...args, '--store', store, '--json', '-q']);
    assert.equal(res.status, 0, res.stderr);
    return JSON.parse(res.stdout) as Record<string, unknown>;
  };
  before(() => assert.ok(fs.existsSync(cli), 'dist/cli.js is built (npm test builds it before mocha)'));
  beforeEach(async () => {
    root = tempDir('similar-root');
    store = tempDir('similar-store');
    fs.mkdirSync(path.join(root, 'a'));
    fs.mkdirSync(path.join(root, 'b'));
    for (let i = 0; i < 4; i++) fs.writeFileSync(path.join(root, 'a', `p${i}.png`), await picture(10 + i));
  });
  afterEach(() => {
    removeDir(root);
    removeDir(store);
  });

  it('register hashes each image, reports a new copy as similar to its original, and `similar --json` groups them', async () => {
    const first = json(['register', root]);
    assert.deepEqual((first.similar as { hashed: number; images: number }).hashed, 4);
    assert.equal((first.similar as { images: number }).images, 0, 'four different pictures');
    const file = registryFileFor(store);
    assert.equal(sqlite(file, 'SELECT count(*) FROM images WHERE phash IS NOT NULL'), '4');
    assert.match(sqlite(file, "SELECT phash FROM images_readable WHERE path = 'a/p0.png'"), /^[0-9a-f]{16}$/);

    fs.writeFileSync(path.join(root, 'b', 'p0-small.jpg'), await sharp(path.join(root, 'a', 'p0.png')).resize(160, 120).jpeg({ quality: 60 }).toBuffer());
    fs.writeFileSync(path.join(root, 'b', 'p2.webp'), await sharp(path.join(root, 'a', 'p2.png')).webp({ quality: 75 }).toBuffer());
    const second = json(['register', root]);
    const similar = second.similar as { state: string; distance: number; hashed: number; images: number; samples: { path: string; similarTo: number; nearest: { path: string; distance: number }[] }[] };
    assert.equal(similar.state, 'on');
    assert.equal(similar.hashed, 2);
    assert.equal(similar.images, 2);
    const bySample = new Map(similar.samples.map((s) => [s.path, s]));
    assert.equal(bySample.get('b/p0-small.jpg')?.nearest[0].path, 'a/p0.png');
    assert.equal(bySample.get('b/p2.webp')?.similarTo, 1);

    const text = run(['register', root, '--store', store, '-q']);
    assert.equal(text.status, 0, text.stderr);

    const groups = json(['similar', root]);
    for (const key of ['root', 'algorithm', 'distance', 'hashed', 'unhashed', 'notRegistered', 'missingLeftOut', 'groups', 'files', 'list', 'registryFile', 'notices']) {
      assert.ok(key in groups, `similar --json has ${key}`);
    }
    assert.equal(groups.root, root);
    assert.equal(groups.hashed, 6);
    assert.equal(groups.groups, 2);
    const list = groups.list as { files: number; paths: string[]; hashes: string[] }[];
    assert.deepEqual(list.map((g) => g.paths.map((p) => path.relative(root, p))).sort(), [['a/p0.png', 'b/p0-small.jpg'], ['a/p2.png', 'b/p2.webp']]);
    assert.ok(list.every((g) => g.files === 2 && g.hashes.every((h) => /^[0-9a-f]{16}$/.test(h))));

    // A copy deleted from disk leaves its group (its row stays until prune).
    fs.rmSync(path.join(root, 'b', 'p2.webp'));
    const after = await similarGroups({ root, storeDir: store });
    assert.equal(after.groups.length, 1);
    assert.equal(after.missingLeftOut, 1);
    // The core API the extension uses: neighbours of a registered image.
    const view = await openSimilarImages({ root, storeDir: store, scan: false });
    assert.deepEqual(view.similar.neighboursOf('a/p0.png', 6)?.map((m) => m.path), ['b/p0-small.jpg']);
    assert.deepEqual(view.similar.neighboursOf('a/p1.png', 6), []);
    assert.equal(view.similar.neighboursOf('not/registered.png', 6), null);
  });

  it('the distance is respected: a pair d bits apart is a group at d, not at d − 1', async () => {
    // A brightened, cropped copy: near, but rarely at distance 0.
    fs.writeFileSync(path.join(root, 'b', 'edit.png'), await sharp(path.join(root, 'a', 'p1.png')).extract({ left: 12, top: 9, width: 296, height: 222 }).modulate({ brightness: 1.15 }).png().toBuffer());
    json(['register', root]);
    const file = registryFileFor(store);
    const [h1, h2] = ['a/p1.png', 'b/edit.png'].map((p) => sqlite(file, `SELECT phash FROM images_readable WHERE path = '${p}'`));
    const a = fromHex(h1);
    const b = fromHex(h2);
    const d = hamming(a.hi, a.lo, b.hi, b.lo);
    assert.ok(d >= 1 && d <= 16, `the edit is ${d} bits away`);
    assert.equal(json(['similar', root, '--distance', String(d)]).groups, 1);
    assert.equal(json(['similar', root, '--distance', String(d - 1)]).groups, 0);
    const bad = run(['similar', root, '--store', store, '--distance', '17']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /integer from 0 to 16/);
  });

  it('list --similar-to FILE prints the registered look-alikes of any image file, nearest first', async () => {
    json(['register', root]);
    const outside = tempDir('similar-query');
    try {
      const query = path.join(outside, 'query.jpg');
      fs.writeFileSync(query, await sharp(path.join(root, 'a', 'p3.png')).resize(100, 75).jpeg({ quality: 70 }).toBuffer());
      const lines = run(['list', root, '--store', store, '-q', '--similar-to', query]);
      assert.equal(lines.status, 0, lines.stderr);
      assert.deepEqual(lines.stdout.trim().split('\n'), [path.join(root, 'a/p3.png')]);
      const jsonl = run(['list', root, '--store', store, '-q', '--similar-to', query, '--jsonl', '--distance', '16']);
      assert.equal(jsonl.status, 0, jsonl.stderr);
      const rows = jsonl.stdout.trim().split('\n').map((l) => JSON.parse(l) as { path: string; abs_path: string; hash: string; distance: number });
      assert.equal(rows[0].path, 'a/p3.png');
      assert.ok(rows.every((r, i) => i === 0 || r.distance >= rows[i - 1].distance), 'nearest first');
      const none = run(['list', root, '--store', store, '-q', '--similar-to', path.join(outside, 'absent.png')]);
      assert.equal(none.status, 1);
      assert.match(none.stderr, /cannot compute the perceptual hash of .*absent\.png/);
    } finally {
      removeDir(outside);
    }
  });

  it('--no-phash registers without hashes (one read per file), and such rows are in no group', () => {
    const out = json(['register', root, '--no-phash']);
    assert.equal(out.registered, 4);
    assert.match((out.similar as { state: string }).state, /^off/);
    assert.equal(sqlite(registryFileFor(store), 'SELECT count(*) FROM images WHERE phash IS NOT NULL'), '0');
    const groups = json(['similar', root]);
    assert.equal(groups.hashed, 0);
    assert.equal(groups.unhashed, 4);
  });

  it('a version-4 registry is read (in memory) and migrated to 5 by a writer, keeping its rows; old rows have no hash', async () => {
    await registerDataset({ root, storeDir: store });
    const file = registryFileFor(store);
    execFileSync('sqlite3', [file, UNDO_V5]);
    const before = fs.readFileSync(file);
    const status = json(['status', root]);
    assert.equal(status.registered, 4);
    assert.equal(json(['similar', root]).unhashed, 4, 'a reader sees the old rows, without hashes');
    assert.ok(fs.readFileSync(file).equals(before), 'a reader leaves the file as it is');

    fs.writeFileSync(path.join(root, 'b', 'copy.jpg'), await sharp(path.join(root, 'a', 'p0.png')).jpeg({ quality: 60 }).toBuffer());
    const reg = json(['register', root]);
    assert.equal(reg.registered, 1);
    assert.equal(sqlite(file, 'PRAGMA user_version'), String(SCHEMA_VERSION));
    assert.equal(sqlite(file, 'SELECT count(*) FROM images'), '5');
    assert.equal(sqlite(file, 'SELECT count(*) FROM images WHERE phash IS NULL'), '4');
    assert.match(sqlite(file, "SELECT phash FROM images_readable WHERE path = 'b/copy.jpg'"), /^[0-9a-f]{16}$/);
    assert.equal((reg.similar as { images: number }).images, 0, 'its original has no hash to compare with');
  });
});
