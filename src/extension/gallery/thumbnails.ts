import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Dataset } from '../model';
import type { ThumbnailService } from '../thumbnails';
import type { ThumbnailSource } from './source';

/**
 * The gallery's thumbnails from the extension's ThumbnailService: the 256-px one for every cell
 * (the webview scales it down; one file per image instead of two), made on demand for the cells
 * in view and cached in the dataset's store — never the original. A cell that leaves the view
 * aborts its request: the service's queue drops it before it is decoded.
 */
export function galleryThumbnails(service: ThumbnailService<unknown>, ds: Dataset): ThumbnailSource {
  return {
    roots: [path.join(ds.storeDir, 'thumbnails')],
    uriFor: async (file, _size, signal) => {
      if (!signal) return (await service.preview(file, ds))?.uri;
      if (signal.aborted) return undefined;
      const cancel = new vscode.CancellationTokenSource();
      const onAbort = (): void => cancel.cancel();
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        return (await service.preview(file, ds, cancel.token))?.uri;
      } finally {
        signal.removeEventListener('abort', onAbort);
        cancel.dispose();
      }
    },
  };
}
