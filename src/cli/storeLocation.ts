import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { canonicalRootSync } from '../core/roots';

/** The user's cache directory: $XDG_CACHE_HOME, else ~/.cache (Linux/macOS), else %LOCALAPPDATA%. */
export function userCacheDir(): string {
  if (process.env.XDG_CACHE_HOME) return process.env.XDG_CACHE_HOME;
  if (process.platform === 'win32' && process.env.LOCALAPPDATA) return process.env.LOCALAPPDATA;
  return path.join(os.homedir(), '.cache');
}

/** The start of a name, at most `bytes` long in UTF-8, never cutting a character in two. */
function leadingBytes(name: string, bytes: number): string {
  let out = '';
  for (const ch of name) {
    if (Buffer.byteLength(out + ch) > bytes) break;
    out += ch;
  }
  return out;
}

/** Keeps store names far below the usual 255-byte limit on a name, whatever the folder is called. */
const MAX_STORE_BASE_BYTES = 64;

/**
 * One store per dataset folder, named so a person can tell which is which: `<basename>-<hash>`,
 * the base name cut to 64 bytes (the hash of the whole path keeps cut names apart).
 */
export function defaultStoreFor(root: string): string {
  // The real folder's store, whichever symlinked path names it (roots come canonical already; this
  // keeps any other caller right too).
  const abs = canonicalRootSync(root);
  const id = createHash('sha256').update(abs).digest('hex').slice(0, 10);
  const base = leadingBytes(path.basename(abs).replace(/[^\w.-]+/g, '_'), MAX_STORE_BASE_BYTES) || 'root';
  return path.join(userCacheDir(), 'dataset-index', `${base}-${id}`);
}
