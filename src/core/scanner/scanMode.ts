import type { ScanMode } from '../types';
import type { CachedScan } from '../cache/store';

/** How far ahead of this clock a recorded time may be (another machine's clock) before it is distrusted. */
const CLOCK_SLACK_MS = 5 * 60_000;

export interface ModeRequest {
  readonly forceRescan?: boolean;
  readonly verify?: boolean;
  readonly clearCache?: boolean;
  /** Older than this since the last full or verify scan → the next scan verifies. */
  readonly maxAgeMs: number;
}

export interface ModeChoice {
  mode: ScanMode;
  /** Why (e.g. "cache older than 24 h", "no scan cache yet"). */
  reason: string;
  /** When the files were last verified (0: never, or a time ahead of this clock). */
  validatedAt: number;
  /** Age of the cache (since its last complete scan); null when there was none. */
  cacheAgeMs: number | null;
}

function ageLabel(ms: number): string {
  return ms >= 3_600_000 ? `${(ms / 3_600_000).toFixed(1)} h` : `${Math.round(ms / 60_000)} min`;
}

/**
 * The cheapest safe mode for a scan, from its cache (null: none, for `missReason`): full without
 * one or when forced, resume after an interrupted scan, verify when asked or when the files were
 * last verified longer ago than the max age, else quick.
 */
export function chooseScanMode(cached: CachedScan | null, missReason: string, req: ModeRequest, wallNow: number): ModeChoice {
  const header = cached?.header;
  const cacheAgeMs = header && header.scannedAt ? wallNow - header.scannedAt : null;
  // A verify time ahead of this clock (a clock set back, a crafted file) must not postpone the
  // next verify for good: it counts as never verified.
  const futureVerify = !!header && header.verifiedAt > wallNow + CLOCK_SLACK_MS;
  const validatedAt = header && !futureVerify ? header.verifiedAt : 0;
  const choose = (mode: ScanMode, reason: string): ModeChoice => ({ mode, reason, validatedAt, cacheAgeMs });
  if (!header) return choose('full', req.clearCache ? 'cache cleared' : missReason);
  if (req.forceRescan) return choose('full', 'forced rescan');
  // A verify reads every folder that is not known to be current, as a resume does, and more.
  if (!header.complete && req.verify) return choose('verify', 'verify requested; it also finishes the interrupted scan');
  if (!header.complete) return choose('resume', 'resuming an interrupted scan from its checkpoint');
  if (req.verify) return choose('verify', 'verify requested');
  if (futureVerify) return choose('verify', `the last verify is dated ${new Date(header.verifiedAt).toISOString()}, ahead of this clock`);
  if (wallNow - validatedAt > req.maxAgeMs) {
    return choose('verify', `files last verified ${ageLabel(wallNow - validatedAt)} ago, max age ${ageLabel(req.maxAgeMs)}`);
  }
  return choose('quick', 'valid cache');
}
