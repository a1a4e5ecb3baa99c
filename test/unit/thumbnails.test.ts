// Thumbnails of real files made by real encoders (ImageMagick, cwebp, avifenc, heif-enc, cjxl), read
// back by sharp to check the picture, not just that a file appeared. The source is two halves, red
// left and blue right, so orientation and decoding errors show in the pixels.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { closeDecodeThread, Thumbnailer } from '../../src/core/thumbnails';
import { chooseRoute } from '../../src/core/thumbnails/sniffFormat';
import { NO_SHARP_ENV } from '../../src/core/thumbnails/loadSharp';
import type { ThumbnailResult } from '../../src/core/thumbnails/types';
import { CancelledError, WorkQueue } from '../../src/core/thumbnails/workQueue';
import { removeDir, tempDir } from '../helpers/tmp';

function onPath(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
}

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
}

/** 320×240: red left half, blue right half (or swapped). */
function makeBase(dir: string, name = 'base.png', swapped = false): string {
  const out = path.join(dir, name);
  const [a, b] = swapped ? ['blue', 'red'] : ['red', 'blue'];
  // PNG24: heif-enc misreads ImageMagick's two-colour palette PNG (stripes), which is not ours to test.
  run('convert', ['-size', '160x240', `xc:${a}`, '-size', '160x240', `xc:${b}`, '+append', '+repage', `PNG24:${out}`]);
  return out;
}

const ENCODERS: { ext: string; tool: string; make: (src: string, dst: string) => void }[] = [
  { ext: 'png', tool: 'convert', make: (s, d) => fs.copyFileSync(s, d) },
  { ext: 'jpg', tool: 'convert', make: (s, d) => run('convert', [s, '-quality', '90', d]) },
  { ext: 'webp', tool: 'cwebp', make: (s, d) => run('cwebp', ['-quiet', s, '-o', d]) },
  { ext: 'tif', tool: 'convert', make: (s, d) => run('convert', [s, d]) },
  { ext: 'gif', tool: 'convert', make: (s, d) => run('convert', [s, d]) },
  { ext: 'avif', tool: 'avifenc', make: (s, d) => run('avifenc', [s, d]) },
  { ext: 'heic', tool: 'heif-enc', make: (s, d) => run('heif-enc', ['-q', '80', s, '-o', d]) },
  { ext: 'jxl', tool: 'cjxl', make: (s, d) => run('cjxl', ['--quiet', s, d]) },
];

/** Mean colour of a small box around (fx, fy) in fractions of the thumbnail's width and height. */
async function colourAt(file: string, fx: number, fy: number): Promise<{ r: number; g: number; b: number }> {
  const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const x0 = Math.floor(fx * (info.width - 1));
  const y0 = Math.floor(fy * (info.height - 1));
  const px = (x0 + y0 * info.width) * 3;
  return { r: data[px], g: data[px + 1], b: data[px + 2] };
}

function ok(r: ThumbnailResult): Extract<ThumbnailResult, { ok: true }> {
  if (!r.ok) assert.fail(`expected a thumbnail, got ${r.reason}: ${r.message}`);
  return r;
}

