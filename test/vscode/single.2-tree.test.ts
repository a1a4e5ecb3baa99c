// The tree after Index Images and after Register New Images, read through the real
// TreeDataProvider (getChildren / getTreeItem / resolveTreeItem) and, where it matters, as rendered.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import xxhash from 'xxhash-wasm';
import type { Node } from '../../src/extension/datasetTree';
import type { DatasetIndexApi } from '../../src/extension/extension';
import {
  api, children, findChild, freshIndex, groups, imagesOnDisk, type Shown, tooltipOf, TREE_ROWS, waitFor, waitForDomText, workspaceRoot,
} from './helpers';

const themeIconId = (item: vscode.TreeItem): string | undefined => (item.iconPath instanceof vscode.ThemeIcon ? item.iconPath.id : undefined);

/** Every image node below `parent`, checking each folder's description against the disk on the way. */
async function walkGroup(a: DatasetIndexApi, parent: Node, group: string, root: string, visit: (s: Shown, dir: string) => void): Promise<string[]> {
  const found: string[] = [];
  for (const c of await children(a, parent)) {
    if (c.node.kind === 'folder') {
      const onDisk = imagesOnDisk(path.join(root, c.node.dir)).length;
      assert.equal(c.item.description, onDisk.toLocaleString(), `count of ${c.node.dir}`);
      assert.equal(c.label, path.basename(c.node.dir));
      assert.equal(c.item.contextValue, `folder-${group}`);
      assert.equal(c.item.collapsibleState, vscode.TreeItemCollapsibleState.Collapsed);
      assert.equal(c.item.resourceUri?.fsPath, path.join(root, c.node.dir));
      found.push(...(await walkGroup(a, c.node, group, root, visit)));
    } else if (c.node.kind === 'image') {
      visit(c, c.node.rel.includes('/') ? c.node.rel.slice(0, c.node.rel.lastIndexOf('/')) : '');
      found.push(c.node.rel);
    } else {
      assert.fail(`unexpected ${c.node.kind} node "${c.label}" in ${group}`);
    }
  }
  return found;
}

