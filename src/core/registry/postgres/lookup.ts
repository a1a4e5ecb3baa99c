import type { ImageRow } from '../registry';
import { table } from './schema';
import { ROW_COLUMNS, rowOfFields, type TeamRegistry } from './teamRegistry';

/** Paths per statement: a page of the tree is a few hundred; a larger ask is split, never one query per path. */
const LOOKUP_BATCH = 10_000;

/** Every column as text: the same output functions as COPY's, so rowOfFields reads both alike. */
const TEXT_COLUMNS = ROW_COLUMNS.split(',').map((c) => `${c.trim()}::text`).join(', ');

/**
 * The rows of `paths` (null where the dataset has none), in the order asked: one query per
 * batch (`path = ANY($2)` on the primary key), whatever the number of paths. The tooltips of a
 * tree page are looked up this way, one round trip for the page.
 */
export async function teamRowsOf(team: TeamRegistry, paths: readonly string[]): Promise<(ImageRow | null)[]> {
  if (team.datasetId === null || paths.length === 0) return paths.map(() => null);
  const found = new Map<string, ImageRow>();
  for (let at = 0; at < paths.length; at += LOOKUP_BATCH) {
    const res = await team.client.query<(string | null)[]>({
      text: `SELECT ${TEXT_COLUMNS} FROM ${table('images')} WHERE dataset_id = $1 AND path = ANY($2::text[])`,
      values: [team.datasetId, paths.slice(at, at + LOOKUP_BATCH)],
      rowMode: 'array',
    });
    for (const fields of res.rows) {
      const row = rowOfFields(fields);
      found.set(row.path, row);
    }
  }
  return paths.map((p) => found.get(p) ?? null);
}
