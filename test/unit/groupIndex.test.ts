import * as assert from 'node:assert/strict';
import { compareAsciiNames, compareNames, GroupIndex } from '../../src/core/engine/groupIndex';

describe('tree group index', () => {
  const paths = ['root.png', 'a/x.png', 'a/b/y.png', 'a/b/z.png', 'a/b/c/w.png', 'd/img10.png', 'd/img2.png', 'd/img1.png'];
  const index = new GroupIndex(paths);

  it('arranges paths as folders with subtree counts', () => {
    assert.equal(index.size, 8);
    assert.deepEqual(index.childFolders(''), ['a', 'd']);
    assert.deepEqual(index.filesIn(''), ['root.png']);
    assert.equal(index.total(''), 8);
    assert.equal(index.total('a'), 4);
    assert.equal(index.total('a/b'), 3);
    assert.equal(index.total('a/b/c'), 1);
    assert.deepEqual(index.childFolders('a'), ['a/b']);
    assert.deepEqual(index.childFolders('a/b'), ['a/b/c']);
  });

  it('sorts names as a person would (img2 before img10)', () => {
    assert.deepEqual(index.filesIn('d'), ['img1.png', 'img2.png', 'img10.png']);
  });

  it("orders names as the collator does, its fast path included (random names, digits, case, punctuation, accents)", () => {
    const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });
    // Seeded: a failure names the pair, and the same pairs come back on the next run.
    let seed = 0x2f6b_1d3a;
    const rand = (n: number): number => {
      seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
      return seed % n;
    };
    const alphabet = ['a', 'b', 'B', 'z', 'Z', 'i', 'm', 'g', '0', '0', '1', '2', '9', '_', '-', '.', ' ', 'é', 'ß'];
    const name = (): string => {
      let s = '';
      for (let k = 1 + rand(10); k > 0; k--) s += rand(4) === 0 ? String(rand(120)).padStart(rand(5), '0') : alphabet[rand(alphabet.length)];
      return s;
    };
    let fast = 0;
    for (let k = 0; k < 50_000; k++) {
      const a = name();
      const b = rand(3) === 0 ? a.replace(/\d+/, (d) => String(Number(d) + rand(3) - 1)) : name();
      const want = Math.sign(collator.compare(a, b));
      assert.equal(Math.sign(compareNames(a, b)), want, `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
      const quick = compareAsciiNames(a, b);
      if (quick !== null) {
        fast++;
        assert.equal(Math.sign(quick), want, `fast path: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
      }
    }
    // The fast path must actually take most plain names (else it is dead weight).
    assert.ok(fast > 10_000, `fast path answered ${fast} of 50,000`);
    const numbered = Array.from({ length: 1000 }, (_, k) => `IMG_${String((k * 7919) % 1000).padStart(k % 3, '0')}.jpg`);
    assert.deepEqual([...numbered].sort(compareNames), [...numbered].sort(collator.compare));
  });

  it('lists every path under a folder, for registering a folder', () => {
    assert.deepEqual(index.pathsUnder('a').sort(), ['a/b/c/w.png', 'a/b/y.png', 'a/b/z.png', 'a/x.png']);
    assert.equal(index.pathsUnder('').length, 8);
  });

  it('builds a million paths in 10k folders per folder, not per file', () => {
    const many: string[] = [];
    for (let d = 0; d < 10_000; d++) for (let f = 0; f < 100; f++) many.push(`t${d % 100}/d${d}/img${f}.jpg`);
    const big = new GroupIndex(many);
    assert.equal(big.total(''), 1_000_000);
    assert.equal(big.childFolders('').length, 100);
    assert.equal(big.childFolders('t7').length, 100);
    assert.equal(big.filesIn('t7/d107').length, 100);
  });

  describe('updated from a batch, not rebuilt', () => {
    /** Everything a view can ask, for comparing an updated index with one built from scratch. */
    function shape(ix: GroupIndex): unknown {
      const out: Record<string, unknown> = {};
      const stack = [''];
      while (stack.length) {
        const d = stack.pop() as string;
        out[d] = { total: ix.total(d), folders: [...ix.childFolders(d)], files: [...ix.filesIn(d)] };
        stack.push(...ix.childFolders(d));
      }
      return { size: ix.size, out };
    }

    it('adds into known and new folders, removes down to empty folders, and says which rows changed', () => {
      const ix = new GroupIndex(['a/x.png', 'a/b/y.png', 'd/img1.png']);
      ix.filesIn('a'); // sorted: later additions are merged in order
      const add = ix.update(['a/w.png', 'a/b/c/e/new.png', 'z/q.png'], []);
      assert.deepEqual([...add.changed].sort(), ['', 'a', 'a/b', 'a/b/c', 'a/b/c/e', 'z']);
      assert.deepEqual(add.gone, []);
      assert.deepEqual(ix.filesIn('a'), ['w.png', 'x.png']);
      assert.deepEqual(ix.childFolders(''), ['a', 'd', 'z']);
      assert.deepEqual(ix.childFolders('a/b'), ['a/b/c']);
      assert.equal(ix.total('a'), 4);
      assert.equal(ix.size, 6);
      const rm = ix.update([], ['a/b/c/e/new.png', 'd/img1.png', 'not/there.png']);
      assert.deepEqual([...rm.changed].sort(), ['', 'a', 'a/b']);
      assert.deepEqual([...rm.gone].sort(), ['a/b/c', 'a/b/c/e', 'd']);
      assert.deepEqual(ix.childFolders(''), ['a', 'z']);
      assert.deepEqual(ix.childFolders('a/b'), []);
      assert.equal(ix.total('d'), 0);
      assert.deepEqual(shape(ix), shape(new GroupIndex(['a/x.png', 'a/w.png', 'a/b/y.png', 'z/q.png'])));
    });

    it('is idempotent: a path already present (or already absent) changes nothing', () => {
      const ix = new GroupIndex(['a/x.png']);
      assert.deepEqual(ix.update(['a/x.png'], ['b/y.png']), { changed: [], gone: [] });
      assert.equal(ix.size, 1);
    });

    it('a folder touched by one add and one remove changes its own row, not its ancestors', () => {
      const ix = new GroupIndex(['a/b/x.png', 'a/b/y.png']);
      const r = ix.update(['a/b/z.png'], ['a/b/x.png']);
      assert.deepEqual(r.changed, ['a/b']);
      assert.equal(ix.total('a'), 2);
    });

    it('after many random batches equals an index built from scratch', () => {
      let seed = 7;
      const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
      const universe: string[] = [];
      for (let d = 0; d < 30; d++) for (let f = 0; f < 12; f++) universe.push(`${['', 't0/', 't1/', 't1/u/'][d % 4]}d${d}/img${f}.jpg`);
      const members = new Set<string>();
      const ix = new GroupIndex();
      for (let round = 0; round < 200; round++) {
        const present: string[] = [];
        const absent: string[] = [];
        for (let k = rand(20); k > 0; k--) {
          const p = universe[rand(universe.length)];
          if (rand(2)) {
            present.push(p);
            members.add(p);
          } else {
            absent.push(p);
            members.delete(p);
          }
        }
        // Each path ends as its last mention says; the index is given only the final answer per path.
        const last = new Map<string, boolean>();
        for (const p of present) last.set(p, members.has(p));
        for (const p of absent) last.set(p, members.has(p));
        if (round % 3 === 0) ix.filesIn(universe[rand(universe.length)].replace(/\/[^/]*$/, ''));
        ix.update([...last].filter(([, m]) => m).map(([p]) => p), [...last].filter(([, m]) => !m).map(([p]) => p));
        assert.deepEqual(shape(ix), shape(new GroupIndex(members)), `round ${round}`);
      }
    });

    it('pages a folder: sub-folders first, then images, each page a slice', () => {
      const paths = ['big/sub1/a.png', 'big/sub2/b.png'];
      for (let i = 0; i < 3000; i++) paths.push(`big/p${i}.png`);
      const ix = new GroupIndex(paths);
      const first = ix.page('big', 0, 200);
      assert.deepEqual(first.folders, [{ dir: 'big/sub1', count: 1 }, { dir: 'big/sub2', count: 1 }]);
      assert.equal(first.files.length, 198);
      assert.equal(first.files[0], 'p0.png');
      assert.deepEqual([first.folderCount, first.fileCount, first.total], [2, 3000, 3002]);
      const later = ix.page('big', 2800, 200);
      assert.deepEqual(later.folders, []);
      assert.equal(later.files.length, 200);
      assert.equal(later.files[0], 'p2798.png');
      assert.equal(ix.page('big', 3000, 200).files.length, 2);
    });
  });
});
