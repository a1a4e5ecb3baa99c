// Register from the tree's context menu: only what is selected is registered.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import initSqlJs from 'sql.js';
import * as vscode from 'vscode';
import type { DatasetIndexApi } from '../../src/extension/extension';
import { api, children, findChild, freshIndex, groupCount, groups, imagesOnDisk, workspaceRoot } from './helpers';

/** The registry read independently with sql.js: the paths of the images table, sorted. */
async function registeredPaths(storeDir: string): Promise<string[]> {
  const file = path.join(storeDir, 'registry.sqlite');
  if (!fs.existsSync(file)) return [];
  const wasm = fs.readFileSync(path.join(path.dirname(require.resolve('sql.js')), 'sql-wasm.wasm'));
  const SQL = await initSqlJs({ wasmBinary: new Uint8Array(wasm).buffer });
  const db = new SQL.Database(fs.readFileSync(file));
  try {
    const res = db.exec('SELECT path FROM images ORDER BY path');
    return res.length ? res[0].values.map((r) => String(r[0])) : [];
  } finally {
    db.close();
  }
}

describe('Register (tree selection)', () => {
  let a: DatasetIndexApi;
  let root: string;
  let storeDir: string;
  let total: number;

  before(async () => {
    a = await api();
    root = workspaceRoot();
    storeDir = a.datasets()[0].storeDir;
    await freshIndex();
    total = imagesOnDisk(root).length;
  });

  it('a folder node of the New group registers only that folder\'s images', async () => {
    const folder = await findChild(a, (await groups(a)).get('New')!.node, 'camera0', 'day2');
    const inFolder = imagesOnDisk(path.join(root, 'camera0/day2')).map((f) => `camera0/day2/${f}`).sort();
    const results = await vscode.commands.executeCommand<{ root: string; registered: number }[]>('datasetIndex.registerSelection', folder.node);
    assert.deepEqual(results.map((r) => [r.root, r.registered]), [[root, inFolder.length]]);
    assert.deepEqual(await registeredPaths(storeDir), inFolder, 'the registry holds that folder and nothing else');
    assert.equal(await groupCount(a, 'New'), total - inFolder.length);
    assert.equal(await groupCount(a, 'Registered'), inFolder.length);
    const registered = (await groups(a)).get('Registered')!;
    const day2 = await findChild(a, registered.node, 'camera0', 'day2');
    assert.equal(day2.item.description, String(inFolder.length));
    assert.deepEqual((await children(a, registered.node)).map((c) => c.label), ['camera0']);
    // The folder is gone from New; its sibling folders are still there.
    const camera0 = await findChild(a, (await groups(a)).get('New')!.node, 'camera0');
    assert.deepEqual((await children(a, camera0.node)).map((c) => c.label), ['day0', 'day4']);
  });

  it('a multi-selection (an image and a folder) registers both, nothing else', async () => {
    const newGroup = (await groups(a)).get('New')!.node;
    const image = await findChild(a, newGroup, 'camera1', 'day1', 'img3.jpg');
    const folder = await findChild(a, newGroup, 'camera1', 'day5');
    const before = await registeredPaths(storeDir);
    const inFolder = imagesOnDisk(path.join(root, 'camera1/day5')).map((f) => `camera1/day5/${f}`);
    // VS Code passes the clicked node and the whole selection.
    const results = await vscode.commands.executeCommand<{ registered: number }[]>('datasetIndex.registerSelection', image.node, [image.node, folder.node]);
    assert.equal(results.reduce((s, r) => s + r.registered, 0), 1 + inFolder.length);
    assert.deepEqual(await registeredPaths(storeDir), [...before, 'camera1/day1/img3.jpg', ...inFolder].sort());
    assert.equal(await groupCount(a, 'New'), total - before.length - 1 - inFolder.length);
  });

  it('a selection with nothing registrable registers nothing (no fallback to everything)', async () => {
    const before = await registeredPaths(storeDir);
    const more = { kind: 'more' };
    assert.deepEqual(await vscode.commands.executeCommand('datasetIndex.registerSelection', more), []);
    assert.deepEqual(await vscode.commands.executeCommand('datasetIndex.registerSelection'), []);
    assert.deepEqual(await registeredPaths(storeDir), before);
  });

  it('the New group node registers the rest', async () => {
    const newGroup = (await groups(a)).get('New')!;
    const results = await vscode.commands.executeCommand<{ registered: number }[]>('datasetIndex.registerSelection', newGroup.node);
    assert.equal(results[0].registered, newGroup.count);
    assert.equal(await groupCount(a, 'New'), 0);
    assert.equal(await groupCount(a, 'Registered'), total);
    assert.deepEqual(await registeredPaths(storeDir), imagesOnDisk(root).sort());
  });
});
