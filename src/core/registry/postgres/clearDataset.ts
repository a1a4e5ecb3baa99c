import { TeamRegistryError } from './connect';
import { table } from './schema';
import type { TeamRegistry } from './teamRegistry';

export interface ClearedTeamDataset {
  /** Rows deleted (0 when refused). */
  deleted: number;
  /** Why nothing was deleted, when it was not. */
  refused?: string;
}

/**
 * Deletes every row of one team dataset — what "Clear Scan Cache and Registry" does to a shared
 * dataset once the user confirmed the row count shown. In one transaction, and only if
 * - no registrar holds a live claim on the dataset (a registration is running: deleting under it
 *   would leave a half-registered dataset), and
 * - the dataset still has exactly `expectRows` rows: rows someone registered since the question
 *   was asked were not part of what the user agreed to delete.
 * Otherwise nothing changes and `refused` says why. The dataset's name stays (its id too); its
 * work queue goes with its rows. A role without DELETE fails with the server's message.
 */
export async function clearTeamDataset(team: TeamRegistry, expectRows: number): Promise<ClearedTeamDataset> {
  if (team.datasetId === null) return expectRows === 0 ? { deleted: 0 } : { deleted: 0, refused: `the dataset ${team.dataset} no longer exists in ${team.location}` };
  const id = team.datasetId;
  try {
    return await team.inTransaction(async () => {
      // Registrars never lock this row: FOR UPDATE only serialises two clears of one dataset.
      await team.client.query(`SELECT id FROM ${table('datasets')} WHERE id = $1 FOR UPDATE`, [id]);
      const live = await team.client.query<{ n: string }>(
        `SELECT count(*) AS n FROM ${table('work')} WHERE dataset_id = $1 AND owner IS NOT NULL AND lease_until > now()`,
        [id],
      );
      const claimed = Number(live.rows[0].n);
      if (claimed > 0) throw new Refusal(`a registration is running on ${team.location}: ${claimed.toLocaleString('en-US')} files are claimed by registrars; nothing deleted`);
      await team.client.query(`DELETE FROM ${table('work')} WHERE dataset_id = $1`, [id]);
      const res = await team.client.query(`DELETE FROM ${table('images')} WHERE dataset_id = $1`, [id]);
      const deleted = res.rowCount ?? 0;
      if (deleted !== expectRows) {
        throw new Refusal(
          `the dataset changed since you were asked: it has ${deleted.toLocaleString('en-US')} rows, not ${expectRows.toLocaleString('en-US')}; nothing deleted`,
        );
      }
      return { deleted };
    });
  } catch (err) {
    if (err instanceof Refusal) return { deleted: 0, refused: err.message };
    throw new TeamRegistryError(`cannot delete the rows of ${team.location}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** A refusal rolls the transaction back like an error, and is reported as a refusal. */
class Refusal extends Error {}
