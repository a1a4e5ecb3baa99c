import { from as copyFrom } from 'pg-copy-streams';
import type { Snapshot } from '../../types';
import { copyLine, writeCopy } from './copyText';
import { table } from './schema';
import type { TeamRegistry } from './teamRegistry';

export interface ServerDiff {
  newFiles: string[];
  missing: string[];
  registered: number;
}

/**
 * The other way to diff (kept for the benchmark that chose between them): the snapshot's paths
 * go up by COPY into a temporary table and the server finds the new and missing ones with two
 * anti-joins. It needs a writer's TEMP privilege and sends every path up, where streaming the
 * dataset's paths down (TeamRegistry.loadIndex) needs neither and feeds the same diff code as
 * SQLite; the README has the figures.
 */
export async function serverDiff(team: TeamRegistry, snapshot: Snapshot): Promise<ServerDiff> {
  const id = team.datasetId;
  if (id === null || !Number.isSafeInteger(id)) throw new Error('serverDiff needs a dataset');
  let files = 0;
  return team.inTransaction(async () => {
    await team.client.query('CREATE TEMPORARY TABLE dsx_disk (path text COLLATE "C" NOT NULL) ON COMMIT DROP');
    const stream = team.client.query(copyFrom('COPY dsx_disk (path) FROM STDIN'));
    await writeCopy(stream, (function* () {
      for (const [dir, rec] of snapshot) {
        const prefix = dir ? `${dir}/` : '';
        for (const f of rec.files) {
          files++;
          yield copyLine([prefix + f]);
        }
      }
    })());
    await team.client.query('ANALYZE dsx_disk');
    const newFiles: string[] = [];
    const missing: string[] = [];
    await team.copyOut(
      `SELECT d.path FROM dsx_disk d WHERE NOT EXISTS (SELECT 1 FROM ${table('images')} i WHERE i.dataset_id = ${id} AND i.path = d.path)`,
      (f) => newFiles.push(f[0] as string),
    );
    await team.copyOut(
      `SELECT i.path FROM ${table('images')} i WHERE i.dataset_id = ${id} AND NOT EXISTS (SELECT 1 FROM dsx_disk d WHERE d.path = i.path) ORDER BY i.path`,
      (f) => missing.push(f[0] as string),
    );
    return { newFiles, missing, registered: files - newFiles.length };
  });
}
