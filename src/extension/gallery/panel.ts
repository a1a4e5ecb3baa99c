import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { DEFAULT_QUERY, type GalleryQuery } from '../../core/gallery/order';
import { formatBytes } from '../datasetTree';
import type { CellData, GalleryAction, HostMessage, SelectionData, WebviewMessage } from './protocol';
import type { GalleryItem, GallerySource, ThumbnailSource } from './source';

export const GALLERY_VIEW_TYPE = 'datasetIndex.gallery';

/** Opening many editors at once is never what a click meant. */
const MAX_OPEN = 20;
/** Pages and thumbnails at work for one panel, at most: a screenful at the smallest zoom is ~200 cells. */
const MAX_PAGE_JOBS = 16;
const MAX_THUMB_JOBS = 512;

/** What a test (and only a test) reads of a panel: the same calls the webview makes. */
export interface GalleryTestHandle {
  readonly title: string;
  count(): Promise<number>;
  page(offset: number, limit: number): Promise<GalleryItem[]>;
  setQuery(query: GalleryQuery): Promise<number>;
  /** Runs an action as the webview's buttons do. */
  act(action: GalleryAction, selection: SelectionData): Promise<unknown>;
  /** Resolves when the webview has said it is ready (its script ran under the CSP). */
  readonly ready: Promise<void>;
  readonly visible: boolean;
  /** Opened side by side (large cells, the given order): a duplicate or near-duplicate group. */
  readonly sideBySide: boolean;
  /** Sends a settled view as the webview does (its generation filled in). */
  view(m: { limit: number; pages: number[]; keepPages?: number[]; thumbs: string[]; keepThumbs?: string[] }): void;
  /** Pages (offsets) and thumbnails (paths) the panel is working on now. */
  jobs(): { pages: number[]; thumbs: string[] };
  /** Messages posted to the webview since the handle was first taken. */
  readonly posted: readonly HostMessage[];
}

/**
 * One gallery: a webview panel over a GallerySource. The panel keeps the query; the webview keeps
 * what the user sees (scroll, zoom, selection) in its own state, so a hidden panel — whose
 * document is thrown away (`retainContextWhenHidden: false`) — comes back as it was.
 */
