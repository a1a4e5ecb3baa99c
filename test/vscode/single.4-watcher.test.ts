// The watcher path: files written or deleted on disk reach the tree and the status bar from
// VS Code's file events, applied to the snapshot in memory — no rescan — unless the events cannot
// be placed (a folder the index does not know), which falls back to a quick rescan.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { DatasetIndexApi } from '../../src/extension/extension';
import { makePng } from '../helpers/images';
import {
  api, children, findChild, freshIndex, groupCount, groups, imagesOnDisk, recordFileEvents, run, waitFor, watcherLive, workspaceRoot,
} from './helpers';

const BURST = 1000;

/** The scan cache file: every scan rewrites it (atomically, a new inode); file events never do. */
function cacheStamp(storeDir: string): string {
  const name = fs.readdirSync(storeDir).find((f) => f.endsWith('.dsxcache'));
  assert.ok(name, 'a scan cache in the store');
  const st = fs.statSync(path.join(storeDir, name));
  return `${st.ino}:${st.mtimeMs}`;
}

/** Waits until New counts `expected`; a timeout says how far it got and which batches were applied. */
async function waitForNew(a: DatasetIndexApi, expected: number, rec: ReturnType<typeof recordFileEvents>, intervalMs = 50): Promise<void> {
  let seen: number | null = null;
  try {
    await waitFor(async () => (seen = await groupCount(a, 'New')) === expected, `New (${expected})`, 30_000, intervalMs);
  } catch (err) {
    throw new Error(`${(err as Error).message}; New counts ${seen}; batches applied: ${JSON.stringify(rec.events)}`, { cause: err });
  }
}

