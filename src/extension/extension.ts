import * as vscode from 'vscode';
import type { ScanReport } from '../core';

/**
 * A thin first version: one command that runs the core scan on each workspace folder, with the
 * cache in this workspace's storage. The engine is loaded on first use so activation costs nothing.
 */
export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('Dataset Index', { log: true });
  context.subscriptions.push(
    output,
    vscode.commands.registerCommand('datasetIndex.indexImages', () => indexImages(context, output)),
  );
}

async function indexImages(context: vscode.ExtensionContext, output: vscode.LogOutputChannel): Promise<ScanReport[]> {
  const folders = vscode.workspace.workspaceFolders ?? [];
  const storage = context.storageUri;
  if (folders.length === 0 || !storage) {
    void vscode.window.showInformationMessage('Dataset Index: open a folder to index its images.');
    return [];
  }
  const { scanDataset } = await import('../core');
  const maxAgeHours = vscode.workspace.getConfiguration('datasetIndex').get<number>('cacheMaxAgeHours', 24);
  const reports: ScanReport[] = [];
  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Indexing images', cancellable: true },
    async (progress, token) => {
      const controller = new AbortController();
      token.onCancellationRequested(() => controller.abort());
      for (const folder of folders) {
        const storeDir = storage.fsPath;
        try {
          const { report } = await scanDataset({
            root: folder.uri.fsPath,
            storeDir,
            maxAgeMs: maxAgeHours * 3_600_000,
            signal: controller.signal,
            log: (line) => output.info(line),
            onProgress: (p) => progress.report({ message: `${folder.name}: ${p.files.toLocaleString()} images in ${p.dirs.toLocaleString()} folders` }),
          });
          reports.push(report);
        } catch (err) {
          output.error(String(err));
          void vscode.window.showErrorMessage(`Dataset Index: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    },
  );
  const files = reports.reduce((sum, r) => sum + r.files, 0);
  void vscode.window.showInformationMessage(`Dataset Index: ${files.toLocaleString()} images indexed.`);
  return reports;
}

export function deactivate(): void {}
