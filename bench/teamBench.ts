/**
 * The team registry beside the SQLite one, in the same run:
 *
 *   npm run bench:register -- --registry postgresql://user@host/db [--rows 1000000] [--images 20000] [--runs 3]
 *       [--concurrency 8] [--part all|images|rows]
 *
 * 1. load + diff of a 1M-file snapshot against a 1M-row dataset (1 % new, 1 % missing):
 *    SQLite loadIndex + diffSnapshot; PostgreSQL streaming the paths down (COPY TO, the same
 *    diffSnapshot); PostgreSQL diffing in the server (COPY the snapshot up into a temp table,
 *    two anti-joins). Setup: the rows go to PostgreSQL by `registry copy` (timed once).
 * 2. registration of N real images by 1, 2 and 4 registrar processes at once (fresh dataset and
 *    stores each run, scan included), beside the read floor at the same total concurrency.
 * Medians over --runs; the password comes from PGPASSWORD or ~/.pgpass.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { diffSnapshot, Registry } from '../src/core';
import type { DirRecord, DirStamp, ImageRow, Snapshot } from '../src/core';
import { copyRegistry } from '../src/core/registry/copyRegistry';
import { redactUrl } from '../src/core/registry/postgres/connect';
import { serverDiff } from '../src/core/registry/postgres/serverDiff';
import { TeamRegistry } from '../src/core/registry/postgres/teamRegistry';
import { ensureImages, rng, type ImageFile } from './imagesGen';
import { check, gc, log, summarise, type Stat } from './report';

export interface TeamBenchArgs {
  registry: string;
  rows: number;
  images: number;
  runs: number;
  concurrency: number;
  part: 'all' | 'images' | 'rows';
}

const PER_DIR = 100;
const NO_STAMP: DirStamp = { mtimeNs: 0n, ctimeNs: 0n, ino: 0n, dev: 0n };
const dirName = (d: number): string => `d${String(d).padStart(4, '0')}`;
const fileName = (d: number, k: number): string => `img_${String(d * (PER_DIR + 1) + k).padStart(6, '0')}.jpg`;

/** Snapshot: files k = 0..99 of each folder; registry: k = 1..100 (1 % new, 1 % missing). */
function buildSnapshot(dirs: number): Snapshot {
  const snap: Snapshot = new Map();
  const names: string[] = [];
  for (let d = 0; d < dirs; d++) names.push(dirName(d));
  snap.set('', { stamp: NO_STAMP, racy: false, files: [], subdirs: names });
  for (let d = 0; d < dirs; d++) {
    const files: string[] = [];
    for (let k = 0; k < PER_DIR; k++) files.push(fileName(d, k));
    snap.set(names[d], { stamp: NO_STAMP, racy: false, files, subdirs: [] } satisfies DirRecord);
  }
  return snap;
}

function fill(registry: Registry, rootId: number, dirs: number): void {
  const rand = rng(4242);
  let batch: ImageRow[] = [];
  for (let d = 0; d < dirs; d++) {
    for (let k = 1; k <= PER_DIR; k++) {
      const hash = Math.floor(rand() * 2 ** 32).toString(16).padStart(8, '0') + Math.floor(rand() * 2 ** 32).toString(16).padStart(8, '0');
      batch.push({ path: `${dirName(d)}/${fileName(d, k)}`, size: 20_000 + k, mtimeMs: 1.7e12 + d * 1000.5 + k, hash, width: 640, height: 480, format: 'jpeg', status: 'ok', reason: null, registeredAt: 1.7e12 + d });
      if (batch.length === 50_000) {
        registry.upsert(rootId, batch);
        batch = [];
      }
    }
  }
  registry.upsert(rootId, batch);
}

interface RowsPart {
  rows: number;
  copyMs: number;
  sqlite: Stat;
  stream: Stat;
  streamLoad: Stat;
  server: Stat;
  ratioStream: number;
  ratioServer: number;
}

