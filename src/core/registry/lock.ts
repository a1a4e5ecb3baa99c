import * as fs from 'node:fs';
import * as os from 'node:os';
import { randomBytes } from 'node:crypto';

export interface LockHolder {
  pid: number;
  host: string;
  command: string;
  since: string;
  token: string;
}

export class LockBusyError extends Error {
  constructor(
    readonly lockFile: string,
    readonly holder: LockHolder | null,
  ) {
    super(
      `the registry is in use by ${holder ? `${holder.command} (pid ${holder.pid} on ${holder.host}, since ${holder.since})` : 'another process'}; ` +
        `try again when it is done, or remove ${lockFile} if that process is gone`,
    );
  }
}

export interface LockOptions {
  /** What we are doing, shown to whoever waits for us. */
  command: string;
  /** How long to wait for another holder (ms). 0 = fail at once. */
  waitMs: number;
  /** Called once when we start waiting. */
  onWait?: (holder: LockHolder | null) => void;
  /** A lock whose heartbeat is older than this is stale (its holder died on another host). */
  staleMs?: number;
}

export interface HeldLock {
  release(): Promise<void>;
}

const HEARTBEAT_MS = 10_000;

function readHolder(file: string): LockHolder | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as LockHolder;
  } catch {
    return null;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function isStale(file: string, holder: LockHolder | null, staleMs: number): boolean {
  if (holder && holder.host === os.hostname()) return !processAlive(holder.pid);
  try {
    return Date.now() - fs.statSync(file).mtimeMs > staleMs;
  } catch {
    return true;
  }
}

/**
 * An exclusive lock file beside the database (`O_CREAT|O_EXCL`), with the holder's pid, host and
 * command inside, so a second writer waits with a clear message instead of overwriting rows.
 * A holder that died is detected by pid (same host) or by a heartbeat older than `staleMs`.
 */
export async function acquireLock(file: string, options: LockOptions): Promise<HeldLock> {
  const token = randomBytes(8).toString('hex');
  const me: LockHolder = { pid: process.pid, host: os.hostname(), command: options.command, since: new Date().toISOString(), token };
  const staleMs = options.staleMs ?? 6 * HEARTBEAT_MS;
  const deadline = Date.now() + options.waitMs;
  let told = false;
  for (;;) {
    try {
      fs.writeFileSync(file, JSON.stringify(me), { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = readHolder(file);
    if (isStale(file, holder, staleMs)) {
      // Move the stale lock aside atomically; if what we moved is not what we judged stale, put it back.
      const aside = `${file}.stale-${token}`;
      try {
        fs.renameSync(file, aside);
        const moved = readHolder(aside);
        if (moved?.token !== holder?.token) fs.renameSync(aside, file);
        else fs.rmSync(aside, { force: true });
      } catch {
        // Someone else got there first; go round again.
      }
      continue;
    }
    if (Date.now() >= deadline) throw new LockBusyError(file, holder);
    if (!told) {
      told = true;
      options.onWait?.(holder);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const heartbeat = setInterval(() => {
    const now = new Date();
    fs.utimes(file, now, now, () => undefined);
  }, HEARTBEAT_MS);
  heartbeat.unref();
  return {
    async release(): Promise<void> {
      clearInterval(heartbeat);
      if (readHolder(file)?.token === token) await fs.promises.rm(file, { force: true });
    },
  };
}
