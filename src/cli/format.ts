import type { RegisterReport, ScanReport, StatusCounts, StatusReport } from '../core';

export const num = (x: number): string => x.toLocaleString('en-US');
const n = num;

export const plural = (count: number, noun: string): string => `${n(count)} ${noun}${count === 1 ? '' : 's'}`;

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

function countsJson(c: StatusCounts): Record<string, unknown> {
  return {
    new: c.new,
    changed: c.changed,
    missing: c.missing,
    registered: c.registered,
    unreadable: c.unreadable,
    unreadableToRetry: c.unreadableToRetry,
    duplicateGroups: c.duplicateGroups,
    duplicateFiles: c.duplicateFiles,
    external: c.external,
    changedSource: c.changedSource,
  };
}

export function statusReportJson(s: StatusReport & { duplicates?: { hash: string; paths: string[] }[] }): Record<string, unknown> {
  return {
    root: s.root,
    ...countsJson(s),
    cacheAgeMs: s.cacheAgeMs === null ? null : Math.round(s.cacheAgeMs),
    scan: s.scan ? { mode: s.scan.mode, reason: s.scan.reason, files: s.scan.files, elapsedMs: Math.round(s.scan.elapsedMs), errors: s.scan.errors.length } : null,
    duplicates: (s.duplicates ?? []).slice(0, 100),
    registryFile: s.registryFile,
    ...(s.externalRegistry ? { externalRegistry: s.externalRegistry } : {}),
    notices: s.notices,
  };
}

export function statusReportText(s: StatusReport): string {
  return [
    `${s.root}:`,
    `  new ${n(s.new)} · changed ${n(s.changed)} · missing ${n(s.missing)} · registered ${n(s.registered)} · unreadable ${n(s.unreadable)}` +
      (s.unreadableToRetry ? ` (${n(s.unreadableToRetry)} to retry: their cause can pass)` : '') +
      ` · duplicate groups ${n(s.duplicateGroups)}` +
      (s.duplicateGroups ? ` (${n(s.duplicateFiles)} files)` : '') +
      (s.external ? ` · in external registry ${n(s.external)}` : ''),
    `  changed figure from: ${s.changedSource}`,
    `  scan: ${s.scan ? `${s.scan.mode} (${s.scan.reason}) in ${duration(s.scan.elapsedMs)}` : 'not run (--no-scan)'}; cache age before: ${age(s.cacheAgeMs)}`,
    `  registry: ${s.registryFile}`,
  ].join('\n');
}

export function registerReportJson(r: RegisterReport): Record<string, unknown> {
  const secs = r.elapsedMs / 1000;
  return {
    root: r.root,
    scanMode: r.scan.mode,
    before: countsJson(r.before),
    toRegister: r.toRegister,
    registered: r.outcome.registered,
    unreadable: r.outcome.unreadable,
    moved: r.outcome.moved,
    bytes: r.outcome.bytes,
    saves: r.outcome.saves,
    cancelled: r.outcome.cancelled,
    elapsedMs: Math.round(r.elapsedMs),
    filesPerSec: secs > 0 ? Math.round((r.outcome.registered + r.outcome.unreadable + r.outcome.moved) / secs) : 0,
    unreadableSamples: r.outcome.unreadableSamples,
    registryFile: r.registryFile,
    ...(r.externalRegistry ? { externalRegistry: r.externalRegistry } : {}),
    notices: r.notices,
  };
}

export function registerReportText(r: RegisterReport): string {
  const lines = [
    `${r.root}: ${r.scan.mode} scan, then ${n(r.toRegister)} to register (${n(r.before.new)} new, ${n(r.before.changed)} changed)` +
      (r.outcome.cancelled ? ' — CANCELLED, progress saved' : ''),
    `  registered ${n(r.outcome.registered)} · unreadable ${n(r.outcome.unreadable)} · moved ${n(r.outcome.moved)} · ` +
      `${(r.outcome.bytes / 1e6).toFixed(1)} MB read in ${duration(r.elapsedMs)} · ${plural(r.outcome.saves, 'save')}`,
  ];
  const shown = r.outcome.unreadableSamples.slice(0, 10);
  for (const u of shown) lines.push(`    unreadable ${JSON.stringify(u.path)}: ${u.reason}`);
  if (r.outcome.unreadable > shown.length) {
    lines.push(`    … and ${n(r.outcome.unreadable - shown.length)} more (\`dataset-index list --status unreadable --jsonl\` lists them all)`);
  }
  lines.push(`  registry: ${r.registryFile}`);
  return lines.join('\n');
}
