// npm run bench:tree: what opening the New group of a 1M-image dataset costs the extension host —
// building the group's folder index once, then one page per level (the tree never asks for more).
import { GroupIndex } from '../src/core/engine/groupIndex';

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function main(): void {
  const files = Number(process.argv[process.argv.indexOf('--files') + 1] ?? 0) || 1_000_000;
  const perDir = 100;
  const paths: string[] = [];
  for (let i = 0; i < files; i++) {
    const d = Math.floor(i / perDir);
    paths.push(`top${d % 100}/dir${d}/img_${i}.jpg`);
  }
  const build: number[] = [];
  const page: number[] = [];
  for (let run = 0; run < 5; run++) {
    let t = performance.now();
    const index = new GroupIndex(paths);
    build.push(performance.now() - t);
    t = performance.now();
    // What the tree asks for on the way down to the first images: one level at a time.
    const top = index.childFolders('').slice(0, 200).map((d) => index.total(d));
    const first = index.childFolders('').at(0) ?? '';
    const second = index.childFolders(first).slice(0, 200).map((d) => index.total(d));
    const leaf = index.filesIn(index.childFolders(first).at(0) ?? '').slice(0, 200);
    page.push(performance.now() - t);
    if (top.length + second.length + leaf.length === 0) throw new Error('empty tree');
  }
  const rssMb = process.resourceUsage().maxRSS / 1024;
  const out = { files, folders: files / perDir, buildMs: Math.round(median(build)), firstPagesMs: Number(median(page).toFixed(3)), peakRssMb: Math.round(rssMb) };
  if (process.argv.includes('--json')) console.log(JSON.stringify(out));
  else {
    console.log('| what | median of 5 |\n|---|---|');
    console.log(`| group index of ${files.toLocaleString()} paths in ${(files / perDir).toLocaleString()} folders | ${out.buildMs} ms |`);
    console.log(`| first page of three levels (group → folder → images) | ${out.firstPagesMs} ms |`);
    console.log(`| peak RSS (incl. the 1M path strings) | ${out.peakRssMb} MB |`);
  }
}

main();
