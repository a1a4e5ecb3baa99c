import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { datasetStatus, registerDataset, type DatasetRequest } from '../../src/core';
import { externalPathRule } from '../../src/core/registry/externalPathRule';
import { PyWriter } from '../helpers/pySqlite';
import { afterRacyWindow, removeDir, tempDir, writeImage, writeText } from '../helpers/tmp';

const repo = path.resolve(__dirname, '../../..');
const cli = path.join(repo, 'dist/cli.js');

function sqlite(file: string, sql: string): void {
  execFileSync('sqlite3', [file, sql]);
}

/** A VALUES list of SQL string literals. */
function values(rows: string[]): string {
  return rows.map((r) => `('${r.replace(/'/g, "''")}')`).join(', ');
}

describe('external registry (--registered-from): names, path rule, unmatched rows, WAL', function () {
  this.timeout(60_000);
  let base: string;
  let root: string;
  let store: string;
  let db: string;
  const status = (registeredFrom: DatasetRequest['registeredFrom']) =>
    datasetStatus({ root, storeDir: store, registeredFrom, hooks: { now: afterRacyWindow } });

  beforeEach(() => {
    base = tempDir('ext');
    root = path.join(base, 'dataset');
    store = path.join(base, 'store');
    db = path.join(base, 'pipeline.db');
    fs.mkdirSync(store);
    for (const rel of ['a/one.png', 'a/two.png', 'b c/three.png', 'Four.png', 'five.png', 'six.png']) writeImage(root, rel);
  });
  afterEach(() => removeDir(base));

  it('checks the file, table and column before the scan, listing the tables and columns there are', async () => {
    sqlite(db, "CREATE TABLE Images (id INTEGER PRIMARY KEY, File_Path TEXT); CREATE TABLE runs (x); CREATE VIEW done AS SELECT File_Path AS p FROM Images; INSERT INTO Images(File_Path) VALUES ('a/one.png')");
    const spec = (table: string, pathColumn: string, file = db) => ({ file, table, pathColumn });
    await assert.rejects(status(spec('images', 'file_path', path.join(base, 'nope.db'))), /external registry .*nope\.db does not exist/);
    writeText(base, 'notes.db', 'x'.repeat(200));
    await assert.rejects(status(spec('images', 'file_path', path.join(base, 'notes.db'))), /notes\.db is not a SQLite database/);
    const torn = path.join(base, 'torn.db');
    fs.writeFileSync(torn, Buffer.concat([fs.readFileSync(db).subarray(0, 100), Buffer.alloc(8192, 0xab)]));
    await assert.rejects(status(spec('images', 'file_path', torn)), /torn\.db is not a readable SQLite database: .*(malformed|not a database)/);
    const piped = path.join(base, 'piped.db');
    fs.copyFileSync(db, piped);
    execFileSync('mkfifo', [`${piped}-wal`]);
    await assert.rejects(status(spec('images', 'file_path', piped)), /piped\.db-wal is not a regular file \(FIFO\)/);
    await assert.rejects(status(spec('image', 'file_path')), /has no table image \(tables: Images, done, runs\)/);
    await assert.rejects(status(spec('images', 'path')), /table Images in .* has no column path \(columns: id, File_Path\)/);
    await assert.rejects(status(spec('other.images', 'path')), /schema other is not in .*only main/);
    // SQLite names are case-insensitive; `main.` names the file's own schema; a view reads as a table.
    for (const [table, col] of [['IMAGES', 'FILE_PATH'], ['main.images', 'file_path'], ['MAIN.Images', 'File_Path'], ['done', 'P']]) {
      const s = await status(spec(table, col));
      assert.equal(s.external, 1, `${table}.${col}`);
    }
  });

  it('applies one path rule to relative, absolute and file:// rows, and reports the rows that match nothing', async () => {
    const rows = [
      'a/one.png/', // trailing slash on a relative row
      `${root}/a/two.png/`, // … and on an absolute one
      pathToFileURL(path.join(root, 'b c/three.png')).href, // file:///…/b%20c/three.png
      './a//../Four.png', // ./, //, ..
      `${root}//five.png`, // duplicate slashes in an absolute row
      'six.PNG', // other case: not folded
      'dataset/a/one.png', // relative to the parent folder
      'a/missing.png',
      '/elsewhere/x.png', // outside
      '../dataset/a/one.png', // relative, but leaves the root: outside
      'file://otherhost/share/x.png', // another host: outside
      'a/one.png', // a duplicate of the first row after the rule
    ];
    sqlite(db, `CREATE TABLE images (path TEXT); INSERT INTO images VALUES ${values(rows)}`);
    const spec = { file: db, table: 'images', pathColumn: 'path' };
    const s = await status(spec);
    assert.equal(s.external, 5);
    assert.equal(s.new, 1); // six.png
    assert.deepEqual(s.externalRegistry, {
      file: db, rows: 12, paths: 8, matched: 5, unmatched: 3, outside: 3, walFrames: 0,
      examples: ['six.PNG', 'dataset/a/one.png', 'a/missing.png'],
    });
    assert.ok(s.notices.includes(`3 of 12 rows in ${db} are outside ${root} and were ignored`), s.notices.join('\n'));
    assert.ok(
      s.notices.includes(
        `3 of 8 paths in ${db} matched no image under ${root}, e.g. "six.PNG", "dataset/a/one.png", "a/missing.png" ` +
          `(paths are taken relative to ${root}; absolute paths must be under ${root} or its real path)`,
      ),
      s.notices.join('\n'),
    );
    // Given through a link, the root's real path is what the pipeline recorded: its rows still count.
    const link = path.join(base, 'link');
    fs.symlinkSync(root, link);
    const viaLink = await datasetStatus({ root: link, storeDir: store, registeredFrom: spec, hooks: { now: afterRacyWindow } });
    assert.equal(viaLink.external, 5);
    // Registered here already, a row still counts as matched: only rows naming nothing are reported.
    const reg = await registerDataset({ root, storeDir: store, registeredFrom: spec, hooks: { now: afterRacyWindow } });
    assert.equal(reg.toRegister, 1);
    assert.equal(reg.externalRegistry?.matched, 5);
    await registerDataset({ root, storeDir: store, hooks: { now: afterRacyWindow } });
    const again = await status(spec);
    assert.deepEqual([again.external, again.registered, again.externalRegistry?.matched, again.externalRegistry?.unmatched], [0, 6, 5, 3]);
  });

  it('path rule: backslashes are separators only in rows without a slash; case is kept', () => {
    const rule = externalPathRule('/data/set', 'linux');
    assert.equal(rule('a\\b.png'), 'a/b.png');
    assert.equal(rule('a/b\\c.png'), 'a/b\\c.png');
    assert.equal(rule('/data/set//a/./B.png'), 'a/B.png');
    assert.equal(rule('/data/settings/a.png'), null);
    assert.equal(rule('file:///data/set/%C3%A9t%C3%A9.png'), 'été.png');
    assert.equal(rule('file://localhost/data/set/x.png'), 'x.png');
  });

  it('status and register --json count rows committed only in the WAL of a database a live writer holds open', async () => {
    for (let i = 0; i < 24; i++) writeImage(root, `w/${String(i).padStart(2, '0')}.png`);
    const writer = new PyWriter(db);
    try {
      await writer.sql('PRAGMA journal_mode=WAL');
      await writer.sql('PRAGMA wal_autocheckpoint=0');
      await writer.sql('CREATE TABLE done (file_path TEXT)');
      await writer.sql("INSERT INTO done VALUES ('w/00.png'), ('w/01.png'), ('w/02.png'), ('w/03.png')");
      await writer.sql('PRAGMA wal_checkpoint(TRUNCATE)');
      for (let i = 4; i < 20; i++) await writer.sql(`INSERT INTO done VALUES ('${root}/w/${String(i).padStart(2, '0')}.png')`);
      await writer.sql('BEGIN');
      await writer.sql("INSERT INTO done VALUES ('w/20.png')"); // uncommitted: not registered
      const args = ['--store', store, '--json', '--registered-from', db, '--table', 'DONE', '--path-column', 'FILE_PATH'];
      const st = spawnSync(process.execPath, [cli, 'status', root, ...args], { encoding: 'utf8' });
      assert.equal(st.status, 0, st.stderr);
      const out = JSON.parse(st.stdout) as { external: number; new: number; externalRegistry: { rows: number; matched: number; walFrames: number } };
      assert.equal(out.external, 20);
      assert.equal(out.new, 6 + 4);
      assert.equal(out.externalRegistry.rows, 20);
      assert.equal(out.externalRegistry.matched, 20);
      assert.ok(out.externalRegistry.walFrames > 0);
      const reg = spawnSync(process.execPath, [cli, 'register', root, ...args], { encoding: 'utf8' });
      assert.equal(reg.status, 0, reg.stderr);
      assert.equal((JSON.parse(reg.stdout) as { toRegister: number }).toRegister, 10);
    } finally {
      await writer.kill();
    }
  });
});
