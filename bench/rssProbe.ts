/**
 * Peak RSS of one scanner process, as a CLI session or a fresh extension host would run it:
 *   node rssProbe.js first ROOT STORE   full scan, then quick, then verify (a first session)
 *   node rssProbe.js later ROOT STORE   cold cache load + quick, then verify (a later session)
 * prints {"peakRssMb", "phases"}. The bench process itself runs every phase several times and
 * keeps the heap it grew on the way, so its own peak is reported beside these.
 */
import { scanDataset } from '../src/core';

async function main(): Promise<void> {
  const [session, root, storeDir] = process.argv.slice(2);
  const phases: Record<string, number> = {};
  const note = (phase: string): void => {
    phases[phase] = Math.round(process.resourceUsage().maxRSS / 1024);
  };
  let res = await scanDataset({ root, storeDir, forceRescan: session === 'first', clearCache: session === 'first' });
  note(res.report.mode);
  if (session === 'first') {
    res = await scanDataset({ root, storeDir, cached: res.cache });
    note(res.report.mode);
  }
  res = await scanDataset({ root, storeDir, cached: res.cache, verify: true });
  note(res.report.mode);
  process.stdout.write(`${JSON.stringify({ peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024), phases })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
