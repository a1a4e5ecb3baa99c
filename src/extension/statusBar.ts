import * as vscode from 'vscode';
import type { DatasetModel } from './model';

const num = (x: number): string => x.toLocaleString();

export function formatAge(ms: number): string {
  if (ms < 60_000) return 'just now';
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min ago`;
  if (ms < 48 * 3_600_000) return `${Math.round(ms / 3_600_000)} h ago`;
  return `${Math.round(ms / 86_400_000)} days ago`;
}

/**
 * "$(file-media) 1,234 new · scanned 5 min ago": unregistered images and the age of the scan, kept
 * current as time passes; a warning look when nothing is indexed or the cache is past its max age.
 */
export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('datasetIndex.status', vscode.StatusBarAlignment.Left, 10);
  private readonly disposables: vscode.Disposable[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly model: DatasetModel) {
    this.item.name = 'Dataset Index';
    this.item.command = 'datasetIndex.indexImages';
    this.disposables.push(this.item, model.onDidChange(() => this.render()), model.onDidChangeBusy(() => this.render()));
    this.timer = setInterval(() => this.render(), 30_000);
    this.render();
  }

  get text(): string {
    return this.item.text;
  }

  render(): void {
    const datasets = this.model.all;
    if (datasets.length === 0) {
      this.item.hide();
      return;
    }
    const busy = datasets.find((d) => d.busy);
    if (busy) {
      // A running operation (a background refresh too) shows here and is cancelled from here.
      const op = busy.busy!;
      const what = op.request.kind === 'register' ? vscode.l10n.t('registering') : op.request.kind === 'clear' ? vscode.l10n.t('clearing') : vscode.l10n.t('indexing');
      this.item.text = `$(sync~spin) ${vscode.l10n.t('{0} {1}…', what, busy.label)}`;
      this.item.command = 'datasetIndex.cancel';
      this.item.tooltip = op.background
        ? vscode.l10n.t('Dataset Index: {0} {1} (in the background) — click to cancel', what, busy.label)
        : vscode.l10n.t('Dataset Index: {0} {1} — click to cancel', what, busy.label);
      this.item.backgroundColor = undefined;
      this.item.accessibilityInformation = { label: vscode.l10n.t('Dataset Index: {0} {1}. Click to cancel.', what, busy.label) };
      this.item.show();
      return;
    }
    this.item.command = 'datasetIndex.indexImages';
    const now = Date.now();
    const indexed = datasets.filter((d) => d.summary);
    const headers = datasets.map((d) => d.cacheHeader).filter((h) => h && h.scannedAt > 0);
    const oldest = headers.length === datasets.length ? Math.min(...headers.map((h) => h!.scannedAt)) : 0;
    const stale = datasets.some((d) => {
      const h = d.cacheHeader;
      return !h || !h.complete || now - h.verifiedAt > d.maxAgeMs;
    });
    const parts: string[] = [];
    if (indexed.length) parts.push(vscode.l10n.t('{0} new', num(indexed.reduce((s, d) => s + (d.summary?.new ?? 0) + (d.summary?.changed ?? 0), 0))));
    if (datasets.every((d) => d.cleared && !d.cacheHeader)) parts.push(vscode.l10n.t('cache cleared'));
    else if (oldest) parts.push(vscode.l10n.t('scanned {0}', formatAge(now - oldest)));
    else parts.push(vscode.l10n.t('not indexed'));
    this.item.text = `$(file-media) ${parts.join(' · ')}`;
    this.item.backgroundColor = stale || !oldest ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    this.item.tooltip = this.tooltip(now);
    this.item.accessibilityInformation = { label: vscode.l10n.t('Dataset Index: {0}. Click to index images.', parts.join(', ')) };
    this.item.show();
  }

  private tooltip(now: number): vscode.MarkdownString {
    const md = new vscode.MarkdownString(undefined, true);
    md.appendMarkdown(`${vscode.l10n.t('**Dataset Index** — click to index images')}\n\n`);
    for (const d of this.model.all) {
      const h = d.cacheHeader;
      const s = d.summary;
      md.appendMarkdown(`---\n\n**${d.label}**\n\n`);
      if (!h) {
        md.appendMarkdown(`${d.cleared ? vscode.l10n.t('scan cache cleared; not indexed since') : vscode.l10n.t('not indexed yet')}\n\n`);
      } else {
        md.appendMarkdown(`${vscode.l10n.t('{0} images in {1} folders', num(h.files), num(h.dirs))}\n\n`);
        md.appendMarkdown(
          `${vscode.l10n.t('last scan: {0}, {1} s, {2}', h.lastMode, (h.lastDurationMs / 1000).toFixed(1), h.scannedAt ? formatAge(now - h.scannedAt) : vscode.l10n.t('never completed'))}\n\n`,
        );
        const verifiedAgo = now - h.verifiedAt;
        md.appendMarkdown(
          verifiedAgo > d.maxAgeMs
            ? `$(warning) ${vscode.l10n.t('files last verified {0}: the next scan verifies them', formatAge(verifiedAgo))}\n\n`
            : `${vscode.l10n.t('files verified {0}', formatAge(verifiedAgo))}\n\n`,
        );
      }
      if (s) {
        md.appendMarkdown(
          vscode.l10n.t('new {0} · changed {1} · missing {2} · registered {3}', num(s.new), num(s.changed), num(s.missing), num(s.registered)) +
            (s.unreadable ? vscode.l10n.t(' · unreadable {0}', num(s.unreadable)) : '') +
            '\n\n',
        );
      }
      md.appendMarkdown(`${vscode.l10n.t('store: {0}', `\`${d.storeDir}\``)}\n\n`);
    }
    return md;
  }

  dispose(): void {
    clearInterval(this.timer);
    vscode.Disposable.from(...this.disposables).dispose();
  }
}
