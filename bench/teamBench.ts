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
 *    --latency-ms D: the images are read through a latencyfs mount (bench/netfs/mount.sh, every
 *    metadata call waits D ms, no client caches: each registrar pays every round trip, as on its
 *    own machine), so that one registrar is bound by round trips rather than by this machine's
 *    CPU; the calls the server served and its CPU are reported (it must not be the limit). The
 *    mount is undone at the end, on failure and on Ctrl-C. The SQLite peer is not run then (the
 *    question is how registrars scale, and its run would cost as long as one registrar's).
 * Medians over --runs; the password comes from PGPASSWORD or ~/.pgpass.
 */
import { spawn, type ChildProcess } from 'node:child_process';
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
import { callsBetween, mountLatency, onInterrupt, type LatencyMount } from './netfs/latencyMount';
import { check, gc, log, summarise, type Stat } from './report';

export interface TeamBenchArgs {
  registry: string;
  rows: number;
  images: number;
  runs: number;
  concurrency: number;
  part: 'all' | 'images' | 'rows';
  /** Read the images through latencyfs at this delay per metadata call. */
  latencyMs?: number;
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
  /** Through latencyfs: what its server served during the registrations, median run. */
  server?: ServerUse;
}

/** What latencyfs's server did during one step: calls that waited the delay, all calls per second, its CPU. */
interface ServerUse {
  delayedPerFile: number;
  callsPerSec: number;
  /** Server CPU s ÷ wall s: near 1 would mean its Python (one GIL) is the limit, not the delay. */
  cores: number;
}

/** Runs a step and measures the latencyfs server around it. */
async function withServer<T>(mount: LatencyMount | null, files: number, step: () => Promise<T>): Promise<{ value: T; ms: number; server?: ServerUse }> {
  const before = mount ? await mount.counts() : {};
  const cpu0 = mount?.serverCpuMs() ?? null;
  const t = performance.now();
  const value = await step();
  const ms = performance.now() - t;
  if (!mount) return { value, ms };
  const cpu1 = mount.serverCpuMs();
  const calls = callsBetween(before, await mount.counts());
  return {
    value, ms,
    server: { delayedPerFile: calls.delayed / files, callsPerSec: calls.all / (ms / 1000), cores: cpu0 !== null && cpu1 !== null ? (cpu1 - cpu0) / ms : NaN },
  };
}

function medianServer(xs: ServerUse[]): ServerUse | undefined {
  if (xs.length === 0) return undefined;
  const m = (f: (x: ServerUse) => number): number => summarise(xs.map(f)).median;
  return { delayedPerFile: m((x) => x.delayedPerFile), callsPerSec: m((x) => x.callsPerSec), cores: m((x) => x.cores) };
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

/** Registrars running now: stopped on Ctrl-C before a mount they read is undone; their stores then removed. */
const children = new Set<ChildProcess>();
const liveStores = new Set<string>();

function runRegistrar(args: string[]): Promise<{ probed: number; cpuMs: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(__dirname, 'teamRegistrar.js'), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.add(child);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => {
      children.delete(child);
      if (code !== 0) return reject(new Error(`registrar exited ${code}`));
      const r = JSON.parse(out) as { registered: number; unreadable: number; moved: number; cpuMs: number };
      resolve({ probed: r.registered + r.unreadable + r.moved, cpuMs: r.cpuMs });
    });
  });
}

interface ImagesPart {
  files: number;
  mb: number;
  sqlite: Stat | null;
  sqliteCpuSec: number;
  floor: Record<number, Stat>;
  floorServer: Record<number, ServerUse | undefined>;
  registrars: Registrars[];
}

async function imagesPart(args: TeamBenchArgs): Promise<ImagesPart> {
  const set = ensureImages(args.images, log);
  // Warms the page cache of the source (under the mount too: the delay is then the only cost).
  await readAll(set.root, set.files, args.concurrency);
  const mount = args.latencyMs === undefined ? null : mountLatency(set.root, args.latencyMs);
  const stopChildren = onInterrupt(() => {
    for (const c of children) c.kill('SIGKILL');
    for (const s of liveStores) fs.rmSync(s, { recursive: true, force: true });
  });
  try {
    if (mount) log(`images through latencyfs at ${mount.delayMs} ms per metadata call: ${mount.root}`);
    return await imagesRuns(args, set, mount);
  } finally {
    stopChildren();
    // A registrar that failed leaves the stores of its step behind (the step's cleanup never ran).
    for (const s of liveStores) fs.rmSync(s, { recursive: true, force: true });
    liveStores.clear();
    mount?.unmount();
  }
}

