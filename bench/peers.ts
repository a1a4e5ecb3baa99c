import * as fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fdir } from 'fdir';

/** A peer's timing and how many files it reported (a sanity check, not part of the score). */
export interface PeerRun {
  ms: number;
  files: number;
}

export async function fdirAsync(root: string): Promise<PeerRun> {
  const t = performance.now();
  const files = await new fdir().withFullPaths().crawl(root).withPromise();
  return { ms: performance.now() - t, files: files.length };
}

export function fdirSync(root: string): PeerRun {
  const t = performance.now();
  const files = new fdir().withFullPaths().crawl(root).sync();
  return { ms: performance.now() - t, files: files.length };
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
