import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';

/** The user's cache directory: $XDG_CACHE_HOME, else ~/.cache (Linux/macOS), else %LOCALAPPDATA%. */
export function userCacheDir(): string {
  if (process.env.XDG_CACHE_HOME) return process.env.XDG_CACHE_HOME;
  if (process.platform === 'win32' && process.env.LOCALAPPDATA) return process.env.LOCALAPPDATA;
  return path.join(os.homedir(), '.cache');
}

/** One store per dataset folder, named so a person can tell which is which: `<basename>-<hash>`. */
export function defaultStoreFor(root: string): string {
  const abs = path.resolve(root);
  const id = createHash('sha256').update(abs).digest('hex').slice(0, 10);
  const base = path.basename(abs).replace(/[^\w.-]+/g, '_') || 'root';
  return path.join(userCacheDir(), 'dataset-index', `${base}-${id}`);
}
