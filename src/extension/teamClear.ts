import * as vscode from 'vscode';
import type { Dataset } from './model';

const n = (x: number): string => x.toLocaleString();

/** The test hook's answer to the team question (ExtensionMode.Test only); none: the modal asks. */
export type TeamAnswer = 'delete' | 'keep';

/** What happened to one team dataset after "Clear Scan Cache and Registry". */
export interface TeamClearOutcome {
  root: string;
  /** The question the user was asked (null: none, e.g. the dataset had no rows or was unreadable). */
  asked: string | null;
  deleted: number;
  /** Why nothing was deleted: kept by the user, refused by the server side check, or an error. */
  kept?: string;
}

/**
 * "Clear Scan Cache and Registry" for a dataset on a team registry. The local scan cache is cleared
 * already; the shared dataset's rows are deleted only after a modal naming the server, the dataset
 * and its row count, with Cancel as the default — and then only if the dataset still has that many
 * rows and no registration is running (checked in the same transaction, clearDataset.ts).
 */
export async function offerTeamDelete(ds: Dataset, testAnswer: TeamAnswer | undefined, log: vscode.LogOutputChannel): Promise<TeamClearOutcome> {
  let info: Awaited<ReturnType<Dataset['teamDataset']>>;
  try {
    info = await ds.teamDataset();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    log.error(`${ds.label}: ${message}`);
    void vscode.window.showErrorMessage(vscode.l10n.t('Dataset Index: {0}: the team registry cannot be read; its rows are kept. {1}', ds.label, message));
    return { root: ds.root, asked: null, deleted: 0, kept: message };
  }
  if (info.rows === 0) {
    void vscode.window.showInformationMessage(vscode.l10n.t('Dataset Index: the team dataset "{0}" on {1} has no rows; nothing to delete.', info.dataset, info.location));
    return { root: ds.root, asked: null, deleted: 0 };
  }
  const question = vscode.l10n.t('Delete all {0} rows of the team dataset "{1}" on {2}?', n(info.rows), info.dataset, info.location);
  const detail = vscode.l10n.t(
    'This registry is shared: everyone who registers this dataset loses these rows, and every image must be registered again. Other datasets on the server are not touched. This cannot be undone. To keep a copy first: dataset-index registry copy --from <URL> --to <store> --root <folder> --dataset {0}',
    info.dataset,
  );
  const button = vscode.l10n.t('Delete {0} Rows', n(info.rows));
  const choice = testAnswer !== undefined ? (testAnswer === 'delete' ? button : undefined) : await vscode.window.showWarningMessage(question, { modal: true, detail }, button);
  if (choice !== button) {
    void vscode.window.showInformationMessage(vscode.l10n.t('Dataset Index: the team dataset "{0}" is kept; only the local scan cache was cleared.', info.dataset));
    return { root: ds.root, asked: question, deleted: 0, kept: 'kept by the user' };
  }
  const r = await ds.clearCache(false, info.rows);
  const team = r.team ?? { deleted: 0, refused: 'the dataset went away before its rows could be deleted' };
  if (team.refused) {
    void vscode.window.showWarningMessage(vscode.l10n.t('Dataset Index: {0}', team.refused));
    return { root: ds.root, asked: question, deleted: 0, kept: team.refused };
  }
  void vscode.window.showInformationMessage(vscode.l10n.t('Dataset Index: {0} rows of the team dataset "{1}" deleted.', n(team.deleted), info.dataset));
  return { root: ds.root, asked: question, deleted: team.deleted };
}
