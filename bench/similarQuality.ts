/**
 * Near-duplicate quality on real images: recall per transformation and false positives among
 * distinct pictures, for dHash and pHash, at every Hamming distance k.
 *
 *   npm run bench:similar-quality [-- --kmax 16] [--json-file out.json]
 *
 * The set (bench/similarSet.ts) is built once and cached. Every file is hashed as registration
 * hashes it (perceptualHash: sharp, shrink-on-load, 9×8 or 32×32 grayscale). Positives: a base and
 * each of its copies. Negatives: every pair of two different bases, and every pair of files (bases
 * and copies) of two different bases. stdout: markdown tables; progress on stderr.
 */
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { hamming, toHex, type Hash64 } from '../src/core/similar/hash64';
import { perceptualHash, PERCEPTUAL_ALGORITHMS, type PerceptualAlgorithm } from '../src/core/similar/perceptualHash';
import { DEFAULT_SIMILAR_DISTANCE, PERCEPTUAL_ALGORITHM } from '../src/core/similar/defaults';
import { log, round, summarise } from './report';
import { ensureQualitySet, TRANSFORMS, type QualitySet } from './similarSet';

const TARGET_RECALL = 0.95;
const TARGET_FP = 0.005;

interface AlgoResult {
  algorithm: PerceptualAlgorithm;
  msPerImage: number;
  /** transform → distances of (base, copy) */
  positives: Record<string, number[]>;
  baseNegatives: number[];
  allNegatives: Uint8Array;
  rows: { k: number; recall: Record<string, number>; fpBases: number; fpAll: number; fpBasesCount: number; fpAllCount: number }[];
}

async function hashAll(set: QualitySet, algorithm: PerceptualAlgorithm, concurrency: number): Promise<{ hashes: Hash64[]; ms: number[] }> {
  const hashes = new Array<Hash64>(set.files.length);
  const ms: number[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < set.files.length) {
      const i = next++;
      const t = performance.now();
      hashes[i] = await perceptualHash(set.files[i].file, algorithm);
      ms.push(performance.now() - t);
    }
  }));
  return { hashes, ms };
}

function evaluate(set: QualitySet, algorithm: PerceptualAlgorithm, hashes: Hash64[], ms: number[], kmax: number): AlgoResult {
  const baseFile = new Map<number, number>();
  set.files.forEach((f, i) => f.transform === null && baseFile.set(f.base, i));
  const positives: Record<string, number[]> = {};
  for (const t of TRANSFORMS) positives[t.name] = [];
  set.files.forEach((f, i) => {
    if (f.transform === null) return;
    const b = hashes[baseFile.get(f.base) as number];
    positives[f.transform].push(hamming(b.hi, b.lo, hashes[i].hi, hashes[i].lo));
  });
  const bases = [...baseFile.values()];
  const baseNegatives: number[] = [];
  for (let i = 0; i < bases.length; i++) {
    for (let j = i + 1; j < bases.length; j++) {
      const a = hashes[bases[i]];
      const b = hashes[bases[j]];
      baseNegatives.push(hamming(a.hi, a.lo, b.hi, b.lo));
    }
  }
  const all: number[] = [];
  for (let i = 0; i < set.files.length; i++) {
    for (let j = i + 1; j < set.files.length; j++) {
      if (set.files[i].base === set.files[j].base) continue;
      all.push(hamming(hashes[i].hi, hashes[i].lo, hashes[j].hi, hashes[j].lo));
    }
  }
  const allNegatives = Uint8Array.from(all);
  const share = (xs: ArrayLike<number>, k: number): [number, number] => {
    let c = 0;
    for (let i = 0; i < xs.length; i++) if (xs[i] <= k) c++;
    return [c / xs.length, c];
  };
  const rows: AlgoResult['rows'] = [];
  for (let k = 0; k <= kmax; k++) {
    const recall: Record<string, number> = {};
    for (const t of TRANSFORMS) recall[t.name] = share(positives[t.name], k)[0];
    const [fpBases, fpBasesCount] = share(baseNegatives, k);
    const [fpAll, fpAllCount] = share(allNegatives, k);
    rows.push({ k, recall, fpBases, fpAll, fpBasesCount, fpAllCount });
  }
  return { algorithm, msPerImage: summarise(ms).median, positives, baseNegatives, allNegatives, rows };
}

const pct = (x: number): string => `${round(x * 100, x < 0.01 ? 2 : 1)}%`;

