// The engine worker seen from the extension host: pages instead of path lists, a watcher burst that
// refreshes only the rows it changed, operations that show in the status bar and can be cancelled,
// and a settings change that aborts the scan of the dataset it replaces.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { DatasetIndexApi, OperationEndEvent } from '../../src/extension/extension';
import type { Node } from '../../src/extension/datasetTree';
import { makePng } from '../helpers/images';
import { api, children, findChild, freshIndex, groupCount, groups, imagesOnDisk, run, waitFor, watcherLive, workspaceRoot } from './helpers';

type Ended = OperationEndEvent;

function recordEnds(a: DatasetIndexApi): { ends: Ended[]; dispose(): void } {
  const ends: Ended[] = [];
  const sub = a.onDidEndOperation((e) => {
    ends.push(e);
  });
  return {
    ends,
    dispose: () => {
      sub.dispose();
    },
  };
}

describe('engine worker: pages, row refreshes, operations', function () {
  this.timeout(240_000);
  let a: DatasetIndexApi;
  let root: string;
  const pagedDir = 'paged';
  const PAGED = 3000;
  let pngs = 0;
  /** Many empty folders: a full scan long enough to be seen running and cancelled. */
  const slowDir = 'zz-many-folders';
  const FOLDERS = 20_000;
  const cfg = (): vscode.WorkspaceConfiguration => vscode.workspace.getConfiguration('datasetIndex', vscode.workspace.workspaceFolders![0].uri);

  before(async () => {
    a = await api();
    root = workspaceRoot();
    const png = makePng(2, 2, 5);
    fs.mkdirSync(path.join(root, pagedDir));
    for (let i = 0; i < PAGED; i++) fs.writeFileSync(path.join(root, pagedDir, `q${i}.png`), png);
    await freshIndex();
    await waitFor(async () => (await groupCount(a, 'New')) === imagesOnDisk(root).length, 'New counts every image');
    // Counted now: later a recursive walk of the many folders would block the extension host.
    pngs = imagesOnDisk(root, /\.png$/i).length;
  });

  after(async () => {
    await cfg().update('imageExtensions', undefined, vscode.ConfigurationTarget.WorkspaceFolder);
    fs.rmSync(path.join(root, pagedDir), { recursive: true, force: true });
    fs.rmSync(path.join(root, slowDir), { recursive: true, force: true });
    await waitFor(async () => {
      await run('datasetIndex.indexImages');
      return (await groupCount(a, 'New')) === imagesOnDisk(root).length;
    }, 'the tree back to the disk after cleanup', 120_000, 500);
  });

  it('the test API exists: the suite runs in ExtensionMode.Test (test hooks are off in any other mode)', () => {
    assert.equal(typeof a.busy, 'function');
  });

  it(`a folder of ${PAGED.toLocaleString()} images comes from the engine one page at a time`, async () => {
    const before = a.engineCalls().children ?? 0;
    const folder = await findChild(a, (await groups(a)).get('New')!.node, pagedDir);
    assert.equal(folder.item.description, PAGED.toLocaleString());
    const shown = await children(a, folder.node);
    assert.equal(shown.length, 201, '200 images and "Show more…"');
    assert.deepEqual(shown.slice(0, 3).map((s) => s.label), ['q0.png', 'q1.png', 'q2.png']);
    assert.equal(shown[200].label, `Show more… (${(PAGED - 200).toLocaleString()} more)`);
    // One request per level asked: the group's top level, then the folder's page.
    assert.equal((a.engineCalls().children ?? 0) - before, 2);
  });

  it('thumbnails are made in the engine worker: after icons and a tooltip were drawn, the extension host has not loaded sharp', async () => {
    const asked = a.engineCalls().thumbnail ?? 0;
    const day = await findChild(a, (await groups(a)).get('New')!.node, 'camera0', 'day0');
    const rows = (await children(a, day.node)).filter((r) => (r.node as { kind: string }).kind === 'image');
    assert.ok(rows.length > 0);
    for (const row of rows) {
      await waitFor(() => a.tree.getTreeItem(row.node).iconPath instanceof vscode.Uri, `a thumbnail icon for ${row.label}`, 60_000, 100);
    }
    const tip = (await a.tree.resolveTreeItem(rows[0].item, rows[0].node, new vscode.CancellationTokenSource().token))?.tooltip;
    assert.ok(tip instanceof vscode.MarkdownString && /-256\.webp/.test(tip.value), 'the tooltip shows its 256-px thumbnail');
    assert.ok((a.engineCalls().thumbnail ?? 0) > asked, 'the thumbnails were asked of the engine');
    // This test file and those before it do not load sharp themselves (single.9-similar loads it later, lazily).
    const sharpInHost = Object.keys(require.cache).filter((k) => /[\\/]node_modules[\\/]sharp[\\/]|sharp[^\\/]*\.node$/.test(k));
    assert.deepEqual(sharpInHost, [], 'sharp is not loaded on the extension host\'s thread');
  });

  it('a watcher burst fires only the rows it changed (the New row and the folder rows above the files), never the whole tree', async () => {
    const target = 'camera1/day1';
    await watcherLive(a, path.join(root, target), () => makePng(8, 8, 4245));
    const newGroup = (await groups(a)).get('New')!;
    // Rows the view has shown (and so can refresh): New → camera1 → day1, and a sibling.
    const camera1 = await findChild(a, newGroup.node, 'camera1');
    const day1 = await findChild(a, camera1.node, 'day1');
    const camera0 = await findChild(a, newGroup.node, 'camera0');
    const fired: (Node | undefined)[] = [];
    const sub = a.onDidFireTreeChange((nodes) => fired.push(...nodes));
    const before = (await groupCount(a, 'New'))!;
    const names = Array.from({ length: 60 }, (_, i) => `burst-rows-${i}.png`);
    try {
      for (const [i, name] of names.entries()) fs.writeFileSync(path.join(root, target, name), makePng(6, 6, 50_000 + i));
      await waitFor(async () => (await groupCount(a, 'New')) === before + names.length, `New (${before + names.length})`, 30_000);
      assert.ok(fired.length > 0, 'something was fired');
      assert.ok(!fired.includes(undefined), 'never the whole tree');
      const set = new Set(fired);
      assert.ok(set.has(newGroup.node), 'the New row (its count)');
      assert.ok(set.has(camera1.node) && set.has(day1.node), 'the folder rows above the new files');
      assert.ok(!set.has(camera0.node), 'not a folder the burst did not touch');
      assert.equal(set.size, 3, `only those rows: ${[...set].map((n) => n?.kind).join(', ')}`);
      // The same row objects, now with their new counts.
      assert.equal((await findChild(a, newGroup.node, 'camera1')).node, camera1.node);
      assert.equal((await findChild(a, camera1.node, 'day1')).item.description, String(5 + names.length));
    } finally {
      sub.dispose();
      for (const name of names) fs.rmSync(path.join(root, target, name), { force: true });
      await waitFor(async () => (await groupCount(a, 'New')) === before, 'the burst deleted again', 30_000);
    }
  });

  describe('operations', () => {
    before(async () => {
      // Made asynchronously, a hundred at a time: the test runs on the extension host's thread too.
      for (let i = 0; i < FOLDERS; i += 100) {
        const parent = path.join(root, slowDir, `d${i / 100}`);
        await fs.promises.mkdir(parent, { recursive: true });
        await Promise.all(Array.from({ length: 100 }, (_, k) => fs.promises.mkdir(path.join(parent, `e${i + k}`))));
      }
      await run('datasetIndex.indexImages');
    });

    it('a background index (after a settings change) shows in the status bar and is cancelled by the Cancel command, with a user command waiting behind it', async () => {
      const rec = recordEnds(a);
      try {
        await cfg().update('imageExtensions', ['png', 'jpg'], vscode.ConfigurationTarget.WorkspaceFolder);
        await waitFor(() => a.busy(), 'the background index to run', 20_000, 5);
        assert.match(a.statusBarText(), /indexing/);
        // A user's Index Images waits behind the running background scan.
        const user = run('datasetIndex.indexImages');
        await waitFor(() => a.waiting() > 0, 'the user command to wait behind the background index', 20_000, 5);
        // Other background work may have ended before (the watcher's rescan of the new folders): what counts is what ends next.
        const mark = rec.ends.length;
        await vscode.commands.executeCommand('datasetIndex.cancel');
        const [r] = await user;
        assert.equal(r.cancelled, true, 'the waiting command was dropped by Cancel');
        const bg = await waitFor(() => rec.ends.slice(mark).find((e) => e.background && e.request.kind === 'index'), 'the background index to end');
        assert.equal(bg.cancelled, true, `the running scan was cancelled (${JSON.stringify(rec.ends)})`);
        await waitFor(() => !a.busy(), 'nothing running');
        assert.doesNotMatch(a.statusBarText(), /indexing/);
      } finally {
        rec.dispose();
      }
    });

    it('a settings change during a scan aborts the scan of the dataset it replaces, and the new one rescans', async () => {
      const rec = recordEnds(a);
      try {
        // The setting must land while the forced scan runs; on a loaded machine the scan can end
        // first (then nothing was there to abort): undo the setting and try again, up to 3 times.
        let r: Awaited<ReturnType<typeof run>>[number] | undefined;
        for (let attempt = 1; attempt <= 3; attempt++) {
          const started = Date.now();
          let ended = 0;
          const user = run('datasetIndex.forceRescan').then((x) => {
            ended = Date.now();
            return x;
          });
          await waitFor(() => a.busy(), 'the scan to run', 20_000, 5);
          const changing = Date.now();
          await cfg().update('imageExtensions', ['png'], vscode.ConfigurationTarget.WorkspaceFolder);
          [r] = await user;
          console.log(`      (attempt ${attempt}: scan started ${changing - started} ms before the setting changed; its command ended after ${ended - started} ms)`);
          if (r.cancelled || attempt === 3) break;
          await cfg().update('imageExtensions', undefined, vscode.ConfigurationTarget.WorkspaceFolder);
          await waitFor(() => !a.busy(), 'the background index after the undo', 120_000, 50);
        }
        assert.equal(r?.cancelled, true, `the replaced dataset's scan was aborted (${JSON.stringify(r)})`);
        await waitFor(async () => (await groupCount(a, 'New')) === pngs, `New (${pngs}) after the background rescan`, 120_000, 200);
        assert.ok(rec.ends.some((e) => !e.background && e.cancelled), 'the user scan ended cancelled');
        assert.ok(rec.ends.some((e) => e.background && !e.cancelled), 'the new dataset indexed in the background');
      } finally {
        rec.dispose();
      }
    });
  });
});
