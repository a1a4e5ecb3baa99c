/**
 * What the extension host and the engine worker say to each other. Every message is plain data
 * (structured clone): the engine keeps the million-path state, the host gets counts and pages.
 */
import type { TeamRegistrySpec } from '../registry/postgres/connect';
import type { CacheHeader } from '../cache/format';
import type { ExternalRegistrySpec } from '../registry/external';
import type { DuplicateGroup, ImageRow } from '../registry/registry';
import type { StatusCounts } from '../registerDataset';
import type { RegisterProgress } from '../register/registerFiles';
import type { FileEvent } from '../scanner/fileEvents';
import type { ScanReport } from '../scanDataset';
import type { ScanIssue, ScanMode, ScanOptions } from '../types';
import type { FolderPage } from './groupIndex';
import type { GalleryChoices, GalleryPage, GalleryScope } from './galleryView';
import type { GalleryQuery } from '../gallery/order';
import type { ThumbnailResult } from '../thumbnails/types';
import type { ThumbnailRequest } from './thumbnails';

export type { FolderPage } from './groupIndex';
export type { ThumbnailRequest } from './thumbnails';

/** The tree's groups. 'duplicates' is a list of groups of paths; the others are folder trees. */
export type GroupId = 'new' | 'changed' | 'missing' | 'registered' | 'unreadable' | 'duplicates';
export const FOLDER_GROUPS: readonly Exclude<GroupId, 'duplicates'>[] = ['new', 'changed', 'missing', 'registered', 'unreadable'];

/** One dataset as the host configures it; sent with every request (a restarted worker needs nothing else). */
export interface DatasetConfig {
  /** The host's name for this dataset instance: a dataset rebuilt after a settings change gets a new key. */
  key: string;
  root: string;
  storeDir: string;
  options: Partial<ScanOptions>;
  maxAgeMs: number;
  registeredFrom?: ExternalRegistrySpec;
  /** A team registry on PostgreSQL instead of the store's SQLite file. */
  team?: TeamRegistrySpec;
  registerConcurrency: number;
  /** Perceptual hashes at registration (datasetIndex.perceptualHash). */
  perceptualHash: boolean;
  /** Hamming distance of near-duplicates (datasetIndex.similar.distance): the Similar group and registration's check. */
  similarDistance?: number;
}

/** What the host keeps of a dataset: counts and small facts, never path lists. */
export interface DatasetSummary extends StatusCounts {
  header: CacheHeader | null;
  scan: ScanReport | null;
  /** The folders' known problems (at most ERRORS_KEPT of them; `errorCount` says how many). */
  errors: ScanIssue[];
  errorCount: number;
  skippedSymlinks: number;
  notices: string[];
  /** The Similar group's counts, when its groups were computed in this state at the configured distance. */
  similar?: SimilarCounts | null;
}
export const ERRORS_KEPT = 200;

/** Near-duplicate groups (the tree's Similar group), cut to the files on disk. */
export interface SimilarCounts {
  groups: number;
  /** Images in those groups. */
  images: number;
  distance: number;
  /** Registered images with a perceptual hash; `unhashed`: readable ones without. */
  hashed: number;
  unhashed: number;
}

export interface SimilarGroupRow {
  /** The group's first paths (at most MEMBERS_PER_ROW), in path order. */
  paths: string[];
  /** How many images the group has. */
  size: number;
  /** The largest distance between two of its images (null for groups too large to measure). */
  maxDistance: number | null;
}

export interface SimilarPage {
  groups: SimilarGroupRow[];
  total: number;
  images: number;
  distance: number;
}

export interface ScanProgressEvent {
  mode: ScanMode;
  dirs: number;
  files: number;
}

/** Rows of the tree a change touched, per group: folder paths, '' for the group's own row. */
export interface RowChanges {
  group: GroupId | 'similar';
  dirs: string[];
}

export interface AppliedEvents {
  /** Set when the events could not be placed: the host runs a quick rescan. */
  rescan: string | null;
  added: number;
  removed: number;
  changed: number;
  summary: DatasetSummary | null;
  /** Rows whose count or children changed; `all` when the whole dataset must be re-read (e.g. the registry was re-read). */
  rows: RowChanges[] | 'all';
}

/** What "Register" acts on: paths, or every path of a group under folders (resolved in the engine). */
export interface RegisterSelection {
  paths?: string[];
  folders?: { group: GroupId; dir: string }[];
}

export interface RegisterSummary {
  registered: number;
  unreadable: number;
  moved: number;
  /** New images within the similarity distance of a registered one (0 with perceptual hashes off). */
  similar: number;
  cancelled: boolean;
  toRegister: number;
  notices: string[];
}

