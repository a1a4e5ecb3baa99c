import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * One rule for every row of an external registry, absolute or relative: what file under the
 * root it names, or null when it names none (outside the root, another host's URI).
 *
 * - `file://` URIs are decoded (percent escapes included) to the absolute path they name.
 * - `.`, `..`, repeated and trailing slashes are resolved lexically, as `path.posix.normalize`.
 * - Backslashes are separators only where a row cannot be a POSIX path: on Windows, or when the
 *   row has no `/` at all (written by a Windows tool). On Linux `a\b.png` may be a real name.
 * - Absolute rows count when under the root as given or under its real path (the pipeline may
 *   have recorded either side of a symlink).
 * - Relative rows are relative to the root. Case is kept: Linux file systems are case-sensitive.
 */
export type PathRule = (raw: string) => string | null;

function toPosix(p: string): string {
  return p.split(path.sep).join('/');
}

function realRoot(root: string): string {
  try {
    return fs.realpathSync.native(root);
  } catch {
    return root; // A root that does not exist yet fails in the scan, with its own message.
  }
}

function stripTrailing(p: string): string {
  return p.length > 1 ? p.replace(/\/+$/, '') || '/' : p;
}

export function externalPathRule(root: string, platform: NodeJS.Platform = process.platform): PathRule {
  const abs = path.resolve(root);
  const bases = [...new Set([abs, realRoot(abs)].map((r) => stripTrailing(toPosix(r))))];
  return (raw: string): string | null => {
    let p = raw;
    if (/^file:/i.test(p)) {
      try {
        p = toPosix(fileURLToPath(p));
      } catch {
        return null; // A URI of another host, or not a file URI at all.
      }
    }
    if (platform === 'win32' || !p.includes('/')) p = p.replace(/\\/g, '/');
    if (p.startsWith('/') || path.isAbsolute(p)) {
      const n = stripTrailing(path.posix.normalize(p));
      for (const base of bases) {
        if (n === base) return '';
        const prefix = base === '/' ? '/' : `${base}/`;
        if (n.startsWith(prefix)) return n.slice(prefix.length);
      }
      return null;
    }
    const n = stripTrailing(path.posix.normalize(p));
    if (n === '..' || n.startsWith('../')) return null;
    return n === '.' ? '' : n;
  };
}

/** How rows are matched, said with every report of rows that match nothing. */
export function pathRuleText(root: string): string {
  return `paths are taken relative to ${root}; absolute paths must be under ${root} or its real path`;
}
