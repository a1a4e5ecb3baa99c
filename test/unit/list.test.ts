import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makePng } from '../helpers/images';
import { removeDir, tempDir } from '../helpers/tmp';

const repo = path.resolve(__dirname, '../../..');
const cli = path.join(repo, 'dist/cli.js');

function run(args: string[], input?: string): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', input, maxBuffer: 256 << 20 });
}

function ok(res: SpawnSyncReturns<string>): string {
  assert.equal(res.status, 0, res.stderr);
  return res.stdout;
}

function put(root: string, rel: string, bytes: Buffer): string {
  const abs = path.join(root, rel);
  fs.mkdirSync(path.dirname(abs), { recursive: true });
  fs.writeFileSync(abs, bytes);
  return abs;
}

const sorted = (lines: string[]): string[] => [...lines].sort();

describe('list: the full list of images for a pipeline', () => {
  let root: string;
  let store: string;
  let work: string;
  beforeEach(() => {
    root = tempDir('list-root');
    store = tempDir('list-store');
    work = tempDir('list-work');
  });
  afterEach(() => {
    for (const d of [root, store, work]) removeDir(d);
  });

  it('prints every new image, absolute by default, relative with --relative, NUL-terminated with -0', () => {
    const rels = ['a.png', 'x/b.png', 'x/y/c.jpg', 'odd name\nwith newline.png', 'ünï cødé/d.png'];
    rels.forEach((r, i) => put(root, r, makePng(4, 4, i)));
    put(root, 'notes.txt', Buffer.from('not an image'));
    const nul = ok(run(['list', root, '--store', store, '-0']));
    assert.ok(nul.endsWith('\0'));
    assert.deepEqual(sorted(nul.slice(0, -1).split('\0')), sorted(rels.map((r) => path.join(root, r))));
    const relative = ok(run(['list', root, '--store', store, '--relative', '-0']));
    assert.deepEqual(sorted(relative.slice(0, -1).split('\0')), sorted(rels));
    const lines = ok(run(['list', root, '--store', store])).split('\n');
    assert.equal(lines.pop(), '');
    assert.equal(lines.length, rels.length + 1, 'a newline in a name splits a line: that is what -0 is for');
  });

  it('lists each state once, in its most specific state; --jsonl carries what is known', async () => {
    for (let i = 0; i < 6; i++) put(root, `d/img${i}.png`, makePng(8, 6, i));
    put(root, 'd/broken.png', makePng(8, 6, 99).subarray(0, 40));
    ok(run(['register', root, '--store', store]));
    fs.rmSync(path.join(root, 'd/img0.png'));
    put(root, 'e/new1.png', makePng(5, 5, 100));
    put(root, 'e/new2.png', makePng(5, 5, 101));
    // An in-place edit (a verify scan sees it): the same name, other bytes.
    const edited = path.join(root, 'd/img1.png');
    fs.writeFileSync(edited, makePng(9, 9, 7));
    fs.utimesSync(edited, new Date(), new Date(Date.now() + 5000));
    const list = (status: string): string[] => sorted(ok(run(['list', root, '--store', store, '--relative', '--verify', '--status', status])).split('\n').filter(Boolean));
    assert.deepEqual(list('new'), ['e/new1.png', 'e/new2.png']);
    assert.deepEqual(list('missing'), ['d/img0.png']);
    assert.deepEqual(list('changed'), ['d/img1.png']);
    assert.deepEqual(list('unreadable'), ['d/broken.png']);
    assert.deepEqual(list('registered'), ['d/img2.png', 'd/img3.png', 'd/img4.png', 'd/img5.png']);
    const all = list('new,changed,missing,registered,unreadable');
    assert.equal(all.length, 9);
    assert.equal(new Set(all).size, 9, 'no image is listed twice');

    const rows = ok(run(['list', root, '--store', store, '--jsonl', '--status', 'new,registered,missing,unreadable,changed']))
      .trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const by = new Map(rows.map((r) => [r.path, r]));
    const reg = by.get('d/img2.png');
    assert.ok(reg);
    assert.equal(reg.status, 'registered');
    assert.equal(reg.abs_path, path.join(root, 'd/img2.png'));
    assert.equal(reg.width, 8);
    assert.equal(reg.height, 6);
    assert.equal(reg.format, 'png');
    assert.match(String(reg.hash), /^[0-9a-f]{16}$/);
    assert.equal(reg.size, fs.statSync(path.join(root, 'd/img2.png')).size);
    assert.equal(by.get('d/broken.png')?.status, 'unreadable');
    assert.ok(by.get('d/broken.png')?.reason, 'an unreadable row says why');
    assert.equal(by.get('d/img0.png')?.status, 'missing');
    const fresh = by.get('e/new1.png');
    assert.equal(fresh?.status, 'new');
    assert.equal(fresh?.hash, null, 'a new image is not read: no hash');
    for (const key of ['path', 'abs_path', 'status', 'size', 'mtime_ms', 'hash', 'width', 'height', 'format']) assert.ok(key in (fresh ?? {}), key);
  });

  it("feeds the seed's pipeline loop: Python reads `list -0`, registers into its own database, and then nothing is new", () => {
    for (let i = 0; i < 40; i++) put(root, `cam${i % 4}/frame ${i}.png`, makePng(6, 4, i));
    put(root, 'cam0/line\nbreak.png', makePng(6, 4, 1000));
    const db = path.join(work, 'pipeline.db');
    const script = path.join(work, 'pipeline.py');
    fs.writeFileSync(
      script,
      [
        'import sqlite3, subprocess, sys',
        'cli, root, store, db_path = sys.argv[1:5]',
        'db = sqlite3.connect(db_path)',
        'db.execute("PRAGMA journal_mode=WAL")',
        'db.execute("CREATE TABLE IF NOT EXISTS images (file_path TEXT PRIMARY KEY, size INTEGER)")',
        'def process_image(path):',
        '    with open(path, "rb") as f:',
        '        db.execute("INSERT INTO images VALUES (?, ?)", (path, len(f.read())))',
        'out = subprocess.run(["node", cli, "list", root, "--store", store, "-0",',
        '                      "--registered-from", db_path, "--table", "images", "--path-column", "file_path"],',
        '                     check=True, stdout=subprocess.PIPE).stdout',
        'unregistered = [p.decode() for p in out.split(b"\\0") if p]',
        'for path in unregistered:',
        '    process_image(path)',
        'db.commit()',
        'print(len(unregistered))',
      ].join('\n'),
    );
    const first = execFileSync('python3', [script, cli, root, store, db], { encoding: 'utf8' });
    assert.equal(first.trim(), '41');
    const second = execFileSync('python3', [script, cli, root, store, db], { encoding: 'utf8' });
    assert.equal(second.trim(), '0', 'the second run of the loop finds nothing new');
    const after = run(['list', root, '--store', store, '--registered-from', db, '--table', 'images', '--path-column', 'file_path']);
    assert.equal(ok(after), '');
    put(root, 'cam9/late.png', makePng(6, 4, 2000));
    assert.equal(ok(run(['list', root, '--store', store, '--registered-from', db, '--table', 'images', '--path-column', 'file_path'])), `${path.join(root, 'cam9/late.png')}\n`);
  });

  it('--duplicates prints one JSON group per line, with absolute paths', () => {
    const same = makePng(7, 7, 5);
    put(root, 'a/one.png', same);
    put(root, 'b/two.png', same);
    put(root, 'c/three.png', makePng(7, 7, 6));
    ok(run(['register', root, '--store', store]));
    const groups = ok(run(['list', root, '--store', store, '--duplicates'])).trim().split('\n').map((l) => JSON.parse(l) as { hash: string; paths: string[] });
    assert.equal(groups.length, 1);
    assert.deepEqual(sorted(groups[0].paths), [path.join(root, 'a/one.png'), path.join(root, 'b/two.png')]);
  });

  it('refuses bad input with exit 2 (usage) or 1 (no scan yet), one line each', () => {
    put(root, 'a.png', makePng(2, 2));
    for (const args of [['--status', 'fresh'], ['--status', ''], ['--jsonl', '-0'], ['--json']]) {
      const res = run(['list', root, '--store', store, ...args]);
      assert.equal(res.status, 2, `${args.join(' ')}: ${res.stderr}`);
    }
    const noScan = run(['list', root, '--store', store, '--no-scan']);
    assert.equal(noScan.status, 1, noScan.stderr);
    assert.match(noScan.stderr, /no usable scan of .*: run `dataset-index scan/);
    assert.equal(noScan.stderr.trim().split('\n').length, 1, noScan.stderr);
    assert.equal(noScan.stdout, '');
    ok(run(['scan', root, '--store', store]));
    assert.equal(ok(run(['list', root, '--store', store, '--no-scan'])), `${path.join(root, 'a.png')}\n`);
  });

  it('a reader that closes the pipe early (head) ends the listing quietly, exit 0', () => {
    for (let i = 0; i < 3000; i++) put(root, `f${i % 30}/img${i}.png`, makePng(1, 1, i));
    // `head` closes the pipe after one line: the listing stops quietly with exit 0.
    const out = execFileSync('bash', ['-o', 'pipefail', '-c', `node ${JSON.stringify(cli)} list ${JSON.stringify(root)} --store ${JSON.stringify(store)} | head -n 1`], {
      encoding: 'utf8',
    });
    assert.equal(out.split('\n').filter(Boolean).length, 1);
  });
});
