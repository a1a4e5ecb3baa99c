import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

const repo = path.resolve(__dirname, '../../..');

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
  );
}

describe('architecture', () => {
  it('src/core never imports vscode (the CLI and the tests run it without VS Code)', () => {
    const files = sources(path.join(repo, 'src/core'));
    assert.ok(files.length > 5, 'found the core sources');
    const importsVscode = /(from\s+['"]vscode['"])|(require\(\s*['"]vscode['"]\s*\))|(import\(\s*['"]vscode['"]\s*\))/;
    const offenders = files.filter((f) => importsVscode.test(fs.readFileSync(f, 'utf8')));
    assert.deepEqual(offenders, []);
  });

  it('the extension is the only place that imports vscode, and it is a real import there', () => {
    const ext = fs.readFileSync(path.join(repo, 'src/extension/extension.ts'), 'utf8');
    assert.match(ext, /from 'vscode'/);
  });
});
