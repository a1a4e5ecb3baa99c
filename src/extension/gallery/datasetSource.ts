import * as path from 'node:path';
import * as vscode from 'vscode';
import type { GalleryScope } from '../../core/engine/galleryView';
import type { GalleryQuery } from '../../core/gallery/order';
import type { GroupId } from '../datasetTree';
import type { Dataset } from '../model';
import type { GalleryItem, GallerySource, PrepareOptions } from './source';

/** What the gallery shows of a dataset: a group (or every image), optionally under one folder; or an explicit list. */
export type DatasetScope =
  | { kind: 'group'; group: GroupId | 'all'; folder?: string }
  | { kind: 'paths'; paths: readonly string[]; label?: string };

const GROUP_LABELS: Record<GroupId | 'all', string> = {
  new: 'New',
  changed: 'Changed',
  missing: 'Missing',
  registered: 'Registered',
  unreadable: 'Unreadable',
  duplicates: 'Duplicates',
  all: 'All images',
};

/**
 * The gallery's source over the engine: the scope's list, its orderings per (sort, filter) and the
 * facts of each page live in the engine worker (Engine.galleryPage); the host only asks for pages.
 */
export class DatasetGallerySource implements GallerySource {
  private readonly _onDidChange = new vscode.EventEmitter<void>();
  readonly onDidChange = this._onDidChange.event;
  private readonly disposables: vscode.Disposable[] = [this._onDidChange];
  private readonly engineScope: GalleryScope;

  constructor(
    readonly ds: Dataset,
    readonly scope: DatasetScope,
  ) {
    this.disposables.push(ds.onDidChange(() => this._onDidChange.fire()));
    this.engineScope = scope.kind === 'paths' ? { paths: [...scope.paths] } : { group: scope.group, ...(scope.folder ? { dir: scope.folder } : {}) };
  }

  get title(): string {
    if (this.scope.kind === 'paths') return `${this.scope.label ?? 'Selection'} (${this.scope.paths.length})`;
    const where = this.scope.folder ? ` · ${this.scope.folder}` : '';
    return `${GROUP_LABELS[this.scope.group]}${where} — ${this.ds.label}`;
  }

  get roots(): readonly string[] {
    return [this.ds.root];
  }

  /** Builds (or reuses) the ordering in the engine; its count. */
  async prepare(query: GalleryQuery, options: PrepareOptions = {}): Promise<number> {
    return (await this.ds.galleryPage(this.engineScope, query, 0, 0, false, options.signal)).total;
  }

  async paths(query: GalleryQuery, offset: number, limit: number): Promise<string[]> {
    const page = await this.ds.galleryPage(this.engineScope, query, offset, limit, false);
    return page.rels.map((rel) => path.join(this.ds.root, rel));
  }

  async page(query: GalleryQuery, offset: number, limit: number, signal?: AbortSignal): Promise<GalleryItem[]> {
    const page = await this.ds.galleryPage(this.engineScope, query, offset, limit, true, signal);
    return page.items.map((item) => ({ ...item, path: path.join(this.ds.root, item.rel) }));
  }

  choices(): Promise<{ formats: { format: string; count: number }[]; folders: string[] }> {
    return this.ds.galleryChoices(this.engineScope);
  }

  register(paths: readonly string[]): Promise<unknown> {
    const rels = paths.map((p) => path.relative(this.ds.root, p).split(path.sep).join('/'));
    // The tree's Register path: the command receives { dataset, selection } targets.
    return Promise.resolve(vscode.commands.executeCommand('datasetIndex.registerNew', { dataset: this.ds, selection: { paths: rels } }));
  }

  dispose(): void {
    vscode.Disposable.from(...this.disposables).dispose();
  }
}
