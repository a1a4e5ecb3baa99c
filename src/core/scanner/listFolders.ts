/**
 * What the scan's threads do (dirWorker.ts runs it there): for a batch of folders, stat each one,
 * list those whose stamp is not the expected one, keep image files by extension, and in verify
 * mode stat the files. Also the message protocol between the walk and the threads. The one
 * implementation: a test's injected file system runs it on the main thread (inProcessListing.ts).
 *
 * Why threads with sync calls: an async fs call costs a thread-pool round trip, a promise and a
 * Stats or Dirent object on the main thread (measured here: 15–50 µs of CPU each, and a million
 * Dirents to collect); statSync/readdirSync on a worker cost 5–10 µs, run beside the main thread,
 * and only the image names cross back, as one string per batch. The extension host's event loop
 * never waits on the disk.
 */
import type * as fs from 'node:fs';
import { sep } from 'node:path';
import { errorCode, errorMessage } from './folderResult';
import { nodeFileSystem, type ScanFileSystem } from './fileSystem';
import { imageNameTest } from './imageNames';

export interface ListRequest {
  id: number;
  /** Absolute folder paths. */
  paths: string[];
  /** Expected stamp per folder: mtimeNs, ctimeNs, ino, dev. */
  expect: BigInt64Array;
  /** 1 where `expect` holds a stamp: a folder whose stamp equals it is not listed. 0: always listed. */
  expectMask: Uint8Array;
  /** Lower-case extensions without the dot. */
  extensions: string[];
  followSymlinks: boolean;
  /**
   * Verify mode: per folder, the NUL-joined file names to stat when the folder is not listed
   * (a listed folder's image files are stat'd instead). Null: no file stats.
   */
  verifyNames: string[] | null;
  /**
   * Devices whose directory entries come without types (DT_UNKNOWN: FUSE file systems, sshfs,
   * some NFS and SMB servers), as far as this process has seen: there `readdirSync(dir, {
   * withFileTypes: true })` silently lstat's every entry itself — a round trip per file on a
   * network mount — so their folders are listed by name and only names that are not images are
   * stat'ed. Learnt from the answers (ListResponse.untypedDevices), shared by every thread.
   */
  untypedDevices: bigint[];
  /**
   * Shared with the scan: set to 1 when it is cancelled. Checked before each folder and every 1,024
   * file stats, so a verify of one folder of a million files stops within milliseconds.
   */
  cancel?: Int32Array;
}

/** Per-folder outcome in ListResponse.state. */
export const FOLDER_UNCHANGED = 0;
export const FOLDER_LISTED = 1;
export const FOLDER_STAT_FAILED = 2;
export const FOLDER_LIST_FAILED = 3;
/** Not done: the scan was cancelled first. Its names and stats, if any, are to be skipped. */
export const FOLDER_CANCELLED = 4;

export type FolderError = [folder: number, code: string, message: string];
export type EntryIssue = [folder: number, name: string, code: string, message: string];
export type FileError = [folder: number, file: number, code: string, message: string];
/** A followed symbolic link to a folder, with the dev:ino it points to (for loop detection). */
export type FolderLink = [folder: number, name: string, key: string];

export interface ListResponse {
  id: number;
  /** mtimeNs, ctimeNs, ino, dev per folder. */
  stamps: BigInt64Array;
  state: Uint8Array;
  /** Image files and walkable subfolders per listed folder. */
  counts: Uint32Array;
  /** NUL-joined: for each listed folder, its image files, then its subfolders. */
  names: string;
  /** Files stat'd per folder (verify). */
  statCounts: Uint32Array;
  /**
   * Per listed folder, its image-named entries that are symbolic links, not followed (symlinks
   * not followed): a count, not names, so a scan can say what it left out at no cost per file.
   */
  symlinks: Uint32Array;
  /** [size, mtimeMs, ino] per stat'd file, folder after folder; NaN size where the stat failed. */
  stats: Float64Array;
  errors: FolderError[];
  entryIssues: EntryIssue[];
  fileErrors: FileError[];
  links: FolderLink[];
  readdirCalls: number;
  statCalls: number;
  /** Devices found to give no entry types in this batch (see ListRequest.untypedDevices). */
  untypedDevices: bigint[];
}

/** Node types an untyped entry by an lstat of its own, and says so by the class it returns. */
function typedByNode(entries: readonly fs.Dirent[]): number {
  let n = 0;
  for (const e of entries) if (e.constructor.name === 'DirentFromStats') n++;
  return n;
}

/** A directory entry readdir could not type (some network file systems), to be stat'ed. */
function isUnknownType(entry: fs.Dirent): boolean {
  return !(entry.isFIFO() || entry.isSocket() || entry.isBlockDevice() || entry.isCharacterDevice());
}

