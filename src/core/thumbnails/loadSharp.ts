import type sharpFn from 'sharp';

export type Sharp = typeof sharpFn;

export type SharpLoad = { ok: true; sharp: Sharp } | { ok: false; message: string };

/** Set only by the tests that show what a platform without sharp's binaries looks like. */
export const NO_SHARP_ENV = 'DATASET_INDEX_NO_SHARP';

let loaded: SharpLoad | undefined;

/**
 * sharp, loaded once on first use. It is a native module shipped per platform (`vsce package
 * --target`): on a platform whose binaries are missing the require throws, and thumbnails become
 * codicons — the caller says so once.
 */
export function loadSharp(): SharpLoad {
  if (process.env[NO_SHARP_ENV] === '1') return { ok: false, message: `sharp disabled by ${NO_SHARP_ENV}=1` };
  if (loaded) return loaded;
  try {
    // A plain require: sharp stays outside the bundle (esbuild marks it external) and is found in
    // dist/node_modules (packaged) or the repository's node_modules (development, tests).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const sharp = require('sharp') as Sharp;
    // libvips' operation cache keeps recent images for reuse; thumbnails never read a file twice.
    sharp.cache(false);
    loaded = { ok: true, sharp };
  } catch (err) {
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
    loaded = { ok: false, message: `sharp could not be loaded on ${process.platform}-${process.arch}: ${why}` };
  }
  return loaded;
}
