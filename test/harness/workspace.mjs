// Generated workspaces for the VS Code tests: real PNG and JPEG files in nested folders.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(import.meta.url);

/**
 * Fills `root` with `folders` folders (camera<f%2>/day<f>) of `perFolder` images each, alternating
 * PNG (even index) and JPEG (odd index), `img<i>` of (48 + 8i) × 32 pixels, plus a non-image file.
 * `seed` shifts the pixels so that two datasets do not share content hashes.
 * Returns the number of images written.
 */
export function fillDataset(root, { folders = 6, perFolder = 5, seed = 0 } = {}) {
  const { makePng, makeJpeg } = require(join(repo, 'out/test/helpers/images.js'));
  let n = 0;
  for (let f = 0; f < folders; f++) {
    const dir = join(root, `camera${f % 2}`, `day${f}`);
    mkdirSync(dir, { recursive: true });
    for (let i = 0; i < perFolder; i++, n++) {
      const jpg = i % 2 === 1;
      writeFileSync(join(dir, `img${i}.${jpg ? 'jpg' : 'png'}`), jpg ? makeJpeg(48 + i * 8, 32, seed + n) : makePng(48 + i * 8, 32, seed + n));
    }
    writeFileSync(join(dir, 'labels.txt'), 'not an image\n');
  }
  return n;
}

/** One dataset folder in a fresh temporary directory (the `single` profile, test-electron, e2e). */
export function makeDataset({ folders = 6, perFolder = 5, label = 'ws' } = {}) {
  const root = mkdtempSync(join(tmpdir(), `dsx-${label}-`));
  fillDataset(root, { folders, perFolder });
  return root;
}

/**
 * A multi-root workspace: a `.code-workspace` file beside one generated dataset folder per entry
 * of `roots` (folder name → dataset shape). Returns the base directory (remove it to clean up),
 * the workspace file and the folders.
 */
export function makeMultiRoot({
  label = 'multi',
  roots = { alpha: { folders: 4, perFolder: 5 }, beta: { folders: 2, perFolder: 3 } },
} = {}) {
  const base = mkdtempSync(join(tmpdir(), `dsx-${label}-`));
  const folders = [];
  let seed = 0;
  for (const [name, shape] of Object.entries(roots)) {
    const dir = join(base, name);
    mkdirSync(dir);
    seed += 1000 + fillDataset(dir, { ...shape, seed });
    folders.push(dir);
  }
  const file = join(base, `${label}.code-workspace`);
  writeFileSync(file, `${JSON.stringify({ folders: Object.keys(roots).map((name) => ({ path: name })), settings: {} }, null, 2)}\n`);
  return { base, file, folders };
}
