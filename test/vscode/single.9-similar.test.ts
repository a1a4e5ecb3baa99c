// The Similar group: near-duplicate groups computed in the engine when the group is expanded (a
// "computing" row meanwhile), one row per group with its images, Open Gallery side by side on a
// group, and a watcher deletion taking an image out of its group. Real pictures made by libvips,
// their near copies (a 5 % crop, a quarter-size JPEG) and a distinct picture that must stay out.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { hamming } from '../../src/core/similar/hash64';
import { perceptualHash } from '../../src/core/similar/perceptualHash';
import type { Node } from '../../src/extension/datasetTree';
import type { DatasetIndexApi } from '../../src/extension/extension';
import { api, children, EXTENSION_ID, freshIndex, groups, imagesOnDisk, recordFileEvents, waitFor, workspaceRoot, type Shown } from './helpers';

const themeIconId = (item: vscode.TreeItem): string | undefined => (item.iconPath instanceof vscode.ThemeIcon ? item.iconPath.id : undefined);
const DISTANCE = 10;

/** The oracle: every image's pHash computed here, groups by brute force (connected components within DISTANCE). */
async function expectedGroups(root: string): Promise<{ groups: string[][]; diameter(paths: string[]): number }> {
  const rels = imagesOnDisk(root).sort();
  const hashes = new Map<string, { hi: number; lo: number }>();
  for (const rel of rels) hashes.set(rel, await perceptualHash(path.join(root, rel), 'phash'));
  const parent = rels.map((_, i) => i);
  const find = (x: number): number => (parent[x] === x ? x : (parent[x] = find(parent[x])));
  const d = (a: string, b: string): number => {
    const x = hashes.get(a)!;
    const y = hashes.get(b)!;
    return hamming(x.hi, x.lo, y.hi, y.lo);
  };
  for (let i = 0; i < rels.length; i++) for (let j = i + 1; j < rels.length; j++) if (d(rels[i], rels[j]) <= DISTANCE) parent[find(j)] = find(i);
  const byRoot = new Map<number, string[]>();
  rels.forEach((rel, i) => byRoot.set(find(i), [...(byRoot.get(find(i)) ?? []), rel]));
  return {
    groups: [...byRoot.values()].filter((g) => g.length > 1),
    diameter: (paths) => Math.max(...paths.flatMap((a) => paths.map((b) => d(a, b)))),
  };
}

