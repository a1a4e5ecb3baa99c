/**
 * Scan benchmark: our full / quick / verify scans against fdir and find on a synthetic tree.
 *
 *   npm run bench -- --files 1000000 [--per-dir 100] [--runs 5] [--json]
 *
 * Progress goes to stderr; stdout gets a markdown table, or with --json one JSON object.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { cacheFileFor, loadCache, resolveOptions, saveCache, scanDataset } from '../src/core';
import type { CachedScan, ScanDatasetResult } from '../src/core';
import * as peers from './peers';
import { addFiles, cleanLeftovers, ensureTree, removeFiles, touchedLeaves } from './tree';
import { check, gc, log, round, summarise, treeBenchArgs, type Stat } from './report';

const ADDED_FILES = 1000;
/** Longer than the scanner's 2 s racy window: a directory changed before this is trusted. */
const SETTLE_MS = 2100;


interface ScanSample {
  ms: number;
  saveMs: number;
  readdir: number;
  stat: number;
  dirsRead: number;
}

interface ScanSummary {
  ms: Stat;
  saveMs: number;
  readdir: number;
  stat: number;
  dirsRead: number;
}


/** Times are medians; operation counts are the worst run (they should not vary at all). */
function summariseScans(name: string, xs: readonly ScanSample[]): ScanSummary {
  const worst = (pick: (x: ScanSample) => number): number => {
    const vals = xs.map(pick);
    if (new Set(vals).size > 1) log(`  note: ${name} op counts varied between runs: ${vals.join(', ')}`);
    return Math.max(...vals);
  };
  return {
    ms: summarise(xs.map((x) => x.ms)),
    saveMs: summarise(xs.map((x) => x.saveMs)).median,
    readdir: worst((x) => x.readdir),
    stat: worst((x) => x.stat),
    dirsRead: worst((x) => x.dirsRead),
  };
}

function sample(res: ScanDatasetResult): ScanSample {
  const r = res.report;
  return { ms: r.elapsedMs, saveMs: r.cacheSaveMs, readdir: r.fsOps.readdir, stat: r.fsOps.stat, dirsRead: r.dirsRead };
}

