// npm run test:vscode-web: runs the extension-host suite (test/vscode, the test-electron run()
// contract) inside a real VS Code — code-server's Node extension host — driven by Chromium.
//
// The suite runs once per workspace profile, each in its own code-server launch:
//   single     one generated dataset folder            (?folder=…)     test/vscode/single.*.test.ts
//   multiRoot  a .code-workspace with two such folders (?workspace=…)  test/vscode/multiRoot.*.test.ts
//   noFolder   an empty window, no folder at all                       test/vscode/noFolder.*.test.ts
// The profile reaches the suite as DSX_PROFILE (extensionEnvironment); test/vscode/index.ts loads
// only that profile's files. DSX_PROFILES=single,noFolder runs a subset; DSX_TEST_GREP filters tests.
//
// The suite can ask for the rendered workbench (notifications, welcome views, tree rows) with a
// "DSX-PROBE {json}" log line: the harness answers with the texts of the matching elements in
// $DSX_PROBE_DIR/<id>.json (see test/vscode/helpers.ts, domTexts).
//
// Exit code: 0 every profile passed, 1 a test failed, 2 the infrastructure failed (in any profile).
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { format } from 'node:util';
import { join } from 'node:path';
import { CHROMIUM_ARGS } from './chromiumArgs.mjs';
import { startCodeServer } from './codeServer.mjs';
import { chromium as chromiumPath, ensureTools, playwright } from './tools.mjs';
import { makeDataset, makeMultiRoot, repo } from './workspace.mjs';

const TIMEOUT_MS = Number(process.env.DSX_VSCODE_TIMEOUT_MS ?? 5 * 60_000);

/** Each profile: what to open, and what to remove afterwards. */
const PROFILES = {
  single() {
    const root = makeDataset({ label: 'vscode-web' });
    return { query: { folder: root }, cleanup: [root] };
  },
  multiRoot() {
    const { base, file } = makeMultiRoot({ label: 'vscode-web-multi' });
    return { query: { workspace: file }, cleanup: [base] };
  },
  noFolder() {
    return { query: {}, cleanup: [] };
  },
};

// The workbench's own chatter (built-in agents, chat models, the offline marketplace) is not ours.
const NOISE =
  /^(\[AgentHost|\[ChatModelSelection\]|\[AccountPolicyGate\]|\[reconnection-grace-time\]|\[Service Worker\]|Updating additional builtin extensions cache|Resolving connection|Resolved connection|Creating a socket|Timed out waiting for authentication|getaddrinfo ENOTFOUND|Unable to read file 'vscode-remote:[^']*\/dsx-vscode-user-|Failed snippets from folder|Failed to resolve files at location|\[lifecycle\] Long running operations during shutdown|\s+at )|No signed-in session/;

async function answerProbe(page, dir, request) {
  let answer;
  try {
    const { selector } = request;
    const texts = await page.$$eval(selector, (els) =>
      els.filter((e) => e.getClientRects().length > 0).map((e) => (e.getAttribute('aria-label') ? `${e.textContent ?? ''}\n${e.getAttribute('aria-label')}` : e.textContent ?? '')),
    );
    answer = { texts };
  } catch (err) {
    answer = { error: String(err?.message ?? err) };
  }
  const file = join(dir, `${request.id}.json`);
  writeFileSync(`${file}.tmp`, JSON.stringify(answer));
  renameSync(`${file}.tmp`, file);
}

