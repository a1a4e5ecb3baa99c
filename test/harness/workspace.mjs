// A generated dataset folder for the VS Code tests: real PNG and JPEG files in nested folders.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(import.meta.url);

export function makeDataset({ folders = 6, perFolder = 5, label = 'ws' } = {}) {
  const { makePng, makeJpeg } = require(join(repo, 'out/test/helpers/images.js'));
  const root = mkdtempSync(join(tmpdir(), `dsx-${label}-`));
  let n = 0;
  for (let f = 0; f < folders; f++) {
    const dir = join(root, `camera${f % 2}`, `day${f}`);
    mkdirSync(dir, { recursive: true });
    for (let i = 0; i < perFolder; i++, n++) {
      const jpg = i % 2 === 1;
      writeFileSync(join(dir, `img${i}.${jpg ? 'jpg' : 'png'}`), jpg ? makeJpeg(48 + i * 8, 32, n) : makePng(48 + i * 8, 32, n));
    }
    writeFileSync(join(dir, 'labels.txt'), 'not an image\n');
  }
  return root;
}
