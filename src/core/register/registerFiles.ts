import * as path from 'node:path';
import type { ImageRow, Registry } from '../registry/registry';
import { CANCELLED_PROBE, newScratch, probeImage } from './probeImage';
import type { MoveCandidates } from './moveCandidates';
import type { RegistrationSimilarity, SimilarityOutcome } from '../similar/registrationCheck';

export interface RegisterProgress {
  done: number;
  total: number;
  bytes: number;
  filesPerSec: number;
  bytesPerSec: number;
  /** Seconds left at the current rate; null until there is a rate. */
  etaSec: number | null;
}

export interface RegisterFilesRequest {
  root: string;
  rootId: number;
  registry: Registry;
  /** Relative paths to (re-)register. */
  files: readonly string[];
  /** Registered rows gone from disk, by hash: a new file with such a hash is a move. */
  moveCandidates: MoveCandidates;
  concurrency: number;
  signal?: AbortSignal;
  onProgress?: (p: RegisterProgress) => void;
  /** Rows are committed in one transaction and the file saved at most this often (grows with save time). */
  batchWindowMs?: number;
  log?: (line: string) => void;
  /** Called before every save; throws to refuse it (the lock fence: is the lock still ours?). */
  beforeSave?: () => void;
  /** Perceptual hashes and the near-duplicate check; absent: none computed. */
  similarity?: RegistrationSimilarity;
}

export interface RegisterFilesOutcome {
  registered: number;
  unreadable: number;
  moved: number;
  bytes: number;
  saves: number;
  cancelled: boolean;
  unreadableSamples: { path: string; reason: string }[];
  /** Perceptual hashes computed and near-duplicates met (see RegistrationSimilarity). */
  similarity?: SimilarityOutcome;
}

/**
 * A save failed (or was refused by the fence): what is on disk is the last good save; the rows
 * probed since are not written, and the next run registers them.
 */
export class RegisterSaveError extends Error {
  constructor(
    override readonly cause: unknown,
    readonly savedRows: number,
    readonly unsavedRows: number,
  ) {
    const kept = savedRows > 0 ? `the ${savedRows} rows this run saved before are kept` : 'the registry on disk is as it was before this run';
    super(`${cause instanceof Error ? cause.message : String(cause)}; ${kept}; ${unsavedRows} rows were not saved — the next run registers them`);
  }
}

/**
 * Probes files with bounded concurrency and commits rows in batches: a transaction plus an atomic
 * save of the file per batch window, never per row. Killed at any moment, the file holds every
 * batch saved before, and a rerun skips them.
 */
