import { randomUUID } from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import type { MoveCandidates } from '../../register/moveCandidates';
import { CANCELLED_PROBE, newScratch, probeImage } from '../../register/probeImage';
import { RegisterSaveError, type RegisterFilesOutcome, type RegisterProgress } from '../../register/registerFiles';
import type { TeamRow, TeamRegistry } from './teamRegistry';
import { claim, complete, enqueue, heartbeat, heldByOthers, release, type Claimed } from './workQueue';

export interface RegistrarRequest {
  team: TeamRegistry;
  root: string;
  /** This registrar's diff: new files, and files to read again (changed, unreadable for a cause that may pass). */
  newFiles: readonly string[];
  again: readonly string[];
  moveCandidates: MoveCandidates;
  concurrency: number;
  signal?: AbortSignal;
  onProgress?: (p: RegisterProgress) => void;
  log?: (line: string) => void;
  /** A claim not renewed for this long is taken over (ms). Default 60 s; a dead session's claims go at once. */
  leaseMs?: number;
  /** Files claimed at once (default: 8 per concurrent read, at least 32). */
  claimSize?: number;
  /** Rows are committed at least this often (ms); a batch is also committed when it is claimSize rows. */
  commitMs?: number;
  /** While others hold the rest of the queue: how often to look again (ms). */
  pollMs?: number;
}

export interface RegistrarOutcome extends RegisterFilesOutcome {
  /** Files this registrar read (every probe, moves included). */
  probed: number;
  /** Rows this registrar added to the shared queue. */
  queued: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One registrar among any number, on any machines: queue this one's to-do list, then claim
 * batches from the shared queue until it is empty, probing each file once and committing each
 * batch — its images' rows and the removal of its work rows — in one transaction. Killed, it
 * loses at most the batch it had not committed; its claims die with its connection.
 */
export async function runRegistrar(req: RegistrarRequest): Promise<RegistrarOutcome> {
  const { team } = req;
  const owner = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const leaseMs = req.leaseMs ?? 60_000;
  const claimSize = req.claimSize ?? Math.max(32, req.concurrency * 8);
  const commitMs = req.commitMs ?? 1000;
  const pollMs = req.pollMs ?? 500;
  const out: RegistrarOutcome = { registered: 0, unreadable: 0, moved: 0, bytes: 0, saves: 0, cancelled: false, unreadableSamples: [], probed: 0, queued: 0 };
  // One connection, one statement at a time: a claim or heartbeat must never land inside a batch's transaction.
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const next = chain.then(work);
    chain = next.catch(() => undefined);
    return next;
  };

  out.queued = await serial(() => enqueue(team, req.newFiles, req.again));
  const total = req.newFiles.length + req.again.length;
  const started = performance.now();
  let lastReport = 0;
  const report = (force = false): void => {
    if (!req.onProgress) return;
    const now = performance.now();
    if (!force && now - lastReport < 200) return;
    lastReport = now;
    const secs = (now - started) / 1000;
    const rate = secs > 0 ? out.probed / secs : 0;
    const left = Math.max(0, total - out.probed);
    req.onProgress({ done: Math.min(out.probed, total), total, bytes: out.bytes, filesPerSec: rate, bytesPerSec: secs > 0 ? out.bytes / secs : 0, etaSec: rate > 0 ? left / rate : null });
  };

  let local: Claimed[] = [];
  let nextLocal = 0;
  let claiming: Promise<number> | null = null;
  let queueEmpty = false;
  let failure: unknown = null;
  let pendingRows: TeamRow[] = [];
  let pendingMoves: { from: string; row: TeamRow }[] = [];
  let pendingDone: string[] = [];
  let lastCommit = performance.now();
  let committing: Promise<void> | null = null;
  let savedRows = 0;
  const interrupted: string[] = [];

  const claimMore = (): Promise<number> => {
    claiming ??= serial(() => claim(team, owner, claimSize, leaseMs))
      .then((got) => {
        local = local.slice(nextLocal).concat(got);
        nextLocal = 0;
        return got.length;
      })
      .finally(() => {
        claiming = null;
      });
    return claiming;
  };

