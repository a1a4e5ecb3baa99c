import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { tryOsLock } from './osLock';

/** A write that failed, named by the file the user knows (not the temp file) and a plain cause. */
export class FileWriteError extends Error {
  constructor(
    readonly file: string,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const CAUSES: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'its folder does not exist',
  ENOTDIR: 'a part of its path is not a folder',
  ENAMETOOLONG: 'file name too long',
  EISDIR: 'it is a folder',
  EIO: 'input/output error',
  ELOOP: 'too many symbolic links',
  EXDEV: 'temp file and target on different file systems',
};

export function errnoCode(err: unknown): string {
  return (err as NodeJS.ErrnoException | undefined)?.code ?? 'EUNKNOWN';
}

/** "ENOSPC (no space left on device)", or the error's message when it has no known code. */
export function describeCause(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code) return CAUSES[code] ? `${code} (${CAUSES[code]})` : code;
  return err instanceof Error ? err.message : String(err);
}

export function writeError(file: string, err: unknown): FileWriteError {
  if (err instanceof FileWriteError) return err;
  return new FileWriteError(file, errnoCode(err), `cannot write ${file}: ${describeCause(err)}`);
}

/** Where writing `target` must go: through symbolic links (also dangling ones) to the real file. */
async function resolveTarget(target: string): Promise<string> {
  let p = path.resolve(target);
  for (let hops = 0; hops < 40; hops++) {
    let st: fs.Stats;
    try {
      st = await fs.promises.lstat(p);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return p;
      throw err;
    }
    if (!st.isSymbolicLink()) {
      if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
      return p;
    }
    p = path.resolve(path.dirname(p), await fs.promises.readlink(p));
  }
  throw Object.assign(new Error('too many symbolic links'), { code: 'ELOOP' });
}

const TEMP_SUFFIX = '.tmp';
export const randomTempPart = (): string => randomBytes(12).toString('hex');

/** `.<name>.<24 hex>.tmp`, and `.<name>.<pid>.<8 hex>.tmp` of versions before 0.2. */
function tempNamePattern(name: RegExp | string): RegExp {
  const body = typeof name === 'string' ? name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : name.source;
  return new RegExp(`^\\.(${body})\\.(?:[0-9a-f]{24}|\\d+\\.[0-9a-f]{8})\\.tmp$`);
}

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_RDONLY, O_NONBLOCK } = fs.constants;

