import type { Database } from 'sql.js';

/**
 * The registry schema. `PRAGMA user_version` holds the version; each migration takes a database
 * from version i to i+1, in one transaction, so an old file opens and is brought forward.
 */
const MIGRATIONS: readonly string[] = [
  // 0 → 1
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE roots (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    added_at TEXT NOT NULL
  );
  CREATE TABLE images (
    root_id INTEGER NOT NULL REFERENCES roots(id),
    path TEXT NOT NULL,
    size INTEGER,
    mtime_ms REAL,
    hash TEXT,
    width INTEGER,
    height INTEGER,
    format TEXT,
    status TEXT NOT NULL CHECK (status IN ('ok', 'unreadable')),
    reason TEXT,
    registered_at INTEGER NOT NULL,
    PRIMARY KEY (root_id, path)
  ) WITHOUT ROWID;
  CREATE INDEX images_hash ON images(hash);
  CREATE VIEW images_readable AS
    SELECT r.path AS root, i.path, r.path || '/' || i.path AS abs_path, i.size, i.mtime_ms, i.hash,
           i.width, i.height, i.format, i.status, i.reason,
           strftime('%Y-%m-%dT%H:%M:%fZ', i.registered_at / 1000.0, 'unixepoch') AS registered_at
    FROM images i JOIN roots r ON r.id = i.root_id;
  `,
  // 1 → 2: duplicate groups are asked per root; an index on (root_id, hash) serves them in hash
  // order without sorting every row in a temporary B-tree (3 s → fraction at 1M rows).
  `
  CREATE INDEX images_root_hash ON images(root_id, hash);
  DROP INDEX images_hash;
  `,
  // 2 → 3: the diff asks for a root's unreadable rows; a partial index holds only those (a few),
  // where a scan of every row for them cost 160–260 ms at 1M rows.
  `
  CREATE INDEX images_unreadable ON images(root_id, path) WHERE status = 'unreadable';
  `,
  // 3 → 4: one \`format\` name per format (IMAGE_FORMATS). Earlier versions wrote image-size's
  // names: BigTIFF and bare JPEG XL / JPEG 2000 codestreams under names of their own, AVIF as
  // heif (its extension is the best evidence left without reading the file), and an SVG named
  // like an image as a readable \`svg\` — it is no raster image.
  `
  UPDATE images SET format = 'tiff' WHERE format = 'bigtiff';
  UPDATE images SET format = 'jxl' WHERE format = 'jxl-stream';
  UPDATE images SET format = 'jp2' WHERE format = 'j2c';
  UPDATE images SET format = 'avif' WHERE format = 'heif' AND lower(path) LIKE '%.avif';
  UPDATE images SET status = 'unreadable', reason = 'not a raster image (SVG)', format = NULL, width = NULL, height = NULL
    WHERE format = 'svg';
  `,
  // 4 → 5: a 64-bit perceptual hash per image (similar/perceptualHash.ts), as a signed INTEGER
  // (SQLite has no unsigned 64-bit type; the bits are what count). NULL for rows registered before,
  // with --no-phash, or whose pixels could not be decoded. The view shows it as 16 hex digits.
  `
  ALTER TABLE images ADD COLUMN phash INTEGER;
  DROP VIEW images_readable;
  CREATE VIEW images_readable AS
    SELECT r.path AS root, i.path, r.path || '/' || i.path AS abs_path, i.size, i.mtime_ms, i.hash,
           i.width, i.height, i.format, i.status, i.reason,
           strftime('%Y-%m-%dT%H:%M:%fZ', i.registered_at / 1000.0, 'unixepoch') AS registered_at,
           CASE WHEN i.phash IS NULL THEN NULL ELSE printf('%016x', i.phash) END AS phash
    FROM images i JOIN roots r ON r.id = i.root_id;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export function schemaVersion(db: Database): number {
  return Number(db.exec('PRAGMA user_version')[0].values[0][0]);
}

/** Returns the version the file had before. Throws if the file is newer than this tool. */
export function migrate(db: Database): number {
  const from = schemaVersion(db);
  if (from > SCHEMA_VERSION) {
    throw new Error(`registry schema version ${from} is newer than this tool understands (${SCHEMA_VERSION}); upgrade dataset-index`);
  }
  for (let v = from; v < SCHEMA_VERSION; v++) {
    db.exec('BEGIN');
    try {
      db.exec(MIGRATIONS[v]);
      db.exec(`PRAGMA user_version = ${v + 1}`);
      db.exec('COMMIT');
    } catch (err) {
      db.exec('ROLLBACK');
      throw err;
    }
  }
  return from;
}
