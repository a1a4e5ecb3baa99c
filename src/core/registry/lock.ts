import * as fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tryOsLock, type OsLockResult } from '../fsutil/osLock';
import { currentProcess, processAlive, processStartTicks, type ProcessIdentity } from '../fsutil/processIdentity';

export interface LockHolder extends ProcessIdentity {
  command: string;
  since: string;
  token: string;
  /** Whether the holder took an OS lock (flock) on the file: then a free flock proves it is gone. */
  osLock?: boolean;
}

export function describeHolder(holder: LockHolder | null): string {
  return holder ? `${holder.command} (pid ${holder.pid} on ${holder.host}, since ${holder.since})` : 'another process';
}

export class LockBusyError extends Error {
  constructor(
    readonly lockFile: string,
    readonly holder: LockHolder | null,
  ) {
    super(
      `the registry is in use by ${describeHolder(holder)}; try again when it is done ` +
        `(its lock ${lockFile} is taken over by itself once that process is gone: at once on this machine, ` +
        `after its heartbeat stops on another)`,
    );
  }
}

/** This process's lock was taken over (it was paused or cut off longer than the stale time): it must not write. */
export class LockLostError extends Error {
  constructor(
    readonly lockFile: string,
    readonly holder: LockHolder | null,
  ) {
    super(
      `the registry lock ${lockFile} now belongs to ${describeHolder(holder)}: this process was paused or cut off ` +
        `longer than the stale time and its lock was taken over, so it writes nothing more (the rows of this batch ` +
        `were not saved; rerun to register them)`,
    );
  }
}

export interface LockTakeover {
  holder: LockHolder | null;
  /** Why the holder is known to be gone. */
  why: string;
}

export interface LockOptions {
  /** What we are doing, shown to whoever waits for us. */
  command: string;
  /** How long to wait for another holder (ms). 0 = fail at once. */
  waitMs: number;
  /** Called once when we start waiting. */
  onWait?: (holder: LockHolder | null) => void;
  /** Called when a dead holder's lock is taken over (its run ended uncleanly). */
  onTakeover?: (takeover: LockTakeover) => void;
  /**
   * A holder that cannot be checked directly (another machine, another PID namespace without OS
   * locks) is stale when its heartbeat is older than this (ms).
   */
  staleMs?: number;
}

export interface HeldLock {
  /** Set when a dead holder's lock was taken over: its last run ended uncleanly. */
  readonly takeover: LockTakeover | null;
  /** Throws LockLostError unless this process still owns the lock (call before every write). */
  assertHeld(): void;
  release(): Promise<void>;
}

export const HEARTBEAT_MS = 10_000;
export const DEFAULT_STALE_MS = 6 * HEARTBEAT_MS;
const POLL_MS = 200;

const { O_RDWR, O_CREAT, O_EXCL, O_NOFOLLOW, O_RDONLY } = fs.constants;

function parseHolder(text: string): LockHolder | null {
  try {
    const h = JSON.parse(text) as Partial<LockHolder> | null;
    if (!h || typeof h !== 'object' || typeof h.token !== 'string' || typeof h.pid !== 'number' || typeof h.host !== 'string') return null;
    return { bootId: null, pidNs: null, startTicks: null, command: '?', since: '?', ...h } as LockHolder;
  } catch {
    return null;
  }
}

/** The lock file as it is at its path now (not through an old descriptor): holder and heartbeat. */
function readLockFile(file: string): { holder: LockHolder | null; ino: number; mtimeMs: number } | null {
  let fd: number;
  try {
    fd = fs.openSync(file, O_RDONLY | O_NOFOLLOW);
  } catch {
    return null;
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) return null;
    const buf = Buffer.alloc(Math.min(st.size, 64 * 1024));
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    return { holder: parseHolder(buf.toString('utf8', 0, n)), ino: st.ino, mtimeMs: st.mtimeMs };
  } finally {
    fs.closeSync(fd);
  }
}

/** Whether `holder` is provably gone, and why; null while it may be alive. */
export function whyGone(holder: LockHolder | null, os: OsLockResult, heartbeatAgeMs: number, staleMs: number): string | null {
  const heartbeat = (): string | null =>
    heartbeatAgeMs > staleMs ? `no heartbeat for ${Math.round(heartbeatAgeMs / 1000)} s (stale after ${Math.round(staleMs / 1000)} s)` : null;
  if (!holder) return heartbeat(); // a holder between creating the file and writing into it, or garbage
  const me = currentProcess();
  const sameKernel = holder.host === me.host && holder.bootId !== null && holder.bootId === me.bootId;
  if (sameKernel && holder.osLock && os === 'locked') return 'its process has ended (its OS lock was free)';
  if (sameKernel && holder.pidNs !== null && holder.pidNs === me.pidNs) {
    if (holder.pid === me.pid && holder.startTicks === me.startTicks) return null; // ourselves: never judged dead
    if (!processAlive(holder.pid)) return `pid ${holder.pid} no longer runs`;
    const ticks = processStartTicks(holder.pid);
    if (holder.startTicks && ticks && ticks !== holder.startTicks) return `pid ${holder.pid} is another process now`;
    return null;
  }
  // Another machine, another PID namespace without OS locks, or a holder that names too little.
  return heartbeat();
}

