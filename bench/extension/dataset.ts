/**
 * The extension benchmark's dataset, generated once and kept under a data folder (default
 * `.bench/extension/`), keyed by its parameters:
 *
 *   ds-<files>-<register>/tree/            the dataset folder the window opens
 *     d000/s000 … (≈ files/100 folders)    empty image-named files, 90 per folder (the scan reads names and stats)
 *     big/                                 one folder of files/10 images (100k at 1M)
 *     incoming/part_XX/set_Y/              `register` real PNG/JPEG images (bench/imagesGen.ts): the
 *                                          Register phase reads, probes and hashes them
 *   ds-<files>-<register>/seed-store/      what the extension's store holds before the run:
 *     registry.sqlite (+ .sum)             every tree image but incoming/ registered (rows carry the
 *                                          files' real size and mtime, so a verify scan agrees)
 *     scan-<id>.dsxcache                   the scan cache, refreshed by a quick scan before each run
 *
 * The seed store is hard-linked into the window's store, not copied: a link keeps the inode, size
 * and mtime the registry's sum record names, so the extension opens it as its own last save (the
 * quick check, as a user's second session would) and not as a foreign file. Every write of the
 * extension is an atomic replace (a new inode), so the seed is never written through a link.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SCHEMA_VERSION } from '../../src/core/registry/schema';
import { Registry, canonicalRoot, registryFileFor, scanDataset, type ImageRow } from '../../src/core';
import { readSum } from '../../src/core/registry/integrity';
import { ensureImages, rng } from '../imagesGen';
import { layout } from '../tree';

/** Bump when the layout below changes: stale datasets are rebuilt. */
const LAYOUT_VERSION = 1;
const PER_FOLDER = 90;
const UPSERT_BATCH = 20_000;

export interface DatasetShape {
  /** Images in the tree, the big folder included, incoming/ not. */
  readonly files: number;
  /** Real images in incoming/, new at the start (the Register phase registers them). */
  readonly register: number;
}

export interface BenchDataset extends DatasetShape {
  readonly base: string;
  readonly root: string;
  readonly seedStore: string;
  readonly bigFolder: string;
  readonly bigCount: number;
  readonly folders: number;
  /** Relative leaf folders (d000/s000 …), where the burst lands. */
  readonly leaves: string[];
  readonly reused: boolean;
}

interface TreeMarker {
  version: number;
  files: number;
  register: number;
  bigCount: number;
  folders: number;
}

interface RegistryMarker {
  schema: number;
  rows: number;
  ino: number;
  size: number;
  mtimeMs: number;
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');
const hex8 = (rand: () => number): string => Math.floor(rand() * 0x100000000).toString(16).padStart(8, '0');

function readJson<T>(file: string): T | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    return null;
  }
}

function writeJson(file: string, value: unknown): void {
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(value));
  fs.renameSync(`${file}.tmp`, file);
}

function touchEmpty(file: string): void {
  fs.closeSync(fs.openSync(file, 'w'));
}

/** The image names of a leaf folder (or of big/), in the order they were made. */
function* treeFiles(root: string, leaves: readonly string[], files: number, bigCount: number): Generator<{ rel: string; abs: string }> {
  const width = Math.max(7, String(files).length);
  const rest = files - bigCount;
  let i = 0;
  for (const leaf of leaves) {
    for (let k = 0; k < PER_FOLDER && i < rest; k++, i++) {
      const rel = `${leaf}/img_${pad(i, width)}${i % 3 === 0 ? '.png' : '.jpg'}`;
      yield { rel, abs: path.join(root, rel) };
    }
  }
  for (let k = 0; k < bigCount; k++, i++) {
    const rel = `big/img_${pad(i, width)}.jpg`;
    yield { rel, abs: path.join(root, rel) };
  }
}

