// The @vscode/test-electron contract: VS Code loads this file in the extension host and awaits run().
// The same entry runs under code-server (npm run test:vscode-web) and under test-electron.
//
// Each workspace profile has its own files, by prefix: single.*.test.js (one dataset folder),
// multiRoot.*.test.js (a .code-workspace with two folders), noFolder.*.test.js (an empty window).
// The harness says which profile this window is in DSX_PROFILE (test-electron opens one folder:
// `single` by default).
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';

export function run(): Promise<void> {
  const profile = process.env.DSX_PROFILE || 'single';
  const mocha = new Mocha({ ui: 'bdd', timeout: 120_000, color: false, reporter: 'spec' });
  const grep = process.env.DSX_TEST_GREP;
  if (grep) mocha.grep(grep);
  // tsc does not delete the output of a renamed or deleted test: run only files whose source exists.
  const sources = path.resolve(__dirname, '../../../test/vscode');
  const files = fs
    .readdirSync(__dirname)
    .filter((f) => f.startsWith(`${profile}.`) && f.endsWith('.test.js'))
    .filter((f) => !fs.existsSync(sources) || fs.existsSync(path.join(sources, f.replace(/\.js$/, '.ts'))))
    .sort();
  if (files.length === 0) return Promise.reject(new Error(`no test files for profile "${profile}" in ${__dirname}`));
  for (const file of files) mocha.addFile(path.join(__dirname, file));
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => {
      // One machine-readable line for the harness's per-profile summary.
      const { passes = 0, failures: failed = 0, pending = 0 } = runner.stats ?? {};
      console.log(`DSX-RESULT ${JSON.stringify({ profile, passed: passes, failed, pending })}`);
      if (failures) reject(new Error(`${failures} extension-host test(s) failed in profile ${profile}`));
      else resolve();
    });
  });
}
