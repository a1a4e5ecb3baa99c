import type { ScanReport } from '../core';

const n = (x: number): string => x.toLocaleString('en-US');

function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(2)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function age(ms: number | null): string {
  if (ms === null) return 'none';
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

/** The `--json` object: field names are part of the CLI's contract (see README). */
export function scanReportJson(r: ScanReport): Record<string, unknown> {
  return {
    root: r.root,
    mode: r.mode,
    reason: r.reason,
    files: r.files,
    dirs: r.dirs,
    dirsRead: r.dirsRead,
    added: r.added.count,
    removed: r.removed.count,
    modified: r.modified.count,
    errors: r.errors.length,
    elapsedMs: Math.round(r.elapsedMs),
    cacheLoadMs: Math.round(r.cacheLoadMs),
    cacheSaveMs: Math.round(r.cacheSaveMs),
    cacheBytes: r.cacheBytes,
    fsOps: r.fsOps,
    cacheAgeMs: r.cacheAgeMs === null ? null : Math.round(r.cacheAgeMs),
    cancelled: r.cancelled,
    checkpoints: r.checkpoints,
    cacheFile: r.cacheFile,
    samples: { added: r.added.sample, removed: r.removed.sample, modified: r.modified.sample },
    issues: r.errors,
  };
}

export function scanReportText(r: ScanReport): string {
  const lines = [
    `${r.root}: ${r.mode} scan (${r.reason})${r.cancelled ? ' — CANCELLED, checkpoint saved' : ''} in ${duration(r.elapsedMs)}`,
    `  ${n(r.files)} images in ${n(r.dirs)} folders; ${n(r.dirsRead)} folders read`,
    `  changes: +${n(r.added.count)} added, -${n(r.removed.count)} removed, ~${n(r.modified.count)} modified` +
      (r.mode === 'verify' ? '' : ' (in-place edits are found by verify scans)'),
    `  fs calls: ${n(r.fsOps.readdir)} readdir, ${n(r.fsOps.stat)} stat; cache loaded in ${duration(r.cacheLoadMs)}, ` +
      `saved in ${duration(r.cacheSaveMs)} (${n(r.cacheBytes)} bytes); cache age before scan: ${age(r.cacheAgeMs)}`,
  ];
  if (r.errors.length) {
    lines.push(`  ${n(r.errors.length)} problem(s):`);
    for (const e of r.errors.slice(0, 20)) lines.push(`    ${e.code} ${JSON.stringify(e.path || '.')}: ${e.message}`);
    if (r.errors.length > 20) lines.push(`    … and ${n(r.errors.length - 20)} more (use --json for all)`);
  }
  return lines.join('\n');
}
