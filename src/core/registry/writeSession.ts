import * as path from 'node:path';
import { removeStaleTempFiles } from '../fsutil/atomicWrite';
import { acquireLock, describeHolder, type HeldLock, type LockHolder, type LockTakeover } from './lock';
import { Registry } from './registry';

export interface WriteSessionOptions {
  /** What the lock file says this process is doing (`register /data`). */
  command: string;
  lockWaitMs?: number;
  lockStaleMs?: number;
  onLockWait?: (holder: LockHolder | null) => void;
  /** Takeovers, cleaned leftovers, the registry's own notices: for the user. */
  say: (notice: string) => void;
}

export interface WriteSession {
  lock: HeldLock;
  registry: Registry;
  /** Closes the registry, then releases the lock. */
  end(): Promise<void>;
}

/**
 * What every writer of the registry does first: take the lock (waiting for another writer), then,
 * alone, remove temp files of saves a killed writer left, and open the registry — checked in full
 * after a takeover, since its last writer ended uncleanly.
 */
export async function openWriteSession(file: string, options: WriteSessionOptions): Promise<WriteSession> {
  const { say } = options;
  const lock = await acquireLock(`${file}.lock`, {
    command: options.command,
    waitMs: options.lockWaitMs ?? 10 * 60_000,
    staleMs: options.lockStaleMs,
    onWait: options.onLockWait,
    onTakeover: (t: LockTakeover) => say(`took over the registry lock of ${describeHolder(t.holder)}: ${t.why}; checking the registry in full`),
  });
  try {
    // Under the lock no other writer of this registry lives: a temp file no one holds is a leftover.
    const leftovers = await removeStaleTempFiles(path.dirname(file), path.basename(file));
    if (leftovers.removed) say(`removed ${leftovers.removed} temp file(s) of an interrupted save (${Math.round(leftovers.bytes / 1e6)} MB)`);
    const { registry, notice } = await Registry.open(file, { integrity: lock.takeover ? 'full' : 'auto' });
    if (notice) say(notice);
    return {
      lock,
      registry,
      end: async () => {
        try {
          registry.close();
        } finally {
          await lock.release();
        }
      },
    };
  } catch (err) {
    await lock.release();
    throw err;
  }
}
