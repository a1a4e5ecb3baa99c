import * as vscode from 'vscode';
import { closeScanThreads } from '../core/scanner/dirWorkerPool';
import { CommandCenter } from './commands';
import { DatasetTreeProvider, type Node } from './datasetTree';
import { DatasetModel, type Dataset } from './model';
import { SCAN_SHAPING, SECTION } from './settings';
import { StatusBar } from './statusBar';
import { ThumbnailService } from './thumbnails';
import { DatasetWatcher } from './watcher';
import { GALLERY_COMMANDS, GalleryController, type GalleryTestApi } from './gallery/gallery';
import { galleryThumbnails } from './gallery/thumbnails';

export const VIEW_ID = 'datasetIndex.images';

export interface DatasetIndexApi {
  /** The datasets (one per root of each workspace folder) and where each keeps its store. */
  datasets(): { folder: string; root: string; storeDir: string }[];
  /** The tree's data provider and view, for tests and for other extensions to read. */
  readonly tree: vscode.TreeDataProvider<Node>;
  readonly view: vscode.TreeView<Node>;
  /** The status bar text as shown. */
  statusBarText(): string;
  /** Fires after watcher events were applied (or turned into a rescan). */
  readonly onDidApplyFileEvents: vscode.Event<{ root: string; rescan: string | null; added: number; removed: number; changed: number }>;
  /** The gallery panels, as their webviews see them: only in ExtensionMode.Test. */
  readonly gallery?: GalleryTestApi;
}

/**
 * Activation builds objects and subscribes to events, nothing more: no scan, no sql.js, no cache
 * read until a command runs or the view is opened.
 */
export function activate(context: vscode.ExtensionContext): DatasetIndexApi {
  const log = vscode.window.createOutputChannel('Dataset Index', { log: true });
  const model = new DatasetModel(context.storageUri, log);
  const thumbs = new ThumbnailService<Node>(log);
  const tree = new DatasetTreeProvider(model, thumbs);
  const view = vscode.window.createTreeView(VIEW_ID, { treeDataProvider: tree, showCollapseAll: true, canSelectMany: true });
  const commands = new CommandCenter(model, log, tree);
  const statusBar = new StatusBar(model);
  const gallery = new GalleryController(context.extensionUri, model, tree, view, log, (ds) => galleryThumbnails(thumbs, ds));
  commands.register(GALLERY_COMMANDS.open, (arg?: unknown, selected?: unknown) => gallery.open(arg, selected));
  commands.register(GALLERY_COMMANDS.openPaths, (paths: unknown, label?: unknown) => gallery.openPaths(paths, label));
  const backgroundIndex = (ds: Dataset, reason: string): Thenable<unknown> =>
    vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `Dataset Index: ${reason}` }, () =>
      ds.index().catch((err: unknown) => log.error(`${ds.label}: ${err instanceof Error ? err.message : String(err)}`)),
    );
  const watcher = new DatasetWatcher(model, log, (ds, reason) => Promise.resolve(backgroundIndex(ds, `quick rescan (${reason})`)));
  const updateContext = (): void => {
    void vscode.commands.executeCommand('setContext', 'datasetIndex.indexed', model.all.some((d) => d.status !== null));
    const total = model.all.reduce((s, d) => s + (d.status ? d.status.new + d.status.changed : 0), 0);
    view.badge = total > 0 ? { value: total, tooltip: `${total.toLocaleString()} new or changed images` } : undefined;
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
    // Opening the view is the first moment its content is needed: refresh from the cache, in the background.
    view.onDidChangeVisibility((e) => {
      if (!e.visible || opened) return;
      opened = true;
      for (const ds of model.all) if (!ds.status && ds.cacheHeader) void backgroundIndex(ds, `refreshing ${ds.label}`);
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration(SECTION)) return;
      const indexed = new Set(model.all.filter((d) => d.status).map((d) => d.folder.uri.toString()));
      model.reloadSettings((folder) => SCAN_SHAPING.some((key) => e.affectsConfiguration(key, folder.uri)));
      watcher.sync();
      // What was indexed before stays indexed: with new extensions or excludes, that is a full scan.
      for (const ds of model.all) if (indexed.has(ds.folder.uri.toString()) && !ds.status) void backgroundIndex(ds, `settings changed: rescanning ${ds.label}`);
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => model.rebuild()),
  );
  updateContext();
  const applied = new vscode.EventEmitter<{ root: string; rescan: string | null; added: number; removed: number; changed: number }>();
  context.subscriptions.push(applied, watcher.onDidApply((e) => applied.fire({ root: e.ds.root, rescan: e.rescan, added: e.added, removed: e.removed, changed: e.changed })));
  return {
    datasets: () => model.all.map((d) => ({ folder: d.folder.name, root: d.root, storeDir: d.storeDir })),
    tree,
    view,
    statusBarText: () => statusBar.text,
    onDidApplyFileEvents: applied.event,
    gallery: context.extensionMode === vscode.ExtensionMode.Test ? gallery.testApi() : undefined,
  };
}

/** Ends the scan's worker threads if any are idle (a running scan's are left to finish). */
export function deactivate(): Promise<void> {
  return closeScanThreads();
}
