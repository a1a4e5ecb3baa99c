/**
 * Preloaded into a CLI process by the list bench (`node -r out/bench/rssOnExit.js dist/cli.js …`):
 * at exit, writes the process's peak RSS in MB to the file named by BENCH_RSS_FILE. A child's
 * rusage is not reported by spawn, and GNU time is not on every machine.
 */
import * as fs from 'node:fs';

const file = process.env.BENCH_RSS_FILE;
if (file) process.on('exit', () => fs.writeFileSync(file, String(Math.round(process.resourceUsage().maxRSS / 1024))));
