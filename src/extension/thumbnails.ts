import * as vscode from 'vscode';
import type { EngineClient } from '../core/engine/client';
import { ICON_SIZE, PREVIEW_SIZE, type ThumbnailResult } from '../core/thumbnails/types';
import { SECTION } from './settings';

/** What the service needs of a dataset: where its store is and which folder's settings apply. */
export interface ThumbnailOwner {
  readonly storeDir: string;
  readonly folder: vscode.WorkspaceFolder;
}

interface Known {
  /** The 64-px thumbnail, or null: no thumbnail for this file (format, corrupt, sharp missing). */
  icon: vscode.Uri | null;
  /** `dev:ino:size:mtime` of the original when `icon` was decided (as the engine stat'ed it), if it was. */
  stamp: string | undefined;
  checked: number;
}

/** Rows remembered with their icon: enough for every row on screen, bounded whatever is scrolled through. */
const MAX_KNOWN = 20_000;
/** A row drawn again re-checks its file's stamp at most this often. */
const RECHECK_MS = 3_000;
const PLACEHOLDER = new vscode.ThemeIcon('file-media');

/**
 * Thumbnails for the tree: a row's icon is its 64-px thumbnail once made (until then, and when there
 * is none, a codicon), and its tooltip shows the 256-px one — never the original, which the renderer
 * would decode at full size for every row. Every thumbnail is made in the engine worker (its
 * per-store cache and queue, newest first, bounded; sharp and the wasm decoders load there): this
 * side only remembers which icon a row has and asks; when one is ready, `onDidChange` fires the
 * row's element so the tree redraws that row only.
 */
export class ThumbnailService<T> implements vscode.Disposable {
  private readonly _onDidChange = new vscode.EventEmitter<T | undefined>();
  readonly onDidChange = this._onDidChange.event;
  /** The stores asked about, with an owner whose folder's settings give their cap. */
  private readonly stores = new Map<string, ThumbnailOwner>();
  private readonly known = new Map<string, Known>();
  /** The latest element drawn for a file whose thumbnail is being made: the one to fire. */
  private readonly waiting = new Map<string, T>();
  private noticeGiven = false;
  /**
   * The thumbnails settings per workspace folder, read once: `getConfiguration` costs ~0.1 ms, and a
   * page of 200 rows would read it twice per row on the host's thread. Cleared when they change.
   */
  private readonly settings = new Map<string, { enabled: boolean; maxBytes: number }>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly engine: EngineClient,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.disposables.push(
      this._onDidChange,
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (!e.affectsConfiguration(`${SECTION}.thumbnails`)) return;
        this.settings.clear();
        for (const [storeDir, owner] of this.stores) {
          this.engine.setThumbnailCacheCap(storeDir, this.maxBytes(owner)).catch((err: unknown) => this.log.debug(`thumbnail cache cap: ${String(err)}`));
        }
        this.known.clear();
        this._onDidChange.fire(undefined);
      }),
    );
  }

  enabled(owner?: ThumbnailOwner): boolean {
    return this.settingsOf(owner).enabled;
  }

  private maxBytes(owner?: ThumbnailOwner): number {
    return this.settingsOf(owner).maxBytes;
  }

  private settingsOf(owner?: ThumbnailOwner): { enabled: boolean; maxBytes: number } {
    const key = owner?.folder.uri.toString() ?? '';
    let s = this.settings.get(key);
    if (!s) {
      const config = vscode.workspace.getConfiguration(SECTION, owner?.folder.uri);
      const mb = config.get<number>('thumbnails.maxCacheMB', 256);
      // The engine takes a whole number of bytes; a value that is not a number is the default's.
      const maxBytes = Math.round(Math.max(1, Number.isFinite(mb) ? mb : 256) * 1024 * 1024);
      s = { enabled: config.get<boolean>('thumbnails.enabled', true) !== false, maxBytes };
      this.settings.set(key, s);
    }
    return s;
  }

  /**
   * One thumbnail from the engine. Never rejects: a worker that failed is a `null` (logged; the next
   * request starts a new worker). The engine says `no-sharp` with the reason; the log says it once.
   */
  private async request(file: string, size: number, owner: ThumbnailOwner, signal?: AbortSignal, knownStamp?: string): Promise<ThumbnailResult | null> {
    this.stores.set(owner.storeDir, owner);
    let r: ThumbnailResult;
    try {
      r = await this.engine.thumbnail({ storeDir: owner.storeDir, maxCacheBytes: this.maxBytes(owner), file, size, knownStamp }, signal);
    } catch (err) {
      this.log.debug(`thumbnail of ${file}: ${err instanceof Error ? err.message : String(err)}`);
      return null;
    }
    if (!r.ok && r.reason === 'no-sharp' && !this.noticeGiven) {
      this.noticeGiven = true;
      this.log.warn(`Thumbnails are off, icons are shown instead: ${r.message}`);
    }
    return r;
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
      // The file's stamp is checked in the engine: unchanged since `known` was decided → nothing else is done.
      const r = await this.request(file, ICON_SIZE, owner, undefined, known?.stamp);
      if (!r || (!r.ok && r.reason === 'cancelled')) return;
      if (!r.ok && r.reason === 'unchanged') {
        if (known) known.checked = Date.now();
        return;
      }
      if (!r.ok && r.reason !== 'no-sharp' && r.reason !== 'unsupported') this.log.debug(`thumbnail: ${r.message}`);
      const icon = r.ok ? vscode.Uri.file(r.file) : null;
      this.remember(file, { icon, stamp: r.stamp, checked: Date.now() });
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

  /**
   * The 256-px thumbnail for a tooltip or a gallery cell (made now if need be), or null: none is
   * shown. A cancel (the tooltip's token, the gallery's signal) drops it from the engine's queue.
   */
  async preview(file: string, owner: ThumbnailOwner, cancel?: vscode.CancellationToken | AbortSignal): Promise<{ uri: vscode.Uri; width: number; height: number } | null> {
    if (!this.enabled(owner)) return null;
    let signal: AbortSignal | undefined;
    let sub: vscode.Disposable | undefined;
    if (cancel instanceof AbortSignal) signal = cancel;
    else if (cancel) {
      const abort = new AbortController();
      sub = cancel.onCancellationRequested(() => abort.abort());
      if (cancel.isCancellationRequested) abort.abort();
      signal = abort.signal;
    }
    try {
      const r = await this.request(file, PREVIEW_SIZE, owner, signal);
      return r?.ok ? { uri: vscode.Uri.file(r.file), width: r.width, height: r.height } : null;
    } finally {
      sub?.dispose();
    }
  }

  dispose(): void {
    vscode.Disposable.from(...this.disposables).dispose();
    // The wasm decode thread lives in the engine worker: ended there (it also ends by itself when idle).
    this.engine.closeThumbnails().catch(() => undefined);
  }
}
