import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

const repo = path.resolve(__dirname, '../../..');

describe('extension package', () => {
  it('the .vsix would contain only the bundles (extension, scan and decode workers), the wasm, sharp for this platform, media (the icon, the gallery webview), README, CHANGELOG, LICENSE and the manifest', function () {
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
      'dist/extension.js',
      'dist/jxl_dec.wasm',
      'dist/libheif.wasm',
      'dist/sql-wasm.wasm',
      'media/dataset-index.svg',
      'media/gallery/gallery.css',
      'media/gallery/gallery.js',
      'package.json',
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
});
