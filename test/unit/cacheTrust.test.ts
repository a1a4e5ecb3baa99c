import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { cacheFileFor, scanDataset, snapshotFiles, type ScanDatasetResult } from '../../src/core';
import { CACHE_FORMAT_VERSION, decodeCache, encodeCache, HEADER_REWRITE_OFFSET, rewriteHeader } from '../../src/core/cache/format';
import { afterRacyWindow, buildTree, removeDir, tempDir } from '../helpers/tmp';

const DAY = 24 * 3_600_000;

describe('scan cache: the header is trusted only when its checksum holds', () => {
  let root: string;
  let store: string;
  let file: string;
  let expected: string[];
  const scan = (): Promise<ScanDatasetResult> => scanDataset({ root, storeDir: store, hooks: { now: afterRacyWindow } });
  const files = (r: ScanDatasetResult): string[] => [...snapshotFiles(r.cache.snapshot)].sort();

  beforeEach(async () => {
    root = tempDir('trust-root');
    store = tempDir('trust-store');
    buildTree(root, 6, 3);
    const first = await scan();
    expected = files(first);
    file = cacheFileFor(store, root);
  });
  afterEach(() => {
    removeDir(root);
    removeDir(store);
  });

  it('a verifiedAt edited in the file (same length, so only a checksum can tell) is a corrupt cache: full scan', async () => {
    const buf = fs.readFileSync(file);
    const text = buf.toString('latin1');
    const m = /"verifiedAt":(\d+)/.exec(text);
    assert.ok(m);
    const crafted = String(9 * 10 ** (m[1].length - 1) + 1).padEnd(m[1].length, '9'); // far in the future, same digits
    buf.write(crafted, m.index + '"verifiedAt":'.length, 'latin1');
    fs.writeFileSync(file, buf);
    const r = await scan();
    assert.equal(r.report.mode, 'full');
    assert.match(r.report.reason, /header checksum mismatch/);
    assert.deepEqual(files(r), expected);
  });

  it('a well-formed verify time ahead of this clock (a skewed machine) does not postpone the verify', async () => {
    const { header, snapshot } = decodeCache(fs.readFileSync(file));
    fs.writeFileSync(file, encodeCache({ ...header, verifiedAt: Date.now() + 365 * DAY }, snapshot));
    const r = await scan();
    assert.equal(r.report.mode, 'verify');
    assert.match(r.report.reason, /ahead of this clock/);
    assert.equal((await scan()).report.mode, 'quick', 'the verify dated the cache by this clock');
  });

  it('a header rewrite torn half-way is a corrupt cache, never a wrong one', async () => {
    const buf = fs.readFileSync(file);
    const { header } = decodeCache(buf);
    const replacement = rewriteHeader(buf, { ...header, scannedAt: header.scannedAt + 1, verifiedAt: Date.now() + DAY });
    assert.ok(replacement);
    const fd = fs.openSync(file, 'r+');
    // The new checksum and the start of the new JSON reached the disk; the new times did not.
    const cut = replacement.indexOf('"scannedAt"');
    fs.writeSync(fd, replacement, 0, cut, HEADER_REWRITE_OFFSET);
    fs.closeSync(fd);
    const r = await scan();
    assert.equal(r.report.mode, 'full');
    assert.match(r.report.reason, /corrupt/);
    assert.deepEqual(files(r), expected);
  });

  it('a version-1 cache (no header checksum) is read once, then rewritten as the current version', async () => {
    const buf = fs.readFileSync(file);
    assert.equal(buf.readUInt32LE(8), CACHE_FORMAT_VERSION);
    // Version 1 had no header CRC nor extras: the same file without those four bytes, and without
    // the extras' length in its header (blanked: the header is padded with spaces anyway).
    const v1 = Buffer.concat([buf.subarray(0, 16), buf.subarray(20)]);
    v1.writeUInt32LE(1, 8);
    const at = v1.indexOf('"extraBytes":0,');
    assert.ok(at > 0);
    v1.fill(0x20, at, at + '"extraBytes":0,'.length);
    fs.writeFileSync(file, v1);
    const r = await scan();
    assert.equal(r.report.mode, 'quick', 'an upgrade does not cost a full rescan');
    // It knew no folder's problems nor links: every folder is listed again, once.
    assert.equal(r.report.dirsRead, r.report.dirs);
    assert.deepEqual(files(r), expected);
    assert.equal(fs.readFileSync(file).readUInt32LE(8), CACHE_FORMAT_VERSION);
    assert.equal((await scan()).report.mode, 'quick');
  });
});
