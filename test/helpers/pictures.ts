import sharp from 'sharp';
import { rng } from '../../bench/imagesGen';

/**
 * A picture with structure at every scale, as photographs have: smooth waves plus a few filled
 * shapes, RGB, `w`×`h`, encoded by libvips' PNG encoder. Another seed, another picture (its
 * perceptual hash far from the others'); a resized or recompressed copy hashes near it.
 */
export async function picture(seed: number, w = 320, h = 240): Promise<Buffer> {
  const r = rng(seed);
  const px = Buffer.alloc(w * h * 3);
  const f = [1 + r() * 4, 1 + r() * 4, r() * 6, r() * 6];
  const shapes = Array.from({ length: 6 }, () => ({ x: r() * w, y: r() * h, rad: 15 + r() * 50, c: [r() * 255, r() * 255, r() * 255] }));
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let c = [
        128 + 90 * Math.sin((x / w) * f[0] * Math.PI + f[2]),
        128 + 90 * Math.cos((y / h) * f[1] * Math.PI + f[3]),
        128 + 60 * Math.sin(((x + y) / (w + h)) * 3 * Math.PI + f[2]),
      ];
      for (const s of shapes) if ((x - s.x) ** 2 + (y - s.y) ** 2 < s.rad ** 2) c = s.c;
      px.set(c.map((v) => Math.max(0, Math.min(255, Math.round(v)))), (y * w + x) * 3);
    }
  }
  return sharp(px, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer();
}

/**
 * Near-duplicates of a 320×240 `picture`, as libvips makes them: a 5 % crop saved as JPEG q70, and
 * a quarter-size JPEG q50. For seeds 10–13 their pHashes are 2–8 bits from the original's
 * (distinct pictures: 26–38 bits apart).
 */
export async function nearCopies(png: Buffer): Promise<{ crop: Buffer; quarter: Buffer }> {
  return {
    crop: await sharp(png).extract({ left: 8, top: 6, width: 304, height: 228 }).jpeg({ quality: 70 }).toBuffer(),
    quarter: await sharp(png).resize(80).jpeg({ quality: 50 }).toBuffer(),
  };
}
