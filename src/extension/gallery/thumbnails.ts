import * as path from 'node:path';
import type { Dataset } from '../model';
import type { ThumbnailService } from '../thumbnails';
import type { ThumbnailSource } from './source';

/**
 * The gallery's thumbnails from the extension's ThumbnailService: the 256-px one for every cell
 * (the webview scales it down; one file per image instead of two), made on demand in the engine
 * worker for the cells in view and cached in the dataset's store — never the original. The panel's
 * signal (pages scrolled far away, a new ordering, the panel closed) drops them from the queue.
 */
export function galleryThumbnails(service: ThumbnailService<unknown>, ds: Dataset): ThumbnailSource {
  return {
    roots: [path.join(ds.storeDir, 'thumbnails')],
    uriFor: async (file, _size, signal) => (await service.preview(file, ds, signal))?.uri,
  };
}
