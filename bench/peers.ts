import * as fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

/** A peer's timing and how many files it reported (a sanity check, not part of the score). */
export interface PeerRun {
  ms: number;
  files: number;
}

function runFdir(kind: 'async' | 'sync', root: string): PeerRun {
  const res = spawnSync(process.execPath, [path.join(__dirname, 'peerFdir.js'), kind, root], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (res.error) throw res.error;
  if (res.status !== 0) throw new Error(`fdir peer exited with ${res.status}: ${res.stderr}`);
  return JSON.parse(res.stdout) as PeerRun;
}

/** fdir's async walk, in a child process, timed inside it (startup excluded). */
export function fdirAsync(root: string): PeerRun {
  return runFdir('async', root);
}

export function fdirSync(root: string): PeerRun {
  return runFdir('sync', root);
}

/** `find ROOT -type f [-printf …]` with its output thrown away (-1 files: not counted). */
function runFind(args: string[]): PeerRun {
  const devNull = fs.openSync('/dev/null', 'w');
  try {
    const t = performance.now();
    const res = spawnSync('find', args, { stdio: ['ignore', devNull, 'inherit'] });
    const ms = performance.now() - t;
    if (res.error) throw res.error;
    if (res.status !== 0) throw new Error(`find exited with ${res.status}`);
    return { ms, files: -1 };
  } finally {
    fs.closeSync(devNull);
  }
}

/** Directory walk using readdir's d_type only: the peer of a full scan. */
export function find(root: string): PeerRun {
  return runFind([root, '-type', 'f']);
}

/** Stats every file: the peer of a verify scan. */
export function findPrintf(root: string): PeerRun {
  return runFind([root, '-type', 'f', '-printf', '%s %T@ %p\n']);
}

/** Peak RSS of a fresh scanner process (see rssProbe.ts). */
export function rssProbe(session: 'first' | 'later', root: string, storeDir: string): { peakRssMb: number; phases: Record<string, number> } {
  const res = spawnSync(process.execPath, [path.join(__dirname, 'rssProbe.js'), session, root, storeDir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (res.error) throw res.error;
  if (res.status !== 0) throw new Error(`rss probe exited with ${res.status}`);
  return JSON.parse(res.stdout) as { peakRssMb: number; phases: Record<string, number> };
}
