import type * as vscode from 'vscode';
import type { GalleryPageItem, GalleryChoices } from '../../core/engine/galleryView';
import type { GalleryQuery } from '../../core/gallery/order';

export type { GalleryItemStatus } from '../../core/engine/galleryView';

/** One cell of the grid: the engine's page item with its absolute path on disk. */
export interface GalleryItem extends GalleryPageItem {
  /** Absolute path on disk. */
  path: string;
}

export interface PrepareOptions {
  signal?: AbortSignal;
  /** Reading sizes or dimensions of files the registry does not know: how far. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * What the gallery shows: a count and pages of one ordering per query. The panel knows nothing
 * else of where the images come from; the adapter (datasetSource.ts) asks the engine
 * worker for them.
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
  page(query: GalleryQuery, offset: number, limit: number, signal?: AbortSignal): Promise<GalleryItem[]>;
  /** Absolute paths [offset, offset + limit) of the ordering (cheap: no facts). */
  paths(query: GalleryQuery, offset: number, limit: number): Promise<string[]>;
  /** What the filters can offer: formats present, folders present. */
  choices(): Promise<GalleryChoices>;
  /** Registers these files (absolute paths) through the extension's Register command path. */
  register(paths: readonly string[]): Promise<unknown>;
}

/** A thumbnail file for an image (made on demand and cached by the thumbnail service), never the original. */
export interface ThumbnailSource {
  /** Undefined: no thumbnail for this file, or `signal` aborted (the cell left the view) before it was made. */
  uriFor(path: string, size: 64 | 256, signal?: AbortSignal): Promise<vscode.Uri | undefined>;
  /** Folders the thumbnails live in (added to the webview's local resource roots). */
  readonly roots?: readonly string[];
}

/** Until a thumbnail service exists: no thumbnail, the webview shows a placeholder. */
export const NO_THUMBNAILS: ThumbnailSource = { uriFor: () => Promise.resolve(undefined) };
