// Thumbnails in the real extension host: image rows get their 64-px thumbnail from the store as
// icon (the row fired alone when it is ready), tooltips the 256-px one; formats beyond the
// workspace's PNG/JPEG (WebP, TIFF, AVIF, HEIC, JPEG XL) made at test time by real encoders.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { EngineClient } from '../../src/core/engine/client';
import { NO_SHARP_ENV } from '../../src/core/thumbnails/loadSharp';
import type { Node } from '../../src/extension/datasetTree';
import type { DatasetIndexApi } from '../../src/extension/extension';
import { ThumbnailService } from '../../src/extension/thumbnails';
import { api, children, findChild, freshIndex, groups, waitFor, workspaceRoot } from './helpers';

const onPath = (tool: string): boolean => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;

/** getTreeItem until the icon is a thumbnail Uri; counts the change events that named this very element. */
async function thumbnailIcon(a: DatasetIndexApi, node: Node, what: string): Promise<{ uri: vscode.Uri; fired: number }> {
  let fired = 0;
  const sub = a.tree.onDidChangeTreeData?.((e) => {
    if (e === node) fired++;
  });
  try {
    const first = a.tree.getTreeItem(node);
    if (first.iconPath instanceof vscode.Uri) return { uri: first.iconPath, fired };
    const uri = await waitFor(async () => {
      const icon = a.tree.getTreeItem(node).iconPath;
      return fired > 0 && icon instanceof vscode.Uri ? icon : null;
    }, `a thumbnail icon for ${what}`, 60_000, 100);
    return { uri, fired };
  } finally {
    sub?.dispose();
  }
}

