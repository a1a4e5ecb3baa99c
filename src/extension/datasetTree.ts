import * as path from 'node:path';
import * as vscode from 'vscode';
import { loadCore, type Dataset, type DatasetModel } from './model';
import { GroupIndex } from './groupIndex';
import type { ThumbnailService } from './thumbnails';

export type GroupId = 'new' | 'changed' | 'missing' | 'registered' | 'unreadable' | 'duplicates';

const GROUPS: { id: GroupId; label: string; icon: string; color?: string; always: boolean }[] = [
  { id: 'new', label: 'New', icon: 'diff-added', color: 'gitDecoration.addedResourceForeground', always: true },
  { id: 'changed', label: 'Changed', icon: 'diff-modified', color: 'gitDecoration.modifiedResourceForeground', always: true },
  { id: 'missing', label: 'Missing', icon: 'diff-removed', color: 'gitDecoration.deletedResourceForeground', always: true },
  { id: 'registered', label: 'Registered', icon: 'pass', always: true },
  { id: 'unreadable', label: 'Unreadable', icon: 'warning', color: 'problemsWarningIcon.foreground', always: false },
  { id: 'duplicates', label: 'Duplicates', icon: 'copy', always: false },
];

/** VS Code has no paging: a few hundred siblings render at once, ~100k take tens of seconds. */
export const PAGE_SIZE = 200;

/** Tree elements are light: ids and paths. The TreeItem is built in getTreeItem. */
export type Node =
  | { kind: 'dataset'; ds: Dataset }
  | { kind: 'group'; ds: Dataset; group: GroupId; count: number }
  | { kind: 'folder'; ds: Dataset; group: GroupId; dir: string; count: number }
  | { kind: 'image'; ds: Dataset; group: GroupId; rel: string }
  | { kind: 'more'; ds: Dataset; group: GroupId; dir: string; shown: number; total: number }
  | { kind: 'duplicate'; ds: Dataset; hash: string; paths: string[] };

/** What the Register command receives from a tree selection. */
export interface RegisterTarget {
  dataset: Dataset;
  paths(): string[];
}

const num = (x: number): string => x.toLocaleString();

