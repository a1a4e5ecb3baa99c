/*
 * The near-duplicate groups' threads, two entries in one file (one bundle, one path to find):
 * - started with a GroupSliceJob as workerData, one of groupsOnThreads' slice threads: it takes
 *   (band, bucket slice) units from the shared counter and returns its union-find;
 * - started without, groupsInThread's thread: one request (the hashes), it builds the index, groups
 *   them on slice threads of its own, answers, and is ended.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { flatten, HashIndex, uniteBandSlice, type BandTable } from './hashIndex';
import { groupsOnThreads } from './sliceThreads';
import type { GroupsRequest, GroupsResponse } from './groupsThread';

/** What each slice thread gets (the tables and the counter are shared memory). */
export interface GroupSliceJob {
  bands: readonly BandTable[];
  radii: readonly number[];
  k: number;
  distinct: number;
  /** The next unit to take: band × slices + slice. */
  next: Int32Array;
  slice: number;
}

export interface GroupSliceResult {
  /** This thread's union-find, each entry pointing at its root. */
  parent: ArrayBuffer;
}

function uniteSlices(job: GroupSliceJob): ArrayBuffer {
  const buffer = new ArrayBuffer(job.distinct * 4);
  const parent = new Int32Array(buffer);
  for (let u = 0; u < parent.length; u++) parent[u] = u;
  const buckets = job.bands[0].starts.length - 1;
  const perBand = Math.ceil(buckets / job.slice);
  for (;;) {
    const unit = Atomics.add(job.next, 0, 1);
    if (unit >= perBand * job.bands.length) break;
    const b = Math.floor(unit / perBand);
    const from = (unit % perBand) * job.slice;
    uniteBandSlice(job.bands[b], job.radii[b], job.k, from, Math.min(buckets, from + job.slice), parent);
  }
  flatten(parent);
  return buffer;
}

async function answer(req: GroupsRequest): Promise<{ res: GroupsResponse; transfer: ArrayBuffer[] }> {
  try {
    const groups = await groupsOnThreads(HashIndex.build(req.hi, req.lo, req.count), req.distance);
    const starts = new Uint32Array(groups.length + 1);
    for (let g = 0; g < groups.length; g++) starts[g + 1] = starts[g] + groups[g].length;
    const ids = new Uint32Array(starts[groups.length]);
    for (let g = 0; g < groups.length; g++) ids.set(groups[g], starts[g]);
    return { res: { ok: true, ids, starts }, transfer: [ids.buffer, starts.buffer] };
  } catch (err) {
    return { res: { ok: false, message: err instanceof Error ? err.message : String(err) }, transfer: [] };
  }
}

const port = parentPort;
if (port) {
  if (workerData) {
    const parent = uniteSlices(workerData as GroupSliceJob);
    const result: GroupSliceResult = { parent };
    port.postMessage(result, [parent]);
  } else {
    port.on('message', (req: GroupsRequest) => {
      void answer(req).then(({ res, transfer }) => port.postMessage(res, transfer));
    });
  }
}
