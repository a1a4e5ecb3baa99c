// The near-duplicate groups thread's entry (groupsThread.ts): one request, one answer, then ended.
import { parentPort } from 'node:worker_threads';
import { HashIndex } from './hashIndex';
import type { GroupsRequest, GroupsResponse } from './groupsThread';

const port = parentPort;
if (!port) throw new Error('similarGroupsWorker runs as a worker thread');

port.on('message', (req: GroupsRequest) => {
  let res: GroupsResponse;
  try {
    const groups = HashIndex.build(req.hi, req.lo, req.count).groups(req.distance);
    const starts = new Uint32Array(groups.length + 1);
    for (let g = 0; g < groups.length; g++) starts[g + 1] = starts[g] + groups[g].length;
    const ids = new Uint32Array(starts[groups.length]);
    for (let g = 0; g < groups.length; g++) ids.set(groups[g], starts[g]);
    res = { ok: true, ids, starts };
    port.postMessage(res, [ids.buffer, starts.buffer]);
  } catch (err) {
    res = { ok: false, message: err instanceof Error ? err.message : String(err) };
    port.postMessage(res);
  }
});