/** A team dataset as the user is shown it before its rows are deleted. */
export interface TeamDatasetInfo {
  /** The registry's URL without its password, and the dataset's name. */
  location: string;
  dataset: string;
  rows: number;
}

export interface DuplicatePage {
  groups: DuplicateGroup[];
  total: number;
}

/** Method name → [params, result]. */
export interface EngineMethods {
  peek: [{ config: DatasetConfig }, CacheHeader | null];
  index: [{ config: DatasetConfig; forceRescan?: boolean; verify?: boolean }, DatasetSummary];
  register: [{ config: DatasetConfig; only?: RegisterSelection }, { report: RegisterSummary; summary: DatasetSummary }];
  applyEvents: [{ config: DatasetConfig; events: FileEvent[] }, AppliedEvents];
  children: [{ config: DatasetConfig; group: Exclude<GroupId, 'duplicates'>; dir: string; offset: number; limit: number }, FolderPage];
  duplicates: [{ config: DatasetConfig; offset: number; limit: number }, DuplicatePage];
  galleryPage: [{ config: DatasetConfig; scope: GalleryScope; query: GalleryQuery; offset: number; limit: number; facts: boolean }, GalleryPage];
  galleryChoices: [{ config: DatasetConfig; scope: GalleryScope }, GalleryChoices];
  clearCache: [{ config: DatasetConfig; alsoRegistry: boolean }, void];
  lookup: [{ config: DatasetConfig; rel: string }, ImageRow | null];
  /** The rows of a page of images, in the order asked (one query per page with a team registry). */
  lookupRows: [{ config: DatasetConfig; rels: string[] }, (ImageRow | null)[]];
  /** A team dataset's location and row count (config.team must be set). */
  teamDataset: [{ config: DatasetConfig }, TeamDatasetInfo];
  /** Deletes a team dataset's rows if it still has `expectRows` and no registration runs. */
  clearTeamDataset: [{ config: DatasetConfig; expectRows: number }, { deleted: number; refused?: string }];
  /** Computes the near-duplicate groups (in a thread of the worker), unless known for this registry content. */
  similar: [{ config: DatasetConfig }, SimilarCounts];
  /** A page of the computed groups (never computes: null when none are known at this distance). */
  similarPage: [{ config: DatasetConfig; offset: number; limit: number }, SimilarPage | null];
  /** Every path of the computed group that holds `member` (the side-by-side gallery). */
  similarGroup: [{ config: DatasetConfig; member: string }, string[] | null];
  /** A thumbnail made (or found) in the worker's per-store cache; cancellable (the signal reaches its queue). */
  thumbnail: [ThumbnailRequest, ThumbnailResult];
  /** datasetIndex.thumbnails.maxCacheMB changed: that store's cache takes the new cap now. */
  thumbnailCacheCap: [{ storeDir: string; maxCacheBytes: number }, void];
  /** Ends the thumbnails' wasm decode thread (the extension's thumbnail service is disposed). */
  closeThumbnails: [Record<string, never>, void];
  /** Forgets a dataset's state (its key is not used again). */
  close: [{ key: string }, void];
}
export type Method = keyof EngineMethods;
export type Params<M extends Method> = EngineMethods[M][0];
export type Result<M extends Method> = EngineMethods[M][1];

/** Progress is scan progress, then (registering) registration progress. */
export type ProgressData = { kind: 'scan'; progress: ScanProgressEvent } | { kind: 'register'; progress: RegisterProgress };

// ---- messages ----
export type ToEngine =
  | { type: 'request'; id: number; method: Method; params: unknown }
  | { type: 'cancel'; id: number };

export interface WireError {
  name: string;
  message: string;
  code?: string;
  stack?: string;
}

export type FromEngine =
  | { type: 'result'; id: number; result: unknown }
  | { type: 'error'; id: number; error: WireError }
  | { type: 'progress'; id: number; data: ProgressData }
  | { type: 'log'; level: 'info' | 'warn'; line: string };

export function toWireError(err: unknown): WireError {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { name: err.name, message: err.message, stack: err.stack, ...(typeof code === 'string' ? { code } : {}) };
  }
  return { name: 'Error', message: String(err) };
}

/** An error from the engine, with its name and code as thrown there. */
export class EngineError extends Error {
  readonly code?: string;
  constructor(wire: WireError) {
    super(wire.message);
    this.name = wire.name;
    if (wire.code) this.code = wire.code;
    if (wire.stack) this.stack = `${wire.stack}\n    (in the engine worker)`;
  }
}
