import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { DatasetIndexApi } from '../../src/extension/extension';

export const EXTENSION_ID = 'dataset-index.dataset-index';

export async function api(): Promise<DatasetIndexApi> {
  const ext = vscode.extensions.getExtension<DatasetIndexApi>(EXTENSION_ID);
  if (!ext) throw new Error(`extension ${EXTENSION_ID} is not installed`);
  return ext.activate();
}

export function workspaceRoot(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('the test runs in a workspace with a folder');
  return folder.uri.fsPath;
}

/** An independent oracle: every image file under a folder, by a plain recursive walk. */
export function countImages(dir: string): number {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) n += countImages(path.join(dir, e.name));
    else if (e.isFile() && /\.(png|jpe?g|gif|webp)$/i.test(e.name)) n++;
  }
  return n;
}

export function countDirs(dir: string): number {
  return 1 + fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).reduce((s, e) => s + countDirs(path.join(dir, e.name)), 0);
}
