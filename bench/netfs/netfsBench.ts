/**
 * Network-storage benchmark: the peers' full walk (find, fdir) and our scans through network-like
 * mounts (bench/netfs/mount.sh: latencyfs at given delays, sshfs over a loopback sshd), in one run.
 *
 *   npm run bench:netfs -- [--files 100000] [--per-dir 100] [--runs 3] [--delays 0.5,5]
 *                          [--walk-runs 1] [--no-sshfs] [--no-local] [--peer-budget-s 900] [--threads N] [--json]
 *
 * Per mount: find and fdir (each peer stops being run, and is reported as "> budget", once a walk
 * takes longer than --peer-budget-s), our full scan, a quick rescan with no change, a quick
 * rescan after 1,000 files were added in 10 folders, and a verify; wall time (median of --runs;
 * of --walk-runs for what stats every file: find, fdir, verify),
 * the calls the scan counted (fsOps) and, on latencyfs, the calls its server served. Needs root,
 * /dev/fuse and what mount.sh needs; every mount is undone on exit, also after a failure.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { closeScanThreads, scanDataset, type ScanDatasetResult } from '../../src/core';
import { addFiles, cleanLeftovers, ensureTree, removeFiles, touchedLeaves, type BenchTree } from '../tree';
import { log, round, summarise } from '../report';

const MOUNT_SH = path.resolve(__dirname, '../../../bench/netfs/mount.sh');
const PEER_FDIR = path.resolve(__dirname, '../peerFdir.js');
const ADDED_FILES = 1000;
/** Scans run with a clock this far ahead: the tree was just written, as a later scan would see it (past the 62 s window). */
const CLOCK_AHEAD_NS = 120_000_000_000n;

interface Args {
  files: number;
  perDir: number;
  runs: number;
  walkRuns: number;
  delays: number[];
  sshfs: boolean;
  local: boolean;
  peerBudgetMs: number;
  threads: number | undefined;
  json: boolean;
}