function buildTree(root: string, leaves: readonly string[], shape: DatasetShape, bigCount: number, log: (line: string) => void): void {
  const started = Date.now();
  const made = new Set<string>();
  let n = 0;
  for (const { abs } of treeFiles(root, leaves, shape.files, bigCount)) {
    const dir = path.dirname(abs);
    if (!made.has(dir)) {
      fs.mkdirSync(dir, { recursive: true });
      made.add(dir);
    }
    touchEmpty(abs);
    if (++n % 100_000 === 0) log(`  tree: ${n.toLocaleString('en-US')} / ${shape.files.toLocaleString('en-US')} files (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  }
  // Real images for the Register phase: hard links to the registration benchmark's generated set.
  const images = ensureImages(shape.register, log);
  const incoming = path.join(root, 'incoming');
  for (const f of images.files) {
    const to = path.join(incoming, f.rel);
    fs.mkdirSync(path.dirname(to), { recursive: true });
    try {
      fs.linkSync(path.join(images.root, f.rel), to);
    } catch {
      fs.copyFileSync(path.join(images.root, f.rel), to);
    }
  }
  log(`  tree: ${n.toLocaleString('en-US')} files + ${images.files.length} real images in incoming/ (${((Date.now() - started) / 1000).toFixed(0)} s)`);
}

/** Registers every tree image (not incoming/) through the core, with each file's real size and mtime. */
async function buildRegistry(root: string, seedStore: string, leaves: readonly string[], shape: DatasetShape, bigCount: number, log: (line: string) => void): Promise<RegistryMarker> {
  const started = Date.now();
  const file = registryFileFor(seedStore);
  for (const f of fs.readdirSync(seedStore)) if (f.startsWith(path.basename(file))) fs.rmSync(path.join(seedStore, f), { force: true });
  const { registry } = await Registry.open(file);
  try {
    const rootId = registry.rootId(await canonicalRoot(root));
    const rand = rng(9001);
    const now = Date.now();
    let batch: ImageRow[] = [];
    let rows = 0;
    for (const { rel, abs } of treeFiles(root, leaves, shape.files, bigCount)) {
      const st = fs.statSync(abs);
      const width = 64 + Math.floor(rand() * 4000);
      batch.push({
        path: rel,
        size: st.size,
        mtimeMs: st.mtimeMs,
        hash: hex8(rand) + hex8(rand),
        width,
        height: Math.round(width * 0.75),
        format: rel.endsWith('.png') ? 'png' : 'jpg',
        status: 'ok',
        reason: null,
        registeredAt: now - Math.floor(rand() * 1e9),
      });
      if (batch.length === UPSERT_BATCH) {
        registry.upsert(rootId, batch);
        rows += batch.length;
        batch = [];
        if (rows % 100_000 === 0) log(`  registry: ${rows.toLocaleString('en-US')} rows (${((Date.now() - started) / 1000).toFixed(0)} s)`);
      }
    }
    registry.upsert(rootId, batch);
    rows += batch.length;
    await registry.save();
    const st = fs.statSync(file);
    log(`  registry: ${rows.toLocaleString('en-US')} rows, ${(st.size / 1e6).toFixed(0)} MB (${((Date.now() - started) / 1000).toFixed(0)} s)`);
    return { schema: SCHEMA_VERSION, rows, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs };
  } finally {
    registry.close();
  }
}

/** The seed registry is still the one built (nothing wrote through a link, the schema is current). */
async function registryIntact(seedStore: string, marker: RegistryMarker | null): Promise<boolean> {
  if (!marker || marker.schema !== SCHEMA_VERSION) return false;
  const file = registryFileFor(seedStore);
  const st = fs.statSync(file, { throwIfNoEntry: false });
  const sum = await readSum(file);
  return !!st && !!sum && st.ino === marker.ino && st.size === marker.size && st.mtimeMs === marker.mtimeMs && sum.ino === st.ino;
}

/** Builds (or reuses) the dataset and its seed store; refreshes the seed's scan cache. */
export async function ensureDataset(dataDir: string, shape: DatasetShape, log: (line: string) => void): Promise<BenchDataset> {
  const base = path.join(dataDir, `ds-${shape.files}-${shape.register}`);
  const root = path.join(base, 'tree');
  const seedStore = path.join(base, 'seed-store');
  const bigCount = Math.floor(shape.files / 10);
  const leaves = layout(shape.files - bigCount, PER_FOLDER);
  const folders = leaves.length + 1;
  const treeMarkerFile = path.join(base, 'tree.json');
  const registryMarkerFile = path.join(base, 'registry.json');

  const found = readJson<TreeMarker>(treeMarkerFile);
  const reused = !!found && found.version === LAYOUT_VERSION && found.files === shape.files && found.register === shape.register && fs.existsSync(root);
  if (!reused) {
    log(`generating the dataset in ${base} (kept for later runs)`);
    fs.rmSync(base, { recursive: true, force: true });
    fs.mkdirSync(root, { recursive: true });
    buildTree(root, leaves, shape, bigCount, log);
    writeJson(treeMarkerFile, { version: LAYOUT_VERSION, files: shape.files, register: shape.register, bigCount, folders } satisfies TreeMarker);
  }
  fs.mkdirSync(seedStore, { recursive: true });
  if (!(await registryIntact(seedStore, readJson<RegistryMarker>(registryMarkerFile)))) {
    log('building the seed registry');
    writeJson(registryMarkerFile, await buildRegistry(root, seedStore, leaves, shape, bigCount, log));
  }
  const leftovers = removeBurst(root, burstFolders({ leaves }));
  if (leftovers) log(`removed ${leftovers} burst files an interrupted run left`);
  // A quick rescan keeps the seed cache current (and verifies it once it is older than a day, as
  // the extension's default would); the first one walks the whole tree.
  const t0 = Date.now();
  const { report } = await scanDataset({ root, storeDir: seedStore });
  log(`seed scan cache: ${report.mode} scan, ${report.files.toLocaleString('en-US')} images in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return { ...shape, base, root, seedStore, bigFolder: 'big', bigCount, folders, leaves, reused };
}

/** Hard-links (copies where links fail) the seed store's files into `storeDir`. */
export function placeSeedStore(seedStore: string, storeDir: string): string[] {
  fs.mkdirSync(storeDir, { recursive: true });
  const placed: string[] = [];
  for (const name of fs.readdirSync(seedStore)) {
    const from = path.join(seedStore, name);
    if (!fs.statSync(from).isFile() || name.endsWith('.tmp') || name.includes('.lock')) continue;
    const to = path.join(storeDir, name);
    fs.rmSync(to, { force: true });
    try {
      fs.linkSync(from, to);
    } catch {
      fs.copyFileSync(from, to);
    }
    placed.push(name);
  }
  return placed;
}

const BURST = /^(burst|seed)_\d+\.jpg$/;

/** Writes `count` new empty images spread over `dirs` (relative); returns when the last is written. */
export function writeBurst(root: string, dirs: readonly string[], count: number, prefix: 'burst' | 'seed' = 'burst'): string[] {
  const created: string[] = [];
  for (let i = 0; i < count; i++) {
    const file = path.join(root, dirs[i % dirs.length], `${prefix}_${pad(i, 6)}.jpg`);
    touchEmpty(file);
    created.push(file);
  }
  return created;
}

/** Removes burst files (this run's or an interrupted run's). Returns how many. */
export function removeBurst(root: string, dirs: readonly string[]): number {
  let n = 0;
  for (const dir of dirs) {
    const abs = path.join(root, dir);
    for (const name of fs.readdirSync(abs)) {
      if (BURST.test(name)) {
        fs.rmSync(path.join(abs, name), { force: true });
        n++;
      }
    }
  }
  return n;
}

/** Ten leaves spread evenly over the tree: where the burst lands. */
export function burstFolders(ds: { leaves: readonly string[] }, count = 10): string[] {
  const n = Math.min(count, ds.leaves.length);
  return Array.from({ length: n }, (_, i) => ds.leaves[Math.floor((i * ds.leaves.length) / n)]);
}
