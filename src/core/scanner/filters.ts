import picomatch from 'picomatch';
import type { ScanOptions } from '../types';
import { imageNameTest } from './imageNames';

export interface EntryFilter {
  /** Is this file name an image by its extension (case-insensitive)? */
  isImageName(name: string): boolean;
  /** Is this directory (relative POSIX path) excluded, with everything below it? */
  isExcludedDir(relPath: string): boolean;
  /** Is this file (relative POSIX path) excluded? Constant false when no pattern can match a file. */
  isExcludedFile(relPath: string): boolean;
  /** False when no pattern can match a single file: then no file needs testing. */
  readonly excludesFiles: boolean;
}

/**
 * Patterns such as `** /node_modules/**` name whole directories; they are tested once per directory.
 * Only the rest can match single files, and only those cost a test per file.
 */
function namesDirectoryOnly(pattern: string): boolean {
  return pattern.endsWith('/**');
}

export function buildFilter(options: ScanOptions): EntryFilter {
  const matchOpts: picomatch.PicomatchOptions = { dot: true };
  const dirMatch = options.exclude.length ? picomatch([...options.exclude], matchOpts) : null;
  const filePatterns = options.exclude.filter((p) => !namesDirectoryOnly(p));
  const fileMatch = filePatterns.length ? picomatch(filePatterns, matchOpts) : null;

  return {
    isImageName: imageNameTest(options.extensions),
    isExcludedDir: dirMatch ? (rel) => rel !== '' && dirMatch(rel) : () => false,
    isExcludedFile: fileMatch ? (rel) => fileMatch(rel) : () => false,
    excludesFiles: fileMatch !== null,
  };
}
