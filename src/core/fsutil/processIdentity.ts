import * as fs from 'node:fs';
import * as os from 'node:os';

/**
 * Who a process is, robustly enough to tell a live lock holder from a dead one: a host name alone
 * is shared by containers with `--network host`, a pid alone is reused after a restart and means
 * another process in another PID namespace. Linux gives the boot id (one per kernel boot), the PID
 * namespace and a process's start time; elsewhere these are null and only the heartbeat decides.
 */
export interface ProcessIdentity {
  host: string;
  bootId: string | null;
  pidNs: string | null;
  pid: number;
  /** Start time of the process in clock ticks since boot (/proc/<pid>/stat field 22). */
  startTicks: string | null;
}

function readTrimmed(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8').trim() || null;
  } catch {
    return null;
  }
}

/** Start time of a process in this PID namespace, or null (gone, or not Linux). */
export function processStartTicks(pid: number): string | null {
  const stat = readTrimmed(`/proc/${pid}/stat`);
  if (!stat) return null;
  // The command name (field 2) is in parentheses and may itself hold spaces and parentheses.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19] ?? null;
}

function pidNamespace(): string | null {
  try {
    return fs.readlinkSync('/proc/self/ns/pid');
  } catch {
    return null;
  }
}

let self: ProcessIdentity | undefined;

export function currentProcess(): ProcessIdentity {
  self ??= {
    host: os.hostname(),
    bootId: readTrimmed('/proc/sys/kernel/random/boot_id'),
    pidNs: pidNamespace(),
    pid: process.pid,
    startTicks: processStartTicks(process.pid),
  };
  return self;
}

/** Whether a pid of this PID namespace runs (EPERM: it does, as another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
