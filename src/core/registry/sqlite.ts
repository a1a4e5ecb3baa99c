import * as fs from 'node:fs';
import * as path from 'node:path';
import initSqlJs, { type SqlJsStatic } from 'sql.js';

let loading: Promise<SqlJsStatic> | undefined;

/** Where sql-wasm.wasm is: beside the bundle (dist/), or in the sql.js package (tests, tsc output). */
function wasmPath(): string {
  const candidates = [path.join(__dirname, 'sql-wasm.wasm')];
  try {
    candidates.push(path.join(path.dirname(require.resolve('sql.js')), 'sql-wasm.wasm'));
  } catch {
    // Bundled without node_modules: only the copy beside the bundle exists.
  }
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) throw new Error(`sql-wasm.wasm not found (looked in ${candidates.join(', ')})`);
  return found;
}

/** sql.js, loaded once per process and only when a database is first needed. */
export function loadSqlJs(): Promise<SqlJsStatic> {
  loading ??= (async () => {
    const wasmBinary = await fs.promises.readFile(wasmPath());
    return initSqlJs({ wasmBinary: new Uint8Array(wasmBinary).buffer });
  })();
  return loading;
}
