// Puts sharp and its prebuilt binaries for one VS Code target into dist/node_modules, where the
// bundles (which leave sharp external: it is native) find it first. Usage:
//   node scripts/stageSharp.mjs [target]     target as `vsce package --target` names it; default: this machine
// The binaries come from npm (@img/sharp-<platform>, @img/sharp-libvips-<platform>). For a target other
// than this machine's, install them first, e.g.: npm install --no-save --os=darwin --cpu=arm64 sharp
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);

/** vsce target → sharp's platform name (libvips is inside the win32 packages). */
const PLATFORMS = {
  'linux-x64': 'linux-x64',
  'linux-arm64': 'linux-arm64',
  'linux-armhf': 'linux-arm',
  'alpine-x64': 'linuxmusl-x64',
  'alpine-arm64': 'linuxmusl-arm64',
  'darwin-x64': 'darwin-x64',
  'darwin-arm64': 'darwin-arm64',
  'win32-x64': 'win32-x64',
  'win32-arm64': 'win32-arm64',
};

function hostTarget() {
  const arch = process.arch === 'arm' ? 'armhf' : process.arch;
  if (process.platform === 'linux') {
    const musl = !process.report?.getReport().header.glibcVersionRuntime;
    return `${musl ? 'alpine' : 'linux'}-${arch}`;
  }
  return `${process.platform}-${arch}`;
}

const target = process.argv[2] ?? hostTarget();
const platform = PLATFORMS[target];
if (!platform) {
  console.error(`stageSharp: unknown target "${target}" (one of ${Object.keys(PLATFORMS).join(', ')})`);
  process.exit(2);
}

/** A package's folder, from its package.json (resolvable even where "exports" hides it). */
function packageDir(name) {
  for (const base of require.resolve.paths(name) ?? []) {
    const dir = join(base, name);
    if (existsSync(join(dir, 'package.json'))) return dir;
  }
  return null;
}

const runtime = ['sharp', '@img/colour', 'detect-libc', 'semver', `@img/sharp-${platform}`];
if (!platform.startsWith('win32')) runtime.push(`@img/sharp-libvips-${platform}`);

const out = 'dist/node_modules';
rmSync(out, { recursive: true, force: true });
const missing = runtime.filter((name) => !packageDir(name));
if (missing.length) {
  const [os, cpu] = platform.replace('linuxmusl', 'linux').split('-');
  console.error(`stageSharp: ${missing.join(', ')} not installed for ${target}.`);
  console.error(`  Install them first: npm install --no-save --os=${os} --cpu=${cpu === 'arm' ? 'arm' : cpu}${platform.includes('musl') ? ' --libc=musl' : ''} sharp`);
  process.exit(1);
}
// What sharp runs: its CommonJS build, not its C++ sources, install scripts or ES-module twin.
const skip = (name, src) => name === 'sharp' && /[\\/](src|install|lib)([\\/]|$)|\.mjs$|\.d\.[cm]?ts$/.test(src.slice(packageDir('sharp').length));
let bytes = 0;
for (const name of runtime) {
  const from = packageDir(name);
  cpSync(from, join(out, name), {
    recursive: true,
    dereference: true,
    filter: (src) => !skip(name, src) && !/[\\/]README\.md$|[\\/]CHANGELOG\.md$/.test(src),
  });
  const version = JSON.parse(readFileSync(join(from, 'package.json'), 'utf8')).version;
  bytes += Number(execFileSync('du', ['-sb', join(out, name)], { encoding: 'utf8' }).split('\t')[0]);
  console.log(`  ${name}@${version}`);
}
console.log(`stageSharp: ${target} → ${out} (${(bytes / 1024 / 1024).toFixed(1)} MB)`);
