/**
 * The engine's open connection to a dataset's team registry, for what the tree asks between
 * operations (tooltip rows, the row count before a clear): opened on first use, kept while used,
 * closed after a minute idle, and reopened when the spec (URL, dataset, password) changes or a
 * query failed (the connection may have dropped). Operations (index, register) open their own.
 */
import type { TeamRegistrySpec } from '../registry/postgres/connect';
import type { TeamRegistry } from '../registry/postgres/teamRegistry';

const IDLE_CLOSE_MS = 60_000;

export class TeamReader {
  private open: { key: string; reader: Promise<TeamRegistry> } | null = null;
  private idle: NodeJS.Timeout | null = null;

  /** Runs `work` on the reader for `spec`; a failure closes it, so the next call connects again. */
  async use<T>(spec: TeamRegistrySpec, root: string, work: (team: TeamRegistry) => Promise<T>): Promise<T> {
    const key = JSON.stringify([spec.url, spec.dataset ?? null, spec.password ?? null, root]);
    if (this.open && this.open.key !== key) await this.close();
    if (!this.open) {
      const { TeamRegistry } = await import('../registry/postgres/teamRegistry');
      const reader = TeamRegistry.open(spec, root, { write: false });
      this.open = { key, reader };
      reader.catch(() => undefined);
    }
    const current = this.open;
    this.touch();
    try {
      const team = await current.reader;
      const out = await work(team);
      // A dataset not registered yet has no id in this reader: the next call looks again (it may exist by then).
      if (team.datasetId === null && this.open === current) await this.close();
      return out;
    } catch (err) {
      if (this.open === current) await this.close();
      throw err;
    }
  }

  private touch(): void {
    if (this.idle) clearTimeout(this.idle);
    this.idle = setTimeout(() => void this.close(), IDLE_CLOSE_MS);
    this.idle.unref();
  }

  async close(): Promise<void> {
    if (this.idle) clearTimeout(this.idle);
    this.idle = null;
    const open = this.open;
    this.open = null;
    if (open) await open.reader.then((r) => r.close(), () => undefined);
  }
}
