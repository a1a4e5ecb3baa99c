/**
 * How many threads list folders in one scan. Each thread makes one synchronous call at a time, so
 * threads are the calls in flight. On a local disk the cores are the limit; on storage served by
 * another machine it is the round trip, so the count follows a round trip measured when the scan
 * starts.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * Threads that list folders on a local disk. Two keep both cores of a small machine busy beside
 * the main thread; more only contend for the cores (measured on the 1M-file tree with 2 cores:
 * 2, 3 and 4 threads within noise, 4 slightly slower and 75 MB larger).
 */
export function defaultScanThreads(): number {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.min(4, Math.max(2, cores));
}

/**
 * Known network file systems get at least this many (the type is read from /proc/mounts; the
 * round trip may still ask for more).
 */
export const NETWORK_SCAN_THREADS = 8;

/** The most threads a scan uses (each is an isolate of ~10 MB; a filer seldom serves one client more). */
export const MAX_SCAN_THREADS = 32;

/**
 * A round trip longer than this is another machine's (or a FUSE daemon's): a local negative
 * lookup, async, costs 20–80 µs here even with the cores busy.
 */
export const REMOTE_ROUND_TRIP_MS = 0.2;

/**
 * Threads per millisecond of round trip (the probe's round trip: a lookup, which on FUSE is two
 * calls). Measured with bench:netfs through latencyfs, 100k images in 1k folders, 2 busy cores:
 * at 0.5 ms per call (probe 1.9–2.7 ms) 8 and 16 threads were fastest (full scan 6.1–6.2 s; 4:
 * 8.1 s; 32: 9.9 s, the Python server then queues); at 5 ms (probe 11–13 ms) 16 and 32 (full
 * 9.0–10.3 s, quick 1.9–2.4 s; 8: 15.1 s and 4.0 s): every call waits on the wire, not a core.
 */
const THREADS_PER_MS = 4;

/**
 * The round trip of one metadata call to the file system holding `dir`, in ms: the fastest of a
 * few stats of names that do not exist. A fresh name is in no cache (attribute caches, negative
 * lookup caches), so each one is a real lookup at the server, unlike a stat of the folder itself,
 * whose attributes an NFS client may answer from its cache.
 */
export async function measureRoundTrip(dir: string, probes = 5): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < probes; i++) {
    const name = path.join(dir, `.dataset-index-probe-${process.pid}-${Date.now()}-${i}`);
    const t = performance.now();
    try {
      await fs.promises.lstat(name);
    } catch {
      // ENOENT is the answer wanted; any other answer took a round trip just the same
    }
    best = Math.min(best, performance.now() - t);
  }
  return best;
}

/**
 * Threads for one scan: local (a short round trip, not a network type) by cores; otherwise by
 * the round trip, at least NETWORK_SCAN_THREADS on a known network type, at most
 * MAX_SCAN_THREADS; never more than `cap` (the calls the user allows in flight, --fs-concurrency).
 */
export function scanThreads(roundTripMs: number, network: boolean, cap = Infinity): number {
  const remote = network || roundTripMs >= REMOTE_ROUND_TRIP_MS;
  const wanted = remote
    ? Math.max(network ? NETWORK_SCAN_THREADS : defaultScanThreads(), Math.ceil(roundTripMs * THREADS_PER_MS))
    : defaultScanThreads();
  return Math.max(1, Math.min(wanted, MAX_SCAN_THREADS, cap));
}
