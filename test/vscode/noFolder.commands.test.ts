// Profile noFolder: an empty window. context.storageUri is undefined: there is nowhere to keep a
// cache, so there are no datasets, and every command says "open a folder" instead of failing.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { api, children, EXTENSION_ID, waitForDomText, waitForNotification, WELCOME } from './helpers';

describe('no folder open (empty window)', () => {
  it('the window really has no folder, and the extension activates anyway', async () => {
    assert.equal(vscode.workspace.workspaceFolders, undefined);
    assert.equal(vscode.workspace.workspaceFile, undefined);
    const a = await api();
    assert.ok(vscode.extensions.getExtension(EXTENSION_ID)!.isActive);
    assert.deepEqual(a.datasets(), []);
  });

  it('Index Images resolves to [] without throwing, and says to open a folder', async () => {
    await vscode.commands.executeCommand('notifications.clearAll');
    // The command wrapper turns an exception into an error message and undefined: [] is the real answer.
    const result = await vscode.commands.executeCommand('datasetIndex.indexImages');
    assert.deepEqual(result, []);
    await waitForNotification('Dataset Index: open a folder to index its images.');
  });

  it('every other command also resolves to an empty answer', async () => {
    for (const id of ['datasetIndex.forceRescan', 'datasetIndex.verify', 'datasetIndex.registerNew', 'datasetIndex.clearCache']) {
      assert.deepEqual(await vscode.commands.executeCommand(id), [], id);
    }
    assert.deepEqual(await vscode.commands.executeCommand('datasetIndex.clearCacheAndRegistry', { skipConfirmation: true }), []);
    // Tree commands with no node do nothing rather than register everything.
    assert.deepEqual(await vscode.commands.executeCommand('datasetIndex.registerSelection'), []);
  });

  it('the tree has no children, the status bar item is hidden, and the view shows "Open a folder"', async () => {
    const a = await api();
    assert.deepEqual(await children(a), []);
    assert.equal(a.view.badge, undefined);
    assert.equal(a.statusBarText(), '', 'the status bar item was never rendered (hidden without datasets)');
    await vscode.commands.executeCommand('workbench.view.extension.datasetIndex');
    await waitForDomText(WELCOME, 'Open a folder that holds images to index them.');
  });
});
