import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { IndexSummary } from '../../src/extension/commands';
import type { Node } from '../../src/extension/datasetTree';
import type { DatasetIndexApi } from '../../src/extension/extension';

export const EXTENSION_ID = 'dataset-index.dataset-index';

export type FileEventsApplied = Parameters<Parameters<DatasetIndexApi['onDidApplyFileEvents']>[0]>[0];

export async function api(): Promise<DatasetIndexApi> {
  const ext = vscode.extensions.getExtension<DatasetIndexApi>(EXTENSION_ID);
  if (!ext) throw new Error(`extension ${EXTENSION_ID} is not installed`);
  const exported = await ext.activate();
  // The test API is exported only in ExtensionMode.Test: its presence says the suite runs in that mode.
  if (!exported) throw new Error(`extension ${EXTENSION_ID} exported no test API: not running in ExtensionMode.Test?`);
  return exported;
}

export function workspaceRoot(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('the test runs in a workspace with a folder');
  return folder.uri.fsPath;
}

export const IMAGE_RE = /\.(png|jpe?g|gif|webp)$/i;

/** An independent oracle: every image file under a folder, by a plain recursive walk. */
export function countImages(dir: string, re: RegExp = IMAGE_RE): number {
  return imagesOnDisk(dir, re).length;
}

/** The images under a folder, relative with '/' separators, by a plain recursive walk. */
export function imagesOnDisk(dir: string, re: RegExp = IMAGE_RE, prefix = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...imagesOnDisk(path.join(dir, e.name), re, rel));
    else if (e.isFile() && re.test(e.name)) out.push(rel);
  }
  return out;
}

export function countDirs(dir: string): number {
  return 1 + fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).reduce((s, e) => s + countDirs(path.join(dir, e.name)), 0);
}

export const run = async (id: string, ...args: unknown[]): Promise<IndexSummary[]> => await vscode.commands.executeCommand<IndexSummary[]>(id, ...args);

/** Starts over: no cache, no registry, then Index Images — every image on disk is new. */
export async function freshIndex(): Promise<IndexSummary[]> {
  await vscode.commands.executeCommand('datasetIndex.clearCacheAndRegistry', { skipConfirmation: true });
  return run('datasetIndex.indexImages');
}