  /** The next claimed path; claims more when few are left; waits while others hold what remains. */
  const nextPath = async (): Promise<string | undefined> => {
    for (;;) {
      if (failure !== null || req.signal?.aborted) return undefined;
      if (nextLocal < local.length) {
        // Claim ahead, so the readers never wait for the database between batches.
        if (local.length - nextLocal <= req.concurrency && !queueEmpty) void claimMore().catch((err: unknown) => (failure ??= err));
        return local[nextLocal++].path;
      }
      if (queueEmpty) return undefined;
      const got = await claimMore();
      if (got > 0 || nextLocal < local.length) continue;
      const { held, claimable } = await serial(() => heldByOthers(team, owner));
      if (held === 0 && claimable === 0) {
        queueEmpty = true;
        return undefined;
      }
      // Others hold the rest: their commits end it, or their death hands it over.
      if (claimable === 0) await sleep(pollMs);
    }
  };

  const commit = async (): Promise<void> => {
    if (pendingDone.length === 0) return;
    const rows = pendingRows;
    const moves = pendingMoves;
    const done = pendingDone;
    pendingRows = [];
    pendingMoves = [];
    pendingDone = [];
    lastCommit = performance.now();
    await serial(() =>
      team.inTransaction(async () => {
        if (rows.length) await team.upsertSome(rows);
        if (moves.length) await team.moveSome(moves);
        await complete(team, owner, done);
      }),
    );
    savedRows += rows.length + moves.length;
    out.saves++;
  };
  const commitSoon = (force = false): void => {
    if (committing) return;
    if (!force && pendingDone.length < claimSize && performance.now() - lastCommit < commitMs) return;
    committing = commit()
      .catch((err: unknown) => {
        failure ??= err;
      })
      .finally(() => {
        committing = null;
      });
  };

  const beat = setInterval(() => {
    void serial(() => heartbeat(team, owner, leaseMs)).catch((err: unknown) => (failure ??= err));
  }, Math.max(50, leaseMs / 3));
  beat.unref();

  const worker = async (): Promise<void> => {
    const scratch = newScratch();
    for (;;) {
      const rel = await nextPath();
      if (rel === undefined) return;
      const probe = await probeImage(path.join(req.root, rel), rel, scratch, req.signal);
      if (probe === CANCELLED_PROBE) {
        // Not done: released below with the rest of the unread claims.
        interrupted.push(rel);
        return;
      }
      const { bytesRead, ...row } = probe;
      out.bytes += bytesRead;
      out.probed++;
      const from = row.hash ? (req.moveCandidates.takeSameName(row.hash, rel, row.size) ?? req.moveCandidates.takeAny(row.hash)) : undefined;
      if (from !== undefined) {
        pendingMoves.push({ from, row });
        out.moved++;
      } else {
        pendingRows.push(row);
        if (row.status === 'ok') out.registered++;
        else {
          out.unreadable++;
          if (out.unreadableSamples.length < 100) out.unreadableSamples.push({ path: rel, reason: row.reason ?? '' });
        }
      }
      pendingDone.push(rel);
      report();
      commitSoon();
    }
  };

  try {
    await Promise.all(Array.from({ length: Math.max(1, req.concurrency) }, worker));
  } finally {
    clearInterval(beat);
    await (committing as Promise<void> | null);
    await (claiming as Promise<number> | null)?.catch(() => undefined);
    if (failure === null) await commit().catch((err: unknown) => (failure = err));
    const unread = [...interrupted, ...local.slice(nextLocal).map((c) => c.path)];
    if (unread.length) await serial(() => release(team, owner, unread)).catch(() => undefined);
    report(true);
  }
  if (failure !== null) throw new RegisterSaveError(failure, savedRows, pendingRows.length + pendingMoves.length);
  if (req.signal?.aborted) out.cancelled = true;
  req.log?.(`registrar ${owner}: read ${out.probed} (registered ${out.registered}, unreadable ${out.unreadable}, moved ${out.moved}); ${out.saves} commits; queued ${out.queued}`);
  return out;
}
