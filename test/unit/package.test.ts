import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const repo = path.resolve(__dirname, '../../..');

describe('extension package', () => {
  it('the .vsix would contain only the bundles (extension, scan, engine, near-duplicate groups and decode workers), the wasm, sharp for this platform, media (the icon, the gallery webview), README, CHANGELOG, LICENSE and the manifest', function () {
    this.timeout(120_000);
    // What `npm run package` does before vsce: sharp and its binaries for this machine into dist/node_modules.
    execFileSync(process.execPath, ['scripts/stageSharp.mjs'], { cwd: repo, encoding: 'utf8' });
    const out = execFileSync(path.join(repo, 'node_modules/.bin/vsce'), ['ls', '--no-dependencies'], { cwd: repo, encoding: 'utf8' });
    const files = out.split('\n').map((l) => l.trim()).filter(Boolean).sort();
    const ours = files.filter((f) => !f.startsWith('dist/node_modules/'));
    assert.deepEqual(ours, [
      'CHANGELOG.md',
      'LICENSE',
      'README.md',
      'dist/decodeWorker.js',
      'dist/dirWorker.js',
      'dist/engineWorker.js',
      'dist/extension.js',
      'dist/jxl_dec.wasm',
      'dist/libheif.wasm',
      'dist/similarGroupsWorker.js',
      'dist/sql-wasm.wasm',
      'media/dataset-index.svg',
      'media/gallery/gallery.css',
      'media/gallery/gallery.js',
      'package.json',
      'package.nls.json',
    ]);
    const packages = new Set(
      files.filter((f) => f.startsWith('dist/node_modules/')).map((f) => {
        const parts = f.slice('dist/node_modules/'.length).split('/');
        return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
      }),
    );
    const platform = `${process.platform}-${process.arch}`;
    const expected = ['sharp', '@img/colour', 'detect-libc', 'semver', `@img/sharp-${platform}`];
    if (process.platform !== 'win32') expected.push(`@img/sharp-libvips-${platform}`);
    assert.deepEqual([...packages].sort(), expected.sort(), 'sharp, its three small dependencies and the two binary packages of this platform, nothing else');
    assert.ok(files.some((f) => f.endsWith('.node') && f.includes(`@img/sharp-${platform}/`)), 'the native addon is in');
    assert.ok(!files.some((f) => f.startsWith('dist/node_modules/sharp/src/')), "sharp's C++ sources stay out");
  });

  it('user-facing strings are localizable: every %key% of package.json is in package.nls.json, and messages go through vscode.l10n.t', () => {
    const manifest = fs.readFileSync(path.join(repo, 'package.json'), 'utf8');
    const nls = JSON.parse(fs.readFileSync(path.join(repo, 'package.nls.json'), 'utf8')) as Record<string, string>;
    const keys = [...manifest.matchAll(/"%([^%"]+)%"/g)].map((m) => m[1]);
    assert.ok(keys.length > 30, `the manifest's titles and descriptions are keys (found ${keys.length})`);
    assert.deepEqual(keys.filter((k) => typeof nls[k] !== 'string'), [], 'keys without an English text');
    assert.deepEqual(Object.keys(nls).filter((k) => !keys.includes(k)), [], 'texts no key uses');
    const pkg = JSON.parse(manifest) as { contributes: { commands: { title: string }[] } };
    assert.deepEqual(pkg.contributes.commands.filter((c) => !c.title.startsWith('%')), [], 'command titles are keys');
    // A message, prompt or tree label written as a bare literal would reach the user untranslated.
    const dir = path.join(repo, 'src/extension');
    const bare = /\b(show(?:Information|Warning|Error)Message|showInputBox|showQuickPick|withCancellableProgress)\(\s*['`]|\b(?:prompt|placeHolder|title): ['`]|new vscode\.TreeItem\((?:'|`(?!\$\{))/;
    const offenders: string[] = [];
    for (const file of fs.readdirSync(dir, { recursive: true }) as string[]) {
      if (!file.endsWith('.ts')) continue;
      fs.readFileSync(path.join(dir, file), 'utf8').split('\n').forEach((line, i) => {
        if (bare.test(line)) offenders.push(`${file}:${i + 1}: ${line.trim()}`);
      });
    }
    assert.deepEqual(offenders, []);
  });
});
