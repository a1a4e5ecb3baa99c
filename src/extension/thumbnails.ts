import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { closeDecodeThread, ICON_SIZE, PREVIEW_SIZE, Thumbnailer, type ThumbnailResult } from '../core/thumbnails';
import { SECTION } from './settings';

/** What the service needs of a dataset: where its store is and which folder's settings apply. */
export interface ThumbnailOwner {
  readonly storeDir: string;
  readonly folder: vscode.WorkspaceFolder;
}

interface Known {
  /** The 64-px thumbnail, or null: no thumbnail for this file (format, corrupt, sharp missing). */
  icon: vscode.Uri | null;
  /** `dev:ino:size:mtime` of the original when `icon` was decided. */
  stamp: string;
  checked: number;
}

/** Rows remembered with their icon: enough for every row on screen, bounded whatever is scrolled through. */
const MAX_KNOWN = 20_000;
/** A row drawn again re-checks its file's stamp at most this often. */
const RECHECK_MS = 3_000;
const PLACEHOLDER = new vscode.ThemeIcon('file-media');

const stampKey = (st: fs.BigIntStats): string => `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`;

/**
 * Thumbnails for the tree: a row's icon is its 64-px thumbnail once made (until then, and when there
 * is none, a codicon), and its tooltip shows the 256-px one — never the original, which the renderer
 * would decode at full size for every row. Requests go to the core's queue (newest first, bounded);
 * when one is ready, `onDidChange` fires the row's element so the tree redraws that row only.
 */
export class ThumbnailService<T> implements vscode.Disposable {
  private readonly _onDidChange = new vscode.EventEmitter<T | undefined>();
  readonly onDidChange = this._onDidChange.event;
  private readonly thumbnailers = new Map<string, Thumbnailer>();
  private readonly known = new Map<string, Known>();
  /** The latest element drawn for a file whose thumbnail is being made: the one to fire. */
  private readonly waiting = new Map<string, T>();
  private noticeGiven = false;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly log: vscode.LogOutputChannel) {
    this.disposables.push(
      this._onDidChange,
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (!e.affectsConfiguration(`${SECTION}.thumbnails`)) return;
        for (const t of this.thumbnailers.values()) void t.cache.setMaxBytes(this.maxBytes()).catch(() => undefined);
        this.known.clear();
        this._onDidChange.fire(undefined);
      }),
    );
  }

  enabled(owner?: ThumbnailOwner): boolean {
    return vscode.workspace.getConfiguration(SECTION, owner?.folder.uri).get<boolean>('thumbnails.enabled', true);
  }

  private maxBytes(owner?: ThumbnailOwner): number {
    const mb = vscode.workspace.getConfiguration(SECTION, owner?.folder.uri).get<number>('thumbnails.maxCacheMB', 256);
    return Math.max(1, mb) * 1024 * 1024;
  }

  private thumbnailer(owner: ThumbnailOwner): Thumbnailer {
    let t = this.thumbnailers.get(owner.storeDir);
    if (!t) {
      t = new Thumbnailer({
        cacheDir: path.join(owner.storeDir, 'thumbnails'),
        maxCacheBytes: this.maxBytes(owner),
        notice: (message) => {
          if (this.noticeGiven) return;
          this.noticeGiven = true;
          this.log.warn(message);
        },
      });
      this.thumbnailers.set(owner.storeDir, t);
    }
    return t;
  }

  /**
   * Sets `item.iconPath` for the image `file`: its thumbnail when known, else a codicon and, once the
   * thumbnail is made, a change event for `element`. Synchronous: nothing waits on the disk here.
   */
  icon(item: vscode.TreeItem, file: string, owner: ThumbnailOwner, element: T): void {
    if (!this.enabled(owner)) {
      item.iconPath = PLACEHOLDER;
      return;
    }
    const known = this.known.get(file);
    item.iconPath = known?.icon ?? PLACEHOLDER;
    if (known && Date.now() - known.checked < RECHECK_MS) return;
    const first = !this.waiting.has(file);
    this.waiting.set(file, element);
    if (first) void this.refreshIcon(file, owner, known);
  }

  private async refreshIcon(file: string, owner: ThumbnailOwner, known: Known | undefined): Promise<void> {
    try {
      const st = await fs.promises.stat(file, { bigint: true }).catch(() => null);
      const stamp = st ? stampKey(st) : 'gone';
      if (known && known.stamp === stamp) {
        known.checked = Date.now();
        return;
      }
      const r = await this.thumbnailer(owner).thumbnail(file, ICON_SIZE);
      if (!r.ok && r.reason === 'cancelled') return;
      if (!r.ok && r.reason !== 'no-sharp' && r.reason !== 'unsupported') this.log.debug(`thumbnail: ${r.message}`);
      const icon = r.ok ? vscode.Uri.file(r.file) : null;
      this.remember(file, { icon, stamp, checked: Date.now() });
      const element = this.waiting.get(file);
      if (element !== undefined && icon?.toString() !== known?.icon?.toString()) this._onDidChange.fire(element);
    } finally {
      this.waiting.delete(file);
    }
  }

  private remember(file: string, k: Known): void {
    this.known.delete(file);
    this.known.set(file, k);
    if (this.known.size > MAX_KNOWN) this.known.delete(this.known.keys().next().value!);
  }

  /** The 256-px thumbnail for a tooltip (made now if need be), or null: the tooltip then shows none. */
  async preview(file: string, owner: ThumbnailOwner, token?: vscode.CancellationToken): Promise<{ uri: vscode.Uri; width: number; height: number } | null> {
    if (!this.enabled(owner)) return null;
    const abort = new AbortController();
    const sub = token?.onCancellationRequested(() => abort.abort());
    let r: ThumbnailResult;
    try {
      r = await this.thumbnailer(owner).thumbnail(file, PREVIEW_SIZE, abort.signal);
    } finally {
      sub?.dispose();
    }
    return r.ok ? { uri: vscode.Uri.file(r.file), width: r.width, height: r.height } : null;
  }

  dispose(): void {
    vscode.Disposable.from(...this.disposables).dispose();
    void closeDecodeThread();
  }
}
