// Settings changes reach a running extension: scan-shaping settings (imageExtensions) start the
// dataset over with a background full scan; `watch` turns the file watcher off and on.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { cacheFileFor, readCacheHeader } from '../../src/core';
import type { DatasetIndexApi } from '../../src/extension/extension';
import { makePng } from '../helpers/images';
import {
  api, children, findChild, freshIndex, groupCount, groups, imagesOnDisk, recordFileEvents, run, sleep, waitFor, watcherLive, workspaceRoot,
} from './helpers';

const PNG = /\.png$/i;

describe('settings changes', function () {
  this.timeout(120_000);
  let a: DatasetIndexApi;
  let root: string;
  let folder: vscode.WorkspaceFolder;
  const cfg = (): vscode.WorkspaceConfiguration => vscode.workspace.getConfiguration('datasetIndex', folder.uri);
  const written: string[] = [];

  before(async () => {
    a = await api();
    root = workspaceRoot();
    folder = vscode.workspace.workspaceFolders![0];
    await freshIndex();
    assert.equal(await groupCount(a, 'New'), imagesOnDisk(root).length);
  });

  after(async () => {
    await cfg().update('imageExtensions', undefined, vscode.ConfigurationTarget.WorkspaceFolder);
    await cfg().update('watch', undefined, vscode.ConfigurationTarget.WorkspaceFolder);
    for (const f of written) fs.rmSync(f, { force: true });
    await waitFor(async () => {
      await run('datasetIndex.indexImages');
      return (await groupCount(a, 'New')) === imagesOnDisk(root).length;
    }, 'the tree back to the disk after cleanup');
  });

  it('imageExtensions ["png"] (folder scope): a background full scan, and the tree counts only PNGs', async () => {
    const pngs = imagesOnDisk(root, PNG).sort();
    assert.ok(pngs.length > 0 && pngs.length < imagesOnDisk(root).length, 'the dataset has PNGs and JPEGs');
    await cfg().update('imageExtensions', ['png'], vscode.ConfigurationTarget.WorkspaceFolder);
    // No command: the extension rescans by itself, in the background.
    await waitFor(async () => (await groupCount(a, 'New')) === pngs.length, `New (${pngs.length}) after the setting changed`, 30_000);
    assert.deepEqual((await children(a)).map((c) => c.label), [`New (${pngs.length})`, 'Changed (0)', 'Missing (0)', 'Registered (0)']);
    const [ds] = a.datasets();
    const header = await readCacheHeader(cacheFileFor(ds.storeDir, ds.root));
    assert.equal(header?.lastMode, 'full', 'new extensions invalidate the cache: a full scan');
    assert.equal(header?.files, pngs.length);
    const camera0 = await findChild(a, (await groups(a)).get('New')!.node, 'camera0');
    assert.equal(camera0.item.description, String(imagesOnDisk(path.join(root, 'camera0'), PNG).length));
    const day0 = await findChild(a, camera0.node, 'day0');
    assert.deepEqual((await children(a, day0.node)).map((c) => c.label), ['img0.png', 'img2.png', 'img4.png']);
    // The next Index Images is a quick rescan with the new options.
    const [r] = await run('datasetIndex.indexImages');
    assert.equal(r.mode, 'quick');
    assert.equal(r.files, pngs.length);
  });

  it('restoring the default extensions rescans again: the group labels count every image', async () => {
    await cfg().update('imageExtensions', undefined, vscode.ConfigurationTarget.WorkspaceFolder);
    const all = imagesOnDisk(root).length;
    await waitFor(async () => (await groupCount(a, 'New')) === all, `New (${all}) after the setting was restored`, 30_000);
    const [ds] = a.datasets();
    assert.equal((await readCacheHeader(cacheFileFor(ds.storeDir, ds.root)))?.lastMode, 'full');
  });

  // Was a bug: the tree cached group indexes by root and a version counter that a replaced dataset
  // restarted from 0, and served a stale index. Group indexes now live in the engine, keyed by the
  // dataset instance (a new key after each settings change).
  it('… and the folders below New count every image too', async () => {
    const newGroup = (await groups(a)).get('New')!;
    const camera0 = await findChild(a, newGroup.node, 'camera0');
    assert.equal(camera0.item.description, String(imagesOnDisk(path.join(root, 'camera0')).length), 'camera0 counts PNGs and JPEGs');
    const day0 = await findChild(a, camera0.node, 'day0');
    assert.deepEqual((await children(a, day0.node)).map((c) => c.label), ['img0.png', 'img1.jpg', 'img2.png', 'img3.jpg', 'img4.png']);
  });

  it('datasetIndex.watch false: a new file does not show up until Index Images', async () => {
    await cfg().update('watch', false, vscode.ConfigurationTarget.WorkspaceFolder);
    await waitFor(() => cfg().get('watch') === false, 'the setting to reach the extension host');
    const before = (await groupCount(a, 'New'))!;
    const rec = recordFileEvents(a, root);
    const file = path.join(root, 'camera0/day0/unwatched.png');
    written.push(file);
    fs.writeFileSync(file, makePng(20, 20, 777));
    // A negative result needs a wait: the watcher applies a batch within 1.2 s of its first event
    // (the test below shows it does when watching), so 4 s without anything is conclusive.
    await sleep(4000);
    rec.dispose();
    assert.deepEqual(rec.events, [], 'no file events were applied');
    assert.equal(await groupCount(a, 'New'), before);
    const [r] = await run('datasetIndex.indexImages');
    assert.equal(r.new, before + 1);
    assert.equal(await groupCount(a, 'New'), before + 1);
  });

  it('datasetIndex.watch back on: file events apply again', async () => {
    await cfg().update('watch', undefined, vscode.ConfigurationTarget.WorkspaceFolder);
    await waitFor(() => cfg().get('watch') === true, 'the setting to reach the extension host');
    const ms = await watcherLive(a, path.join(root, 'camera0/day0'), () => makePng(8, 8, 4243));
    const before = (await groupCount(a, 'New'))!;
    const rec = recordFileEvents(a, root);
    const file = path.join(root, 'camera0/day0/watched.png');
    written.push(file);
    const started = Date.now();
    fs.writeFileSync(file, makePng(20, 20, 778));
    try {
      await waitFor(async () => (await groupCount(a, 'New')) === before + 1, 'the new file in New', 20_000);
      console.log(`      (watcher live again after ${ms} ms; one file shown after ${Date.now() - started} ms)`);
      assert.ok(rec.events.some((e) => e.added === 1 && e.rescan === null));
    } finally {
      rec.dispose();
    }
  });
});
