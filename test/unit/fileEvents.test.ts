import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { applyFileEvents, resolveOptions, scanDataset, snapshotFiles, type FileEvent } from '../../src/core';
import { removeDir, tempDir, writeImage, writeText, afterRacyWindow } from '../helpers/tmp';
import { fileStatAt } from '../../src/core/scanner/fileStats';

const later = afterRacyWindow;

describe('file events applied to a snapshot', () => {
  let root: string;
  let store: string;
  beforeEach(() => {
    root = tempDir('ev-root');
    store = tempDir('ev-store');
  });
  afterEach(() => {
    removeDir(root);
    removeDir(store);
  });

  async function indexed() {
    writeImage(root, 'a/one.png');
    writeImage(root, 'a/two.png');
    writeImage(root, 'b/three.jpg');
    const { cache } = await scanDataset({ root, storeDir: store, hooks: { now: later } });
    return { snapshot: cache.snapshot, options: resolveOptions(root, store) };
  }

  it('adds created images in known folders, removes deleted ones, records changed stats — no rescan', async () => {
    const { snapshot, options } = await indexed();
    const events: FileEvent[] = [];
    for (let i = 0; i < 1000; i++) events.push({ kind: 'created', path: writeImage(root, `a/new${i}.png`) });
    fs.rmSync(path.join(root, 'b/three.jpg'));
    events.push({ kind: 'deleted', path: path.join(root, 'b/three.jpg') });
    fs.appendFileSync(path.join(root, 'a/one.png'), 'x');
    events.push({ kind: 'changed', path: path.join(root, 'a/one.png') });
    events.push({ kind: 'created', path: writeText(root, 'a/notes.txt') });
    const out = await applyFileEvents(snapshot, root, options, events);
    assert.equal(out.rescanReason, null);
    assert.equal(out.added.length, 1000);
    assert.deepEqual(out.removed, ['b/three.jpg']);
    assert.deepEqual(out.changed, ['a/one.png']);
    const files = [...snapshotFiles(snapshot)];
    assert.equal(files.length, 1002);
    const rec = snapshot.get('a')!;
    assert.equal(fileStatAt(rec.stats, rec.files.indexOf('one.png'))?.size, fs.statSync(path.join(root, 'a/one.png')).size);
    // The directory stamps were left alone: a quick scan re-reads the touched folders and agrees.
    const fresh = tempDir('ev-fresh');
    const { cache } = await scanDataset({ root, storeDir: fresh, hooks: { now: later } });
    assert.deepEqual([...snapshotFiles(cache.snapshot)].sort(), files.sort());
    removeDir(fresh);
  });

  it('in a verified folder, keeps every file\'s stats beside its name through adds, changes and deletes', async () => {
    await indexed();
    const { cache } = await scanDataset({ root, storeDir: store, verify: true, hooks: { now: later } });
    const snapshot = cache.snapshot;
    const options = resolveOptions(root, store);
    assert.ok(snapshot.get('a')?.stats);
    const events: FileEvent[] = [];
    for (let i = 0; i < 300; i++) events.push({ kind: 'created', path: writeText(root, `a/add${i}.png`, 'p'.repeat(i + 1)) });
    fs.appendFileSync(path.join(root, 'a/two.png'), 'grown');
    events.push({ kind: 'changed', path: path.join(root, 'a/two.png') });
    fs.rmSync(path.join(root, 'a/one.png'));
    events.push({ kind: 'deleted', path: path.join(root, 'a/one.png') });
    const out = await applyFileEvents(snapshot, root, options, events);
    assert.equal(out.rescanReason, null);
    const rec = snapshot.get('a')!;
    assert.equal(rec.files.length, 301);
    assert.equal(rec.stats?.length, 301 * 3);
    rec.files.forEach((name, i) => assert.equal(fileStatAt(rec.stats, i)?.size, fs.statSync(path.join(root, 'a', name)).size, name));
  });

  it('checks each event against the disk: a stale "created" for a file already gone changes nothing', async () => {
    const { snapshot, options } = await indexed();
    const out = await applyFileEvents(snapshot, root, options, [{ kind: 'created', path: path.join(root, 'a/ghost.png') }]);
    assert.deepEqual([out.added, out.removed, out.rescanReason], [[], [], null]);
  });

  it('asks for a rescan for a new folder, a deleted folder, or a flood of events', async () => {
    const { snapshot, options } = await indexed();
    const inNew = await applyFileEvents(snapshot, root, options, [{ kind: 'created', path: writeImage(root, 'c/d/x.png') }]);
    assert.match(inNew.rescanReason ?? '', /folder the index does not know/);
    const gone = await applyFileEvents(snapshot, root, options, [{ kind: 'deleted', path: path.join(root, 'b') }]);
    assert.match(gone.rescanReason ?? '', /folder b was deleted/);
    const flood = Array.from({ length: 20_001 }, (_, i) => ({ kind: 'created' as const, path: path.join(root, `a/f${i}.png`) }));
    assert.match((await applyFileEvents(snapshot, root, options, flood)).rescanReason ?? '', /20001 file events/);
  });

  it('asks for a rescan for a folder that appeared, even with no event for what is in it (moved in, or filled before it was watched)', async () => {
    const { snapshot, options } = await indexed();
    const outside = tempDir('ev-outside');
    writeImage(outside, 'batch/p1.png');
    writeImage(outside, 'batch/p2.png');
    fs.renameSync(path.join(outside, 'batch'), path.join(root, 'a/batch'));
    removeDir(outside);
    const moved = await applyFileEvents(snapshot, root, options, [{ kind: 'created', path: path.join(root, 'a/batch') }]);
    assert.match(moved.rescanReason ?? '', /folder a\/batch appeared, a folder the index does not know yet/);
    fs.mkdirSync(path.join(root, 'b/empty.png'));
    const imageNamed = await applyFileEvents(snapshot, root, options, [{ kind: 'created', path: path.join(root, 'b/empty.png') }]);
    assert.match(imageNamed.rescanReason ?? '', /folder b\/empty.png appeared/);
    // A known folder's own events (its stamp changes with every add) change nothing.
    const known = await applyFileEvents(snapshot, root, options, [{ kind: 'changed', path: path.join(root, 'a') }]);
    assert.deepEqual([known.added, known.rescanReason], [[], null]);
  });

  it('makes up for lost events from one listing of each folder the batch touched', async () => {
    const { snapshot, options } = await indexed();
    // Three images written, an event for only one; one deleted with an event, one without.
    const told = writeImage(root, 'a/told.png');
    writeImage(root, 'a/untold1.png');
    writeImage(root, 'a/untold2.png');
    writeText(root, 'a/untold.txt');
    fs.rmSync(path.join(root, 'a/one.png'));
    fs.rmSync(path.join(root, 'a/two.png'));
    writeImage(root, 'b/elsewhere.png'); // a folder the batch did not touch is not listed
    const out = await applyFileEvents(snapshot, root, options, [
      { kind: 'created', path: told },
      { kind: 'deleted', path: path.join(root, 'a/one.png') },
    ]);
    assert.equal(out.rescanReason, null);
    assert.deepEqual(out.added.sort(), ['a/told.png', 'a/untold1.png', 'a/untold2.png']);
    assert.deepEqual(out.removed.sort(), ['a/one.png', 'a/two.png']);
    assert.deepEqual([...snapshotFiles(snapshot)].sort(), ['a/told.png', 'a/untold1.png', 'a/untold2.png', 'b/three.jpg']);
  });

  it('ignores events outside the root, in excluded folders and for non-images', async () => {
    const { snapshot, options } = await indexed();
    const out = await applyFileEvents(snapshot, root, options, [
      { kind: 'created', path: path.join(root, 'node_modules') },
      { kind: 'created', path: path.join(root, 'node_modules/x') },
      { kind: 'created', path: writeImage(root, 'node_modules/x/logo.png') },
      { kind: 'created', path: '/elsewhere/y.png' },
      { kind: 'created', path: writeText(root, 'a/readme.md') },
    ]);
    assert.deepEqual([out.added, out.rescanReason], [[], null]);
  });
});
