import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RegisterSelection, RowChanges, SimilarGroupRow } from '../core/engine/protocol';
import type { Dataset, DatasetChange, DatasetModel, GroupId } from './model';
import type { ThumbnailService } from './thumbnails';

export type { GroupId } from './model';
type FolderGroup = Exclude<GroupId, 'duplicates'>;
/** The tree's group rows: the engine's groups, and Similar (near-duplicate groups, computed on request). */
export type TreeGroup = GroupId | 'similar';

const GROUPS: { id: TreeGroup; label: string; icon: string; color?: string; always: boolean }[] = [
  { id: 'new', label: vscode.l10n.t('New'), icon: 'diff-added', color: 'gitDecoration.addedResourceForeground', always: true },
  { id: 'changed', label: vscode.l10n.t('Changed'), icon: 'diff-modified', color: 'gitDecoration.modifiedResourceForeground', always: true },
  { id: 'missing', label: vscode.l10n.t('Missing'), icon: 'diff-removed', color: 'gitDecoration.deletedResourceForeground', always: true },
  { id: 'registered', label: vscode.l10n.t('Registered'), icon: 'pass', always: true },
  { id: 'unreadable', label: vscode.l10n.t('Unreadable'), icon: 'warning', color: 'problemsWarningIcon.foreground', always: false },
  { id: 'duplicates', label: vscode.l10n.t('Duplicates'), icon: 'copy', always: false },
  { id: 'similar', label: vscode.l10n.t('Similar'), icon: 'mirror', always: false },
];

/** VS Code has no paging: a few hundred siblings render at once, ~100k take tens of seconds. */
export const PAGE_SIZE = 200;

/**
 * Tree elements are light (ids and paths) and stable: one object per row for as long as the row
 * exists, so that a change fires that object and VS Code refreshes that row only. Counts of folder
 * rows come with the page their parent was given; group counts from the dataset's summary.
 */
export type Node =
  | { kind: 'dataset'; ds: Dataset }
  | { kind: 'group'; ds: Dataset; group: TreeGroup }
  | { kind: 'folder'; ds: Dataset; group: FolderGroup; dir: string; count: number }
  | { kind: 'image'; ds: Dataset; group: TreeGroup; rel: string }
  | { kind: 'more'; ds: Dataset; group: FolderGroup | 'similar'; dir: string; shown: number; total: number }
  | { kind: 'duplicate'; ds: Dataset; hash: string; paths: string[] }
  /** A near-duplicate group: its first paths (a page carries at most 200 per group) and its size. */
  | ({ kind: 'similar'; ds: Dataset; distance: number } & SimilarGroupRow)
  /** A row that only says something (the Similar group while it is computed, or why it failed). */
  | { kind: 'note'; ds: Dataset; group: TreeGroup; text: string; icon: string; under: string };

/** What the Register command receives from a tree selection: resolved to paths in the engine. */
export interface RegisterTarget {
  dataset: Dataset;
  selection: RegisterSelection;
}

const num = (x: number): string => x.toLocaleString();

