/**
 * `list` against `status` on the same dataset, as whole CLI processes (a pipeline runs the CLI):
 *
 *   npm run bench:list -- --files 1000000 [--per-dir 100] [--runs 5] [--json]
 *
 * Every image is new (nothing registered), the worst case for `list`: it prints all of them.
 * Both run a quick scan over a warm cache first. Measured: wall time (median), time to the first
 * byte on a pipe, bytes written, peak RSS of the process. Progress on stderr; a markdown table on
 * stdout, or one JSON object with --json.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ensureTree } from './tree';
import { check, log, round, summarise, treeBenchArgs, type Stat } from './report';

const repo = path.resolve(__dirname, '../..');
const cli = path.join(repo, 'dist/cli.js');
const preload = path.join(__dirname, 'rssOnExit.js');

interface Run {
  ms: number;
  firstByteMs: number;
  bytes: number;
  rssMb: number;
  code: number | null;
}

/** Runs the CLI with stdout on a pipe that the bench drains, as a pipeline reading it would. */
function runCli(args: string[]): Promise<Run> {
  const rssFile = path.join(os.tmpdir(), `dsx-bench-rss-${process.pid}-${Math.random().toString(36).slice(2)}`);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let firstByteMs = -1;
    let bytes = 0;
    const child = spawn(process.execPath, ['-r', preload, cli, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, BENCH_RSS_FILE: rssFile } });
    child.stdout.on('data', (d: Buffer) => {
      if (firstByteMs < 0) firstByteMs = performance.now() - started;
      bytes += d.length;
    });
    child.once('error', reject);
    child.once('close', (code) => {
      const ms = performance.now() - started;
      const rssMb = Number(fs.readFileSync(rssFile, 'utf8'));
      fs.rmSync(rssFile, { force: true });
      resolve({ ms, firstByteMs, bytes, rssMb, code });
    });
  });
}

interface Summary {
  ms: Stat;
  firstByteMs: number;
  bytes: number;
  rssMb: number;
}

function summariseRuns(name: string, runs: readonly Run[]): Summary {
  for (const r of runs) check(r.code === 0, `${name} exited ${r.code}`);
  return {
    ms: summarise(runs.map((r) => r.ms)),
    firstByteMs: summarise(runs.map((r) => r.firstByteMs)).median,
    bytes: Math.max(...runs.map((r) => r.bytes)),
    rssMb: Math.max(...runs.map((r) => r.rssMb)),
  };
}

async function main(): Promise<void> {
  const { files, perDir, runs, json } = treeBenchArgs();
  const tree = ensureTree(files, perDir, log);
  const store = fs.mkdtempSync(path.join(os.tmpdir(), 'dsx-list-bench-store-'));
  try {
    log(`tree: ${tree.imageFiles} images in ${tree.dirs} folders; warming the cache`);
    const warm = await runCli(['scan', tree.root, '--store', store, '--quiet']);
    check(warm.code === 0, 'the warm-up scan failed');
    const cases: [string, string[]][] = [
      ['status', ['status', tree.root, '--store', store, '--json', '--quiet']],
      ['list (new, lines)', ['list', tree.root, '--store', store, '--quiet']],
      ['list -0', ['list', tree.root, '--store', store, '-0', '--quiet']],
      ['list --jsonl', ['list', tree.root, '--store', store, '--jsonl', '--quiet']],
    ];
    const samples = new Map<string, Run[]>(cases.map(([name]) => [name, []]));
    // Interleaved, so a burst of load on the shared machine hits every case alike.
    for (let i = 0; i < runs; i++) {
      for (const [name, args] of cases) {
        const r = await runCli(args);
        samples.get(name)?.push(r);
        log(`  run ${i + 1}/${runs} ${name}: ${Math.round(r.ms)} ms, first byte ${Math.round(r.firstByteMs)} ms, ${r.bytes} bytes, ${r.rssMb} MB`);
      }
    }
    const result = new Map([...samples].map(([name, rs]) => [name, summariseRuns(name, rs)]));
    const status = result.get('status');
    const listed = result.get('list (new, lines)');
    check(!!listed && listed.bytes > 0, 'list printed nothing');
    if (json) {
      process.stdout.write(`${JSON.stringify({ files: tree.imageFiles, dirs: tree.dirs, runs, cases: Object.fromEntries(result) })}\n`);
      return;
    }
    const lines = [
      `${tree.imageFiles.toLocaleString('en-US')} new images in ${tree.dirs.toLocaleString('en-US')} folders, ${runs} runs, medians; whole CLI processes, quick scan over a warm cache`,
      '',
      '| command | wall time | vs status | first byte | output | peak RSS |',
      '|---|---:|---:|---:|---:|---:|',
    ];
    for (const [name, s] of result) {
      const ratio = status ? round(s.ms.median / status.ms.median, 2) : NaN;
      lines.push(
        `| ${name} | ${Math.round(s.ms.median)} ms (${Math.round(s.ms.min)}–${Math.round(s.ms.max)}) | ${name === 'status' ? '' : `${ratio}×`} | ` +
          `${s.firstByteMs >= 0 ? `${Math.round(s.firstByteMs)} ms` : '—'} | ${round(s.bytes / 1e6, 1)} MB | ${s.rssMb} MB |`,
      );
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    fs.rmSync(store, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
