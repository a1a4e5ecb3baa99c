import * as path from 'node:path';
import { openDatasetView, type DatasetRequest } from '../registerDataset';
import { diffSnapshot } from '../registry/diff';
import type { DirRecord, Snapshot } from '../types';
import { toHex } from './hash64';
import { checkDistance } from './hashIndex';
import { perceptualHash } from './perceptualHash';
import { DEFAULT_SIMILAR_DISTANCE, PERCEPTUAL_ALGORITHM } from './defaults';
import { presentHashes, SimilarImages, type SimilarGroup, type SimilarMatch } from './similarImages';

export interface SimilarRequest extends DatasetRequest {
  /** Hamming distance (default DEFAULT_SIMILAR_DISTANCE). */
  readonly distance?: number;
  /** false: the scan cache as it is, no rescan. */
  readonly scan?: boolean;
}

export interface SimilarView {
  root: string;
  algorithm: string;
  distance: number;
  similar: SimilarImages;
  /** Images on disk not registered yet: no hash to compare. */
  notRegistered: number;
  /** Rows of files gone from disk, left out. */
  missingLeftOut: number;
  registryFile: string;
  notices: string[];
}

/**
 * Scan (incremental), registry read-only, the root's perceptual hashes of files still on disk,
 * indexed. The extension keeps the result and asks it for groups and neighbours.
 */
export async function openSimilarImages(req: SimilarRequest): Promise<SimilarView> {
  const distance = req.distance ?? DEFAULT_SIMILAR_DISTANCE;
  checkDistance(distance);
  const view = await openDatasetView(req);
  try {
    const snapshot: Snapshot = view.cache?.snapshot ?? new Map<string, DirRecord>();
    const diff = diffSnapshot(snapshot, view.index, view.external?.paths);
    const all = (await view.reader?.perceptualHashes()) ?? { count: 0, paths: [], hi: new Uint32Array(0), lo: new Uint32Array(0), unhashed: 0 };
    const present = presentHashes(all, diff.missing);
    const notices = [...view.notices];
    if (present.unhashed > 0) {
      notices.push(`${present.unhashed} registered images have no perceptual hash (registered before schema 5, with --no-phash, or not decodable): they are in no group`);
    }
    return {
      root: view.root, algorithm: PERCEPTUAL_ALGORITHM, distance, similar: new SimilarImages(present), notRegistered: diff.newFiles.length,
      missingLeftOut: all.count - present.count, registryFile: view.registryFile, notices,
    };
  } finally {
    await view.reader?.close();
  }
}

export interface SimilarReport extends Omit<SimilarView, 'similar'> {
  hashed: number;
  unhashed: number;
  groups: SimilarGroup[];
  elapsedMs: number;
}

/** `dataset-index similar <folder>`: every group of near-duplicate registered images. */
export async function similarGroups(req: SimilarRequest): Promise<SimilarReport> {
  const started = performance.now();
  const { similar, ...rest } = await openSimilarImages(req);
  const groups = await similar.groupsOnThreads(rest.distance, { signal: req.signal });
  return { ...rest, hashed: similar.size, unhashed: similar.unhashed, groups, elapsedMs: performance.now() - started };
}

export interface SimilarToReport {
  root: string;
  file: string;
  hash: string;
  distance: number;
  matches: SimilarMatch[];
  notices: string[];
}

/**
 * `list --similar-to FILE`: the registered images of a root near any image file (registered or
 * not, inside the folder or not). Its hash is computed now, from its pixels.
 */
export async function similarToFile(req: SimilarRequest, file: string): Promise<SimilarToReport> {
  const abs = path.resolve(file);
  let hash: string;
  try {
    hash = toHex(await perceptualHash(abs, PERCEPTUAL_ALGORITHM));
  } catch (err) {
    throw new Error(`cannot compute the perceptual hash of ${abs}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const view = await openSimilarImages(req);
  return { root: view.root, file: abs, hash, distance: view.distance, matches: view.similar.neighboursOfHash(hash, view.distance), notices: view.notices };
}
