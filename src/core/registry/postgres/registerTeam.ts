import { canonicalRoot } from '../../roots';
import { scanDataset } from '../../scanDataset';
import type { CachedScan } from '../../cache/store';
import { MoveCandidates } from '../../register/moveCandidates';
import { countsOf, DEFAULT_REGISTER_CONCURRENCY, externalPaths, externalSummary, type RegisterReport, type RegisterRequest } from '../../registerDataset';
import { diffSnapshot, snapshotHasStats } from '../diff';
import type { TeamRegistrySpec } from './connect';
import { runRegistrar } from './registrar';
import type { RegisterFilesOutcome } from '../../register/registerFiles';
import { DEFAULT_SIMILAR_DISTANCE } from '../../similar/defaults';
import { RegistrationSimilarity, similarityOff } from '../../similar/registrationCheck';
import { TeamRegistry } from './teamRegistry';

/**
 * `register` against a team registry: connect first (a registry that cannot be reached fails
 * before anything is written), scan locally (the cache stays in the local store), diff with the
 * dataset's rows, then share the work with every other registrar of the dataset (runRegistrar).
 */
export async function registerTeam(req: RegisterRequest & { team: TeamRegistrySpec }): Promise<RegisterReport & { cache: CachedScan }> {
  const started = performance.now();
  const root = await canonicalRoot(req.root);
  const notices: string[] = [];
  const external = await externalPaths(req, root);
  const team = await TeamRegistry.open(req.team, root, { write: true });
  try {
    const { report: scan, cache } = await scanDataset(req);
    const index = await team.loadIndex({ withStats: snapshotHasStats(cache.snapshot) });
    const diff = diffSnapshot(cache.snapshot, index, external?.paths);
    const externalRegistry = externalSummary(external, diff.externalMatched, cache.snapshot, root, notices);
    const before = countsOf(diff, await team.duplicateGroups(), scan.mode, scan.files);
    let newFiles = diff.newFiles;
    let again = [...diff.changed, ...diff.retry];
    if (req.only) {
      const wanted = new Set(req.only);
      newFiles = newFiles.filter((p) => wanted.has(p));
      again = again.filter((p) => wanted.has(p));
    }
    req.log?.(
      `register ${root} into ${team.location}: ${diff.newFiles.length} new, ${diff.changed.length} changed, ${diff.retry.length} unreadable to retry, ` +
        `${diff.missing.length} missing; registering ${newFiles.length + again.length} (shared with other registrars)`,
    );
    const distance = req.similarDistance ?? DEFAULT_SIMILAR_DISTANCE;
    const todo = newFiles.length + again.length;
    const similarity = req.perceptualHash === false || scan.cancelled || todo === 0
      ? similarityOff(req.perceptualHash === false ? 'off (--no-phash or datasetIndex.perceptualHash)' : 'on', distance)
      : await RegistrationSimilarity.open(() => team.perceptualHashes(), distance);
    if (!(similarity instanceof RegistrationSimilarity) && similarity.state.startsWith('perceptual hashes are off')) notices.push(similarity.state);
    const outcome: RegisterFilesOutcome = scan.cancelled
      ? { registered: 0, unreadable: 0, moved: 0, bytes: 0, saves: 0, cancelled: true, unreadableSamples: [] }
      : await runRegistrar({
          team,
          root,
          newFiles,
          again,
          moveCandidates: new MoveCandidates(await team.hashedRowsOf(diff.missing)),
          concurrency: req.registerConcurrency ?? DEFAULT_REGISTER_CONCURRENCY,
          signal: req.signal,
          onProgress: req.onRegisterProgress,
          log: req.log,
          similarity: similarity instanceof RegistrationSimilarity ? similarity : undefined,
          ...req.teamOptions,
        });
    outcome.similarity ??= similarity instanceof RegistrationSimilarity ? similarity.outcome : similarity;
    return {
      root, scan, before, outcome, toRegister: newFiles.length + again.length, registryFile: team.location, notices,
      elapsedMs: performance.now() - started, cache, externalRegistry,
    };
  } finally {
    await team.close();
  }
}
