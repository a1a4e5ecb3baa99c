import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { registryFileFor } from '../../src/core';
import { makePng } from '../helpers/images';
import { UNDO_V5 } from '../helpers/schema';
import { SCHEMA_VERSION } from '../../src/core/registry/schema';
import { removeDir, tempDir } from '../helpers/tmp';

const repo = path.resolve(__dirname, '../../..');
const cli = path.join(repo, 'dist/cli.js');

function sqlite(file: string, sql: string): string {
  return execFileSync('sqlite3', [file, sql], { encoding: 'utf8' }).trim();
}

function images(root: string, count: number): void {
  for (let i = 0; i < count; i++) {
    fs.mkdirSync(path.join(root, `d${i % 2}`), { recursive: true });
    fs.writeFileSync(path.join(root, `d${i % 2}/img${i}.png`), makePng(5, 4, i));
  }
}

describe('a dataset is its real folder', () => {
  let real: string;
  let links: string;
  let cache: string;
  let link: string;
  const run = (args: string[]): SpawnSyncReturns<string> =>
    spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, XDG_CACHE_HOME: cache } });
  const json = (args: string[]): Record<string, unknown> => {
    const res = run([...args, '--json']);
    assert.equal(res.status, 0, res.stderr);
    return JSON.parse(res.stdout) as Record<string, unknown>;
  };
  beforeEach(() => {
    real = fs.realpathSync(tempDir('canon-real'));
    links = tempDir('canon-links');
    cache = tempDir('canon-cache');
    link = path.join(links, 'via-link');
    fs.symlinkSync(real, link);
    images(real, 6);
  });
  afterEach(() => {
    removeDir(real);
    removeDir(links);
    removeDir(cache);
  });

  it('registered through a symlink, the real path finds the same store, cache and rows; export is the same by either path', () => {
    // No --store: the CLI's default store is named after the real folder too.
    const reg = json(['register', link]);
    assert.equal(reg.root, real, 'reports show the real root');
    assert.equal(reg.registered, 6);
    const status = json(['status', real]);
    assert.equal(status.root, real);
    assert.equal(status.new, 0);
    assert.equal(status.registered, 6);
    assert.equal((status.scan as { mode: string }).mode, 'quick', 'the cache is shared: a quick scan, not a full one');
    const scan = json(['scan', link]);
    assert.equal(scan.root, real);
    assert.equal(scan.mode, 'quick');
    const viaLink = run(['export', link, '--format', 'csv']);
    const viaReal = run(['export', real, '--format', 'csv']);
    assert.equal(viaLink.status, 0, viaLink.stderr);
    assert.equal(viaLink.stdout.split('\n').length, 8);
    assert.equal(viaLink.stdout, viaReal.stdout);
    assert.ok(viaLink.stdout.includes(path.join(real, 'd0/img0.png')), 'abs_path is under the real folder');
    // One store, one root row.
    const stores = fs.readdirSync(path.join(cache, 'dataset-index'));
    assert.equal(stores.length, 1);
    assert.equal(sqlite(registryFileFor(path.join(cache, 'dataset-index', stores[0])), 'SELECT path FROM roots'), real);
  });

  it('rows recorded under a symlinked path (before roots were real paths) are found, and the writer records the real path', () => {
    const store = tempDir('canon-store');
    try {
      const reg = json(['register', real, '--store', store]);
      assert.equal(reg.registered, 6);
      const file = registryFileFor(store);
      // What an older version wrote when the dataset was given through the link.
      execFileSync('sqlite3', [file, `UPDATE roots SET path = '${link.replace(/'/g, "''")}'`]);
      const status = json(['status', real, '--store', store]);
      assert.equal(status.new, 0, 'the rows under the link path are this folder\'s rows');
      assert.equal(status.registered, 6);
      assert.equal(sqlite(file, 'SELECT path FROM roots'), link, 'a reader changes nothing');
      const again = json(['register', link, '--store', store]);
      assert.equal(again.toRegister, 0, 'nothing is registered twice');
      assert.equal(sqlite(file, 'SELECT path FROM roots'), real, 'the writer records the real path');
      assert.equal(sqlite(file, 'SELECT count(*) FROM images'), '6');
    } finally {
      removeDir(store);
    }
  });

  it('two arguments naming one folder are one root', () => {
    const res = run(['scan', link, real, '--json']);
    assert.equal(res.status, 0, res.stderr);
    assert.equal(res.stdout.trim().split('\n').length, 1);
  });
});