/** Polls `probe` until it returns a truthy value; never a fixed sleep alone. */
export async function waitFor<T>(probe: () => T | Promise<T>, what: string, timeoutMs = 20_000, intervalMs = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await sleep(intervalMs);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---- the tree, as VS Code sees it: getChildren / getTreeItem of the real provider ----

export function labelOf(item: vscode.TreeItem): string {
  const l = item.label;
  return typeof l === 'string' ? l : l?.label ?? '';
}

/** "New (1,030)" → { name: 'New', count: 1030 }; "Similar" (its groups not computed yet) → count null. */
export function parseGroupLabel(label: string): { name: string; count: number | null } {
  if (label === 'Similar') return { name: label, count: null };
  const m = /^(\w+) \(([\d.,\s\u00a0\u202f]+)\)$/.exec(label);
  if (!m) throw new Error(`not a group label: ${label}`);
  return { name: m[1], count: Number(m[2].replace(/\D/g, '')) };
}

export interface Shown {
  node: Node;
  item: vscode.TreeItem;
  label: string;
}

export async function children(a: DatasetIndexApi, parent?: Node): Promise<Shown[]> {
  const nodes = ((await a.tree.getChildren(parent)) ?? []);
  return Promise.all(
    nodes.map(async (node) => {
      const item = a.tree.getTreeItem(node);
      return { node, item, label: labelOf(item) };
    }),
  );
}

/** The group nodes below `parent` (the top level for one dataset), by name, with their counts. */
export async function groups(a: DatasetIndexApi, parent?: Node): Promise<Map<string, Shown & { count: number | null }>> {
  const out = new Map<string, Shown & { count: number | null }>();
  for (const c of await children(a, parent)) {
    if (c.node.kind !== 'group') throw new Error(`expected a group node, got ${c.node.kind} "${c.label}"`);
    const { name, count } = parseGroupLabel(c.label);
    out.set(name, { ...c, count });
  }
  return out;
}

/** The count in a group's label, or null when the group is not shown. */
export async function groupCount(a: DatasetIndexApi, name: string, parent?: Node): Promise<number | null> {
  return (await groups(a, parent)).get(name)?.count ?? null;
}

/** Follows folder labels from a group down: findNode(api, group, 'camera0', 'day2'). */
/** An item's tooltip as the tree resolves it on hover (Markdown). */
export async function tooltipOf(a: DatasetIndexApi, shown: Shown): Promise<string> {
  const source = new vscode.CancellationTokenSource();
  const resolved = await a.tree.resolveTreeItem(shown.item, shown.node, source.token);
  const tip = resolved?.tooltip;
  assert.ok(tip instanceof vscode.MarkdownString, 'the tooltip is Markdown');
  return tip.value;
}

export async function findChild(a: DatasetIndexApi, parent: Node, ...labels: string[]): Promise<Shown> {
  let current: Shown | undefined;
  let node = parent;
  for (const l of labels) {
    current = (await children(a, node)).find((c) => c.label === l);
    if (!current) throw new Error(`no child "${l}" below ${node.kind}`);
    node = current.node;
  }
  if (!current) throw new Error('findChild needs at least one label');
  return current;
}

// ---- file events ----

/** Records every onDidApplyFileEvents for a root from now on. */
export function recordFileEvents(a: DatasetIndexApi, root?: string): { events: FileEventsApplied[]; dispose(): void } {
  const events: FileEventsApplied[] = [];
  const sub: vscode.Disposable = a.onDidApplyFileEvents((e) => {
    if (!root || e.root === root) events.push(e);
  });
  return {
    events,
    dispose: () => {
      sub.dispose();
    },
  };
}

/**
 * A file watcher starts asynchronously after the first index: until it runs, events are lost.
 * Writes a probe image into `dir` (rewriting it every 2 s) until the New group counts it, then
 * deletes it and waits until it is gone again. Returns how long the watcher took to be live.
 */
export async function watcherLive(a: DatasetIndexApi, dir: string, makeImage: () => Buffer, parent?: Node): Promise<number> {
  const started = Date.now();
  const before = (await groupCount(a, 'New', parent)) ?? 0;
  const probe = path.join(dir, `zz-watch-probe-${process.pid}.png`);
  let written = 0;
  await waitFor(async () => {
    if (Date.now() - written > 2000) {
      fs.writeFileSync(probe, makeImage());
      written = Date.now();
    }
    return (await groupCount(a, 'New', parent)) === before + 1;
  }, 'the watcher to report a probe file', 30_000, 100);
  fs.rmSync(probe);
  await waitFor(async () => (await groupCount(a, 'New', parent)) === before, 'the watcher to report the probe deleted', 20_000);
  return Date.now() - started;
}

// ---- the rendered workbench (answered by test/harness/runVscodeWeb.mjs) ----

let probes = 0;

/**
 * Texts of the visible elements matching a CSS selector in the workbench page (aria-label
 * appended). Only under the code-server harness (DSX_PROBE_DIR); null elsewhere.
 */
export async function domTexts(selector: string): Promise<string[] | null> {
  const dir = process.env.DSX_PROBE_DIR;
  if (!dir) return null;
  const id = `${process.pid}-${++probes}`;
  const file = path.join(dir, `${id}.json`);
  console.log(`DSX-PROBE ${JSON.stringify({ id, selector })}`);
  const answer: { texts?: string[]; error?: string } = await waitFor(
    () => (fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as { texts?: string[]; error?: string }) : null),
    `the harness to answer probe ${selector}`,
    15_000,
  );
  fs.rmSync(file, { force: true });
  if (answer.error) throw new Error(`probe ${selector}: ${answer.error}`);
  return answer.texts ?? [];
}

/** Polls the workbench until a visible element matching `selector` contains `text`. */
export async function waitForDomText(selector: string, text: string | RegExp, timeoutMs = 20_000): Promise<string | null> {
  if (!process.env.DSX_PROBE_DIR) return null;
  const matches = (t: string): boolean => (typeof text === 'string' ? t.includes(text) : text.test(t));
  let seen: string[] = [];
  try {
    return await waitFor(async () => {
      seen = (await domTexts(selector)) ?? [];
      return seen.find(matches) ?? null;
    }, `"${String(text)}" in ${selector}`, timeoutMs, 250);
  } catch (err) {
    throw new Error(`${(err as Error).message}; last seen: ${JSON.stringify(seen.slice(0, 10))}`, { cause: err });
  }
}

export const WELCOME = '.welcome-view-content';
export const TREE_ROWS = '.monaco-list-row';
const NOTIFICATION_CENTER = '.notifications-center .notification-list-item-message';

/**
 * Waits until the notification center lists a message containing `text`. (Toasts are not shown
 * while extension tests run; the center lists every notification since `notifications.clearAll`.)
 */
export async function waitForNotification(text: string | RegExp, timeoutMs = 20_000): Promise<string | null> {
  await vscode.commands.executeCommand('notifications.showList');
  try {
    return await waitForDomText(NOTIFICATION_CENTER, text, timeoutMs);
  } finally {
    await vscode.commands.executeCommand('notifications.hideList');
  }
}
