// npm run bench:thumbs [-- --dir /usr/share/backgrounds] [--runs 3] [--wasm 3]
//
// Thumbnails per second on real photos (by default the JPEG wallpapers that Debian packages install
// in /usr/share/backgrounds: 1–34 MP photographs and artwork nobody here made), at 64 and 256 px:
//   ours, cold   Thumbnailer with an empty cache: stat, queue (2 at once), sharp, atomic write
//   ours, warm   the same requests again: cache hits (stat + 30-byte header read)
//   sharp alone  sharp(file).rotate().resize().webp() on the same files, 2 at once, nothing else
// with the bytes the process read (/proc/self/io rchar) per thumbnail and the main thread's
// event-loop delay (max) while thumbnails are made. HEIC and JPEG XL copies of a few of the photos
// (made once by heif-enc and cjxl into .bench/thumbs/) measure the wasm route. Medians of `runs`.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { closeDecodeThread, Thumbnailer } from '../src/core/thumbnails';
import { loadSharp, type Sharp } from '../src/core/thumbnails/loadSharp';
import { check, log, round, summarise } from './report';

const { values } = parseArgs({
  options: {
    dir: { type: 'string', default: '/usr/share/backgrounds' },
    runs: { type: 'string', default: '3' },
    wasm: { type: 'string', default: '3' },
  },
});
const RUNS = Math.max(1, Number(values.runs));
const WASM_FILES = Math.max(0, Number(values.wasm));

function readBytes(): number {
  const m = /rchar:\s*(\d+)/.exec(fs.readFileSync('/proc/self/io', 'utf8'));
  return m ? Number(m[1]) : NaN;
}

function photos(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && /\.jpe?g$/i.test(e.name)) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

/** Runs `fn` over `files` with 2 at once (as the queue does); wall time, bytes read, event-loop delay max. */
async function timed(files: string[], fn: (f: string) => Promise<unknown>): Promise<{ ms: number; bytes: number; loopMaxMs: number }> {
  const h = monitorEventLoopDelay({ resolution: 10 });
  const bytes0 = readBytes();
  const t0 = performance.now();
  h.enable();
  let next = 0;
  await Promise.all(
    [0, 1].map(async () => {
      while (next < files.length) await fn(files[next++]);
    }),
  );
  h.disable();
  return { ms: performance.now() - t0, bytes: readBytes() - bytes0, loopMaxMs: h.max / 1e6 };
}

/** All at once through the Thumbnailer: its queue bounds the work (the way the tree asks). */
async function timedOurs(t: Thumbnailer, files: string[], size: number): Promise<{ ms: number; bytes: number; loopMaxMs: number; ok: number; out: number[] }> {
  const h = monitorEventLoopDelay({ resolution: 10 });
  const bytes0 = readBytes();
  const t0 = performance.now();
  h.enable();
  const results = await Promise.all(files.map((f) => t.thumbnail(f, size)));
  h.disable();
  const ms = performance.now() - t0;
  for (const r of results) if (!r.ok) log(`  failed: ${r.message}`);
  return {
    ms, bytes: readBytes() - bytes0, loopMaxMs: h.max / 1e6,
    ok: results.filter((r) => r.ok).length,
    out: results.flatMap((r) => (r.ok ? [r.bytes] : [])),
  };
}

function sharpAlone(sharp: Sharp, size: number) {
  return (f: string): Promise<Buffer> =>
    sharp(f).rotate().resize({ width: size, height: size, fit: 'inside', withoutEnlargement: true }).webp({ quality: 70, effort: 2 }).toBuffer();
}

/** HEIC and JXL copies of the first `n` photos, made once (x265 and libjxl are slow on 4K). */
function wasmCopies(files: string[], n: number): { heic: string[]; jxl: string[] } {
  const dir = path.resolve('.bench/thumbs');
  fs.mkdirSync(dir, { recursive: true });
  const out = { heic: [] as string[], jxl: [] as string[] };
  for (const f of files.slice(0, n)) {
    const base = path.basename(f).replace(/\.[^.]+$/, '');
    for (const [kind, tool, args] of [
      ['heic', 'heif-enc', (src: string, dst: string) => ['-q', '60', src, '-o', dst]],
      ['jxl', 'cjxl', (src: string, dst: string) => ['--quiet', src, dst]],
    ] as const) {
      const dst = path.join(dir, `${base}.${kind}`);
      if (!fs.existsSync(dst)) {
        const r = spawnSync(tool, args(f, dst), { encoding: 'utf8' });
        if (r.status !== 0) {
          log(`  ${tool} not available or failed: ${r.stderr || r.error?.message}`);
          continue;
        }
      }
      out[kind].push(dst);
    }
  }
  return out;
}

