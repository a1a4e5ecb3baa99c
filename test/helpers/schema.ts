/**
 * SQL that turns a current registry back into what version 4 wrote (no phash column, the view
 * without it), for tests that simulate older files: run it before lowering user_version.
 */
export const UNDO_V5 = [
  'DROP VIEW images_readable',
  'ALTER TABLE images DROP COLUMN phash',
  `CREATE VIEW images_readable AS
    SELECT r.path AS root, i.path, r.path || '/' || i.path AS abs_path, i.size, i.mtime_ms, i.hash,
           i.width, i.height, i.format, i.status, i.reason,
           strftime('%Y-%m-%dT%H:%M:%fZ', i.registered_at / 1000.0, 'unixepoch') AS registered_at
    FROM images i JOIN roots r ON r.id = i.root_id`,
  'PRAGMA user_version = 4',
].join('; ') + ';';
