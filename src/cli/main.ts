// Must precede the first file-system call: libuv sizes its thread pool once.
process.env.UV_THREADPOOL_SIZE ??= '16';

import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import {
  DatasetError, DEFAULT_CACHE_MAX_AGE_MS, DEFAULT_EXCLUDE, DEFAULT_EXTENSIONS, DEFAULT_REGISTER_CONCURRENCY, TOOL_VERSION,
  assertRegistered, cacheFileFor, NothingRegisteredError, clearCache, datasetStatus, exportRegistry, goneRows, pruneDataset, registerDataset, registryFileFor, resolveRoots, scanDataset,
  type DatasetRequest, type ExternalRegistrySpec, type ScanOptions,
} from '../core';
import { ExportTargetError, exportRegistryToFile, type ExportFormat } from '../core/registry/exportRegistry';
import { describeHolder } from '../core/registry/lock';
import { defaultStoreFor } from './storeLocation';
import { age, num, plural, registerReportJson, registerReportText, scanReportJson, scanReportText, statusReportJson, statusReportText } from './format';
import { ProgressLine } from './progressLine';
import { ListWriter } from './listOutput';
import { LIST_STATUSES, listDataset, type ListStatus } from '../core/listDataset';
import { writePruneReport } from './pruneReport';
import { isPostgresUrl, redactUrl, type TeamRegistrySpec } from '../core/registry/postgres/connect';
import { addRegistryCommand } from './registryCommand';
import { DEFAULT_SIMILAR_DISTANCE, MAX_SIMILAR_DISTANCE, similarGroups, similarToFile } from '../core';
import { similarReportJson, similarReportText, writeSimilarTo } from './similarOutput';
import type { RegistryReader } from '../core/registry/backend';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
export const EXIT_CANCELLED = 130;

interface CommonFlags {
  store?: string;
  forceRescan?: boolean;
  verify?: boolean;
  clearCache?: boolean;
  useCache?: boolean;
  ext?: string[];
  exclude?: string[];
  followSymlinks?: boolean;
  crossFileSystems?: boolean;
  maxAgeHours?: number;
  fsConcurrency?: number;
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  registeredFrom?: string;
  table?: string;
  pathColumn?: string;
  registry?: string;
  dataset?: string;
}

interface ScanFlags extends CommonFlags {
  concurrency?: number;
}

interface RegisterFlags extends CommonFlags {
  phash?: boolean;
  similarDistance?: number;
  readConcurrency?: number;
  concurrency?: number;
  lockWait?: number;
  lockStale?: number;
}

interface StatusFlags extends CommonFlags {
  scan?: boolean;
}

function positiveNumber(value: string): number {
  const x = Number(value);
  if (!Number.isFinite(x) || x <= 0) throw new InvalidArgumentError('expected a positive number');
  return x;
}

function nonNegativeNumber(value: string): number {
  const x = Number(value);
  if (!Number.isFinite(x) || x < 0) throw new InvalidArgumentError('expected a number ≥ 0');
  return x;
}

function positiveInt(value: string): number {
  const x = positiveNumber(value);
  if (!Number.isInteger(x)) throw new InvalidArgumentError('expected a positive integer');
  return x;
}