export class DatasetTreeProvider implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly _onDidChangeTreeData = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this._onDidChangeTreeData.event;
  /** Keyed by the Dataset object: a dataset rebuilt after a settings change starts a new cache. */
  private readonly indexes = new WeakMap<Dataset, Map<GroupId, { version: number; index: GroupIndex }>>();
  /** How many children are shown per (dataset, group, folder) after "Show more…". */
  private readonly shown = new Map<string, number>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly model: DatasetModel,
    private readonly thumbs: ThumbnailService<Node>,
  ) {
    this.disposables.push(
      model.onDidChange(() => this.refresh()),
      thumbs.onDidChange((node) => this._onDidChangeTreeData.fire(node)),
      this._onDidChangeTreeData,
    );
  }

  refresh(): void {
    this._onDidChangeTreeData.fire(undefined);
  }

  showMore(node: Node): void {
    if (node.kind !== 'more') return;
    this.shown.set(this.key(node.ds, node.group, node.dir), node.shown + PAGE_SIZE);
    this.refresh();
  }

  private key(ds: Dataset, group: GroupId, dir: string): string {
    return `${ds.root}\0${group}\0${dir}`;
  }

  /** The group's paths as a folder tree, rebuilt only when the dataset changed since. */
  groupIndex(ds: Dataset, group: GroupId): GroupIndex {
    let perGroup = this.indexes.get(ds);
    if (!perGroup) this.indexes.set(ds, (perGroup = new Map<GroupId, { version: number; index: GroupIndex }>()));
    const cached = perGroup.get(group);
    if (cached && cached.version === ds.version) return cached.index;
    const index = new GroupIndex(groupPaths(ds, group));
    perGroup.set(group, { version: ds.version, index });
    return index;
  }

  getChildren(node?: Node): Node[] {
    if (!node) {
      const datasets = this.model.all.filter((d) => d.status);
      if (datasets.length === 0) return [];
      // One dataset: its groups at the top. Several (multi-root, or several roots): one node each.
      return this.model.all.length === 1 ? this.groups(datasets[0]) : this.model.all.map((ds) => ({ kind: 'dataset', ds }));
    }
    switch (node.kind) {
      case 'dataset':
        return this.groups(node.ds);
      case 'group':
        if (node.group === 'duplicates') {
          return (node.ds.status?.duplicates ?? []).map((d) => ({ kind: 'duplicate', ds: node.ds, hash: d.hash, paths: d.paths }));
        }
        return this.folderChildren(node.ds, node.group, '');
      case 'folder':
        return this.folderChildren(node.ds, node.group, node.dir);
      case 'duplicate':
        return node.paths.map((rel) => ({ kind: 'image', ds: node.ds, group: 'registered', rel }));
      default:
        return [];
    }
  }

  private groups(ds: Dataset): Node[] {
    const s = ds.status;
    if (!s) return [];
    const counts: Record<GroupId, number> = {
      new: s.new,
      changed: s.changed,
      missing: s.missing,
      registered: s.registered,
      unreadable: s.unreadable,
      duplicates: s.duplicateGroups,
    };
    return GROUPS.filter((g) => g.always || counts[g.id] > 0).map((g) => ({ kind: 'group', ds, group: g.id, count: counts[g.id] }));
  }

  private folderChildren(ds: Dataset, group: GroupId, dir: string): Node[] {
    const index = this.groupIndex(ds, group);
    const folders = index.childFolders(dir);
    const files = index.filesIn(dir);
    const total = folders.length + files.length;
    const limit = this.shown.get(this.key(ds, group, dir)) ?? PAGE_SIZE;
    const out: Node[] = [];
    for (const f of folders) {
      if (out.length >= limit) break;
      out.push({ kind: 'folder', ds, group, dir: f, count: index.total(f) });
    }
    for (const name of files) {
      if (out.length >= limit) break;
      out.push({ kind: 'image', ds, group, rel: dir ? `${dir}/${name}` : name });
    }
    if (total > limit) out.push({ kind: 'more', ds, group, dir, shown: limit, total });
    return out;
  }

  getTreeItem(node: Node): vscode.TreeItem {
    switch (node.kind) {
      case 'dataset': {
        const item = new vscode.TreeItem(node.ds.label, vscode.TreeItemCollapsibleState.Expanded);
        item.id = `dataset:${node.ds.root}`;
        item.description = node.ds.status ? `${num(node.ds.status.new)} new` : 'not indexed';
        item.tooltip = node.ds.root;
        item.iconPath = new vscode.ThemeIcon('database');
        item.contextValue = 'dataset';
        item.accessibilityInformation = { label: `${node.ds.label}, ${item.description}` };
        return item;
      }
      case 'group': {
        const g = GROUPS.find((x) => x.id === node.group)!;
        const item = new vscode.TreeItem(`${g.label} (${num(node.count)})`, node.count ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
        item.id = `group:${node.ds.root}:${node.group}`;
        item.iconPath = new vscode.ThemeIcon(g.icon, g.color ? new vscode.ThemeColor(g.color) : undefined);
        item.contextValue = `group-${node.group}`;
        item.accessibilityInformation = { label: `${g.label}, ${num(node.count)} ${node.group === 'duplicates' ? 'groups' : 'images'}` };
        if (node.group === 'changed') item.tooltip = `${g.label} (${num(node.count)}): ${node.ds.status?.changedSource ?? ''}`;
        return item;
      }
      case 'folder': {
        const name = node.dir.slice(node.dir.lastIndexOf('/') + 1);
        const item = new vscode.TreeItem(name, vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `folder:${node.ds.root}:${node.group}:${node.dir}`;
        item.description = num(node.count);
        item.tooltip = `${node.dir} — ${num(node.count)} images`;
        item.iconPath = vscode.ThemeIcon.Folder;
        item.resourceUri = vscode.Uri.file(path.join(node.ds.root, node.dir));
        item.contextValue = `folder-${node.group}`;
        return item;
      }
      case 'image': {
        const slash = node.rel.lastIndexOf('/');
        const uri = vscode.Uri.file(path.join(node.ds.root, node.rel));
        const item = new vscode.TreeItem(node.rel.slice(slash + 1), vscode.TreeItemCollapsibleState.None);
        item.id = `image:${node.ds.root}:${node.group}:${node.rel}`;
        item.description = slash < 0 ? '' : node.rel.slice(0, slash);
        item.resourceUri = uri;
        item.contextValue = `image-${node.group}`;
        if (node.group === 'missing') {
          item.iconPath = new vscode.ThemeIcon('diff-removed', new vscode.ThemeColor('gitDecoration.deletedResourceForeground'));
        } else {
          // Its 64-px thumbnail once made (a codicon until then), never the original.
          this.thumbs.icon(item, uri.fsPath, node.ds, node);
          item.command = { command: 'vscode.open', title: 'Open Image', arguments: [uri] };
        }
        return item;
      }
      case 'more': {
        const item = new vscode.TreeItem(`Show more… (${num(node.total - node.shown)} more)`, vscode.TreeItemCollapsibleState.None);
        item.id = `more:${node.ds.root}:${node.group}:${node.dir}:${node.shown}`;
        item.iconPath = new vscode.ThemeIcon('ellipsis');
        item.command = { command: 'datasetIndex.showMore', title: 'Show More', arguments: [node] };
        item.contextValue = 'more';
        return item;
      }
      case 'duplicate': {
        const item = new vscode.TreeItem(`${node.hash.slice(0, 12)}…`, vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `dup:${node.ds.root}:${node.hash}`;
        item.description = `${node.paths.length} copies`;
        item.tooltip = `xxHash64 ${node.hash}\n${node.paths.join('\n')}`;
        item.iconPath = new vscode.ThemeIcon('copy');
        item.contextValue = 'duplicate';
        return item;
      }
    }
  }

  /** Tooltips are built on hover only: a stat, a header read and a registry lookup per hovered image. */
  async resolveTreeItem(item: vscode.TreeItem, node: Node, token: vscode.CancellationToken): Promise<vscode.TreeItem> {
    if (node.kind !== 'image') return item;
    const abs = path.join(node.ds.root, node.rel);
    const md = new vscode.MarkdownString(undefined, true);
    md.supportHtml = false;
    const preview = node.group === 'missing' ? null : await this.thumbs.preview(abs, node.ds, token);
    if (preview) md.appendMarkdown(`![preview](${preview.uri.toString()}|width=${preview.width}|height=${preview.height})\n\n`);
    md.appendMarkdown(`**${escapeMd(path.basename(abs))}**\n\n`);
    const facts: string[] = [];
    const row = await node.ds.lookup(node.rel).catch(() => null);
    if (token.isCancellationRequested) return item;
    let size = row?.size ?? null;
    let dims = row?.width && row.height ? `${row.width} × ${row.height}` : null;
    let format = row?.format ?? null;
    if (!row && node.group !== 'missing') {
      const { probeHeader } = await loadCore();
      const header = await probeHeader(abs);
      size = header.size;
      if (header.width && header.height) dims = `${header.width} × ${header.height}`;
      format = header.format;
    }
    if (dims) facts.push(dims);
    if (format) facts.push(format.toUpperCase());
    if (size !== null) facts.push(formatBytes(size));
    if (facts.length) md.appendMarkdown(`${facts.join(' · ')}\n\n`);
    if (row?.hash) md.appendMarkdown(`xxHash64 \`${row.hash}\`\n\n`);
    if (row?.status === 'unreadable') md.appendMarkdown(`$(warning) unreadable: ${escapeMd(row.reason ?? '')}\n\n`);
    if (node.group === 'missing') md.appendMarkdown('$(error) gone from disk\n\n');
    if (row) md.appendMarkdown(`registered ${new Date(row.registeredAt).toLocaleString()}\n\n`);
    else if (node.group !== 'missing') md.appendMarkdown('not registered\n\n');
    md.appendMarkdown(`\`${node.rel.replace(/`/g, "'")}\``);
    item.tooltip = md;
    return item;
  }

  /** What "Register" acts on for a tree element: a file, every file of a folder, or a whole group. */
  target(node: Node): RegisterTarget | null {
    switch (node.kind) {
      case 'image':
        return { dataset: node.ds, paths: () => [node.rel] };
      case 'folder':
        return { dataset: node.ds, paths: () => this.groupIndex(node.ds, node.group).pathsUnder(node.dir) };
      case 'group':
        return { dataset: node.ds, paths: () => this.groupIndex(node.ds, node.group).pathsUnder('') };
      case 'dataset':
        return { dataset: node.ds, paths: () => [...groupPaths(node.ds, 'new'), ...groupPaths(node.ds, 'changed')] };
      default:
        return null;
    }
  }

  getParent(): undefined {
    return undefined;
  }

  dispose(): void {
    vscode.Disposable.from(...this.disposables).dispose();
  }
}

/** The paths of one group, from the diff (new, changed, missing, unreadable) or the snapshot (registered). */
export function* groupPaths(ds: Dataset, group: GroupId): Generator<string> {
  const s = ds.status;
  if (!s) return;
  switch (group) {
    case 'new':
      yield* s.diff.newFiles;
      return;
    case 'changed':
      yield* s.diff.changed;
      return;
    case 'missing':
      yield* s.diff.missing;
      return;
    case 'unreadable':
      yield* s.diff.unreadablePaths;
      return;
    case 'duplicates':
      for (const d of s.duplicates) yield* d.paths;
      return;
    case 'registered': {
      const snapshot = ds.snapshot;
      if (!snapshot) return;
      const notRegistered = new Set(s.diff.newFiles);
      const external = s.externalPaths;
      for (const [dir, rec] of snapshot) {
        const prefix = dir ? `${dir}/` : '';
        for (const name of rec.files) {
          const p = prefix + name;
          if (!notRegistered.has(p) && !external?.has(p)) yield p;
        }
      }
    }
  }
}

function escapeMd(s: string): string {
  return s.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}
