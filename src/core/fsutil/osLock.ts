import { spawnSync } from 'node:child_process';

/**
 * `locked`: this process now holds an exclusive `flock` on the file. `busy`: a live process holds
 * one. `unsupported`: no answer (no flock(1) on this system, or a file system without locks).
 */
export type OsLockResult = 'locked' | 'busy' | 'unsupported';

const CONFLICT_EXIT = 75;
let available: boolean | undefined;

/**
 * Takes a non-blocking exclusive `flock` on an open file descriptor. Node has no flock binding, so
 * util-linux's flock(1) is run on a copy of the descriptor: a flock belongs to the open file
 * description, which the copy shares, so the lock stays with this process after flock(1) exits and
 * is released only when every descriptor of it is closed — by `close` or by the kernel when this
 * process dies, even by SIGKILL. That makes it proof of life across PID namespaces on one kernel,
 * which a pid in a lock file is not. A few ms per call; used once per lock or temp file.
 */
export function tryOsLock(fd: number): OsLockResult {
  if (available === false || process.platform === 'win32') return 'unsupported';
  const res = spawnSync('flock', ['--exclusive', '--nonblock', '--conflict-exit-code', String(CONFLICT_EXIT), '3'], {
    stdio: ['ignore', 'ignore', 'pipe', fd],
    timeout: 10_000,
  });
  if (res.error) {
    if ((res.error as NodeJS.ErrnoException).code === 'ENOENT') available = false;
    return 'unsupported';
  }
  available = true;
  if (res.status === 0) return 'locked';
  if (res.status === CONFLICT_EXIT) return 'busy';
  // e.g. ENOLCK on a file system that has no locks: no proof either way.
  return 'unsupported';
}
