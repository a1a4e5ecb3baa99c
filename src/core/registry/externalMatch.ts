import type { Snapshot } from '../types';
import type { ExternalPaths } from './external';
import { pathRuleText } from './externalPathRule';

/** What an external registry contributed to a status or register run, for reports and JSON. */
export interface ExternalSummary {
  file: string;
  /** Non-null rows read. */
  rows: number;
  /** Distinct paths under the root after the path rule. */
  paths: number;
  /** Of those, naming an image on disk (registered here or not). */
  matched: number;
  /** Of those, naming no image on disk. */
  unmatched: number;
  /** Rows outside the root (ignored). */
  outside: number;
  /** Committed frames taken from its write-ahead log. */
  walFrames: number;
  /** Up to five unmatched paths, as compared (relative to the root). */
  examples: string[];
}

const EXAMPLES = 5;

/**
 * Unmatched paths found by looking each external path up in its folder's file set, built only
 * for the folders those paths name and only until enough examples are found. Set-based: no
 * query and no scan per path.
 */
export function unmatchedExamples(external: ReadonlySet<string>, snapshot: Snapshot, limit = EXAMPLES): string[] {
  const folders = new Map<string, Set<string>>();
  const out: string[] = [];
  for (const p of external) {
    const slash = p.lastIndexOf('/');
    const dir = slash < 0 ? '' : p.slice(0, slash);
    let names = folders.get(dir);
    if (!names) {
      names = new Set(snapshot.get(dir)?.files ?? []);
      folders.set(dir, names);
    }
    if (!names.has(p.slice(slash + 1))) {
      out.push(p);
      if (out.length >= limit) break;
    }
  }
  return out;
}

export function summarizeExternal(file: string, ext: ExternalPaths, matched: number, snapshot: Snapshot): ExternalSummary {
  const unmatched = ext.paths.size - matched;
  return {
    file,
    rows: ext.rows,
    paths: ext.paths.size,
    matched,
    unmatched,
    outside: ext.outside,
    walFrames: ext.walFrames,
    examples: unmatched > 0 ? unmatchedExamples(ext.paths, snapshot) : [],
  };
}

/** The notices a run prints about the external registry: rows outside the root, rows matching nothing. */
export function externalNotices(s: ExternalSummary, root: string): string[] {
  const notices: string[] = [];
  if (s.outside) notices.push(`${s.outside} of ${s.rows} rows in ${s.file} are outside ${root} and were ignored`);
  if (s.unmatched) {
    const eg = s.examples.map((e) => JSON.stringify(e)).join(', ');
    notices.push(`${s.unmatched} of ${s.paths} paths in ${s.file} matched no image under ${root}, e.g. ${eg} (${pathRuleText(root)})`);
  }
  return notices;
}
