/**
 * Messages between the gallery panel (extension host) and its webview (media/gallery/gallery.js).
 * Every answer about the ordering carries the `generation` it was computed for: the webview drops
 * answers of an older one (a sort or filter changed, or the dataset did, while it was on its way).
 */
import type { GalleryQuery } from '../../core/gallery/order';
import type { GalleryItemStatus } from './source';

/** A cell as the webview draws it. */
export interface CellData {
  path: string;
  name: string;
  /** "1920 × 1080 · 2.3 MB" */
  caption: string;
  status: GalleryItemStatus;
  thumb?: string;
}

/** The selection: explicit paths, or everything but some paths (after Ctrl/Cmd+A). */
export interface SelectionData {
  all: boolean;
  /** Selected paths, or with `all` the paths deselected since. */
  paths: string[];
}

export type GalleryAction = 'register' | 'reveal' | 'copy' | 'open';

export type HostMessage =
  | {
      type: 'init';
      title: string;
      sideBySide: boolean;
      query: GalleryQuery;
      canRegister: boolean;
    }
  /** What the filters offer; sent after the count, so the first cells do not wait for it. */
  | { type: 'choices'; formats: { format: string; count: number }[]; folders: string[] }
  | { type: 'count'; generation: number; count: number }
  | { type: 'busy'; message: string | null }
  | { type: 'page'; generation: number; offset: number; items: CellData[] }
  /** `uri` null: the file has no thumbnail (format, unreadable); the webview keeps its placeholder. */
  | { type: 'thumb'; path: string; uri: string | null }
  | { type: 'paths'; id: number; generation: number; paths: string[] }
  | { type: 'error'; message: string };

export type WebviewMessage =
  | { type: 'ready' }
  | { type: 'query'; query: GalleryQuery }
  /**
   * What the settled view wants, whole: blocks of `limit` items to fetch (`pages`, offsets) and those
   * on their way that are still in view (`keepPages`); thumbnails likewise (absolute paths). The host
   * cancels whatever it is doing for this panel that is in neither list, so it only works on what is
   * in view.
   */
  | { type: 'view'; generation: number; limit: number; pages: number[]; keepPages: number[]; thumbs: string[]; keepThumbs: string[]; thumbSize: 64 | 256 }
  | { type: 'paths'; id: number; generation: number; offset: number; limit: number }
  | { type: 'open'; path: string }
  | { type: 'action'; action: GalleryAction; generation: number; selection: SelectionData };