function sameFileAtPath(fd: number, file: string): boolean {
  try {
    return fs.fstatSync(fd).ino === fs.statSync(file).ino;
  } catch {
    return false;
  }
}

type Attempt =
  | { kind: 'held'; fd: number }
  | { kind: 'busy'; holder: LockHolder | null }
  /** Try again at once; `takeover` when a dead holder's file was just removed. */
  | { kind: 'retry'; takeover?: LockTakeover };

/**
 * One try: create the lock file exclusively (`O_EXCL`: the atomic step, on every file system), or
 * judge the one there. A judged-dead holder's file is moved aside under a unique name — and put
 * back if what was moved is not the file judged — then the next try creates a fresh one.
 */
function attempt(file: string, me: LockHolder, staleMs: number): Attempt {
  let fd: number;
  try {
    fd = fs.openSync(file, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW, 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw lockFileError(file, err);
    return judgeExisting(file, staleMs);
  }
  me.osLock = tryOsLock(fd) === 'locked';
  fs.writeSync(fd, JSON.stringify(me), 0);
  fs.fsyncSync(fd);
  return { kind: 'held', fd };
}

function judgeExisting(file: string, staleMs: number): Attempt {
  let fd: number;
  try {
    fd = fs.openSync(file, O_RDWR | O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { kind: 'retry' };
    throw lockFileError(file, err);
  }
  try {
    if (!fs.fstatSync(fd).isFile()) throw new Error(`the registry lock ${file} is not a regular file; remove it`);
    const os = tryOsLock(fd);
    const seen = readLockFile(file);
    if (!seen || !sameFileAtPath(fd, file)) return { kind: 'retry' };
    if (os === 'busy') return { kind: 'busy', holder: seen.holder };
    const why = whyGone(seen.holder, os, Date.now() - seen.mtimeMs, staleMs);
    if (why === null) return { kind: 'busy', holder: seen.holder };
    const aside = `${file}.stale-${randomBytes(8).toString('hex')}`;
    try {
      fs.renameSync(file, aside);
    } catch {
      return { kind: 'retry' }; // someone else moved it first
    }
    const moved = readLockFile(aside);
    if (moved?.ino !== seen.ino) {
      fs.renameSync(aside, file); // not the file we judged: give it back
      return { kind: 'retry' };
    }
    fs.rmSync(aside, { force: true });
    return { kind: 'retry', takeover: { holder: seen.holder, why } };
  } finally {
    fs.closeSync(fd);
  }
}

function lockFileError(file: string, err: unknown): Error {
  const e = err as NodeJS.ErrnoException;
  return new Error(`cannot create the registry lock ${file}: ${e.code ?? e.message}`);
}

/**
 * An exclusive lock file beside the database, so a second writer waits with a clear message
 * instead of overwriting rows. The holder is named robustly (host, boot id, PID namespace, pid and
 * its start time, a random token) and, where flock(1) exists, also holds an OS lock on the file,
 * which the kernel drops when the process dies — proof of death across PID namespaces on one
 * host. A holder on another machine is judged by its heartbeat (the file's mtime, touched every
 * 10 s). Whoever takes a lock over says so, and every holder re-checks that the lock is still its
 * own before each write (`assertHeld`): a writer paused past the stale time is fenced, not obeyed.
 */
export async function acquireLock(file: string, options: LockOptions): Promise<HeldLock> {
  const token = randomBytes(16).toString('hex');
  const me: LockHolder = { ...currentProcess(), command: options.command, since: new Date().toISOString(), token };
  const staleMs = options.staleMs ?? DEFAULT_STALE_MS;
  const deadline = Date.now() + options.waitMs;
  let told = false;
  let takeover: LockTakeover | null = null;
  let fd: number;
  for (;;) {
    const got = attempt(file, me, staleMs);
    if (got.kind === 'held') {
      fd = got.fd;
      break;
    }
    if (got.kind === 'retry') {
      if (got.takeover) {
        takeover = got.takeover;
        options.onTakeover?.(takeover);
      } else await new Promise((r) => setTimeout(r, 10)); // the file changed under us: let it settle
      continue;
    }
    if (Date.now() >= deadline) throw new LockBusyError(file, got.holder);
    if (!told) {
      told = true;
      options.onWait?.(got.holder);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  return new OwnedLock(file, fd, token, takeover);
}

class OwnedLock implements HeldLock {
  private readonly heartbeat: NodeJS.Timeout;
  private released = false;

  constructor(
    private readonly file: string,
    private readonly fd: number,
    private readonly token: string,
    readonly takeover: LockTakeover | null,
  ) {
    this.heartbeat = setInterval(() => {
      const now = new Date();
      fs.futimes(fd, now, now, () => undefined);
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  assertHeld(): void {
    const seen = readLockFile(this.file);
    if (this.released || !seen || seen.holder?.token !== this.token || seen.ino !== fs.fstatSync(this.fd).ino) {
      throw new LockLostError(this.file, seen?.holder ?? null);
    }
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    clearInterval(this.heartbeat);
    // Removed while our OS lock still holds it, so no one can have taken it over in between; a
    // process waiting on the old file finds it is no longer at the path and tries again.
    const seen = readLockFile(this.file);
    if (seen?.holder?.token === this.token && seen.ino === fs.fstatSync(this.fd).ino) await fs.promises.rm(this.file, { force: true });
    fs.closeSync(this.fd);
  }
}
