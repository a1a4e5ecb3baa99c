// Must precede the first file-system call: libuv sizes its thread pool once.
process.env.UV_THREADPOOL_SIZE ??= '16';

import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import {
  DatasetError, DEFAULT_CACHE_MAX_AGE_MS, DEFAULT_EXCLUDE, DEFAULT_EXTENSIONS, TOOL_VERSION,
  cacheFileFor, clearCache, resolveRoots, scanDataset, type ScanOptions,
} from '../core';
import { defaultStoreFor } from './storeLocation';
import { scanReportJson, scanReportText } from './format';
import { ProgressLine } from './progressLine';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
export const EXIT_CANCELLED = 130;

interface ScanFlags {
  store?: string;
  forceRescan?: boolean;
  verify?: boolean;
  clearCache?: boolean;
  useCache?: boolean;
  ext?: string[];
  exclude?: string[];
  followSymlinks?: boolean;
  maxAgeHours?: number;
  concurrency?: number;
  json?: boolean;
  quiet?: boolean;
}

function positiveNumber(value: string): number {
  const x = Number(value);
  if (!Number.isFinite(x) || x <= 0) throw new InvalidArgumentError('expected a positive number');
  return x;
}

function positiveInt(value: string): number {
  const x = positiveNumber(value);
  if (!Number.isInteger(x)) throw new InvalidArgumentError('expected a positive integer');
  return x;
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

function scanOptionsFrom(flags: ScanFlags): Partial<ScanOptions> {
  return {
    ...(flags.ext ? { extensions: flags.ext } : {}),
    ...(flags.exclude ? { exclude: [...DEFAULT_EXCLUDE, ...flags.exclude] } : {}),
    followSymlinks: !!flags.followSymlinks,
  };
}

async function runScan(folders: string[], flags: ScanFlags): Promise<number> {
  const roots = await resolveRoots(folders, process.cwd());
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = (): void => {
    interrupts++;
    if (interrupts > 1) process.exit(EXIT_CANCELLED);
    process.stderr.write('\nstopping after saving a checkpoint… (Ctrl-C again to quit at once)\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  let exit = EXIT_OK;
  try {
    for (const root of roots) {
      const progress = new ProgressLine(process.stderr, !flags.quiet);
      const { report } = await scanDataset({
        root,
        storeDir: flags.store ?? defaultStoreFor(root),
        options: scanOptionsFrom(flags),
        forceRescan: flags.forceRescan,
        verify: flags.verify,
        clearCache: flags.clearCache,
        maxAgeMs: flags.maxAgeHours !== undefined ? flags.maxAgeHours * 3_600_000 : DEFAULT_CACHE_MAX_AGE_MS,
        concurrency: flags.concurrency,
        signal: controller.signal,
        onProgress: (p) => progress.update(`${p.mode} scan: ${p.dirs.toLocaleString('en-US')} folders, ${p.files.toLocaleString('en-US')} images`),
        log: flags.json || flags.quiet ? undefined : (line) => progress.log(line),
      });
      progress.done();
      process.stdout.write((flags.json ? JSON.stringify(scanReportJson(report)) : scanReportText(report)) + '\n');
      if (report.cancelled) {
        exit = EXIT_CANCELLED;
        break;
      }
    }
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
  return exit;
}

async function runClearCache(folders: string[], flags: { store?: string; json?: boolean }): Promise<number> {
  const roots = await resolveRoots(folders, process.cwd());
  const results = [];
  for (const root of roots) {
    const store = flags.store ?? defaultStoreFor(root);
    const removed = await clearCache(store, root);
    results.push({ root, cacheFile: cacheFileFor(store, root), removed });
  }
  for (const r of results) {
    process.stdout.write(
      flags.json ? JSON.stringify(r) + '\n' : `${r.root}: ${r.removed ? `removed ${r.cacheFile}` : 'no scan cache to remove'}\n`,
    );
  }
  return EXIT_OK;
}

export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('dataset-index')
    .description('Incremental, cached scanning of image dataset folders.')
    .version(TOOL_VERSION)
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  program
    .command('scan')
    .description('scan a dataset folder, incrementally when a valid cache exists')
    .argument('<folders...>', 'dataset folder(s); glob patterns such as "data/*/images" are expanded')
    .option('--store <dir>', 'cache store directory (default: a per-folder directory under the user cache dir)')
    .option('--use-cache', 'use the scan cache when it is valid (the default)')
    .option('--force-rescan', 'walk every folder even if the cache is valid')
    .option('--verify', 'also stat every file, to find files modified in place')
    .option('--clear-cache', "delete this folder's cache first")
    .addOption(new Option('--ext <list>', `image extensions, comma-separated (default: ${DEFAULT_EXTENSIONS.join(',')})`).argParser(collect))
    .addOption(new Option('--exclude <glob>', `extra exclude glob, repeatable (always: ${DEFAULT_EXCLUDE.join(', ')})`).argParser(collect))
    .option('--follow-symlinks', 'follow symbolic links (with loop detection)')
    .addOption(new Option('--max-age-hours <h>', 'verify files when the cache was last verified longer ago than this').argParser(positiveNumber).default(24))
    .addOption(new Option('--concurrency <n>', 'file-system calls in flight').argParser(positiveInt))
    .option('--json', 'print one JSON object per folder on stdout')
    .option('-q, --quiet', 'no progress line or log')
    .action(async (folders: string[], flags: ScanFlags) => setExit(await runScan(folders, flags)));

  program
    .command('clear-cache')
    .description("remove the scan cache of a folder (other folders' caches stay)")
    .argument('<folders...>', 'dataset folder(s)')
    .option('--store <dir>', 'cache store directory')
    .option('--json', 'print JSON')
    .action(async (folders: string[], flags: { store?: string; json?: boolean }) => setExit(await runClearCache(folders, flags)));

  return program;
}

export async function main(argv: string[]): Promise<number> {
  let exit = EXIT_OK;
  const program = buildProgram((code) => (exit = code));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exit;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`dataset-index: ${message}\n`);
    if (!(err instanceof DatasetError) && process.env.DATASET_INDEX_DEBUG) console.error(err);
    return EXIT_FAILURE;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`dataset-index: ${String(err)}\n`);
      process.exitCode = EXIT_FAILURE;
    },
  );
}
