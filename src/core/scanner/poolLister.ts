import * as path from 'node:path';
import type { Dirent, Stats } from 'node:fs';
import type { DirRecord, DirStamp } from '../types';
import { ABORTED, type FsPool } from './fsPool';
import {
  errorCode, errorMessage, forEachLimited, type FileFailure, type FolderLister, type FolderResult, type ListContext,
  type Listing, type Visit,
} from './folderResult';
import { STAT_FIELDS, unknownFileStats } from './fileStats';
import { isUnknownType } from './listFolders';
import { sameStamp, stampOf } from './stamp';

/**
 * Lists folders by pooled calls, one folder at a time with bounded concurrency: the path for an
 * injected file system (tests freeze a stamp or inject an error at that boundary). It answers as
 * the worker threads do, so the walk cannot tell them apart.
 */
export class PoolLister implements FolderLister {
  constructor(
    private readonly pool: FsPool,
    private readonly ctx: ListContext,
  ) {}

  listAll(visits: Visit[], onResult: (visit: Visit, result: FolderResult, readStart: bigint) => void): Promise<boolean> {
    return forEachLimited(visits, this.ctx.concurrency, this.ctx.signal, async (v) => {
      const rec = v.rec ?? this.ctx.snapshot.get(v.rel);
      if (!rec) return;
      const readStart = this.ctx.now();
      onResult(v, await this.folder(v.rel, rec), readStart);
    });
  }

  private async folder(rel: string, rec: DirRecord): Promise<FolderResult> {
    const abs = this.ctx.abs(rel);
    let stamp: DirStamp;
    try {
      stamp = stampOf(await this.pool.statDir(abs));
    } catch (err) {
      if (err === ABORTED) throw err;
      return { stamp: err as NodeJS.ErrnoException };
    }
    const result: FolderResult = { stamp };
    let files = rec.files;
    if (!sameStamp(this.ctx.expectedStamp(rec), stamp)) {
      try {
        const issues: NonNullable<FolderResult['issues']> = [];
        const listing = await this.classify(abs, await this.pool.readdir(abs), issues);
        if (issues.length) result.issues = issues;
        result.listing = listing;
        files = listing.files;
      } catch (err) {
        if (err === ABORTED) throw err;
        result.listing = err as NodeJS.ErrnoException;
        return result;
      }
    }
    if (this.ctx.verify) {
      const stats = unknownFileStats(files.length);
      const failures: FileFailure[] = [];
      await forEachLimited(files, this.ctx.concurrency, this.ctx.signal, async (name, i) => {
        try {
          const st = await this.pool.stat(path.join(abs, name));
          stats.set([st.size, st.mtimeMs, st.ino], i * STAT_FIELDS);
        } catch (err) {
          if (err === ABORTED) throw err;
          failures.push([i, errorCode(err), errorMessage(err)]);
        }
      });
      result.stats = stats;
      if (failures.length) result.fileFailures = failures;
    }
    return result;
  }

  /** Splits a listing into image files and subfolders; stats only what readdir cannot type. */
  private async classify(abs: string, entries: Dirent[], issues: NonNullable<FolderResult['issues']>): Promise<Listing> {
    const { filter, options } = this.ctx;
    const listing: Listing = { files: [], subdirs: [] };
    let symlinks = 0;
    const untyped = entries.filter((entry) => {
      if (entry.isDirectory()) listing.subdirs.push(entry.name);
      else if (entry.isFile()) {
        if (filter.isImageName(entry.name)) listing.files.push(entry.name);
      } else if (entry.isSymbolicLink() && !options.followSymlinks) {
        if (filter.isImageName(entry.name)) symlinks++;
      } else return entry.isSymbolicLink() || isUnknownType(entry);
      return false;
    });
    if (symlinks) listing.symlinks = symlinks;
    await Promise.all(
      untyped.map(async (entry) => {
        const name = entry.name;
        const link = entry.isSymbolicLink();
        let st: Stats;
        try {
          st = link ? await this.pool.stat(path.join(abs, name)) : await this.pool.lstat(path.join(abs, name));
        } catch (err) {
          if (err === ABORTED) throw err;
          const code = errorCode(err);
          if (link && code === 'ENOENT') issues.push([name, code, 'broken symbolic link']);
          else if (code !== 'ENOENT') issues.push([name, code, errorMessage(err)]);
          return;
        }
        if (st.isDirectory()) {
          listing.subdirs.push(name);
          if (link) (listing.links ??= []).push([name, `${st.dev}:${st.ino}`]);
        } else if (st.isFile() && filter.isImageName(name)) {
          listing.files.push(name);
        } else if (st.isSymbolicLink() && filter.isImageName(name)) {
          listing.symlinks = (listing.symlinks ?? 0) + 1; // untyped by readdir, a link by lstat
        }
      }),
    );
    return listing;
  }
}