describe('thumbnails', function () {
  this.timeout(120_000);
  let dir: string;
  let src: string;
  before(function () {
    if (!onPath('convert')) this.skip();
    dir = tempDir('thumbs');
    src = makeBase(dir);
  });
  after(async () => {
    await closeDecodeThread();
    if (dir) removeDir(dir);
  });

  const fresh = (maxCacheBytes = 64 * 1024 * 1024, notice?: (m: string) => void): Thumbnailer =>
    new Thumbnailer({ cacheDir: fs.mkdtempSync(path.join(dir, 'cache-')), maxCacheBytes, notice });

  for (const enc of ENCODERS) {
    it(`${enc.ext}: 64 and 256 px thumbnails, red left and blue right, as WebP in the cache`, async function () {
      if (!onPath(enc.tool)) this.skip();
      const file = path.join(dir, `photo.${enc.ext}`);
      enc.make(src, file);
      const t = fresh();
      for (const [size, w, h] of [[64, 64, 48], [256, 256, 192]] as const) {
        const r = ok(await t.thumbnail(file, size));
        assert.deepEqual([r.width, r.height, r.cached], [w, h, false]);
        assert.ok(r.file.startsWith(t.cache.dir) && r.file.endsWith(`-${size}.webp`), r.file);
        const meta = await sharp(r.file).metadata();
        assert.deepEqual([meta.format, meta.width, meta.height], ['webp', w, h]);
        const left = await colourAt(r.file, 0.2, 0.5);
        const right = await colourAt(r.file, 0.8, 0.5);
        assert.ok(left.r > 180 && left.b < 80, `left is red: ${JSON.stringify(left)}`);
        assert.ok(right.b > 180 && right.r < 80, `right is blue: ${JSON.stringify(right)}`);
      }
    });
  }

  it('a JPEG with EXIF orientation 6 (rotate 90° clockwise) is shown upright: portrait, red on top', async () => {
    const plain = path.join(dir, 'unrotated.jpg');
    run('convert', [src, '-quality', '90', plain]);
    // The EXIF block a camera writes: APP1 "Exif", a big-endian TIFF header and one IFD entry,
    // Orientation (0x0112, SHORT) = 6, inserted right after SOI.
    const tiff = Buffer.from('4d4d002a00000008' + '0001' + '011200030000000100060000' + '00000000', 'hex');
    const app1 = Buffer.concat([Buffer.from([0xff, 0xe1, 0, 2 + 6 + tiff.length]), Buffer.from('Exif\0\0', 'latin1'), tiff]);
    const jpeg = fs.readFileSync(plain);
    const file = path.join(dir, 'rotated.jpg');
    fs.writeFileSync(file, Buffer.concat([jpeg.subarray(0, 2), app1, jpeg.subarray(2)]));
    assert.equal((await sharp(file).metadata()).orientation, 6, 'the tag is where readers look for it');
    const r = ok(await fresh().thumbnail(file, 64));
    assert.deepEqual([r.width, r.height], [48, 64]);
    const top = await colourAt(r.file, 0.5, 0.15);
    const bottom = await colourAt(r.file, 0.5, 0.85);
    assert.ok(top.r > 180 && top.b < 80, `top is red: ${JSON.stringify(top)}`);
    assert.ok(bottom.b > 180 && bottom.r < 80, `bottom is blue: ${JSON.stringify(bottom)}`);
  });

  it('never enlarges: a 40×30 image stays 40×30 at 256 px', async () => {
    const file = path.join(dir, 'tiny.png');
    run('convert', ['-size', '40x30', 'xc:green', file]);
    const r = ok(await fresh().thumbnail(file, 256));
    assert.deepEqual([r.width, r.height], [40, 30]);
  });

  it('a second request is a cache hit by content stamp, also for a new Thumbnailer on the same folder; nothing is decoded again', async () => {
    const file = path.join(dir, 'hit.jpg');
    run('convert', [src, file]);
    const t = fresh();
    const first = ok(await t.thumbnail(file, 64));
    const again = ok(await t.thumbnail(file, 64));
    assert.equal(again.cached, true);
    assert.equal(again.file, first.file);
    assert.deepEqual([again.width, again.height], [64, 48], 'dimensions read back from the WebP header');
    assert.equal(t.queue.started, 1);
    const other = new Thumbnailer({ cacheDir: t.cache.dir, maxCacheBytes: 1 << 26 });
    const third = ok(await other.thumbnail(file, 64));
    assert.equal(third.cached, true);
    assert.equal(other.queue.started, 0);
    assert.equal(other.cache.stats.entries, 1);
    // A moved file keeps its stamp (inode, size, mtime), so its thumbnail.
    const moved = path.join(dir, 'hit-moved.jpg');
    fs.renameSync(file, moved);
    assert.equal(ok(await t.thumbnail(moved, 64)).cached, true);
  });

  it('a file changed on disk gets a new thumbnail (new stamp, new name), showing the new picture', async () => {
    const file = path.join(dir, 'change.png');
    fs.copyFileSync(src, file);
    const t = fresh();
    const before = ok(await t.thumbnail(file, 64));
    makeBase(dir, 'swapped.png', true);
    fs.copyFileSync(path.join(dir, 'swapped.png'), file);
    fs.utimesSync(file, new Date(), new Date(Date.now() + 5000));
    const after = ok(await t.thumbnail(file, 64));
    assert.equal(after.cached, false);
    assert.notEqual(after.file, before.file);
    const left = await colourAt(after.file, 0.2, 0.5);
    assert.ok(left.b > 180 && left.r < 80, `left is blue now: ${JSON.stringify(left)}`);
  });

  it('the cache stays under its cap, evicting the least recently used entries first (a re-used one stays)', async () => {
    // Plain colours: thumbnails of (nearly) one size, so the cap counts entries.
    const files = ['red', 'green', 'blue', 'yellow', 'cyan'].map((c) => {
      const f = path.join(dir, `lru-${c}.png`);
      run('convert', ['-size', '200x150', `xc:${c}`, f]);
      return f;
    });
    const probe = fresh();
    const sizes = await Promise.all(files.map(async (f) => ok(await probe.thumbnail(f, 128)).bytes));
    const biggest = Math.max(...sizes);
    const smallest = Math.min(...sizes);
    assert.ok(biggest < smallest * 1.1, `similar sizes: ${sizes.join(', ')}`);
    // Room for three and a half: the fourth entry makes the cache evict down to 90% (three).
    const cap = Math.floor(smallest * 3.5);
    const t = fresh(cap);
    const made: string[] = [];
    for (const f of files.slice(0, 3)) made.push(ok(await t.thumbnail(f, 128)).file);
    assert.equal(ok(await t.thumbnail(files[0], 128)).cached, true); // used again: now the most recent
    for (const f of files.slice(3)) made.push(ok(await t.thumbnail(f, 128)).file);
    assert.ok(t.cache.stats.bytes <= cap, `${t.cache.stats.bytes} ≤ ${cap}`);
    const onDisk = made.map((f) => fs.existsSync(f));
    assert.deepEqual(onDisk, [true, false, false, true, true], 'green and blue, least recently used, went; red, used again, stayed');
    const total = made.filter((f) => fs.existsSync(f)).reduce((s, f) => s + fs.statSync(f).size, 0);
    assert.equal(total, t.cache.stats.bytes, 'what is counted is what is on disk');
    // A new process reads the same state back and keeps the cap.
    const reopened = new Thumbnailer({ cacheDir: t.cache.dir, maxCacheBytes: cap });
    await reopened.cache.open();
    assert.deepEqual(reopened.cache.stats, { entries: 3, bytes: total, maxBytes: cap });
  });

  it('lowering the cap evicts at once', async () => {
    const t = fresh();
    for (const c of ['red', 'green', 'blue']) ok(await t.thumbnail(path.join(dir, `lru-${c}.png`), 64));
    const before = t.cache.stats;
    assert.equal(before.entries, 3);
    await t.cache.setMaxBytes(1);
    assert.deepEqual([t.cache.stats.entries, t.cache.stats.bytes], [0, 0]);
    assert.equal(fs.readdirSync(t.cache.dir).flatMap((d) => fs.readdirSync(path.join(t.cache.dir, d))).length, 0);
  });

  it('a corrupt or truncated cache entry is removed and made again', async () => {
    const file = path.join(dir, 'entry.jpg');
    run('convert', [src, file]);
    const t = fresh();
    const first = ok(await t.thumbnail(file, 64));
    const bytes = fs.readFileSync(first.file);
    fs.writeFileSync(first.file, bytes.subarray(0, bytes.length - 7));
    const again = ok(await t.thumbnail(file, 64));
    assert.equal(again.cached, false);
    assert.equal(fs.readFileSync(again.file).length, bytes.length);
    fs.writeFileSync(again.file, Buffer.alloc(bytes.length)); // zeros of the right length
    assert.equal(ok(await t.thumbnail(file, 64)).cached, false);
  });

  it('temp files of a killed writer (older than 10 min) are removed when the cache opens, fresh ones kept', async () => {
    const t = fresh();
    const sub = path.join(t.cache.dir, 'ab');
    fs.mkdirSync(sub, { recursive: true });
    const leftover = path.join(sub, `.${'ab'.padEnd(32, '0')}-64.webp.${'0'.repeat(24)}.tmp`);
    fs.writeFileSync(leftover, 'half');
    const fresher = leftover.replace('0'.repeat(24), '1'.repeat(24));
    fs.writeFileSync(fresher, 'being written');
    const hourAgo = new Date(Date.now() - 3_600_000);
    fs.utimesSync(leftover, hourAgo, hourAgo);
    await t.cache.open();
    assert.equal(fs.existsSync(leftover), false, 'an hour-old temp file is a dead writer\'s');
    assert.equal(fs.existsSync(fresher), true, 'a fresh one may be a live writer\'s (another window)');
  });

  it('corrupt images are errors with a reason, never a crash; the wasm thread survives a bad HEIC', async function () {
    const garbage = path.join(dir, 'garbage.jpg');
    fs.writeFileSync(garbage, 'this is not an image at all');
    const halfJpeg = path.join(dir, 'half.jpg');
    fs.writeFileSync(halfJpeg, Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46]));
    const badHeic = path.join(dir, 'bad.heic');
    const ftyp = Buffer.from('00000018667479706865696300000000686569636d696631', 'hex');
    fs.writeFileSync(badHeic, Buffer.concat([ftyp, Buffer.alloc(500, 7)]));
    const badJxl = path.join(dir, 'bad.jxl');
    fs.writeFileSync(badJxl, Buffer.concat([Buffer.from([0xff, 0x0a]), Buffer.alloc(300, 9)]));
    const t = fresh();
    const results = await Promise.all([garbage, halfJpeg, badHeic, badJxl, path.join(dir, 'absent.png')].map((f) => t.thumbnail(f, 64)));
    assert.deepEqual(results.map((r) => (r.ok ? 'ok' : r.reason)), ['unsupported', 'decode-error', 'decode-error', 'decode-error', 'unreadable']);
    for (const r of results) if (!r.ok) assert.ok(r.message.length > 10, r.message);
    assert.equal(t.cache.stats.entries, 0, 'failures are not cached');
    if (!onPath('heif-enc')) return;
    const good = path.join(dir, 'after.heic');
    run('heif-enc', ['-q', '60', src, '-o', good]);
    ok(await t.thumbnail(good, 64));
  });

  it('without sharp: every request is a `no-sharp` result and the notice comes exactly once', async () => {
    const file = path.join(dir, 'nosharp.png');
    fs.copyFileSync(src, file);
    const notices: string[] = [];
    const t = fresh(1 << 20, (m) => notices.push(m));
    process.env[NO_SHARP_ENV] = '1';
    try {
      const results = await Promise.all([64, 256, 64].map((s) => t.thumbnail(file, s)));
      results.push(await t.thumbnail(file, 64));
      assert.deepEqual(results.map((r) => (r.ok ? 'ok' : r.reason)), ['no-sharp', 'no-sharp', 'no-sharp', 'no-sharp']);
    } finally {
      delete process.env[NO_SHARP_ENV];
    }
    assert.equal(notices.length, 1);
    assert.match(notices[0], /sharp/);
    ok(await t.thumbnail(file, 64));
  });

  it('sizes outside 1..512 are refused', async () => {
    const t = fresh();
    await assert.rejects(t.thumbnail(src, 513), RangeError);
    await assert.rejects(t.thumbnail(src, 0), RangeError);
  });

  it('the decoder is chosen from the bytes, not the name: AVIF to sharp, HEIC to libheif, JXL to libjxl, BMP to none', () => {
    const box = (major: string, ...compat: string[]): Uint8Array => {
      const brands = Buffer.from([major, '\0\0\0\0', ...compat].join(''), 'latin1');
      const size = Buffer.alloc(4);
      size.writeUInt32BE(8 + brands.length);
      return Buffer.concat([size, Buffer.from('ftyp'), brands]);
    };
    assert.equal(chooseRoute(box('avif', 'mif1', 'miaf')), 'sharp');
    assert.equal(chooseRoute(box('mif1', 'avif', 'miaf')), 'sharp');
    assert.equal(chooseRoute(box('heic', 'mif1')), 'heif-wasm');
    assert.equal(chooseRoute(box('mif1', 'heic')), 'heif-wasm');
    assert.equal(chooseRoute(box('isom', 'mp42')), null, 'an MP4 is no image');
    assert.equal(chooseRoute(Buffer.from([0xff, 0x0a, 0xfa])), 'jxl-wasm');
    assert.equal(chooseRoute(Buffer.from('0000000c4a584c200d0a870a', 'hex')), 'jxl-wasm');
    assert.equal(chooseRoute(Buffer.from('BM\0\0\0\0\0\0\0\0\0\0\0\0', 'latin1')), null);
  });
});

