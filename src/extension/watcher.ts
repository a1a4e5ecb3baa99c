import * as vscode from 'vscode';
import type { FileEvent } from '../core';
import { fsTypeOf, NETWORK_FS } from '../core/fsutil/mountType';
import type { Dataset, DatasetModel } from './model';

const QUIET_MS = 300;
const MAX_WAIT_MS = 1200;

/**
 * A hint, not the truth: events are batched (300 ms of quiet, at most 1.2 s) and applied to the
 * snapshot in memory; whatever cannot be applied safely becomes a quick rescan. Folders on file
 * systems whose events cannot be trusted are not watched (the log says so).
 */
export class DatasetWatcher implements vscode.Disposable {
  private watchers = new Map<Dataset, vscode.Disposable>();
  private pending = new Map<Dataset, FileEvent[]>();
  private timers = new Map<Dataset, { quiet: NodeJS.Timeout; first: number }>();
  private readonly disposables: vscode.Disposable[] = [];
  /** Resolves when a flushed batch has been applied (tests wait on it). */
  private readonly _onDidApply = new vscode.EventEmitter<{ ds: Dataset; rescan: string | null; added: number; removed: number; changed: number }>();
  readonly onDidApply = this._onDidApply.event;

  constructor(
    private readonly model: DatasetModel,
    private readonly log: vscode.LogOutputChannel,
    private readonly rescan: (ds: Dataset, reason: string) => Promise<unknown>,
  ) {
    this.disposables.push(model.onDidChange(() => this.sync()), this._onDidApply);
    this.sync();
  }

  /** One watcher per dataset that is indexed and wants watching. */
  sync(): void {
    for (const ds of this.model.all) {
      const want = ds.summary !== null && ds.watchEnabled;
      if (want && !this.watchers.has(ds)) this.start(ds);
      if (!want && this.watchers.has(ds)) this.stop(ds);
    }
    for (const ds of [...this.watchers.keys()]) if (!this.model.all.includes(ds)) this.stop(ds);
  }

  private start(ds: Dataset): void {
    const type = fsTypeOf(ds.root);
    if (type && NETWORK_FS.test(type)) {
      this.log.info(`${ds.label}: on ${type}, whose change events cannot be trusted: not watching; run Index Images to refresh`);
      this.watchers.set(ds, new vscode.Disposable(() => undefined));
      return;
    }
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(ds.root), '**/*'));
    const push = (kind: FileEvent['kind']) => (uri: vscode.Uri) => this.push(ds, { kind, path: uri.fsPath });
    this.watchers.set(ds, vscode.Disposable.from(watcher, watcher.onDidCreate(push('created')), watcher.onDidDelete(push('deleted')), watcher.onDidChange(push('changed'))));
  }

  private stop(ds: Dataset): void {
    this.watchers.get(ds)?.dispose();
    this.watchers.delete(ds);
    const t = this.timers.get(ds);
    if (t) clearTimeout(t.quiet);
    this.timers.delete(ds);
    this.pending.delete(ds);
  }

  private push(ds: Dataset, event: FileEvent): void {
    if (event.path.startsWith(ds.storeDir)) return;
    let list = this.pending.get(ds);
    if (!list) this.pending.set(ds, (list = []));
    list.push(event);
    const now = Date.now();
    const t = this.timers.get(ds);
    if (t) clearTimeout(t.quiet);
    const first = t?.first ?? now;
    const wait = Math.max(0, Math.min(QUIET_MS, first + MAX_WAIT_MS - now));
    this.timers.set(ds, { first, quiet: setTimeout(() => void this.flush(ds), wait) });
  }

  private async flush(ds: Dataset): Promise<void> {
    this.timers.delete(ds);
    const events = this.pending.get(ds) ?? [];
    this.pending.delete(ds);
    if (events.length === 0) return;
    try {
      const result = await ds.applyEvents(events);
      if (result.rescan) await this.rescan(ds, result.rescan);
      this._onDidApply.fire({ ds, ...result });
    } catch (err) {
      this.log.warn(`${ds.label}: file events could not be applied (${err instanceof Error ? err.message : String(err)}); quick rescan`);
      await this.rescan(ds, 'watcher error').catch(() => undefined);
      this._onDidApply.fire({ ds, rescan: 'watcher error', added: 0, removed: 0, changed: 0 });
    }
  }

  dispose(): void {
    for (const ds of [...this.watchers.keys()]) this.stop(ds);
    vscode.Disposable.from(...this.disposables).dispose();
  }
}
