/**
 * One fdir walk in a process of its own, timed inside it: `node peerFdir.js async|sync ROOT [WALKS]`
 * prints {"ms", "files"} of its last walk (default 2: the second, warm walk, fair to our scans,
 * which run warm in the bench process; 1 on a network mount whose caches are off). Out of the
 * bench process so that its million-path array does not count in the bench's peak RSS, which is
 * meant to be the scanner's.
 */
import { fdir } from 'fdir';

async function main(): Promise<void> {
  const [kind, root, walks = '2'] = process.argv.slice(2);
  const walk = async (): Promise<{ ms: number; files: number }> => {
    const t = performance.now();
    const crawler = new fdir().withFullPaths().crawl(root);
    const files = kind === 'sync' ? crawler.sync() : await crawler.withPromise();
    return { ms: performance.now() - t, files: files.length };
  };
  let last = await walk();
  for (let i = 1; i < Number(walks); i++) last = await walk();
  process.stdout.write(`${JSON.stringify(last)}\n`);
}

void main();