/** One code-server launch, one page, one run of the profile's tests. */
async function runProfile(name, browser, results) {
  const started = Date.now();
  const outcome = { name, code: 2, passed: 0, failed: 0, pending: 0, seconds: 0, note: '' };
  let setup;
  let server;
  let context;
  const probeDir = mkdtempSync(join(tmpdir(), `dsx-probe-${name}-`));
  try {
    setup = PROFILES[name]();
    server = await startCodeServer({ logFile: join(results, `code-server-vscode-web-${name}.log`), keepLogsIn: join(results, `vscode-web-${name}-logs`) });
    context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    let settle;
    const exited = new Promise((resolve) => (settle = resolve));
    let summary = null;
    await page.exposeFunction('codeAutomationLog', (type, args) => {
      const list = Array.isArray(args) ? args : [args];
      const text = format(...list);
      const probe = /DSX-PROBE (\{.*\})/.exec(text);
      if (probe) {
        void answerProbe(page, probeDir, JSON.parse(probe[1]));
        return;
      }
      const result = /DSX-RESULT (\{.*\})/.exec(text);
      if (result) summary = JSON.parse(result[1]);
      if (NOISE.test(text)) return;
      (type === 'error' ? process.stderr : process.stdout).write(`${text}\n`);
    });
    await page.exposeFunction('codeAutomationExit', (code) => settle(Number(code)));
    const authority = `127.0.0.1:${server.port}`;
    const payload = [
      ['extensionDevelopmentPath', `vscode-remote://${authority}${repo}`],
      ['extensionTestsPath', `vscode-remote://${authority}${join(repo, 'out/test/vscode/index.js')}`],
      ['extensionEnvironment', JSON.stringify({ DSX_PROFILE: name, DSX_PROBE_DIR: probeDir, DSX_TEST_GREP: process.env.DSX_TEST_GREP ?? '' })],
    ];
    const query = new URLSearchParams({ ...setup.query, payload: JSON.stringify(payload) });
    // A shared machine under load can take more than the default 30 s to serve the workbench.
    await page.goto(`${server.url}/?${query}`, { timeout: 180_000 });
    const timeout = new Promise((resolve) => setTimeout(() => resolve('timeout'), TIMEOUT_MS).unref());
    const code = await Promise.race([exited, timeout]);
    outcome.seconds = Math.round((Date.now() - started) / 1000);
    if (code === 'timeout') {
      await page.screenshot({ path: join(results, `vscode-web-${name}-timeout.png`) }).catch(() => undefined);
      outcome.note = `did not finish within ${TIMEOUT_MS} ms`;
      return outcome;
    }
    if (code !== 0) await page.screenshot({ path: join(results, `vscode-web-${name}-failure.png`) }).catch(() => undefined);
    if (!summary) {
      outcome.note = `suite exit code ${code} without a result line (the suite did not load or crashed)`;
      return outcome;
    }
    Object.assign(outcome, { passed: summary.passed, failed: summary.failed, pending: summary.pending });
    if (summary.passed + summary.failed === 0) {
      // With DSX_TEST_GREP a profile may have nothing to run; without it, an empty run is a broken suite.
      outcome.note = process.env.DSX_TEST_GREP ? 'no test matched DSX_TEST_GREP' : 'no test ran';
      if (process.env.DSX_TEST_GREP && code === 0) outcome.code = 0;
      return outcome;
    }
    outcome.code = code === 0 && summary.failed === 0 ? 0 : 1;
    if (code !== 0 && summary.failed === 0) outcome.note = `suite exit code ${code}`;
    return outcome;
  } catch (err) {
    outcome.note = `infrastructure failure: ${err?.stack ?? err}`;
    outcome.seconds = Math.round((Date.now() - started) / 1000);
    return outcome;
  } finally {
    await context?.close().catch(() => undefined);
    await server?.stop();
    for (const dir of setup?.cleanup ?? []) rmSync(dir, { recursive: true, force: true });
    rmSync(probeDir, { recursive: true, force: true });
  }
}

async function main() {
  const started = Date.now();
  const wanted = (process.env.DSX_PROFILES ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = wanted.filter((p) => !(p in PROFILES));
  if (unknown.length) {
    console.error(`[vscode-web] unknown profile(s) ${unknown.join(', ')}; known: ${Object.keys(PROFILES).join(', ')}`);
    return 2;
  }
  const profiles = wanted.length ? wanted : Object.keys(PROFILES);
  try {
    ensureTools();
  } catch (err) {
    console.error(`[vscode-web] cannot install the tools: ${err.message}`);
    return 2;
  }
  const results = join(repo, 'test-results');
  mkdirSync(results, { recursive: true });
  let browser;
  const outcomes = [];
  try {
    const { chromium } = await playwright();
    browser = await chromium.launch({ executablePath: chromiumPath, args: CHROMIUM_ARGS });
    for (const name of profiles) {
      console.log(`\n[vscode-web] ===== profile ${name} =====`);
      outcomes.push(await runProfile(name, browser, results));
    }
  } catch (err) {
    console.error(`[vscode-web] infrastructure failure: ${err?.stack ?? err}`);
    return 2;
  } finally {
    await browser?.close().catch(() => undefined);
  }
  console.log('');
  for (const o of outcomes) {
    const status = o.code === 0 ? 'ok' : o.code === 1 ? 'FAILED' : 'INFRASTRUCTURE FAILURE';
    console.log(
      `[vscode-web] ${o.name}: ${o.passed} passed, ${o.failed} failed${o.pending ? `, ${o.pending} pending` : ''} (${o.seconds} s) ${status}${o.note ? ` — ${o.note}` : ''}`,
    );
  }
  console.log(`[vscode-web] total ${Math.round((Date.now() - started) / 1000)} s`);
  return Math.max(0, ...outcomes.map((o) => o.code));
}

process.exitCode = await main();
