import type { ImageRow } from '../core';

/** How long a looked-up row is trusted: a team registry changes under us (other registrars). */
const FRESH_MS = 30_000;
/** Rows kept at most (a few pages); beyond, the cache starts over. */
const MAX_ROWS = 5_000;
/** Paths per request: a page of the tree (PAGE_SIZE, or more after "Show more…"). */
const MAX_ASK = 2_000;

/**
 * The registry rows the tree's tooltips show. Hovering an image asks for the rows of its whole
 * page (the siblings the tree showed with it) in one request — one query with a team registry —
 * so hovering down a folder costs one round trip, not one per image. Rows are kept a short
 * while and dropped whenever the dataset changes (a registration, a clear, file events).
 */
export class TooltipRows {
  private rows = new Map<string, { row: ImageRow | null; at: number }>();
  private readonly asking = new Map<string, Promise<void>>();
  /** Bumped by clear(): answers to requests sent before it are not kept. */
  private generation = 0;

  constructor(private readonly fetch: (rels: string[]) => Promise<(ImageRow | null)[]>) {}

  async get(rel: string, page: readonly string[] = []): Promise<ImageRow | null> {
    const now = Date.now();
    const fresh = (p: string): boolean => {
      const hit = this.rows.get(p);
      return !!hit && now - hit.at < FRESH_MS;
    };
    if (fresh(rel)) return this.rows.get(rel)?.row ?? null;
    const pending = this.asking.get(rel);
    if (pending) {
      await pending;
      if (fresh(rel)) return this.rows.get(rel)?.row ?? null;
    }
    const want = [rel];
    for (const p of page) {
      if (want.length >= MAX_ASK) break;
      if (p !== rel && !fresh(p) && !this.asking.has(p)) want.push(p);
    }
    const generation = this.generation;
    const asked = this.fetch(want).then((rows) => {
      if (generation !== this.generation) return;
      if (this.rows.size + rows.length > MAX_ROWS) this.rows = new Map();
      const at = Date.now();
      rows.forEach((row, i) => this.rows.set(want[i], { row, at }));
    });
    for (const p of want) this.asking.set(p, asked);
    try {
      await asked;
    } finally {
      for (const p of want) if (this.asking.get(p) === asked) this.asking.delete(p);
    }
    if (generation !== this.generation) return (await this.fetch([rel]))[0];
    return this.rows.get(rel)?.row ?? null;
  }

  clear(): void {
    this.generation++;
    this.rows = new Map();
  }
}
