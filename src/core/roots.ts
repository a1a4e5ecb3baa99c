import * as fs from 'node:fs';
import * as path from 'node:path';
import fg from 'fast-glob';

/**
 * A dataset is its real folder: a root reached through a symlink and the same folder by its real
 * path share one cache, one set of registry rows and one export. Every entry point of the core
 * canonicalises with this, so every face (CLI, extension) gets it. A path that does not resolve
 * (missing, unreadable) is only made absolute: the scan then says why it cannot be read.
 */
export async function canonicalRoot(root: string): Promise<string> {
  const abs = path.resolve(root);
  try {
    return await fs.promises.realpath(abs);
  } catch {
    return abs;
  }
}

/** canonicalRoot for the sync callers (the cache file name): one realpath per call, never per file. */
export function canonicalRootSync(root: string): string {
  const abs = path.resolve(root);
  try {
    return fs.realpathSync(abs);
  } catch {
    return abs;
  }
}

/**
 * Turns the user's root arguments into real absolute folders (see canonicalRoot: the CLI's default
 * store is named after the root, so it must be the real one too). Plain paths that do not exist
 * pass through (the scan says so, with a clear message); glob patterns such as `data/* /images`
 * are expanded with fast-glob, directories only. Two arguments naming one folder are one root.
 */
export async function resolveRoots(patterns: readonly string[], cwd: string): Promise<string[]> {
  const roots: string[] = [];
  for (const pattern of patterns) {
    if (!fg.isDynamicPattern(pattern)) {
      roots.push(await canonicalRoot(path.resolve(cwd, pattern)));
      continue;
    }
    const matches = await fg([pattern], {
      cwd,
      onlyDirectories: true,
      absolute: true,
      followSymbolicLinks: false,
      suppressErrors: true,
    });
    if (matches.length === 0) throw new Error(`no folder matches ${pattern}`);
    for (const match of matches.sort()) roots.push(await canonicalRoot(match));
  }
  return [...new Set(roots)];
}
