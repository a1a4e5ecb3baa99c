import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadSqlJs } from '../../src/core/registry/sqlite';
import { DatabaseChangingError, readDatabaseSnapshot } from '../../src/core/registry/walSnapshot';
import { PyWriter, pyRead } from '../helpers/pySqlite';
import { removeDir, tempDir } from '../helpers/tmp';

/** Rows of `sql` as our reader sees the database (DB + committed WAL, opened in memory). */
async function ourRead(file: string, sql: string): Promise<unknown[][]> {
  const SQL = await loadSqlJs();
  const db = new SQL.Database((await readDatabaseSnapshot(file)).image);
  try {
    return db.exec(sql)[0]?.values ?? [];
  } finally {
    db.close();
  }
}

function insertRows(from: number, to: number, pad = 0): string {
  const padding = pad ? ` || '#' || hex(randomblob(${pad}))` : '';
  return (
    `WITH RECURSIVE c(i) AS (SELECT ${from} UNION ALL SELECT i + 1 FROM c WHERE i < ${to}) ` +
    `INSERT INTO images(path) SELECT printf('img/%05d.png', i)${padding} FROM c`
  );
}

function fingerprint(dir: string): string {
  const h = createHash('sha256');
  for (const name of fs.readdirSync(dir).sort()) {
    const st = fs.statSync(path.join(dir, name));
    h.update(`${name}:${st.size}:${st.mtimeMs}:`).update(fs.readFileSync(path.join(dir, name)));
  }
  return h.digest('hex');
}

const COUNT = 'SELECT count(*), count(DISTINCT path), max(path) FROM images';
const WAL_FRAME = 24 + 4096;

