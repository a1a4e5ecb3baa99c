import * as path from 'node:path';
import type { Command } from 'commander';
import { resolveRoots } from '../core/roots';
import { registryFileFor } from '../core/registerDataset';
import { copyRegistry, RegistryCopyError, type RegistryEnd } from '../core/registry/copyRegistry';
import { isPostgresUrl } from '../core/registry/postgres/connect';
import { defaultStoreFor } from './storeLocation';

interface CopyFlags {
  from: string;
  to: string;
  root?: string;
  dataset?: string;
  replace?: boolean;
  json?: boolean;
}

/**
 * `registry copy`: one dataset from a store's SQLite registry to a team registry or back. A
 * store's rows are keyed by the folder's real path, a team registry's by the dataset's name: the
 * folder (--root) ties the two; the name defaults to its base name.
 */
async function runCopy(flags: CopyFlags): Promise<number> {
  const team = (s: string): boolean => isPostgresUrl(s);
  if (!flags.root) throw new RegistryCopyError('registry copy needs --root <folder>: the dataset folder whose rows are copied (a store keys rows by folder)');
  const [root] = await resolveRoots([flags.root], process.cwd()).catch(() => [path.resolve(flags.root as string)]);
  const end = (s: string): RegistryEnd =>
    team(s)
      ? { kind: 'team', spec: { url: s, ...(flags.dataset !== undefined ? { dataset: flags.dataset } : {}) }, root }
      : { kind: 'sqlite', registryFile: registryFileFor(s === 'default' ? defaultStoreFor(root) : s), root };
  if (team(flags.from) === team(flags.to)) throw new RegistryCopyError('registry copy goes between a store and a postgresql:// URL (one of each)');
  const result = await copyRegistry(end(flags.from), end(flags.to), { replace: flags.replace, say: (s) => process.stderr.write(`dataset-index: ${s}\n`) });
  process.stdout.write(
    flags.json ? JSON.stringify(result) + '\n' : `copied ${result.rows} rows from ${result.from} to ${result.to}; verified: same count, checksum ${result.checksum.slice(0, 16)}\n`,
  );
  return 0;
}

export function addRegistryCommand(program: Command, setExit: (code: number) => void): void {
  const registry = program.command('registry').description('manage registries: copy a dataset between a store and a team registry');
  registry
    .command('copy')
    .description('copy one dataset between a store\'s SQLite registry and a team registry on PostgreSQL (either way), verified by row count and checksum')
    .requiredOption('--from <store|url>', 'a store directory ("default": the folder\'s default store) or a postgresql:// URL')
    .requiredOption('--to <store|url>', 'a store directory ("default") or a postgresql:// URL')
    .option('--root <folder>', 'the dataset folder (a store keys its rows by it)')
    .option('--dataset <name>', "the dataset's name in the team registry (default: the folder's name)")
    .option('--replace', 'replace the rows the target already holds of this dataset (refused by default)')
    .option('--json', 'print {from, to, rows, checksum}')
    .action(async (flags: CopyFlags) => setExit(await runCopy(flags)));
}
