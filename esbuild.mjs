// Bundles the extension, the CLI and the two worker entries into dist/, and puts sql.js's WASM beside them.
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const production = process.argv.includes('--production');
const quiet = process.argv.includes('--quiet');

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: !production,
  minify: production,
  logLevel: quiet ? 'warning' : 'info',
};

mkdirSync('dist', { recursive: true });
await Promise.all([
  esbuild.build({ ...common, entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'] }),
  esbuild.build({ ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' } }),
  // The scan's worker thread, loaded by file name from beside the bundle that starts it.
  esbuild.build({ ...common, entryPoints: ['src/core/scanner/dirWorker.ts'], outfile: 'dist/dirWorker.js' }),
  // The engine's worker thread (registry, cache, diff, group indexes), started by the extension host.
  esbuild.build({ ...common, entryPoints: ['src/core/engine/engineWorker.ts'], outfile: 'dist/engineWorker.js' }),
]);
const wasm = join(dirname(require.resolve('sql.js')), 'sql-wasm.wasm');
copyFileSync(wasm, 'dist/sql-wasm.wasm');
