import type { RegisterReport, ScanIssue, ScanReport, SimilarityOutcome, StatusCounts, StatusReport } from '../core';

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

/** Issues listed in a `--json` report; the rest are counted (`issuesOmitted`). */
export const JSON_ISSUE_LIMIT = 1000;
/** Issues listed in human output. */
const TEXT_ISSUE_LIMIT = 20;

/**
 * The problem fields every `--json` report has: how many (`errors`), the first of them
 * (`issues`), how many more, and the image symlinks left out.
 */
function problemsJson(errors: readonly ScanIssue[], skippedSymlinks: number): Record<string, unknown> {
  return {
    errors: errors.length,
    issues: errors.slice(0, JSON_ISSUE_LIMIT),
    issuesOmitted: Math.max(0, errors.length - JSON_ISSUE_LIMIT),
    skippedSymlinks,
  };
}

/** The problem lines of every human report (nothing when there are none). */
function problemLines(errors: readonly ScanIssue[], skippedSymlinks: number): string[] {
  const lines: string[] = [];
  if (errors.length) {
    lines.push(`  ${plural(errors.length, 'problem')}:`);
    for (const e of errors.slice(0, TEXT_ISSUE_LIMIT)) lines.push(`    ${e.code} ${JSON.stringify(e.path || '.')}: ${e.message}`);
    if (errors.length > TEXT_ISSUE_LIMIT) lines.push(`    … and ${n(errors.length - TEXT_ISSUE_LIMIT)} more (use --json for all)`);
  }
  if (skippedSymlinks) lines.push(`  ${plural(skippedSymlinks, 'symlinked image')} not followed; --follow-symlinks follows them`);
  return lines;
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
    ...problemsJson(r.errors, r.skippedSymlinks),
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
  lines.push(...problemLines(r.errors, r.skippedSymlinks));
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
    ...problemsJson(s.errors, s.skippedSymlinks),
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
    ...problemLines(s.errors, s.skippedSymlinks),
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
    ...problemsJson(r.scan.errors, r.scan.skippedSymlinks),
    registered: r.outcome.registered,
    unreadable: r.outcome.unreadable,
    moved: r.outcome.moved,
    bytes: r.outcome.bytes,
    saves: r.outcome.saves,
    cancelled: r.outcome.cancelled,
    elapsedMs: Math.round(r.elapsedMs),
    filesPerSec: secs > 0 ? Math.round((r.outcome.registered + r.outcome.unreadable + r.outcome.moved) / secs) : 0,
    unreadableSamples: r.outcome.unreadableSamples,
    ...(r.outcome.similarity ? { similar: similarJson(r.outcome.similarity) } : {}),
    registryFile: r.registryFile,
    ...(r.externalRegistry ? { externalRegistry: r.externalRegistry } : {}),
    notices: r.notices,
  };
}

/** `similar` in register's --json: the perceptual hashes computed and the near-duplicates met. */
function similarJson(s: SimilarityOutcome): Record<string, unknown> {
  return { state: s.state, distance: s.distance, hashed: s.hashed, notHashed: s.notHashed, images: s.similarImages, samples: s.samples };
}

function similarLines(s: SimilarityOutcome): string[] {
  if (s.state !== 'on') return [`  perceptual hashes: ${s.state}`];
  const lines = [
    `  perceptual hashes: ${n(s.hashed)} computed` + (s.notHashed ? ` (${n(s.notHashed)} images not decodable by sharp: no hash)` : '') +
      ` · ${plural(s.similarImages, 'image')} similar to registered images (distance ≤ ${s.distance})`,
  ];
  for (const x of s.samples.slice(0, 5)) {
    lines.push(`    ${JSON.stringify(x.path)} similar to ${plural(x.similarTo, 'registered image')}, e.g. ${JSON.stringify(x.nearest[0].path)} (distance ${x.nearest[0].distance})`);
  }
  if (s.similarImages > 5) lines.push(`    … and ${n(s.similarImages - 5)} more (\`dataset-index similar <folder>\` lists the groups)`);
  return lines;
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
  if (r.outcome.similarity && r.toRegister > 0) lines.push(...similarLines(r.outcome.similarity));
  lines.push(...problemLines(r.scan.errors, r.scan.skippedSymlinks));
  lines.push(`  registry: ${r.registryFile}`);
  return lines.join('\n');
}