describe('the Similar group (near-duplicates)', () => {
  let a: DatasetIndexApi;
  let root: string;
  let dir: string;
  let similar: () => Promise<Shown & { count: number | null }>;

  before(async () => {
    a = await api();
    root = workspaceRoot();
    dir = path.join(root, 'similar');
    fs.mkdirSync(dir, { recursive: true });
    // Loaded here, not at the top: sharp then enters the extension host's process only when this
    // suite runs, after single.9-engine has checked that the extension itself never loads it there.
    const { nearCopies, picture } = await import('../helpers/pictures');
    const original = await picture(10);
    const copies = await nearCopies(original);
    fs.writeFileSync(path.join(dir, 'p0.png'), original);
    fs.writeFileSync(path.join(dir, 'p0-crop.jpg'), copies.crop);
    fs.writeFileSync(path.join(dir, 'p0-quarter.jpg'), copies.quarter);
    fs.writeFileSync(path.join(dir, 'distinct.png'), await picture(11));
    await freshIndex();
    const [r] = await vscode.commands.executeCommand<{ registered: number }[]>('datasetIndex.registerNew');
    assert.equal(r.registered, imagesOnDisk(root).length);
    similar = async () => {
      const row = (await groups(a)).get('Similar');
      assert.ok(row, 'a Similar group once images are registered');
      return row;
    };
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    fs.rmSync(dir, { recursive: true, force: true });
    await vscode.commands.executeCommand('datasetIndex.indexImages');
  });

  it('is computed when expanded: a "computing" row, then "Similar (N)" with one row per group, as a brute-force oracle finds them', async () => {
    const before = await similar();
    assert.equal(before.label, 'Similar', 'no count before anyone asked');
    assert.equal(before.item.description, 'expand to find near-duplicates');
    assert.equal(before.item.contextValue, 'group-similar');
    assert.equal(before.item.collapsibleState, vscode.TreeItemCollapsibleState.Collapsed);
    // The row as each refresh draws it: "computing…" with a spinner while the engine works.
    const drawn: string[] = [];
    const sub = a.onDidFireTreeChange((nodes) => {
      for (const n of nodes) if (n?.kind === 'group' && n.group === 'similar') drawn.push(`${String(a.tree.getTreeItem(n).description)}|${themeIconId(a.tree.getTreeItem(n)) ?? ''}`);
    });
    try {
      const first = await children(a, before.node);
      assert.equal(first.length, 1);
      assert.equal(first[0].node.kind, 'note');
      assert.equal(themeIconId(first[0].item), 'loading~spin');
      await waitFor(async () => (await similar()).count !== null, 'the Similar group to be computed', 60_000);
    } finally {
      sub.dispose();
    }
    assert.equal(drawn[0], 'computing…|loading~spin', `drawn: ${JSON.stringify(drawn)}`);
    const oracle = await expectedGroups(root);
    const row = await similar();
    assert.equal(row.count, oracle.groups.length, `groups: ${JSON.stringify(oracle.groups)}`);
    assert.equal(row.item.description, `distance ≤ ${DISTANCE}`);
    assert.equal(themeIconId(row.item), 'mirror');

    const rows = await children(a, row.node);
    assert.equal(rows.length, oracle.groups.length);
    assert.deepEqual(rows.map((r) => (r.node as { paths: string[] }).paths).sort(), oracle.groups.map((g) => g.sort()).sort());
    const p0 = rows.find((r) => r.node.kind === 'similar' && r.node.paths.includes('similar/p0.png'));
    assert.ok(p0 && p0.node.kind === 'similar', 'the picture and its copies form a group');
    assert.deepEqual(p0.node.paths, ['similar/p0-crop.jpg', 'similar/p0-quarter.jpg', 'similar/p0.png'], 'exactly the picture and its two copies');
    assert.equal(p0.label, 'p0-crop.jpg');
    assert.equal(p0.item.description, `3 images · distance ≤ ${oracle.diameter(p0.node.paths)}`);
    assert.equal(p0.item.contextValue, 'similar');
    assert.ok(!rows.some((r) => (r.node as { paths: string[] }).paths.includes('similar/distinct.png')), 'the distinct picture is in no group');

    const images = await children(a, p0.node);
    assert.deepEqual(images.map((i) => [i.label, i.item.description, i.item.contextValue]), [
      ['p0-crop.jpg', 'similar', 'image-similar'],
      ['p0-quarter.jpg', 'similar', 'image-similar'],
      ['p0.png', 'similar', 'image-similar'],
    ]);
    for (const i of images) {
      assert.equal(i.item.command?.command, 'vscode.open');
      assert.equal((i.item.command?.arguments?.[0] as vscode.Uri).fsPath, path.join(root, (i.node as { rel: string }).rel));
    }
  });

  it('Open Gallery on a group opens its images side by side; the menu offers it on groups, not on the Similar row', async () => {
    const rows = await children(a, (await similar()).node);
    const p0 = rows.find((r) => r.node.kind === 'similar' && r.node.paths.includes('similar/p0.png'))!;
    const opened = await vscode.commands.executeCommand<{ title: string; count: number }>('datasetIndex.openGallery', p0.node);
    assert.deepEqual(opened, { title: 'Similar to p0-crop.jpg (3)', count: 3 });
    const g = a.gallery!.current()!;
    assert.equal(g.sideBySide, true);
    await Promise.race([g.ready, new Promise((_, reject) => setTimeout(() => reject(new Error('the webview never said ready')), 30_000))]);
    const items = await g.page(0, 10);
    assert.deepEqual(items.map((i) => i.path), ['p0-crop.jpg', 'p0-quarter.jpg', 'p0.png'].map((n) => path.join(dir, n)));
    assert.ok(items.every((i) => i.status === 'registered'));

    const menus = (vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as { contributes: { menus: Record<string, { command: string; when?: string }[]> } }).contributes.menus['view/item/context'];
    const when = menus.find((m) => m.command === 'datasetIndex.openGallery')!.when!;
    const re = new RegExp(/viewItem =~ \/(.*)\/$/.exec(when)![1]);
    assert.deepEqual(['similar', 'group-similar', 'image-similar', 'duplicate', 'group-new'].map((v) => re.test(v)), [true, false, true, true, true]);
  });

  it('a near copy deleted from disk leaves its group (watcher), without a new computation', async () => {
    const events = recordFileEvents(a, root);
    fs.rmSync(path.join(dir, 'p0-quarter.jpg'));
    const group = async (): Promise<Node | undefined> => (await children(a, (await similar()).node)).map((r) => r.node).find((n) => n.kind === 'similar' && n.paths.includes('similar/p0.png'));
    await waitFor(async () => {
      const n = await group();
      return n?.kind === 'similar' && n.size === 2;
    }, 'the group to lose the deleted copy', 30_000);
    const n = await group();
    assert.deepEqual(n?.kind === 'similar' && n.paths, ['similar/p0-crop.jpg', 'similar/p0.png']);
    events.dispose();
    // Applied as events, the groups are cut in the engine; a quick rescan instead would have asked again (and reused them).
    if (events.events.every((e) => e.rescan === null)) assert.equal(a.engineCalls().similar, 1, 'asked once: the watcher cut the groups the engine had');
  });
});
