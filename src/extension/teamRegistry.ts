import * as vscode from 'vscode';
import type { TeamRegistrySpec } from '../core/registry/postgres/connect';

/**
 * The team registry of a workspace folder: `datasetIndex.registry.url` (a postgresql:// URL,
 * without its password) and `datasetIndex.registry.dataset` (default: the folder's name). The
 * password lives in VS Code's SecretStorage, one per URL, set by the command "Dataset Index: Set
 * Team Registry Password"; never in settings, never logged. Passwords are read once at
 * activation and kept current from SecretStorage's change event, so building a request stays
 * synchronous.
 */
export interface TeamSetting {
  url: string;
  dataset?: string;
}

export const SET_PASSWORD_COMMAND = 'datasetIndex.setTeamRegistryPassword';

const SECRET_PREFIX = 'datasetIndex.registry.password:';

/** The key of a URL's password: the URL with any password it carries removed. */
function secretKey(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    return SECRET_PREFIX + u.toString();
  } catch {
    return SECRET_PREFIX + url;
  }
}

/** The setting as read for one folder; untrusted workspaces get none (a URL makes the extension connect out). */
export function readTeamSetting(cfg: vscode.WorkspaceConfiguration, trusted: boolean): TeamSetting | undefined {
  const url = cfg.get<string>('registry.url', '').trim();
  if (!url || !trusted) return undefined;
  const dataset = cfg.get<string>('registry.dataset', '').trim();
  return { url, ...(dataset ? { dataset } : {}) };
}

export class TeamPasswords implements vscode.Disposable {
  private readonly known = new Map<string, string>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly secrets: vscode.SecretStorage) {
    this.disposables.push(
      secrets.onDidChange((e) => {
        if (e.key.startsWith(SECRET_PREFIX)) void this.load(e.key);
      }),
    );
  }

  /** Reads the passwords of these URLs (at activation and when settings change). */
  async preload(urls: readonly string[]): Promise<void> {
    await Promise.all(urls.map((u) => this.load(secretKey(u))));
  }

  private async load(key: string): Promise<void> {
    const value = await this.secrets.get(key);
    if (value === undefined) this.known.delete(key);
    else this.known.set(key, value);
  }

  /** The request's team registry: the setting plus its stored password (none: pg falls back to PGPASSWORD / ~/.pgpass). */
  spec(setting: TeamSetting | undefined): TeamRegistrySpec | undefined {
    if (!setting) return undefined;
    const password = this.known.get(secretKey(setting.url));
    return { ...setting, ...(password !== undefined ? { password } : {}) };
  }

  /** The command: asks for the password of a configured URL (or of the one typed) and stores it. */
  async setPassword(urls: readonly string[]): Promise<void> {
    const unique = [...new Set(urls)];
    const url = unique.length === 1
      ? unique[0]
      : unique.length > 1
        ? await vscode.window.showQuickPick(unique, { placeHolder: vscode.l10n.t('Team registry') })
        : await vscode.window.showInputBox({ prompt: vscode.l10n.t('Team registry URL (postgresql://user@host/database); set datasetIndex.registry.url to use it'), ignoreFocusOut: true });
    if (!url) return;
    const password = await vscode.window.showInputBox({ prompt: vscode.l10n.t('Password for {0}', secretKey(url).slice(SECRET_PREFIX.length)), password: true, ignoreFocusOut: true });
    if (password === undefined) return;
    await this.store(url, password);
  }

  /** Stores (or, empty, deletes) a URL's password in SecretStorage and takes it at once. */
  async store(url: string, password: string): Promise<void> {
    if (password === '') await this.secrets.delete(secretKey(url));
    else await this.secrets.store(secretKey(url), password);
    await this.load(secretKey(url));
    if (password !== '' && this.known.get(secretKey(url)) !== password) throw new Error(vscode.l10n.t('VS Code\'s secret storage did not keep the password'));
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

/** The settings' URLs of every workspace folder. */
export function configuredUrls(): string[] {
  const urls: string[] = [];
  for (const folder of vscode.workspace.workspaceFolders ?? []) {
    const s = readTeamSetting(vscode.workspace.getConfiguration('datasetIndex', folder.uri), vscode.workspace.isTrusted);
    if (s) urls.push(s.url);
  }
  return urls;
}

/** Set at activation; model requests read passwords through it. */
let passwords: TeamPasswords | null = null;

/**
 * In Restricted Mode the URL is ignored and the local registry is used: said once, so that counts
 * from the local registry are not taken for the team's.
 */
function sayIgnoredInRestrictedMode(): void {
  if (vscode.workspace.isTrusted) return;
  const set = (vscode.workspace.workspaceFolders ?? []).some((f) => readTeamSetting(vscode.workspace.getConfiguration('datasetIndex', f.uri), true));
  if (!set) return;
  void vscode.window.showWarningMessage(
    vscode.l10n.t('Dataset Index: datasetIndex.registry.url is ignored in Restricted Mode; the local registry is used until the workspace is trusted.'),
  );
}

export function activateTeamRegistry(context: vscode.ExtensionContext): TeamPasswords {
  sayIgnoredInRestrictedMode();
  passwords = new TeamPasswords(context.secrets);
  void passwords.preload(configuredUrls());
  context.subscriptions.push(
    passwords,
    vscode.commands.registerCommand(SET_PASSWORD_COMMAND, () => passwords?.setPassword(configuredUrls())),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('datasetIndex.registry')) void passwords?.preload(configuredUrls());
    }),
  );
  return passwords;
}

/** A folder's team registry for a core request (undefined: the local SQLite registry). */
export function teamRegistryFor(setting: TeamSetting | undefined): TeamRegistrySpec | undefined {
  return setting ? (passwords?.spec(setting) ?? setting) : undefined;
}
