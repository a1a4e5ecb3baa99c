// Starts a fresh code-server (its own user-data and extensions folders) on a free loopback port, in
// its own process group, and stops the whole group.
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanEnv, codeServerEntry, node24 } from './tools.mjs';

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitHealthy(url, child, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`code-server exited with ${child.exitCode} before it was ready`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`code-server not ready after ${timeoutMs} ms`);
}

/**
 * @param {{ extensionsDir?: string, env?: Record<string,string>, logFile?: string, keepLogsIn?: string }} options
 *   keepLogsIn: where the workbench's logs (extension host, window, output channels) are copied on stop
 * @returns {Promise<{ url: string, port: number, userDataDir: string, extensionsDir: string, stop(): Promise<void> }>}
 */
export async function startCodeServer(options = {}) {
  const port = await freePort();
  const userDataDir = mkdtempSync(join(tmpdir(), 'dsx-vscode-user-'));
  const extensionsDir = options.extensionsDir ?? mkdtempSync(join(tmpdir(), 'dsx-vscode-ext-'));
  const out = options.logFile ? openSync(options.logFile, 'a') : 'ignore';
  const child = spawn(
    node24,
    [
      codeServerEntry,
      '--auth', 'none',
      '--bind-addr', `127.0.0.1:${port}`,
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--vscode-option', 'enable-smoke-test-driver',
      '--user-data-dir', userDataDir,
      '--extensions-dir', extensionsDir,
      '--ignore-last-opened',
    ],
    { detached: true, stdio: ['ignore', out, out], env: cleanEnv(options.env) },
  );
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
    await new Promise((r) => setTimeout(r, 300));
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    if (options.keepLogsIn && existsSync(join(userDataDir, 'logs'))) {
      rmSync(options.keepLogsIn, { recursive: true, force: true });
      cpSync(join(userDataDir, 'logs'), options.keepLogsIn, { recursive: true });
    }
    rmSync(userDataDir, { recursive: true, force: true });
    if (!options.extensionsDir) rmSync(extensionsDir, { recursive: true, force: true });
  };
  try {
    await waitHealthy(url, child, 60_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, port, userDataDir, extensionsDir, stop };
}

/** Installs a .vsix into an extensions folder with code-server's own CLI. */
export async function installVsix(vsix, extensionsDir) {
  const { execFileSync } = await import('node:child_process');
  execFileSync(node24, [codeServerEntry, '--extensions-dir', extensionsDir, '--install-extension', vsix], { stdio: 'inherit', env: cleanEnv() });
}
