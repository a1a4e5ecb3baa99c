// npm run test:vscode: the same extension-host suite under @vscode/test-electron, which downloads a
// desktop VS Code (for machines with internet, such as a public CI; it cannot run on our sandboxes).
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { runTests } from '@vscode/test-electron';
import { makeDataset, repo } from './workspace.mjs';

const workspace = makeDataset({ label: 'electron' });
try {
  await runTests({
    extensionDevelopmentPath: repo,
    extensionTestsPath: join(repo, 'out/test/vscode/index.js'),
    launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust'],
  });
  process.exitCode = 0;
} catch (err) {
  console.error(`[vscode] ${err?.message ?? err}`);
  process.exitCode = 1;
} finally {
  rmSync(workspace, { recursive: true, force: true });
}
