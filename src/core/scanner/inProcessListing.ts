import type { ScanFileSystem } from './fileSystem';
import { listFolders, type ListRequest, type ListResponse } from './listFolders';
import type { ListingThreads } from './folderLister';

/**
 * The listing threads' stand-in for a test's injected file system (a function cannot cross to a
 * worker thread): the same listFolders, run on this thread with that file system. One folder per
 * macrotask, so timers and I/O (a checkpoint's save, a test's abort) go on between folders as
 * they do while the threads work.
 */
export class InProcessListing implements ListingThreads {
  readonly size = Number.POSITIVE_INFINITY;
  readonly batchFolders = 1;
  private nextId = 1;

  constructor(private readonly fileSystem: ScanFileSystem) {}

  list(req: Omit<ListRequest, 'id'>): Promise<ListResponse> {
    const id = this.nextId++;
    return new Promise<ListResponse>((resolve, reject) => {
      setImmediate(() => {
        try {
          resolve(listFolders({ ...req, id }, this.fileSystem));
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
    });
  }
}