export class DatasetTreeProvider implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly _onDidChangeTreeData = new vscode.EventEmitter<Node | Node[] | undefined>();
  readonly onDidChangeTreeData = this._onDidChangeTreeData.event;
  /** Every firing, as fired (tests count the rows a watcher batch refreshed). */
  private readonly _onDidFire = new vscode.EventEmitter<readonly (Node | undefined)[]>();
  readonly onDidFire = this._onDidFire.event;
  /** The row objects, by id; a dataset's are dropped when it is re-read as a whole. */
  private readonly nodes = new Map<string, Node>();
  /** How many children are shown per (dataset, group, folder) after "Show more…". */
  private readonly shown = new Map<string, number>();
  /** Which group rows each dataset showed, to notice a group appearing or going (Unreadable, Duplicates). */
  private readonly shownGroups = new WeakMap<Dataset, string>();
  private readonly disposables: vscode.Disposable[] = [];
  /** The paths shown with each image row (its page): a tooltip looks up the page's rows in one request. */
  private readonly pageOf = new WeakMap<Node, readonly string[]>();

  constructor(
    private readonly model: DatasetModel,
    private readonly thumbs: ThumbnailService<Node>,
  ) {
    this.disposables.push(
      model.onDidChange((change) => this.changed(change)),
      thumbs.onDidChange((node) => this._onDidChangeTreeData.fire(node)),
      this._onDidChangeTreeData,
      this._onDidFire,
    );
  }

  private fire(nodes: Node[] | undefined): void {
    if (nodes && nodes.length === 0) return;
    this._onDidChangeTreeData.fire(nodes);
    this._onDidFire.fire(nodes ?? [undefined]);
  }

  /**
   * A dataset change fires the rows it touched: the group rows and folder rows the engine named.
   * The whole tree is fired only when the set of datasets changes or a dataset's top level (which
   * groups are shown) changes; a dataset re-read as a whole fires its own rows.
   */
  private changed(change: DatasetChange | undefined): void {
    if (!change) {
      this.nodes.clear();
      this.fire(undefined);
      return;
    }
    const { ds, rows } = change;
    const topLevel = this.model.all.length === 1;
    const groupsNow = this.visibleGroups(ds).join(',');
    const groupsChanged = this.shownGroups.get(ds) !== groupsNow;
    this.shownGroups.set(ds, groupsNow);
    if (rows === 'all' || groupsChanged) {
      this.forget(ds);
      if (topLevel) this.fire(undefined);
      else this.fire([this.node({ kind: 'dataset', ds })]);
      return;
    }
    this.fire(this.rowsOf(ds, rows));
  }

  private rowsOf(ds: Dataset, rows: RowChanges[]): Node[] {
    const out: Node[] = [];
    for (const { group, dirs } of rows) {
      for (const dir of dirs) {
        const node = dir === '' ? this.nodes.get(groupId(ds, group)) : this.nodes.get(folderId(ds, group, dir));
        // A row never shown needs no refresh: it is built when its parent is expanded.
        if (node) out.push(node);
      }
    }
    return out;
  }

  private forget(ds: Dataset): void {
    const prefix = `${ds.key}|`;
    for (const id of [...this.nodes.keys()]) if (id.slice(id.indexOf(':') + 1).startsWith(prefix)) this.nodes.delete(id);
  }

  /** The one object for a row: created once, then reused (its count updated). */
  private node<N extends Node>(fresh: N): N {
    const id = idOf(fresh);
    const known = this.nodes.get(id) as N | undefined;
    if (!known) {
      this.nodes.set(id, fresh);
      return fresh;
    }
    Object.assign(known, fresh);
    return known;
  }

  refresh(): void {
    this.nodes.clear();
    this.fire(undefined);
  }

  showMore(node: Node): void {
    if (node.kind !== 'more') return;
    this.shown.set(folderId(node.ds, node.group, node.dir), node.shown + PAGE_SIZE);
    const parent = node.dir === '' ? this.nodes.get(groupId(node.ds, node.group)) : this.nodes.get(folderId(node.ds, node.group, node.dir));
    this.fire(parent ? [parent] : undefined);
  }

  async getChildren(node?: Node): Promise<Node[]> {
    if (!node) {
      const datasets = this.model.all.filter((d) => d.summary);
      if (datasets.length === 0) return [];
      // One dataset: its groups at the top. Several (multi-root, or several roots): one node each.
      return this.model.all.length === 1 ? this.groups(datasets[0]) : this.model.all.map((ds) => this.node({ kind: 'dataset', ds }));
    }
    switch (node.kind) {
      case 'dataset':
        return this.groups(node.ds);
      case 'group':
        if (node.group === 'duplicates') {
          const page = await node.ds.duplicates(0, this.shown.get(folderId(node.ds, 'duplicates', '')) ?? PAGE_SIZE);
          return page.groups.map((d) => this.node({ kind: 'duplicate', ds: node.ds, hash: d.hash, paths: d.paths }));
        }
        if (node.group === 'similar') return this.similarChildren(node.ds);
        return this.folderChildren(node.ds, node.group, '');
      case 'folder':
        return this.folderChildren(node.ds, node.group, node.dir);
      case 'duplicate':
        return this.withPage(node.paths.map((rel) => ({ kind: 'image', ds: node.ds, group: 'duplicates', rel })));
      case 'similar': {
        const out: Node[] = this.withPage(node.paths.map((rel) => ({ kind: 'image', ds: node.ds, group: 'similar', rel })));
        if (node.size > node.paths.length) {
          out.push({ kind: 'note', ds: node.ds, group: 'similar', under: node.paths[0] ?? '', icon: 'ellipsis', text: vscode.l10n.t('{0} more (Open Gallery shows them all)', num(node.size - node.paths.length)) });
        }
        return out;
      }
      default:
        return [];
    }
  }

  private visibleGroups(ds: Dataset): TreeGroup[] {
    const s = ds.summary;
    if (!s) return [];
    return GROUPS.filter((g) => g.always || countOf(ds, g.id) > 0 || (g.id === 'similar' && s.registered > 0)).map((g) => g.id);
  }

  /**
   * The Similar group's children: a page of near-duplicate groups from the engine once computed;
   * until then a "computing" row, and the computation is started (in the engine, once).
   */
  private async similarChildren(ds: Dataset): Promise<Node[]> {
    const status = ds.similar;
    if (status.state === 'failed') return [{ kind: 'note', ds, group: 'similar', under: '', icon: 'error', text: status.message }];
    if (status.state === 'ready') {
      const limit = this.shown.get(folderId(ds, 'similar', '')) ?? PAGE_SIZE;
      const page = await ds.similarPage(0, limit);
      if (page) {
        const out: Node[] = page.groups.map((g) => this.node({ kind: 'similar', ds, distance: page.distance, ...g }));
        if (page.total > limit) out.push({ kind: 'more', ds, group: 'similar', dir: '', shown: limit, total: page.total });
        return out;
      }
    }
    // Idle, or the engine lost what it computed (a restarted worker): start it (a running one is left to finish).
    if (status.state !== 'computing') ds.findSimilar();
    return [{ kind: 'note', ds, group: 'similar', under: '', icon: 'loading~spin', text: vscode.l10n.t('Finding near-duplicates…') }];
  }

  private groups(ds: Dataset): Node[] {
    const ids = this.visibleGroups(ds);
    this.shownGroups.set(ds, ids.join(','));
    return ids.map((group) => this.node({ kind: 'group', ds, group }));
  }

  /** One page from the engine: the folder's first `shown` children (folders first), and "Show more…". */
  private async folderChildren(ds: Dataset, group: FolderGroup, dir: string): Promise<Node[]> {
    const limit = this.shown.get(folderId(ds, group, dir)) ?? PAGE_SIZE;
    const page = await ds.children(group, dir, 0, limit);
    const out: Node[] = [];
    for (const f of page.folders) out.push(this.node({ kind: 'folder', ds, group, dir: f.dir, count: f.count }));
    const images = this.withPage(page.files.map((name): Node => ({ kind: 'image', ds, group, rel: dir ? `${dir}/${name}` : name })));
    out.push(...images);
    const total = page.folderCount + page.fileCount;
    if (total > limit) out.push({ kind: 'more', ds, group, dir, shown: limit, total });
    return out;
  }

  /** Records the image rows shown together, for their tooltips' one lookup. */
  private withPage(images: Node[]): Node[] {
    const rels = images.flatMap((n) => (n.kind === 'image' ? [n.rel] : []));
    for (const n of images) this.pageOf.set(n, rels);
    return images;
  }

  getTreeItem(node: Node): vscode.TreeItem {
    switch (node.kind) {
      case 'dataset': {
        const item = new vscode.TreeItem(node.ds.label, vscode.TreeItemCollapsibleState.Expanded);
        item.id = idOf(node);
        item.description = node.ds.summary ? vscode.l10n.t('{0} new', num(node.ds.summary.new)) : vscode.l10n.t('not indexed');
        item.tooltip = node.ds.root;
        item.iconPath = new vscode.ThemeIcon('database');
        item.contextValue = 'dataset';
        item.accessibilityInformation = { label: `${node.ds.label}, ${item.description}` };
        return item;
      }
      case 'group': {
        if (node.group === 'similar') return similarGroupItem(node);
        const g = GROUPS.find((x) => x.id === node.group)!;
        const count = countOf(node.ds, node.group);
        const item = new vscode.TreeItem(vscode.l10n.t('{0} ({1})', g.label, num(count)), count ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
        item.id = idOf(node);
        item.iconPath = new vscode.ThemeIcon(g.icon, g.color ? new vscode.ThemeColor(g.color) : undefined);
        item.contextValue = `group-${node.group}`;
        item.accessibilityInformation = { label: `${g.label}, ${num(count)} ${node.group === 'duplicates' ? 'groups' : 'images'}` };
        if (node.group === 'changed') item.tooltip = `${g.label} (${num(count)}): ${node.ds.summary?.changedSource ?? ''}`;
        return item;
      }
      case 'folder': {
        const name = node.dir.slice(node.dir.lastIndexOf('/') + 1);
        const item = new vscode.TreeItem(name, vscode.TreeItemCollapsibleState.Collapsed);
        item.id = idOf(node);
        item.description = num(node.count);
        item.tooltip = vscode.l10n.t('{0} — {1} images', node.dir, num(node.count));
        item.iconPath = vscode.ThemeIcon.Folder;
        item.resourceUri = vscode.Uri.file(path.join(node.ds.root, node.dir));
        item.contextValue = `folder-${node.group}`;
        return item;
      }
      case 'image':
        return imageItem(node, this.thumbs);
      case 'more': {
        const item = new vscode.TreeItem(vscode.l10n.t('Show more… ({0} more)', num(node.total - node.shown)), vscode.TreeItemCollapsibleState.None);
        item.id = `${idOf(node)}:${node.shown}`;
        item.iconPath = new vscode.ThemeIcon('ellipsis');
        item.command = { command: 'datasetIndex.showMore', title: vscode.l10n.t('Show More'), arguments: [node] };
        item.contextValue = 'more';
        return item;
      }
      case 'similar': {
        const first = node.paths[0] ?? '';
        const item = new vscode.TreeItem(first.slice(first.lastIndexOf('/') + 1), vscode.TreeItemCollapsibleState.Collapsed);
        item.id = idOf(node);
        item.description = node.maxDistance === null
          ? vscode.l10n.t('{0} images · linked within {1}', num(node.size), node.distance)
          : vscode.l10n.t('{0} images · distance ≤ {1}', num(node.size), node.maxDistance);
        const more = node.size > node.paths.length ? `\n… ${vscode.l10n.t('{0} more', num(node.size - node.paths.length))}` : '';
        item.tooltip = `${vscode.l10n.t('Near-duplicates (perceptual hash within {0} bits)', node.distance)}\n${node.paths.slice(0, 20).join('\n')}${node.paths.length > 20 ? '\n…' : ''}${more}`;
        item.iconPath = new vscode.ThemeIcon('mirror');
        item.contextValue = 'similar';
        return item;
      }
      case 'note': {
        const item = new vscode.TreeItem(node.text, vscode.TreeItemCollapsibleState.None);
        item.id = idOf(node);
        item.iconPath = new vscode.ThemeIcon(node.icon);
        item.contextValue = 'note';
        return item;
      }
      case 'duplicate': {
        const item = new vscode.TreeItem(`${node.hash.slice(0, 12)}…`, vscode.TreeItemCollapsibleState.Collapsed);
        item.id = idOf(node);
        item.description = vscode.l10n.t('{0} copies', node.paths.length);
        item.tooltip = `xxHash64 ${node.hash}\n${node.paths.join('\n')}`;
        item.iconPath = new vscode.ThemeIcon('copy');
        item.contextValue = 'duplicate';
        return item;
      }
    }
  }

  /**
   * Tooltips are built on hover only: a stat and a header read per hovered image, and its registry
   * row — looked up with the rows of its page, in one request, kept for the next hovers.
   */
  async resolveTreeItem(item: vscode.TreeItem, node: Node, token: vscode.CancellationToken): Promise<vscode.TreeItem> {
    if (node.kind !== 'image') return item;
    const abs = path.join(node.ds.root, node.rel);
    const md = new vscode.MarkdownString(undefined, true);
    md.supportHtml = false;
    const preview = node.group === 'missing' ? null : await this.thumbs.preview(abs, node.ds, token);
    if (preview) md.appendMarkdown(`![preview](${preview.uri.toString()}|width=${preview.width}|height=${preview.height})\n\n`);
    md.appendMarkdown(`**${escapeMd(path.basename(abs))}**\n\n`);
    const facts: string[] = [];
    // A registry that cannot be read (a team server down) is said so, not shown as "not registered".
    let lookupFailed: string | null = null;
    const row = await node.ds.lookup(node.rel, this.pageOf.get(node)).catch((err: unknown) => {
      lookupFailed = err instanceof Error ? err.message : String(err);
      return null;
    });
    if (token.isCancellationRequested) return item;
    let size = row?.size ?? null;
    let dims = row?.width && row.height ? `${row.width} × ${row.height}` : null;
    let format = row?.format ?? null;
    if (!row && node.group !== 'missing') {
      const { probeHeader } = await import('../core/register/probeImage');
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
    if (row?.status === 'unreadable') md.appendMarkdown(`$(warning) ${vscode.l10n.t('unreadable: {0}', escapeMd(row.reason ?? ''))}\n\n`);
    if (node.group === 'missing') md.appendMarkdown(`$(error) ${vscode.l10n.t('gone from disk')}\n\n`);
    if (row) md.appendMarkdown(`${vscode.l10n.t('registered {0}', new Date(row.registeredAt).toLocaleString())}\n\n`);
    else if (lookupFailed !== null) md.appendMarkdown(`$(warning) ${vscode.l10n.t('registry not readable: {0}', escapeMd(lookupFailed))}\n\n`);
    else if (node.group !== 'missing') md.appendMarkdown(`${vscode.l10n.t('not registered')}\n\n`);
    md.appendMarkdown(`\`${node.rel.replace(/`/g, "'")}\``);
    item.tooltip = md;
    return item;
  }

  /** What "Register" acts on for a tree element: a file, a group's files under a folder, or the whole group. */
  target(node: Node): RegisterTarget | null {
    switch (node.kind) {
      case 'image':
        return { dataset: node.ds, selection: { paths: [node.rel] } };
      case 'folder':
        return { dataset: node.ds, selection: { folders: [{ group: node.group, dir: node.dir }] } };
      case 'group':
        // Similar's images are registered ones, in groups of the engine's: nothing to resolve by folder.
        if (node.group === 'similar') return null;
        return { dataset: node.ds, selection: { folders: [{ group: node.group, dir: '' }] } };
      case 'dataset':
        return { dataset: node.ds, selection: { folders: [{ group: 'new', dir: '' }, { group: 'changed', dir: '' }] } };
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

/**
 * An image row. Kept to this one function: the icon and the tooltip preview are the places a
 * thumbnail service plugs in.
 */
function imageItem(node: Extract<Node, { kind: 'image' }>, thumbs: ThumbnailService<Node>): vscode.TreeItem {
  const slash = node.rel.lastIndexOf('/');
  const uri = vscode.Uri.file(path.join(node.ds.root, node.rel));
  const item = new vscode.TreeItem(node.rel.slice(slash + 1), vscode.TreeItemCollapsibleState.None);
  item.id = idOf(node);
  item.description = slash < 0 ? '' : node.rel.slice(0, slash);
  item.resourceUri = uri;
  item.contextValue = `image-${node.group}`;
  if (node.group === 'missing') {
    item.iconPath = new vscode.ThemeIcon('diff-removed', new vscode.ThemeColor('gitDecoration.deletedResourceForeground'));
  } else {
    // Its 64-px thumbnail once made (a codicon until then), never the original.
    thumbs.icon(item, uri.fsPath, node.ds, node);
    item.command = { command: 'vscode.open', title: vscode.l10n.t('Open Image'), arguments: [uri] };
  }
  return item;
}

function countOf(ds: Dataset, group: TreeGroup): number {
  const s = ds.summary;
  if (!s) return 0;
  if (group === 'similar') return ds.similar.state === 'ready' ? ds.similar.counts.groups : 0;
  return group === 'duplicates' ? s.duplicateGroups : s[group];
}

/**
 * The Similar group's row: "Similar (N)" once its groups are known, else "Similar" with what is
 * happening (not computed yet: expanding it computes them; computing: a spinner; failed).
 */
function similarGroupItem(node: Extract<Node, { kind: 'group' }>): vscode.TreeItem {
  const label = vscode.l10n.t('Similar');
  const status = node.ds.similar;
  const ready = status.state === 'ready' ? status.counts : null;
  const item = new vscode.TreeItem(
    ready ? vscode.l10n.t('{0} ({1})', label, num(ready.groups)) : label,
    ready && ready.groups === 0 ? vscode.TreeItemCollapsibleState.None : vscode.TreeItemCollapsibleState.Collapsed,
  );
  item.id = idOf(node);
  item.contextValue = 'group-similar';
  item.iconPath = new vscode.ThemeIcon(status.state === 'computing' ? 'loading~spin' : 'mirror');
  switch (status.state) {
    case 'ready':
      item.description = vscode.l10n.t('distance ≤ {0}', status.counts.distance);
      item.tooltip = vscode.l10n.t(
        '{0} groups of near-duplicate images ({1} images), perceptual hashes within {2} bits; {3} registered images hashed, {4} without a hash',
        num(status.counts.groups), num(status.counts.images), status.counts.distance, num(status.counts.hashed), num(status.counts.unhashed),
      );
      break;
    case 'computing':
      item.description = vscode.l10n.t('computing…');
      break;
    case 'failed':
      item.description = vscode.l10n.t('failed');
      item.tooltip = status.message;
      break;
    default:
      item.description = vscode.l10n.t('expand to find near-duplicates');
  }
  item.accessibilityInformation = { label: `${typeof item.label === 'string' ? item.label : label}, ${String(item.description)}` };
  return item;
}

/** Row ids: kind, then the dataset instance's key (a rebuilt dataset starts new rows), then the row. */
function groupId(ds: Dataset, group: TreeGroup): string {
  return `group:${ds.key}|${group}`;
}

function folderId(ds: Dataset, group: TreeGroup, dir: string): string {
  return `folder:${ds.key}|${group}|${dir}`;
}

function idOf(node: Node): string {
  switch (node.kind) {
    case 'dataset':
      return `dataset:${node.ds.key}|`;
    case 'group':
      return groupId(node.ds, node.group);
    case 'folder':
      return folderId(node.ds, node.group, node.dir);
    case 'image':
      return `image:${node.ds.key}|${node.group}|${node.rel}`;
    case 'more':
      return `more:${node.ds.key}|${node.group}|${node.dir}`;
    case 'duplicate':
      return `dup:${node.ds.key}|${node.hash}`;
    case 'similar':
      return `similar:${node.ds.key}|${node.paths[0] ?? ''}`;
    case 'note':
      // Unique per parent: the group row's own note, or the "more" note under one near-duplicate group.
      return `note:${node.ds.key}|${node.group}|${node.icon}|${node.under}`;
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
