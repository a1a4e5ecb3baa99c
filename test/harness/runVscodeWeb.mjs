// npm run test:vscode-web: runs the extension-host suite (test/vscode, the test-electron run()
// contract) inside a real VS Code — code-server's Node extension host — driven by Chromium.
// Exit code: 0 all passed, 1 a test failed, 2 the infrastructure failed.
import { mkdirSync, rmSync } from 'node:fs';
import { format } from 'node:util';
import { join } from 'node:path';
import { CHROMIUM_ARGS } from './chromiumArgs.mjs';
import { startCodeServer } from './codeServer.mjs';
import { chromium as chromiumPath, ensureTools, playwright } from './tools.mjs';
import { makeDataset, repo } from './workspace.mjs';

const TIMEOUT_MS = Number(process.env.DSX_VSCODE_TIMEOUT_MS ?? 10 * 60_000);

async function main() {
  const started = Date.now();
  try {
    ensureTools();
  } catch (err) {
    console.error(`[vscode-web] cannot install the tools: ${err.message}`);
    return 2;
  }
  const results = join(repo, 'test-results');
  mkdirSync(results, { recursive: true });
  const workspace = makeDataset({ label: 'vscode-web' });
  let server;
  let browser;
  try {
    server = await startCodeServer({ logFile: join(results, 'code-server-vscode-web.log') });
    const { chromium } = await playwright();
    browser = await chromium.launch({ executablePath: chromiumPath, args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    let settle;
    const exited = new Promise((resolve) => (settle = resolve));
    await page.exposeFunction('codeAutomationLog', (type, args) => {
      const list = Array.isArray(args) ? args : [args];
      const text = format(...list);
      // The workbench's own chatter (signed-in sessions of built-in agents, offline look-ups) is not ours.
      if (/^(\[AgentHost|Resolving connection|Resolved connection|Creating a socket|Timed out waiting for authentication|\s+at )|No signed-in session/.test(text)) return;
      (type === 'error' ? process.stderr : process.stdout).write(`${text}\n`);
    });
    await page.exposeFunction('codeAutomationExit', (code) => settle(Number(code)));
    const authority = `127.0.0.1:${server.port}`;
    const payload = [
      ['extensionDevelopmentPath', `vscode-remote://${authority}${repo}`],
      ['extensionTestsPath', `vscode-remote://${authority}${join(repo, 'out/test/vscode/index.js')}`],
      ['extensionEnvironment', JSON.stringify({ DSX_TEST_GREP: process.env.DSX_TEST_GREP ?? '' })],
    ];
    await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`);
    const timeout = new Promise((resolve) => setTimeout(() => resolve('timeout'), TIMEOUT_MS).unref());
    const code = await Promise.race([exited, timeout]);
    if (code === 'timeout') {
      await page.screenshot({ path: join(results, 'vscode-web-timeout.png') }).catch(() => undefined);
      console.error(`[vscode-web] the suite did not finish within ${TIMEOUT_MS} ms`);
      return 2;
    }
    if (code !== 0) await page.screenshot({ path: join(results, 'vscode-web-failure.png') }).catch(() => undefined);
    console.log(`[vscode-web] suite exit code ${code} after ${Math.round((Date.now() - started) / 1000)} s`);
    return code === 0 ? 0 : 1;
  } catch (err) {
    console.error(`[vscode-web] infrastructure failure: ${err?.stack ?? err}`);
    return 2;
  } finally {
    await browser?.close().catch(() => undefined);
    await server?.stop();
    rmSync(workspace, { recursive: true, force: true });
  }
}

process.exitCode = await main();
