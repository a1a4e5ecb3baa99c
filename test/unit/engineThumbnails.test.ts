// Thumbnails made through the real engine worker (EngineClient → engineWorker → a Thumbnailer per
// store): real PNG and JPEG made by libvips, a corrupt file, a cancel that crosses the thread, the
// cache cap changed from the host, sharp missing in the worker, and a host that never loads sharp.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { EngineClient } from '../../src/core/engine/client';
import { NO_SHARP_ENV } from '../../src/core/thumbnails/loadSharp';
import type { ThumbnailResult } from '../../src/core/thumbnails/types';
import { removeDir, tempDir } from '../helpers/tmp';

const MB = 1024 * 1024;

function ok(r: ThumbnailResult): Extract<ThumbnailResult, { ok: true }> {
  if (!r.ok) assert.fail(`expected a thumbnail, got ${r.reason}: ${r.message}`);
  return r;
}

/** `w`×`h`: red left half, blue right half, so a wrong decode shows in the pixels. */
async function halves(file: string, w: number, h: number): Promise<void> {
  const half = Math.floor(w / 2);
  const blue = await sharp({ create: { width: w - half, height: h, channels: 3, background: { r: 0, g: 0, b: 255 } } }).png().toBuffer();
  const img = sharp({ create: { width: w, height: h, channels: 3, background: { r: 255, g: 0, b: 0 } } }).composite([{ input: blue, left: half, top: 0 }]);
  await (file.endsWith('.png') ? img.png() : img.jpeg({ quality: 90 })).toFile(file);
}

async function pixel(file: string, fx: number): Promise<{ r: number; b: number }> {
  const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const px = (Math.floor(fx * (info.width - 1)) + Math.floor(info.height / 2) * info.width) * 3;
  return { r: data[px], b: data[px + 2] };
}

const webpFiles = (store: string): string[] =>
  fs.existsSync(path.join(store, 'thumbnails')) ? (fs.readdirSync(path.join(store, 'thumbnails'), { recursive: true }) as string[]).filter((n) => n.endsWith('.webp')) : [];

