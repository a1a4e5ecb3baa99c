import { parentPort, workerData } from 'node:worker_threads';
import { flatten, uniteBandSlice, type BandTable } from './hashIndex';

/** What each group thread gets (the tables and the counter are shared memory). */
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

function run(job: GroupSliceJob): ArrayBuffer {
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

if (parentPort) {
  const parent = run(workerData as GroupSliceJob);
  const result: GroupSliceResult = { parent };
  parentPort.postMessage(result, [parent]);
}
