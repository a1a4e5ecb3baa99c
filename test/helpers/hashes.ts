import { rng } from '../../bench/imagesGen';

export interface PlantedHashes {
  hi: Uint32Array;
  lo: Uint32Array;
}

/**
 * `n` 64-bit hashes (as halves) from `seed`: uniform random, except that a share `copies` of them
 * are copies of an earlier hash with 0 to `maxFlips` random bits flipped (near-duplicates that
 * chain), and a share `exact` exact copies. What the index and group tests compare against brute force.
 */
export function plantedHashes(seed: number, n: number, { copies, maxFlips, exact = 0 }: { copies: number; maxFlips: number; exact?: number }): PlantedHashes {
  const r = rng(seed);
  const hi = new Uint32Array(n);
  const lo = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    if (exact > 0 && i > 0 && r() < exact) {
      const j = Math.floor(r() * i);
      hi[i] = hi[j];
      lo[i] = lo[j];
    } else if (i > 0 && r() < copies) {
      const j = Math.floor(r() * i);
      hi[i] = hi[j];
      lo[i] = lo[j];
      for (let b = Math.floor(r() * (maxFlips + 1)); b > 0; b--) {
        const bit = Math.floor(r() * 64);
        if (bit < 32) hi[i] ^= 1 << bit;
        else lo[i] ^= 1 << (bit - 32);
      }
    } else {
      hi[i] = Math.floor(r() * 2 ** 32);
      lo[i] = Math.floor(r() * 2 ** 32);
    }
  }
  return { hi, lo };
}
