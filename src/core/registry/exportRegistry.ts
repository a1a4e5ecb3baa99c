import * as path from 'node:path';
import type { Writable } from 'node:stream';
import { once } from 'node:events';
import { Registry, type ImageRow } from './registry';

export type ExportFormat = 'csv' | 'jsonl';

const COLUMNS = ['path', 'abs_path', 'size', 'mtime_ms', 'hash', 'width', 'height', 'format', 'status', 'reason', 'registered_at'] as const;

function csvField(v: string | number | null): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function record(root: string, r: ImageRow): Record<(typeof COLUMNS)[number], string | number | null> {
  return {
    path: r.path,
    abs_path: path.join(root, r.path),
    size: r.size,
    mtime_ms: r.mtimeMs,
    hash: r.hash,
    width: r.width,
    height: r.height,
    format: r.format,
    status: r.status,
    reason: r.reason,
    registered_at: new Date(r.registeredAt).toISOString(),
  };
}

/**
 * Writes a root's registry as a training manifest, streaming rows with back-pressure (a million
 * rows are never held at once). Returns the number of rows written.
 */
export async function exportRegistry(registryFile: string, root: string, format: ExportFormat, out: Writable): Promise<number> {
  const { registry } = await Registry.open(registryFile, { readOnly: true });
  let n = 0;
  try {
    const write = async (line: string): Promise<void> => {
      if (!out.write(line)) await once(out, 'drain');
    };
    if (format === 'csv') await write(COLUMNS.join(',') + '\n');
    for (const row of registry.rows(registry.findRootId(path.resolve(root)))) {
      const rec = record(path.resolve(root), row);
      await write(format === 'csv' ? COLUMNS.map((c) => csvField(rec[c])).join(',') + '\n' : JSON.stringify(rec) + '\n');
      n++;
    }
  } finally {
    registry.close();
  }
  return n;
}
