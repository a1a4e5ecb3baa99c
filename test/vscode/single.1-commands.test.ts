import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { IndexSummary } from '../../src/extension/commands';
import { api, countDirs, countImages, EXTENSION_ID, workspaceRoot } from './helpers';

const run = async (id: string, ...args: unknown[]): Promise<IndexSummary[]> => await vscode.commands.executeCommand<IndexSummary[]>(id, ...args);

describe('commands in a real VS Code', () => {
  let root: string;
  let storeDir: string;

  before(async () => {
    root = workspaceRoot();
    const datasets = (await api()).datasets();
    assert.equal(datasets.length, 1);
    storeDir = datasets[0].storeDir;
  });

  it('activates without scanning, and keeps its store under the workspace storage', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    assert.ok(ext.isActive);
    // context.storageUri is <user-data>/User/workspaceStorage/<workspace id>/<publisher.name>.
    assert.match(storeDir, new RegExp(`${path.sep}User${path.sep}workspaceStorage${path.sep}[^${path.sep}]+${path.sep}${EXTENSION_ID.replace('.', '\\.')}${path.sep}`));
    assert.ok(!fs.existsSync(storeDir) || fs.readdirSync(storeDir).length === 0, 'nothing written before the first command');
  });

  it('Index Images finds every image', async () => {
    const [r] = await run('datasetIndex.indexImages');
    assert.equal(r.root, root);
    assert.equal(r.mode, 'full');
    assert.equal(r.files, countImages(root));
    assert.equal(r.new, r.files);
    assert.ok(fs.readdirSync(storeDir).some((f) => f.endsWith('.dsxcache')), 'the cache is in the store');
  });

  it('a second Index Images is a quick rescan', async () => {
    const [r] = await run('datasetIndex.indexImages');
    assert.equal(r.mode, 'quick');
    assert.equal(r.files, countImages(root));
    assert.equal(r.fsOps?.stat, countDirs(root));
  });

  it('Register New Images registers them, and the next index shows none new', async () => {
    const results = await vscode.commands.executeCommand<{ registered: number }[]>('datasetIndex.registerNew');
    assert.equal(results[0].registered, countImages(root));
    const [r] = await run('datasetIndex.indexImages');
    assert.equal(r.new, 0);
    assert.equal(r.registered, countImages(root));
    assert.ok(fs.existsSync(path.join(storeDir, 'registry.sqlite')));
  });

  it('Clear Scan Cache removes this workspace\'s cache only, and keeps the registry', async () => {
    // Another workspace's store, beside ours under workspaceStorage.
    const workspaceStorage = path.resolve(storeDir, '../../..');
    const otherStore = path.join(workspaceStorage, 'other-workspace-id', EXTENSION_ID, 'data-123');
    fs.mkdirSync(otherStore, { recursive: true });
    fs.writeFileSync(path.join(otherStore, 'scan-0123456789abcdef.dsxcache'), 'other workspace cache');
    await vscode.commands.executeCommand('datasetIndex.clearCache');
    assert.ok(!fs.readdirSync(storeDir).some((f) => f.endsWith('.dsxcache')), 'our cache is gone');
    assert.ok(fs.existsSync(path.join(storeDir, 'registry.sqlite')), 'the registry is kept');
    assert.equal(fs.readFileSync(path.join(otherStore, 'scan-0123456789abcdef.dsxcache'), 'utf8'), 'other workspace cache');
    const [r] = await run('datasetIndex.indexImages');
    assert.equal(r.mode, 'full');
    assert.equal(r.new, 0, 'the registry survived the cache');
    fs.rmSync(path.join(workspaceStorage, 'other-workspace-id'), { recursive: true, force: true });
  });

  it('Force Full Rescan walks every folder again', async () => {
    const [r] = await run('datasetIndex.forceRescan');
    assert.equal(r.mode, 'full');
    assert.equal(r.fsOps?.readdir, countDirs(root));
    assert.equal(r.dirsRead, countDirs(root));
  });

  it('Clear Scan Cache and Registry deletes both (confirmation skipped by the test)', async () => {
    await vscode.commands.executeCommand('datasetIndex.clearCacheAndRegistry', { skipConfirmation: true });
    assert.ok(!fs.existsSync(path.join(storeDir, 'registry.sqlite')));
    const [r] = await run('datasetIndex.indexImages');
    assert.equal(r.new, countImages(root));
  });
});