describe('thumbnails in the tree', () => {
  let a: DatasetIndexApi;
  let root: string;
  let storeDir: string;
  let extraDir: string;

  before(async () => {
    a = await api();
    root = workspaceRoot();
    await freshIndex();
    storeDir = a.datasets()[0].storeDir;
    extraDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dsx-thumbs-'));
  });
  after(() => fs.rmSync(extraDir, { recursive: true, force: true }));

  it('image rows of a folder get a 64-px WebP thumbnail from the store as icon, each row fired on its own', async () => {
    const day = await findChild(a, (await groups(a)).get('New')!.node, 'camera0', 'day0');
    const rows = await children(a, day.node);
    assert.equal(rows.length, 5);
    for (const row of rows) {
      const { uri } = await thumbnailIcon(a, row.node, row.label);
      assert.ok(uri.fsPath.startsWith(path.join(storeDir, 'thumbnails') + path.sep), `${uri.fsPath} is in the store`);
      assert.match(uri.fsPath, /-64\.webp$/);
      const head = fs.readFileSync(uri.fsPath).subarray(0, 12).toString('latin1');
      assert.equal(`${head.slice(0, 4)}${head.slice(8)}`, 'RIFFWEBP');
      assert.notEqual(uri.fsPath, path.join(root, (row.node as { rel: string }).rel));
    }
  });

  it('the tooltip shows the 256-px thumbnail, not the original', async () => {
    const img = await findChild(a, (await groups(a)).get('New')!.node, 'camera0', 'day2', 'img3.jpg');
    const resolved = await a.tree.resolveTreeItem(img.item, img.node, new vscode.CancellationTokenSource().token);
    const tip = resolved?.tooltip;
    assert.ok(tip instanceof vscode.MarkdownString);
    const m = /!\[preview\]\(([^|)]+)\|/.exec(tip.value);
    assert.ok(m, tip.value);
    const uri = vscode.Uri.parse(m[1]);
    assert.match(uri.fsPath, /-256\.webp$/);
    assert.ok(fs.existsSync(uri.fsPath));
    assert.ok(!tip.value.includes(vscode.Uri.file(path.join(root, 'camera0/day2/img3.jpg')).toString()));
  });

  it('WebP, TIFF, AVIF, HEIC and JPEG XL images get thumbnails too', async function () {
    if (!onPath('convert')) this.skip();
    const base = path.join(extraDir, 'base.png');
    spawnSync('convert', ['-size', '120x80', 'gradient:orange-purple', `PNG24:${base}`]);
    const made: { file: string; tool: string; args: string[] }[] = [
      { file: 'a.webp', tool: 'cwebp', args: ['-quiet', base, '-o'] },
      { file: 'a.tif', tool: 'convert', args: [base] },
      { file: 'a.avif', tool: 'avifenc', args: [base] },
      { file: 'a.heic', tool: 'heif-enc', args: [base, '-o'] },
      { file: 'a.jxl', tool: 'cjxl', args: ['--quiet', base] },
    ];
    const dataset = (await children(a))[0].node.ds;
    const checked: string[] = [];
    for (const m of made) {
      if (!onPath(m.tool)) continue;
      const out = path.join(extraDir, m.file);
      const r = spawnSync(m.tool, [...m.args, out], { encoding: 'utf8' });
      assert.equal(r.status, 0, `${m.tool}: ${r.stderr}`);
      // A row as the tree builds it (the file lies outside the watched folder, so counts stay as they are).
      const node: Node = { kind: 'image', ds: dataset, group: 'new', rel: path.relative(root, out) };
      const { uri } = await thumbnailIcon(a, node, m.file);
      assert.match(uri.fsPath, /-64\.webp$/);
      checked.push(m.file);
    }
    assert.ok(checked.length >= 3, `formats checked: ${checked.join(', ')}`);
  });

  it('without sharp in the engine worker (DATASET_INDEX_NO_SHARP=1 when it started): codicons, no preview, the reason logged once', async () => {
    // A second engine worker and service beside the extension's, started with the variable set:
    // a worker copies the environment when it starts, as the extension's would on such a platform.
    process.env[NO_SHARP_ENV] = '1';
    const engine = new EngineClient();
    const started = engine.thumbnail({ storeDir, maxCacheBytes: 1 << 20, file: path.join(root, 'camera0/day0/img0.png'), size: 64 });
    delete process.env[NO_SHARP_ENV];
    const log = vscode.window.createOutputChannel('Dataset Index (no-sharp test)', { log: true });
    const warned: string[] = [];
    const warn = log.warn.bind(log);
    log.warn = (message: string, ...args: unknown[]) => {
      warned.push(message);
      warn(message, ...args);
    };
    const service = new ThumbnailService<string>(engine, log);
    try {
      const first = await started;
      assert.equal(first.ok ? 'ok' : first.reason, 'no-sharp');
      const owner = { storeDir, folder: vscode.workspace.workspaceFolders![0] };
      const files = imagesFor(root, 3);
      const previews = await Promise.all(files.map((f) => service.preview(f, owner)));
      assert.deepEqual(previews, [null, null, null]);
      const item = new vscode.TreeItem('row');
      service.icon(item, files[0], owner, 'row');
      assert.ok(item.iconPath instanceof vscode.ThemeIcon, 'a codicon');
      assert.equal(warned.length, 1, warned.join('\n'));
      assert.match(warned[0], new RegExp(`Thumbnails are off.*${NO_SHARP_ENV}`));
    } finally {
      delete process.env[NO_SHARP_ENV];
      service.dispose();
      // The icon's request may still be open: it fails with the worker, and is logged, before the log goes.
      await engine.dispose();
      await new Promise((resolve) => setImmediate(resolve));
      log.dispose();
    }
  });
});

/** The first `n` image files of the workspace (absolute paths). */
function imagesFor(root: string, n: number): string[] {
  const out: string[] = [];
  const stack = [root];
  while (stack.length && out.length < n) {
    const dir = stack.pop()!;
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((x, y) => x.name.localeCompare(y.name))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory() && !e.name.startsWith('.')) stack.push(p);
      else if (e.isFile() && /\.(png|jpe?g)$/i.test(e.name) && out.length < n) out.push(p);
    }
  }
  return out;
}