/**
 * Names that are not valid UTF-8 come out of readdir with U+FFFD in place of the bad bytes, and
 * that string names no file: a stat of it fails, and each verify scan would drop the file and the
 * next listing add it back. Such names are found (a second, raw listing, only when a U+FFFD shows
 * up) and left out with a reason instead.
 */
function undecodableNames(fsys: ScanFileSystem, dir: string, entries: readonly { name: string }[], res: ListResponse): Set<string> | null {
  if (!entries.some((e) => e.name.includes('\uFFFD'))) return null;
  const bad = new Set<string>();
  try {
    res.readdirCalls++; // a second listing: counted like the first
    for (const raw of fsys.readdirRaw(dir)) {
      const name = raw.toString('utf8');
      if (!Buffer.from(name, 'utf8').equals(raw)) bad.add(name);
    }
  } catch {
    return null;
  }
  return bad;
}

/**
 * A folder of an untyped device, listed by name: image names are taken for files, the other names
 * are left untyped for the caller to stat — they may be folders. An image-named folder is found by
 * the folder's link count (see listFolders). What this cannot tell without a stat per file: an
 * image-named symbolic link counts as a file.
 */
function namesOnly(fsys: ScanFileSystem, dir: string, isImage: (name: string) => boolean): Entry[] {
  return fsys.readdirNames(dir).map((name) => ({ name, kind: isImage(name) ? 'file' : 'unknown' }));
}

/** What a listing says of an entry; `unknown` is to be stat'ed. */
interface Entry {
  name: string;
  kind: 'dir' | 'file' | 'link' | 'unknown' | 'special';
}

function entryOf(d: fs.Dirent): Entry {
  const kind = d.isDirectory() ? 'dir' : d.isFile() ? 'file' : d.isSymbolicLink() ? 'link' : isUnknownType(d) ? 'unknown' : 'special';
  return { name: d.name, kind };
}

