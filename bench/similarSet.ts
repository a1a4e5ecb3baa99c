/**
 * The near-duplicate quality set: real photographs and artwork shipped in Debian packages (made by
 * no one here), and transformed copies of each made with ImageMagick (`convert`, a resampler and
 * encoders other than the libvips that computes the hashes).
 *
 * Sources (each must be ≥ 256 px on both sides; present ones are used, missing ones skipped):
 * - scikit-image's sample data (python3-skimage): its photographs and micrographs only, not its
 *   synthetic test patterns; motorcycle_right is left out (a stereo pair of motorcycle_left);
 * - KDE Plasma wallpapers (plasma-workspace-wallpapers): one picture per wallpaper, its largest
 *   landscape rendition (the others are the same picture at other sizes);
 * - /usr/share/backgrounds (gnome-backgrounds, mate-backgrounds, ubuntu/lomiri/ukui wallpapers):
 *   raster files, without the variants of one artwork listed in VARIANTS.
 * Each source is first brought to at most MAX_SIDE pixels on its long side (a dataset-sized image;
 * ImageMagick on 5120×2880 PNGs would take most of the run) and written as PNG ("base"): every
 * copy is made from the base, so a base and its copies differ only by the transformation.
 *
 * Cached under <tmpdir>/dataset-index-similar-quality-v<GEN>/: a marker lists what was made.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';

const run = promisify(execFile);
const GEN = 1;
const MAX_SIDE = 1600;
const MIN_SIDE = 256;

const SKIMAGE_PHOTOS = [
  'astronaut.png', 'brick.png', 'camera.png', 'cell.png', 'chelsea.png', 'coffee.png', 'coins.png', 'grass.png', 'gravel.png',
  'hubble_deep_field.jpg', 'ihc.png', 'microaneurysms.png', 'moon.png', 'motorcycle_left.png', 'page.png', 'retina.jpg',
  'rocket.jpg', 'text.png',
];

/**
 * One picture in several renditions (dark/light, colour variants, sizes): only the first of each
 * family is a base, so "distinct pairs" are pairs of different pictures. Found by looking at the
 * pairs both hashes put closest (the harness prints them).
 */
const VARIANTS: readonly RegExp[] = [
  /gnome\/.*-d\.webp$/, // dark twins of the -l light wallpapers
  /Elephants_\d+x\d+\.jpg$/, // Elephants.jpg at other sizes
  /Ubuntu-Mate-(Cold|Dark|Warm)-no-logo\.png$/, // colour variants of Ubuntu-Mate-Radioactive-no-logo
  /MATE-Stripes-(Dark|Light)\.png$/, // colour variants of Stripes.png
];

export interface Transform {
  name: string;
  /** The target (≥ 95 % recall) applies to it. */
  targeted: boolean;
  /** Output extension, or null: the base's own format is not this one (convert only). */
  ext: (srcExt: string) => string | null;
  args: string[];
}

export const TRANSFORMS: readonly Transform[] = [
  { name: 'resize 50%', targeted: true, ext: () => 'png', args: ['-resize', '50%'] },
  { name: 'resize 25%', targeted: true, ext: () => 'png', args: ['-resize', '25%'] },
  { name: 'JPEG q60', targeted: true, ext: () => 'jpg', args: ['-quality', '60'] },
  { name: 'PNG → JPEG (q85)', targeted: true, ext: () => 'jpg', args: ['-quality', '85'] },
  { name: 'PNG → WebP (q75)', targeted: true, ext: () => 'webp', args: ['-quality', '75'] },
  { name: 'JPEG q85 → PNG', targeted: true, ext: () => 'png', args: [] },
  { name: 'crop 5% (centred)', targeted: false, ext: () => 'png', args: ['-gravity', 'center', '-crop', '95%x95%+0+0', '+repage'] },
  { name: 'brightness +10%', targeted: false, ext: () => 'png', args: ['-modulate', '110,100,100'] },
];

export interface QualityFile {
  file: string;
  base: number;
  /** null for the base itself. */
  transform: string | null;
}

export interface QualitySet {
  dir: string;
  bases: { name: string; source: string; width: number; height: number }[];
  files: QualityFile[];
  reused: boolean;
  tool: string;
}

