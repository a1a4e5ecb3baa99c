/**
 * One fdir walk in a process of its own, timed inside it: `node peerFdir.js async|sync ROOT`
 * prints {"ms", "files"} of its second, warm walk. Out of the bench process so that its million-path array does not count
 * in the bench's peak RSS, which is meant to be the scanner's.
 */
import { fdir } from 'fdir';

async function main(): Promise<void> {
  const [kind, root] = process.argv.slice(2);
  const walk = async (): Promise<{ ms: number; files: number }> => {
    const t = performance.now();
    const crawler = new fdir().withFullPaths().crawl(root);
    const files = kind === 'sync' ? crawler.sync() : await crawler.withPromise();
    return { ms: performance.now() - t, files: files.length };
  };
  // The second walk is timed: warm, like our scans in the bench process (fair to the peer).
  await walk();
  process.stdout.write(`${JSON.stringify(await walk())}\n`);
}

void main();
