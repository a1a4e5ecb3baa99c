/**
 * Near-duplicate index at scale: N synthetic 64-bit hashes (uniformly random, plus planted pairs
 * and small clusters at distances 0..k from a random centre, plus one blank-image hash repeated).
 *
 *   npm run bench:similar [-- --hashes 1000000 --distance 10 --runs 3 --lookups 1000 --threads N]
 *
 * Measures: index build, all groups at distance k (build included) on one thread and on --threads
 * (default: the cores; the two must agree), one image's neighbours (median
 * and p99 of --lookups queries of planted items), the brute-force scan of one query for
 * comparison, memory (index arrays and RSS). Checks that every planted pair is found.
 * Progress on stderr; markdown on stdout. A bench reports; it never fails on a target.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_SIMILAR_DISTANCE } from '../src/core/similar/defaults';
import { hamming } from '../src/core/similar/hash64';
import { groupsOnThreads } from '../src/core/similar/sliceThreads';
import { HashIndex } from '../src/core/similar/hashIndex';
import { availableParallelism, loadavg } from 'node:os';
import { rng } from './imagesGen';
import { check, gc, log, round, summarise } from './report';

const TARGET = { groupsMs: 10_000, lookupMs: 10 };

function flipBits(r: () => number, hi: number, lo: number, bits: number): [number, number] {
  const chosen = new Set<number>();
  while (chosen.size < bits) chosen.add(Math.floor(r() * 64));
  for (const b of chosen) {
    if (b < 32) hi ^= 1 << b;
    else lo ^= 1 << (b - 32);
  }
  return [hi >>> 0, lo >>> 0];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      hashes: { type: 'string', default: '1000000' },
      distance: { type: 'string', default: String(DEFAULT_SIMILAR_DISTANCE) },
      runs: { type: 'string', default: '3' },
      lookups: { type: 'string', default: '1000' },
      json: { type: 'boolean', default: false },
      threads: { type: 'string', default: String(availableParallelism()) },
    },
  });
  const n = Number(values.hashes);
  const k = Number(values.distance);
  const runs = Number(values.runs);
  const lookups = Number(values.lookups);
  const r = rng(42);
  const hi = new Uint32Array(n);
  const lo = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    hi[i] = Math.floor(r() * 2 ** 32);
    lo[i] = Math.floor(r() * 2 ** 32);
  }
  // Planted: 2 % of the items are near copies of another item (pairs), 0.1 % in clusters of 5,
  // 0.1 % one repeated "blank" hash.
  const planted: [number, number][] = [];
  const pairs = Math.floor(n * 0.01);
  for (let p = 0; p < pairs; p++) {
    const a = Math.floor(r() * n);
    const b = Math.floor(r() * n);
    if (a === b) continue;
    [hi[b], lo[b]] = flipBits(r, hi[a], lo[a], Math.floor(r() * (k + 1)));
    planted.push([a, b]);
  }
  for (let c = 0; c < n * 0.0002; c++) {
    const centre = Math.floor(r() * n);
    for (let j = 0; j < 4; j++) {
      const b = Math.floor(r() * n);
      if (b === centre) continue;
      [hi[b], lo[b]] = flipBits(r, hi[centre], lo[centre], Math.floor(r() * (k + 1)));
      planted.push([centre, b]);
    }
  }
  for (let i = 0; i < n * 0.001; i++) {
    const b = Math.floor(r() * n);
    hi[b] = 0x80000000;
    lo[b] = 0;
  }
  // A later plant may overwrite an earlier one's item: keep only pairs still within k.
  const truth = planted.filter(([a, b]) => hamming(hi[a], lo[a], hi[b], lo[b]) <= k);
  log(`${n} hashes, distance ${k}: ${truth.length} planted pairs within k`);

  const buildMs: number[] = [];
  const groupsMs: number[] = [];
  const groupsOneMs: number[] = [];
  // CPU time of the whole process (worker threads included): what the grouping costs whatever else
  // the machine runs, where wall time on a shared machine is mostly queueing.
  const groupsCpuMs: number[] = [];
  const groupsOneCpuMs: number[] = [];
  const loads: number[] = [];
  const threads = Number(values.threads);
  let index: HashIndex | null = null;
  let groups: number[][] = [];
  let heapBefore = 0;
  for (let run = 0; run < runs; run++) {
    // The last run's index is dropped before this run's is built: only one is measured at a time.
    index = null; // eslint-disable-line no-useless-assignment
    gc();
    heapBefore = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
    const t0 = performance.now();
    index = HashIndex.build(hi, lo, n);
    const t1 = performance.now();
    const c1 = process.cpuUsage();
    groups = index.groups(k);
    const t2 = performance.now();
    const c2 = process.cpuUsage();
    const threaded = await groupsOnThreads(index, k, { threads });
    const t3 = performance.now();
    const c3 = process.cpuUsage();
    const cpuMs = (a: NodeJS.CpuUsage, b: NodeJS.CpuUsage): number => (b.user - a.user + b.system - a.system) / 1000;
    groupsOneCpuMs.push(cpuMs(c1, c2));
    groupsCpuMs.push(cpuMs(c2, c3));
    loads.push(loadavg()[0]);
    check(JSON.stringify(threaded) === JSON.stringify(groups), `the groups found on ${threads} threads differ from one thread's`);
    buildMs.push(t1 - t0);
    groupsOneMs.push(t2 - t1 + (t1 - t0));
    groupsMs.push(t3 - t2 + (t1 - t0));
    log(`  run ${run + 1}: build ${round(t1 - t0)} ms, groups ${round(t2 - t1)} ms on 1 thread, ${round(t3 - t2)} ms on ${threads} (${groups.length} groups)`);
  }
  const idx = index as HashIndex;
  const groupOf = new Int32Array(n).fill(-1);
  groups.forEach((g, gi) => g.forEach((id) => (groupOf[id] = gi)));
  const missed = truth.filter(([a, b]) => groupOf[a] < 0 || groupOf[a] !== groupOf[b]).length;
  check(missed === 0, `${missed} planted pairs not grouped`);

  const lookupMs: number[] = [];
  let lookupMissed = 0;
  for (let q = 0; q < lookups; q++) {
    const [a, b] = truth[Math.floor(r() * truth.length)];
    const t = performance.now();
    const found = idx.neighbours(hi[a], lo[a], k);
    lookupMs.push(performance.now() - t);
    if (!found.some((f) => f.id === b)) lookupMissed++;
  }
  check(lookupMissed === 0, `${lookupMissed} lookups missed their planted neighbour`);
  const scanMs: number[] = [];
  for (let q = 0; q < 20; q++) {
    const a = Math.floor(r() * n);
    const t = performance.now();
    let c = 0;
    for (let i = 0; i < n; i++) if (hamming(hi[a], lo[a], hi[i], lo[i]) <= k) c++;
    scanMs.push(performance.now() - t);
    if (c === 0) log('impossible: an item is not within k of itself');
  }
  const sorted = [...lookupMs].sort((x, y) => x - y);
  const p99 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))];
  const mem = process.memoryUsage();
  const result = {
    hashes: n,
    distance: k,
    distinct: idx.distinct,
    plantedPairs: truth.length,
    missed,
    groups: groups.length,
    groupedItems: groups.reduce((s, g) => s + g.length, 0),
    largestGroup: groups[0]?.length ?? 0,
    buildMs: summarise(buildMs),
    threads,
    groupsMs: summarise(groupsMs),
    groupsOneThreadMs: summarise(groupsOneMs),
    groupsCpuMs: summarise(groupsCpuMs),
    groupsOneThreadCpuMs: summarise(groupsOneCpuMs),
    loadAverage: summarise(loads).median,
    lookupMs: { median: summarise(lookupMs).median, p99 },
    linearScanMs: summarise(scanMs).median,
    indexMb: round(idx.bytes / 2 ** 20),
    inputMb: round((hi.byteLength + lo.byteLength) / 2 ** 20),
    heapGrowthMb: round((mem.heapUsed + mem.arrayBuffers - heapBefore) / 2 ** 20),
    rssMb: round(mem.rss / 2 ** 20),
    maxRssMb: round(process.resourceUsage().maxRSS / 1024),
  };
  check(result.groupsMs.median < TARGET.groupsMs, `all groups took ${round(result.groupsMs.median)} ms (target < ${TARGET.groupsMs})`);
  check(result.lookupMs.median < TARGET.lookupMs, `a lookup took ${round(result.lookupMs.median, 3)} ms (target < ${TARGET.lookupMs})`);
  if (values.json) {
    process.stdout.write(JSON.stringify(result) + '\n');
    return;
  }
  const rows = [
    ['hashes (distinct)', `${n.toLocaleString('en-US')} (${idx.distinct.toLocaleString('en-US')})`, ''],
    ['planted pairs within k / missed', `${truth.length} / ${missed}`, '0 missed'],
    ['build index (median)', `${round(result.buildMs.median)} ms`, ''],
    [`all groups on ${threads} threads, build included (median)`, `${round(result.groupsMs.median)} ms (${groups.length} groups, largest ${result.largestGroup})`, `< ${TARGET.groupsMs} ms`],
    ['all groups on 1 thread, build included (median)', `${round(result.groupsOneThreadMs.median)} ms`, ''],
    [`CPU of the grouping on 1 / ${threads} threads, build excluded (median)`, `${round(result.groupsOneThreadCpuMs.median)} / ${round(result.groupsCpuMs.median)} ms`, ''],
    [`wall on ${threads} idle cores at best (build + CPU ÷ ${threads})`, `${round(result.buildMs.median + result.groupsCpuMs.median / threads)} ms`, `< ${TARGET.groupsMs} ms`],
    ['load average during the runs (median)', `${round(result.loadAverage, 1)}`, ''],
    ['one lookup (median / p99)', `${round(result.lookupMs.median, 3)} / ${round(p99, 3)} ms`, `< ${TARGET.lookupMs} ms`],
    ['one lookup by linear scan (median)', `${round(result.linearScanMs, 2)} ms`, ''],
    ['index arrays / input arrays', `${result.indexMb} MB / ${result.inputMb} MB`, ''],
    ['RSS now / peak', `${result.rssMb} MB / ${result.maxRssMb} MB`, ''],
  ];
  process.stdout.write(['| at distance ' + k + ' | measured | target |', '|---|---:|---:|', ...rows.map((x) => `| ${x.join(' | ')} |`)].join('\n') + '\n');
}

void main();
