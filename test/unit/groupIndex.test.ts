import * as assert from 'node:assert/strict';
import { GroupIndex } from '../../src/extension/groupIndex';

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
});