function args(): Args {
  const { values } = parseArgs({
    options: {
      files: { type: 'string', default: '100000' },
      'per-dir': { type: 'string', default: '100' },
      runs: { type: 'string', default: '3' },
      'walk-runs': { type: 'string', default: '1' },
      delays: { type: 'string', default: '0.5,5' },
      'no-sshfs': { type: 'boolean', default: false },
      'no-local': { type: 'boolean', default: false },
      'peer-budget-s': { type: 'string', default: '900' },
      threads: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const num = (name: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number ≥ ${min}, got ${v}`);
    return n;
  };
  return {
    files: num('files', values.files, 1),
    perDir: num('per-dir', values['per-dir'], 1),
    runs: num('runs', values.runs, 1),
    walkRuns: num('walk-runs', values['walk-runs'], 1),
    delays: (values.delays ?? '').split(',').filter(Boolean).map((d) => num('delays', d, 0)),
    sshfs: !values['no-sshfs'],
    local: !values['no-local'],
    peerBudgetMs: num('peer-budget-s', values['peer-budget-s'], 1) * 1000,
    threads: values.threads === undefined ? undefined : num('threads', values.threads, 1),
    json: values.json ?? false,
  };
}

interface Mount {
  label: string;
  kind: 'local' | 'latency' | 'sshfs';
  delayMs?: number;
}

/** One measured operation: wall times of its runs, the scan's counted calls, the server's calls. */
interface Row {
  op: string;
  ms: number[];
  /** The walk did not finish within the budget (a peer): ms holds the budget. */
  overBudget?: boolean;
  files?: number;
  readdir?: number;
  stat?: number;
  server?: Record<string, number>;
}

interface MountResult {
  mount: Mount;
  /** Threads the scans listed folders on (from the scan's log). */
  threads: string;
  rows: Row[];
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The mount point in use, undone on Ctrl-C as after a failure. */
let mounted: string | null = null;

function mountSh(argv: string[]): void {
  const r = spawnSync('bash', [MOUNT_SH, ...argv], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`mount.sh ${argv.join(' ')} failed: ${r.stdout}${r.stderr}`);
}

/** latencyfs's per-op counts (it rewrites the file within 0.2 s of a change). */
async function serverCounts(file: string | null): Promise<Record<string, number>> {
  if (!file) return {};
  await sleep(600);
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, number>;
  } catch {
    return {};
  }
}

function diff(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) if (v - (before[k] ?? 0) > 0) out[k] = v - (before[k] ?? 0);
  return out;
}

/** A peer's walk in a child process, killed at the budget. */
function runPeer(cmd: string, argv: string[], budgetMs: number): { ms: number; overBudget: boolean; files?: number } {
  const t = performance.now();
  const r = spawnSync(cmd, argv, { encoding: 'utf8', timeout: budgetMs, killSignal: 'SIGKILL', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = performance.now() - t;
  if (r.signal === 'SIGKILL' || r.error?.message.includes('ETIMEDOUT') === true) return { ms: budgetMs, overBudget: true };
  if (r.status !== 0) throw new Error(`${cmd} exited with ${r.status}: ${r.stderr}`);
  if (cmd === process.execPath) {
    const out = JSON.parse(r.stdout) as { ms: number; files: number };
    return { ms: out.ms, overBudget: false, files: out.files };
  }
  return { ms, overBudget: false, files: r.stdout.length };
}

async function measurePeers(root: string, a: Args, statsFile: string | null): Promise<Row[]> {
  const peers: [string, string, string[]][] = [
    // One byte per file: counted, and the output stays small.
    ['find', 'find', [root, '-type', 'f', '-printf', 'x']],
    // One walk, timed inside its process: with the kernel's caches off no walk is warmer than another.
    ['fdir', process.execPath, [PEER_FDIR, 'async', root, '1']],
  ];
  const rows: Row[] = [];
  for (const [op, cmd, argv] of peers) {
    const row: Row = { op, ms: [] };
    for (let r = 0; r < a.walkRuns; r++) {
      const before = await serverCounts(statsFile);
      const res = runPeer(cmd, argv, a.peerBudgetMs);
      row.ms.push(res.ms);
      row.files = res.files;
      if (statsFile) row.server = diff(await serverCounts(statsFile), before);
      log(`    ${op}: ${res.overBudget ? `> ${a.peerBudgetMs / 1000} s (stopped)` : `${Math.round(res.ms)} ms, ${res.files} files`}`);
      if (res.overBudget) {
        row.overBudget = true;
        break;
      }
    }
    rows.push(row);
  }
  return rows;
}

async function measureScans(root: string, tree: BenchTree, a: Args, statsFile: string | null, threadsSeen: Set<string>): Promise<Row[]> {
  const store = fs.mkdtempSync(path.join(os.tmpdir(), 'netfs-bench-store-'));
  const now = (): bigint => BigInt(Date.now()) * 1_000_000n + CLOCK_AHEAD_NS;
  const scan = (extra: { forceRescan?: boolean; verify?: boolean }): Promise<ScanDatasetResult> =>
    scanDataset({ root, storeDir: store, hooks: { now }, maxAgeMs: 1e12, ...(a.threads ? { concurrency: a.threads } : {}), ...extra });
  const leaves = touchedLeaves(tree, 10);
  cleanLeftovers(root, leaves);
  const rows: Row[] = [];
  const measure = async (
    op: string,
    runs: number,
    run: () => Promise<ScanDatasetResult>,
    before?: () => void,
    after?: () => Promise<void>,
  ): Promise<void> => {
    const row: Row = { op, ms: [] };
    for (let r = 0; r < runs; r++) {
      before?.();
      const counts = await serverCounts(statsFile);
      const t = performance.now();
      const res = await run();
      row.ms.push(performance.now() - t);
      if (statsFile) row.server = diff(await serverCounts(statsFile), counts);
      row.files = res.report.files;
      row.readdir = res.report.fsOps.readdir;
      row.stat = res.report.fsOps.stat;
      threadsSeen.add(`${res.report.threads} (round trip ${res.report.roundTripMs?.toFixed(2)} ms)`);
      log(`    ${op}: ${Math.round(row.ms[r])} ms (${res.report.mode}; ${res.report.files} files; readdir ${row.readdir}, stat ${row.stat}; +${res.report.added.count})`);
      await after?.();
    }
    rows.push(row);
  };
  try {
    await measure('full scan', a.runs, () => scan({ forceRescan: true }));
    await measure('quick, no change', a.runs, () => scan({}));
    let added: string[] = [];
    let tag = 0;
    await measure(
      `quick, +${ADDED_FILES} files in 10 folders`,
      a.runs,
      () => scan({}),
      () => {
        added = addFiles(root, leaves, ADDED_FILES, tag++);
      },
      async () => {
        removeFiles(added);
        await scan({}); // back to the tree the next run starts from (untimed)
      },
    );
    await measure('verify', a.walkRuns, () => scan({ verify: true }));
  } finally {
    fs.rmSync(store, { recursive: true, force: true });
  }
  return rows;
}

async function benchMount(mount: Mount, tree: BenchTree, a: Args, work: string): Promise<MountResult> {
  const mnt = path.join(work, 'mnt');
  fs.mkdirSync(mnt, { recursive: true });
  let root = tree.root;
  let statsFile: string | null = null;
  if (mount.kind === 'latency') {
    statsFile = path.join(work, `calls-${mount.delayMs}.json`);
    mountSh(['latency', tree.root, mnt, '--delay-ms', String(mount.delayMs), '--stats', statsFile]);
    mounted = root = mnt;
  } else if (mount.kind === 'sshfs') {
    mountSh(['sshfs', tree.root, mnt]);
    mounted = root = mnt;
  }
  log(`  ${mount.label}:`);
  const threads = new Set<string>();
  try {
    const rows = [...(await measurePeers(root, a, statsFile)), ...(await measureScans(root, tree, a, statsFile, threads))];
    return { mount, threads: [...threads].join(', '), rows };
  } finally {
    if (mount.kind !== 'local') mountSh(['umount', mnt]);
    mounted = null;
  }
}

/**
 * Never a recursive delete: a mount point that could not be undone would let it delete the tree
 * through the mount. The mount point is removed only when empty, the call counts one by one.
 */
function removeWork(work: string): void {
  for (const name of fs.readdirSync(work)) {
    const p = path.join(work, name);
    try {
      if (name === 'mnt') fs.rmdirSync(p);
      else fs.unlinkSync(p);
    } catch (err) {
      log(`  left ${p}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  try {
    fs.rmdirSync(work);
  } catch {
    log(`  left ${work}`);
  }
}

function fmtMs(ms: number): string {
  return ms >= 10_000 ? `${round(ms / 1000, 1)} s` : `${Math.round(ms)} ms`;
}

function table(results: MountResult[], a: Args, tree: BenchTree): string {
  const lines = [
    `${tree.imageFiles} images (+${tree.otherFiles} other files) in ${tree.dirs} folders; median of ${a.runs} run(s), of ${a.walkRuns} for find, fdir and verify; peers stopped after ${a.peerBudgetMs / 1000} s`,
    '',
  ];
  for (const { mount, threads, rows } of results) {
    const peers = rows.filter((r) => r.op === 'find' || r.op === 'fdir');
    const med = (r: Row): number => summarise(r.ms).median;
    const fastest = Math.min(...peers.map(med));
    const find = peers.find((r) => r.op === 'find');
    const anyOver = peers.some((r) => r.overBudget);
    lines.push(`### ${mount.label}${threads ? ` (scan threads: ${threads})` : ''}`, '');
    lines.push('| | wall time (median) | min–max | ratio | readdir / stat counted | calls the server served |', '|---|---:|---:|---:|---:|---|');
    for (const r of rows) {
      const m = med(r);
      let ratio = '';
      if (r.op === 'full scan' || r.op === 'verify') ratio = `${anyOver ? '<' : ''}${round(m / fastest, 2)}× faster peer`;
      else if (r.op.startsWith('quick') && find) ratio = `${find.overBudget ? '<' : ''}1/${Math.round(med(find) / m)} of find`;
      const time = r.overBudget ? `> ${fmtMs(m)}` : fmtMs(m);
      const range = r.ms.length > 1 ? `${fmtMs(Math.min(...r.ms))}–${fmtMs(Math.max(...r.ms))}` : '';
      const counted = r.readdir !== undefined ? `${r.readdir} / ${r.stat}` : '';
      const server = r.server ? Object.entries(r.server).map(([k, v]) => `${k} ${v}`).join(', ') : '';
      lines.push(`| ${r.op} | ${time} | ${range} | ${ratio} | ${counted} | ${server} |`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const a = args();
  if (process.getuid?.() !== 0) throw new Error('bench:netfs needs root (FUSE mounts)');
  const tree = ensureTree(a.files, a.perDir, log, 'netfs');
  log(`tree: ${tree.imageFiles} images in ${tree.dirs} folders at ${tree.root}${tree.reused ? ' (reused)' : ''}`);
  const mounts: Mount[] = [];
  if (a.local) mounts.push({ label: 'local disk', kind: 'local' });
  for (const d of a.delays) mounts.push({ label: `latencyfs, ${d} ms per metadata call`, kind: 'latency', delayMs: d });
  if (a.sshfs) mounts.push({ label: 'sshfs over a loopback sshd (dir_cache=no)', kind: 'sshfs' });
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'netfs-bench-'));
  const results: MountResult[] = [];
  try {
    for (const m of mounts) {
      results.push(await benchMount(m, tree, a, work));
      // Each mount's table as soon as it is done (stderr): a long run stopped later keeps it.
      if (!a.json) log(table(results.slice(-1), a, tree));
    }
  } finally {
    removeWork(work);
    await closeScanThreads();
  }
  if (a.json) process.stdout.write(`${JSON.stringify({ tree: { images: tree.imageFiles, dirs: tree.dirs }, runs: a.runs, results }, null, 1)}\n`);
  else process.stdout.write(`${table(results, a, tree)}\n`);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (mounted) spawnSync('bash', [MOUNT_SH, 'umount', mounted], { stdio: 'inherit', timeout: 60_000 });
    process.exit(130);
  });
}

main().catch((err: unknown) => {
  log(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exitCode = 1;
});
