import type { ImageRow, PerceptualHashes } from '../registry/registry';
import { fromHex, toHex } from './hash64';
import { GrowingHashIndex } from './hashIndex';
import { assertPerceptualHashAvailable, perceptualHash } from './perceptualHash';
import { PERCEPTUAL_ALGORITHM } from './defaults';

/** Formats sharp's prebuilt libvips decodes (HEIF: AV1 only; HEVC, JPEG XL, BMP & co. are not). */
const DECODABLE = new Set(['jpg', 'png', 'webp', 'gif', 'tiff', 'avif', 'heif']);

/** What registration reports of the perceptual hashes. */
export interface SimilarityOutcome {
  /** 'on', or why it is off ('--no-phash / setting', 'sharp could not be loaded: …'). */
  state: string;
  distance: number;
  /** Images given a hash by this run. */
  hashed: number;
  /** Readable images whose pixels sharp could not decode (format or damage): no hash, still registered. */
  notHashed: number;
  /** Images of this run within `distance` of at least one other registered image (earlier ones of this run included). */
  similarImages: number;
  /** Up to 100 of them, with up to 5 of their nearest registered images each. */
  samples: { path: string; similarTo: number; nearest: { path: string; distance: number }[] }[];
}

export function similarityOff(state: string, distance: number): SimilarityOutcome {
  return { state, distance, hashed: 0, notHashed: 0, similarImages: 0, samples: [] };
}

const SAMPLES = 100;

/**
 * The perceptual step of a registration: each readable image is decoded small and hashed (a
 * second pass after the one read that hashes its bytes; from those bytes in memory when the whole
 * file fitted in the read buffer), then checked against the root's registered hashes and this
 * run's earlier ones: "similar to N registered images".
 */
export class RegistrationSimilarity {
  private readonly paths: string[];
  private readonly index: GrowingHashIndex;
  readonly outcome: SimilarityOutcome;

  private constructor(known: PerceptualHashes, readonly distance: number) {
    this.paths = known.paths;
    this.index = new GrowingHashIndex(known.hi, known.lo, known.count);
    this.outcome = similarityOff('on', distance);
  }

  /** null (with the outcome to report) when sharp cannot be loaded: registration goes on without hashes. */
  static async open(known: () => Promise<PerceptualHashes> | PerceptualHashes, distance: number): Promise<RegistrationSimilarity | SimilarityOutcome> {
    try {
      await assertPerceptualHashAvailable();
    } catch (err) {
      return similarityOff(err instanceof Error ? err.message : String(err), distance);
    }
    return new RegistrationSimilarity(await known(), distance);
  }

  /**
   * Sets `row.phash` for a readable image of a decodable format. `bytes`: the whole file when it
   * is still in memory (no second read), else null (sharp reads the path, from the page cache).
   * A decode failure leaves the hash null and is counted; it never makes the row unreadable.
   */
  async hash(absPath: string, row: ImageRow, bytes: Buffer | null): Promise<void> {
    if (row.status !== 'ok' || !row.format || !DECODABLE.has(row.format)) {
      if (row.status === 'ok') this.outcome.notHashed++;
      return;
    }
    try {
      row.phash = toHex(await perceptualHash(bytes ?? absPath, PERCEPTUAL_ALGORITHM));
      this.outcome.hashed++;
    } catch {
      row.phash = null;
      this.outcome.notHashed++;
    }
  }

  /**
   * Hashes a row just probed: from the probe's buffer when its one read held the whole file (no
   * second read), else from the path.
   */
  hashProbed(absPath: string, row: ImageRow, bytesRead: number, buffer: Buffer): Promise<void> {
    if (row.status !== 'ok') return Promise.resolve();
    const whole = row.size !== null && bytesRead === row.size && row.size <= buffer.length;
    return this.hash(absPath, row, whole ? buffer.subarray(0, row.size as number) : null);
  }

  /** A new row (not a move): its registered near-duplicates are counted, then it joins the index. */
  check(row: ImageRow): void {
    if (!row.phash) return;
    const { hi, lo } = fromHex(row.phash);
    // A changed file's old row is still in the index under its own path: it is not "another image".
    const near = this.index.neighbours(hi, lo, this.distance).filter((n) => this.paths[n.id] !== row.path);
    if (near.length) {
      this.outcome.similarImages++;
      if (this.outcome.samples.length < SAMPLES) {
        this.outcome.samples.push({
          path: row.path,
          similarTo: near.length,
          nearest: near.slice(0, 5).map((n) => ({ path: this.paths[n.id], distance: n.distance })),
        });
      }
    }
    this.index.add(hi, lo);
    this.paths.push(row.path);
  }
}