describe('file watcher: tree and status bar follow the disk without a rescan', function () {
  this.timeout(180_000);
  let a: DatasetIndexApi;
  let root: string;
  let storeDir: string;
  let base: number;
  const target = 'camera1/day1';
  const burstNames = Array.from({ length: BURST }, (_, i) => `burst${String(i).padStart(4, '0')}.png`);
  const newFolder = 'camera1/day1/extra';
  const movedFolder = 'camera0/moved-in';

  before(async () => {
    a = await api();
    root = workspaceRoot();
    storeDir = a.datasets()[0].storeDir;
    await freshIndex();
    base = imagesOnDisk(root).length;
    assert.equal(await groupCount(a, 'New'), base);
    const ms = await watcherLive(a, path.join(root, target), () => makePng(8, 8, 4242));
    console.log(`      (watcher live ${ms} ms after the index)`);
  });

  after(async () => {
    for (const name of burstNames) fs.rmSync(path.join(root, target, name), { force: true });
    fs.rmSync(path.join(root, newFolder), { recursive: true, force: true });
    fs.rmSync(path.join(root, movedFolder), { recursive: true, force: true });
    await run('datasetIndex.indexImages');
    await waitFor(async () => (await groupCount(a, 'New')) === imagesOnDisk(root).length, 'the tree back to the disk after cleanup');
  });

  it(`${BURST.toLocaleString()} new files in a known folder show up in New and the status bar, with no rescan`, async () => {
    const cacheBefore = cacheStamp(storeDir);
    const rec = recordFileEvents(a, root);
    const expected = base + BURST;
    const started = Date.now();
    for (let i = 0; i < BURST; i++) fs.writeFileSync(path.join(root, target, burstNames[i]), makePng(8, 8, 10_000 + i));
    const written = Date.now();
    try {
      await waitForNew(a, expected, rec, 20);
      const shown = Date.now();
      await waitFor(() => a.statusBarText().includes(`${expected.toLocaleString()} new`), `status bar "${expected.toLocaleString()} new"`, 5_000);
      console.log(
        `      (burst of ${BURST} files: written in ${written - started} ms, in the tree ${shown - started} ms after the first write ` +
          `(${shown - written} ms after the last), in ${rec.events.length} event batch(es))`,
      );
      await waitFor(() => rec.events.reduce((s, e) => s + e.added, 0) >= BURST, 'the applied events to add up');
      assert.deepEqual(rec.events.filter((e) => e.rescan !== null), [], 'no batch fell back to a rescan');
      assert.equal(rec.events.reduce((s, e) => s + e.added, 0), BURST);
      assert.equal(cacheStamp(storeDir), cacheBefore, 'the scan cache was not rewritten: no scan ran');
      const folder = await findChild(a, (await groups(a)).get('New')!.node, 'camera1', 'day1');
      assert.equal(folder.item.description, (5 + BURST).toLocaleString());
      assert.equal(a.view.badge?.value, expected);
    } finally {
      rec.dispose();
    }
  });

  it('deleting some of them lowers New the same way', async () => {
    const cacheBefore = cacheStamp(storeDir);
    const rec = recordFileEvents(a, root);
    const gone = burstNames.slice(0, 100);
    for (const name of gone) fs.rmSync(path.join(root, target, name));
    const expected = base + BURST - gone.length;
    try {
      await waitForNew(a, expected, rec);
      await waitFor(() => a.statusBarText().includes(`${expected.toLocaleString()} new`), 'the status bar');
      await waitFor(() => rec.events.reduce((s, e) => s + e.removed, 0) >= gone.length, 'the applied events to add up');
      assert.deepEqual(rec.events.filter((e) => e.rescan !== null), []);
      assert.equal(rec.events.reduce((s, e) => s + e.removed, 0), gone.length);
      assert.equal(cacheStamp(storeDir), cacheBefore, 'no scan ran');
      assert.equal(await groupCount(a, 'Missing'), 0, 'never registered, so not missing');
    } finally {
      rec.dispose();
    }
  });

  it('images in a new subfolder make the watcher fall back to a quick rescan, and the tree ends right', async () => {
    const cacheBefore = cacheStamp(storeDir);
    const rec = recordFileEvents(a, root);
    fs.mkdirSync(path.join(root, newFolder));
    for (let i = 0; i < 7; i++) fs.writeFileSync(path.join(root, newFolder, `x${i}.png`), makePng(12, 12, 20_000 + i));
    const expected = imagesOnDisk(root).length;
    assert.equal(expected, base + BURST - 100 + 7);
    try {
      const rescan = await waitFor(() => rec.events.find((e) => e.rescan !== null), 'an event batch that asks for a rescan', 30_000);
      assert.match(rescan.rescan!, /extra.*the index does not know/);
      await waitFor(async () => (await groupCount(a, 'New')) === expected, `New (${expected})`, 30_000);
      assert.notEqual(cacheStamp(storeDir), cacheBefore, 'a scan ran and saved the cache');
      const extra = await findChild(a, (await groups(a)).get('New')!.node, 'camera1', 'day1', 'extra');
      assert.equal(extra.item.description, '7');
      assert.match(a.statusBarText(), new RegExp(`${expected.toLocaleString()} new`));
    } finally {
      rec.dispose();
    }
  });

  // The watcher hears one event for a folder moved in, none for the files in it (and on Linux, files
  // written right after a mkdir can come before the folder is watched): the folder alone must be enough.
  it('a folder of images moved in (one event for the folder, none for its files) makes a quick rescan, and the tree ends right', async () => {
    const outside = fs.mkdtempSync(path.join(path.dirname(root), 'dsx-moved-'));
    const batch = path.join(outside, 'batch');
    fs.mkdirSync(batch);
    for (let i = 0; i < 5; i++) fs.writeFileSync(path.join(batch, `m${i}.png`), makePng(10, 10, 30_000 + i));
    const rec = recordFileEvents(a, root);
    const before = imagesOnDisk(root).length;
    fs.renameSync(batch, path.join(root, movedFolder));
    fs.rmSync(outside, { recursive: true, force: true });
    const expected = before + 5;
    try {
      const rescan = await waitFor(() => rec.events.find((e) => e.rescan !== null), 'an event batch that asks for a rescan', 30_000);
      assert.match(rescan.rescan!, /moved-in.*the index does not know/);
      await waitFor(async () => (await groupCount(a, 'New')) === expected, `New (${expected})`, 30_000);
      const moved = await findChild(a, (await groups(a)).get('New')!.node, 'camera0', 'moved-in');
      assert.equal(moved.item.description, '5');
    } finally {
      rec.dispose();
    }
  });

  it('an Index Images afterwards agrees with what the watcher showed', async () => {
    const [r] = await run('datasetIndex.indexImages');
    assert.equal(r.mode, 'quick');
    assert.equal(r.files, imagesOnDisk(root).length);
    assert.equal(r.new, imagesOnDisk(root).length);
    assert.equal(await groupCount(a, 'New'), r.new);
  });
});

