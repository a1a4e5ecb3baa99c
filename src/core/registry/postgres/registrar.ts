import { randomUUID } from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import type { MoveCandidates } from '../../register/moveCandidates';
import { CANCELLED_PROBE, newScratch, probeImage } from '../../register/probeImage';
import { progressReporter, RegisterSaveError, type RegisterFilesOutcome, type RegisterProgress } from '../../register/registerFiles';
import type { TeamRow, TeamRegistry } from './teamRegistry';
import type { RegistrationSimilarity } from '../../similar/registrationCheck';
import { claim, complete, enqueue, heartbeat, heldByOthers, release } from './workQueue';

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
  /** Perceptual hashes: each readable image hashed, new ones checked against the dataset's (absent: off). */
  similarity?: RegistrationSimilarity;
  /** A claim not renewed for this long is taken over (ms). Default 60 s; a dead session's claims go at once. */
  leaseMs?: number;
  /** Files claimed at once (default: 32 per concurrent read, at least 256); up to two batches are held at a time. */
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
  // Large enough that the claim's round trip (measured: hundreds of ms on a loaded server) is paid
  // rarely; what a kill loses is bounded by the commit interval, not by this.
  const claimSize = req.claimSize ?? Math.max(256, req.concurrency * 32);
  const commitMs = req.commitMs ?? 1000;
  const pollMs = req.pollMs ?? 200;
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
  const progress = progressReporter(req.onProgress, total);
  const report = (force = false): void => progress(out.probed, out.bytes, force);

  // Claimed paths waiting for a reader. One feeder claims; readers only take.
  const buffer: string[] = [];
  let feederDone = false;
  let failure: unknown = null;
  let reading = 0;
  let readersWaiting: (() => void)[] = [];
  let feederWaiting: (() => void) | null = null;
  const wakeReaders = (): void => {
    const w = readersWaiting;
    readersWaiting = [];
    for (const f of w) f();
  };
  const wakeFeeder = (): void => {
    const f = feederWaiting;
    feederWaiting = null;
    f?.();
  };
  const feederNap = (ms: number): Promise<void> =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        feederWaiting = null;
        resolve();
      }, ms);
      feederWaiting = () => {
        clearTimeout(t);
        resolve();
      };
    });
  let pendingRows: TeamRow[] = [];
  let pendingMoves: { from: string; row: TeamRow }[] = [];
  let pendingDone: string[] = [];
  let lastCommit = performance.now();
  let committing: Promise<void> | null = null;
  // Set in callbacks: read through this so type narrowing does not take it for always null.
  const inFlightCommit = (): Promise<void> | null => committing;
  let savedRows = 0;
  const interrupted: string[] = [];

  let readersGone = false;
  const stopped = (): boolean => readersGone || failure !== null || req.signal?.aborted === true;

  /**
   * Claims ahead of the readers (a batch while they still have one), and ends only when this
   * registrar holds nothing and no one else holds anything claimable later: the shared queue is done.
   */
  const feed = async (): Promise<void> => {
    try {
      while (!stopped()) {
        // Keep one batch in hand while the next is claimed: a claim is a round trip (and a wait
        // behind a commit) that the readers must not sit through.
        if (buffer.length >= claimSize) {
          await feederNap(pollMs);
          continue;
        }
        const got = await serial(() => claim(team, owner, claimSize, leaseMs));
        if (got.length) {
          for (const c of got) buffer.push(c.path);
          wakeReaders();
          continue;
        }
        // Nothing claimable now. Our own reads may still be running: they end nothing by themselves.
        if (buffer.length > 0 || reading > 0) {
          await feederNap(pollMs);
          continue;
        }
        // Idle: what this registrar read goes in now — others may be waiting for exactly those claims.
        commitSoon(true);
        await inFlightCommit();
        const { held, claimable } = await serial(() => heldByOthers(team, owner));
        if (held === 0 && claimable === 0) break;
        // Others hold the rest (or are claiming it): their commits end it, or their death hands it over.
        await feederNap(pollMs);
      }
    } catch (err) {
      failure ??= err;
    } finally {
      feederDone = true;
      wakeReaders();
    }
  };

  const nextPath = async (): Promise<string | undefined> => {
    for (;;) {
      if (stopped()) return undefined;
      const p = buffer.shift();
      if (p !== undefined) {
        if (buffer.length < claimSize) wakeFeeder();
        return p;
      }
      if (feederDone) return undefined;
      await new Promise<void>((resolve) => readersWaiting.push(resolve));
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
      reading++;
      const probe = await probeImage(path.join(req.root, rel), rel, scratch, req.signal).finally(() => {
        reading--;
        if (reading === 0) wakeFeeder();
      });
      if (probe === CANCELLED_PROBE) {
        // Not done: released below with the rest of the unread claims.
        interrupted.push(rel);
        return;
      }
      const { bytesRead, ...row } = probe;
      await req.similarity?.hashProbed(path.join(req.root, rel), row, bytesRead, scratch.buffer);
      out.bytes += bytesRead;
      out.probed++;
      const from = row.hash ? (req.moveCandidates.takeSameName(row.hash, rel, row.size) ?? req.moveCandidates.takeAny(row.hash)) : undefined;
      if (from !== undefined) {
        pendingMoves.push({ from, row });
        out.moved++;
      } else {
        req.similarity?.check(row);
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

  const feeding = feed();
  try {
    await Promise.all(Array.from({ length: Math.max(1, req.concurrency) }, worker));
  } finally {
    clearInterval(beat);
    // The readers are gone (done, cancelled, failed): the feeder must not claim on.
    readersGone = true;
    wakeFeeder();
    await feeding;
    await (committing as Promise<void> | null);
    if (failure === null) await commit().catch((err: unknown) => (failure = err));
    const unread = [...interrupted, ...buffer.splice(0)];
    if (unread.length) await serial(() => release(team, owner, unread)).catch(() => undefined);
    report(true);
  }
  if (failure !== null) throw new RegisterSaveError(failure, savedRows, pendingRows.length + pendingMoves.length);
  if (req.signal?.aborted) out.cancelled = true;
  req.log?.(`registrar ${owner}: read ${out.probed} (registered ${out.registered}, unreadable ${out.unreadable}, moved ${out.moved}); ${out.saves} commits; queued ${out.queued}`);
  return out;
}
