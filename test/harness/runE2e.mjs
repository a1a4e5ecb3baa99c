// npm run test:e2e: installs the packaged .vsix into a fresh code-server, opens a generated dataset,
// and drives the UI as a person would (command palette, notifications, the tree, the status bar).
// Screenshots go to test-results/e2e/ (git-ignored); the ones the docs show also go to
// test-results/e2e/docs/, and with --update-docs (or DSX_UPDATE_DOCS_IMAGES=1) to docs/images/.
// Exit 0 pass, 1 a check failed, 2 infrastructure.
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { installVsix, startCodeServer } from './codeServer.mjs';
import { CHROMIUM_ARGS } from './chromiumArgs.mjs';
import { chromium as chromiumPath, ensureTools, playwright } from './tools.mjs';
import { makeDataset, repo } from './workspace.mjs';
import { scenarios } from '../e2e/scenarios.mjs';
import { paletteInFreshWindows } from '../e2e/freshWindows.mjs';

class CheckFailed extends Error {}

const updateDocs = process.argv.includes('--update-docs') || process.env.DSX_UPDATE_DOCS_IMAGES === '1';
/** Fresh windows in which the palette must offer the command as soon as the extension is known (0: skip). */
const FRESH_WINDOWS = Number(process.env.DSX_E2E_FRESH_WINDOWS ?? 3);

/**
 * A quiet workbench for the screenshots: no welcome page, no chat side bar, no AI status entries.
 * Written before the page loads, where code-server reads user settings.
 */
const SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'chat.disableAIFeatures': true,
  'workbench.tips.enabled': false,
};

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
  const started = Date.now();
  const shots = join(repo, 'test-results', 'e2e');
  const docsShots = join(shots, 'docs');
  rmSync(shots, { recursive: true, force: true });
  mkdirSync(docsShots, { recursive: true });
  const extensionsDir = join(repo, 'test-results', 'e2e-extensions');
  rmSync(extensionsDir, { recursive: true, force: true });
  let server;
  let browser;
  const workspace = makeDataset({ label: 'e2e', folders: 6, perFolder: 5 });
  try {
    await installVsix(vsix, extensionsDir);
    const { chromium } = await playwright();
    browser = await chromium.launch({ executablePath: chromiumPath, args: CHROMIUM_ARGS });
    if (FRESH_WINDOWS > 0) {
      const name = `0. The command palette offers "Dataset Index: Index Images" in ${FRESH_WINDOWS} fresh window(s) as soon as VS Code knows the extension`;
      console.log(`[e2e] ${name}`);
      const t0 = Date.now();
      try {
        await paletteInFreshWindows({
          browser,
          extensionsDir,
          workspace,
          settings: SETTINGS,
          count: FRESH_WINDOWS,
          logDir: join(repo, 'test-results'),
          check: (ok, message) => {
            if (!ok) throw new CheckFailed(message);
          },
          log: (message) => console.log(`[e2e]   ${message}`),
        });
        console.log(`[e2e]   ✔ fresh windows (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      } catch (err) {
        console.error(`[e2e]   ✘ fresh windows: ${err?.message ?? err}`);
        return err instanceof CheckFailed || err?.name === 'TimeoutError' ? 1 : 2;
      }
    }
    server = await startCodeServer({ extensionsDir, logFile: join(repo, 'test-results', 'code-server-e2e.log'), keepLogsIn: join(repo, 'test-results', 'e2e-logs') });
    mkdirSync(join(server.userDataDir, 'User'), { recursive: true });
    writeFileSync(join(server.userDataDir, 'User', 'settings.json'), JSON.stringify(SETTINGS, null, 2));
    // A laptop-sized window at 2x, so that the crops kept in docs/images/ are sharp.
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 }, deviceScaleFactor: 2 });
    // A shared machine under load can take more than the default 30 s to serve the workbench.
    await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}`, { timeout: 180_000 });
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    await page.locator('#workbench\\.parts\\.statusbar').waitFor({ timeout: 60_000 });
    let step = 0;
    const ctx = {
      page,
      workspace,
      /** The whole window; with `docs`, also the `clip` of it under that name in test-results/e2e/docs/. */
      async shot(name, { clip, docs } = {}) {
        step++;
        const file = join(shots, `${String(step).padStart(2, '0')}-${name}.png`);
        await page.screenshot({ path: file });
        console.log(`[e2e]   screenshot ${file}`);
        if (docs) {
          const crop = join(docsShots, docs);
          await page.screenshot({ path: crop, clip });
          console.log(`[e2e]   screenshot ${crop} (${Math.round(statSync(crop).size / 1024)} KB)`);
        }
      },
      check(ok, message) {
        if (!ok) throw new CheckFailed(message);
      },
      log(message) {
        console.log(`[e2e]   ${message}`);
      },
    };
    for (const scenario of scenarios) {
      console.log(`[e2e] ${scenario.name}`);
      const t0 = Date.now();
      try {
        await scenario.run(ctx);
        console.log(`[e2e]   ✔ ${scenario.name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      } catch (err) {
        await ctx.shot('failure').catch(() => undefined);
        console.error(`[e2e]   ✘ ${scenario.name}: ${err?.message ?? err}`);
        return err instanceof CheckFailed || err?.name === 'TimeoutError' ? 1 : 2;
      }
    }
    console.log(`[e2e] ${scenarios.length + (FRESH_WINDOWS > 0 ? 1 : 0)} passed, 0 failed (${Math.round((Date.now() - started) / 1000)} s)`);
    if (updateDocs) {
      const target = join(repo, 'docs', 'images');
      mkdirSync(target, { recursive: true });
      for (const name of readdirSync(docsShots)) copyFileSync(join(docsShots, name), join(target, name));
      console.log(`[e2e] copied ${readdirSync(docsShots).join(', ')} to ${target}`);
    }
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