describe('engine worker: thumbnails', function () {
  this.timeout(120_000);
  let dir: string;
  let store: string;
  let client: EngineClient;
  let png: string;
  let jpg: string;
  before(async () => {
    dir = tempDir('engine-thumbs');
    store = tempDir('engine-thumbs-store');
    png = path.join(dir, 'a.png');
    jpg = path.join(dir, 'b.jpg');
    await halves(png, 320, 240);
    await halves(jpg, 1200, 800);
    client = new EngineClient();
  });
  after(async () => {
    await client.closeThumbnails();
    await client.dispose();
    removeDir(dir);
    removeDir(store);
  });

  const req = (file: string, size: number, extra: { maxCacheBytes?: number; knownStamp?: string; storeDir?: string } = {}) => ({
    storeDir: extra.storeDir ?? store,
    maxCacheBytes: extra.maxCacheBytes ?? 64 * MB,
    file,
    size,
    knownStamp: extra.knownStamp,
  });

  it('PNG and JPEG: 64 and 256 px WebP thumbnails in <store>/thumbnails, red left and blue right, then cache hits', async () => {
    for (const [file, w, h] of [[png, 320, 240], [jpg, 1200, 800]] as const) {
      for (const size of [64, 256]) {
        const r = ok(await client.thumbnail(req(file, size)));
        assert.equal(r.cached, false);
        assert.ok(r.file.startsWith(path.join(store, 'thumbnails') + path.sep), r.file);
        assert.equal(r.width, Math.min(size, w));
        assert.equal(r.height, Math.round((Math.min(size, w) * h) / w));
        const meta = await sharp(r.file).metadata();
        assert.equal(meta.format, 'webp');
        const left = await pixel(r.file, 0.2);
        const right = await pixel(r.file, 0.8);
        assert.ok(left.r > 200 && left.b < 60, `left is red: ${JSON.stringify(left)}`);
        assert.ok(right.b > 200 && right.r < 60, `right is blue: ${JSON.stringify(right)}`);
        const again = ok(await client.thumbnail(req(file, size)));
        assert.equal(again.cached, true);
        assert.equal(again.file, r.file);
      }
    }
  });

  it('with the stamp it was given, an unchanged file is `unchanged`; an edited one gets a new thumbnail', async () => {
    const file = path.join(dir, 'edited.png');
    await halves(file, 100, 50);
    const first = ok(await client.thumbnail(req(file, 64)));
    assert.ok(first.stamp);
    const same = await client.thumbnail(req(file, 64, { knownStamp: first.stamp }));
    assert.equal(same.ok ? 'ok' : same.reason, 'unchanged');
    await sharp({ create: { width: 60, height: 60, channels: 3, background: 'green' } }).png().toFile(file);
    const edited = ok(await client.thumbnail(req(file, 64, { knownStamp: first.stamp })));
    assert.notEqual(edited.stamp, first.stamp);
    assert.notEqual(edited.file, first.file);
    assert.deepEqual([edited.width, edited.height], [60, 60]);
    fs.rmSync(file);
    const gone = await client.thumbnail(req(file, 64, { knownStamp: edited.stamp }));
    assert.deepEqual([gone.ok, !gone.ok && gone.reason, gone.stamp], [false, 'unreadable', 'gone']);
    const stillGone = await client.thumbnail(req(file, 64, { knownStamp: gone.stamp }));
    assert.equal(stillGone.ok ? 'ok' : stillGone.reason, 'unchanged');
  });

  it('a corrupt file, a truncated JPEG and an absent file are results with a reason, and nothing is cached for them', async () => {
    const garbage = path.join(dir, 'garbage.jpg');
    fs.writeFileSync(garbage, 'this is not an image at all');
    const cut = path.join(dir, 'cut.jpg');
    fs.writeFileSync(cut, fs.readFileSync(jpg).subarray(0, 8));
    const before = webpFiles(store).length;
    const results = await Promise.all([garbage, cut, path.join(dir, 'absent.png')].map((f) => client.thumbnail(req(f, 64))));
    assert.deepEqual(results.map((r) => (r.ok ? 'ok' : r.reason)), ['unsupported', 'decode-error', 'unreadable']);
    for (const r of results) if (!r.ok) assert.match(r.message, /\w{5}/);
    assert.equal(webpFiles(store).length, before);
  });

  it('bad requests are refused with the error thrown in the worker', async () => {
    await assert.rejects(client.thumbnail(req(png, 513)), (err: Error) => err.name === 'RangeError' && /1\.\.512/.test(err.message));
    await assert.rejects(client.thumbnail(req(png, 64, { storeDir: 'relative/store' })), (err: Error) => err.name === 'RangeError');
    await assert.rejects(client.thumbnail(req(png, 64, { maxCacheBytes: 0 })), (err: Error) => err.name === 'RangeError');
  });

  it('a cancel crosses the thread and reaches the queue: its caller is told `cancelled`; another caller of the same file gets it', async () => {
    const files: string[] = [];
    for (let i = 0; i < 6; i++) {
      const f = path.join(dir, `big${i}.jpg`);
      await halves(f, 2400 + i * 8, 1600);
      files.push(f);
    }
    const abort = new AbortController();
    const cancelled = files.map((f) => client.thumbnail(req(f, 256), abort.signal));
    const wanted = client.thumbnail(req(files[5], 256));
    abort.abort();
    const results = await Promise.all(cancelled);
    // The client does not answer for the engine: `cancelled` comes from the worker's queue.
    assert.deepEqual(results.map((r) => (r.ok ? 'ok' : r.reason)), files.map(() => 'cancelled'));
    const other = ok(await wanted);
    assert.equal(other.width, 256);
    // The queue is not wedged by the cancelled jobs: each file is made when asked again.
    for (const f of files) ok(await client.thumbnail(req(f, 64)));
  });

  it('the cache cap set from the host evicts at once; a request with a new cap applies it too', async () => {
    const capStore = tempDir('engine-thumbs-cap');
    try {
      for (const size of [64, 128, 256, 512]) ok(await client.thumbnail(req(jpg, size, { storeDir: capStore })));
      assert.equal(webpFiles(capStore).length, 4);
      await client.setThumbnailCacheCap(capStore, 1);
      assert.equal(webpFiles(capStore).length, 0, 'a 1-byte cap keeps nothing');
      ok(await client.thumbnail(req(jpg, 100, { storeDir: capStore, maxCacheBytes: 64 * MB })));
      ok(await client.thumbnail(req(jpg, 120, { storeDir: capStore, maxCacheBytes: 64 * MB })));
      assert.equal(webpFiles(capStore).length, 2, 'the cap of the request (64 MB) replaced the 1-byte one');
    } finally {
      removeDir(capStore);
    }
  });

  it(`without sharp in the worker (${NO_SHARP_ENV}=1 when it started): every thumbnail is \`no-sharp\` with the reason`, async () => {
    const noSharp = new EngineClient();
    process.env[NO_SHARP_ENV] = '1';
    let first: Promise<ThumbnailResult>;
    try {
      // The worker copies process.env when it starts: the first request starts it.
      first = noSharp.thumbnail(req(png, 64));
    } finally {
      delete process.env[NO_SHARP_ENV];
    }
    try {
      const results = [await first, await noSharp.thumbnail(req(jpg, 256))];
      assert.deepEqual(results.map((r) => (r.ok ? 'ok' : r.reason)), ['no-sharp', 'no-sharp']);
      for (const r of results) if (!r.ok) assert.match(r.message, /sharp/);
    } finally {
      await noSharp.dispose();
    }
  });

  it('the calling thread never loads sharp: thumbnails made through the engine leave it out of the caller\'s require.cache', function () {
    const clientModule = require.resolve('../../src/core/engine/client');
    const script = `
      const { EngineClient } = require(${JSON.stringify(clientModule)});
      (async () => {
        const client = new EngineClient();
        const results = [];
        for (const [file, size] of [[${JSON.stringify(png)}, 64], [${JSON.stringify(jpg)}, 256]]) results.push(await client.thumbnail({ storeDir: ${JSON.stringify(store)}, maxCacheBytes: 1 << 26, file, size }));
        await client.closeThumbnails();
        await client.dispose();
        const sharpModules = Object.keys(require.cache).filter((k) => /[\\\\/]sharp[\\\\/]|sharp.*\\.node$/.test(k));
        console.log(JSON.stringify({ results: results.map((r) => r.ok), sharpModules }));
      })();`;
    const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(run.status, 0, run.stderr);
    const out = JSON.parse(run.stdout.trim().split('\n').pop()!) as { results: boolean[]; sharpModules: string[] };
    assert.deepEqual(out.results, [true, true]);
    assert.deepEqual(out.sharpModules, []);
  });
});
