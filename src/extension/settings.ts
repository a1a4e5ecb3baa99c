import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ExternalRegistrySpec, ScanOptions } from '../core';
import { DEFAULT_SIMILAR_DISTANCE, MAX_SIMILAR_DISTANCE } from '../core/similar/defaults';
import { readTeamSetting, type TeamSetting } from './teamRegistry';

export const SECTION = 'datasetIndex';

/** An integer from 0 to MAX_SIMILAR_DISTANCE; anything else (a hand-edited settings.json) is clamped. */
function similarDistanceOf(v: unknown): number {
  const n = typeof v === 'number' && Number.isFinite(v) ? Math.round(v) : DEFAULT_SIMILAR_DISTANCE;
  return Math.max(0, Math.min(MAX_SIMILAR_DISTANCE, n));
}

export interface FolderSettings {
  /** Absolute dataset roots inside (or, in a trusted workspace, outside) the folder. */
  roots: string[];
  scanOptions: Partial<ScanOptions>;
  maxAgeMs: number;
  watch: boolean;
  registerConcurrency: number;
  /** datasetIndex.perceptualHash: a perceptual hash per registered image (near-duplicates). */
  perceptualHash: boolean;
  /** datasetIndex.similar.distance: the Hamming distance of near-duplicates (Similar group, registration's check). */
  similarDistance: number;
  registeredFrom?: ExternalRegistrySpec;
  /** A team registry on PostgreSQL instead of the store's SQLite file. */
  team?: TeamSetting;
}

/** Settings that change what a snapshot contains: a change invalidates the cache. */
export const SCAN_SHAPING = ['imageExtensions', 'exclude', 'roots', 'followSymlinks', 'crossFileSystems'].map((k) => `${SECTION}.${k}`);

/** Settings that choose the registry: a change makes the dataset's counts stale (they came from the other one). */
export const REGISTRY_CHOICE = ['registry.url', 'registry.dataset'].map((k) => `${SECTION}.${k}`);

function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

export function readSettings(folder: vscode.WorkspaceFolder): FolderSettings {
  const cfg = vscode.workspace.getConfiguration(SECTION, folder.uri);
  const base = folder.uri.fsPath;
  const trusted = vscode.workspace.isTrusted;
  const rootSetting = cfg.get<string[]>('roots', []).filter((r) => typeof r === 'string' && r.trim() !== '');
  // In an untrusted workspace, settings may not point the extension outside the folder.
  const roots = rootSetting.length
    ? rootSetting.map((r) => path.resolve(base, r)).filter((r) => trusted || isInside(r, base))
    : [base];
  const extensions = cfg.get<string[]>('imageExtensions');
  const exclude = cfg.get<string[]>('exclude');
  const from = cfg.get<{ file?: string; table?: string; pathColumn?: string } | null>('registeredFrom', null);
  const registeredFrom =
    from?.file && from.table && from.pathColumn && (trusted || isInside(path.resolve(base, from.file), base))
      ? { file: path.resolve(base, from.file), table: from.table, pathColumn: from.pathColumn }
      : undefined;
  return {
    roots: [...new Set(roots)],
    scanOptions: {
      ...(extensions && extensions.length ? { extensions } : {}),
      ...(exclude ? { exclude } : {}),
      followSymlinks: cfg.get<boolean>('followSymlinks', false),
      ...(cfg.get<boolean>('crossFileSystems', false) ? { crossFileSystems: true } : {}),
    },
    maxAgeMs: Math.max(0, cfg.get<number>('cacheMaxAgeHours', 24)) * 3_600_000,
    watch: cfg.get<boolean>('watch', true),
    registerConcurrency: Math.max(1, Math.floor(cfg.get<number>('registration.concurrency', 8))),
    perceptualHash: cfg.get<boolean>('perceptualHash', true),
    similarDistance: similarDistanceOf(cfg.get<number>('similar.distance', DEFAULT_SIMILAR_DISTANCE)),
    registeredFrom,
    team: readTeamSetting(cfg, trusted),
  };
}
