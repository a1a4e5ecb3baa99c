import * as path from 'node:path';
import * as vscode from 'vscode';
import { DEFAULT_QUERY } from '../../core/gallery/order';
import type { DatasetTreeProvider, GroupId, Node } from '../datasetTree';
import type { Dataset, DatasetModel } from '../model';
import { DatasetGallerySource, type DatasetScope } from './datasetSource';
import { GALLERY_VIEW_TYPE, GalleryPanel, type GalleryTestHandle } from './panel';
import { NO_THUMBNAILS, type ThumbnailSource } from './source';

export const GALLERY_COMMANDS = {
  open: 'datasetIndex.openGallery',
  /** Side by side: an explicit list of images (near-duplicate groups); not in the palette. */
  openPaths: 'datasetIndex.openGalleryWithPaths',
} as const;

/** For tests only (exposed in ExtensionMode.Test): the panels as the webview sees them. */
export interface GalleryTestApi {
  /** The most recently opened gallery. */
  current(): GalleryTestHandle | undefined;
  open(ds: { root: string }, scope: DatasetScope): Promise<GalleryTestHandle>;
}

/** The "Open Gallery" commands: resolve what was clicked to a dataset and a scope, open a panel. */
export class GalleryController implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly panels = new Set<GalleryPanel>();
  private last: GalleryPanel | undefined;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly model: DatasetModel,
    private readonly tree: DatasetTreeProvider,
    private readonly view: vscode.TreeView<Node>,
    private readonly log: vscode.LogOutputChannel,
    /** Per dataset: thumbnails live in its store. Placeholders until a thumbnail service is given. */
    private thumbnailsFor: (ds: Dataset) => ThumbnailSource = () => NO_THUMBNAILS,
  ) {}

  /** Registered by the CommandCenter's wrapper (errors, log); these are its handlers. */
  async open(arg?: unknown, selected?: unknown): Promise<{ title: string; count: number } | undefined> {
    const target = await this.targetOf(arg, selected);
    if (!target) return undefined;
    const panel = this.show(target.ds, target.scope, target.sideBySide ?? false);
    return { title: panel.title, count: await panel.count() };
  }

  /** Side by side: `paths` absolute, all in one dataset (the first dataset that holds the first one). */
  async openPaths(paths: unknown, label?: unknown): Promise<{ title: string; count: number } | undefined> {
    if (!Array.isArray(paths) || paths.length === 0 || !paths.every((p) => typeof p === 'string')) {
      throw new Error('openGalleryWithPaths needs a non-empty list of absolute paths');
    }
    const ds = this.datasetOf(paths[0]);
    if (!ds) throw new Error(`${paths[0]} is in no dataset of this workspace`);
    const rels = (paths).map((p) => relOf(ds, p));
    const scope: DatasetScope = { kind: 'paths', paths: rels, label: typeof label === 'string' ? label : 'Side by side' };
    const panel = this.show(ds, scope, true);
    return { title: panel.title, count: await panel.count() };
  }

  setThumbnails(thumbnailsFor: (ds: Dataset) => ThumbnailSource): void {
    this.thumbnailsFor = thumbnailsFor;
  }

  testApi(): GalleryTestApi {
    return {
      current: () => this.last?.testHandle(),
      open: async (where, scope) => {
        const ds = this.model.all.find((d) => d.root === where.root);
        if (!ds) throw new Error(`no dataset at ${where.root}`);
        const panel = this.show(ds, scope, scope.kind === 'paths');
        await panel.ready;
        return panel.testHandle();
      },
    };
  }

  private show(ds: Dataset, scope: DatasetScope, sideBySide: boolean): GalleryPanel {
    const source = new DatasetGallerySource(ds, scope);
    const webviewPanel = vscode.window.createWebviewPanel(GALLERY_VIEW_TYPE, source.title, vscode.ViewColumn.Active, {
      enableScripts: true,
      // Hidden, the document is dropped; the webview's state (getState/setState) brings it back.
      retainContextWhenHidden: false,
    });
    webviewPanel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'dataset-index.svg');
    const panel = new GalleryPanel(webviewPanel, source, this.thumbnailsFor(ds), vscode.Uri.joinPath(this.extensionUri, 'media', 'gallery'), this.log, sideBySide);
    this.panels.add(panel);
    this.last = panel;
    panel.onDidDispose(() => {
      this.panels.delete(panel);
      if (this.last === panel) this.last = undefined;
    });
    return panel;
  }

  /** A tree node (or the tree's selection), an Explorer folder or file, or — from the palette — a pick. */
  private async targetOf(arg: unknown, selected: unknown): Promise<{ ds: Dataset; scope: DatasetScope; sideBySide?: boolean } | undefined> {
    if (arg instanceof vscode.Uri) {
      const ds = this.datasetOf(arg.fsPath);
      if (!ds) throw new Error(`${arg.fsPath} is in no dataset of this workspace`);
      const rel = relOf(ds, arg.fsPath);
      return { ds, scope: { kind: 'group', group: 'all', folder: rel || undefined } };
    }
    const nodes = (Array.isArray(selected) && selected.length ? selected : isNode(arg) ? [arg] : [...this.view.selection]) as Node[];
    if (nodes.length === 1) {
      const node = nodes[0];
      switch (node.kind) {
        case 'group':
          // The Similar group row: its groups are opened one at a time, side by side (below: a pick).
          if (node.group === 'similar') break;
          return { ds: node.ds, scope: { kind: 'group', group: node.group } };
        case 'folder':
          return { ds: node.ds, scope: { kind: 'group', group: node.group, folder: node.dir } };
        case 'dataset':
          return { ds: node.ds, scope: { kind: 'group', group: 'all' } };
        case 'duplicate':
          return { ds: node.ds, scope: { kind: 'paths', paths: node.paths, label: `Copies of ${node.hash.slice(0, 12)}…` }, sideBySide: true };
        case 'similar': {
          // The row carries the group's first paths only; the engine has all of them.
          const paths = node.size > node.paths.length ? (await node.ds.similarGroup(node.paths[0])) ?? node.paths : node.paths;
          const first = node.paths[0] ?? '';
          return { ds: node.ds, scope: { kind: 'paths', paths, label: vscode.l10n.t('Similar to {0}', first.slice(first.lastIndexOf('/') + 1)) }, sideBySide: true };
        }
        default:
          break;
      }
    }
    if (nodes.length > 0) {
      const ds = nodes[0].ds;
      const rels: string[] = [];
      for (const node of nodes) {
        if (node.ds !== ds) continue;
        if (node.kind === 'duplicate' || node.kind === 'similar') rels.push(...node.paths);
        else {
          const selection = this.tree.target(node)?.selection;
          rels.push(...(selection?.paths ?? []));
          // A folder or group of the selection: its paths from the engine (names only, no facts).
          for (const f of selection?.folders ?? []) {
            if (f.group === 'duplicates') continue;
            const page = await ds.galleryPage({ group: f.group, dir: f.dir }, DEFAULT_QUERY, 0, Number.MAX_SAFE_INTEGER, false);
            rels.push(...page.rels);
          }
        }
      }
      if (rels.length) return { ds, scope: { kind: 'paths', paths: [...new Set(rels)], label: 'Selection' } };
    }
    return this.pick();
  }

  private async pick(): Promise<{ ds: Dataset; scope: DatasetScope } | undefined> {
    const groups: { id: GroupId | 'all'; label: string; count: (s: NonNullable<Dataset['summary']>) => number }[] = [
      { id: 'new', label: 'New', count: (s) => s.new },
      { id: 'changed', label: 'Changed', count: (s) => s.changed },
      { id: 'registered', label: 'Registered', count: (s) => s.registered },
      { id: 'unreadable', label: 'Unreadable', count: (s) => s.unreadable },
      { id: 'missing', label: 'Missing', count: (s) => s.missing },
    ];
    const items: (vscode.QuickPickItem & { ds: Dataset; group: GroupId | 'all' })[] = [];
    for (const ds of this.model.all) {
      const s = ds.summary;
      if (!s) continue;
      for (const g of groups) {
        const count = g.count(s);
        if (count > 0 || g.id === 'new') items.push({ label: g.label, description: `${count.toLocaleString()} images`, detail: this.model.all.length > 1 ? ds.label : undefined, ds, group: g.id });
      }
    }
    if (items.length === 0) {
      void vscode.window.showInformationMessage(vscode.l10n.t('Dataset Index: index the images first (Dataset Index: Index Images).'));
      return undefined;
    }
    const choice = await vscode.window.showQuickPick(items, { title: vscode.l10n.t('Open Gallery'), placeHolder: vscode.l10n.t('Which images?') });
    return choice ? { ds: choice.ds, scope: { kind: 'group', group: choice.group } } : undefined;
  }

  private datasetOf(abs: string): Dataset | undefined {
    // The deepest root that holds the path (roots may nest across workspace folders).
    return [...this.model.all]
      .filter((d) => abs === d.root || abs.startsWith(d.root.endsWith(path.sep) ? d.root : d.root + path.sep))
      .sort((a, b) => b.root.length - a.root.length)[0];
  }

  dispose(): void {
    for (const p of [...this.panels]) p.dispose();
    vscode.Disposable.from(...this.disposables).dispose();
  }
}

function isNode(x: unknown): x is Node {
  return !!x && typeof x === 'object' && 'kind' in x && 'ds' in x;
}

function relOf(ds: Dataset, abs: string): string {
  return path.relative(ds.root, abs).split(path.sep).join('/');
}