async function imagesRuns(args: TeamBenchArgs, set: ReturnType<typeof ensureImages>, mount: LatencyMount | null): Promise<ImagesPart> {
  const root = mount?.root ?? set.root;
  const sqlite: number[] = [];
  const floor: Record<number, number[]> = { 1: [], 2: [], 4: [] };
  const times: Record<number, number[]> = { 1: [], 2: [], 4: [] };
  const probed: Record<number, number[]> = { 1: [], 2: [], 4: [] };
  const cpu: Record<number, number[]> = { 1: [], 2: [], 4: [] };
  const loads: Record<number, number[]> = { 1: [], 2: [], 4: [] };
  const sqliteCpu: number[] = [];
  const floorServer: Record<number, ServerUse[]> = { 1: [], 2: [], 4: [] };
  const regServer: Record<number, ServerUse[]> = { 1: [], 2: [], 4: [] };
  const n0 = set.files.length;
  for (let run = 0; run < args.runs; run++) {
    log(`images run ${run + 1}/${args.runs}`);
    if (!mount) {
      const peerStore = fs.mkdtempSync(path.join(os.tmpdir(), 'dataset-index-teambench-store-'));
      const t0 = performance.now();
      const peer = await runRegistrar([root, peerStore, '-', '-', String(args.concurrency)]);
      sqlite.push(performance.now() - t0);
      sqliteCpu.push(peer.cpuMs / 1000);
      check(peer.probed === n0, `SQLite registrar read ${peer.probed} files`);
      fs.rmSync(peerStore, { recursive: true, force: true });
      log(`  SQLite (one process): ${sqlite[sqlite.length - 1].toFixed(0)} ms`);
    }
    for (const n of [1, 2, 4]) {
      const fl = await withServer(mount, n0, () => readAll(root, set.files, args.concurrency * n));
      check(fl.value === set.totalBytes, `floor read ${fl.value} bytes, expected ${set.totalBytes}`);
      floor[n].push(fl.ms);
      if (fl.server) {
        floorServer[n].push(fl.server);
        log(`  floor at ${args.concurrency * n} reads at once: ${fl.ms.toFixed(0)} ms, ${fl.server.delayedPerFile.toFixed(1)} delayed calls per file, ` +
          `server ${fl.server.callsPerSec.toFixed(0)} calls/s, ${fl.server.cores.toFixed(2)} cores`);
      }
      const dataset = `bench-${args.images}-${n}-${run}-${Date.now()}`;
      const stores = Array.from({ length: n }, () => fs.mkdtempSync(path.join(os.tmpdir(), 'dataset-index-teambench-store-')));
      for (const st of stores) liveStores.add(st);
      const before = cpuJiffies();
      const reg = await withServer(mount, n0, () => Promise.all(stores.map((s) => runRegistrar([root, s, args.registry, dataset, String(args.concurrency)]))));
      const outs = reg.value;
      times[n].push(reg.ms);
      if (reg.server) {
        regServer[n].push(reg.server);
        log(`  server during registration: ${reg.server.delayedPerFile.toFixed(1)} delayed calls per file, ${reg.server.callsPerSec.toFixed(0)} calls/s, ${reg.server.cores.toFixed(2)} cores`);
      }
      const after = cpuJiffies();
      probed[n].push(outs.reduce((a, o) => a + o.probed, 0));
      cpu[n].push(outs.reduce((a, o) => a + o.cpuMs, 0) / 1000);
      loads[n].push(os.loadavg()[0]);
      if (before && after) {
        const busy = (after.busy - before.busy) / (after.total - before.total);
        log(`  machine CPU busy ${(100 * busy).toFixed(0)} %, registrars ${cpu[n][cpu[n].length - 1].toFixed(1)} CPU s, load ${os.loadavg()[0].toFixed(1)}`);
      }
      for (const s of stores) {
        fs.rmSync(s, { recursive: true, force: true });
        liveStores.delete(s);
      }
      log(`  ${n} registrar(s): ${times[n][times[n].length - 1].toFixed(0)} ms, read ${probed[n][probed[n].length - 1]} files; floor ×${n} ${floor[n][floor[n].length - 1].toFixed(0)} ms`);
    }
  }
  const one = summarise(times[1]).median;
  return {
    files: set.files.length,
    mb: set.totalBytes / 1048576,
    sqlite: mount ? null : summarise(sqlite),
    sqliteCpuSec: summarise(sqliteCpu).median,
    floor: { 1: summarise(floor[1]), 2: summarise(floor[2]), 4: summarise(floor[4]) },
    floorServer: { 1: medianServer(floorServer[1]), 2: medianServer(floorServer[2]), 4: medianServer(floorServer[4]) },
    registrars: [1, 2, 4].map((n) => {
      const ms = summarise(times[n]);
      return {
        n, ms, filesPerSec: set.files.length / (ms.median / 1000), probed: summarise(probed[n]).median, speedup: one / ms.median,
        cpuSec: summarise(cpu[n]).median, load: summarise(loads[n]).median, server: medianServer(regServer[n]),
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
  if (args.part !== 'rows' && args.latencyMs !== undefined) {
    lines.push(...latencyTable(await imagesPart(args), args, args.latencyMs));
  } else if (args.part !== 'rows') {
    const im = await imagesPart(args);
    lines.push('', `### registration: ${im.files.toLocaleString('en-US')} images (${im.mb.toFixed(0)} MB), ${args.concurrency} reads at once per registrar, each its own process and store`, '',
      '| registrars | median ms | files/s | speed-up vs 1 | files read (all) | read floor at the same total concurrency, ms | registrars\' CPU s | cores used (CPU s / wall s) | CPU-bound ceiling on all cores, files/s | load avg |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    const cores = os.cpus().length;
    const ceiling = (cpuSec: number): number => Math.round((im.files / cpuSec) * cores);
    if (im.sqlite) lines.push(`| SQLite (the store's registry, one process) | ${f(im.sqlite.median)} | ${Math.round(im.files / (im.sqlite.median / 1000))} | | ${im.files} | ${f(im.floor[1].median)} | ${f(im.sqliteCpuSec)} | ${(im.sqliteCpuSec / (im.sqlite.median / 1000)).toFixed(2)} | ${ceiling(im.sqliteCpuSec)} | |`);
    for (const r of im.registrars) {
      lines.push(
        `| ${r.n} | ${f(r.ms.median)} | ${Math.round(r.filesPerSec)} | ${r.speedup.toFixed(2)}× | ${r.probed} | ${f(im.floor[r.n].median)} | ${f(r.cpuSec)} | ${(r.cpuSec / (r.ms.median / 1000)).toFixed(2)} | ${ceiling(r.cpuSec)} | ${r.load.toFixed(1)} |`,
      );
    }
  }
  process.stdout.write(lines.join('\n') + '\n');
}

/** The registrars through latencyfs: rates against the read floor, and what the "filer" served. */
function latencyTable(im: ImagesPart, args: TeamBenchArgs, delayMs: number): string[] {
  const s = (ms: number): string => (ms / 1000).toFixed(1);
  const srv = (u: ServerUse | undefined): string => (u ? `${u.delayedPerFile.toFixed(1)} | ${Math.round(u.callsPerSec)} | ${u.cores.toFixed(2)}` : '– | – | –');
  const lines = ['', `### registration through latencyfs (${delayMs} ms per metadata call, no client caches): ${im.files.toLocaleString('en-US')} images ` +
    `(${im.mb.toFixed(0)} MB), ${args.concurrency} reads at once per registrar, each its own process and store; median of ${args.runs} run(s)`, '',
    '| registrars | median wall s (min–max) | files/s | speed-up vs 1 | files read (all) | read floor at the same total concurrency, s | floor files/s | wall ÷ floor | ' +
    'registrars\' CPU s | delayed calls per file | server calls/s | server CPU, cores | load avg |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |'];
  for (const r of im.registrars) {
    const fl = im.floor[r.n];
    lines.push(`| ${r.n} | ${s(r.ms.median)} (${s(r.ms.min)}–${s(r.ms.max)}) | ${r.filesPerSec.toFixed(1)} | ${r.speedup.toFixed(2)}× | ${r.probed} | ` +
      `${s(fl.median)} | ${(im.files / (fl.median / 1000)).toFixed(1)} | ${(r.ms.median / fl.median).toFixed(2)} | ${r.cpuSec.toFixed(1)} | ${srv(r.server)} | ${r.load.toFixed(1)} |`);
  }
  lines.push('', 'read floor alone (plain open + read + close of every file through the mount):', '',
    '| total reads at once | median s | files/s | delayed calls per file | server calls/s | server CPU, cores |', '| ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const n of [1, 2, 4]) {
    const fl = im.floor[n];
    lines.push(`| ${args.concurrency * n} | ${s(fl.median)} | ${(im.files / (fl.median / 1000)).toFixed(1)} | ${srv(im.floorServer[n])} |`);
  }
  return lines;
}
