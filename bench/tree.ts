import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** Bump when the layout below changes, so stale trees are rebuilt. */
const LAYOUT_VERSION = 1;

export interface BenchTree {
  /** Holds the tree, its marker and the bench's cache store. */
  readonly base: string;
  readonly root: string;
  readonly imageFiles: number;
  readonly otherFiles: number;
  /** Every directory, the root included (what a scan report counts). */
  readonly dirs: number;
  /** Relative paths of the leaf directories, in creation order. */
  readonly leaves: string[];
  /** True when an existing tree was reused. */
  readonly reused: boolean;
}

interface Marker {
  version: number;
  files: number;
  perDir: number;
  imageFiles: number;
  otherFiles: number;
  dirs: number;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** Leaves split over ~sqrt(leaves) top directories (at most 100): d000/s000 … */
export function layout(files: number, perDir: number): string[] {
  const leafCount = Math.max(1, Math.ceil(files / perDir));
  const tops = Math.min(100, Math.ceil(Math.sqrt(leafCount)));
  const perTop = Math.ceil(leafCount / tops);
  const leaves: string[] = [];
  for (let i = 0; i < leafCount; i++) leaves.push(`d${pad(Math.floor(i / perTop), 3)}/s${pad(i % perTop, 3)}`);
  return leaves;
}

function countDirs(leaves: readonly string[]): number {
  return 1 + new Set(leaves.map((l) => l.split('/')[0])).size + leaves.length;
}

function touchEmpty(file: string): void {
  fs.closeSync(fs.openSync(file, 'w'));
}

/**
 * Builds (or reuses) `files` empty image-named files, `perDir` per leaf directory, plus a .txt file
 * for every 20th image (~5 %, which the scanner must filter out).
 */
export function ensureTree(files: number, perDir: number, log: (line: string) => void, owner = ''): BenchTree {
  // A bench that changes the tree while another reads it (bench:netfs adds files through a mount)
  // gets a tree of its own: `owner` in the name.
  const base = path.join(os.tmpdir(), `dataset-index-bench-${owner ? `${owner}-` : ''}${files}-${perDir}`);
  const root = path.join(base, 'tree');
  const markerFile = path.join(base, 'marker.json');
  const leaves = layout(files, perDir);
  const dirs = countDirs(leaves);

  try {
    const m = JSON.parse(fs.readFileSync(markerFile, 'utf8')) as Marker;
    if (m.version === LAYOUT_VERSION && m.files === files && m.perDir === perDir && fs.existsSync(root)) {
      return { base, root, imageFiles: m.imageFiles, otherFiles: m.otherFiles, dirs: m.dirs, leaves, reused: true };
    }
  } catch {
    // no marker (or a broken one): build afresh
  }

  fs.rmSync(base, { recursive: true, force: true });
  fs.mkdirSync(root, { recursive: true });
  const width = Math.max(6, String(files - 1).length);
  const started = Date.now();
  let image = 0;
  let other = 0;
  for (const leaf of leaves) {
    const dir = path.join(root, leaf);
    fs.mkdirSync(dir, { recursive: true });
    for (let k = 0; k < perDir && image < files; k++, image++) {
      const stem = `img_${pad(image, width)}`;
      touchEmpty(path.join(dir, `${stem}${image % 3 === 0 ? '.png' : '.jpg'}`));
      if (image % 20 === 19) {
        touchEmpty(path.join(dir, `${stem}.txt`));
        other++;
      }
      if ((image + 1) % 100_000 === 0) log(`  generated ${image + 1} / ${files} images (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    }
  }
  const marker: Marker = { version: LAYOUT_VERSION, files, perDir, imageFiles: image, otherFiles: other, dirs };
  fs.writeFileSync(markerFile, JSON.stringify(marker));
  log(`  generated ${image} images + ${other} other files in ${dirs} dirs (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return { base, root, imageFiles: image, otherFiles: other, dirs, leaves, reused: false };
}

/** Ten leaves spread evenly over the tree: where the "+1,000 files" change lands. */
export function touchedLeaves(tree: BenchTree, count = 10): string[] {
  const n = Math.min(count, tree.leaves.length);
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(tree.leaves[Math.floor((i * tree.leaves.length) / n)]);
  return out;
}

const ADDED = /^add_r\d+_\d+\.jpg$/;

/** Adds `total` new images spread over `dirs`; names are unique per `tag`. Returns their paths. */
export function addFiles(root: string, dirs: readonly string[], total: number, tag: number): string[] {
  const created: string[] = [];
  for (let i = 0; i < total; i++) {
    const file = path.join(root, dirs[i % dirs.length], `add_r${tag}_${i}.jpg`);
    touchEmpty(file);
    created.push(file);
  }
  return created;
}

export function removeFiles(files: readonly string[]): void {
  for (const f of files) fs.unlinkSync(f);
}

/** Removes files left behind by an interrupted run. Returns how many. */
export function cleanLeftovers(root: string, dirs: readonly string[]): number {
  let n = 0;
  for (const dir of dirs) {
    for (const name of fs.readdirSync(path.join(root, dir))) {
      if (ADDED.test(name)) {
        fs.unlinkSync(path.join(root, dir, name));
        n++;
      }
    }
  }
  return n;
}