describe('the tree after Index Images and Register New Images (single folder)', () => {
  let a: DatasetIndexApi;
  let root: string;
  let onDisk: string[];
  const extra: string[] = [];

  after(async () => {
    for (const f of extra) fs.rmSync(f, { force: true });
  });

  before(async () => {
    a = await api();
    root = workspaceRoot();
    await freshIndex();
    onDisk = imagesOnDisk(root).sort();
  });

  it('top level: New / Changed / Missing / Registered with counts; Unreadable and Duplicates absent when empty', async () => {
    const top = await children(a);
    assert.deepEqual(
      top.map((c) => c.label),
      [`New (${onDisk.length})`, 'Changed (0)', 'Missing (0)', 'Registered (0)'],
    );
    assert.equal(onDisk.length, 30, 'the generated dataset: 6 folders × 5 images');
    const [newGroup, changed, missing, registered] = top;
    assert.ok(top.every((c) => c.node.kind === 'group'));
    assert.deepEqual(top.map((c) => c.item.contextValue), ['group-new', 'group-changed', 'group-missing', 'group-registered']);
    assert.deepEqual(top.map((c) => themeIconId(c.item)), ['diff-added', 'diff-modified', 'diff-removed', 'pass']);
    assert.equal(newGroup.item.collapsibleState, vscode.TreeItemCollapsibleState.Collapsed);
    for (const empty of [changed, missing, registered]) assert.equal(empty.item.collapsibleState, vscode.TreeItemCollapsibleState.None, empty.label);
    assert.equal(a.view.badge?.value, onDisk.length, 'the view badge counts new images');
    assert.match(a.statusBarText(), new RegExp(`\\b${onDisk.length} new\\b`));
  });

  it('New holds folders with their counts as description, down to image items that open the image', async () => {
    const newGroup = (await groups(a)).get('New')!;
    const firstLevel = await children(a, newGroup.node);
    assert.deepEqual(firstLevel.map((c) => c.label), ['camera0', 'camera1']);
    assert.deepEqual(firstLevel.map((c) => c.item.description), ['15', '15']);
    const day0 = await findChild(a, newGroup.node, 'camera0', 'day0');
    assert.deepEqual((await children(a, day0.node)).map((c) => c.label), ['img0.png', 'img1.jpg', 'img2.png', 'img3.jpg', 'img4.png']);

    let images = 0;
    const found = await walkGroup(a, newGroup.node, 'new', root, (s, dir) => {
      images++;
      const abs = path.join(root, (s.node as { rel: string }).rel);
      assert.equal(s.label, path.basename(abs));
      assert.equal(s.item.description, dir);
      assert.equal(s.item.contextValue, 'image-new');
      assert.equal(s.item.collapsibleState, vscode.TreeItemCollapsibleState.None);
      // A thumbnail from the store once made (single.9-thumbnails waits for it), a codicon until then; never the original.
      const icon = s.item.iconPath;
      assert.ok(icon instanceof vscode.ThemeIcon ? icon.id === 'file-media' : icon instanceof vscode.Uri && icon.fsPath.endsWith('-64.webp'), `icon of ${abs}`);
      assert.equal(s.item.resourceUri?.fsPath, abs);
      assert.equal(s.item.command?.command, 'vscode.open');
      assert.equal((s.item.command?.arguments?.[0] as vscode.Uri).fsPath, abs);
    });
    assert.equal(images, onDisk.length);
    assert.deepEqual(found.sort(), onDisk, 'the New group holds exactly the images on disk');
  });

  it('the view renders the same groups', async () => {
    await vscode.commands.executeCommand('workbench.view.extension.datasetIndex');
    await waitFor(() => a.view.visible, 'the view to be visible');
    await waitForDomText(TREE_ROWS, `New (${onDisk.length})`);
    await waitForDomText(TREE_ROWS, 'Registered (0)');
  });

  it('an image opens in an editor through its command', async () => {
    const img = await findChild(a, (await groups(a)).get('New')!.node, 'camera1', 'day1', 'img0.png');
    const cmd = img.item.command!;
    await vscode.commands.executeCommand(cmd.command, ...((cmd.arguments ?? []) as unknown[]));
    const abs = path.join(root, 'camera1/day1/img0.png');
    await waitFor(
      () => vscode.window.tabGroups.all.some((g) => g.tabs.some((t) => (t.input as { uri?: vscode.Uri } | undefined)?.uri?.fsPath === abs)),
      'a tab showing the image',
    );
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('resolveTreeItem gives a Markdown tooltip with dimensions, format and size of a new image', async () => {
    const png = await findChild(a, (await groups(a)).get('New')!.node, 'camera0', 'day2', 'img0.png');
    const tip = await tooltipOf(a, png);
    const abs = path.join(root, 'camera0/day2/img0.png');
    const size = fs.statSync(abs).size;
    const shownSize = size < 1024 ? `${size} B` : `${(size / 1024).toFixed(1)} KB`;
    assert.ok(tip.includes(`48 × 32 · PNG · ${shownSize}`), `"48 × 32 · PNG · ${shownSize}" in ${tip}`);
    assert.match(tip, /not registered/);
    assert.match(tip, /!\[preview\]\([^)]*-256\.webp\|width=48\|height=32\)/, 'a preview: the 256-px thumbnail (here the image\'s own 48 × 32)');
    assert.ok(!tip.includes(vscode.Uri.file(abs).toString()), 'never the original');
    const jpg = await findChild(a, (await groups(a)).get('New')!.node, 'camera0', 'day2', 'img3.jpg');
    assert.match(await tooltipOf(a, jpg), /72 × 32 · JPG/);
  });

  it('after Register New Images: New (0), Registered (N), status bar "0 new", no badge', async () => {
    const results = await vscode.commands.executeCommand<{ registered: number }[]>('datasetIndex.registerNew');
    assert.equal(results[0].registered, onDisk.length);
    const top = await children(a);
    // Similar joins once images are registered; its groups are computed when it is expanded (single.9-similar).
    assert.deepEqual(top.map((c) => c.label), ['New (0)', 'Changed (0)', 'Missing (0)', `Registered (${onDisk.length})`, 'Similar']);
    assert.deepEqual([top[4].item.contextValue, top[4].item.description, themeIconId(top[4].item)], ['group-similar', 'expand to find near-duplicates', 'mirror']);
    assert.match(a.statusBarText(), /\b0 new\b/);
    assert.equal(a.view.badge, undefined);
    const registered = top[3];
    assert.equal(registered.item.collapsibleState, vscode.TreeItemCollapsibleState.Collapsed);
    const found = await walkGroup(a, registered.node, 'registered', root, (s) => assert.equal(s.item.contextValue, 'image-registered'));
    assert.deepEqual(found.sort(), onDisk);
    await waitForDomText(TREE_ROWS, `Registered (${onDisk.length})`);
  });

  it('after registration the tooltip shows the registered row: dimensions and the xxHash64 of the file', async () => {
    const node = await findChild(a, (await groups(a)).get('Registered')!.node, 'camera1', 'day3', 'img2.png');
    const tip = await tooltipOf(a, node);
    const hasher = await xxhash();
    const expected = hasher.h64Raw(fs.readFileSync(path.join(root, 'camera1/day3/img2.png'))).toString(16).padStart(16, '0');
    assert.match(tip, /64 × 32/);
    assert.ok(tip.includes(`xxHash64 \`${expected}\``), `hash ${expected} in ${tip}`);
    assert.match(tip, /registered /);
    assert.doesNotMatch(tip, /not registered/);
  });

  it('Unreadable and Duplicates appear once there are some', async () => {
    const dir = path.join(root, 'camera0/day0');
    fs.copyFileSync(path.join(dir, 'img0.png'), path.join(dir, 'copy.png'));
    fs.writeFileSync(path.join(dir, 'broken.png'), Buffer.alloc(0));
    extra.push(path.join(dir, 'copy.png'), path.join(dir, 'broken.png'));
    await vscode.commands.executeCommand('datasetIndex.indexImages');
    const results = await vscode.commands.executeCommand<{ registered: number; unreadable: number }[]>('datasetIndex.registerNew');
    // "registered" counts the readable rows; the empty file is registered as unreadable.
    assert.deepEqual(results.map((r) => [r.registered, r.unreadable]), [[1, 1]]);
    const n = onDisk.length + 2;
    const top = await children(a);
    assert.deepEqual(top.map((c) => c.label), ['New (0)', 'Changed (0)', 'Missing (0)', `Registered (${n})`, 'Unreadable (1)', 'Duplicates (1)', 'Similar']);
    assert.deepEqual(top.slice(4).map((c) => [c.item.contextValue, themeIconId(c.item)]), [['group-unreadable', 'warning'], ['group-duplicates', 'copy'], ['group-similar', 'mirror']]);
    const unreadable = await findChild(a, top[4].node, 'camera0', 'day0', 'broken.png');
    assert.equal(unreadable.item.contextValue, 'image-unreadable');
    // Markdown source: the parentheses of the reason are escaped.
    assert.ok((await tooltipOf(a, unreadable)).includes('$(warning) unreadable: empty file \\(0 bytes\\)'));
    const [dup] = await children(a, top[5].node);
    const hasher = await xxhash();
    const hash = hasher.h64Raw(fs.readFileSync(path.join(dir, 'img0.png'))).toString(16).padStart(16, '0');
    assert.equal(dup.node.kind, 'duplicate');
    assert.equal(dup.label, `${hash.slice(0, 12)}…`);
    assert.equal(dup.item.description, '2 copies');
    const copies = await children(a, dup.node);
    assert.deepEqual(copies.map((c) => [c.label, c.item.description]), [['copy.png', 'camera0/day0'], ['img0.png', 'camera0/day0']]);
  });
});