describe('file watcher on registered images: in-place edits → Changed, deletions → Missing', function () {
  this.timeout(120_000);
  let a: DatasetIndexApi;
  let root: string;
  let total: number;
  const edited = 'camera0/day0/img0.png';
  const deleted = 'camera0/day0/img2.png';
  let deletedBytes: Buffer;

  before(async () => {
    a = await api();
    root = workspaceRoot();
    await freshIndex();
    await vscode.commands.executeCommand('datasetIndex.registerNew');
    total = imagesOnDisk(root).length;
    assert.equal(await groupCount(a, 'Registered'), total);
    deletedBytes = fs.readFileSync(path.join(root, deleted));
    await watcherLive(a, path.join(root, 'camera1/day3'), () => makePng(8, 8, 4244));
  });

  after(async () => {
    if (!fs.existsSync(path.join(root, deleted))) fs.writeFileSync(path.join(root, deleted), deletedBytes);
    await run('datasetIndex.indexImages');
  });

  it('an image rewritten in place moves from Registered to Changed', async () => {
    const rec = recordFileEvents(a, root);
    fs.writeFileSync(path.join(root, edited), makePng(50, 30, 31_337));
    try {
      await waitFor(async () => (await groupCount(a, 'Changed')) === 1, 'Changed (1)');
      assert.ok(rec.events.some((e) => e.changed === 1 && e.rescan === null));
      assert.equal(await groupCount(a, 'New'), 0);
      assert.equal(await groupCount(a, 'Registered'), total, 'a changed image is still registered');
      const img = await findChild(a, (await groups(a)).get('Changed')!.node, 'camera0', 'day0', 'img0.png');
      assert.equal(img.item.contextValue, 'image-changed');
      assert.equal((img.item.command?.arguments?.[0] as vscode.Uri).fsPath, path.join(root, edited));
      assert.match(a.statusBarText(), /\b1 new\b/, 'the status bar counts new and changed');
      assert.equal(a.view.badge?.value, 1);
    } finally {
      rec.dispose();
    }
  });

  it('a deleted registered image shows under Missing, without a thumbnail or an open command', async () => {
    const rec = recordFileEvents(a, root);
    fs.rmSync(path.join(root, deleted));
    try {
      await waitFor(async () => (await groupCount(a, 'Missing')) === 1, 'Missing (1)');
      assert.ok(rec.events.some((e) => e.removed === 1 && e.rescan === null));
      assert.equal(await groupCount(a, 'Registered'), total - 1);
      const img = await findChild(a, (await groups(a)).get('Missing')!.node, 'camera0', 'day0', 'img2.png');
      assert.equal(img.item.contextValue, 'image-missing');
      assert.ok(img.item.iconPath instanceof vscode.ThemeIcon && img.item.iconPath.id === 'diff-removed');
      assert.equal(img.item.command, undefined, 'nothing to open');
    } finally {
      rec.dispose();
    }
  });

  // SKIPPED, src bug (reported): resolveTreeItem (src/extension/datasetTree.ts) writes
  // "gone from disk" only when the image has no registry row, but a Missing image is by
  // definition a registered one: its tooltip says "registered <date>" like any other and never
  // that the file is gone. Unskip once fixed.
  it('the tooltip of a Missing image says it is gone from disk', async () => {
    const img = await findChild(a, (await groups(a)).get('Missing')!.node, 'camera0', 'day0', 'img2.png');
    const source = new vscode.CancellationTokenSource();
    const tip = (await a.tree.resolveTreeItem(img.item, img.node, source.token))?.tooltip;
    assert.ok(tip instanceof vscode.MarkdownString);
    assert.match(tip.value, /gone from disk/);
  });

  it('Register New Images registers the changed image again; the missing one stays missing', async () => {
    const [r] = await vscode.commands.executeCommand<{ registered: number }[]>('datasetIndex.registerNew');
    assert.equal(r.registered, 1);
    assert.deepEqual((await children(a)).map((c) => c.label), ['New (0)', 'Changed (0)', 'Missing (1)', `Registered (${total - 1})`, 'Similar']);
  });
});
