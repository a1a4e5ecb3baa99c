// One registrar of the team benchmark, as its own process (as on another machine): registers the
// folder into the team registry (url '-': the store's SQLite registry, the peer) and prints its outcome as JSON.
import { registerDataset } from '../src/core';

const [root, store, url, dataset, concurrency] = process.argv.slice(2);
registerDataset({ root, storeDir: store, ...(url === '-' ? {} : { team: { url, dataset } }), registerConcurrency: Number(concurrency) }).then(
  (r) => {
    // The whole process's CPU (main thread, libuv pool, sharp's threads): what bounds the rate on a few cores.
    const cpu = process.cpuUsage();
    process.stdout.write(JSON.stringify({ ...r.outcome, scanMs: r.scan.elapsedMs, elapsedMs: r.elapsedMs, cpuMs: (cpu.user + cpu.system) / 1000 }) + '\n');
    process.exit(0);
  },
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
