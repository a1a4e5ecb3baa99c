import type { Snapshot } from '../types';
import type { CacheHeader } from '../cache/format';
import { saveCache } from '../cache/store';
import { countSnapshot } from './snapshot';

/**
 * Saves the snapshot a walk is updating, as an incomplete cache, every interval: the snapshot is
 * a consistent tree at every moment, so a checkpoint is simply it, saved with `complete: false`.
 * A killed scan loses at most one interval of work; the next scan resumes from the checkpoint.
 */
export class Checkpointer {
  /** Checkpoints written. */
  saved = 0;
  private saving: Promise<void> | null = null;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly file: string,
    private readonly header: CacheHeader,
    private readonly snapshot: Snapshot,
    intervalMs: number,
    private readonly log: (line: string) => void,
  ) {
    this.timer = setInterval(() => this.save(), intervalMs);
    this.timer.unref();
  }

  /** Saves the snapshot as it is now, unless a save is under way. */
  save(): void {
    if (this.saving) return;
    const header: CacheHeader = { ...this.header, complete: false, savedAt: Date.now(), ...countSnapshot(this.snapshot) };
    this.saving = saveCache(this.file, { header, snapshot: this.snapshot })
      .then(() => {
        this.saved++;
      })
      .catch((err: unknown) => this.log(`checkpoint failed: ${err instanceof Error ? err.message : String(err)}`))
      .finally(() => {
        this.saving = null;
      });
  }

  /** No more timed saves; resolves when a save under way is done. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.saving;
  }
}