function distanceArg(value: string): number {
  const x = Number(value);
  if (!Number.isInteger(x) || x < 0 || x > MAX_SIMILAR_DISTANCE) throw new InvalidArgumentError(`expected an integer from 0 to ${MAX_SIMILAR_DISTANCE} (bits of 64)`);
  return x;
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

function collectExtensions(value: string, previous: string[] | undefined): string[] {
  if (!value.split(',').some((part) => part.trim().replace(/^\*?\./, ''))) throw new InvalidArgumentError('expected one or more extensions, e.g. png,jpg');
  return collect(value, previous);
}

function scanOptionsFrom(flags: CommonFlags): Partial<ScanOptions> {
  return {
    ...(flags.ext ? { extensions: flags.ext } : {}),
    ...(flags.exclude ? { exclude: [...DEFAULT_EXCLUDE, ...flags.exclude] } : {}),
    followSymlinks: !!flags.followSymlinks,
    ...(flags.crossFileSystems ? { crossFileSystems: true } : {}),
  };
}

function externalFrom(flags: CommonFlags): ExternalRegistrySpec | undefined {
  if (!flags.registeredFrom) return undefined;
  if (!flags.table || !flags.pathColumn) throw new UsageError('--registered-from needs --table and --path-column');
  return { file: flags.registeredFrom, table: flags.table, pathColumn: flags.pathColumn };
}

export class UsageError extends Error {}

/**
 * The team registry of a command: --registry, else DATASET_INDEX_REGISTRY; none → the store's
 * SQLite file. The password comes from the URL, PGPASSWORD or ~/.pgpass (pg reads them).
 */
export function teamFrom(flags: { registry?: string; dataset?: string }, roots = 1): TeamRegistrySpec | undefined {
  const url = flags.registry ?? (process.env.DATASET_INDEX_REGISTRY || undefined);
  if (!url) {
    if (flags.dataset) throw new UsageError('--dataset names a dataset of a team registry: give --registry postgresql://… (or DATASET_INDEX_REGISTRY) too');
    return undefined;
  }
  if (!isPostgresUrl(url)) throw new UsageError(`--registry expects a postgresql:// URL, got ${redactUrl(url)}`);
  if (flags.dataset !== undefined && roots > 1) throw new UsageError('--dataset names one dataset: give one folder with it');
  return { url, ...(flags.dataset !== undefined ? { dataset: flags.dataset } : {}) };
}

/** The request fields every command shares: store, scan options, cache policy. */
function datasetRequest(root: string, flags: CommonFlags, signal: AbortSignal, progress: ProgressLine): DatasetRequest {
  return {
    root,
    storeDir: flags.store ?? defaultStoreFor(root),
    options: scanOptionsFrom(flags),
    forceRescan: flags.forceRescan,
    verify: flags.verify,
    clearCache: flags.clearCache,
    maxAgeMs: flags.maxAgeHours !== undefined ? flags.maxAgeHours * 3_600_000 : DEFAULT_CACHE_MAX_AGE_MS,
    concurrency: flags.fsConcurrency,
    signal,
    registeredFrom: externalFrom(flags),
    team: teamFrom(flags),
    onProgress: (p) => progress.update(`${p.mode} scan: ${num(p.dirs)} folders, ${num(p.files)} images`),
    // The log says how (mode, reasons, counts as they are found); the result is printed once at the end.
    log: flags.verbose ? (line) => progress.log(line) : undefined,
  };
}

/**
 * Ctrl-C (or SIGTERM) aborts the work, which then saves what it has; a second one quits at once.
 * Quitting is the signal's default action, raised again: `process.exit` would wait for libuv's
 * threads, and one blocked in a system call (a FIFO, a hung network mount) would hold the process.
 * Every save is atomic, so what was saved stays saved.
 */
async function withInterrupts<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupts++;
    if (interrupts > 1) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.kill(process.pid, signal);
      return;
    }
    process.stderr.write('\nstopping after saving what is done… (Ctrl-C again to quit at once)\n');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await work(controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

async function runScan(folders: string[], flags: ScanFlags): Promise<number> {
  const roots = await resolveRoots(folders, process.cwd());
  return withInterrupts(async (signal) => {
    for (const root of roots) {
      const progress = new ProgressLine(process.stderr, !flags.quiet);
      const { report } = await scanDataset({ ...datasetRequest(root, flags, signal, progress), concurrency: flags.fsConcurrency ?? flags.concurrency });
      progress.done();
      process.stdout.write((flags.json ? JSON.stringify(scanReportJson(report)) : scanReportText(report)) + '\n');
      if (report.cancelled) return EXIT_CANCELLED;
    }
    return EXIT_OK;
  });
}

async function runRegister(folders: string[], flags: RegisterFlags): Promise<number> {
  const roots = await resolveRoots(folders, process.cwd());
  teamFrom(flags, roots.length);
  return withInterrupts(async (signal) => {
    for (const root of roots) {
      const progress = new ProgressLine(process.stderr, !flags.quiet);
      const report = await registerDataset({
        ...datasetRequest(root, flags, signal, progress),
        registerConcurrency: flags.readConcurrency ?? flags.concurrency,
        perceptualHash: flags.phash !== false,
        similarDistance: flags.similarDistance,
        lockWaitMs: (flags.lockWait ?? 600) * 1000,
        lockStaleMs: flags.lockStale !== undefined ? flags.lockStale * 1000 : undefined,
        // On a team registry the same rule holds for a registrar's batch claims (their lease).
        teamOptions: flags.lockStale !== undefined ? { leaseMs: flags.lockStale * 1000 } : undefined,
        onLockWait: (holder) =>
          process.stderr.write(
            `waiting for the registry: in use by ${describeHolder(holder)}…\n`,
          ),
        onRegisterProgress: (p) =>
          progress.update(
            `registering: ${num(p.done)}/${num(p.total)} · ${num(Math.round(p.filesPerSec))} files/s · ${(p.bytesPerSec / 1e6).toFixed(1)} MB/s` +
              (p.etaSec !== null ? ` · ETA ${age(p.etaSec * 1000)}` : ''),
          ),
      });
      progress.done();
      for (const notice of report.notices) process.stderr.write(`dataset-index: ${notice}\n`);
      process.stdout.write((flags.json ? JSON.stringify(registerReportJson(report)) : registerReportText(report)) + '\n');
      if (report.outcome.cancelled || report.scan.cancelled) return EXIT_CANCELLED;
    }
    return EXIT_OK;
  });
}

async function runStatus(folders: string[], flags: StatusFlags): Promise<number> {
  const roots = await resolveRoots(folders, process.cwd());
  teamFrom(flags, roots.length);
  return withInterrupts(async (signal) => {
    for (const root of roots) {
      const progress = new ProgressLine(process.stderr, !flags.quiet);
      const status = await datasetStatus({ ...datasetRequest(root, flags, signal, progress), scan: flags.scan !== false });
      progress.done();
      for (const notice of status.notices) process.stderr.write(`dataset-index: ${notice}\n`);
      process.stdout.write((flags.json ? JSON.stringify(statusReportJson(status)) : statusReportText(status)) + '\n');
    }
    return EXIT_OK;
  });
}

interface ListFlags extends CommonFlags {
  status: ListStatus[];
  similarTo?: string;
  distance?: number;
  relative?: boolean;
  null?: boolean;
  jsonl?: boolean;
  duplicates?: boolean;
  scan?: boolean;
}

function listStatuses(value: string): ListStatus[] {
  const names = value.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = names.filter((s) => !(LIST_STATUSES as readonly string[]).includes(s));
  if (bad.length || names.length === 0) throw new InvalidArgumentError(`expected one or more of ${LIST_STATUSES.join(', ')}, comma-separated`);
  return names as ListStatus[];
}

/**
 * Every image of the chosen states, one per line (or NUL-terminated, or JSON Lines), streamed as
 * found: the pipeline's input. Problems go to stderr; stdout holds only the list.
 */
async function runList(folders: string[], flags: ListFlags): Promise<number> {
  if (flags.jsonl && flags.null) throw new UsageError('--jsonl and -0 are two output formats: choose one');
  if (flags.json) throw new UsageError('list prints images, not a report: --jsonl gives one JSON object per image');
  if (flags.similarTo !== undefined && flags.duplicates) throw new UsageError('--similar-to and --duplicates are two lists: choose one');
  const roots = await resolveRoots(folders, process.cwd());
  teamFrom(flags, roots.length);
  return withInterrupts(async (signal) => {
    for (const root of roots) {
      const progress = new ProgressLine(process.stderr, !flags.quiet);
      const request = { ...datasetRequest(root, flags, signal, progress), scan: flags.scan !== false };
      if (flags.similarTo !== undefined) {
        const near = await similarToFile({ ...request, distance: flags.distance }, flags.similarTo);
        progress.done();
        for (const notice of near.notices) process.stderr.write(`dataset-index: ${notice}\n`);
        await writeSimilarTo(new ListWriter(process.stdout, near.root, flags.null ? 'nul' : 'lines', !!flags.relative), near, !!flags.jsonl);
        if (flags.verbose) process.stderr.write(`dataset-index: ${near.root}: ${plural(near.matches.length, 'image')} within ${near.distance} of ${near.file} (${near.hash})\n`);
        continue;
      }
      if (flags.distance !== undefined) throw new UsageError('--distance goes with --similar-to');
      if (flags.duplicates) {
        const status = await datasetStatus(request);
        progress.done();
        for (const notice of status.notices) process.stderr.write(`dataset-index: ${notice}\n`);
        const writer = new ListWriter(process.stdout, status.root, 'lines', true);
        for (const group of status.duplicates) {
          writer.raw(JSON.stringify({ hash: group.hash, files: group.paths.length, paths: group.paths.map((p) => path.join(status.root, p)) }) + '\n');
          await writer.flush();
        }
        await writer.flush(true);
        continue;
      }
      const writer = new ListWriter(process.stdout, root, flags.jsonl ? 'jsonl' : flags.null ? 'nul' : 'lines', !!flags.relative);
      const result = await listDataset({ ...request, statuses: new Set(flags.status), details: !!flags.jsonl }, writer);
      progress.done();
      for (const notice of result.notices) process.stderr.write(`dataset-index: ${notice}\n`);
      if (result.errors.length) {
        process.stderr.write(
          `dataset-index: ${plural(result.errors.length, 'problem')} in ${result.root}: the list leaves out what could not be read, e.g. ` +
            `${result.errors[0].code} ${JSON.stringify(result.errors[0].path || '.')} (status lists them)\n`,
        );
      }
      if (result.skippedSymlinks) {
        process.stderr.write(`dataset-index: ${plural(result.skippedSymlinks, 'symlinked image')} not followed; --follow-symlinks follows them\n`);
      }
      if (flags.verbose) {
        const counts = LIST_STATUSES.filter((st) => flags.status.includes(st)).map((st) => `${num(result.listed[st])} ${st}`);
        process.stderr.write(`dataset-index: ${result.root}: listed ${counts.join(', ')}\n`);
      }
      if (result.cancelled) return EXIT_CANCELLED;
    }
    return EXIT_OK;
  });
}

interface SimilarFlags extends CommonFlags {
  distance?: number;
  scan?: boolean;
}

/** Groups of near-duplicate registered images, one report per folder (JSON: one object per folder). */
async function runSimilar(folders: string[], flags: SimilarFlags): Promise<number> {
  const roots = await resolveRoots(folders, process.cwd());
  return withInterrupts(async (signal) => {
    for (const root of roots) {
      const progress = new ProgressLine(process.stderr, !flags.quiet);
      const report = await similarGroups({ ...datasetRequest(root, flags, signal, progress), scan: flags.scan !== false, distance: flags.distance });
      progress.done();
      for (const notice of report.notices) process.stderr.write(`dataset-index: ${notice}\n`);
      process.stdout.write((flags.json ? JSON.stringify(similarReportJson(report)) : similarReportText(report)) + '\n');
    }
    return EXIT_OK;
  });
}

interface ExportFlags {
  store?: string;
  registry?: string;
  dataset?: string;
  format: ExportFormat;
  out?: string;
  includeMissing?: boolean;
}

/**
 * Which rows are of files gone is decided by a scan now — the scan cache plus an incremental
 * scan, as `status` does: a manifest for training must not list paths that no longer exist, and
 * the cache alone may be hours old. --include-missing skips the scan and writes every row.
 */
async function runExport(folder: string, flags: ExportFlags): Promise<number> {
  const [root] = await resolveRoots([folder], process.cwd());
  const store = flags.store ?? defaultStoreFor(root);
  const team = teamFrom(flags);
  if (team) return runTeamExport(root, store, team, flags);
  const file = registryFileFor(store);
  await assertRegistered(file, store, root);
  return writeExport(file, root, store, flags);
}

/** export from a team registry: connected first (and kept for the export), the same manifest. */
async function runTeamExport(root: string, store: string, team: TeamRegistrySpec, flags: ExportFlags): Promise<number> {
  const { TeamRegistry } = await import('../core/registry/postgres/teamRegistry');
  const reader = await TeamRegistry.open(team, root, { write: false });
  try {
    if ((await reader.count()) === 0) throw new NothingRegisteredError(`no registered images for ${root} in ${reader.location}`);
    return await writeExport(reader, root, store, flags, team);
  } finally {
    await reader.close();
  }
}

/** The manifest from either registry: a fresh scan says which rows are of files gone (unless --include-missing). */
function writeExport(source: string | RegistryReader, root: string, store: string, flags: ExportFlags, team?: TeamRegistrySpec): Promise<number> {
  return withInterrupts(async (signal) => {
    let leaveOut: ReadonlySet<string> | undefined;
    if (!flags.includeMissing) {
      const progress = new ProgressLine(process.stderr, true);
      const gone = await goneRows({
        root, storeDir: store, maxAgeMs: DEFAULT_CACHE_MAX_AGE_MS, signal, team,
        onProgress: (p) => progress.update(`${p.mode} scan: ${num(p.dirs)} folders, ${num(p.files)} images`),
      });
      progress.done();
      if (gone.paths === null) return EXIT_CANCELLED;
      leaveOut = new Set(gone.paths);
    }
    const left = (n: number): string => (n ? ` (${num(n)} rows of files no longer on disk left out; --include-missing to keep them)` : '');
    if (!flags.out) {
      const n = await exportRegistry(source, root, flags.format, process.stdout, leaveOut);
      process.stderr.write(`dataset-index: exported ${num(n.written)} rows${left(n.leftOut)}\n`);
      return EXIT_OK;
    }
    try {
      const n = await exportRegistryToFile(source, store, root, flags.format, flags.out, leaveOut);
      process.stderr.write(`dataset-index: exported ${num(n.written)} rows to ${flags.out}${left(n.leftOut)}\n`);
    } catch (err) {
      if (err instanceof ExportTargetError) throw new UsageError(err.message);
      throw err;
    }
    return EXIT_OK;
  });
}

interface PruneFlags extends CommonFlags {
  dryRun?: boolean;
  allowEmpty?: boolean;
  lockWait?: number;
}

async function runPrune(folders: string[], flags: PruneFlags): Promise<number> {
  const roots = await resolveRoots(folders, process.cwd());
  return withInterrupts(async (signal) => {
    for (const root of roots) {
      const progress = new ProgressLine(process.stderr, !flags.quiet);
      const report = await pruneDataset({
        ...datasetRequest(root, flags, signal, progress),
        dryRun: flags.dryRun,
        allowEmpty: flags.allowEmpty,
        team: teamFrom(flags, roots.length),
        lockWaitMs: (flags.lockWait ?? 600) * 1000,
        onLockWait: (holder) => process.stderr.write(`waiting for the registry: in use by ${describeHolder(holder)}…\n`),
      });
      progress.done();
      for (const notice of report.notices) process.stderr.write(`dataset-index: ${notice}\n`);
      await writePruneReport(process.stdout, report, flags.json === true);
      if (report.cancelled) return EXIT_CANCELLED;
    }
    return EXIT_OK;
  });
}

async function runClearCache(folders: string[], flags: { store?: string; json?: boolean }): Promise<number> {
  const roots = await resolveRoots(folders, process.cwd());
  const results = [];
  for (const root of roots) {
    const store = flags.store ?? defaultStoreFor(root);
    const removed = await clearCache(store, root);
    // A deleted folder's cache may still be cleared; a folder that is neither there nor cached is a typo.
    if (!removed && !fs.existsSync(root)) throw new DatasetError(`folder not found and no scan cache for it: ${root}`, 'ENOROOT');
    results.push({ root, cacheFile: cacheFileFor(store, root), removed });
  }
  for (const r of results) {
    process.stdout.write(
      flags.json ? JSON.stringify(r) + '\n' : `${r.root}: ${r.removed ? `removed ${r.cacheFile}` : 'no scan cache to remove'}\n`,
    );
  }
  return EXIT_OK;
}

/** The options shared by scan, register and status. */
function addDatasetOptions(cmd: Command): Command {
  return cmd
    .argument('<folders...>', 'dataset folder(s); glob patterns such as "data/*/images" are expanded')
    .option('--store <dir>', 'store directory for the scan cache and the registry (default: a per-folder directory under the user cache dir)')
    .option('--use-cache', 'use the scan cache when it is valid (the default)')
    .option('--force-rescan', 'walk every folder even if the cache is valid')
    .option('--verify', 'also stat every file, to find files modified in place')
    .option('--clear-cache', "delete this folder's scan cache first")
    .addOption(new Option('--ext <list>', `image extensions, comma-separated (default: ${DEFAULT_EXTENSIONS.join(',')})`).argParser(collectExtensions))
    .addOption(new Option('--exclude <glob>', `extra exclude glob, repeatable (always: ${DEFAULT_EXCLUDE.join(', ')})`).argParser(collect))
    .option('--follow-symlinks', 'follow symbolic links (to folders and to image files): each folder walked once, never onto another file system')
    .option('--cross-file-systems', 'with --follow-symlinks, also walk folders on other file systems than the root')
    .addOption(new Option('--max-age-hours <h>', 'verify files when they were last verified longer ago than this').argParser(nonNegativeNumber).default(24))
    .addOption(new Option('--fs-concurrency <n>', 'file-system calls in flight while scanning (caps the scan threads: 2-4 on a local disk, 8-32 by the measured round trip on network storage)').argParser(positiveInt))
    .option('--registered-from <file>', "an existing SQLite database (read-only) whose paths count as registered")
    .option('--table <name>', 'table or view of --registered-from (case-insensitive; main.NAME accepted)')
    .option('--path-column <name>', 'path column of --registered-from (case-insensitive): paths relative to the folder, absolute under it or its real path, or file:// URIs')
    .option('--json', 'print one JSON object per folder on stdout')
    .option('-q, --quiet', 'no progress line')
    .option('-v, --verbose', 'log what the scan and registration do on stderr (also with --json)');
}

/** A team registry instead of the store's SQLite file (register, status, list, export, prune). */
function addTeamOptions(cmd: Command): Command {
  return cmd
    .option('--registry <url>', 'team registry on PostgreSQL: postgresql://user@host[:port]/db[?sslmode=…] (default: $DATASET_INDEX_REGISTRY, else the store\'s SQLite file); the password from PGPASSWORD or ~/.pgpass')
    .option('--dataset <name>', "the dataset's name in the team registry (default: the folder's name)");
}

export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('dataset-index')
    .description('Incremental, cached scanning and registration of image dataset folders.')
    .version(TOOL_VERSION)
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  addDatasetOptions(program.command('scan').description('scan a dataset folder, incrementally when a valid cache exists'))
    // The old name of --fs-concurrency here; kept so scripts keep working.
    .addOption(new Option('--concurrency <n>').argParser(positiveInt).hideHelp())
    .action(async (folders: string[], flags: ScanFlags) => setExit(await runScan(folders, flags)));

  addTeamOptions(addDatasetOptions(
    program
      .command('register')
      .description('scan, then register every new or changed image: content hash, format, width, height, size and mtime; saved in batches every few seconds'),
  ))
    .addOption(new Option('--read-concurrency <n>', `images read at once (default ${DEFAULT_REGISTER_CONCURRENCY})`).argParser(positiveInt))
    // The old name of --read-concurrency here; kept so scripts keep working.
    .addOption(new Option('--concurrency <n>').argParser(positiveInt).hideHelp())
    .option('--no-phash', 'no perceptual hashes (near-duplicate detection) for the images registered by this run')
    .addOption(new Option('--similar-distance <k>', `a new image within this Hamming distance of a registered one is reported as similar (default ${DEFAULT_SIMILAR_DISTANCE})`).argParser(distanceArg))
    .addOption(new Option('--lock-wait <seconds>', 'how long to wait for another process using the registry').argParser(nonNegativeNumber).default(600))
    .addOption(
      new Option(
        '--lock-stale <seconds>',
        "a lock (on a team registry: a registrar's claimed batch) held from another machine is taken over after this long without its heartbeat (a dead holder on this machine, or a team registrar whose connection ended, is taken over at once)",
      )
        .argParser(positiveNumber)
        .default(60),
    )
    .action(async (folders: string[], flags: RegisterFlags) => setExit(await runRegister(folders, flags)));

  addTeamOptions(addDatasetOptions(program.command('status').description('counts of new / changed / missing / registered images, without registering')))
    .option('--no-scan', 'use the scan cache as it is instead of a quick rescan')
    .action(async (folders: string[], flags: StatusFlags) => setExit(await runStatus(folders, flags)));

  const list = addTeamOptions(addDatasetOptions(program.command('list').description('print every image in the chosen states (new by default), one per line: the input of a registration pipeline')))
    .addOption(new Option('--status <states>', `states to list, comma-separated: ${LIST_STATUSES.join(', ')}`).argParser(listStatuses).default(['new'], 'new'))
    .option('--relative', 'paths relative to the folder (default: absolute)')
    .option('-0, --null', 'end each path with a NUL instead of a newline (for xargs -0; names may hold newlines)')
    .option('--jsonl', 'one JSON object per image: path, abs_path, status, size, mtime_ms, hash, width, height, format (null where unknown)')
    .option('--duplicates', 'print the groups of registered files with the same content, one JSON object per group')
    .option('--similar-to <file>', 'print the registered images that look like this image file (perceptual hash within --distance), nearest first')
    .addOption(new Option('--distance <k>', `with --similar-to: Hamming distance of the perceptual hashes (default ${DEFAULT_SIMILAR_DISTANCE})`).argParser(distanceArg))
    .option('--no-scan', 'use the scan cache as it is instead of a quick rescan')
    .action(async (folders: string[], flags: ListFlags) => setExit(await runList(folders, flags)));
  // list prints images, not a report: its JSON is --jsonl.
  list.options.find((o) => o.long === '--json')?.hideHelp();

  addDatasetOptions(
    program.command('similar').description('groups of registered images that look alike (perceptual hashes within a Hamming distance): resized, recompressed, converted copies'),
  )
    .addOption(new Option('--distance <k>', `Hamming distance of the 64-bit perceptual hashes (default ${DEFAULT_SIMILAR_DISTANCE})`).argParser(distanceArg))
    .option('--no-scan', 'use the scan cache as it is instead of a quick rescan')
    .action(async (folders: string[], flags: SimilarFlags) => setExit(await runSimilar(folders, flags)));

  program
    .command('export')
    .description('write the registry of a folder as a CSV or JSON Lines manifest')
    .argument('<folder>', 'dataset folder')
    .option('--store <dir>', 'store directory')
    .addOption(new Option('--format <format>', 'manifest format').choices(['csv', 'jsonl']).makeOptionMandatory())
    .option('--out <file>', 'output file (default: stdout)')
    .option('--include-missing', 'also write the rows of files no longer on disk (default: left out, after a quick scan)')
    .option('--registry <url>', 'team registry on PostgreSQL (default: $DATASET_INDEX_REGISTRY, else the store\'s SQLite file)')
    .option('--dataset <name>', "the dataset's name in the team registry (default: the folder's name)")
    .action(async (folder: string, flags: ExportFlags) => setExit(await runExport(folder, flags)));

  program
    .command('prune')
    .description('remove the rows of files no longer on disk (decided by a scan run now); nothing else ever removes rows')
    .argument('<folders...>', 'dataset folder(s); glob patterns such as "data/*/images" are expanded')
    .option('--store <dir>', 'store directory for the scan cache and the registry')
    .option('--dry-run', 'list the rows that would be removed; write nothing')
    .option('--allow-empty', 'prune even when the folder holds no image at all (refused by default: an unmounted share looks empty)')
    .addOption(new Option('--ext <list>', 'image extensions, as given to register (a row is removed only if its file is gone, whatever the scan saw)').argParser(collect))
    .addOption(new Option('--exclude <glob>', 'extra exclude glob, as given to register').argParser(collect))
    .option('--follow-symlinks', 'follow symbolic links to folders, as given to register')
    .addOption(new Option('--lock-wait <seconds>', 'how long to wait for another process using the registry').argParser(nonNegativeNumber).default(600))
    .option('--json', 'print one JSON object per folder: {root, removed, dryRun, cancelled, paths}')
    .option('--registry <url>', 'team registry on PostgreSQL (default: $DATASET_INDEX_REGISTRY, else the store\'s SQLite file)')
    .option('--dataset <name>', "the dataset's name in the team registry (default: the folder's name)")
    .option('-q, --quiet', 'no progress line')
    .option('-v, --verbose', 'log what the scan does on stderr')
    .action(async (folders: string[], flags: PruneFlags) => setExit(await runPrune(folders, flags)));

  program
    .command('clear-cache')
    .description("remove the scan cache of a folder (other folders' caches and the registry stay)")
    .argument('<folders...>', 'dataset folder(s)')
    .option('--store <dir>', 'store directory')
    .option('--json', 'print JSON')
    .action(async (folders: string[], flags: { store?: string; json?: boolean }) => setExit(await runClearCache(folders, flags)));

  addRegistryCommand(program, setExit);
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
    if (err instanceof UsageError) {
      process.stderr.write(`dataset-index: ${err.message}\n`);
      return EXIT_USAGE;
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`dataset-index: ${message}\n`);
    if (!(err instanceof DatasetError) && process.env.DATASET_INDEX_DEBUG) console.error(err);
    return EXIT_FAILURE;
  }
}

if (require.main === module) {
  // `dataset-index export … | head` closes the pipe early: that is the reader's choice, not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(EXIT_OK);
    throw err;
  });
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