/** Which phase raised the peak RSS, logged as it happens (the table shows only the peak). */
let lastPeakKb = 0;
function notePeak(phase: string): void {
  const peak = process.resourceUsage().maxRSS;
  if (peak > lastPeakKb) log(`  peak RSS ${(peak / 1024).toFixed(0)} MB after ${phase}`);
  lastPeakKb = Math.max(lastPeakKb, peak);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits until the last change to the tree is outside the racy window, so no stamp is distrusted. */
async function settle(lastChange: number): Promise<void> {
  const wait = lastChange + SETTLE_MS - Date.now();
  if (wait > 0) await sleep(wait);
}

async function main(): Promise<void> {
  const args = treeBenchArgs();
  if (!globalThis.gc) log('note: run with --expose-gc for steadier numbers');
  log(`tree: ${args.files} images, ${args.perDir} per dir`);
  const tree = ensureTree(args.files, args.perDir, log);
  const root = path.resolve(tree.root);
  log(`  ${tree.reused ? 'reusing' : 'built'} ${root}: ${tree.imageFiles} images + ${tree.otherFiles} other files, ${tree.dirs} dirs`);
  const touched = touchedLeaves(tree);
  const leftovers = cleanLeftovers(root, touched);
  if (leftovers) log(`  removed ${leftovers} files left by an interrupted run`);
  let lastChange = Date.now();

  const storeDir = path.join(tree.base, 'store');
  const cacheFile = cacheFileFor(storeDir, root);
  const options = resolveOptions(root, storeDir);

  const loadAtStart = os.loadavg()[0];
  log('warming the page cache (untimed find -printf)');
  peers.findPrintf(root);

  const peerMs = { fdir: [] as number[], fdirSync: [] as number[], find: [] as number[], findPrintf: [] as number[] };
  const full: ScanSample[] = [];
  const quick: ScanSample[] = [];
  const quickAfterAdd: ScanSample[] = [];
  const verify: ScanSample[] = [];
  const cacheLoadMs: number[] = [];
  const cacheSaveMs: number[] = [];
  let cacheBytes = 0;
  const totalFiles = tree.imageFiles + tree.otherFiles;

  for (let run = 0; run < args.runs; run++) {
    log(`run ${run + 1}/${args.runs}`);
    await settle(lastChange);

    gc();
    const fa = peers.fdirAsync(root);
    check(fa.files === totalFiles, `fdir found ${fa.files} files, expected ${totalFiles}`);
    peerMs.fdir.push(fa.ms);

    // The scans of one run, in a function of their own: when it returns, its snapshot is garbage,
    // and the cold load below is measured without a second snapshot alive (as in a new process).
    // No forced GC inside a run: a full collection right before a scan shrinks V8's young
    // generation, and the next scan pays for it (measured: quick 35–45 ms → 55–100 ms). The peers
    // run in fresh processes with none either; a running extension never forces one.
    const scans = async (): Promise<void> => {
      const fullRes = await scanDataset({ root, storeDir, forceRescan: true, clearCache: true });
      const r = fullRes.report;
      check(r.mode === 'full' && r.files === tree.imageFiles && r.dirs === tree.dirs,
        `full scan: mode ${r.mode}, ${r.files} files, ${r.dirs} dirs (expected ${tree.imageFiles}, ${tree.dirs})`);
      notePeak('full');
      full.push(sample(fullRes));
      let cache: CachedScan = fullRes.cache;

      peerMs.fdirSync.push(peers.fdirSync(root).ms);

      const quickRes = await scanDataset({ root, storeDir, cached: cache });
      check(quickRes.report.mode === 'quick', `quick scan ran in ${quickRes.report.mode} mode`);
      notePeak('quick');
      quick.push(sample(quickRes));
      cache = quickRes.cache;

      peerMs.find.push(peers.find(root).ms);

      const verifyRes = await scanDataset({ root, storeDir, cached: cache, verify: true });
      check(verifyRes.report.mode === 'verify' && verifyRes.report.modified.count === 0,
        `verify: mode ${verifyRes.report.mode}, ${verifyRes.report.modified.count} modified`);
      notePeak('verify');
      verify.push(sample(verifyRes));
      cache = verifyRes.cache;

      peerMs.findPrintf.push(peers.findPrintf(root).ms);

      const added = addFiles(root, touched, ADDED_FILES, run);
      const addRes = await scanDataset({ root, storeDir, cached: cache });
      check(addRes.report.mode === 'quick' && addRes.report.added.count === ADDED_FILES,
        `quick after add: mode ${addRes.report.mode}, ${addRes.report.added.count} added (expected ${ADDED_FILES})`);
      notePeak('quickAfterAdd');
      quickAfterAdd.push(sample(addRes));
      removeFiles(added);
      const restoreRes = await scanDataset({ root, storeDir, cached: addRes.cache });
      lastChange = Date.now();
      check(restoreRes.report.removed.count === ADDED_FILES, `restore scan removed ${restoreRes.report.removed.count} files`);
      cache = restoreRes.cache;

      const t = performance.now();
      cacheBytes = await saveCache(cacheFile, cache);
      cacheSaveMs.push(performance.now() - t);
      notePeak('cache save');
    };
    await scans();

    gc();
    const t = performance.now();
    const load = await loadCache(cacheFile, root, options);
    cacheLoadMs.push(performance.now() - t);
    notePeak('cache load');
    check(load.kind === 'hit' && load.cache.snapshot.size === tree.dirs, `cache load: ${load.kind}`);
  }

  const benchPeakRssMb = process.resourceUsage().maxRSS / 1024;
  log('peak RSS of one scanner process: a first session (full, quick, verify), a later one (load + quick, verify)');
  const probes = [peers.rssProbe('first', root, storeDir), peers.rssProbe('later', root, storeDir)];
  for (const probe of probes) log(`  ${JSON.stringify(probe)}`);
  const peakRssMb = Math.max(...probes.map((p) => p.peakRssMb));
  const result = {
    files: tree.imageFiles,
    dirs: tree.dirs,
    peer: {
      fdir: summarise(peerMs.fdir),
      fdirSync: summarise(peerMs.fdirSync),
      find: summarise(peerMs.find),
      findPrintf: summarise(peerMs.findPrintf),
    },
    full: summariseScans('full', full),
    quick: summariseScans('quick', quick),
    quickAfterAdd: summariseScans('quickAfterAdd', quickAfterAdd),
    verify: summariseScans('verify', verify),
    cacheLoad: summarise(cacheLoadMs),
    cacheSave: summarise(cacheSaveMs),
    cacheBytes,
    peakRssMb,
    benchPeakRssMb,
    runs: args.runs,
    touchedDirs: touched.length,
    load: [loadAtStart, os.loadavg()[0]] as const,
  };

  if (args.json) {
    const ops = (s: ScanSummary): { ms: number; readdir: number; stat: number } => ({
      ms: round(s.ms.median),
      readdir: s.readdir,
      stat: s.stat,
    });
    const out = {
      files: result.files,
      dirs: result.dirs,
      peerMs: {
        fdir: round(result.peer.fdir.median),
        fdirSync: round(result.peer.fdirSync.median),
        find: round(result.peer.find.median),
        findPrintf: round(result.peer.findPrintf.median),
      },
      full: ops(result.full),
      quick: ops(result.quick),
      quickAfterAdd: ops(result.quickAfterAdd),
      verify: ops(result.verify),
      cacheLoadMs: round(result.cacheLoad.median),
      cacheSaveMs: round(result.cacheSave.median),
      cacheBytes: result.cacheBytes,
      peakRssMb: round(result.peakRssMb),
      benchPeakRssMb: round(result.benchPeakRssMb),
      runs: result.runs,
    };
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } else {
    process.stdout.write(renderTable(result));
  }
}

type Result = {
  files: number;
  dirs: number;
  peer: { fdir: Stat; fdirSync: Stat; find: Stat; findPrintf: Stat };
  full: ScanSummary;
  quick: ScanSummary;
  quickAfterAdd: ScanSummary;
  verify: ScanSummary;
  cacheLoad: Stat;
  cacheSave: Stat;
  cacheBytes: number;
  /** One scanner process doing full, quick, verify and a cache load (the target's measure). */
  peakRssMb: number;
  /** The bench process after every run (it keeps the heap it grew). */
  benchPeakRssMb: number;
  runs: number;
  touchedDirs: number;
  /** 1-minute load average at the start and the end: other work on the machine skews every number. */
  load: readonly [number, number];
};

function renderTable(res: Result): string {
  const f1 = (x: number): string => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
  const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}×`;
  const verdict = (ok: boolean): string => (ok ? 'PASS' : 'MISS');
  const fdirMs = res.peer.fdir.median;
  const printfMs = res.peer.findPrintf.median;
  const lines: string[] = [];
  const row = (cells: (string | number)[]): void => {
    lines.push(`| ${cells.join(' | ')} |`);
  };

  lines.push(`Scan bench: ${res.files.toLocaleString('en-US')} images (+~5 % other files) in ${res.dirs.toLocaleString('en-US')} dirs, ` +
    `median of ${res.runs} runs (min–max); ratios vs fdir async (full, quick) or find -printf (verify)`);
  lines.push('');
  row(['measure', 'median ms', 'min–max ms', 'ratio', 'readdir', 'stat', 'dirs read', 'target', 'result']);
  row(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---', '---']);
  const peer = (name: string, s: Stat): void => row([name, f1(s.median), `${f1(s.min)}–${f1(s.max)}`, '', '', '', '', '', '']);
  peer('fdir (withPromise)', res.peer.fdir);
  peer('fdir (sync)', res.peer.fdirSync);
  peer('find -type f', res.peer.find);
  peer('find -type f -printf (stats)', res.peer.findPrintf);

  const scan = (name: string, s: ScanSummary, peerMs: number, target: string, ok: boolean): void =>
    row([name, f1(s.ms.median), `${f1(s.ms.min)}–${f1(s.ms.max)}`, ratio(s.ms.median, peerMs), s.readdir, s.stat, s.dirsRead, target, verdict(ok)]);
  const fullRatio = res.full.ms.median / fdirMs;
  scan('ours: full scan', res.full, fdirMs, '≤ 1.3× fdir', fullRatio <= 1.3);
  const q = res.quick;
  const statPerDir = q.stat / res.dirs;
  scan('ours: quick, no change', q, fdirMs, '≤ 0.1× fdir, 0 readdir, ≈1 stat/dir',
    q.ms.median / fdirMs <= 0.1 && q.readdir === 0 && statPerDir <= 1.05);
  const qa = res.quickAfterAdd;
  scan(`ours: quick after +${ADDED_FILES} files`, qa, fdirMs, `readdir = ${res.touchedDirs}`, qa.readdir === res.touchedDirs);
  scan('ours: verify', res.verify, printfMs, '≤ 1.5× find -printf', res.verify.ms.median / printfMs <= 1.5);
  row(['cache load (read + decode)', f1(res.cacheLoad.median), `${f1(res.cacheLoad.min)}–${f1(res.cacheLoad.max)}`, '', '', '', '', '< 1000 ms',
    verdict(res.cacheLoad.median < 1000)]);
  row(['cache save (encode + write)', f1(res.cacheSave.median), `${f1(res.cacheSave.min)}–${f1(res.cacheSave.max)}`, '', '', '', '', '', '']);
  row(['peak RSS, one scanner process (first or later session)', `${f1(res.peakRssMb)} MB`, '', '', '', '', '', '< 400 MB', verdict(res.peakRssMb < 400)]);
  row([`peak RSS, this bench process after ${res.runs} runs of everything`, `${f1(res.benchPeakRssMb)} MB`, '', '', '', '', '', '', '']);
  lines.push('');
  lines.push(`cache file: ${(res.cacheBytes / 1048576).toFixed(1)} MB; ours include saving the cache ` +
    `(median save inside full ${f1(res.full.saveMs)} ms, quick ${f1(res.quick.saveMs)} ms, verify ${f1(res.verify.saveMs)} ms); ` +
    `quick stats ${statPerDir.toFixed(2)} per dir; load average ${res.load[0].toFixed(2)} → ${res.load[1].toFixed(2)} ` +
    `on ${os.cpus().length} CPUs`);
  return `${lines.join('\n')}\n`;
}

main().catch((err: unknown) => {
  log(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exitCode = 1;
});
