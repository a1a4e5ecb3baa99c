// What a person does and sees, step by step. Each scenario gets { page, workspace, shot, check }.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

function countImages(dir) {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) n += countImages(join(dir, e.name));
    else if (/\.(png|jpe?g)$/i.test(e.name)) n++;
  }
  return n;
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

export async function clearNotifications(page) {
  await runCommand(page, 'Notifications: Clear All Notifications');
}

export const scenarios = [
  {
    name: 'Index Images from the command palette shows how many images there are',
    async run({ page, workspace, shot, check }) {
      await shot('workbench-opened');
      await runCommand(page, 'Dataset Index: Index Images');
      const expected = countImages(workspace);
      const toast = await notification(page, 'new or changed');
      const text = (await toast.innerText()).replace(/\s+/g, ' ');
      await shot('index-images-notification');
      check(text.includes(`${expected} images, ${expected} new or changed`), `notification says "${text}", expected ${expected} images`);
      check(text.includes(`Register ${expected} New Images`), `notification offers registration: "${text}"`);
    },
  },
];
