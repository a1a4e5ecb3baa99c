import * as vscode from 'vscode';
import { CommandCenter } from './commands';
import { DatasetModel } from './model';
import { SCAN_SHAPING, SECTION } from './settings';

export interface DatasetIndexApi {
  /** The datasets (one per root of each workspace folder) and where each keeps its store. */
  datasets(): { folder: string; root: string; storeDir: string }[];
}

/**
 * Activation builds objects and subscribes to events, nothing more: no scan, no sql.js, no file
 * read until a command (or, later, the view) needs it.
 */
export function activate(context: vscode.ExtensionContext): DatasetIndexApi {
  const log = vscode.window.createOutputChannel('Dataset Index', { log: true });
  const model = new DatasetModel(context.storageUri, log);
  const commands = new CommandCenter(model, log);
  context.subscriptions.push(
    log,
    model,
    commands,
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (SCAN_SHAPING.some((key) => e.affectsConfiguration(key))) model.reloadSettings();
      else if (e.affectsConfiguration(SECTION)) model.rebuild();
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => model.rebuild()),
  );
  return {
    datasets: () => model.all.map((d) => ({ folder: d.folder.name, root: d.root, storeDir: d.storeDir })),
  };
}

export function deactivate(): void {}
