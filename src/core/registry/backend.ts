import { emptyIndex, type DuplicateGroup, type HashedRow, type ImageRow, type PerceptualHashes, type RegisteredIndex, type Registry } from './registry';

/**
 * What the core operations need of a registry, whichever database holds it: one dataset's rows
 * (a root in the local SQLite file, a named dataset in a team registry on PostgreSQL). Every
 * method is set-based — one query (or one COPY) for the whole dataset or a whole batch, never
 * one per file.
 */
export interface RegistryReader {
  /** Where the rows live, for messages: a file path, or a URL without its password. */
  readonly location: string;
  /** Every row's path in path order (sizes and mtimes too when `withStats`), arranged by folder. */
  loadIndex(options?: { withStats?: boolean }): Promise<RegisteredIndex>;
  /** Groups of rows with the same content hash (rows of files gone from disk included). */
  duplicateGroups(): Promise<DuplicateGroup[]>;
  /** The rows' perceptual hashes (near-duplicates), in path order, and how many readable rows have none. */
  perceptualHashes(): Promise<PerceptualHashes>;
  /** Every row in path order, streamed (export, `list --jsonl`). */
  rows(): AsyncIterable<ImageRow>;
  count(): Promise<number>;
  close(): Promise<void>;
}

export interface RegistryWriter extends RegistryReader {
  /** Path, hash and size of those of `paths` that have a hash (the missing rows, for moves), in path order. */
  hashedRowsOf(paths: readonly string[]): Promise<HashedRow[]>;
  /** Inserts or replaces rows, in one transaction. */
  upsert(rows: readonly ImageRow[]): Promise<void>;
  /** Rows of moved files follow them (new path and probe, same registration time), in one transaction. */
  move(moves: readonly { from: string; row: ImageRow }[]): Promise<void>;
  /** Deletes rows by path in one transaction; returns how many went. */
  remove(paths: readonly string[]): Promise<number>;
  /** Makes what was written durable: the SQLite file's atomic save; PostgreSQL commits each write already. */
  commit(): Promise<void>;
}

/**
 * The local SQLite registry as a backend: the Registry object and one root's id (null: the root
 * was never registered, so it has no rows). A thin adapter: the Registry's own behaviour (lock,
 * fence, atomic saves) is unchanged, and register keeps driving it directly.
 */
export class SqliteBackend implements RegistryWriter {
  readonly location: string;

  constructor(
    readonly registry: Registry,
    readonly rootId: number | null,
    private readonly beforeSave?: () => void,
  ) {
    this.location = registry.file;
  }

  loadIndex(options: { withStats?: boolean } = {}): Promise<RegisteredIndex> {
    return Promise.resolve(this.rootId === null ? emptyIndex() : this.registry.loadIndex(this.rootId, options));
  }

  duplicateGroups(): Promise<DuplicateGroup[]> {
    return Promise.resolve(this.registry.duplicateGroups(this.rootId));
  }

  perceptualHashes(): Promise<PerceptualHashes> {
    return Promise.resolve(this.registry.perceptualHashes(this.rootId));
  }

  async *rows(): AsyncIterable<ImageRow> {
    yield* this.registry.rows(this.rootId);
  }

  count(): Promise<number> {
    return Promise.resolve(this.registry.count(this.rootId));
  }

  hashedRowsOf(paths: readonly string[]): Promise<HashedRow[]> {
    return Promise.resolve(this.rootId === null ? [] : this.registry.hashedRowsOf(this.rootId, paths));
  }

  upsert(rows: readonly ImageRow[]): Promise<void> {
    this.registry.upsert(this.writableRoot(), rows);
    return Promise.resolve();
  }

  move(moves: readonly { from: string; row: ImageRow }[]): Promise<void> {
    this.registry.move(this.writableRoot(), moves);
    return Promise.resolve();
  }

  remove(paths: readonly string[]): Promise<number> {
    return Promise.resolve(this.rootId === null ? 0 : this.registry.remove(this.rootId, paths));
  }

  async commit(): Promise<void> {
    this.beforeSave?.();
    await this.registry.save();
  }

  close(): Promise<void> {
    this.registry.close();
    return Promise.resolve();
  }

  private writableRoot(): number {
    if (this.rootId === null) throw new Error('this registry was opened for a root it does not hold; open it with the root registered');
    return this.rootId;
  }
}
