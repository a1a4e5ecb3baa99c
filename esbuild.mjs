// Bundles the extension, the CLI and the worker entries (scan, engine, wasm decoders) into dist/, and puts the
// WASM files (sql.js, libheif, libjxl) beside them. sharp is native (libvips): it stays outside the bundles and is
// found in node_modules (development) or dist/node_modules (the packaged extension; see scripts/stageSharp.mjs).
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const production = process.argv.includes('--production');
const quiet = process.argv.includes('--quiet');

// sharp is native (a .node binary per platform, found at run time): required from node_modules,
// never bundled.
const common = {
  bundle: true,
  platform: 'node',
  // pg's optional native binding: never used (pure JavaScript only), left out of the bundles.
  external: ['pg-native', 'sharp'],
  format: 'cjs',
  target: 'node20',
  sourcemap: !production,
  minify: production,
  logLevel: quiet ? 'warning' : 'info',
};

mkdirSync('dist', { recursive: true });
await Promise.all([
  esbuild.build({ ...common, entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js', external: ['vscode', 'pg-native', 'sharp'] }),
  esbuild.build({ ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', external: ['pg-native', 'sharp'], banner: { js: '#!/usr/bin/env node' } }),
  // The scan's worker thread, loaded by file name from beside the bundle that starts it.
  esbuild.build({ ...common, entryPoints: ['src/core/scanner/dirWorker.ts'], outfile: 'dist/dirWorker.js' }),
  // The wasm decoders' thread (HEIC, JPEG XL). @jsquash/jxl is an ES module whose `import.meta.url`
  // only names where its .wasm would be fetched from; we compile the .wasm ourselves and hand it over.
  esbuild.build({ ...common, entryPoints: ['src/core/thumbnails/decodeWorker.ts'], outfile: 'dist/decodeWorker.js', logOverride: { 'empty-import-meta': 'silent' } }),
  // The engine's worker thread (registry, cache, diff, group indexes), started by the extension host.
  esbuild.build({ ...common, entryPoints: ['src/core/engine/engineWorker.ts'], outfile: 'dist/engineWorker.js' }),
  // The near-duplicate groups' threads: the engine's Similar group off its loop, and the slice threads (CLI and engine).
  esbuild.build({ ...common, entryPoints: ['src/core/similar/similarGroupsWorker.ts'], outfile: 'dist/similarGroupsWorker.js' }),
]);
const wasm = join(dirname(require.resolve('sql.js')), 'sql-wasm.wasm');
copyFileSync(wasm, 'dist/sql-wasm.wasm');
copyFileSync(require.resolve('libheif-js/libheif-wasm/libheif.wasm'), 'dist/libheif.wasm');
copyFileSync(require.resolve('@jsquash/jxl/codec/dec/jxl_dec.wasm'), 'dist/jxl_dec.wasm');