export async function registerFiles(req: RegisterFilesRequest): Promise<RegisterFilesOutcome> {
  const { registry, rootId } = req;
  const out: RegisterFilesOutcome = { registered: 0, unreadable: 0, moved: 0, bytes: 0, saves: 0, cancelled: false, unreadableSamples: [] };
  let window = req.batchWindowMs ?? 2000;
  let lastSave = performance.now();
  let pendingRows: ImageRow[] = [];
  let pendingMoves: { from: string; row: ImageRow }[] = [];
  // Files whose hash matches a gone row but not its name: paired after every file had its chance
  // at a same-name row, so which file takes which row does not depend on probe timing.
  const renamed: ImageRow[] = [];
  let saving: Promise<void> | null = null;
  // Set in callbacks: read through this so type narrowing does not take it for always null.
  const inFlight = (): Promise<void> | null => saving;
  let done = 0;
  let savedRows = 0;
  let unsavedRows = 0;
  let failure: unknown = null;

  const commit = (): void => {
    registry.upsert(rootId, pendingRows);
    registry.move(rootId, pendingMoves);
    unsavedRows += pendingRows.length + pendingMoves.length;
    pendingRows = [];
    pendingMoves = [];
  };
  const save = async (): Promise<void> => {
    if (pendingRows.length === 0 && pendingMoves.length === 0) return;
    commit();
    const t = performance.now();
    req.beforeSave?.();
    await registry.save();
    savedRows += unsavedRows;
    unsavedRows = 0;
    const took = performance.now() - t;
    out.saves++;
    // A big database takes a while to save: keep saving under ~10% of the run.
    window = Math.max(window, took * 10);
    lastSave = performance.now();
  };
  const progress = progressReporter(req.onProgress, req.files.length);
  const report = (force = false): void => progress(done, out.bytes, force);

  const addRow = (row: ImageRow): void => {
    pendingRows.push(row);
    req.similarity?.check(row);
    if (row.status === 'ok') out.registered++;
    else {
      out.unreadable++;
      if (out.unreadableSamples.length < 100) out.unreadableSamples.push({ path: row.path, reason: row.reason ?? '' });
    }
  };
  /** Renamed-and-moved files take the rows left, both in path order; the rest are new rows. */
  const pairRenamed = (): void => {
    renamed.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    for (const row of renamed) {
      const from = req.moveCandidates.takeAny(row.hash as string);
      if (from === undefined) addRow(row);
      else {
        pendingMoves.push({ from, row });
        out.moved++;
      }
    }
  };

  let next = 0;
  const worker = async (): Promise<void> => {
    const scratch = newScratch();
    while (next < req.files.length && failure === null) {
      if (req.signal?.aborted) {
        out.cancelled = true;
        return;
      }
      const rel = req.files[next++];
      const row = await probeImage(path.join(req.root, rel), rel, scratch, req.signal);
      if (row === CANCELLED_PROBE) {
        out.cancelled = true;
        return;
      }
      const { bytesRead, ...clean } = row;
      await req.similarity?.hashProbed(path.join(req.root, rel), clean, bytesRead, scratch.buffer);
      out.bytes += bytesRead;
      done++;
      const from = clean.hash ? req.moveCandidates.takeSameName(clean.hash, rel, clean.size) : undefined;
      if (from !== undefined) {
        pendingMoves.push({ from, row: clean });
        out.moved++;
      } else if (req.moveCandidates.knows(clean.hash)) {
        renamed.push(clean);
      } else {
        addRow(clean);
      }
      report();
      if (!saving && performance.now() - lastSave >= window) {
        saving = save()
          .catch((err: unknown) => {
            failure ??= err;
          })
          .finally(() => {
            saving = null;
          });
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, req.concurrency) }, worker));
  } finally {
    await inFlight();
    // Cut short, a renamed file may not have met its same-name rival yet: it is left for the next
    // run (not written), which pairs it with everything known.
    if (failure === null && done === req.files.length) pairRenamed();
    if (failure === null) await save().catch((err: unknown) => (failure = err));
    report(true);
  }
  if (failure !== null) throw new RegisterSaveError(failure, savedRows, unsavedRows + pendingRows.length + pendingMoves.length);
  if (req.signal?.aborted && done < req.files.length) out.cancelled = true;
  if (req.similarity) out.similarity = req.similarity.outcome;
  req.log?.(`registered ${out.registered}, unreadable ${out.unreadable}, moved ${out.moved}; ${out.saves} saves`);
  return out;
}

/**
 * Progress for a run over `total` files: at most every 200 ms (or when forced), with the rates
 * and the time left measured from the reporter's creation.
 */
export function progressReporter(onProgress: ((p: RegisterProgress) => void) | undefined, total: number): (done: number, bytes: number, force?: boolean) => void {
  const started = performance.now();
  let last = 0;
  return (done, bytes, force = false) => {
    if (!onProgress) return;
    const now = performance.now();
    if (!force && now - last < 200) return;
    last = now;
    const secs = (now - started) / 1000;
    const filesPerSec = secs > 0 ? done / secs : 0;
    onProgress({
      done: Math.min(done, total), total, bytes, filesPerSec,
      bytesPerSec: secs > 0 ? bytes / secs : 0,
      etaSec: filesPerSec > 0 ? Math.max(0, total - done) / filesPerSec : null,
    });
  };
}
