import * as assert from 'node:assert/strict';
import { decodeCache, encodeCache, CacheFormatError, type CacheHeader } from '../../src/core/cache/format';
import type { Snapshot } from '../../src/core';

const header: CacheHeader = {
  root: '/data', optionsKey: '{}', toolVersion: '0.0.0', complete: true, scannedAt: 1, verifiedAt: 2, savedAt: 3,
  lastMode: 'verify', lastDurationMs: 4, dirs: 3, files: 3,
};

describe('scan cache format', () => {
  it('round-trips stamps, racy flags, pending directories, per-file stats and odd names', () => {
    const snapshot: Snapshot = new Map([
      ['', { stamp: { mtimeNs: 1700000000123456789n, ctimeNs: -5n, ino: 2n ** 62n, dev: 66306n }, racy: true, files: ['a.png', 'b\nc.jpg'], subdirs: ['été', 'pending'] }],
      ['été', { stamp: { mtimeNs: 1n, ctimeNs: 2n, ino: 3n, dev: 4n }, racy: false, files: ['😺.webp'], subdirs: [], stats: Float64Array.of(10, 1700000000123.25, 99) }],
      ['pending', { stamp: null, racy: false, files: [], subdirs: [], stats: new Float64Array(0) }],
    ]);
    snapshot.get('')!.stats = Float64Array.of(NaN, NaN, NaN, 0, 0, 1);
    const decoded = decodeCache(encodeCache(header, snapshot));
    assert.deepEqual(decoded.header, header);
    // Typed arrays with NaN never compare equal element-wise: compare their contents as plain arrays.
    const plain = (snap: Snapshot): unknown[] => [...snap].map(([rel, rec]) => [rel, { ...rec, stats: rec.stats && Array.from(rec.stats) }]);
    assert.deepEqual(plain(decoded.snapshot), plain(snapshot));
  });

  it('round-trips an empty snapshot', () => {
    const decoded = decodeCache(encodeCache(header, new Map()));
    assert.equal(decoded.snapshot.size, 0);
  });

  it('rejects every truncation and a flipped byte anywhere in the file, header included', () => {
    const snapshot: Snapshot = new Map([['', { stamp: null, racy: false, files: ['x.png'], subdirs: [] }]]);
    const buf = encodeCache(header, snapshot);
    for (let len = 0; len < buf.length; len++) {
      assert.throws(() => decodeCache(buf.subarray(0, len)), CacheFormatError, `length ${len}`);
    }
    for (let at = 0; at < buf.length; at++) {
      const bad = Buffer.from(buf);
      bad[at] ^= 0x01;
      assert.throws(() => decodeCache(bad), CacheFormatError, `byte ${at}`);
    }
  });
});

describe('scan cache with hostile content', () => {
  it('a header that parses as null, or with wrong types, is a corrupt cache (a full scan), never a crash', async () => {
    const { loadCache } = await import('../../src/core/cache/store');
    const fsm = await import('node:fs');
    const os = await import('node:os');
    const p = await import('node:path');
    const dir = fsm.mkdtempSync(p.join(os.tmpdir(), 'dsx-hostile-'));
    try {
      for (const json of ['null', '"x"', '{"root":5}', '{"root":"/r","optionsKey":"k","complete":true,"scannedAt":0,"verifiedAt":0,"savedAt":0,"dirs":0,"files":0,"layout":null}']) {
        const body = Buffer.from(json);
        const head = Buffer.alloc(16);
        Buffer.from('DSXSCAN\n', 'latin1').copy(head);
        head.writeUInt32LE(1, 8);
        head.writeUInt32LE(body.length, 12);
        const file = p.join(dir, 'c.dsxcache');
        fsm.writeFileSync(file, Buffer.concat([head, body]));
        const load = await loadCache(file, '/r', { extensions: ['png'], exclude: [], followSymlinks: false });
        if (load.kind !== 'miss') throw new Error(`accepted ${json}`);
        if (!/corrupt/.test(load.reason)) throw new Error(load.reason);
      }
    } finally {
      fsm.rmSync(dir, { recursive: true, force: true });
    }
  });
});
