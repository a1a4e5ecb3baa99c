// Profile multiRoot: a .code-workspace with two generated folders, alpha (4 folders × 5 images)
// and beta (2 folders × 3 images). One dataset per folder, each with its own store under the
// workspace's storage; the tree shows one node per dataset with its groups below.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { cacheFileFor, readCacheHeader } from '../../src/core';
import type { Node } from '../../src/extension/datasetTree';
import type { DatasetIndexApi } from '../../src/extension/extension';
import { makePng } from '../helpers/images';
import {
  api, children, countImages, EXTENSION_ID, groupCount, groups, imagesOnDisk, recordFileEvents, run, type Shown, TREE_ROWS, waitFor,
  waitForDomText, watcherLive,
} from './helpers';

const sep = path.sep;
const hasCache = (storeDir: string): boolean => fs.existsSync(storeDir) && fs.readdirSync(storeDir).some((f) => f.endsWith('.dsxcache'));

describe('multi-root workspace (two folders)', function () {
  this.timeout(120_000);
  let a: DatasetIndexApi;
  let alpha: string;
  let beta: string;
  let stores: string[];

  /** The dataset nodes at the top of the tree, by label. */
  async function datasetNodes(): Promise<Map<string, Shown>> {
    const top = await children(a);
    assert.ok(top.every((c) => c.node.kind === 'dataset'), 'one node per dataset at the top');
    return new Map(top.map((c) => [c.label, c]));
  }
  const node = async (label: string): Promise<Node> => (await datasetNodes()).get(label)!.node;

  before(async () => {
    a = await api();
    const folders = vscode.workspace.workspaceFolders ?? [];
    assert.deepEqual(folders.map((f) => f.name), ['alpha', 'beta']);
    [alpha, beta] = folders.map((f) => f.uri.fsPath);
    stores = a.datasets().map((d) => d.storeDir);
  });

  it('two folders give two datasets with different stores, both under the same workspace storage', () => {
    assert.ok(vscode.workspace.workspaceFile?.fsPath.endsWith('.code-workspace'), 'opened from a .code-workspace file');
    const datasets = a.datasets();
    assert.deepEqual(datasets.map((d) => [d.folder, d.root]), [['alpha', alpha], ['beta', beta]]);
    assert.notEqual(stores[0], stores[1]);
    assert.equal(path.dirname(stores[0]), path.dirname(stores[1]), 'one workspace storage, one sub-folder per workspace folder');
    assert.match(stores[0], new RegExp(`${sep}User${sep}workspaceStorage${sep}[^${sep}]+${sep}${EXTENSION_ID.replace('.', '\\.')}${sep}alpha-[0-9a-f]{12}$`));
    assert.match(stores[1], new RegExp(`${sep}beta-[0-9a-f]{12}$`));
    assert.ok(!hasCache(stores[0]) && !hasCache(stores[1]), 'nothing scanned before the first command');
  });

  it('before any index the tree is empty and the status bar says "not indexed"', async () => {
    assert.deepEqual(await children(a), []);
    assert.match(a.statusBarText(), /not indexed/);
  });

  it('Index Images indexes both folders', async () => {
    const results = await run('datasetIndex.indexImages');
    assert.deepEqual(
      results.map((r) => [r.folder, r.root, r.mode, r.files, r.new]),
      [
        ['alpha', alpha, 'full', countImages(alpha), countImages(alpha)],
        ['beta', beta, 'full', countImages(beta), countImages(beta)],
      ],
    );
    assert.equal(countImages(alpha), 20);
    assert.equal(countImages(beta), 6);
    assert.ok(hasCache(stores[0]) && hasCache(stores[1]), 'each store holds its own cache');
  });

  it('the tree has one node per dataset (label = folder name) with the groups below', async () => {
    const top = await children(a);
    assert.deepEqual(top.map((c) => c.label), ['alpha', 'beta']);
    assert.deepEqual(top.map((c) => c.item.description), ['20 new', '6 new']);
    assert.deepEqual(top.map((c) => c.item.contextValue), ['dataset', 'dataset']);
    assert.deepEqual(top.map((c) => c.item.tooltip), [alpha, beta]);
    assert.deepEqual(top.map((c) => c.item.collapsibleState), [vscode.TreeItemCollapsibleState.Expanded, vscode.TreeItemCollapsibleState.Expanded]);
    assert.ok(top.every((c) => c.item.iconPath instanceof vscode.ThemeIcon && c.item.iconPath.id === 'database'));
    for (const [c, root] of [[top[0], alpha], [top[1], beta]] as const) {
      const g = await children(a, c.node);
      assert.deepEqual(g.map((x) => x.label), [`New (${countImages(root)})`, 'Changed (0)', 'Missing (0)', 'Registered (0)']);
      const newGroup = g[0];
      const folders = await children(a, newGroup.node);
      assert.deepEqual(
        folders.map((f) => [f.label, f.item.description]),
        ['camera0', 'camera1'].map((d) => [d, String(countImages(path.join(root, d)))]),
      );
    }
    assert.match(a.statusBarText(), /\b26 new\b/, 'the status bar adds both datasets up');
    assert.equal(a.view.badge?.value, 26);
    await vscode.commands.executeCommand('workbench.view.extension.datasetIndex');
    await waitForDomText(TREE_ROWS, 'alpha');
    await waitForDomText(TREE_ROWS, 'beta');
  });

  it('Register on a dataset node registers that dataset only', async () => {
    const results = await vscode.commands.executeCommand<{ root: string; registered: number }[]>('datasetIndex.registerSelection', await node('alpha'));
    assert.deepEqual(results.map((r) => [r.root, r.registered]), [[alpha, 20]]);
    assert.equal(await groupCount(a, 'New', await node('alpha')), 0);
    assert.equal(await groupCount(a, 'Registered', await node('alpha')), 20);
    assert.equal(await groupCount(a, 'New', await node('beta')), 6);
    assert.ok(fs.existsSync(path.join(stores[0], 'registry.sqlite')));
    assert.ok(!fs.existsSync(path.join(stores[1], 'registry.sqlite')), 'beta\'s registry untouched');
    assert.match(a.statusBarText(), /\b6 new\b/);
  });

  it('file events reach the dataset of their folder only', async () => {
    await watcherLive(a, path.join(beta, 'camera1/day1'), () => makePng(8, 8, 99), await node('beta'));
    const rec = recordFileEvents(a);
    for (let i = 0; i < 3; i++) fs.writeFileSync(path.join(beta, 'camera1/day1', `w${i}.png`), makePng(10, 10, 300 + i));
    try {
      await waitFor(async () => (await groupCount(a, 'New', await node('beta'))) === 9, 'beta New (9)');
      assert.equal(await groupCount(a, 'New', await node('alpha')), 0);
      assert.ok(rec.events.length > 0 && rec.events.every((e) => e.root === beta && e.rescan === null));
      assert.match(a.statusBarText(), /\b9 new\b/);
    } finally {
      rec.dispose();
    }
  });

  it('a folder-scoped imageExtensions change applies to that folder only', async () => {
    const betaFolder = vscode.workspace.workspaceFolders![1];
    const cfg = vscode.workspace.getConfiguration('datasetIndex', betaFolder.uri);
    await cfg.update('imageExtensions', ['png'], vscode.ConfigurationTarget.WorkspaceFolder);
    try {
      const betaPngs = imagesOnDisk(beta, /\.png$/i).length;
      await waitFor(async () => (await groupCount(a, 'New', await node('beta'))) === betaPngs, `beta New (${betaPngs})`, 30_000);
      await waitFor(async () => (await groupCount(a, 'Registered', await node('alpha'))) === 20, 'alpha indexed again, all images', 30_000);
      assert.equal(vscode.workspace.getConfiguration('datasetIndex', vscode.workspace.workspaceFolders![0].uri).get<string[]>('imageExtensions')!.length > 1, true);
      const [da, db] = a.datasets();
      assert.equal((await readCacheHeader(cacheFileFor(db.storeDir, db.root)))?.lastMode, 'full', 'beta: new options, a full scan');
      assert.equal((await readCacheHeader(cacheFileFor(da.storeDir, da.root)))?.files, 20, 'alpha still counts JPEGs');
    } finally {
      await cfg.update('imageExtensions', undefined, vscode.ConfigurationTarget.WorkspaceFolder);
    }
    await waitFor(async () => (await groupCount(a, 'New', await node('beta'))) === countImages(beta), 'beta counts every image again', 30_000);
  });

  it('Clear Scan Cache clears the caches of every folder of the workspace, and keeps the registries', async () => {
    const cleared = await vscode.commands.executeCommand<string[]>('datasetIndex.clearCache');
    assert.deepEqual(cleared, stores);
    assert.ok(!hasCache(stores[0]) && !hasCache(stores[1]), 'both caches are gone');
    assert.ok(fs.existsSync(path.join(stores[0], 'registry.sqlite')), 'alpha\'s registry is kept');
    assert.deepEqual(await children(a), []);
    assert.match(a.statusBarText(), /cache cleared/);
    assert.equal(a.view.badge, undefined);
    const results = await run('datasetIndex.indexImages');
    assert.deepEqual(results.map((r) => [r.folder, r.mode, r.new, r.registered]), [
      ['alpha', 'full', 0, 20],
      ['beta', 'full', countImages(beta), 0],
    ]);
    assert.deepEqual([...(await datasetNodes()).keys()], ['alpha', 'beta']);
    // alpha's 20 images are registered (with perceptual hashes): its Similar group is offered.
    assert.deepEqual([...(await groups(a, await node('alpha'))).keys()], ['New', 'Changed', 'Missing', 'Registered', 'Similar']);
  });

  it('a folder added to the workspace at runtime becomes a third dataset; removing it drops it', async () => {
    const gamma = path.join(path.dirname(alpha), 'gamma');
    fs.mkdirSync(path.join(gamma, 'shots'), { recursive: true });
    for (let i = 0; i < 4; i++) fs.writeFileSync(path.join(gamma, 'shots', `g${i}.png`), makePng(16, 16, 900 + i));
    const changed = new Promise<void>((resolve) => {
      const sub = vscode.workspace.onDidChangeWorkspaceFolders(() => (sub.dispose(), resolve()));
    });
    assert.ok(vscode.workspace.updateWorkspaceFolders(2, 0, { uri: vscode.Uri.file(gamma) }));
    await changed;
    await waitFor(() => a.datasets().length === 3, 'a third dataset');
    const [, , g] = a.datasets();
    assert.equal(g.root, gamma);
    assert.equal(path.dirname(g.storeDir), path.dirname(stores[0]), 'its store beside the others');
    const top = await children(a);
    assert.deepEqual(top.map((c) => [c.label, c.item.description]), [['alpha', '0 new'], ['beta', `${countImages(beta)} new`], ['gamma', 'not indexed']]);
    assert.deepEqual(await children(a, top[2].node), [], 'no groups before it is indexed');
    const results = await run('datasetIndex.indexImages');
    assert.deepEqual(results.map((r) => [r.folder, r.new]), [['alpha', 0], ['beta', countImages(beta)], ['gamma', 4]]);
    assert.equal(await groupCount(a, 'New', await node('gamma')), 4);
    assert.match(a.statusBarText(), new RegExp(`\\b${countImages(beta) + 4} new\\b`));

    const removed = new Promise<void>((resolve) => {
      const sub = vscode.workspace.onDidChangeWorkspaceFolders(() => (sub.dispose(), resolve()));
    });
    assert.ok(vscode.workspace.updateWorkspaceFolders(2, 1));
    await removed;
    await waitFor(() => a.datasets().length === 2, 'back to two datasets');
    assert.deepEqual([...(await datasetNodes()).keys()], ['alpha', 'beta']);
    assert.match(a.statusBarText(), new RegExp(`\\b${countImages(beta)} new\\b`));
  });
});
