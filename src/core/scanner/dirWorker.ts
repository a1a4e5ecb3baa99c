/**
 * The scan's worker thread: answers each ListRequest with listFolders (see listFolders.ts), its
 * typed arrays transferred, not copied. Only this entry listens on the port, so importing the
 * protocol never does (a core running inside some other worker thread keeps its own messages).
 */
import { parentPort } from 'node:worker_threads';
import { listFolders, type ListRequest } from './listFolders';

const port = parentPort;
if (port) {
  port.on('message', (req: ListRequest) => {
    const res = listFolders(req);
    const transfer = [res.stamps, res.state, res.counts, res.statCounts, res.symlinks, res.stats].map((a) => a.buffer as ArrayBuffer);
    port.postMessage(res, transfer);
  });
}