export class GalleryPanel implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private query: GalleryQuery;
  private generation = 0;
  private preparing: AbortController | null = null;
  /** Pages being read for the webview (by offset) and thumbnails being made (by path): only what is in view. */
  private readonly pageJobs = new Map<number, AbortController>();
  private readonly thumbJobs = new Map<string, AbortController>();
  private changeTimer: NodeJS.Timeout | undefined;
  private disposed = false;
  /** Tests only: what was posted to the webview, from the first testHandle() on. */
  private testPosted: HostMessage[] | undefined;
  private readyResolve!: () => void;
  readonly ready = new Promise<void>((resolve) => (this.readyResolve = resolve));
  private readonly _onDidDispose = new vscode.EventEmitter<void>();
  readonly onDidDispose = this._onDidDispose.event;

  constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly source: GallerySource,
    private readonly thumbs: ThumbnailSource,
    private readonly mediaRoot: vscode.Uri,
    private readonly log: vscode.LogOutputChannel,
    private readonly sideBySide: boolean,
  ) {
    // Folder order by default: it is the list's own order, no sort at all (a name sort of 1M paths costs seconds).
    this.query = { ...DEFAULT_QUERY };
    panel.webview.options = {
      enableScripts: true,
      localResourceRoots: [mediaRoot, ...source.roots.map((r) => vscode.Uri.file(r)), ...(thumbs.roots ?? []).map((r) => vscode.Uri.file(r))],
    };
    panel.webview.html = this.html();
    this.disposables.push(
      panel.webview.onDidReceiveMessage((m: WebviewMessage) => this.onMessage(m)),
      // The dataset changed (watcher, registration, rescan): a new count, the visible page again.
      // Debounced: a burst of watcher batches is one refresh.
      source.onDidChange(() => {
        clearTimeout(this.changeTimer);
        this.changeTimer = setTimeout(() => void this.refresh(), 300);
      }),
      panel.onDidDispose(() => this.dispose()),
      source,
      this._onDidDispose,
    );
  }

  get title(): string {
    return this.source.title;
  }

  reveal(): void {
    this.panel.reveal();
  }

  /** The images of the current query. */
  count(): Promise<number> {
    return this.source.prepare(this.query);
  }

  testHandle(): GalleryTestHandle {
    const panel = this.panel;
    const posted = (this.testPosted ??= []);
    return {
      title: this.source.title,
      count: () => this.source.prepare(this.query),
      page: (offset, limit) => this.source.page(this.query, offset, limit),
      setQuery: async (query) => {
        this.query = query;
        await this.refresh();
        return this.source.prepare(query);
      },
      act: (action, selection) => this.act(action, selection),
      ready: this.ready,
      sideBySide: this.sideBySide,
      view: (m) => this.onView({ type: 'view', generation: this.generation, keepPages: [], keepThumbs: [], thumbSize: 256, ...m }),
      jobs: () => ({ pages: [...this.pageJobs.keys()], thumbs: [...this.thumbJobs.keys()] }),
      posted,
      get visible() {
        return panel.visible;
      },
    };
  }

  /** A closed panel's webview throws on access: work still in flight when it closed posts nothing. */
  private post(message: HostMessage): void {
    if (this.disposed) return;
    this.testPosted?.push(message);
    void this.panel.webview.postMessage(message);
  }

  private async onMessage(m: WebviewMessage): Promise<void> {
    try {
      switch (m.type) {
        case 'ready': {
          this.post({ type: 'init', title: this.source.title, sideBySide: this.sideBySide, query: this.query, canRegister: true });
          this.readyResolve();
          // The count first (the engine builds the scope's list for it), the filters' choices after:
          // the engine answers in the order asked, and the first cells need only the count.
          const refreshed = this.refresh();
          void this.source.choices().then(
            (choices) => this.post({ type: 'choices', formats: choices.formats, folders: choices.folders }),
            (err: unknown) => this.log.warn(`gallery: the filters' choices: ${err instanceof Error ? err.message : String(err)}`),
          );
          await refreshed;
          return;
        }
        case 'query':
          this.query = m.query;
          await this.refresh();
          return;
        case 'view':
          this.onView(m);
          return;
        case 'paths':
          if (m.generation !== this.generation) return;
          this.post({ type: 'paths', id: m.id, generation: m.generation, paths: await this.source.paths(this.query, m.offset, m.limit) });
          return;
        case 'open':
          await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(m.path), { preview: true });
          return;
        case 'action':
          if (m.generation !== this.generation && m.selection.all) {
            this.post({ type: 'error', message: 'The images changed meanwhile; select again.' });
            return;
          }
          await this.act(m.action, m.selection);
          return;
      }
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if ((err instanceof Error && err.name === 'AbortError') || this.disposed) return;
      this.log.error(`gallery: ${message}`);
      this.post({ type: 'error', message });
    }
  }

  /** A new ordering (query or data changed): the count, then the webview asks for its visible pages. */
  private async refresh(): Promise<void> {
    const generation = ++this.generation;
    this.preparing?.abort();
    // Pages of the old ordering are of no use; thumbnails are per file and stay wanted until the next view.
    for (const job of this.pageJobs.values()) job.abort();
    this.pageJobs.clear();
    const controller = (this.preparing = new AbortController());
    const count = await this.source.prepare(this.query, {
      signal: controller.signal,
      onProgress: (done, total) => this.post({ type: 'busy', message: `Reading ${done.toLocaleString()} / ${total.toLocaleString()} files…` }),
    });
    if (generation !== this.generation) return;
    this.post({ type: 'busy', message: null });
    this.post({ type: 'count', generation, count });
  }

  /**
   * The webview's settled view: start what it newly wants, cancel what it no longer wants (the
   * engine stops reading a page's facts, the thumbnail queue drops a waiting job or aborts a
   * running one). So scrolling past a million images leaves no work behind.
   */
  private onView(m: Extract<WebviewMessage, { type: 'view' }>): void {
    // Pages are of one ordering (a view of an older one is ignored: the webview asks again on the
    // new count); thumbnails are per file, whatever the ordering.
    const pages = new Set(m.generation === this.generation ? [...m.pages, ...m.keepPages] : []);
    for (const [offset, job] of this.pageJobs) {
      if (pages.has(offset)) continue;
      job.abort();
      this.pageJobs.delete(offset);
    }
    for (const offset of m.generation === this.generation ? m.pages : []) {
      if (this.pageJobs.has(offset) || this.pageJobs.size >= MAX_PAGE_JOBS) continue;
      const job = new AbortController();
      this.pageJobs.set(offset, job);
      void this.sendPage(m.generation, offset, m.limit, job);
    }
    const thumbs = new Set([...m.thumbs, ...m.keepThumbs]);
    for (const [file, job] of this.thumbJobs) {
      if (thumbs.has(file)) continue;
      job.abort();
      this.thumbJobs.delete(file);
    }
    for (const file of m.thumbs) {
      if (this.thumbJobs.has(file) || this.thumbJobs.size >= MAX_THUMB_JOBS) continue;
      const job = new AbortController();
      this.thumbJobs.set(file, job);
      void this.sendThumb(file, m.thumbSize, job);
    }
  }

  private async sendPage(generation: number, offset: number, limit: number, job: AbortController): Promise<void> {
    try {
      const items = await this.source.page(this.query, offset, limit, job.signal);
      if (generation !== this.generation || job.signal.aborted) return;
      this.post({ type: 'page', generation, offset, items: items.map(cellOf) });
    } catch (err) {
      if (job.signal.aborted) return;
      const message = err instanceof Error ? err.message : String(err);
      this.log.error(`gallery: ${message}`);
      this.post({ type: 'error', message });
    } finally {
      if (this.pageJobs.get(offset) === job) this.pageJobs.delete(offset);
    }
  }

  /** One thumbnail as it comes: each one a message, so the first ones show before the slowest is made. */
  private async sendThumb(file: string, size: 64 | 256, job: AbortController): Promise<void> {
    try {
      const uri = await this.thumbs.uriFor(file, size, job.signal).catch(() => undefined);
      if (job.signal.aborted || this.disposed) return;
      this.post({ type: 'thumb', path: file, uri: uri ? this.panel.webview.asWebviewUri(uri).toString() : null });
    } finally {
      if (this.thumbJobs.get(file) === job) this.thumbJobs.delete(file);
    }
  }

  /** The selection's absolute paths, in the grid's order. */
  private async resolve(selection: SelectionData): Promise<string[]> {
    if (!selection.all) return selection.paths;
    const count = await this.source.prepare(this.query);
    const except = new Set(selection.paths);
    return (await this.source.paths(this.query, 0, count)).filter((p) => !except.has(p));
  }

  private async act(action: GalleryAction, selection: SelectionData): Promise<unknown> {
    const paths = await this.resolve(selection);
    if (paths.length === 0) return undefined;
    switch (action) {
      case 'register':
        return this.source.register(paths);
      case 'copy':
        await vscode.env.clipboard.writeText(paths.join('\n'));
        return paths.length;
      case 'reveal':
        // The Explorer shows one file at a time: the first of the selection.
        await vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(paths[0]));
        return 1;
      case 'open': {
        for (const p of paths.slice(0, MAX_OPEN)) await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(p), { preview: paths.length === 1 });
        if (paths.length > MAX_OPEN) void vscode.window.showInformationMessage(vscode.l10n.t('Dataset Index: opened the first {0} of {1} selected images.', MAX_OPEN, paths.length.toLocaleString()));
        return Math.min(paths.length, MAX_OPEN);
      }
    }
  }

  private html(): string {
    const webview = this.panel.webview;
    const nonce = randomBytes(16).toString('base64');
    const script = webview.asWebviewUri(vscode.Uri.joinPath(this.mediaRoot, 'gallery.js'));
    const style = webview.asWebviewUri(vscode.Uri.joinPath(this.mediaRoot, 'gallery.css'));
    const csp = [
      "default-src 'none'",
      `img-src ${webview.cspSource} data:`,
      `style-src ${webview.cspSource}`,
      `script-src 'nonce-${nonce}'`,
    ].join('; ');
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style.toString()}">
<title>Gallery</title>
</head>
<body>
<div id="toolbar" role="toolbar"></div>
<div id="status" role="status" aria-live="polite"></div>
<div id="viewport" tabindex="0" role="grid" aria-multiselectable="true"><div id="spacer"></div><div id="cells"></div></div>
<script nonce="${nonce}" src="${script.toString()}"></script>
</body>
</html>`;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    clearTimeout(this.changeTimer);
    this.preparing?.abort();
    for (const job of [...this.pageJobs.values(), ...this.thumbJobs.values()]) job.abort();
    this.pageJobs.clear();
    this.thumbJobs.clear();
    this._onDidDispose.fire();
    vscode.Disposable.from(...this.disposables).dispose();
    this.panel.dispose();
  }
}

function cellOf(item: GalleryItem): CellData {
  const facts: string[] = [];
  if (item.width !== null && item.height !== null) facts.push(`${item.width} × ${item.height}`);
  if (item.size !== null) facts.push(formatBytes(item.size));
  if (item.status === 'missing') facts.push('missing');
  return { path: item.path, name: item.name, caption: facts.join(' · '), status: item.status };
}
