import * as fs from 'node:fs';
import * as path from 'node:path';

const CONCURRENCY = 16;

/** The codes that mean "no such file": anything else (EACCES, EIO, …) is not proof it is gone. */
const GONE = new Set(['ENOENT', 'ENOTDIR']);

/**
 * Of some paths a scan did not see, those really not on disk, in input order. A scan can miss a
 * file that is there (other extensions or excludes than at registration, a folder it could not
 * read): removing such a row would lose a registration, so each candidate is checked by an lstat —
 * one call per candidate, never per file of the dataset. Returns null when `signal` aborts.
 */
export async function goneFiles(root: string, paths: readonly string[], signal?: AbortSignal): Promise<string[] | null> {
  const gone = new Uint8Array(paths.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < paths.length && !signal?.aborted) {
      const i = next++;
      try {
        await fs.promises.lstat(path.join(root, paths[i]));
      } catch (err) {
        if (GONE.has((err as NodeJS.ErrnoException).code ?? '')) gone[i] = 1;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, paths.length) }, worker));
  if (signal?.aborted) return null;
  const out: string[] = [];
  for (let i = 0; i < paths.length; i++) if (gone[i]) out.push(paths[i]);
  return out;
}
