import * as path from 'node:path';
import type { Dataset } from '../model';
import type { ThumbnailService } from '../thumbnails';
import type { ThumbnailSource } from './source';

/**
 * The gallery's thumbnails from the extension's ThumbnailService: the 256-px one for every cell
 * (the webview scales it down; one file per image instead of two), made on demand for the cells
 * in view, in the engine worker, and cached in the dataset's store — never the original. A cell that
 * leaves the view aborts its request: the engine's queue drops it before it is decoded.
 */
export function galleryThumbnails(service: ThumbnailService<unknown>, ds: Dataset): ThumbnailSource {
  return {
    roots: [path.join(ds.storeDir, 'thumbnails')],
    uriFor: async (file, _size, signal) => (await service.preview(file, ds, signal))?.uri,
  };
}
