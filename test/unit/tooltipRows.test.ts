import * as assert from 'node:assert/strict';
import type { ImageRow } from '../../src/core';
import { TooltipRows } from '../../src/extension/tooltipRows';

function rowOf(path: string): ImageRow {
  return { path, size: 1, mtimeMs: 1, hash: '0123456789abcdef', width: 2, height: 2, format: 'png', status: 'ok', reason: null, registeredAt: 1 };
}

/** A registry of `known` paths that records every request it answers. */
function registry(known: readonly string[]): { asked: string[][]; fetch: (rels: string[]) => Promise<(ImageRow | null)[]> } {
  const asked: string[][] = [];
  const set = new Set(known);
  return {
    asked,
    fetch: async (rels) => {
      asked.push([...rels]);
      await new Promise((r) => setTimeout(r, 5));
      return rels.map((p) => (set.has(p) ? rowOf(p) : null));
    },
  };
}

describe('tooltip rows: a page per request', () => {
  const page = Array.from({ length: 50 }, (_, i) => `a/img${i}.png`);

  it('the first hover asks for the whole page; hovers down the page ask nothing more', async () => {
    const r = registry(page.slice(0, 40));
    const rows = new TooltipRows(r.fetch);
    assert.equal((await rows.get(page[3], page))?.path, page[3]);
    assert.deepEqual(r.asked, [[page[3], ...page.filter((p) => p !== page[3])]]);
    for (const p of page) await rows.get(p, page);
    assert.equal(r.asked.length, 1);
    assert.equal(await rows.get(page[45], page), null, 'a path without a row is known to have none');
    assert.equal(r.asked.length, 1);
  });

  it('hovers that arrive together share one request; clear() starts over', async () => {
    const r = registry(page);
    const rows = new TooltipRows(r.fetch);
    const got = await Promise.all([rows.get(page[0], page), rows.get(page[1], page), rows.get(page[2], page)]);
    assert.deepEqual(got.map((g) => g?.path), page.slice(0, 3));
    assert.equal(r.asked.length, 1);
    rows.clear();
    await rows.get(page[0], page);
    assert.equal(r.asked.length, 2, 'the dataset changed: asked again');
  });

  it('a failed request fails the hover (the tooltip says so) and is not kept', async () => {
    let fail = true;
    const r = registry(page);
    const rows = new TooltipRows((rels) => (fail ? Promise.reject(new Error('cannot connect to the team registry')) : r.fetch(rels)));
    await assert.rejects(rows.get(page[0], page), /cannot connect/);
    fail = false;
    assert.equal((await rows.get(page[0], page))?.path, page[0]);
  });
});