async function rowsPart(args: TeamBenchArgs): Promise<RowsPart> {
  const dirs = Math.max(1, Math.round(args.rows / PER_DIR));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dataset-index-teambench-'));
  const file = path.join(dir, 'registry.sqlite');
  const root = '/data/teambench-root';
  try {
    log(`rows: ${dirs * PER_DIR} rows into ${file}`);
    const { registry } = await Registry.open(file);
    const rootId = registry.rootId(root);
    fill(registry, rootId, dirs);
    await registry.save();
    let t = performance.now();
    const copied = await copyRegistry({ kind: 'sqlite', registryFile: file, root }, { kind: 'team', spec: { url: args.registry, dataset: 'bench-1m' }, root }, { replace: true });
    const copyMs = performance.now() - t;
    log(`  registry copy SQLite → PostgreSQL: ${copied.rows} rows in ${copyMs.toFixed(0)} ms (verified)`);
    const team = await TeamRegistry.open({ url: args.registry, dataset: 'bench-1m' }, root, { write: true });
    const sq: number[] = [];
    const st: number[] = [];
    const stLoad: number[] = [];
    const sv: number[] = [];
    try {
      await team.client.query('ANALYZE dataset_index.images');
      for (let run = 0; run < args.runs; run++) {
        log(`rows run ${run + 1}/${args.runs}`);
        const order = ['sqlite', 'stream', 'server'];
        for (let s = 0; s < order.length; s++) {
          const what = order[(s + run) % order.length];
          const snap = buildSnapshot(dirs);
          gc();
          t = performance.now();
          if (what === 'sqlite') {
            const d = diffSnapshot(snap, registry.loadIndex(rootId));
            sq.push(performance.now() - t);
            check(d.newFiles.length === dirs && d.missing.length === dirs, `sqlite diff: ${d.newFiles.length} new, ${d.missing.length} missing`);
          } else if (what === 'stream') {
            const index = await team.loadIndex();
            stLoad.push(performance.now() - t);
            const d = diffSnapshot(snap, index);
            st.push(performance.now() - t);
            check(d.newFiles.length === dirs && d.missing.length === dirs, `stream diff: ${d.newFiles.length} new, ${d.missing.length} missing`);
          } else {
            const d = await serverDiff(team, snap);
            sv.push(performance.now() - t);
            check(d.newFiles.length === dirs && d.missing.length === dirs, `server diff: ${d.newFiles.length} new, ${d.missing.length} missing`);
          }
          log(`  ${what} ${(performance.now() - t).toFixed(0)} ms`);
        }
      }
    } finally {
      await team.close();
      registry.close();
    }
    const sqlite = summarise(sq);
    const stream = summarise(st);
    const server = summarise(sv);
    return { rows: copied.rows, copyMs, sqlite, stream, streamLoad: summarise(stLoad), server, ratioStream: stream.median / sqlite.median, ratioServer: server.median / sqlite.median };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function readAll(root: string, files: readonly ImageFile[], concurrency: number): Promise<number> {
  let next = 0;
  let bytes = 0;
  const worker = async (): Promise<void> => {
    const buf = Buffer.allocUnsafe(1 << 20);
    while (next < files.length) {
      const f = files[next++];
      const handle = await fs.promises.open(path.join(root, f.rel), 'r');
      try {
        for (;;) {
          const { bytesRead } = await handle.read(buf, 0, buf.length, null);
          if (bytesRead === 0) break;
          bytes += bytesRead;
        }
      } finally {
        await handle.close();
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return bytes;
}

interface Registrars {
  n: number;
  ms: Stat;
  filesPerSec: number;
  /** Files read by all registrars together, median run (≥ the image count; more = read twice). */
  probed: number;
  speedup: number;
  /** CPU seconds of all its registrar processes together, median run. */
  cpuSec: number;
  /** Load average (1 min) at the end of its runs, median: the other work on the machine. */
  load: number;
}

/** Machine-wide CPU: busy and total jiffies from /proc/stat (Linux), to tell our share from others'. */
function cpuJiffies(): { busy: number; total: number } | null {
  try {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = f[3] + (f[4] ?? 0);
    const total = f.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

function runRegistrar(args: string[]): Promise<{ probed: number; cpuMs: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(__dirname, 'teamRegistrar.js'), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`registrar exited ${code}`));
      const r = JSON.parse(out) as { registered: number; unreadable: number; moved: number; cpuMs: number };
      resolve({ probed: r.registered + r.unreadable + r.moved, cpuMs: r.cpuMs });
    });
  });
}

async function imagesPart(args: TeamBenchArgs): Promise<{ files: number; mb: number; sqlite: Stat; sqliteCpuSec: number; floor: Record<number, Stat>; registrars: Registrars[] }> {
  const set = ensureImages(args.images, log);
  await readAll(set.root, set.files, args.concurrency);
  const sqlite: number[] = [];
  const floor: Record<number, number[]> = { 1: [], 2: [], 4: [] };
  const times: Record<number, number[]> = { 1: [], 2: [], 4: [] };
  const probed: Record<number, number[]> = { 1: [], 2: [], 4: [] };
  const cpu: Record<number, number[]> = { 1: [], 2: [], 4: [] };
  const loads: Record<number, number[]> = { 1: [], 2: [], 4: [] };
  const sqliteCpu: number[] = [];
  for (let run = 0; run < args.runs; run++) {
    const peerStore = fs.mkdtempSync(path.join(os.tmpdir(), 'dataset-index-teambench-store-'));
    const t0 = performance.now();
    const peer = await runRegistrar([set.root, peerStore, '-', '-', String(args.concurrency)]);
    sqlite.push(performance.now() - t0);
    sqliteCpu.push(peer.cpuMs / 1000);
    check(peer.probed === set.files.length, `SQLite registrar read ${peer.probed} files`);
    fs.rmSync(peerStore, { recursive: true, force: true });
    log(`  SQLite (one process): ${sqlite[sqlite.length - 1].toFixed(0)} ms`);
    for (const n of [1, 2, 4]) {
      let t = performance.now();
      await readAll(set.root, set.files, args.concurrency * n);
      floor[n].push(performance.now() - t);
      const dataset = `bench-${args.images}-${n}-${run}-${Date.now()}`;
      const stores = Array.from({ length: n }, () => fs.mkdtempSync(path.join(os.tmpdir(), 'dataset-index-teambench-store-')));
      t = performance.now();
      const before = cpuJiffies();
      const outs = await Promise.all(stores.map((s) => runRegistrar([set.root, s, args.registry, dataset, String(args.concurrency)])));
      times[n].push(performance.now() - t);
      const after = cpuJiffies();
      probed[n].push(outs.reduce((a, o) => a + o.probed, 0));
      cpu[n].push(outs.reduce((a, o) => a + o.cpuMs, 0) / 1000);
      loads[n].push(os.loadavg()[0]);
      if (before && after) {
        const busy = (after.busy - before.busy) / (after.total - before.total);
        log(`  machine CPU busy ${(100 * busy).toFixed(0)} %, registrars ${cpu[n][cpu[n].length - 1].toFixed(1)} CPU s, load ${os.loadavg()[0].toFixed(1)}`);
      }
      for (const s of stores) fs.rmSync(s, { recursive: true, force: true });
      log(`  ${n} registrar(s): ${times[n][times[n].length - 1].toFixed(0)} ms, read ${probed[n][probed[n].length - 1]} files; floor ×${n} ${floor[n][floor[n].length - 1].toFixed(0)} ms`);
    }
  }
  const one = summarise(times[1]).median;
  return {
    files: set.files.length,
    mb: set.totalBytes / 1048576,
    sqlite: summarise(sqlite),
    sqliteCpuSec: summarise(sqliteCpu).median,
    floor: { 1: summarise(floor[1]), 2: summarise(floor[2]), 4: summarise(floor[4]) },
    registrars: [1, 2, 4].map((n) => {
      const ms = summarise(times[n]);
      return {
        n, ms, filesPerSec: set.files.length / (ms.median / 1000), probed: summarise(probed[n]).median, speedup: one / ms.median,
        cpuSec: summarise(cpu[n]).median, load: summarise(loads[n]).median,
      };
    }),
  };
}

export async function teamBench(args: TeamBenchArgs): Promise<void> {
  const cpus = os.cpus();
  const f = (x: number): string => (x >= 100 ? x.toFixed(0) : x.toFixed(2));
  const lines = [`Team registry bench (${redactUrl(args.registry)}): median of ${args.runs} runs; ${cpus.length} × ${cpus[0]?.model.trim() ?? '?'}, Node ${process.version}`];
  if (args.part !== 'images') {
    const r = await rowsPart(args);
    lines.push('', `### load + diff: ${r.rows.toLocaleString('en-US')} rows × ${r.rows.toLocaleString('en-US')} files (1 % new, 1 % missing)`, '',
      '| measure | median ms | min–max ms | vs SQLite |', '| --- | ---: | ---: | ---: |',
      `| SQLite: loadIndex + diffSnapshot | ${f(r.sqlite.median)} | ${f(r.sqlite.min)}–${f(r.sqlite.max)} | 1× |`,
      `| PostgreSQL, paths streamed (COPY TO) + diffSnapshot | ${f(r.stream.median)} | ${f(r.stream.min)}–${f(r.stream.max)} | ${r.ratioStream.toFixed(2)}× (target ≤ 2×) |`,
      `| — of which the COPY stream + index | ${f(r.streamLoad.median)} | ${f(r.streamLoad.min)}–${f(r.streamLoad.max)} | |`,
      `| PostgreSQL, in the server (COPY FROM temp table + anti-joins) | ${f(r.server.median)} | ${f(r.server.min)}–${f(r.server.max)} | ${r.ratioServer.toFixed(2)}× |`,
      `| setup: registry copy SQLite → PostgreSQL, verified (once) | ${f(r.copyMs)} | | |`);
  }
  if (args.part !== 'rows') {
    const im = await imagesPart(args);
    lines.push('', `### registration: ${im.files.toLocaleString('en-US')} images (${im.mb.toFixed(0)} MB), ${args.concurrency} reads at once per registrar, each its own process and store`, '',
      '| registrars | median ms | files/s | speed-up vs 1 | files read (all) | read floor at the same total concurrency, ms | registrars\' CPU s | cores used (CPU s / wall s) | CPU-bound ceiling on all cores, files/s | load avg |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    const cores = os.cpus().length;
    const ceiling = (cpuSec: number): number => Math.round((im.files / cpuSec) * cores);
    lines.push(`| SQLite (the store's registry, one process) | ${f(im.sqlite.median)} | ${Math.round(im.files / (im.sqlite.median / 1000))} | | ${im.files} | ${f(im.floor[1].median)} | ${f(im.sqliteCpuSec)} | ${(im.sqliteCpuSec / (im.sqlite.median / 1000)).toFixed(2)} | ${ceiling(im.sqliteCpuSec)} | |`);
    for (const r of im.registrars) {
      lines.push(
        `| ${r.n} | ${f(r.ms.median)} | ${Math.round(r.filesPerSec)} | ${r.speedup.toFixed(2)}× | ${r.probed} | ${f(im.floor[r.n].median)} | ${f(r.cpuSec)} | ${(r.cpuSec / (r.ms.median / 1000)).toFixed(2)} | ${ceiling(r.cpuSec)} | ${r.load.toFixed(1)} |`,
      );
    }
  }
  process.stdout.write(lines.join('\n') + '\n');
}