describe('WAL snapshot: an external database read as SQLite reads it', function () {
  this.timeout(60_000);
  let dir: string;
  let file: string;
  let writer: PyWriter;

  beforeEach(async () => {
    dir = tempDir('wal');
    file = path.join(dir, 'pipeline.db');
    writer = new PyWriter(file);
    await writer.sql('PRAGMA journal_mode=WAL');
    await writer.sql('PRAGMA wal_autocheckpoint=0');
  });
  afterEach(async () => {
    await writer.kill();
    removeDir(dir);
  });

  it('sees rows committed only in the WAL while the writer holds the database open, and writes nothing', async () => {
    await writer.sql('CREATE TABLE images (id INTEGER PRIMARY KEY, path TEXT)');
    await writer.sql(insertRows(1, 1000));
    await writer.sql('PRAGMA wal_checkpoint(TRUNCATE)');
    for (let t = 0; t < 4; t++) await writer.sql(insertRows(1001 + t * 537, 1000 + (t + 1) * 537));
    assert.ok(fs.statSync(`${file}-wal`).size > 10 * WAL_FRAME, 'the later rows are in the WAL only');
    const before = fingerprint(dir);
    const ours = await ourRead(file, COUNT);
    assert.equal(fingerprint(dir), before, 'no file of the database was touched');
    assert.deepEqual(ours, [[3148, 3148, 'img/03148.png']]);
    assert.deepEqual(ours, pyRead(file, COUNT));
    const SQL = await loadSqlJs();
    const mainOnly = new SQL.Database(fs.readFileSync(file));
    assert.deepEqual(mainOnly.exec(COUNT)[0].values, [[1000, 1000, 'img/01000.png']], 'the main file alone is the stale read');
    mainOnly.close();
  });

  it('finds a table created only in the WAL (the database file holds just the header)', async () => {
    await writer.sql('CREATE TABLE images (id INTEGER PRIMARY KEY, path TEXT)');
    await writer.sql(insertRows(1, 50));
    assert.ok(fs.statSync(file).size <= 4096);
    assert.deepEqual(await ourRead(file, COUNT), pyRead(file, COUNT));
    assert.deepEqual(await ourRead(file, COUNT), [[50, 50, 'img/00050.png']]);
  });

  it('ignores the frames of a transaction still open (spilled to the WAL without a commit)', async () => {
    await writer.sql('CREATE TABLE images (id INTEGER PRIMARY KEY, path TEXT)');
    await writer.sql(insertRows(1, 300));
    const committedSize = fs.statSync(`${file}-wal`).size;
    await writer.sql('PRAGMA cache_size=5');
    await writer.sql('BEGIN');
    await writer.sql(insertRows(301, 6000, 100));
    assert.ok(fs.statSync(`${file}-wal`).size > committedSize + 5 * WAL_FRAME, 'uncommitted pages were spilled to the WAL');
    assert.deepEqual(await ourRead(file, COUNT), [[300, 300, 'img/00300.png']]);
    assert.deepEqual(await ourRead(file, COUNT), pyRead(file, COUNT));
  });

  it('stops at the first frame that fails its checksum, like SQLite recovery (garbage and a damaged page)', async () => {
    await writer.sql('CREATE TABLE images (id INTEGER PRIMARY KEY, path TEXT)');
    const sizes: number[] = [];
    for (let t = 0; t < 3; t++) {
      await writer.sql(insertRows(1 + t * 400, (t + 1) * 400));
      sizes.push(fs.statSync(`${file}-wal`).size);
    }
    // Copies, so the reference reader is the only connection (it runs last: closing checkpoints).
    const copy = (name: string, mutate: (wal: Buffer) => Buffer): string => {
      const to = path.join(dir, name);
      fs.copyFileSync(file, to);
      fs.writeFileSync(`${to}-wal`, mutate(fs.readFileSync(`${file}-wal`)));
      return to;
    };
    const garbage = copy('garbage.db', (w) => Buffer.concat([w, Buffer.alloc(3 * WAL_FRAME, 0x5a)]));
    const damaged = copy('damaged.db', (w) => {
      const at = sizes[0] + WAL_FRAME + 24 + 100; // a page byte of the second transaction's second frame
      w[at] ^= 0xff;
      return w;
    });
    const oursGarbage = await ourRead(garbage, COUNT);
    const oursDamaged = await ourRead(damaged, COUNT);
    assert.deepEqual(oursGarbage, [[1200, 1200, 'img/01200.png']]);
    assert.deepEqual(oursDamaged, [[400, 400, 'img/00400.png']]);
    assert.deepEqual(oursGarbage, pyRead(garbage, COUNT));
    assert.deepEqual(oursDamaged, pyRead(damaged, COUNT));
  });

  it('reads a WAL restarted after a checkpoint (new salts; older frames after the new ones are stale)', async () => {
    await writer.sql('CREATE TABLE images (id INTEGER PRIMARY KEY, path TEXT)');
    await writer.sql(insertRows(1, 2000));
    const firstHeader = fs.readFileSync(`${file}-wal`).subarray(0, 32);
    const bigSize = fs.statSync(`${file}-wal`).size;
    await writer.sql('PRAGMA wal_checkpoint(RESTART)');
    await writer.sql("UPDATE images SET path = 'renamed/' || path WHERE id <= 10");
    const wal = fs.readFileSync(`${file}-wal`);
    assert.equal(wal.length, bigSize, 'the WAL was rewritten from the start, not truncated');
    assert.notDeepEqual(wal.subarray(16, 24), firstHeader.subarray(16, 24), 'new salts');
    const sql = "SELECT count(*), sum(path LIKE 'renamed/%') FROM images";
    assert.deepEqual(await ourRead(file, sql), [[2000, 10]]);
    assert.deepEqual(await ourRead(file, sql), pyRead(file, sql));
  });

  it('retries when the WAL moves between its read and the database read, and fails loudly if it never settles', async () => {
    await writer.sql('CREATE TABLE images (id INTEGER PRIMARY KEY, path TEXT)');
    await writer.sql(insertRows(1, 100));
    let n = 100;
    const SQL = await loadSqlJs();
    const once = await readDatabaseSnapshot(file, {
      afterDatabaseRead: async (attempt) => {
        if (attempt === 1) await writer.sql(insertRows(++n, (n += 49)));
      },
    });
    const db = new SQL.Database(once.image);
    assert.deepEqual(db.exec(COUNT)[0].values, [[150, 150, 'img/00150.png']]);
    db.close();
    await assert.rejects(
      readDatabaseSnapshot(file, { attempts: 3, afterDatabaseRead: async () => void (await writer.sql(insertRows(++n, ++n))) }),
      (err: unknown) => err instanceof DatabaseChangingError && /changed during each of 3 reads/.test(err.message),
    );
  });
});
