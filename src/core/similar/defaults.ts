import type { PerceptualAlgorithm } from './perceptualHash';

/**
 * The hash registration stores and the distance `similar` uses by default: chosen from
 * `npm run bench:similar-quality` (README, "Near-duplicates: quality").
 */
export const PERCEPTUAL_ALGORITHM: PerceptualAlgorithm = 'phash';
export const DEFAULT_SIMILAR_DISTANCE = 10;
/** Beyond this, random pairs start to match (their distances centre on 32) and lookups slow down. */
export const MAX_SIMILAR_DISTANCE = 16;
