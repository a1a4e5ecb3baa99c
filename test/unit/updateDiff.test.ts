import * as assert from 'node:assert/strict';
import { diffSnapshot, updateDiff, type DatasetDiff } from '../../src/core/registry/diff';
import type { RegisteredIndex } from '../../src/core/registry/registry';
import type { Snapshot } from '../../src/core/types';

/** A registered index of `paths` (every 7th unreadable, every 14th of those to retry), as loadIndex builds it without stats. */
function indexOf(paths: string[]): RegisteredIndex {
  const byDir = new Map<string, Map<string, number>>();
  const dirOf: string[] = [];
  const nameOf: string[] = [];
  const unreadable = new Uint8Array(paths.length);
  const retry = new Uint8Array(paths.length);
  paths.forEach((p, i) => {
    const slash = p.lastIndexOf('/');
    const dir = slash < 0 ? '' : p.slice(0, slash);
    const name = p.slice(slash + 1);
    let m = byDir.get(dir);
    if (!m) byDir.set(dir, (m = new Map<string, number>()));
    m.set(name, i);
    dirOf.push(dir);
    nameOf.push(name);
    if (i % 7 === 3) unreadable[i] = 1;
    if (i % 14 === 3) retry[i] = 1;
  });
  return { count: paths.length, byDir, dirOf, nameOf, unreadable, retry, size: null, mtimeMs: null };
}

function snapshotOf(paths: Iterable<string>): Snapshot {
  const snap: Snapshot = new Map();
  for (const p of paths) {
    const slash = p.lastIndexOf('/');
    const dir = slash < 0 ? '' : p.slice(0, slash);
    let rec = snap.get(dir);
    if (!rec) snap.set(dir, (rec = { stamp: null, racy: false, files: [], subdirs: [] }));
    rec.files.push(p.slice(slash + 1));
  }
  return snap;
}

/** A diff's content with its lists as sets (the update appends where the full pass lists in folder order). */
function canonical(d: DatasetDiff): Record<string, unknown> {
  return { ...d, newFiles: [...d.newFiles].sort(), missing: [...d.missing].sort(), unreadablePaths: [...d.unreadablePaths].sort(), retry: [...d.retry].sort() };
}

describe('updateDiff: a watcher batch compared path by path', () => {
  it('after random batches of creations, deletions and restorations equals a full diff of the snapshot', () => {
    let seed = 0x51ed_2701;
    const rand = (n: number): number => {
      seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
      return seed % n;
    };
    const universe: string[] = [];
    for (let d = 0; d < 12; d++) for (let f = 0; f < 25; f++) universe.push(`${d % 3 === 0 ? '' : `cam${d % 3}/`}day${d}/img${f}.png`);
    universe.push('top.png', 'top2.png');
    const index = indexOf(universe.filter((_, i) => i % 2 === 0));
    const onDisk = new Set(universe.filter((_, i) => i % 5 !== 0));
    let diff = diffSnapshot(snapshotOf(onDisk), index);
    assert.ok(diff.missing.length > 0 && diff.newFiles.length > 0 && diff.unreadablePaths.length > 0 && diff.retry.length > 0);
    let incremental = 0;
    for (let round = 0; round < 60; round++) {
      const touched: string[] = [];
      for (let k = rand(20); k >= 0; k--) {
        const p = universe[rand(universe.length)];
        if (onDisk.has(p)) onDisk.delete(p);
        else onDisk.add(p);
        touched.push(p);
      }
      const snapshot = snapshotOf([...onDisk].sort(() => rand(3) - 1));
      const updated = updateDiff(diff, snapshot, index, touched);
      assert.ok(updated, 'no stats, no external registry: the batch is compared path by path');
      incremental++;
      const full = diffSnapshot(snapshot, index);
      assert.deepEqual(canonical(updated), canonical(full), `round ${round}`);
      diff = updated;
    }
    assert.equal(incremental, 60);
  });

  it('leaves a diff with file stats or an external registry to the full pass', () => {
    const index = indexOf(['a/x.png']);
    const snapshot = snapshotOf(['a/x.png', 'a/y.png']);
    const diff = diffSnapshot(snapshot, index);
    assert.equal(updateDiff(diff, snapshot, { ...index, size: new Float64Array(1), mtimeMs: new Float64Array(1) }, ['a/y.png']), null);
    assert.equal(updateDiff(diff, snapshot, index, ['a/y.png'], new Set(['a/y.png'])), null);
    assert.notEqual(updateDiff(diff, snapshot, index, ['a/y.png']), null);
  });
});
