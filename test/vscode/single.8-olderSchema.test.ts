// A registry written by an older version (schema 2, before the partial index on unreadable rows)
// is read by the extension as it is: migrated in memory, the file left alone; the next
// registration saves it in the current schema.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { DatasetIndexApi } from '../../src/extension/extension';
import { UNDO_V5 } from '../helpers/schema';
import { api, freshIndex, groupCount, imagesOnDisk, run, workspaceRoot } from './helpers';

const sqlite = (file: string, sql: string): string => execFileSync('sqlite3', [file, sql], { encoding: 'utf8' }).trim();

describe('a registry of an older schema', () => {
  let a: DatasetIndexApi;
  let file: string;

  before(async () => {
    a = await api();
    await freshIndex();
    await vscode.commands.executeCommand('datasetIndex.registerNew');
    file = path.join(a.datasets()[0].storeDir, 'registry.sqlite');
    // Undo what version 3 and later added (the perceptual hash column of 5 too): the file as version 2 left it.
    sqlite(file, `${UNDO_V5} DROP INDEX images_unreadable; PRAGMA user_version = 2;`);
  });

  it('is read by Index Images with the right counts, and the file is left byte for byte', async () => {
    const before = fs.readFileSync(file);
    const [r] = await run('datasetIndex.forceRescan');
    const registered = imagesOnDisk(workspaceRoot()).length;
    assert.equal(r.new, 0);
    assert.equal(await groupCount(a, 'Registered'), registered);
    assert.ok(fs.readFileSync(file).equals(before), 'a reader leaves the file as it is');
    assert.equal(sqlite(file, 'PRAGMA user_version'), '2');
  });

  it('is saved in the current schema by the next registration, even with nothing to register', async () => {
    const [r] = await vscode.commands.executeCommand<{ registered: number }[]>('datasetIndex.registerNew');
    assert.equal(r.registered, 0);
    assert.ok(Number(sqlite(file, 'PRAGMA user_version')) > 2);
    assert.equal(sqlite(file, "SELECT count(*) FROM sqlite_master WHERE name = 'images_unreadable'"), '1');
  });
});
