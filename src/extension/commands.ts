import * as vscode from 'vscode';
import * as path from 'node:path';
import type { StatusCounts } from '../core';
import type { RegisterSelection } from '../core/engine/protocol';
import type { DatasetTreeProvider, Node, RegisterTarget } from './datasetTree';
import type { Dataset, DatasetModel, DatasetSummary } from './model';
import { withCancellableProgress } from './progress';
import { offerTeamDelete, type TeamAnswer, type TeamClearOutcome } from './teamClear';

export const COMMANDS = {
  indexImages: 'datasetIndex.indexImages',
  registerNew: 'datasetIndex.registerNew',
  clearCache: 'datasetIndex.clearCache',
  clearCacheAndRegistry: 'datasetIndex.clearCacheAndRegistry',
  forceRescan: 'datasetIndex.forceRescan',
  verify: 'datasetIndex.verify',
  showLog: 'datasetIndex.showLog',
  registerSelection: 'datasetIndex.registerSelection',
  showMore: 'datasetIndex.showMore',
  copyPath: 'datasetIndex.copyPath',
  revealInExplorer: 'datasetIndex.revealInExplorer',
  cancel: 'datasetIndex.cancel',
} as const;

const n = (x: number): string => x.toLocaleString();

/** What a command returns to a caller (tests, other extensions): plain data, no class instances. */
export interface IndexSummary extends Pick<StatusCounts, 'new' | 'changed' | 'missing' | 'registered' | 'unreadable' | 'duplicateGroups'> {
  folder: string;
  root: string;
  storeDir: string;
  mode: string | null;
  files: number;
  dirsRead: number;
  fsOps: { readdir: number; stat: number } | null;
  cancelled: boolean;
}

function summary(ds: Dataset, s: DatasetSummary | null): IndexSummary {
  return {
    folder: ds.folder.name,
    root: ds.root,
    storeDir: ds.storeDir,
    mode: s?.scan?.mode ?? null,
    files: s?.scan?.files ?? ds.cacheHeader?.files ?? 0,
    new: s?.new ?? 0,
    changed: s?.changed ?? 0,
    missing: s?.missing ?? 0,
    registered: s?.registered ?? 0,
    unreadable: s?.unreadable ?? 0,
    duplicateGroups: s?.duplicateGroups ?? 0,
    dirsRead: s?.scan?.dirsRead ?? 0,
    fsOps: s?.scan?.fsOps ?? null,
    // No summary after the operation: it never ran (cancelled while waiting, or the dataset went away).
    cancelled: s?.scan?.cancelled ?? !s,
  };
}

/**
 * Every command goes through `register`: one place that logs, turns an error into one message
 * for the user, and says so when no folder is open.
 */
