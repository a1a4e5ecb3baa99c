// What a person touches in the workbench, as playwright locators and polls: the command palette,
// the notification center, the activity bar, the Dataset Images tree, its hovers and the status bar.
// Every wait polls the page until it shows what is expected or a generous deadline passes; no fixed
// sleep decides anything.

export const SIDEBAR = '.part.sidebar';
export const STATUS_BAR = '#workbench\\.parts\\.statusbar';
/** The extension's status bar item: its id ends with the item id given to createStatusBarItem. */
export const STATUS_ITEM = `${STATUS_BAR} .statusbar-item[id$="datasetIndex.status"]`;

/**
 * Polls `probe()` until `accept(value)` holds; returns the value. On timeout, fails the check with
 * what was last seen, so a failure says "expected X, saw Y" rather than "timeout".
 */
export async function eventually(check, what, probe, accept, { timeout = 30_000, interval = 250 } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  let error;
  for (;;) {
    try {
      last = await probe();
      error = undefined;
      if (accept(last)) return last;
    } catch (err) {
      error = err;
    }
    if (Date.now() > deadline) {
      const seen = error ? `error: ${error.message}` : JSON.stringify(last);
      check(false, `${what} (after ${Math.round(timeout / 1000)} s); last seen: ${seen}`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

/** F1, type the title, Enter — retried while the workbench is still registering extensions' commands. */
export async function runCommand(page, title, { timeout = 60_000 } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ timeout: 20_000 });
    await input.fill(`>${title}`);
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
    try {
      await row.waitFor({ timeout: 3_000 });
      await page.keyboard.press('Enter');
      await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 5_000 }).catch(() => undefined);
      return;
    } catch (err) {
      await page.keyboard.press('Escape');
      if (Date.now() > deadline) throw err;
      await page.waitForTimeout(1_000);
    }
  }
}

/**
 * A notification with this text, read from the notification center (this VS Code collects
 * notifications there, behind the bell, rather than in toasts, in a headless window).
 */
export async function notification(page, text, { timeout = 60_000 } = {}) {
  const item = page.locator('.notifications-center .notification-list-item', { hasText: text }).first();
  const deadline = Date.now() + timeout;
  for (;;) {
    if (!(await page.locator('.notifications-center.visible').count())) await runCommand(page, 'Notifications: Show Notifications');
    try {
      await item.waitFor({ timeout: 2_000 });
      return item;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
  }
}

/** Empties and closes the notification center, so that it covers nothing in the next screenshot. */
export async function clearNotifications(page) {
  await runCommand(page, 'Notifications: Clear All Notifications');
  if (await page.locator('.notifications-center.visible').count()) await runCommand(page, 'Notifications: Hide Notifications');
  await page.locator('.notifications-center.visible').waitFor({ state: 'hidden', timeout: 10_000 });
}

/** Collapses whitespace, trims, and drops the private-use characters of codicon glyphs. */
export const clean = (s) => (s ?? '').replace(/[\uE000-\uF8FF]/g, '').replace(/\s+/g, ' ').trim();

/** The status bar item's text as shown ("30 new · scanned just now"), or null when it is not there. */
export async function statusText(page) {
  const item = page.locator(STATUS_ITEM);
  if (!(await item.count())) return null;
  return clean(await item.first().innerText());
}

/** The badge on the Dataset Index activity bar icon ("30"), or '' when there is none. */
export async function activityBadge(page) {
  return page.evaluate(() => {
    const icon = [...document.querySelectorAll('.activitybar .action-item')].find((li) =>
      li.querySelector('.action-label')?.getAttribute('aria-label')?.startsWith('Dataset Index'),
    );
    const badge = icon?.querySelector('.badge');
    if (!badge || getComputedStyle(badge).display === 'none') return '';
    return (badge.querySelector('.badge-content')?.textContent ?? '').trim();
  });
}

/** The rows of the tree in the side bar, top to bottom: label, description, expansion, icon. */
export async function treeRows(page) {
  return page.evaluate((sidebar) => {
    const rows = [...document.querySelectorAll(`${sidebar} .monaco-list-row`)];
    rows.sort((a, b) => a.getBoundingClientRect().top - b.getBoundingClientRect().top);
    return rows.map((r) => {
      const icon = r.querySelector('.custom-view-tree-node-item-icon');
      return {
        label: (r.querySelector('.label-name')?.textContent ?? '').trim(),
        description: (r.querySelector('.label-description')?.textContent ?? '').trim(),
        expanded: r.getAttribute('aria-expanded'),
        level: Number(r.getAttribute('aria-level') ?? 0),
        icon: icon ? getComputedStyle(icon).backgroundImage : null,
      };
    });
  }, SIDEBAR);
}

/** The first row whose label is exactly `label`. */
export function treeRow(page, label) {
  return page
    .locator(`${SIDEBAR} .monaco-list-row`)
    .filter({ has: page.locator('.label-name', { hasText: new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }) })
    .first();
}

/** Clicks a collapsed row open (a click toggles, so an open row is left alone) and waits for it. */
export async function expand(page, check, label) {
  const row = treeRow(page, label);
  await row.waitFor({ timeout: 30_000 });
  if ((await row.getAttribute('aria-expanded')) === 'false') await row.click();
  await eventually(check, `row "${label}" expands`, () => row.getAttribute('aria-expanded'), (v) => v === 'true', { timeout: 15_000 });
}

/** Hovers a tree row until the workbench shows its hover, and returns the hover's text. */
export async function hoverRow(page, check, label, accept = () => true) {
  const row = treeRow(page, label);
  const hover = page.locator('.monaco-hover.workbench-hover').last();
  return eventually(
    check,
    `the hover of "${label}"`,
    async () => {
      // The row's own hover names the file; anything else (no hover, another element's) means:
      // leave and come back, the hover opens on a fresh mouse-over after the hover delay.
      if ((await hover.isVisible()) && clean(await hover.innerText()).includes(label)) return clean(await hover.innerText());
      await page.mouse.move(700, 650);
      await hover.waitFor({ state: 'hidden', timeout: 3_000 }).catch(() => undefined);
      await row.hover();
      await hover.waitFor({ state: 'visible', timeout: 3_000 }).catch(() => undefined);
      return (await hover.isVisible()) ? clean(await hover.innerText()) : '';
    },
    accept,
    { timeout: 30_000, interval: 500 },
  );
}

/** The union of the bounding boxes of some locators, padded and kept inside the viewport. */
export async function regionOf(page, locators, pad = 0) {
  const boxes = [];
  for (const l of locators) {
    const b = await l.boundingBox();
    if (b) boxes.push(b);
  }
  if (!boxes.length) return undefined;
  const vp = page.viewportSize();
  const x = Math.max(0, Math.min(...boxes.map((b) => b.x)) - pad);
  const y = Math.max(0, Math.min(...boxes.map((b) => b.y)) - pad);
  const right = Math.min(vp.width, Math.max(...boxes.map((b) => b.x + b.width)) + pad);
  const bottom = Math.min(vp.height, Math.max(...boxes.map((b) => b.y + b.height)) + pad);
  return { x, y, width: Math.round(right - x), height: Math.round(bottom - y) };
}