describe('a registry of an older schema', () => {
  let root: string;
  let store: string;
  const json = (args: string[]): Record<string, unknown> => {
    const res = spawnSync(process.execPath, [cli, ...args, '--store', store, '--json'], { encoding: 'utf8' });
    assert.equal(res.status, 0, res.stderr);
    return JSON.parse(res.stdout) as Record<string, unknown>;
  };
  beforeEach(() => {
    root = tempDir('schema-root');
    store = tempDir('schema-store');
    images(root, 4);
  });
  afterEach(() => {
    removeDir(root);
    removeDir(store);
  });

  it('is read by status, migrated in memory (the file left byte for byte), and saved migrated by a register with nothing to do', () => {
    assert.equal(json(['register', root]).registered, 4);
    const file = registryFileFor(store);
    // Undo version 3: what version 2 wrote.
    execFileSync('sqlite3', [file, `${UNDO_V5} DROP INDEX images_unreadable; PRAGMA user_version = 2;`]);
    const before = fs.readFileSync(file);
    const status = json(['status', root]);
    assert.equal(status.new, 0);
    assert.equal(status.registered, 4);
    assert.equal(status.unreadable, 0);
    assert.ok(fs.readFileSync(file).equals(before), 'a reader leaves the file as it is');
    assert.equal(sqlite(file, 'PRAGMA user_version'), '2');

    const reg = json(['register', root]);
    assert.equal(reg.toRegister, 0);
    assert.equal(sqlite(file, 'PRAGMA user_version'), String(SCHEMA_VERSION));
    assert.equal(sqlite(file, "SELECT count(*) FROM sqlite_master WHERE name = 'images_unreadable'"), '1');
    assert.equal(sqlite(file, 'SELECT count(*) FROM images'), '4');
    assert.ok((reg.notices as string[]).some((n) => /current schema/.test(n)));
    assert.equal(json(['status', root]).registered, 4);
  });

  it("version 3's format names become one name per format (4): bigtiff, jxl-stream, j2c, AVIF as heif; an SVG is no longer readable", () => {
    assert.equal(json(['register', root]).registered, 4);
    const file = registryFileFor(store);
    execFileSync('sqlite3', [file, UNDO_V5 + [
      "UPDATE images SET format = 'bigtiff' WHERE path = 'd0/img0.png'",
      "UPDATE images SET format = 'jxl-stream' WHERE path = 'd1/img1.png'",
      "UPDATE images SET format = 'heif', path = 'd0/photo.AVIF' WHERE path = 'd0/img2.png'",
      "UPDATE images SET format = 'svg' WHERE path = 'd1/img3.png'",
      'PRAGMA user_version = 3',
    ].join('; ')]);
    const listed = spawnSync(process.execPath, [cli, 'list', root, '--store', store, '--jsonl', '--status', 'registered,unreadable,missing'], { encoding: 'utf8' });
    assert.equal(listed.status, 0, listed.stderr);
    const rows = new Map(listed.stdout.trim().split('\n').map((l) => JSON.parse(l) as { path: string; format: string | null; status: string }).map((r) => [r.path, r]));
    assert.equal(rows.get('d0/img0.png')?.format, 'tiff');
    assert.equal(rows.get('d1/img1.png')?.format, 'jxl');
    assert.equal(rows.get('d0/photo.AVIF')?.format, 'avif');
    assert.equal(rows.get('d1/img3.png')?.status, 'unreadable');
    assert.equal(sqlite(file, 'PRAGMA user_version'), '3', 'a reader migrates in memory only');
    json(['register', root]);
    assert.equal(sqlite(file, 'PRAGMA user_version'), String(SCHEMA_VERSION));
    assert.equal(sqlite(file, "SELECT count(*) FROM images WHERE format IN ('bigtiff', 'jxl-stream', 'svg')"), '0');
  });
});
