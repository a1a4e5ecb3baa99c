// Clear Scan Cache from the user's side: the status bar says so, the tree empties and the view
// shows its welcome content again (datasetIndex.indexed is false); Index Images brings it all back.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { DatasetIndexApi } from '../../src/extension/extension';
import { api, children, domTexts, freshIndex, groupCount, imagesOnDisk, run, TREE_ROWS, waitFor, waitForDomText, waitForNotification, WELCOME, workspaceRoot } from './helpers';

describe('Clear Scan Cache: status bar, tree and welcome view', () => {
  let a: DatasetIndexApi;
  let root: string;

  before(async () => {
    a = await api();
    root = workspaceRoot();
    await freshIndex();
    await vscode.commands.executeCommand('datasetIndex.registerNew');
    assert.equal(await groupCount(a, 'Registered'), imagesOnDisk(root).length);
    await vscode.commands.executeCommand('workbench.view.extension.datasetIndex');
    await waitFor(() => a.view.visible, 'the view to be visible');
  });

  it('after Clear Scan Cache the status bar says "cache cleared" and the tree has no groups', async () => {
    await vscode.commands.executeCommand('notifications.clearAll');
    const stores = await vscode.commands.executeCommand<string[]>('datasetIndex.clearCache');
    assert.deepEqual(stores, [a.datasets()[0].storeDir]);
    assert.match(a.statusBarText(), /cache cleared/);
    assert.doesNotMatch(a.statusBarText(), /\bnew\b/, 'no count without an index');
    assert.deepEqual(await children(a), []);
    assert.equal(a.view.badge, undefined);
    await waitForNotification('Dataset Index: scan cache cleared for this workspace; the registry is kept.');
  });

  it('the view shows its welcome content (datasetIndex.indexed is false)', async () => {
    // The welcome text is shown only when the tree is empty and its when clause
    // "workbenchState != empty && !datasetIndex.indexed" holds.
    await waitForDomText(WELCOME, 'No images indexed yet in this workspace.');
  });

  it('Index Images brings the groups back, the registry intact', async () => {
    const [r] = await run('datasetIndex.indexImages');
    assert.equal(r.mode, 'full');
    assert.equal(r.new, 0);
    assert.doesNotMatch(a.statusBarText(), /cache cleared/);
    assert.match(a.statusBarText(), /\b0 new\b/);
    assert.deepEqual((await children(a)).map((c) => c.label), ['New (0)', 'Changed (0)', 'Missing (0)', `Registered (${imagesOnDisk(root).length})`, 'Similar']);
    await waitForDomText(TREE_ROWS, `Registered (${imagesOnDisk(root).length})`);
    await waitFor(async () => !((await domTexts(WELCOME)) ?? []).some((t) => t.includes('No images indexed yet')), 'the welcome content to go');
  });
});
