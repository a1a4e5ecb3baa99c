// The gallery: opened on the New group through the real command, its webview's script running under
// the CSP, pages and orderings as the webview gets them, actions on a selection, and the count
// following a registration.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { DatasetIndexApi } from '../../src/extension/extension';
import type { GalleryTestApi } from '../../src/extension/gallery/gallery';
import { api, findChild, freshIndex, groupCount, groups, imagesOnDisk, waitFor, workspaceRoot } from './helpers';

/** Width and height from a PNG's IHDR, or a baseline JPEG's SOF0 (what the generator writes). */
function dimensionsOf(file: string): { width: number; height: number } {
  const b = fs.readFileSync(file);
  if (b[0] === 0x89) return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
  for (let i = 2; i < b.length; ) {
    const marker = b[i + 1];
    if (marker >= 0xc0 && marker <= 0xc2) return { height: b.readUInt16BE(i + 5), width: b.readUInt16BE(i + 7) };
    i += 2 + b.readUInt16BE(i + 2);
  }
  throw new Error(`no SOF in ${file}`);
}

describe('gallery', () => {
  let a: DatasetIndexApi;
  let gallery: GalleryTestApi;
  let root: string;
  let onDisk: string[];
  /** What the Register test registered (absolute paths). */
  let registeredByTest: string[] = [];

  before(async () => {
    a = await api();
    assert.ok(a.gallery, 'the test API exposes the gallery in ExtensionMode.Test');
    gallery = a.gallery;
    root = workspaceRoot();
    await freshIndex();
    onDisk = imagesOnDisk(root).sort();
  });

  afterEach(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('Open Gallery on the New group: a webview whose script runs, the count and a page with real dimensions', async () => {
    const newGroup = (await groups(a)).get('New')!;
    const opened = await vscode.commands.executeCommand<{ title: string; count: number }>('datasetIndex.openGallery', newGroup.node);
    assert.equal(opened.count, onDisk.length);
    assert.match(opened.title, /^New — /);
    const g = gallery.current();
    assert.ok(g, 'the command opened a panel');
    // The webview says "ready" only once its script ran: the CSP, the nonce and asWebviewUri work.
    await Promise.race([g.ready, new Promise((_, reject) => setTimeout(() => reject(new Error('the webview never said ready')), 30_000))]);
    assert.equal(await g.count(), onDisk.length);
    const page = await g.page(0, 7);
    assert.equal(page.length, 7);
    for (const item of page) {
      assert.equal(item.status, 'new');
      assert.equal(item.path, path.join(root, item.rel));
      assert.equal(item.name, path.basename(item.rel));
      assert.equal(item.size, fs.statSync(item.path).size);
      assert.deepEqual({ width: item.width, height: item.height }, dimensionsOf(item.path), item.rel);
    }
    // The last page is short; past the end is empty.
    assert.equal((await g.page(onDisk.length - 3, 10)).length, 3);
    assert.equal((await g.page(onDisk.length, 10)).length, 0);
    // Every image once, across pages.
    const all = [...(await g.page(0, 12)), ...(await g.page(12, 100))].map((i) => i.rel).sort();
    assert.deepEqual(all, onDisk);
  });

  it('sorts by size and by dimensions, filters by format, folder and width, as the disk says', async () => {
    const g = await gallery.open({ root }, { kind: 'group', group: 'new' });
    const bySize = onDisk.map((rel) => ({ rel, size: fs.statSync(path.join(root, rel)).size }));
    assert.equal(await g.setQuery({ sort: 'size', descending: true, filter: {} }), onDisk.length);
    const sizes = (await g.page(0, onDisk.length)).map((i) => i.size!);
    assert.deepEqual(sizes, bySize.map((x) => x.size).sort((x, y) => y - x));
    await g.setQuery({ sort: 'dimensions', descending: false, filter: {} });
    const pixels = (await g.page(0, onDisk.length)).map((i) => i.width! * i.height!);
    assert.deepEqual(pixels, [...pixels].sort((x, y) => x - y));
    const jpgs = onDisk.filter((p) => p.endsWith('.jpg'));
    assert.equal(await g.setQuery({ sort: 'name', descending: false, filter: { formats: ['jpg'] } }), jpgs.length);
    const inDay2 = onDisk.filter((p) => p.startsWith('camera0/day2/'));
    assert.equal(await g.setQuery({ sort: 'path', descending: false, filter: { folder: 'camera0/day2' } }), inDay2.length);
    const wide = onDisk.filter((p) => dimensionsOf(path.join(root, p)).width >= 64);
    assert.ok(wide.length > 0 && wide.length < onDisk.length);
    assert.equal(await g.setQuery({ sort: 'name', descending: false, filter: { minWidth: 64 } }), wide.length);
    assert.deepEqual((await g.page(0, 100)).map((i) => i.rel).sort(), wide.sort());
  });

  it('works on the settled view only: what it asks for comes, what left the view is cancelled and never sent', async () => {
    const g = await gallery.open({ root }, { kind: 'group', group: 'new' });
    // The webview's own first view (its page, its thumbnails) answered: the panel is idle.
    let idleChecks = 0;
    await waitFor(() => {
      const j = g.jobs();
      idleChecks = j.pages.length === 0 && j.thumbs.length === 0 ? idleChecks + 1 : 0;
      return idleChecks >= 10;
    }, 'the panel idle after the webview\'s first view', 30_000);
    const paths = (await g.page(0, 6)).map((i) => i.path);
    const from = g.posted.length;
    g.view({ limit: 2, pages: [2, 4], thumbs: paths.slice(0, 3) });
    assert.deepEqual(g.jobs(), { pages: [2, 4], thumbs: paths.slice(0, 3) });
    // The view moves on before anything came: page 2 and the thumbnails of paths 0 and 2 left it.
    g.view({ limit: 2, pages: [6], keepPages: [4], thumbs: [paths[3]], keepThumbs: [paths[1]] });
    const now = g.jobs();
    assert.deepEqual({ pages: [...now.pages].sort((x, y) => x - y), thumbs: [...now.thumbs].sort() }, { pages: [4, 6], thumbs: [paths[1], paths[3]].sort() });
    await waitFor(() => g.jobs().pages.length === 0 && g.jobs().thumbs.length === 0, 'the wanted pages and thumbnails answered', 30_000);
    const sent = g.posted.slice(from);
    const pages = sent.flatMap((m) => (m.type === 'page' ? [m] : []));
    assert.deepEqual(pages.map((m) => m.offset).sort((x, y) => x - y), [4, 6], 'only the pages still in view are sent');
    assert.deepEqual(pages.find((m) => m.offset === 4)?.items.map((i) => i.path), paths.slice(4, 6));
    const thumbs = sent.flatMap((m) => (m.type === 'thumb' ? [m.path] : []));
    assert.deepEqual(thumbs.sort(), [paths[1], paths[3]].sort(), 'only the thumbnails still in view are sent');
  });

  it('Register on a selection registers exactly it, and the open gallery follows: its count drops', async () => {
    const g = await gallery.open({ root }, { kind: 'group', group: 'new' });
    const chosen = (await g.page(0, 3)).map((i) => i.path);
    registeredByTest = chosen;
    await g.act('register', { all: false, paths: chosen });
    await waitFor(async () => (await groupCount(a, 'Registered')) === 3, 'Registered (3)');
    assert.equal(await groupCount(a, 'New'), onDisk.length - 3);
    assert.equal(await g.count(), onDisk.length - 3);
    const left = new Set((await g.page(0, 1000)).map((i) => i.path));
    for (const p of chosen) assert.ok(!left.has(p), `${p} left the New gallery`);
    // Copy Paths: the selection, one path a line; "all but" one excludes that one.
    const copied = await g.act('copy', { all: true, paths: [[...left][0]] });
    assert.equal(copied, left.size - 1);
    const text = await vscode.env.clipboard.readText();
    assert.equal(text.split('\n').length, left.size - 1);
    assert.ok(!text.split('\n').includes([...left][0]));
  });

  it('a folder node opens the gallery on that folder; an explicit list opens side by side with mixed statuses', async () => {
    const folder = await findChild(a, (await groups(a)).get('New')!.node, 'camera1');
    const opened = await vscode.commands.executeCommand<{ title: string; count: number }>('datasetIndex.openGallery', folder.node);
    const camera1 = path.join(root, 'camera1') + path.sep;
    const inCamera1 = imagesOnDisk(path.join(root, 'camera1')).length - registeredByTest.filter((p) => p.startsWith(camera1)).length;
    assert.equal(opened.count, inCamera1);
    assert.match(opened.title, /^New · camera1 — /);
    const registeredItems = await (await gallery.open({ root }, { kind: 'group', group: 'registered' })).page(0, 100);
    assert.equal(registeredItems.length, 3);
    assert.ok(registeredItems.every((i) => i.status === 'registered'));
    const fresh = onDisk.map((rel) => path.join(root, rel)).find((p) => !registeredItems.some((i) => i.path === p))!;
    const pair = [registeredItems[0].path, fresh];
    const side = await vscode.commands.executeCommand<{ title: string; count: number }>('datasetIndex.openGalleryWithPaths', pair, 'Near duplicates');
    assert.deepEqual(side, { title: 'Near duplicates (2)', count: 2 });
    const items = await gallery.current()!.page(0, 10);
    assert.deepEqual(items.map((i) => i.path), pair, 'side by side keeps the given order');
    assert.deepEqual(items.map((i) => i.status), ['registered', 'new']);
    await assert.rejects(
      Promise.resolve(vscode.commands.executeCommand('datasetIndex.openGalleryWithPaths', ['/nowhere/x.png'])).then((r) => {
        if (r === undefined) throw new Error('refused');
      }),
      /refused/,
      'a path outside every dataset is refused (the command wrapper reports it and returns nothing)',
    );
  });
});
