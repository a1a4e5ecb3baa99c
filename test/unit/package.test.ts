import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

const repo = path.resolve(__dirname, '../../..');

describe('extension package', () => {
  it('the .vsix would contain only the bundles (extension, scan worker, engine worker), the wasm, media, README, CHANGELOG, LICENSE and the manifest', function () {
    this.timeout(60_000);
    const out = execFileSync(path.join(repo, 'node_modules/.bin/vsce'), ['ls', '--no-dependencies'], { cwd: repo, encoding: 'utf8' });
    const files = out.split('\n').map((l) => l.trim()).filter(Boolean).sort();
    assert.deepEqual(files, [
      'CHANGELOG.md',
      'LICENSE',
      'README.md',
      'dist/dirWorker.js',
      'dist/engineWorker.js',
      'dist/extension.js',
      'dist/sql-wasm.wasm',
      'media/dataset-index.svg',
      'package.json',
    ]);
  });
});
