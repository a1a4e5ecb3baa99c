/**
 * Registration benchmark.
 *
 *   npx tsc -p . && node --expose-gc out/bench/registerBench.js [--images 20000] [--rows 1000000] [--runs 3]
 *       [--concurrency 8] [--part all|images|rows] [--no-phash] [--json] [--json-file out.json]
 *       [--registry postgresql://… [--latency-ms D]]   (teamBench.ts: the team registry, registrars through latencyfs)
 * --no-phash: registration without perceptual hashes (compare throughput with and without).
 *
 * 1. registerDataset on N real generated images (fresh store each run: everything is new) against an
 *    I/O floor: the same files read with the same concurrency (open, 1 MiB reads into one buffer,
 *    close; no parsing, no hashing). Page cache warm for both (one untimed read of everything first).
 * 2. loadIndex + diffSnapshot of a synthetic 1M-file snapshot against a 1M-row registry
 *    (1 % new, 1 % missing).
 * 3. save() and open of the 1M-row database (with and without the integrity quick_check).
 * 4. Peak RSS.
 *
 * Times are medians over --runs. Progress goes to stderr; stdout gets a markdown table, or with
 * --json one JSON object. Targets are informational: a miss never fails the process.
 */
// Through a mount with a delay per call (--latency-ms) every open and read of the read floor is a
// libuv pool job that waits the delay: the default pool of 4 threads would cap the floor at 4
// files in flight whatever its concurrency. Sized before the first file-system call (libuv sizes
// its pool once); the registrar processes inherit it (the CLI runs with 16).
if (process.argv.some((a) => a.startsWith('--latency-ms'))) process.env.UV_THREADPOOL_SIZE ??= '64';

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_REGISTER_CONCURRENCY, Registry, diffSnapshot, registerDataset } from '../src/core';
import type { DirRecord, DirStamp, ImageRow, Snapshot } from '../src/core';
import { loadSqlJs } from '../src/core/registry/sqlite';
import { loadIndexSql } from '../src/core/registry/registry';
import { newScratch, probeImage } from '../src/core/register/probeImage';
import { ensureImages, rng, type ImageFile } from './imagesGen';
import { check, gc, log, round, summarise, type Stat } from './report';

const UPSERT_BATCH = 50_000;
const FILES_PER_DIR = 100;
const MB = 1048576;

const TARGET = {
  registerVsFloor: 1.5,
  loadDiffMs: 1500,
  saveMs: 1500,
  peakRssMb: 1024,
};

interface Args {
  images: number;
  rows: number;
  runs: number;
  concurrency: number;
  part: 'all' | 'images' | 'rows';
  /** Perceptual hashes while registering (default on; --no-phash: off). */
  phash: boolean;
  json: boolean;
  /** Also write the JSON object here (so one run gives both the table and the JSON). */
  jsonFile: string | undefined;
  registry: string | undefined;
  latencyMs: number | undefined;
}


