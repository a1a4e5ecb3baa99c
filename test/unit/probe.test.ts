// probeImage on hostile files: FIFOs, huge sparse files, cancels mid-file. Counts (bytes read),
// not times, are asserted: they do not depend on the machine.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import xxhash from 'xxhash-wasm';
import { CANCELLED_PROBE, newScratch, probeImage } from '../../src/core/register/probeImage';
import { makeJpeg, makePng } from '../helpers/images';
import { removeDir, tempDir } from '../helpers/tmp';

const HUGE = 100e9;

describe('probeImage on hostile files', function () {
  this.timeout(30_000);
  let dir: string;
  beforeEach(() => {
    dir = tempDir('probe');
  });
  afterEach(() => removeDir(dir));

  it('a FIFO is unreadable at once (open does not wait for a writer)', async () => {
    const fifo = path.join(dir, 'pipe.png');
    execFileSync('mkfifo', [fifo]);
    const row = await probeImage(fifo, 'pipe.png', newScratch());
    assert.equal(row.status, 'unreadable');
    assert.equal(row.reason, 'not a regular file (FIFO)');
    assert.equal(row.bytesRead, 0);
  });

  it('a 100 GB sparse file with a rejected header is given up after the header limit', async () => {
    const file = path.join(dir, 'huge.png');
    fs.writeFileSync(file, 'this is no image at all');
    fs.truncateSync(file, HUGE);
    const row = await probeImage(file, 'huge.png', newScratch());
    assert.equal(row.status, 'unreadable');
    assert.match(row.reason ?? '', /^not a recognised image/);
    assert.ok(row.bytesRead <= 4 << 20, `${row.bytesRead} bytes read`);
  });

  it('a 100 GB sparse file with a valid PNG header and no IEND chunk is found by its structure, not hashed', async () => {
    const file = path.join(dir, 'cut.png');
    const png = makePng(64, 64, 1);
    // Bytes after IEND are allowed (libpng ignores them), so the cut is before IEND: zeros follow the pixels.
    fs.writeFileSync(file, png.subarray(0, png.length - 12));
    fs.truncateSync(file, HUGE);
    const row = await probeImage(file, 'cut.png', newScratch());
    assert.equal(row.status, 'unreadable');
    assert.equal(row.reason, 'truncated PNG (no IEND chunk)');
    assert.equal(row.hash, null);
    assert.ok(row.bytesRead <= 1 << 20, `${row.bytesRead} bytes read`);
  });

  it('a 100 GB sparse JPEG cut in its scan is found without a search of all of it, not hashed', async () => {
    const file = path.join(dir, 'cut.jpg');
    const jpg = makeJpeg(64, 64, 2);
    fs.writeFileSync(file, jpg.subarray(0, jpg.length - 100));
    fs.truncateSync(file, HUGE);
    const row = await probeImage(file, 'cut.jpg', newScratch());
    assert.equal(row.status, 'unreadable');
    assert.equal(row.reason, 'truncated JPEG (no end-of-image marker)');
    assert.equal(row.hash, null);
    assert.ok(row.bytesRead <= 1 << 20, `${row.bytesRead} bytes read`);
  });

  it('a cancel stops the hash of a big file between chunks, with no row', async () => {
    const file = path.join(dir, 'big.png');
    const png = makePng(16, 16, 2);
    // A valid PNG start and a valid end, 2 GB of sparse zeros between: the checks pass, the hash must read it all.
    fs.writeFileSync(file, png.subarray(0, png.length - 12));
    fs.truncateSync(file, 2e9);
    fs.appendFileSync(file, png.subarray(png.length - 12));
    const controller = new AbortController();
    const pending = probeImage(file, 'big.png', newScratch(), controller.signal);
    setTimeout(() => controller.abort(), 50);
    assert.equal(await pending, CANCELLED_PROBE);
  });

  it('real PNG and JPEG files still register with the xxHash64 of the whole file', async () => {
    const api = await xxhash();
    for (const [name, bytes] of [['a.png', makePng(40, 30, 3)], ['b.jpg', makeJpeg(40, 30, 4)]] as const) {
      const file = path.join(dir, name);
      fs.writeFileSync(file, bytes);
      const row = await probeImage(file, name, newScratch());
      assert.equal(row.status, 'ok', row.reason ?? '');
      assert.deepEqual([row.width, row.height, row.bytesRead], [40, 30, bytes.length]);
      assert.equal(row.hash, api.h64Raw(new Uint8Array(bytes)).toString(16).padStart(16, '0'));
    }
  });
});
