import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { completeFacts, emptyFacts } from '../../src/core/gallery/facts';
import { factsNeeded, foldersOf, formatCounts, galleryOrder, queryKey, type GalleryQuery } from '../../src/core/gallery/order';
import { makeJpeg, makePng } from '../helpers/images';
import { removeDir, tempDir } from '../helpers/tmp';

const q = (sort: GalleryQuery['sort'], filter: GalleryQuery['filter'] = {}, descending = false): GalleryQuery => ({ sort, descending, filter });
const pick = (paths: readonly string[], order: Uint32Array): string[] => Array.from(order, (i) => paths[i]);

describe('gallery ordering', () => {
  const paths = ['b/z.png', 'a/y.JPEG', 'a/b/x.jpg', 'c/w.webp', 'top.png'];

  it('path order is the list as given; name order is by file name (code units), ties in list order', () => {
    assert.deepEqual(pick(paths, galleryOrder(paths, q('path'))), paths);
    assert.deepEqual(pick(paths, galleryOrder(paths, q('path', {}, true))), [...paths].reverse());
    assert.deepEqual(pick(paths, galleryOrder(paths, q('name'))), ['top.png', 'c/w.webp', 'a/b/x.jpg', 'a/y.JPEG', 'b/z.png']);
    assert.deepEqual(pick(paths, galleryOrder(paths, q('name', {}, true))), ['b/z.png', 'a/y.JPEG', 'a/b/x.jpg', 'c/w.webp', 'top.png']);
  });

  it('filters by format (jpeg counts as jpg, any case) and by folder (a folder, not a name prefix)', () => {
    assert.deepEqual(pick(paths, galleryOrder(paths, q('path', { formats: ['jpg'] }))), ['a/y.JPEG', 'a/b/x.jpg']);
    assert.deepEqual(pick(paths, galleryOrder(paths, q('path', { folder: 'a' }))), ['a/y.JPEG', 'a/b/x.jpg']);
    assert.deepEqual(pick(paths, galleryOrder(paths, q('path', { folder: 'a/b' }))), ['a/b/x.jpg']);
    assert.deepEqual(pick([...paths, 'ab/v.png'], galleryOrder([...paths, 'ab/v.png'], q('path', { folder: 'a' }))), ['a/y.JPEG', 'a/b/x.jpg']);
    assert.deepEqual(formatCounts(paths), [
      { format: 'jpg', count: 2 },
      { format: 'png', count: 2 },
      { format: 'webp', count: 1 },
    ]);
    assert.deepEqual(foldersOf(paths).folders, ['a', 'a/b', 'b', 'c']);
  });

  it('sorts by size, mtime and pixels; unknown values last in both directions; ranges exclude unknowns', () => {
    const size = Float64Array.from([300, 100, NaN, 200, 50]);
    const mtime = Float64Array.from([5, 4, 3, 2, 1]);
    const width = Float64Array.from([10, 100, 20, NaN, 30]);
    const height = Float64Array.from([10, 100, 20, NaN, 1]);
    const facts = { size, mtime, width, height };
    assert.deepEqual(pick(paths, galleryOrder(paths, q('size'), facts)), ['top.png', 'a/y.JPEG', 'c/w.webp', 'b/z.png', 'a/b/x.jpg']);
    assert.deepEqual(pick(paths, galleryOrder(paths, q('size', {}, true), facts)), ['b/z.png', 'c/w.webp', 'a/y.JPEG', 'top.png', 'a/b/x.jpg']);
    assert.deepEqual(pick(paths, galleryOrder(paths, q('mtime'), facts)), ['top.png', 'c/w.webp', 'a/b/x.jpg', 'a/y.JPEG', 'b/z.png']);
    // 100, 10000, 400, ?, 30 pixels
    assert.deepEqual(pick(paths, galleryOrder(paths, q('dimensions'), facts)), ['top.png', 'b/z.png', 'a/b/x.jpg', 'a/y.JPEG', 'c/w.webp']);
    assert.deepEqual(pick(paths, galleryOrder(paths, q('path', { minBytes: 100, maxBytes: 250 }), facts)), ['a/y.JPEG', 'c/w.webp']);
    assert.deepEqual(pick(paths, galleryOrder(paths, q('path', { minWidth: 20, maxHeight: 50 }), facts)), ['a/b/x.jpg', 'top.png']);
  });

  it('refuses a query whose facts were not gathered, and says which facts a query needs', () => {
    assert.throws(() => galleryOrder(paths, q('size')), /sizes and mtimes are needed/);
    assert.throws(() => galleryOrder(paths, q('path', { minWidth: 1 })), /dimensions are needed/);
    assert.deepEqual(factsNeeded(q('name', { formats: ['png'] })), { stat: false, dims: false });
    assert.deepEqual(factsNeeded(q('mtime')), { stat: true, dims: false });
    assert.deepEqual(factsNeeded(q('name', { maxHeight: 5 })), { stat: false, dims: true });
    assert.equal(queryKey(q('name', { formats: ['jpeg', 'png'] })), queryKey(q('name', { formats: ['png', 'jpg'] })));
    assert.notEqual(queryKey(q('name')), queryKey(q('name', {}, true)));
  });

  it('reads sizes and dimensions from the files only where they are unknown', async () => {
    const dir = tempDir('gallery-facts');
    try {
      fs.writeFileSync(path.join(dir, 'a.png'), makePng(40, 30, 1));
      fs.writeFileSync(path.join(dir, 'b.jpg'), makeJpeg(64, 48, 2));
      fs.writeFileSync(path.join(dir, 'c.png'), 'not a png');
      const list = ['a.png', 'b.jpg', 'c.png', 'gone.png'];
      const facts = emptyFacts(list.length, { stat: true, dims: true });
      // What the registry knew of b.jpg: taken as is, its file is not read.
      facts.size![1] = 12345;
      facts.mtime![1] = 1;
      facts.width![1] = 7;
      facts.height![1] = 9;
      const progress: number[] = [];
      const read = await completeFacts(dir, list, facts, { onProgress: (done) => progress.push(done) });
      assert.equal(read, 3);
      assert.deepEqual(Array.from(facts.width!), [40, 7, NaN, NaN]);
      assert.deepEqual(Array.from(facts.height!), [30, 9, NaN, NaN]);
      assert.equal(facts.size![0], fs.statSync(path.join(dir, 'a.png')).size);
      assert.equal(facts.size![1], 12345);
      assert.equal(facts.size![2], 9);
      assert.ok(Number.isNaN(facts.size![3]));
      assert.equal(progress.at(-1), 3);
      const ordered = pick(list, galleryOrder(list, q('dimensions', {}, true), facts));
      assert.deepEqual(ordered, ['a.png', 'b.jpg', 'c.png', 'gone.png']);
    } finally {
      removeDir(dir);
    }
  });

  it('orders a million paths from one Uint32Array, pages are slices of it', () => {
    const many: string[] = [];
    for (let d = 0; d < 1000; d++) for (let f = 0; f < 1000; f++) many.push(`d${d}/img${f}.${f % 3 ? 'jpg' : 'png'}`);
    const order = galleryOrder(many, q('name', { formats: ['png'] }));
    assert.ok(order instanceof Uint32Array);
    assert.equal(order.length, 334_000);
    assert.equal(many[order[0]], 'd0/img0.png');
    assert.equal(many[order[1]], 'd1/img0.png');
  });
});
