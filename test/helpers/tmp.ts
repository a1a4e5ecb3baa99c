import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makePng } from './images';

const created = new Set<string>();
// Whatever a test did not remove itself goes when the test process ends: a suite run must not
// leave a hundred folders in /tmp behind.
process.once('exit', () => {
  for (const dir of created) {
    try {
      fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // Still mounted, or not ours to remove any more: leave it.
    }
  }
});

/** A fresh directory under the system temp dir, removed by the test or, at the latest, when the test process ends. */
export function tempDir(label: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `dsx-${label}-`));
  created.add(dir);
  return dir;
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

let seed = 0;
/** Writes a small real PNG (any extension: the scanner only looks at names). */
export function writeImage(root: string, rel: string): string {
  const abs = path.join(root, rel);
  fs.mkdirSync(path.dirname(abs), { recursive: true });
  fs.writeFileSync(abs, makePng(4, 3, seed++));
  return abs;
}

export function writeText(root: string, rel: string, text = 'not an image'): string {
  const abs = path.join(root, rel);
  fs.mkdirSync(path.dirname(abs), { recursive: true });
  fs.writeFileSync(abs, text);
  return abs;
}

/**
 * Builds `dirs` folders over three levels with `perDir` images each (plus a text file each), and
 * returns the relative image paths.
 */
export function buildTree(root: string, dirs: number, perDir: number): string[] {
  const out: string[] = [];
  for (let d = 0; d < dirs; d++) {
    const rel = `top${d % 4}/mid${d % 3}/leaf${d}`;
    for (let f = 0; f < perDir; f++) {
      const name = `${rel}/img${f}.${f % 2 ? 'png' : 'jpg'}`;
      writeImage(root, name);
      out.push(name);
    }
    writeText(root, `${rel}/notes.txt`);
  }
  return out.sort();
}

/**
 * A scan clock 10 s ahead: tests write files milliseconds before scanning, and within the racy
 * window every directory would be re-read. Scans given this clock trust stamps as a later scan would.
 */
// Past the widest window too: 62 s on file systems served by another machine (FUSE, NFS: stamp.ts).
export const afterRacyWindow = (): bigint => (BigInt(Date.now()) + 120_000n) * 1_000_000n;
