import * as vscode from 'vscode';
import { EngineClient } from '../core/engine/client';
import type { Method } from '../core/engine/protocol';
import { closeScanThreads } from '../core/scanner/dirWorkerPool';
import { CommandCenter } from './commands';
import { DatasetTreeProvider, type Node } from './datasetTree';
import { DatasetModel, type Dataset } from './model';
import type { OperationRequest } from './operations';
import { REGISTRY_CHOICE, SCAN_SHAPING, SECTION } from './settings';
import { StatusBar } from './statusBar';
import { activateTeamRegistry } from './teamRegistry';
import type { TeamClearOutcome } from './teamClear';
import { ThumbnailService } from './thumbnails';
import { DatasetWatcher } from './watcher';
import { GALLERY_COMMANDS, GalleryController, type GalleryTestApi } from './gallery/gallery';
import { galleryThumbnails } from './gallery/thumbnails';

export const VIEW_ID = 'datasetIndex.images';

/** An operation's end, as the test API reports it. */
export interface OperationEndEvent {
  root: string;
  request: OperationRequest;
  background: boolean;
  cancelled: boolean;
  error?: string;
}

/**
 * What the extension's own tests read. Exported only when VS Code runs the extension's tests
 * (ExtensionMode.Test): other extensions and users never see it.
 */
export interface DatasetIndexApi {
  /** The datasets (one per root of each workspace folder) and where each keeps its store. */
  datasets(): { folder: string; root: string; storeDir: string }[];
  /** The tree's data provider and view. */
  readonly tree: DatasetTreeProvider;
  readonly view: vscode.TreeView<Node>;
  /** The status bar text as shown. */
  statusBarText(): string;
  /** Fires after watcher events were applied (or turned into a rescan). */
  readonly onDidApplyFileEvents: vscode.Event<{ root: string; rescan: string | null; added: number; removed: number; changed: number }>;
  /** The gallery panels, as their webviews see them: only in ExtensionMode.Test. */
  readonly gallery?: GalleryTestApi;
  /** Fires with the elements each tree refresh named (`undefined` = the whole tree). */
  readonly onDidFireTreeChange: vscode.Event<readonly (Node | undefined)[]>;
  /** Whether an operation runs (the datasetIndex.busy context key). */
  busy(): boolean;
  /** Operations waiting behind the running ones (all datasets). */
  waiting(): number;
  /** Fires when an operation ends: which, whether in the background, whether it was cancelled. */
  readonly onDidEndOperation: vscode.Event<OperationEndEvent>;
  /** Requests the host sent to the engine worker, per method. */
  engineCalls(): Partial<Record<Method, number>>;
  /** What "Clear Scan Cache and Registry" did to each team dataset so far (question asked, rows deleted). */
  teamClears(): readonly TeamClearOutcome[];
  /** Stores a team registry URL's password in SecretStorage, as "Set Team Registry Password" does (no input box). */
  setTeamPassword(url: string, password: string): Promise<void>;
}

/**
 * Activation builds objects and subscribes to events, nothing more: no scan, no sql.js, no cache
 * read until a command runs or the view is opened. The engine worker starts on first use.
 */
