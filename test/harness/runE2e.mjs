// npm run test:e2e: installs the packaged .vsix into a fresh code-server, opens a generated dataset,
// and drives the UI as a person would (command palette, notifications, the tree, the status bar).
// Screenshots go to test-results/e2e/ (git-ignored). Exit 0 pass, 1 a check failed, 2 infrastructure.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { installVsix, startCodeServer } from './codeServer.mjs';
import { CHROMIUM_ARGS } from './chromiumArgs.mjs';
import { chromium as chromiumPath, ensureTools, playwright } from './tools.mjs';
import { makeDataset, repo } from './workspace.mjs';
import { scenarios } from '../e2e/scenarios.mjs';

class CheckFailed extends Error {}

async function main() {
  const vsix = join(repo, 'dataset-index.vsix');
  if (!existsSync(vsix)) {
    console.error('[e2e] dataset-index.vsix missing: npm run test:e2e packages it first');
    return 2;
  }
  try {
    ensureTools();
  } catch (err) {
    console.error(`[e2e] cannot install the tools: ${err.message}`);
    return 2;
  }
  const shots = join(repo, 'test-results', 'e2e');
  rmSync(shots, { recursive: true, force: true });
  mkdirSync(shots, { recursive: true });
  const extensionsDir = join(repo, 'test-results', 'e2e-extensions');
  rmSync(extensionsDir, { recursive: true, force: true });
  let server;
  let browser;
  const workspace = makeDataset({ label: 'e2e', folders: 6, perFolder: 5 });
  try {
    await installVsix(vsix, extensionsDir);
    server = await startCodeServer({ extensionsDir, logFile: join(repo, 'test-results', 'code-server-e2e.log') });
    const { chromium } = await playwright();
    browser = await chromium.launch({ executablePath: chromiumPath, args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}`);
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    await page.locator('#workbench\\.parts\\.statusbar').waitFor({ timeout: 60_000 });
    let step = 0;
    const ctx = {
      page,
      workspace,
      async shot(name) {
        step++;
        const file = join(shots, `${String(step).padStart(2, '0')}-${name}.png`);
        await page.screenshot({ path: file });
        console.log(`[e2e]   screenshot ${file}`);
      },
      check(ok, message) {
        if (!ok) throw new CheckFailed(message);
      },
    };
    for (const scenario of scenarios) {
      console.log(`[e2e] ${scenario.name}`);
      try {
        await scenario.run(ctx);
        console.log(`[e2e]   ✔ ${scenario.name}`);
      } catch (err) {
        await ctx.shot('failure').catch(() => undefined);
        console.error(`[e2e]   ✘ ${scenario.name}: ${err?.message ?? err}`);
        return err instanceof CheckFailed || err?.name === 'TimeoutError' ? 1 : 2;
      }
    }
    console.log(`[e2e] ${scenarios.length} passed, 0 failed`);
    return 0;
  } catch (err) {
    console.error(`[e2e] infrastructure failure: ${err?.stack ?? err}`);
    return 2;
  } finally {
    await browser?.close().catch(() => undefined);
    await server?.stop();
    rmSync(workspace, { recursive: true, force: true });
  }
}

process.exitCode = await main();
