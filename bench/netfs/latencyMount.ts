/**
 * A latencyfs mount (bench/netfs/mount.sh latency) for a benchmark run: mounted at a fresh
 * temp dir, its served calls and its server's CPU readable while it runs, and always undone —
 * by unmount() in a finally, and on Ctrl-C / SIGTERM / SIGHUP or a plain exit, after the
 * processes registered with onInterrupt() were stopped (a process still reading the mount
 * would keep it busy). Needs root, /dev/fuse and Debian's python3-fusepy.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const MOUNT_SH = path.resolve(__dirname, '../../../bench/netfs/mount.sh');

export interface LatencyMount {
  /** Where the source is seen through the mount. */
  root: string;
  delayMs: number;
  /** Calls per op the server served so far (latencyfs rewrites its stats file within 0.2 s). */
  counts(): Promise<Record<string, number>>;
  /** CPU ms (user + system, all threads) of the Python server so far; null when it cannot be read. */
  serverCpuMs(): number | null;
  unmount(): void;
}

const live = new Set<() => void>();
const interruptHooks = new Set<() => void>();
let handlersInstalled = false;

/** Something to stop before the mounts are undone on an interrupt (a child process reading them). Returns its remover. */
export function onInterrupt(hook: () => void): () => void {
  interruptHooks.add(hook);
  return () => interruptHooks.delete(hook);
}

function undoAll(): void {
  for (const hook of interruptHooks) {
    try {
      hook();
    } catch {
      // best effort: the unmount below must still run
    }
  }
  for (const unmount of [...live]) unmount();
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      process.stderr.write(`${signal}: unmounting\n`);
      undoAll();
      process.exit(130);
    });
  }
  // process.exit() elsewhere skips finally blocks; spawnSync still works in an exit handler.
  process.on('exit', undoAll);
}

function mountSh(argv: string[]): { ok: boolean; out: string } {
  const r = spawnSync('bash', [MOUNT_SH, ...argv], { encoding: 'utf8', timeout: 120_000 });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}`.trim() };
}

/** mount.sh keeps the server's pid in a state dir named by the mount point's real path. */
function serverPidFile(mnt: string): string {
  const stateRoot = process.env.NETFS_STATE_ROOT ?? process.env.TMPDIR ?? '/tmp';
  return path.join(stateRoot, `netfs-${createHash('md5').update(fs.realpathSync(mnt)).digest('hex').slice(0, 12)}`, 'fs.pid');
}

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

function processCpuMs(pid: number): number | null {
  try {
    // Fields after the command (which may hold spaces): state is field 3, utime 14, stime 15.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function mountLatency(src: string, delayMs: number): LatencyMount {
  if (process.getuid?.() !== 0) throw new Error('--latency-ms needs root (a FUSE mount)');
  if (!fs.existsSync('/dev/fuse')) throw new Error('--latency-ms needs /dev/fuse');
  installHandlers();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'dataset-index-latency-'));
  const mnt = path.join(work, 'mnt');
  const statsFile = path.join(work, 'calls.json');
  fs.mkdirSync(mnt);
  let mounted = false;
  const unmount = (): void => {
    live.delete(unmount);
    if (mounted) {
      const r = mountSh(['umount', mnt]);
      if (!r.ok) process.stderr.write(`mount.sh umount ${mnt} failed: ${r.out}\n`);
      mounted = !r.ok;
    }
    // Never a recursive delete: a mount point still mounted would let it reach the source.
    for (const p of [statsFile, `${statsFile}.tmp`]) fs.rmSync(p, { force: true });
    try {
      fs.rmdirSync(mnt);
      fs.rmdirSync(work);
    } catch (err) {
      process.stderr.write(`left ${work}: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  };
  live.add(unmount);
  const pidFile = serverPidFile(mnt);
  const r = mountSh(['latency', src, mnt, '--delay-ms', String(delayMs), '--stats', statsFile]);
  if (!r.ok) {
    unmount();
    throw new Error(`mount.sh latency failed: ${r.out}`);
  }
  mounted = true;
  let pid: number | null = null;
  try {
    pid = Number(fs.readFileSync(pidFile, 'utf8').trim()) || null;
  } catch {
    pid = null;
  }
  return {
    root: mnt,
    delayMs,
    counts: async () => {
      await sleep(600);
      try {
        return JSON.parse(fs.readFileSync(statsFile, 'utf8')) as Record<string, number>;
      } catch {
        return {};
      }
    },
    serverCpuMs: () => (pid === null ? null : processCpuMs(pid)),
    unmount,
  };
}

/** The calls served between two readings of counts(), all ops together and those that wait the delay. */
export function callsBetween(before: Record<string, number>, after: Record<string, number>): { all: number; delayed: number } {
  const delayedOps = new Set(['getattr', 'access', 'opendir', 'readdir', 'open']);
  let all = 0;
  let delayed = 0;
  for (const [op, n] of Object.entries(after)) {
    const d = n - (before[op] ?? 0);
    all += d;
    if (delayedOps.has(op)) delayed += d;
  }
  return { all, delayed };
}
