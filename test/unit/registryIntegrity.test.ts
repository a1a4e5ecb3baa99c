// The registry file as found on disk: newer, foreign, damaged in ways quick_check misses, replaced
// under a writer. Real files, checked with the real sqlite3.
import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Registry, RegistryChangedError, RegistryCorruptError, RegistryForeignError, RegistrySchemaError, type ImageRow } from '../../src/core/registry/registry';
import { contentHash, sumFileFor } from '../../src/core/registry/integrity';
import { SCHEMA_VERSION } from '../../src/core/registry/schema';
import { removeDir, tempDir } from '../helpers/tmp';

function sqlite(file: string, sql: string): string {
  return execFileSync('sqlite3', [file, sql], { encoding: 'utf8' }).trim();
}

/** A small deterministic generator, so a failing flip can be found again. */
function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

function rows(n: number, rnd: () => number): ImageRow[] {
  const out: ImageRow[] = [];
  for (let i = 0; i < n; i++) {
    const hash = Math.floor(rnd() * 2 ** 52).toString(16).padStart(16, '0');
    out.push({ path: `d${i % 40}/img_${i}_${hash.slice(0, 6)}.jpg`, size: 1000 + i, mtimeMs: 1.7e12 + i, hash, width: 64, height: 48, format: 'jpg', status: 'ok', reason: null, registeredAt: 1.7e12 });
  }
  return out;
}

describe('registry integrity on disk', function () {
  this.timeout(120_000);
  let dir: string;
  let file: string;
  beforeEach(async () => {
    dir = tempDir('integrity');
    file = path.join(dir, 'registry.sqlite');
    const { registry } = await Registry.open(file);
    registry.upsert(registry.rootId('/data'), rows(4000, random(7)));
    await registry.save();
    registry.close();
  });
  afterEach(() => removeDir(dir));

  it('refuses a newer schema and leaves the file as it is', async () => {
    sqlite(file, 'PRAGMA user_version = 99');
    const before = fs.readFileSync(file);
    for (const readOnly of [false, true]) {
      await assert.rejects(Registry.open(file, { readOnly }), (err: unknown) => {
        assert.ok(err instanceof RegistrySchemaError);
        assert.match(err.message, new RegExp(`${file}.*schema version 99.*understands \\(${SCHEMA_VERSION}\\).*upgrade dataset-index`));
        return true;
      });
    }
    assert.ok(before.equals(fs.readFileSync(file)));
    assert.deepEqual(fs.readdirSync(dir).filter((f) => f.includes('corrupt')), []);
  });

  it("refuses another program's SQLite database and leaves it as it is", async () => {
    fs.rmSync(file);
    sqlite(file, 'CREATE TABLE photos(id INTEGER PRIMARY KEY, file_path TEXT); INSERT INTO photos(file_path) VALUES (\'a.jpg\')');
    const before = fs.readFileSync(file);
    await assert.rejects(Registry.open(file), (err: unknown) => {
      assert.ok(err instanceof RegistryForeignError);
      assert.match(err.message, /is an SQLite database of another program \(tables: photos; schema version 0\)/);
      return true;
    });
    assert.ok(before.equals(fs.readFileSync(file)));
  });

  it('finds b-tree damage that passes quick_check, moves the file aside and never writes to it', async function () {
    const good = fs.readFileSync(file);
    const pageSize = good.readUInt16BE(16) === 1 ? 65536 : good.readUInt16BE(16);
    const pages = good.length / pageSize;
    const rnd = random(2026);
    const damaged = path.join(dir, 'damaged.sqlite');
    let found = 0;
    for (let trial = 0; trial < 400 && found < 3; trial++) {
      const bytes = Buffer.from(good);
      const page = 1 + Math.floor(rnd() * (pages - 1)); // never the header page
      const at = page * pageSize + Math.floor(rnd() * pageSize);
      bytes[at] ^= 1 << Math.floor(rnd() * 8);
      fs.writeFileSync(damaged, bytes);
      if (sqlite(damaged, 'PRAGMA quick_check') !== 'ok') continue;
      if (spawnSync('sqlite3', [damaged, 'PRAGMA integrity_check'], { encoding: 'utf8' }).stdout.trim() === 'ok') continue;
      found++;
      fs.writeFileSync(file, bytes); // what a bit flip on disk does: our sum record no longer matches
      await assert.rejects(Registry.open(file, { readOnly: true }), (err: unknown) => {
        assert.ok(err instanceof RegistryCorruptError);
        assert.match(err.message, new RegExp(`the registry ${file} is corrupt .*run \`dataset-index register <folder>\` to move it aside`));
        return true;
      });
      assert.ok(fs.existsSync(file), 'a reader moves nothing');
      const { registry, notice } = await Registry.open(file);
      const aside = /moved to (\S+) and a new one started \(run `dataset-index register --verify <folder>` to rebuild it\)/.exec(notice ?? '')?.[1];
      assert.ok(aside && fs.readFileSync(aside).equals(bytes), notice);
      assert.equal(registry.count(registry.findRootId('/data')), 0, 'a fresh registry');
      registry.close();
      fs.rmSync(aside);
    }
    assert.ok(found >= 1, 'found flips that pass quick_check but not integrity_check');
  });

  it('corruption met by a later query is one error naming the file, which is moved aside', async () => {
    // A damaged file whose sum record was rewritten to match: opened without a check, as a file
    // damaged after it was checked would be; the first query that meets the damage must say so.
    const bytes = fs.readFileSync(file);
    const pageSize = bytes.readUInt16BE(16);
    for (let p = 1; p < bytes.length / pageSize; p++) bytes.fill(0xee, p * pageSize + 8, (p + 1) * pageSize);
    fs.writeFileSync(file, bytes);
    const st = fs.statSync(file);
    fs.writeFileSync(sumFileFor(file), JSON.stringify({ size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, xxh64: await contentHash(bytes) }));
    const { registry } = await Registry.open(file);
    assert.throws(
      () => registry.loadIndex(registry.findRootId('/data')),
      (err: unknown) => {
        assert.ok(err instanceof RegistryCorruptError, String(err));
        assert.match(err.message, new RegExp(`^the registry ${file} is corrupt \\(.*\\); it was moved to ${file}\\.corrupt-\\S+; nothing more was written; run \`dataset-index register --verify <folder>\` to rebuild it$`));
        return true;
      },
    );
    registry.close();
    assert.ok(!fs.existsSync(file));
  });

  it('a save over a file another writer replaced meanwhile is refused; the other rows stay', async () => {
    const { registry: mine } = await Registry.open(file);
    const { registry: theirs } = await Registry.open(file);
    theirs.upsert(theirs.rootId('/other'), rows(10, random(3)));
    await theirs.save();
    theirs.close();
    mine.upsert(mine.rootId('/data'), rows(5, random(4)));
    await assert.rejects(mine.save(), RegistryChangedError);
    mine.close();
    assert.equal(sqlite(file, "SELECT count(*) FROM images JOIN roots ON roots.id = root_id WHERE roots.path = '/other'"), '10');
  });

  it('a directory at the registry path is a clear error', async () => {
    fs.rmSync(file);
    fs.mkdirSync(file);
    await assert.rejects(Registry.open(file), /the registry .* is a directory, not a registry file/);
  });
});
