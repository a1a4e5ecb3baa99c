// Paging: a folder with more than 200 children shows 200 and a "Show more…" item.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { DatasetIndexApi } from '../../src/extension/extension';
import { makePng } from '../helpers/images';
import { api, children, findChild, freshIndex, groupCount, groups, imagesOnDisk, run, type Shown, waitFor, workspaceRoot } from './helpers';

const BULK = 450;
const PAGE = 200;

describe('paging of big folders', () => {
  let a: DatasetIndexApi;
  let root: string;
  let bulkDir: string;
  // Natural order, as the tree sorts: p2 before p10.
  const names = Array.from({ length: BULK }, (_, i) => `p${i}.png`);

  before(async () => {
    a = await api();
    root = workspaceRoot();
    bulkDir = path.join(root, 'bulk');
    fs.mkdirSync(bulkDir);
    // Reverse order on disk, so that the order in the tree is the tree's own.
    for (const name of [...names].reverse()) fs.writeFileSync(path.join(bulkDir, name), makePng(4, 4, Number(name.slice(1, -4))));
    await freshIndex();
    // The watcher may also have seen the new folder and asked for a rescan; either way the end state is the disk.
    const total = imagesOnDisk(root).length;
    await waitFor(async () => (await groupCount(a, 'New')) === total, `New (${total})`);
  });

  after(async () => {
    fs.rmSync(bulkDir, { recursive: true, force: true });
    await run('datasetIndex.indexImages');
    await waitFor(async () => (await groupCount(a, 'New')) === imagesOnDisk(root).length, 'the tree back to the disk after cleanup');
  });

  async function bulk(): Promise<Shown> {
    return findChild(a, (await groups(a)).get('New')!.node, 'bulk');
  }

  it(`a folder of ${BULK} new images shows ${PAGE} of them and "Show more… (${BULK - PAGE} more)"`, async () => {
    const folder = await bulk();
    assert.equal(folder.item.description, String(BULK));
    const shown = await children(a, folder.node);
    assert.equal(shown.length, PAGE + 1);
    assert.deepEqual(shown.slice(0, PAGE).map((c) => c.label), names.slice(0, PAGE));
    const more = shown[PAGE];
    assert.equal(more.node.kind, 'more');
    assert.equal(more.label, `Show more… (${BULK - PAGE} more)`);
    assert.equal(more.item.contextValue, 'more');
    assert.equal(more.item.command?.command, 'datasetIndex.showMore');
    assert.equal(more.item.collapsibleState, vscode.TreeItemCollapsibleState.None);
  });

  it('Show more adds a page at a time until every image is shown', async () => {
    let shown = await children(a, (await bulk()).node);
    for (const expectMore of [BULK - 2 * PAGE, null]) {
      const more = shown[shown.length - 1];
      assert.equal(more.node.kind, 'more');
      // As a click does: the item's own command with its arguments.
      await vscode.commands.executeCommand(more.item.command!.command, ...((more.item.command!.arguments ?? []) as unknown[]));
      shown = await children(a, (await bulk()).node);
      if (expectMore === null) {
        assert.equal(shown.length, BULK);
        assert.ok(shown.every((c) => c.node.kind === 'image'));
        assert.deepEqual(shown.map((c) => c.label), names);
      } else {
        assert.equal(shown.length, 2 * PAGE + 1);
        assert.deepEqual(shown.slice(0, 2 * PAGE).map((c) => c.label), names.slice(0, 2 * PAGE));
        assert.equal(shown[2 * PAGE].label, `Show more… (${expectMore} more)`);
      }
    }
  });
});