export function listFolders(req: ListRequest, fsys: ScanFileSystem = nodeFileSystem): ListResponse {
  const n = req.paths.length;
  const isImage = imageNameTest(req.extensions);
  const stamps = new BigInt64Array(n * 4);
  const state = new Uint8Array(n);
  const counts = new Uint32Array(n * 2);
  const statCounts = new Uint32Array(n);
  const symlinks = new Uint32Array(n);
  const parts: string[] = [];
  const stats: number[] = [];
  const res: ListResponse = {
    id: req.id, stamps, state, counts, names: '', statCounts, symlinks, stats: new Float64Array(0),
    errors: [], entryIssues: [], fileErrors: [], links: [], readdirCalls: 0, statCalls: 0, untypedDevices: [],
  };
  const untypedDevices = new Set(req.untypedDevices);

  const cancel = req.cancel;
  const cancelled = (): boolean => cancel !== undefined && Atomics.load(cancel, 0) !== 0;
  for (let i = 0; i < n; i++) {
    if (cancelled()) {
      state.fill(FOLDER_CANCELLED, i);
      break;
    }
    const dir = req.paths[i];
    let st: fs.BigIntStats;
    try {
      res.statCalls++;
      st = fsys.stat(dir);
    } catch (err) {
      state[i] = FOLDER_STAT_FAILED;
      res.errors.push([i, errorCode(err), errorMessage(err)]);
      continue;
    }
    if (!st.isDirectory()) {
      state[i] = FOLDER_STAT_FAILED;
      res.errors.push([i, 'ENOTDIR', 'not a directory']);
      continue;
    }
    const s = i * 4;
    stamps[s] = st.mtimeNs;
    stamps[s + 1] = st.ctimeNs;
    stamps[s + 2] = st.ino;
    stamps[s + 3] = st.dev;
    const e = req.expect;
    const unchanged =
      req.expectMask[i] === 1 && e[s] === st.mtimeNs && e[s + 1] === st.ctimeNs && e[s + 2] === st.ino && e[s + 3] === st.dev;

    let files: string[];
    if (unchanged) {
      state[i] = FOLDER_UNCHANGED;
      if (!req.verifyNames) continue;
      const joined = req.verifyNames[i];
      files = joined === '' ? [] : joined.split('\0');
    } else {
      let entries: Entry[];
      const byName = untypedDevices.has(st.dev);
      try {
        res.readdirCalls++;
        if (byName) entries = namesOnly(fsys, dir, isImage);
        else {
          const dirents = fsys.readdir(dir);
          // Node stat'ed the entries it could not type: those calls were made, so they count; when
          // none came typed, this device's folders are listed by name from now on.
          const hidden = typedByNode(dirents);
          res.statCalls += hidden;
          if (hidden > 0 && hidden === dirents.length && !untypedDevices.has(st.dev)) {
            untypedDevices.add(st.dev);
            res.untypedDevices.push(st.dev);
          }
          entries = dirents.map(entryOf);
        }
      } catch (err) {
        state[i] = FOLDER_LIST_FAILED;
        res.errors.push([i, errorCode(err), errorMessage(err)]);
        continue;
      }
      state[i] = FOLDER_LISTED;
      files = [];
      const subdirs: string[] = [];
      let realDirs = 0n;
      // Listed by name, links not followed: the link count (2 + subfolders, where the file system
      // keeps one; btrfs says 1) tells how many names are folders; once that many are found, the
      // names left are files (as find's leaf optimisation). A leaf folder stats no name at all.
      const folders = byName && !req.followSymlinks && st.nlink >= 2n ? st.nlink - 2n : -1n;
      const undecodable = undecodableNames(fsys, dir, entries, res);
      for (const entry of entries) {
        const name = entry.name;
        if (undecodable?.has(name)) {
          res.entryIssues.push([i, name, 'EILSEQ', 'the name is not valid UTF-8 and cannot be addressed; left out (rename it to include it)']);
          continue;
        }
        if (entry.kind === 'dir') {
          subdirs.push(name);
          realDirs++;
        } else if (entry.kind === 'file') {
          if (isImage(name)) files.push(name);
        } else if (entry.kind === 'link' && !req.followSymlinks) {
          if (isImage(name)) symlinks[i]++;
        } else if (entry.kind === 'unknown' && realDirs === folders) {
          continue; // every folder is found: a file, and its name is not an image's
        } else if (entry.kind === 'link' || entry.kind === 'unknown') {
          // A type readdir could not give (some network file systems), or a link to follow.
          const link = entry.kind === 'link';
          let target: fs.BigIntStats;
          try {
            res.statCalls++;
            target = link ? fsys.stat(dir + sep + name) : fsys.lstat(dir + sep + name);
          } catch (err) {
            const code = errorCode(err);
            if (link && code === 'ENOENT') res.entryIssues.push([i, name, code, 'broken symbolic link']);
            else if (code !== 'ENOENT') res.entryIssues.push([i, name, code, errorMessage(err)]);
            continue;
          }
          if (target.isDirectory()) {
            subdirs.push(name);
            if (link) res.links.push([i, name, `${target.dev}:${target.ino}`]);
            else realDirs++;
          } else if (target.isFile() && isImage(name)) {
            files.push(name);
          } else if (target.isSymbolicLink() && isImage(name)) {
            symlinks[i]++; // an untyped entry that lstat shows to be a link (not followed)
          }
        }
      }
      // Listed by name, image names were taken for files. A folder's link count is 2 plus its
      // subfolders (where the file system keeps it): when that is more than the folders found, an
      // image-named entry is a folder, and those names are looked at one by one.
      if (byName && st.nlink !== 2n + realDirs && files.length > 0) {
        const named = files;
        files = [];
        for (const name of named) {
          let target: fs.BigIntStats;
          try {
            res.statCalls++;
            target = fsys.lstat(dir + sep + name);
            if (target.isSymbolicLink() && req.followSymlinks) {
              res.statCalls++;
              const to = fsys.stat(dir + sep + name);
              if (to.isDirectory()) {
                subdirs.push(name);
                res.links.push([i, name, `${to.dev}:${to.ino}`]);
              } else if (to.isFile()) files.push(name);
              continue;
            }
          } catch (err) {
            if (errorCode(err) !== 'ENOENT') res.entryIssues.push([i, name, errorCode(err), errorMessage(err)]);
            continue;
          }
          if (target.isDirectory()) subdirs.push(name);
          else if (target.isFile()) files.push(name);
          else if (target.isSymbolicLink()) symlinks[i]++;
        }
      }
      counts[i * 2] = files.length;
      counts[i * 2 + 1] = subdirs.length;
      for (const f of files) parts.push(f);
      for (const d of subdirs) parts.push(d);
      if (!req.verifyNames) continue;
    }

    let f = 0;
    for (; f < files.length; f++) {
      if ((f & 1023) === 1023 && cancelled()) break;
      try {
        res.statCalls++;
        const fst = fsys.statFile(dir + sep + files[f]);
        stats.push(fst.size, fst.mtimeMs, fst.ino);
      } catch (err) {
        stats.push(NaN, NaN, NaN);
        res.fileErrors.push([i, f, errorCode(err), errorMessage(err)]);
      }
    }
    statCounts[i] = f;
    if (f < files.length) {
      state.fill(FOLDER_CANCELLED, i);
      break;
    }
  }
  res.names = parts.join('\0');
  res.stats = Float64Array.from(stats);
  return res;
}