function parseCli(): Args {
  const { values } = parseArgs({
    options: {
      images: { type: 'string', default: '20000' },
      rows: { type: 'string', default: '1000000' },
      runs: { type: 'string', default: '3' },
      concurrency: { type: 'string', default: String(DEFAULT_REGISTER_CONCURRENCY) },
      part: { type: 'string', default: 'all' },
      json: { type: 'boolean', default: false },
      'no-phash': { type: 'boolean', default: false },
      'json-file': { type: 'string' },
      // A team registry: the PostgreSQL figures beside SQLite's (teamBench.ts).
      registry: { type: 'string' },
      // With --registry: the images read through a latencyfs mount at this delay per metadata call.
      'latency-ms': { type: 'string' },
    },
  });
  const int = (name: string, v: string | undefined): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${v}`);
    return n;
  };
  const part = values.part ?? 'all';
  if (part !== 'all' && part !== 'images' && part !== 'rows') throw new Error(`--part must be all, images or rows, got ${part}`);
  const latency = values['latency-ms'];
  const latencyMs = latency === undefined ? undefined : Number(latency);
  if (latencyMs !== undefined && (!Number.isFinite(latencyMs) || latencyMs < 0)) throw new Error(`--latency-ms must be a number ≥ 0, got ${latency}`);
  if (latencyMs !== undefined && (!values.registry || part === 'rows')) {
    throw new Error('--latency-ms is an option of the team registrars\' images part: it needs --registry postgresql://… and --part images or all');
  }
  return {
    images: int('images', values.images),
    rows: int('rows', values.rows),
    runs: int('runs', values.runs),
    concurrency: int('concurrency', values.concurrency),
    part,
    phash: !(values['no-phash'] ?? false),
    json: values.json ?? false,
    jsonFile: values['json-file'],
    registry: values.registry,
    latencyMs,
  };
}

function rssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

function memNow(): Record<string, number> {
  const m = process.memoryUsage();
  const mb = (x: number): number => round(x / MB);
  return { rss: mb(m.rss), heapUsed: mb(m.heapUsed), heapTotal: mb(m.heapTotal), external: mb(m.external), arrayBuffers: mb(m.arrayBuffers) };
}

// ---------------------------------------------------------------------------------------------
// Part 1: registration throughput vs the I/O floor

/** The I/O floor: open, read in 1 MiB chunks into one reused buffer per worker, close. */
async function readAll(root: string, files: readonly ImageFile[], concurrency: number): Promise<{ bytes: number; mismatched: number }> {
  let next = 0;
  let bytes = 0;
  let mismatched = 0;
  const worker = async (): Promise<void> => {
    const buf = Buffer.allocUnsafe(1 << 20);
    while (next < files.length) {
      const f = files[next++];
      const handle = await fs.promises.open(path.join(root, f.rel), 'r');
      let got = 0;
      try {
        for (;;) {
          const { bytesRead } = await handle.read(buf, 0, buf.length, null);
          if (bytesRead === 0) break;
          got += bytesRead;
        }
      } finally {
        await handle.close();
      }
      bytes += got;
      if (got !== f.size) mismatched++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { bytes, mismatched };
}

/** Diagnostic: probeImage (open, stat, read, hash, header parse) over every file, no database. */
async function probeAll(root: string, files: readonly ImageFile[], concurrency: number): Promise<{ bytes: number; bad: number }> {
  let next = 0;
  let bytes = 0;
  let bad = 0;
  const worker = async (): Promise<void> => {
    const scratch = newScratch();
    while (next < files.length) {
      const f = files[next++];
      const row = await probeImage(path.join(root, f.rel), f.rel, scratch);
      bytes += row.bytesRead;
      if (row.status !== 'ok') bad++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { bytes, bad };
}

/** Wall and CPU time (user + system, all threads of the process) of one step. */
interface Timed {
  ms: number;
  cpuMs: number;
}

async function timed<T>(fn: () => Promise<T>): Promise<Timed & { value: T }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await fn();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000, value };
}

interface Throughput {
  ms: Stat;
  cpuMs: Stat;
  filesPerSec: number;
  mbPerSec: number;
}

interface ImagesResult {
  files: number;
  totalBytes: number;
  png: number;
  jpeg: number;
  folders: number;
  concurrency: number;
  generated: { reused: boolean; ms: number; dir: string };
  floor: Throughput;
  probe: Throughput;
  register: Throughput & { saves: number };
  scanMs: Stat;
  registerOnlyMs: Stat;
  /** Median over runs of (registerDataset time / floor time of the same run). */
  ratio: number;
  registerOnlyRatio: number;
  probeRatio: number;
  /** The same ratio in CPU time: steadier than wall time on a shared machine. */
  cpuRatio: number;
  rssAfterMb: number;
}

async function benchImages(args: Args): Promise<ImagesResult> {
  const set = ensureImages(args.images, log);
  log(`images: ${set.reused ? 'reusing' : 'generated'} ${set.root}: ${set.files.length} files (${set.png} PNG, ${set.jpeg} JPEG), ` +
    `${(set.totalBytes / MB).toFixed(0)} MB in ${set.folders} folders`);
  log('warming the page cache (untimed read of every file)');
  const warm = await readAll(set.root, set.files, args.concurrency);
  check(warm.mismatched === 0, `${warm.mismatched} files differ in size from the manifest`);

  const floor: Timed[] = [];
  const probe: Timed[] = [];
  const reg: Timed[] = [];
  const scanMs: number[] = [];
  let saves = 0;
  let regBytes = 0;
  const steps = ['floor', 'probe', 'register'] as const;
  for (let run = 0; run < args.runs; run++) {
    log(`images run ${run + 1}/${args.runs}`);
    // Rotate the order so no step always runs first or last.
    for (let s = 0; s < steps.length; s++) {
      const what = steps[(s + run) % steps.length];
      gc();
      if (what === 'floor') {
        const r = await timed(() => readAll(set.root, set.files, args.concurrency));
        check(r.value.bytes === set.totalBytes, `floor read ${r.value.bytes} bytes, expected ${set.totalBytes}`);
        floor.push(r);
        log(`  floor ${r.ms.toFixed(0)} ms (cpu ${r.cpuMs.toFixed(0)} ms)`);
      } else if (what === 'probe') {
        const r = await timed(() => probeAll(set.root, set.files, args.concurrency));
        check(r.value.bytes === set.totalBytes && r.value.bad === 0, `probe: ${r.value.bytes} bytes, ${r.value.bad} unreadable`);
        probe.push(r);
        log(`  probeImage only ${r.ms.toFixed(0)} ms (cpu ${r.cpuMs.toFixed(0)} ms)`);
      } else {
        const storeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dataset-index-regbench-store-'));
        try {
          const r = await timed(() => registerDataset({ root: set.root, storeDir, registerConcurrency: args.concurrency, perceptualHash: args.phash }));
          const rep = r.value;
          const o = rep.outcome;
          check(o.registered === set.files.length && o.unreadable === 0 && o.moved === 0 && !o.cancelled,
            `registered ${o.registered}, unreadable ${o.unreadable} (${o.unreadableSamples.slice(0, 3).map((u) => `${u.path}: ${u.reason}`).join('; ')}), ` +
            `moved ${o.moved}, expected ${set.files.length} registered`);
          check(rep.scan.mode === 'full' && rep.scan.files === set.files.length, `scan: mode ${rep.scan.mode}, ${rep.scan.files} files`);
          check(o.bytes === set.totalBytes, `registration read ${o.bytes} bytes, expected ${set.totalBytes}`);
          reg.push({ ms: rep.elapsedMs, cpuMs: r.cpuMs });
          scanMs.push(rep.scan.elapsedMs);
          saves = o.saves;
          regBytes = o.bytes;
          log(`  registerDataset ${rep.elapsedMs.toFixed(0)} ms (cpu ${r.cpuMs.toFixed(0)} ms; scan ${rep.scan.elapsedMs.toFixed(0)} ms, ${o.saves} saves)`);
        } finally {
          fs.rmSync(storeDir, { recursive: true, force: true });
        }
      }
    }
  }
  const n = set.files.length;
  const through = (xs: Timed[], bytes: number): Throughput => {
    const ms = summarise(xs.map((x) => x.ms));
    return { ms, cpuMs: summarise(xs.map((x) => x.cpuMs)), filesPerSec: n / (ms.median / 1000), mbPerSec: bytes / MB / (ms.median / 1000) };
  };
  const perRun = (f: (i: number) => number): number => summarise(floor.map((_, i) => f(i))).median;
  return {
    files: n,
    totalBytes: set.totalBytes,
    png: set.png,
    jpeg: set.jpeg,
    folders: set.folders,
    concurrency: args.concurrency,
    generated: { reused: set.reused, ms: set.generateMs, dir: set.base },
    floor: through(floor, set.totalBytes),
    probe: through(probe, set.totalBytes),
    register: { ...through(reg, regBytes), saves },
    scanMs: summarise(scanMs),
    registerOnlyMs: summarise(reg.map((r, i) => r.ms - scanMs[i])),
    ratio: perRun((i) => reg[i].ms / floor[i].ms),
    registerOnlyRatio: perRun((i) => (reg[i].ms - scanMs[i]) / floor[i].ms),
    probeRatio: perRun((i) => probe[i].ms / floor[i].ms),
    cpuRatio: perRun((i) => reg[i].cpuMs / floor[i].cpuMs),
    rssAfterMb: rssMb(),
  };
}

// ---------------------------------------------------------------------------------------------
// Parts 2–4: a 1M-row registry

const NO_STAMP: DirStamp = { mtimeNs: 0n, ctimeNs: 0n, ino: 0n, dev: 0n };

function dirName(d: number): string {
  return `d${String(d).padStart(4, '0')}`;
}

/** File k of directory d; k = 0..FILES_PER_DIR. The snapshot has k < FILES_PER_DIR, the registry k ≥ 1. */
function fileName(d: number, k: number): string {
  return `img_${String(d * (FILES_PER_DIR + 1) + k).padStart(6, '0')}.jpg`;
}

/** All snapshot file names, NUL-joined: each run splits it afresh, as decodeCache does (no string hashes cached). */
function snapshotNames(dirs: number): Buffer {
  const names: string[] = [];
  for (let d = 0; d < dirs; d++) for (let k = 0; k < FILES_PER_DIR; k++) names.push(fileName(d, k));
  return Buffer.from(names.join('\0'), 'utf8');
}

function buildSnapshot(dirs: number, namesBlob: Buffer): Snapshot {
  const all = namesBlob.toString('utf8').split('\0');
  const snap: Snapshot = new Map();
  const dirNames: string[] = [];
  for (let d = 0; d < dirs; d++) dirNames.push(dirName(d));
  snap.set('', { stamp: NO_STAMP, racy: false, files: [], subdirs: dirNames });
  for (let d = 0; d < dirs; d++) {
    const rec: DirRecord = { stamp: NO_STAMP, racy: false, files: all.slice(d * FILES_PER_DIR, (d + 1) * FILES_PER_DIR), subdirs: [] };
    snap.set(dirNames[d], rec);
  }
  return snap;
}

/** Size and mtime of file k of directory d, the same in the registry and in a verified snapshot. */
function sizeOf(d: number, k: number): number {
  return 20_000 + ((d * 7919 + k * 104_729) % 2_000_000);
}

function mtimeOf(d: number, k: number): number {
  return 1.7e12 + ((d * 131 + k) % 30_000_000) * 1000.123456;
}

/** The snapshot after a verify scan: every file's size and mtime, matching the registry but for one file per folder. */
function addStats(snap: Snapshot, dirs: number): void {
  for (let d = 0; d < dirs; d++) {
    const stats = new Float64Array(FILES_PER_DIR * 3);
    for (let k = 0; k < FILES_PER_DIR; k++) {
      stats[k * 3] = sizeOf(d, k) + (k === FILES_PER_DIR - 1 ? 1 : 0);
      stats[k * 3 + 1] = mtimeOf(d, k);
      stats[k * 3 + 2] = k;
    }
    (snap.get(dirName(d)) as DirRecord).stats = stats;
  }
}

function hex16(rand: () => number): string {
  const hi = Math.floor(rand() * 0x100000000).toString(16).padStart(8, '0');
  const lo = Math.floor(rand() * 0x100000000).toString(16).padStart(8, '0');
  return hi + lo;
}

/** Inserts dirs × FILES_PER_DIR rows (k = 1..FILES_PER_DIR of each dir) in batches. */
function fillRegistry(registry: Registry, rootId: number, dirs: number): number {
  const rand = rng(4242);
  const now = Date.now();
  let batch: ImageRow[] = [];
  let rows = 0;
  for (let d = 0; d < dirs; d++) {
    const dir = dirName(d);
    for (let k = 1; k <= FILES_PER_DIR; k++) {
      const width = 64 + Math.floor(rand() * 4000);
      batch.push({
        path: `${dir}/${fileName(d, k)}`,
        size: sizeOf(d, k),
        mtimeMs: mtimeOf(d, k),
        hash: hex16(rand),
        width,
        height: Math.round(width * 0.75),
        format: 'jpg',
        status: 'ok',
        reason: null,
        registeredAt: now - Math.floor(rand() * 1e9),
      });
      if (batch.length === UPSERT_BATCH) {
        registry.upsert(rootId, batch);
        rows += batch.length;
        batch = [];
      }
    }
  }
  registry.upsert(rootId, batch);
  rows += batch.length;
  return rows;
}

interface RowsResult {
  rows: number;
  snapshotFiles: number;
  dirs: number;
  fillMs: number;
  loadIndexMs: Stat;
  loadIndexSqlMs: Stat;
  diffMs: Stat;
  loadDiffMs: Stat;
  /** The same with file stats (after a verify scan): sizes and mtimes loaded and compared. */
  loadDiffStatsMs: Stat;
  duplicateGroupsMs: Stat;
  diffCounts: { newFiles: number; missing: number; registered: number };
  saveMs: Stat;
  fileMb: number;
  openMs: Stat;
  openNoCheckMs: Stat;
  quickCheckMs: Stat;
  memAfterLoadIndex: Record<string, number>;
  rssAfterFillMb: number;
  peakRssMb: number;
}

async function benchRows(args: Args): Promise<RowsResult> {
  const dirs = Math.max(1, Math.round(args.rows / FILES_PER_DIR));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dataset-index-regbench-db-'));
  const file = path.join(dir, 'registry.sqlite');
  const root = '/data/regbench-root';
  try {
    log(`rows: building a registry of ${dirs * FILES_PER_DIR} rows in ${file}`);
    let { registry } = await Registry.open(file);
    const rootId = registry.rootId(root);
    let t = performance.now();
    const rows = fillRegistry(registry, rootId, dirs);
    const fillMs = performance.now() - t;
    const rssAfterFillMb = rssMb();
    log(`  inserted ${rows} rows in ${fillMs.toFixed(0)} ms (peak RSS so far ${rssAfterFillMb.toFixed(0)} MB)`);
    const namesBlob = snapshotNames(dirs);
    const snapshotFiles = dirs * FILES_PER_DIR;
    gc();

    const loadMs: number[] = [];
    const diffMs: number[] = [];
    const bothMs: number[] = [];
    const statsBothMs: number[] = [];
    const dupMs: number[] = [];
    const saveMs: number[] = [];
    const openMs: number[] = [];
    const openNoCheckMs: number[] = [];
    const quickCheckMs: number[] = [];
    const loadSqlMs: number[] = [];
    let counts = { newFiles: 0, missing: 0, registered: 0 };
    let memAfterLoadIndex: Record<string, number> = {};
    let fileBytes = 0;
    const SQL = await loadSqlJs();

    for (let run = 0; run < args.runs; run++) {
      log(`rows run ${run + 1}/${args.runs}`);
      let snapshot: Snapshot | null = buildSnapshot(dirs, namesBlob);
      gc();
      const t0 = performance.now();
      let index: ReturnType<Registry['loadIndex']> | null = registry.loadIndex(rootId);
      const t1 = performance.now();
      if (run === 0) memAfterLoadIndex = memNow();
      let diff: ReturnType<typeof diffSnapshot> | null = diffSnapshot(snapshot, index);
      const t2 = performance.now();
      loadMs.push(t1 - t0);
      diffMs.push(t2 - t1);
      bothMs.push(t2 - t0);
      counts = { newFiles: diff.newFiles.length, missing: diff.missing.length, registered: diff.registered };
      check(index.count === rows, `loadIndex returned ${index.count} rows, expected ${rows}`);
      check(counts.newFiles === dirs && counts.missing === dirs && counts.registered === snapshotFiles - dirs,
        `diff: ${counts.newFiles} new, ${counts.missing} missing, ${counts.registered} registered (expected ${dirs}, ${dirs}, ${snapshotFiles - dirs})`);
      log(`  loadIndex ${(t1 - t0).toFixed(0)} ms, diff ${(t2 - t1).toFixed(0)} ms`);
      index = null;
      diff = null;

      // The same after a verify scan: sizes and mtimes loaded and compared too.
      addStats(snapshot, dirs);
      gc();
      const s0 = performance.now();
      index = registry.loadIndex(rootId, { withStats: true });
      diff = diffSnapshot(snapshot, index);
      statsBothMs.push(performance.now() - s0);
      check(diff.changed.length === dirs, `diff with stats: ${diff.changed.length} changed, expected ${dirs}`);
      log(`  loadIndex + diff with file stats ${statsBothMs[statsBothMs.length - 1].toFixed(0)} ms (${diff.changed.length} changed)`);
      index = null;
      diff = null;
      snapshot = null;

      gc();
      t = performance.now();
      const groups = registry.duplicateGroups(rootId);
      dupMs.push(performance.now() - t);
      check(groups.length === 0, `${groups.length} duplicate groups, expected none`);

      gc();
      t = performance.now();
      fileBytes = await registry.save();
      saveMs.push(performance.now() - t);
      log(`  save ${saveMs[saveMs.length - 1].toFixed(0)} ms (${(fileBytes / MB).toFixed(1)} MB)`);
      registry.close();

      // Open without the check first (one database in memory at a time), then the real open,
      // which becomes the registry of the next run.
      gc();
      t = performance.now();
      const buf = await fs.promises.readFile(file);
      const plain = new SQL.Database(buf);
      openNoCheckMs.push(performance.now() - t);
      t = performance.now();
      const verdict = String(plain.exec('PRAGMA quick_check(1)')[0]?.values[0]?.[0] ?? '');
      quickCheckMs.push(performance.now() - t);
      check(verdict === 'ok', `quick_check: ${verdict}`);
      // Diagnostic: how much of loadIndex is the SQL itself (a copy of its query).
      gc();
      t = performance.now();
      plain.exec(loadIndexSql(false), [rootId]);
      loadSqlMs.push(performance.now() - t);
      plain.close();

      gc();
      t = performance.now();
      const opened = await Registry.open(file);
      openMs.push(performance.now() - t);
      check(!opened.notice, `open: ${opened.notice}`);
      registry = opened.registry;
      log(`  open ${openMs[openMs.length - 1].toFixed(0)} ms (no check ${openNoCheckMs[openNoCheckMs.length - 1].toFixed(0)} ms, ` +
        `quick_check ${quickCheckMs[quickCheckMs.length - 1].toFixed(0)} ms)`);
    }
    registry.close();
    return {
      rows,
      snapshotFiles,
      dirs,
      fillMs,
      loadIndexMs: summarise(loadMs),
      loadIndexSqlMs: summarise(loadSqlMs),
      diffMs: summarise(diffMs),
      loadDiffMs: summarise(bothMs),
      loadDiffStatsMs: summarise(statsBothMs),
      duplicateGroupsMs: summarise(dupMs),
      diffCounts: counts,
      saveMs: summarise(saveMs),
      fileMb: fileBytes / MB,
      openMs: summarise(openMs),
      openNoCheckMs: summarise(openNoCheckMs),
      quickCheckMs: summarise(quickCheckMs),
      memAfterLoadIndex,
      rssAfterFillMb,
      peakRssMb: rssMb(),
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Output

interface Result {
  runs: number;
  machine: { cpus: number; cpuModel: string; memGb: number; node: string; platform: string; tmpdir: string };
  images: ImagesResult | null;
  rows: RowsResult | null;
  peakRssMb: number;
}

const verdict = (ok: boolean): string => (ok ? 'PASS' : 'MISS');

function statJson(s: Stat): { median: number; min: number; max: number } {
  return { median: round(s.median), min: round(s.min), max: round(s.max) };
}

function toJson(res: Result): unknown {
  const im = res.images;
  const rw = res.rows;
  return {
    runs: res.runs,
    machine: res.machine,
    images: im && {
      files: im.files,
      mb: round(im.totalBytes / MB),
      png: im.png,
      jpeg: im.jpeg,
      folders: im.folders,
      concurrency: im.concurrency,
      floorMs: statJson(im.floor.ms),
      floorCpuMs: statJson(im.floor.cpuMs),
      floorFilesPerSec: Math.round(im.floor.filesPerSec),
      floorMbPerSec: round(im.floor.mbPerSec),
      probeOnlyMs: statJson(im.probe.ms),
      probeOnlyCpuMs: statJson(im.probe.cpuMs),
      registerMs: statJson(im.register.ms),
      registerCpuMs: statJson(im.register.cpuMs),
      registerFilesPerSec: Math.round(im.register.filesPerSec),
      registerMbPerSec: round(im.register.mbPerSec),
      scanMs: statJson(im.scanMs),
      registerOnlyMs: statJson(im.registerOnlyMs),
      saves: im.register.saves,
      ratio: round(im.ratio, 2),
      ratioTarget: TARGET.registerVsFloor,
      ratioResult: verdict(im.ratio <= TARGET.registerVsFloor),
      registerOnlyRatio: round(im.registerOnlyRatio, 2),
      probeOnlyRatio: round(im.probeRatio, 2),
      cpuRatio: round(im.cpuRatio, 2),
      rssAfterMb: round(im.rssAfterMb),
    },
    rows: rw && {
      rows: rw.rows,
      snapshotFiles: rw.snapshotFiles,
      dirs: rw.dirs,
      fillMs: round(rw.fillMs),
      loadIndexMs: statJson(rw.loadIndexMs),
      loadIndexSqlMs: statJson(rw.loadIndexSqlMs),
      diffMs: statJson(rw.diffMs),
      loadDiffMs: statJson(rw.loadDiffMs),
      loadDiffTargetMs: TARGET.loadDiffMs,
      loadDiffResult: verdict(rw.loadDiffMs.median <= TARGET.loadDiffMs),
      loadDiffStatsMs: statJson(rw.loadDiffStatsMs),
      diffCounts: rw.diffCounts,
      duplicateGroupsMs: statJson(rw.duplicateGroupsMs),
      saveMs: statJson(rw.saveMs),
      saveTargetMs: TARGET.saveMs,
      saveResult: verdict(rw.saveMs.median <= TARGET.saveMs),
      fileMb: round(rw.fileMb),
      openMs: statJson(rw.openMs),
      openNoCheckMs: statJson(rw.openNoCheckMs),
      quickCheckMs: statJson(rw.quickCheckMs),
      memAfterLoadIndexMb: rw.memAfterLoadIndex,
      rssAfterFillMb: round(rw.rssAfterFillMb),
      peakRssMb: round(rw.peakRssMb),
    },
    peakRssMb: round(res.peakRssMb),
    peakRssTargetMb: TARGET.peakRssMb,
    peakRssResult: verdict(res.peakRssMb < TARGET.peakRssMb),
  };
}

function renderTable(res: Result): string {
  const f = (x: number): string => (Number.isNaN(x) ? '–' : x >= 100 ? x.toFixed(0) : x.toFixed(1));
  const range = (s: Stat): string => `${f(s.min)}–${f(s.max)}`;
  const lines: string[] = [];
  const row = (cells: (string | number)[]): void => {
    lines.push(`| ${cells.join(' | ')} |`);
  };
  const head = (): void => {
    row(['measure', 'median ms', 'min–max ms', 'throughput / value', 'target', 'result']);
    row(['---', '---:', '---:', '---:', '---', '---']);
  };
  const m = res.machine;
  lines.push(`Register bench: median of ${res.runs} runs; ${m.cpus} × ${m.cpuModel}, ${m.memGb} GB RAM, Node ${m.node}, tmpdir ${m.tmpdir}`);

  const im = res.images;
  if (im) {
    lines.push('');
    lines.push(`### Registration: ${im.files.toLocaleString('en-US')} images (${im.png} PNG, ${im.jpeg} JPEG), ` +
      `${(im.totalBytes / MB).toFixed(0)} MB in ${im.folders} folders, concurrency ${im.concurrency}, warm page cache, fresh store each run`);
    lines.push('');
    head();
    const rate = (ms: number, bytes: number): string => `${Math.round(im.files / (ms / 1000)).toLocaleString('en-US')} files/s, ${(bytes / MB / (ms / 1000)).toFixed(0)} MB/s`;
    const cpu = (t: Throughput): string => `; cpu ${f(t.cpuMs.median)} ms`;
    row(['I/O floor (fs.promises open + 1 MiB reads + close)', f(im.floor.ms.median), range(im.floor.ms),
      rate(im.floor.ms.median, im.totalBytes) + cpu(im.floor), '', '']);
    row(['diagnostic: probeImage alone (no scan, no DB)', f(im.probe.ms.median), range(im.probe.ms),
      `${rate(im.probe.ms.median, im.totalBytes)}${cpu(im.probe)}; ${im.probeRatio.toFixed(2)}× floor`, '', '']);
    row(['registerDataset (scan + diff + register + saves)', f(im.register.ms.median), range(im.register.ms),
      rate(im.register.ms.median, im.totalBytes) + cpu(im.register), '', '']);
    row(['— of which scan (report.scan.elapsedMs)', f(im.scanMs.median), range(im.scanMs), '', '', '']);
    row(['— of which the rest (open, diff, probe, commit, save)', f(im.registerOnlyMs.median), range(im.registerOnlyMs),
      `${im.register.saves} saves`, '', '']);
    row(['ratio registerDataset / floor (wall)', '', '', `${im.ratio.toFixed(2)}×`, `≤ ${TARGET.registerVsFloor}×`, verdict(im.ratio <= TARGET.registerVsFloor)]);
    row(['ratio (registerDataset − scan) / floor (wall)', '', '', `${im.registerOnlyRatio.toFixed(2)}×`, '', '']);
    row(['ratio registerDataset / floor (CPU time, all threads)', '', '', `${im.cpuRatio.toFixed(2)}×`, '', '']);
  }

  const rw = res.rows;
  if (rw) {
    lines.push('');
    lines.push(`### 1M registry: ${rw.rows.toLocaleString('en-US')} rows vs a snapshot of ${rw.snapshotFiles.toLocaleString('en-US')} files ` +
      `in ${rw.dirs.toLocaleString('en-US')} dirs (${rw.diffCounts.newFiles} new, ${rw.diffCounts.missing} missing)`);
    lines.push('');
    head();
    row([`fill: upsert in ${UPSERT_BATCH.toLocaleString('en-US')}-row batches (setup, once)`, f(rw.fillMs), '',
      `${Math.round(rw.rows / (rw.fillMs / 1000)).toLocaleString('en-US')} rows/s`, '', '']);
    row(['registry.loadIndex', f(rw.loadIndexMs.median), range(rw.loadIndexMs), '', '', '']);
    row(['— its SQL query alone (diagnostic, 2nd connection)', f(rw.loadIndexSqlMs.median), range(rw.loadIndexSqlMs), '', '', '']);
    row(['diffSnapshot', f(rw.diffMs.median), range(rw.diffMs), '', '', '']);
    row(['loadIndex + diffSnapshot', f(rw.loadDiffMs.median), range(rw.loadDiffMs), '', `≤ ${TARGET.loadDiffMs} ms`,
      verdict(rw.loadDiffMs.median <= TARGET.loadDiffMs)]);
    row(['loadIndex + diffSnapshot with file stats (after a verify scan)', f(rw.loadDiffStatsMs.median), range(rw.loadDiffStatsMs), '', '', '']);
    row(['registry.duplicateGroups (also run by registerDataset)', f(rw.duplicateGroupsMs.median), range(rw.duplicateGroupsMs), '', '', '']);
    row(['registry.save (export + atomic write + fsync)', f(rw.saveMs.median), range(rw.saveMs), `${rw.fileMb.toFixed(1)} MB file`,
      `≤ ${TARGET.saveMs} ms`, verdict(rw.saveMs.median <= TARGET.saveMs)]);
    row(['Registry.open (read + quick_check + migrate)', f(rw.openMs.median), range(rw.openMs), '', '', '']);
    row(['— open without check (readFile + new SQL.Database)', f(rw.openNoCheckMs.median), range(rw.openNoCheckMs), '', '', '']);
    row(['— PRAGMA quick_check(1) alone', f(rw.quickCheckMs.median), range(rw.quickCheckMs), '', '', '']);
  }

  lines.push('');
  head();
  if (im) row(['peak RSS after registration part', '', '', `${f(im.rssAfterMb)} MB`, '', '']);
  if (rw) row(['peak RSS after filling the 1M-row registry (setup)', '', '', `${f(rw.rssAfterFillMb)} MB`, '', '']);
  row([`peak RSS of the process${rw ? ' (after the 1M part)' : ''}`, '', '', `${f(res.peakRssMb)} MB`, `< ${TARGET.peakRssMb} MB`,
    verdict(res.peakRssMb < TARGET.peakRssMb)]);
  if (rw) {
    const mem = rw.memAfterLoadIndex;
    lines.push('');
    lines.push(`memory right after loadIndex (MB): rss ${mem.rss}, heapUsed ${mem.heapUsed}, external ${mem.external}, arrayBuffers ${mem.arrayBuffers}`);
  }
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  const args = parseCli();
  if (args.registry) {
    const { teamBench } = await import('./teamBench');
    return teamBench({ ...args, registry: args.registry });
  }
  if (!globalThis.gc) log('note: run with --expose-gc for steadier numbers');
  const cpus = os.cpus();
  const machine = {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memGb: Math.round(os.totalmem() / 1024 ** 3),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    tmpdir: os.tmpdir(),
  };
  const images = args.part === 'rows' ? null : await benchImages(args);
  gc();
  const rows = args.part === 'images' ? null : await benchRows(args);
  const result: Result = { runs: args.runs, machine, images, rows, peakRssMb: rssMb() };
  const json = `${JSON.stringify(toJson(result))}\n`;
  if (args.jsonFile) fs.writeFileSync(args.jsonFile, json);
  process.stdout.write(args.json ? json : renderTable(result));
}

main().catch((err: unknown) => {
  log(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exitCode = 1;
});
