// `npm run package:target -- <target>`: one .vsix for one platform, with sharp's prebuilt binaries
// for it (dataset-index-<target>.vsix). Targets as `vsce package --target` names them.
import { execFileSync } from 'node:child_process';

const target = process.argv[2];
if (!target) {
  console.error('usage: npm run package:target -- <target>   (e.g. linux-x64, darwin-arm64, win32-x64)');
  process.exit(2);
}
const run = (cmd, args) => {
  try {
    execFileSync(cmd, args, { stdio: 'inherit' });
  } catch (err) {
    process.exit(typeof err.status === 'number' ? err.status : 1); // the step has said why
  }
};
run(process.execPath, ['esbuild.mjs', '--production']);
run(process.execPath, ['scripts/stageSharp.mjs', target]);
run(process.execPath, [
  'node_modules/@vscode/vsce/vsce', 'package', '--target', target, '--no-dependencies', '--allow-missing-repository',
  '--no-rewrite-relative-links', '--out', `dataset-index-${target}.vsix`,
]);