describe('thumbnail work queue', () => {
  const gate = (): { promise: Promise<void>; open(): void } => {
    let open!: () => void;
    const promise = new Promise<void>((r) => (open = r));
    return { promise, open };
  };

  it('runs at most `concurrency` jobs, the newest burst first and each burst in the order asked, one job per key for every caller', async () => {
    const q = new WorkQueue<string>(1);
    const order: string[] = [];
    const first = gate();
    const job = (name: string, wait?: Promise<void>) => async (): Promise<string> => {
      order.push(name);
      await wait;
      return name;
    };
    // One page of rows, asked in one turn of the event loop.
    const a = q.run('a', job('a', first.promise));
    const b = q.run('b', job('b'));
    const c = q.run('c', job('c'));
    const c2 = q.run('c', job('c-duplicate'));
    assert.equal(q.pending, 2);
    await new Promise((r) => setImmediate(r));
    // The next page (scrolled to later), and b asked again: now visible there too.
    const d = q.run('d', job('d'));
    const e = q.run('e', job('e'));
    const b2 = q.run('b', job('b-duplicate'));
    first.open();
    assert.deepEqual(await Promise.all([a, b, c, c2, d, e, b2]), ['a', 'b', 'c', 'c', 'd', 'e', 'b']);
    assert.deepEqual(order, ['a', 'd', 'e', 'b', 'c'], 'the newest burst first, in its order; then what is left of the older one');
    assert.equal(q.started, 5);
  });

  it('a waiting job that nobody wants any more is dropped; a running one is told through its signal', async () => {
    const q = new WorkQueue<string>(1);
    const hold = gate();
    let sawAbort = false;
    const running = new AbortController();
    const r = q.run('run', async (signal) => {
      await hold.promise;
      sawAbort = signal.aborted;
      return 'done';
    }, running.signal);
    const waiting = new AbortController();
    let started = false;
    const w = q.run('wait', async () => {
      started = true;
      return 'never';
    }, waiting.signal);
    waiting.abort();
    await assert.rejects(w, CancelledError);
    running.abort();
    await assert.rejects(r, CancelledError);
    hold.open();
    await new Promise((res) => setImmediate(res));
    assert.equal(started, false);
    assert.equal(sawAbort, true);
    assert.equal(q.pending, 0);
  });

  it('beyond maxPending, the oldest waiting requests are dropped', async () => {
    const q = new WorkQueue<number>(1, 2);
    const hold = gate();
    const first = q.run('0', async () => {
      await hold.promise;
      return 0;
    });
    const rest = [1, 2, 3].map((i) => q.run(String(i), async () => i));
    await assert.rejects(rest[0], /dropped/);
    hold.open();
    assert.deepEqual(await Promise.all([first, rest[1], rest[2]]), [0, 2, 3]);
  });
});
