import * as path from 'node:path';
import type { SimilarReport, SimilarToReport } from '../core';
import { num, plural } from './format';
import { ListWriter } from './listOutput';

/** Groups listed in human output; --json has them all. */
const TEXT_GROUPS = 20;

/** The `similar --json` object (one per folder): field names are part of the CLI's contract (README). */
export function similarReportJson(r: SimilarReport): Record<string, unknown> {
  return {
    root: r.root,
    algorithm: r.algorithm,
    distance: r.distance,
    hashed: r.hashed,
    unhashed: r.unhashed,
    notRegistered: r.notRegistered,
    missingLeftOut: r.missingLeftOut,
    groups: r.groups.length,
    files: r.groups.reduce((s, g) => s + g.paths.length, 0),
    elapsedMs: Math.round(r.elapsedMs),
    list: r.groups.map((g) => ({ files: g.paths.length, paths: g.paths.map((p) => path.join(r.root, p)), hashes: g.hashes })),
    registryFile: r.registryFile,
    notices: r.notices,
  };
}

export function similarReportText(r: SimilarReport): string {
  const files = r.groups.reduce((s, g) => s + g.paths.length, 0);
  const lines = [
    `${r.root}: ${plural(r.groups.length, 'group')} of similar images (${num(files)} files; ${r.algorithm}, distance ≤ ${r.distance}) among ${plural(r.hashed, 'hashed image')}` +
      (r.unhashed ? ` · ${num(r.unhashed)} registered without a hash` : '') + (r.notRegistered ? ` · ${num(r.notRegistered)} not registered yet` : ''),
  ];
  for (const [i, g] of r.groups.slice(0, TEXT_GROUPS).entries()) {
    lines.push(`  group ${i + 1} (${g.paths.length} files):`);
    for (const p of g.paths.slice(0, 10)) lines.push(`    ${path.join(r.root, p)}`);
    if (g.paths.length > 10) lines.push(`    … and ${num(g.paths.length - 10)} more`);
  }
  if (r.groups.length > TEXT_GROUPS) lines.push(`  … and ${plural(r.groups.length - TEXT_GROUPS, 'more group')} (--json lists them all)`);
  return lines.join('\n');
}

/** `list --similar-to`: one registered image per line, nearest first (or JSON Lines with hash and distance). */
export async function writeSimilarTo(writer: ListWriter, r: SimilarToReport, jsonl: boolean): Promise<void> {
  for (const m of r.matches) {
    if (jsonl) writer.raw(`${JSON.stringify({ path: m.path, abs_path: path.join(r.root, m.path), hash: m.hash, distance: m.distance })}\n`);
    else writer.image(m.path, 'registered');
    await writer.flush();
  }
  await writer.flush(true);
}
