import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Writable } from 'node:stream';
import { once } from 'node:events';
import { Registry, type ImageRow } from './registry';
import type { RegistryReader } from './backend';
import { openAtomic, writeError } from '../fsutil/atomicWrite';
import { canonicalRoot } from '../roots';

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

export interface ExportCounts {
  written: number;
  /** Rows not written because their path is in `leaveOut` (files no longer on disk). */
  leftOut: number;
}

/** A root has nothing to export: no registry, or no rows of it. */
export class NothingRegisteredError extends Error {}

/** Throws NothingRegisteredError unless the registry has rows of `root` (one count query). */
export async function assertRegistered(registryFile: string, storeDir: string, root: string): Promise<void> {
  const nothing = new NothingRegisteredError(`no registered images for ${path.resolve(root)} in ${storeDir}`);
  if (!fs.existsSync(registryFile)) throw nothing;
  const { registry } = await Registry.open(registryFile, { readOnly: true });
  try {
    if (registry.count(registry.findRootId(path.resolve(root))) === 0) throw nothing;
  } finally {
    registry.close();
  }
}

/**
 * Writes a root's registry as a training manifest, streaming rows with back-pressure (a million
 * rows are never held at once), without the rows whose path is in `leaveOut`. `source`: the
 * SQLite registry file, or an open backend (a team registry's dataset; the caller closes it).
 */
export async function exportRegistry(
  source: string | RegistryReader, root: string, format: ExportFormat, out: Writable, leaveOut?: ReadonlySet<string>,
): Promise<ExportCounts> {
  const registry = typeof source === 'string' ? (await Registry.open(source, { readOnly: true })).registry : null;
  let n = 0;
  let leftOut = 0;
  // A write error may come while no one waits for 'drain': keep it, and stop at the next row.
  let failed: Error | null = null;
  const onError = (err: Error): void => {
    failed ??= err;
  };
  // Set by the listener: read through this so type narrowing does not take it for always null.
  const throwIfFailed = (): void => {
    if (failed) throw failed;
  };
  out.on('error', onError);
  try {
    const write = async (line: string): Promise<void> => {
      throwIfFailed();
      if (!out.write(line)) await once(out, 'drain');
    };
    if (format === 'csv') await write(COLUMNS.join(',') + '\n');
    const real = await canonicalRoot(root); // rows are keyed by the real folder (see canonicalRoot)
    const rows = registry ? registry.rows(registry.findRootId(real)) : (source as RegistryReader).rows();
    for await (const row of rows) {
      if (leaveOut?.has(row.path)) {
        leftOut++;
        continue;
      }
      const rec = record(real, row);
      await write(format === 'csv' ? COLUMNS.map((c) => csvField(rec[c])).join(',') + '\n' : JSON.stringify(rec) + '\n');
      n++;
    }
    throwIfFailed();
  } finally {
    out.off('error', onError);
    registry?.close();
  }
  return { written: n, leftOut };
}

/** The export target is one of the store's own files, or inside the store. */
export class ExportTargetError extends Error {}

async function realPathOf(p: string): Promise<string> {
  // The deepest existing ancestor, resolved, plus the rest: a target need not exist yet.
  const abs = path.resolve(p);
  try {
    return await fs.promises.realpath(abs);
  } catch {
    const parent = path.dirname(abs);
    return parent === abs ? abs : path.join(await realPathOf(parent), path.basename(abs));
  }
}

/**
 * Exports to a file atomically (a failed export never leaves half a manifest, nor replaces the
 * old one). A target that resolves into the store — the registry, its lock, a scan cache — is
 * refused: an export there would destroy what it reads.
 */
export async function exportRegistryToFile(
  registryFile: string | RegistryReader, storeDir: string, root: string, format: ExportFormat, target: string, leaveOut?: ReadonlySet<string>,
): Promise<ExportCounts> {
  const [real, store] = await Promise.all([realPathOf(target), realPathOf(storeDir)]);
  const rel = path.relative(store, real);
  if (rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel))) {
    throw new ExportTargetError(`refusing to export to ${target}: it is inside the store ${storeDir} (registry and caches live there)`);
  }
  const file = await openAtomic(target);
  const out = fs.createWriteStream('', { fd: file.handle, autoClose: false });
  try {
    const n = await exportRegistry(registryFile, root, format, out, leaveOut);
    await new Promise<void>((resolve, reject) => {
      out.once('error', reject);
      out.end(resolve);
    });
    await file.commit();
    return n;
  } catch (err) {
    out.destroy();
    await file.abort();
    throw err instanceof Error && (err as NodeJS.ErrnoException).code ? writeError(target, err) : err;
  }
}