/** A temp file beside its target, to be renamed over it (`commit`) or removed (`abort`). */
export interface AtomicFile {
  readonly target: string;
  readonly handle: fs.promises.FileHandle;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

/**
 * Opens a temp file beside `target` for an atomic replace. Its name is unpredictable and it is
 * created with `O_EXCL | O_NOFOLLOW`, so a file or link planted in the folder is never followed
 * or reused; it gets the mode (and, as root, the owner) of the file it replaces; a symlinked
 * target is written through to the file it points to. While open it holds an OS lock, by which a
 * later run tells a live writer's temp file from one a killed writer left behind.
 */
export async function openAtomic(target: string, randomPart: () => string = randomTempPart, options: CheapWrite = {}): Promise<AtomicFile> {
  const durable = options.durable ?? true;
  let real: string;
  let existing: fs.Stats | null;
  try {
    real = await resolveTarget(target);
    existing = await fs.promises.stat(real).catch((err: unknown) => {
      if (errnoCode(err) === 'ENOENT') return null;
      throw err;
    });
  } catch (err) {
    throw writeError(target, err);
  }
  const dir = path.dirname(real);
  const mode = existing ? existing.mode & 0o7777 : 0o644;
  let handle: fs.promises.FileHandle | undefined;
  let tmp = '';
  for (let tries = 0; !handle; tries++) {
    tmp = path.join(dir, `.${path.basename(real)}.${randomPart()}${TEMP_SUFFIX}`);
    try {
      handle = await fs.promises.open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST' || tries >= 8) throw writeError(target, err);
    }
  }
  const fh = handle;
  try {
    if (existing) {
      await fh.chmod(mode); // the umask must not change the mode of the file replaced
      if (process.getuid?.() === 0 && (existing.uid !== 0 || existing.gid !== 0)) await fh.chown(existing.uid, existing.gid).catch(() => undefined);
    }
    if (options.osLock ?? true) tryOsLock(fh.fd);
  } catch (err) {
    await fh.close().catch(() => undefined);
    await fs.promises.rm(tmp, { force: true });
    throw writeError(target, err);
  }
  let done = false;
  const file: AtomicFile = {
    target: real,
    handle: fh,
    async commit(): Promise<void> {
      try {
        if (durable) await fh.sync();
        // Renamed while still open, so the OS lock covers the temp file until it is the target.
        await fs.promises.rename(tmp, real);
        done = true;
        if (durable) await syncDirectory(dir);
      } catch (err) {
        await file.abort();
        throw writeError(target, err);
      } finally {
        await fh.close().catch(() => undefined);
      }
    },
    async abort(): Promise<void> {
      await fh.close().catch(() => undefined);
      if (!done) await fs.promises.rm(tmp, { force: true }).catch(() => undefined);
      done = true;
    },
  };
  return file;
}

/**
 * For files that can be made again and are checked when read (thumbnails): `durable: false` skips
 * both fsyncs (~80 ms on a busy disk; after a power loss the file may be empty or short), `osLock:
 * false` skips the OS lock on the temp file (a `flock(1)` child, started synchronously: tens of ms
 * of a loaded machine's main thread). Readers still never see a partial file. Such temp files are
 * not told from a killed writer's by a lock: whoever cleans them up goes by their age.
 */
export interface CheapWrite {
  durable?: boolean;
  osLock?: boolean;
}

/**
 * Replaces `target` with `data` so that a crash at any moment leaves either the old file or the new
 * one, never a mix: write a temp file beside it, fsync it, rename it over, fsync the directory.
 * Errors are FileWriteError, naming `target` and the cause; the temp file is removed.
 */
export async function writeFileAtomic(target: string, data: Uint8Array, options: CheapWrite = {}): Promise<void> {
  const file = await openAtomic(target, randomTempPart, options);
  try {
    await file.handle.writeFile(data);
  } catch (err) {
    await file.abort();
    throw writeError(target, err);
  }
  await file.commit();
}

async function syncDirectory(dir: string): Promise<void> {
  let handle: fs.promises.FileHandle | undefined;
  try {
    handle = await fs.promises.open(dir, 'r');
    await handle.sync();
  } catch {
    // Some platforms and file systems (Windows, some network mounts) cannot fsync a directory.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

export interface TempCleanup {
  removed: number;
  bytes: number;
}

/** Without an OS lock to ask, a temp file untouched this long is taken as a dead writer's. */
const UNLOCKED_TEMP_MAX_AGE_MS = 3_600_000;

/**
 * Removes the temp files that writers of `name` (a file name, or a pattern of names) left in `dir`
 * when they were killed mid-save. Only names this tool gives its temp files, only regular files,
 * and only those no live process holds: a live writer holds an OS lock on its temp file.
 */
export async function removeStaleTempFiles(dir: string, name: RegExp | string): Promise<TempCleanup> {
  const pattern = tempNamePattern(name);
  const out: TempCleanup = { removed: 0, bytes: 0 };
  let entries: string[];
  try {
    entries = await fs.promises.readdir(dir);
  } catch {
    return out;
  }
  for (const entry of entries) {
    if (!pattern.test(entry)) continue;
    const file = path.join(dir, entry);
    let fd: number | undefined;
    try {
      fd = fs.openSync(file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
      const st = fs.fstatSync(fd);
      if (!st.isFile()) continue;
      const os = tryOsLock(fd);
      const dead = os === 'locked' || (os === 'unsupported' && Date.now() - st.mtimeMs > UNLOCKED_TEMP_MAX_AGE_MS);
      if (!dead) continue;
      fs.unlinkSync(file);
      out.removed++;
      out.bytes += st.size;
    } catch {
      // Gone meanwhile, or not ours to judge: leave it.
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  }
  return out;
}
