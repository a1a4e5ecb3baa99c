import type * as vscode from 'vscode';
import type { GalleryQuery } from '../../core/gallery/order';

export type GalleryItemStatus = 'new' | 'changed' | 'missing' | 'registered' | 'unreadable' | 'unknown';

/** One cell of the grid: what is written under the thumbnail. */
export interface GalleryItem {
  /** Absolute path on disk. */
  path: string;
  /** Relative to the dataset root (POSIX). */
  rel: string;
  name: string;
  size: number | null;
  mtime: number | null;
  width: number | null;
  height: number | null;
  status: GalleryItemStatus;
}

export interface PrepareOptions {
  signal?: AbortSignal;
  /** Reading sizes or dimensions of files the registry does not know: how far. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * What the gallery shows: a count and pages of one ordering per query. The panel knows nothing
 * else of where the images come from; today the adapter reads the extension's model
 * (datasetSource.ts), later the engine's paging can serve the same calls.
 */
export interface GallerySource extends vscode.Disposable {
  readonly title: string;
  /** Folders whose files the webview may load (thumbnails come from the store, see ThumbnailSource). */
  readonly roots: readonly string[];
  /** Fires when the images behind the source changed (watcher, registration, rescan). */
  readonly onDidChange: vscode.Event<void>;
  /** Builds (or reuses) the ordering of the query; resolves to its count. */
  prepare(query: GalleryQuery, options?: PrepareOptions): Promise<number>;
  /** Items [offset, offset + limit) of the query's ordering, with their facts. */
  page(query: GalleryQuery, offset: number, limit: number): Promise<GalleryItem[]>;
  /** Absolute paths [offset, offset + limit) of the ordering (cheap: no facts). */
  paths(query: GalleryQuery, offset: number, limit: number): Promise<string[]>;
  /** What the filters can offer: formats present, folders present. */
  choices(): Promise<{ formats: { format: string; count: number }[]; folders: string[] }>;
  /** Registers these files (absolute paths) through the extension's Register command path. */
  register(paths: readonly string[]): Promise<unknown>;
}

/** A thumbnail file for an image (made on demand and cached by the thumbnail service), never the original. */
export interface ThumbnailSource {
  uriFor(path: string, size: 64 | 256): Promise<vscode.Uri | undefined>;
  /** Folders the thumbnails live in (added to the webview's local resource roots). */
  readonly roots?: readonly string[];
}

/** Until a thumbnail service exists: no thumbnail, the webview shows a placeholder. */
export const NO_THUMBNAILS: ThumbnailSource = { uriFor: () => Promise.resolve(undefined) };