function listSources(): string[] {
  const out: string[] = [];
  const skimage = ['/usr/lib/python3/dist-packages/skimage/data', '/usr/share/python3-skimage/data'].find((d) => fs.existsSync(d));
  if (skimage) for (const f of SKIMAGE_PHOTOS) if (fs.existsSync(path.join(skimage, f))) out.push(path.join(skimage, f));
  const walls = '/usr/share/wallpapers';
  if (fs.existsSync(walls)) {
    for (const w of fs.readdirSync(walls).sort()) {
      const dir = path.join(walls, w, 'contents/images');
      if (!fs.existsSync(dir)) continue;
      const pics = fs.readdirSync(dir).filter((f) => /^\d+x\d+\.(jpe?g|png)$/i.test(f)).map((f) => {
        const [wd, ht] = f.split('.')[0].split('x').map(Number);
        return { f, wd, ht };
      }).filter((p) => p.wd >= p.ht).sort((a, b) => b.wd * b.ht - a.wd * a.ht);
      if (pics.length) out.push(path.join(dir, pics[0].f));
    }
  }
  const walk = (dir: string): void => {
    if (!fs.existsSync(dir)) return;
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && /\.(jpe?g|png|webp)$/i.test(e.name) && !VARIANTS.some((v) => v.test(p))) out.push(p);
    }
  };
  walk('/usr/share/backgrounds');
  return out;
}

async function magickVersion(): Promise<string> {
  try {
    const { stdout } = await run('convert', ['-version']);
    return stdout.split('\n')[0];
  } catch {
    throw new Error('ImageMagick (convert) is needed to make the transformed copies: apt-get install imagemagick');
  }
}

async function pool<T>(items: readonly T[], n: number, fn: (x: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  }));
}

export async function ensureQualitySet(log: (s: string) => void, concurrency = 2): Promise<QualitySet> {
  const dir = path.join(os.tmpdir(), `dataset-index-similar-quality-v${GEN}`);
  const marker = path.join(dir, 'marker.json');
  if (fs.existsSync(marker)) return { ...(JSON.parse(fs.readFileSync(marker, 'utf8')) as QualitySet), reused: true };
  const tool = await magickVersion();
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const sources = listSources();
  log(`quality set: ${sources.length} candidate sources`);
  const bases: QualitySet['bases'] = [];
  for (const source of sources) {
    let meta: { width?: number; height?: number };
    try {
      meta = await sharp(source).metadata();
    } catch (err) {
      log(`  skipped ${source}: ${err instanceof Error ? err.message : String(err)}`);
      continue;
    }
    if ((meta.width ?? 0) < MIN_SIDE || (meta.height ?? 0) < MIN_SIDE) continue;
    const name = path.relative('/usr', source).replace(/[^A-Za-z0-9._-]+/g, '_');
    bases.push({ name, source, width: meta.width ?? 0, height: meta.height ?? 0 });
  }
  const files: QualityFile[] = [];
  await pool(bases, concurrency, async (b, i) => {
    const base = path.join(dir, `${String(i).padStart(3, '0')}-base.png`);
    await run('convert', [`${b.source}[0]`, '-auto-orient', '-strip', '-resize', `${MAX_SIDE}x${MAX_SIDE}>`, base]);
    // The JPEG → PNG copy needs a JPEG to start from: the base at q85, then back to PNG.
    const jpeg85 = path.join(dir, `${String(i).padStart(3, '0')}-q85.jpg`);
    await run('convert', [base, '-quality', '85', jpeg85]);
    files.push({ file: base, base: i, transform: null });
    for (const t of TRANSFORMS) {
      const from = t.name === 'JPEG q85 → PNG' ? jpeg85 : base;
      const out = path.join(dir, `${String(i).padStart(3, '0')}-${t.name.replace(/[^A-Za-z0-9]+/g, '_')}.${t.ext('png') ?? 'png'}`);
      await run('convert', [from, ...t.args, out]);
      files.push({ file: out, base: i, transform: t.name });
    }
    fs.rmSync(jpeg85);
    log(`  base ${i + 1}/${bases.length}: ${b.name}`);
  });
  files.sort((a, b) => a.base - b.base || (a.transform ?? '').localeCompare(b.transform ?? ''));
  const set: QualitySet = { dir, bases, files, reused: false, tool };
  fs.writeFileSync(marker, JSON.stringify(set));
  return set;
}