export function activate(context: vscode.ExtensionContext): DatasetIndexApi | undefined {
  const testMode = context.extensionMode === vscode.ExtensionMode.Test;
  const log = vscode.window.createOutputChannel('Dataset Index', { log: true });
  const passwords = activateTeamRegistry(context);
  const engine = new EngineClient();
  engine.onLog = (level, line) => (level === 'warn' ? log.warn(line) : log.info(line));
  const model = new DatasetModel(context.storageUri, engine, log);
  const thumbs = new ThumbnailService<Node>(engine, log);
  const tree = new DatasetTreeProvider(model, thumbs);
  const view = vscode.window.createTreeView(VIEW_ID, { treeDataProvider: tree, showCollapseAll: true, canSelectMany: true });
  const commands = new CommandCenter(model, log, tree, testMode);
  const statusBar = new StatusBar(model);
  /** A refresh nobody asked for: shown in the status bar (with Cancel), errors only logged. */
  const backgroundIndex = async (ds: Dataset, reason: string): Promise<void> => {
    log.info(`${ds.label}: ${reason}`);
    await ds.index({}, { background: true }).catch((err: unknown) => log.error(`${ds.label}: ${err instanceof Error ? err.message : String(err)}`));
  };
  const watcher = new DatasetWatcher(model, log, (ds, reason) => backgroundIndex(ds, `quick rescan (${reason})`));
  let lastBusy: boolean | null = null;
  const updateBusy = (): void => {
    const busy = model.busy;
    if (busy === lastBusy) return;
    lastBusy = busy;
    void vscode.commands.executeCommand('setContext', 'datasetIndex.busy', busy);
  };
  const gallery = new GalleryController(context.extensionUri, model, tree, view, log, (ds) => galleryThumbnails(thumbs, ds));
  commands.register(GALLERY_COMMANDS.open, (arg?: unknown, selected?: unknown) => gallery.open(arg, selected));
  commands.register(GALLERY_COMMANDS.openPaths, (paths: unknown, label?: unknown) => gallery.openPaths(paths, label));
  const updateContext = (): void => {
    void vscode.commands.executeCommand('setContext', 'datasetIndex.indexed', model.all.some((d) => d.summary !== null));
    const total = model.all.reduce((s, d) => s + (d.summary ? d.summary.new + d.summary.changed : 0), 0);
    view.badge = total > 0 ? { value: total, tooltip: vscode.l10n.t('{0} new or changed images', total.toLocaleString()) } : undefined;
  };
  let opened = false;
  context.subscriptions.push(
    log,
    model,
    thumbs,
    tree,
    view,
    commands,
    gallery,
    statusBar,
    watcher,
    model.onDidChange(updateContext),
    model.onDidChangeBusy(updateBusy),
    // Opening the view is the first moment its content is needed: refresh from the cache, in the background.
    view.onDidChangeVisibility((e) => {
      if (!e.visible || opened) return;
      opened = true;
      for (const ds of model.all) if (!ds.summary && ds.cacheHeader) void backgroundIndex(ds, `refreshing ${ds.label}`);
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration(SECTION)) return;
      const indexed = new Set(model.all.filter((d) => d.summary || d.busy).map((d) => d.folder.uri.toString()));
      // Datasets whose scan-shaping settings changed are disposed: their running work is aborted.
      // So are those whose registry changed (local ↔ team, another server or dataset): their counts came from the old one.
      model.reloadSettings((folder) => [...SCAN_SHAPING, ...REGISTRY_CHOICE].some((key) => e.affectsConfiguration(key, folder.uri)));
      watcher.sync();
      // What was indexed (or being indexed) stays indexed: with new extensions or excludes, that is a full scan.
      for (const ds of model.all) if (indexed.has(ds.folder.uri.toString()) && !ds.summary && !ds.busy) void backgroundIndex(ds, `settings changed: rescanning ${ds.label}`);
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => model.rebuild()),
    { dispose: () => void engine.dispose() },
  );
  updateContext();
  updateBusy();
  if (!testMode) return undefined;
  const applied = new vscode.EventEmitter<{ root: string; rescan: string | null; added: number; removed: number; changed: number }>();
  const ended = new vscode.EventEmitter<OperationEndEvent>();
  context.subscriptions.push(
    applied,
    ended,
    watcher.onDidApply((e) => applied.fire({ root: e.ds.root, rescan: e.rescan, added: e.added, removed: e.removed, changed: e.changed })),
    model.onDidEndOperation((e) => ended.fire({ root: e.ds.root, request: e.request, background: e.background, cancelled: e.cancelled, error: e.error })),
  );
  return {
    datasets: () => model.all.map((d) => ({ folder: d.folder.name, root: d.root, storeDir: d.storeDir })),
    tree,
    view,
    statusBarText: () => statusBar.text,
    onDidApplyFileEvents: applied.event,
    gallery: context.extensionMode === vscode.ExtensionMode.Test ? gallery.testApi() : undefined,
    onDidFireTreeChange: tree.onDidFire,
    busy: () => model.busy,
    waiting: () => model.all.reduce((n, d) => n + d.operations.pending, 0),
    onDidEndOperation: ended.event,
    engineCalls: () => Object.fromEntries(engine.calls),
    teamClears: () => commands.teamClears,
    setTeamPassword: (url, password) => passwords.store(url, password),
  };
}

/** Ends the scan's worker threads if any are idle (a running scan's are left to finish). */
export function deactivate(): Promise<void> {
  return closeScanThreads();
}
