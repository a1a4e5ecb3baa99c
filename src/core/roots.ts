import * as path from 'node:path';
import fg from 'fast-glob';

/**
 * Turns the user's root arguments into absolute folders. Plain paths pass through untouched (their
 * existence is checked by the scan, with a clear message); glob patterns such as `data/* /images`
 * are expanded with fast-glob, directories only.
 */
export async function resolveRoots(patterns: readonly string[], cwd: string): Promise<string[]> {
  const roots: string[] = [];
  for (const pattern of patterns) {
    if (!fg.isDynamicPattern(pattern)) {
      roots.push(path.resolve(cwd, pattern));
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
    roots.push(...matches.sort());
  }
  return [...new Set(roots)];
}