export class CommandCenter implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  /** Every team dataset's outcome of "Clear Scan Cache and Registry", in order (the tests read it). */
  readonly teamClears: TeamClearOutcome[] = [];

  constructor(
    private readonly model: DatasetModel,
    private readonly log: vscode.LogOutputChannel,
    private readonly tree: DatasetTreeProvider,
    private readonly testMode: boolean,
  ) {
    this.register(COMMANDS.indexImages, () => this.index({}));
    this.register(COMMANDS.forceRescan, () => this.index({ forceRescan: true }));
    this.register(COMMANDS.verify, () => this.index({ verify: true }));
    this.register(COMMANDS.registerNew, (...args: unknown[]) => this.registerNew(args));
    this.register(COMMANDS.clearCache, () => this.clear(false));
    this.register(COMMANDS.clearCacheAndRegistry, (opts?: unknown) => this.clearWithRegistry(opts));
    this.register(COMMANDS.showLog, () => this.log.show());
    this.register(COMMANDS.cancel, () => this.model.cancelAll());
    // Tree context menu: the clicked node, and the whole selection when several are selected.
    this.register(COMMANDS.registerSelection, (node?: Node, selected?: Node[]) => {
      const nodes = selected?.length ? selected : node ? [node] : [];
      const targets = nodes.map((n) => this.tree.target(n)).filter((t) => t !== null);
      // A selection with nothing registrable in it must not fall back to "register everything".
      return targets.length ? this.registerNew(targets) : [];
    });
    this.register(COMMANDS.showMore, (node: Node) => this.tree.showMore(node));
    this.register(COMMANDS.copyPath, async (node: Node) => {
      const p = nodePath(node);
      if (p) await vscode.env.clipboard.writeText(p);
      return p;
    });
    this.register(COMMANDS.revealInExplorer, async (node: Node) => {
      const p = nodePath(node);
      if (p) await vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(p));
    });
  }

  /** Also used for the commands of other parts (the gallery): one wrapper for all. */
  register(id: string, handler: (...args: never[]) => unknown): void {
    this.disposables.push(
      vscode.commands.registerCommand(id, async (...args: never[]) => {
        try {
          return await handler(...args);
        } catch (err) {
          const message = err instanceof Error ? err.message : String(err);
          this.log.error(`${id}: ${message}`);
          void vscode.window.showErrorMessage(vscode.l10n.t('Dataset Index: {0}', message), vscode.l10n.t('Show Log')).then((choice) => {
            if (choice) this.log.show();
          });
          return undefined;
        }
      }),
    );
  }

  private datasetsOrSay(): readonly Dataset[] {
    const all = this.model.all;
    if (all.length === 0) {
      void vscode.window.showInformationMessage(
        this.model.hasStorage
          ? vscode.l10n.t('Dataset Index: no dataset folder to index (check datasetIndex.roots).')
          : vscode.l10n.t('Dataset Index: open a folder to index its images.'),
      );
    }
    return all;
  }

  private async index(options: { forceRescan?: boolean; verify?: boolean }): Promise<IndexSummary[]> {
    const datasets = this.datasetsOrSay();
    if (datasets.length === 0) return [];
    const title = options.forceRescan
      ? vscode.l10n.t('Dataset Index: full rescan')
      : options.verify
        ? vscode.l10n.t('Dataset Index: verifying files')
        : vscode.l10n.t('Dataset Index: indexing images');
    const results: IndexSummary[] = [];
    await withCancellableProgress(title, async (report, signal) => {
      for (const ds of datasets) {
        if (signal.aborted) break;
        const sub = ds.onProgress((p) => {
          if (p.kind === 'scan') report(vscode.l10n.t('{0}: {1} scan · {2} folders · {3} images', ds.label, p.progress.mode, n(p.progress.dirs), n(p.progress.files)));
        });
        try {
          results.push(summary(ds, await ds.index(options, { signal, background: false })));
        } finally {
          sub.dispose();
        }
      }
    });
    const fresh = results.reduce((sum, r) => sum + r.new + r.changed, 0);
    const files = results.reduce((sum, r) => sum + r.files, 0);
    const cancelled = results.some((r) => r.cancelled);
    const text = cancelled
      ? vscode.l10n.t('Dataset Index: scan cancelled; what was scanned is saved and the next scan resumes.')
      : vscode.l10n.t('Dataset Index: {0} images, {1} new or changed.', n(files), n(fresh));
    const actions = fresh > 0 && !cancelled ? [vscode.l10n.t('Register {0} New Images', n(fresh))] : [];
    void vscode.window.showInformationMessage(text, ...actions).then((choice) => {
      if (!choice) return;
      // The notification may be clicked long after: say so if there is nothing left to register.
      const left = this.model.all.reduce((sum, d) => sum + (d.summary ? d.summary.new + d.summary.changed : 0), 0);
      if (left === 0) void vscode.window.showInformationMessage(vscode.l10n.t('Dataset Index: every image is registered already.'));
      else void vscode.commands.executeCommand(COMMANDS.registerNew);
    });
    return results;
  }

  /**
   * Registers new and changed images of every dataset, or only the selection: tree items carry
   * `{ dataset, selection }` (a file, or a group's files under a folder, resolved in the engine).
   */
  private async registerNew(args: unknown[]): Promise<{ root: string; registered: number; unreadable: number; moved: number; cancelled: boolean }[]> {
    const selection = args.flat().filter((a): a is RegisterTarget => !!a && typeof a === 'object' && 'dataset' in a && 'selection' in a);
    const targets: { ds: Dataset; only?: RegisterSelection }[] = selection.length
      ? [...new Set(selection.map((s) => s.dataset))].map((ds) => {
          const mine = selection.filter((s) => s.dataset === ds).map((s) => s.selection);
          return { ds, only: { paths: mine.flatMap((m) => m.paths ?? []), folders: mine.flatMap((m) => m.folders ?? []) } };
        })
      : this.datasetsOrSay().map((ds) => ({ ds }));
    const results: { root: string; registered: number; unreadable: number; moved: number; similar: number; cancelled: boolean }[] = [];
    if (targets.length === 0) return results;
    await withCancellableProgress(vscode.l10n.t('Dataset Index: registering images'), async (report, signal) => {
      for (const { ds, only } of targets) {
        if (signal.aborted) break;
        report(vscode.l10n.t('{0}: scanning…', ds.label));
        const sub = ds.onProgress((data) => {
          if (data.kind !== 'register') return;
          const p = data.progress;
          report(
            vscode.l10n.t('{0}: {1} / {2} · {3} files/s', ds.label, n(p.done), n(p.total), n(Math.round(p.filesPerSec))) +
              (p.etaSec !== null && p.done < p.total ? vscode.l10n.t(' · {0} left', formatEta(p.etaSec)) : ''),
            p.total ? (100 * p.done) / p.total : undefined,
          );
        });
        try {
          const { report: r } = await ds.register(only, { signal, background: false });
          results.push({ root: ds.root, registered: r?.registered ?? 0, unreadable: r?.unreadable ?? 0, moved: r?.moved ?? 0, similar: r?.similar ?? 0, cancelled: r?.cancelled ?? true });
        } finally {
          sub.dispose();
        }
      }
    });
    const registered = results.reduce((s, r) => s + r.registered, 0);
    const unreadable = results.reduce((s, r) => s + r.unreadable, 0);
    const moved = results.reduce((s, r) => s + r.moved, 0);
    const similar = results.reduce((s, r) => s + r.similar, 0);
    const cancelled = results.some((r) => r.cancelled);
    void vscode.window.showInformationMessage(
      (cancelled
        ? vscode.l10n.t('Dataset Index: registration cancelled after {0} images registered', n(registered))
        : vscode.l10n.t('Dataset Index: {0} images registered', n(registered))) +
        (moved ? vscode.l10n.t(', {0} moved', n(moved)) : '') +
        (unreadable ? vscode.l10n.t(', {0} unreadable (see the Unreadable group)', n(unreadable)) : '') +
        (similar ? vscode.l10n.t(', {0} similar to registered images', n(similar)) : '') +
        (cancelled ? vscode.l10n.t('; run it again to finish.') : '.'),
    );
    return results;
  }

  private async clear(alsoRegistry: boolean): Promise<string[]> {
    const datasets = this.datasetsOrSay();
    for (const ds of datasets) await ds.clearCache(alsoRegistry);
    if (datasets.length && !alsoRegistry) {
      void vscode.window
        .showInformationMessage(vscode.l10n.t('Dataset Index: scan cache cleared for this workspace; the registry is kept.'), vscode.l10n.t('Also Delete Registry…'))
        .then((choice) => {
          if (choice) void vscode.commands.executeCommand(COMMANDS.clearCacheAndRegistry);
        });
    }
    return datasets.map((d) => d.storeDir);
  }

  /**
   * Clear Scan Cache and Registry. Local datasets: one modal, then the cache and the store's
   * registry file go. Datasets on a team registry: their scan cache goes, and their shared rows
   * only after a modal of their own naming the server, dataset and row count (teamClear.ts).
   */
  private async clearWithRegistry(opts: unknown): Promise<string[]> {
    // Test hooks, honoured only when VS Code runs the extension's tests (ExtensionMode.Test).
    const hooks = this.testMode && !!opts && typeof opts === 'object' ? (opts as { skipConfirmation?: boolean; teamAnswer?: TeamAnswer }) : {};
    const skip = hooks.skipConfirmation === true;
    const datasets = this.model.all;
    const local = datasets.filter((d) => !d.team);
    const team = datasets.filter((d) => d.team);
    if (!skip && (local.length > 0 || team.length === 0)) {
      const choice = await vscode.window.showWarningMessage(
        vscode.l10n.t('Delete the scan cache and the registry of this workspace?'),
        {
          modal: true,
          detail:
            vscode.l10n.t('Every image will be new again and must be registered again. Other workspaces are not affected.') +
            (team.length ? ' ' + vscode.l10n.t('Datasets on a team registry: only their scan cache is cleared now; deleting their shared rows is asked next.') : ''),
        },
        vscode.l10n.t('Clear Cache and Registry'),
      );
      if (!choice) return [];
    }
    const stores = await this.clear(true);
    if (local.length) void vscode.window.showInformationMessage(vscode.l10n.t('Dataset Index: scan cache and registry cleared for this workspace.'));
    // A test that configured a team registry answers for itself; one that did not must never see the modal.
    const answer = hooks.teamAnswer ?? (skip ? 'keep' : undefined);
    for (const ds of team) this.teamClears.push(await offerTeamDelete(ds, answer, this.log));
    return stores;
  }

  dispose(): void {
    vscode.Disposable.from(...this.disposables).dispose();
  }
}

function nodePath(node: Node | undefined): string | null {
  if (!node) return null;
  if (node.kind === 'image') return path.join(node.ds.root, node.rel);
  if (node.kind === 'folder') return path.join(node.ds.root, node.dir);
  if (node.kind === 'dataset' || node.kind === 'group') return node.ds.root;
  return null;
}

function formatEta(secs: number): string {
  if (secs < 60) return `${Math.ceil(secs)} s`;
  if (secs < 3600) return `${Math.round(secs / 60)} min`;
  return `${(secs / 3600).toFixed(1)} h`;
}
