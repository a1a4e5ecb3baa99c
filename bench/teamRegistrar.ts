// One registrar of the team benchmark, as its own process (as on another machine): registers the
// folder into the team registry (url '-': the store's SQLite registry, the peer) and prints its outcome as JSON.
import { registerDataset } from '../src/core';

const [root, store, url, dataset, concurrency] = process.argv.slice(2);
registerDataset({ root, storeDir: store, ...(url === '-' ? {} : { team: { url, dataset } }), registerConcurrency: Number(concurrency) }).then(
  (r) => {
    process.stdout.write(JSON.stringify({ ...r.outcome, scanMs: r.scan.elapsedMs, elapsedMs: r.elapsedMs }) + '\n');
    process.exit(0);
  },
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