async function main(): Promise<void> {
  const loaded = loadSharp();
  if (!loaded.ok) throw new Error(loaded.message);
  const sharp = loaded.sharp;
  const files = photos(values.dir);
  if (files.length < 5) throw new Error(`only ${files.length} JPEG photos under ${values.dir}: pass --dir`);
  const sizes = files.map((f) => fs.statSync(f).size);
  const totalBytes = sizes.reduce((s, x) => s + x, 0);
  const mp = await Promise.all(files.map(async (f) => {
    const m = await sharp(f).metadata();
    return ((m.width ?? 0) * (m.height ?? 0)) / 1e6;
  }));
  log(`${files.length} JPEG photos under ${values.dir}: ${round(totalBytes / 1024 / 1024)} MB, ${round(summarise(mp).min)}–${round(summarise(mp).max)} MP (median ${round(summarise(mp).median)}); ${os.cpus().length} cores; libvips ${sharp.versions.vips}; ${RUNS} runs`);
  const rows: string[] = [];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dsx-thumbbench-'));
  try {
    for (const size of [64, 256]) {
      const cold: number[] = [];
      const warm: number[] = [];
      const alone: number[] = [];
      const coldBytes: number[] = [];
      const warmBytes: number[] = [];
      const loopMax: number[] = [];
      const outBytes: number[] = [];
      for (let run = 0; run < RUNS; run++) {
        // Alternating which goes first, so a change in the machine's load does not favour one.
        const runAlone = async (): Promise<void> => {
          const a = await timed(files, sharpAlone(sharp, size));
          alone.push((files.length / a.ms) * 1000);
        };
        if (run % 2 === 0) await runAlone();
        const t = new Thumbnailer({ cacheDir: path.join(tmp, `${size}-${run}`), maxCacheBytes: 1 << 30 });
        await t.cache.open();
        const c = await timedOurs(t, files, size);
        check(c.ok === files.length, `${files.length - c.ok} thumbnails failed`);
        cold.push((files.length / c.ms) * 1000);
        coldBytes.push(c.bytes / files.length);
        loopMax.push(c.loopMaxMs);
        outBytes.push(...c.out);
        const w = await timedOurs(t, files, size);
        warm.push((files.length / w.ms) * 1000);
        warmBytes.push(w.bytes / files.length);
        if (run % 2 === 1) await runAlone();
      }
      const m = (xs: number[]): number => summarise(xs).median;
      rows.push(
        `| ${size} px | ${round(m(cold))} | ${round(m(alone))} | ${round(m(cold) / m(alone), 2)}× | ${round(m(warm))} | ${round(m(coldBytes))} B | ${round(m(warmBytes))} B | ${round(m(outBytes) / 1024, 1)} KB | ${round(m(loopMax))} ms |`,
      );
      log(`  ${size} px: ours ${round(m(cold))}/s, sharp alone ${round(m(alone))}/s, warm ${round(m(warm))}/s`);
    }
    const wasmRows: string[] = [];
    if (WASM_FILES > 0) {
      const copies = wasmCopies(files, WASM_FILES);
      for (const [kind, list] of [['HEIC (libheif wasm)', copies.heic], ['JPEG XL (libjxl wasm)', copies.jxl]] as const) {
        if (!list.length) continue;
        const per: number[] = [];
        const loop: number[] = [];
        for (let run = 0; run < RUNS; run++) {
          const t = new Thumbnailer({ cacheDir: path.join(tmp, `wasm-${kind.slice(0, 4)}-${run}`), maxCacheBytes: 1 << 30 });
          await t.cache.open();
          const c = await timedOurs(t, list, 256);
          check(c.ok === list.length, `${kind}: ${list.length - c.ok} failed`);
          per.push(c.ms / list.length);
          loop.push(c.loopMaxMs);
        }
        const sizes = list.map((f) => round(fs.statSync(f).size / 1024 / 1024, 2));
        wasmRows.push(`| ${kind} | ${list.length} (${sizes.join(', ')} MB) | ${round(summarise(per).median)} ms | ${round(1000 / summarise(per).median, 2)} | ${round(summarise(loop).median)} ms |`);
      }
    }
    console.log(`\n${files.length} JPEG photos (${values.dir}), ${round(summarise(mp).median)} MP median; thumbnails per second, medians of ${RUNS} runs, 2 at once\n`);
    console.log(`Input: the decoder reads each file whole (JPEG's entropy-coded data is one stream; shrink-on-load saves the IDCT, not the read): median ${round(summarise(sizes).median / 1024)} KB per photo, ${round(totalBytes / files.length / 1024)} KB mean. libvips reads on its own threads, which /proc/self/io does not show; the columns "own reads" are what our code reads besides (rchar of the main thread: the 64-byte sniff, cache headers).\n`);
    console.log('| size | ours, cold (/s) | sharp alone (/s) | ours / sharp | ours, warm cache (/s) | own reads per thumb, cold | own reads per hit | thumbnail (median) | main-thread delay max |');
    console.log('|---|---|---|---|---|---|---|---|---|');
    for (const r of rows) console.log(r);
    if (wasmRows.length) {
      console.log('\n| format (256 px) | files | per thumbnail | per second | main-thread delay max |');
      console.log('|---|---|---|---|---|');
      for (const r of wasmRows) console.log(r);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
    await closeDecodeThread();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