function table(r: AlgoResult, ks: readonly number[]): string {
  const head = ['k', ...TRANSFORMS.map((t) => t.name + (t.targeted ? '' : ' ¹')), 'FP distinct bases', 'FP all cross pairs'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? '---:' : '---:')).join('|')}|`];
  for (const k of ks) {
    const row = r.rows[k];
    lines.push(`| ${[k, ...TRANSFORMS.map((t) => pct(row.recall[t.name])), `${pct(row.fpBases)} (${row.fpBasesCount})`, `${pct(row.fpAll)} (${row.fpAllCount})`].join(' | ')} |`);
  }
  return lines.join('\n');
}

/** Smallest k meeting the recall target on every targeted transform, largest k under the FP target. */
function window(r: AlgoResult): { kMin: number | null; kMax: number | null } {
  const targeted = TRANSFORMS.filter((t) => t.targeted);
  const kMin = r.rows.find((row) => targeted.every((t) => row.recall[t.name] >= TARGET_RECALL))?.k ?? null;
  const under = r.rows.filter((row) => row.fpBases < TARGET_FP && row.fpAll < TARGET_FP);
  return { kMin, kMax: under.length ? under[under.length - 1].k : null };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { kmax: { type: 'string', default: '16' }, 'json-file': { type: 'string' }, concurrency: { type: 'string', default: '4' } } });
  const kmax = Number(values.kmax);
  const set = await ensureQualitySet(log);
  const bases = set.files.filter((f) => f.transform === null).length;
  log(`quality set ${set.dir}: ${bases} bases, ${set.files.length} files (${set.reused ? 'reused' : `made with ${set.tool}`})`);
  const results: AlgoResult[] = [];
  for (const algorithm of PERCEPTUAL_ALGORITHMS) {
    const { hashes, ms } = await hashAll(set, algorithm, Number(values.concurrency));
    results.push(evaluate(set, algorithm, hashes, ms, kmax));
    if (algorithm === PERCEPTUAL_ALGORITHM) {
      // The closest pairs of different bases: look at them to be sure the bases are different pictures.
      const baseIdx = set.files.map((f, i) => (f.transform === null ? i : -1)).filter((i) => i >= 0);
      const close: [number, number, number][] = [];
      for (let i = 0; i < baseIdx.length; i++) {
        for (let j = i + 1; j < baseIdx.length; j++) {
          const a = hashes[baseIdx[i]];
          const b = hashes[baseIdx[j]];
          close.push([hamming(a.hi, a.lo, b.hi, b.lo), i, j]);
        }
      }
      close.sort((a, b) => a[0] - b[0]);
      log(`closest distinct bases (${algorithm}):`);
      for (const [d, i, j] of close.slice(0, 8)) log(`  ${d}: ${set.bases[i].source} ~ ${set.bases[j].source} (${toHex(hashes[baseIdx[i]])} ${toHex(hashes[baseIdx[j]])})`);
    }
  }
  const out: string[] = [];
  out.push(`Set: ${bases} distinct pictures (${set.files.length} files with copies); transformations made with ${set.tool.replace(/^Version: /, '')}.`);
  out.push(`Negatives: ${results[0].baseNegatives.length} pairs of distinct bases; ${results[0].allNegatives.length} pairs of files of different bases.`);
  out.push('¹ not in the ≥ 95 % recall target.');
  for (const r of results) {
    const w = window(r);
    out.push('', `### ${r.algorithm} (${round(r.msPerImage, 2)} ms per image, median, decode + hash)`, '');
    out.push(`Recall ≥ 95 % on every targeted transformation from k = ${w.kMin ?? 'never'}; false positives < 0.5 % up to k = ${w.kMax ?? 'none'}.`, '');
    out.push(table(r, r.rows.map((row) => row.k)));
  }
  out.push('', `Registration stores ${PERCEPTUAL_ALGORITHM}; the default distance is ${DEFAULT_SIMILAR_DISTANCE}.`);
  process.stdout.write(out.join('\n') + '\n');
  if (values['json-file']) {
    fs.writeFileSync(values['json-file'], JSON.stringify({
      bases, files: set.files.length, tool: set.tool,
      results: results.map((r) => ({ algorithm: r.algorithm, msPerImage: r.msPerImage, window: window(r), rows: r.rows })),
    }, null, 1));
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exitCode = 1;
});
