import type { Database } from 'sql.js';

/** The table (or view) and column an external spec names, spelt as the database spells them. */
export interface ResolvedSource {
  table: string;
  column: string;
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function strings(db: Database, sql: string, params: string[] = []): string[] {
  const stmt = db.prepare(sql, params);
  const out: string[] = [];
  try {
    while (stmt.step()) out.push(String(stmt.get()[0]));
  } finally {
    stmt.free();
  }
  return out;
}

function listed(names: string[]): string {
  return names.length ? names.join(', ') : 'none';
}

/**
 * SQLite names are case-insensitive (ASCII), so `Images` or `FILE_PATH` must find `images` and
 * `file_path`; the real spelling is returned. `main.images` names the same table; another schema
 * (an attached database) cannot exist in a file opened alone, so it is refused by name.
 */
export function resolveSource(db: Database, file: string, table: string, column: string): ResolvedSource {
  const tables = strings(db, "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name");
  const lower = (s: string): string => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
  const find = (name: string): string | undefined => tables.find((t) => t === name) ?? tables.find((t) => lower(t) === lower(name));
  let real = find(table);
  const dot = table.indexOf('.');
  if (real === undefined && dot > 0) {
    const schema = table.slice(0, dot);
    if (lower(schema) !== 'main') {
      throw new Error(`--table ${table}: schema ${schema} is not in ${file} (only main, the file itself, can be read; tables: ${listed(tables)})`);
    }
    real = find(table.slice(dot + 1));
  }
  if (real === undefined) throw new Error(`the external registry ${file} has no table ${table} (tables: ${listed(tables)})`);
  const columns = strings(db, `SELECT name FROM pragma_table_info(?)`, [real]);
  const col = columns.find((c) => c === column) ?? columns.find((c) => lower(c) === lower(column));
  if (col === undefined) throw new Error(`table ${real} in ${file} has no column ${column} (columns: ${listed(columns)})`);
  return { table: real, column: col };
}
