// What a person does and sees, step by step, in one workbench: the scenarios run in order and each
// starts where the previous one left off. Each gets { page, workspace, shot, check, log }:
// shot(name, { clip, docs }) saves a screenshot (a `docs` name also saves it for docs/images/),
// check(ok, message) fails the run with exit code 1.
// What is expected is read from the files on disk, not written down here.
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { repo } from '../harness/workspace.mjs';
import {
  SIDEBAR, STATUS_BAR, STATUS_ITEM, activityBadge, clean, clearNotifications, eventually, expand, hoverRow, notification,
  regionOf, runCommand, statusText, treeRow, treeRows,
} from './ui.mjs';

export { clearNotifications, notification, runCommand } from './ui.mjs';

const IMAGE = /\.(png|jpe?g)$/i;

/** Images under a folder, recursively (the generated dataset holds PNG and JPEG files and a .txt per folder). */
function countImages(dir) {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) n += countImages(join(dir, e.name));
    else if (IMAGE.test(e.name)) n++;
  }
  return n;
}

const subfolders = (dir) => readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
const imagesIn = (dir) => readdirSync(dir).filter((n) => IMAGE.test(n)).sort();

/** Width and height from a PNG's IHDR chunk. */
function pngSize(file) {
  const b = readFileSync(file);
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

/** The left column of the workbench: activity bar and side bar, from the top to `bottom` (a locator) or to the status bar. */
async function leftColumn(page, bottom) {
  const box = await regionOf(page, [page.locator('.part.activitybar'), page.locator(SIDEBAR)]);
  const end = bottom ? await bottom.boundingBox() : null;
  const y = Math.max(0, Math.floor(box.y) - 2);
  const to = end ? Math.min(box.y + box.height, end.y + end.height + 12) : page.viewportSize().height;
  return { x: 0, y, width: Math.ceil(box.x + box.width), height: Math.round(to - y) };
}

/** The Dataset Index icon in the activity bar. */
const activityIcon = (page) => page.locator('.part.activitybar .action-item .action-label[aria-label^="Dataset Index"]');

const labels = (rows) => rows.map((r) => (r.description ? `${r.label} [${r.description}]` : r.label));
const hasRow = (rows, label, description) => rows.some((r) => r.label === label && (description === undefined || r.description === description));

/**
 * Opens the gallery from a tree row's context menu. The menu loses a click whose button goes down
 * and up in the same instant (Playwright's default, not a person's: seen in every run once the
 * tree's rows came from the engine), so the button is held 100 ms; should the menu still be up,
 * it is closed and the item chosen with the keyboard.
 */
async function openGalleryFrom(page, row) {
  const panel = page.locator('iframe.webview.ready');
  const before = await panel.count();
  for (let attempt = 1; ; attempt++) {
    await row.click({ button: 'right' });
    const item = page.locator('.monaco-menu .action-item', { hasText: 'Open Gallery' }).first();
    if (attempt === 1) await item.click({ delay: 100 });
    else {
      await item.hover();
      await page.keyboard.press('Enter');
    }
    const opened = await panel.nth(before).waitFor({ state: 'attached', timeout: 15_000 }).then(() => true, () => false);
    if (!opened) console.log(`[e2e]   open gallery attempt ${attempt}: no webview; menus open: ${await page.locator('.monaco-menu').count()}`);
    if (opened || attempt === 3) return;
    await page.keyboard.press('Escape');
  }
}

const TOTAL = { count: 0 };
const WATCHED = { folder: '', names: [] };
/** Images the gallery scenario registered (scenario 3 registers the rest). */
const GALLERY = { registered: 0 };

/** The path parts of the first file named `name` under `dir`. */
function findFile(dir, name, parts = []) {
  for (const e of readdirSync(join(dir, ...parts), { withFileTypes: true })) {
    if (e.isFile() && e.name === name) return [...parts, name];
    if (e.isDirectory()) {
      const found = findFile(dir, name, [...parts, e.name]);
      if (found) return found;
    }
  }
  return null;
}

export const scenarios = [
  {
    name: '1. Opening the Dataset Index view: welcome content, "not indexed" in the status bar',
    async run({ page, workspace, shot, check }) {
      TOTAL.count = countImages(workspace);
      check(TOTAL.count > 0, `the generated dataset has no images: ${workspace}`);
      // The icon appears once the workbench has read the installed extensions.
      const icon = activityIcon(page);
      await icon.waitFor({ timeout: 60_000 });
      await icon.click();
      const welcome = page.locator(`${SIDEBAR} .welcome-view`);
      await eventually(check, 'the view shows its welcome content', async () => clean(await welcome.innerText()), (t) => t.includes('No images indexed yet'));
      await page.locator(`${SIDEBAR} .welcome-view .monaco-button`, { hasText: 'Index Images' }).waitFor({ timeout: 10_000 });
      const title = clean(await page.locator(`${SIDEBAR} .composite.title`).innerText());
      check(/dataset index/i.test(title) && /dataset images/i.test(title), `side bar title is "${title}"`);
      // Opening the view activates the extension; its status bar item says nothing is indexed.
      await eventually(check, 'the status bar says "not indexed"', () => statusText(page), (t) => t === 'not indexed');
      await shot('view-opened-welcome');
    },
  },
  {
    name: '2. Index Images from the welcome button: New group, folders with counts, thumbnails, hover',
    async run({ page, workspace, shot, check, log }) {
      const n = TOTAL.count;
      await page.locator(`${SIDEBAR} .welcome-view .monaco-button`, { hasText: 'Index Images' }).click();
      await eventually(check, `the tree shows "New (${n})"`, () => treeRows(page), (rows) => hasRow(rows, `New (${n})`));
      await eventually(check, `the status bar shows "${n} new · scanned …"`, () => statusText(page), (t) => new RegExp(`^${n} new · scanned `).test(t ?? ''));
      await eventually(check, `the activity bar badge shows ${n}`, () => activityBadge(page), (b) => b === String(n));
      const rows = await treeRows(page);
      for (const g of ['Changed (0)', 'Missing (0)', 'Registered (0)']) check(hasRow(rows, g), `group "${g}" in ${JSON.stringify(labels(rows))}`);
      await shot('indexed-groups');

      // New → top folders with their image counts.
      await expand(page, check, `New (${n})`);
      const tops = subfolders(workspace);
      const topRows = await eventually(check, 'the New group lists the top folders with counts', () => treeRows(page), (r) =>
        tops.every((f) => hasRow(r, f, String(countImages(join(workspace, f))))),
      );
      log(`folders: ${labels(topRows).join(', ')}`);
      // → a folder → its sub-folders → one of them → its images.
      const top = tops[0];
      await expand(page, check, top);
      const days = subfolders(join(workspace, top));
      await eventually(check, `"${top}" lists ${days.join(', ')} with counts`, () => treeRows(page), (r) =>
        days.every((d) => hasRow(r, d, String(countImages(join(workspace, top, d))))),
      );
      const day = days[0];
      await expand(page, check, day);
      const dir = join(workspace, top, day);
      const files = imagesIn(dir);
      await eventually(check, `"${top}/${day}" lists its ${files.length} images`, () => treeRows(page), (r) =>
        files.every((f) => hasRow(r, f, `${top}/${day}`)),
      );

      // Each image row's icon is its 64-px thumbnail from the store (WebP), never the original; it
      // arrives when made. These images are smaller than 64 px, so the thumbnail keeps their size.
      const png = files.find((f) => f.endsWith('.png'));
      const { width, height } = pngSize(join(dir, png));
      const isThumb = (icon) => Boolean(icon && /-64\.webp/.test(icon));
      const imageRows = await eventually(check, `every image row of "${top}/${day}" shows its thumbnail`, () => treeRows(page), (r) =>
        files.every((f) => isThumb(r.find((x) => x.label === f)?.icon)),
      );
      for (const f of files) {
        const row = imageRows.find((r) => r.label === f);
        check(isThumb(row.icon) && !row.icon.includes(encodeURIComponent(f)), `image row "${f}" shows a thumbnail, not the original: icon ${row.icon}`);
      }
      const natural = await treeRow(page, png)
        .locator('.custom-view-tree-node-item-icon')
        .evaluate(async (el) => {
          const url = /url\("?(.*?)"?\)$/.exec(getComputedStyle(el).backgroundImage)?.[1];
          const img = new Image();
          img.src = url;
          await img.decode();
          return { width: img.naturalWidth, height: img.naturalHeight };
        });
      check(natural.width === width && natural.height === height, `thumbnail of ${png} decodes to ${natural.width}×${natural.height}, file is ${width}×${height}`);
      await page.mouse.move(700, 650);
      await shot('new-expanded-thumbnails', { docs: 'tree-new.png', clip: await leftColumn(page, treeRow(page, 'Registered (0)')) });

      // Hover an image: a preview, its dimensions, format and size, "not registered".
      const dims = `${width} × ${height}`;
      const hover = await hoverRow(page, check, png, (t) => t.includes(' × '));
      check(hover.includes(dims), `hover of ${png} says "${hover}", expected ${dims}`);
      check(hover.includes('PNG') && hover.includes('not registered'), `hover of ${png}: "${hover}"`);
      const preview = page.locator('.monaco-hover.workbench-hover img').last();
      const loaded = await eventually(check, 'the hover preview image loads', () => preview.evaluate((img) => img.complete && img.naturalWidth), (w) => w > 0);
      check(loaded === width, `hover preview is ${loaded} px wide, the file ${width}`);
      const previewSrc = await preview.getAttribute('src');
      check(/-256\.webp/.test(previewSrc ?? '') && !(previewSrc ?? '').includes(encodeURIComponent(png)), `the hover shows the 256-px thumbnail, not the original: ${previewSrc}`);
      const hoverBox = page.locator('.monaco-hover.workbench-hover').last();
      const around = [activityIcon(page), page.locator(`${SIDEBAR} .composite.title`), treeRow(page, 'Registered (0)'), hoverBox];
      await shot('image-hover', { docs: 'tooltip.png', clip: await regionOf(page, around, 8) });
      await page.mouse.move(700, 650);
      await hoverBox.waitFor({ state: 'hidden', timeout: 10_000 }).catch(() => undefined);
    },
  },
  {
    name: '2b. Open Gallery on the New group: a grid of thumbnails, keyboard selection, hidden and shown, Register',
    async run({ page, workspace, shot, check, log }) {
      const n = TOTAL.count;
      await clearNotifications(page);
      // The tree's context menu on the group, as a person would open it.
      await openGalleryFrom(page, treeRow(page, `New (${n})`));
      const frame = page.frameLocator('iframe.webview.ready').frameLocator('iframe');
      await eventually(check, `the gallery says "${n} images"`, () => frame.locator('#count').innerText(), (t) => clean(t) === `${n} images`, { timeout: 60_000 });
      const cells = frame.locator('.cell:not(.loading)');
      const shown = await eventually(check, 'the gallery draws cells with names and dimensions', async () => {
        const all = await cells.evaluateAll((els) => els.filter((e) => e.style.display !== 'none').map((e) => ({
          name: e.querySelector('.name')?.textContent ?? '',
          caption: e.querySelector('.caption')?.textContent ?? '',
          thumb: e.querySelector('img')?.naturalWidth ?? 0,
          placeholder: e.querySelector('.ph')?.textContent ?? '',
        })));
        return all;
      }, (all) => all.length > 0 && all.every((c) => c.name && / × /.test(c.caption)));
      log(`cells: ${shown.slice(0, 4).map((c) => `${c.name} [${c.caption}]${c.thumb ? ` thumb ${c.thumb}px` : ` ${c.placeholder}`}`).join(', ')} …`);
      check(shown.length <= n, `at most ${n} cells exist, found ${shown.length}`);
      // Each cell shows its thumbnail from the store (256-px WebP), made on demand — never the original.
      const thumbs = await eventually(check, 'every cell in view shows its thumbnail', () => frame.locator('.cell:not(.loading)').evaluateAll((els) =>
        els.filter((e) => e.style.display !== 'none').map((e) => {
          const img = e.querySelector('img');
          return { name: e.querySelector('.name')?.textContent ?? '', src: img?.getAttribute('src') ?? '', width: img?.complete ? img.naturalWidth : 0 };
        })), (all) => all.length > 0 && all.every((c) => c.width > 0));
      const notThumbs = thumbs.filter((c) => !/-256\.webp/.test(c.src) || c.src.includes(encodeURIComponent(c.name)));
      check(notThumbs.length === 0, `cells that do not show a thumbnail from the store: ${JSON.stringify(notThumbs.slice(0, 3))}`);
      const png = shown.find((c) => c.name.endsWith('.png'));
      const disk = pngSize(join(workspace, ...findFile(workspace, png.name)));
      check(png.caption.startsWith(`${disk.width} × ${disk.height}`), `caption of ${png.name} is "${png.caption}", the file is ${disk.width} × ${disk.height}`);
      const editor = page.locator('.part.editor');
      await page.mouse.move(5, 700);
      await shot('gallery-new', { docs: 'gallery.png', clip: (await editor.boundingBox()) ?? undefined });

      // Keyboard: click the first cell, then → Space → Space: three selected.
      await frame.locator('.cell:not(.loading)').first().click();
      for (let i = 0; i < 2; i++) {
        await page.keyboard.press('ArrowRight');
        await page.keyboard.press('Space');
      }
      await eventually(check, 'the gallery says "3 selected"', () => frame.locator('#selected').innerText(), (t) => clean(t) === '3 selected');
      const selected = await frame.locator('.cell.selected .name').allInnerTexts();
      check(selected.length === 3, `three cells look selected: ${selected.join(', ')}`);
      await shot('gallery-selected', { docs: 'gallery-selected.png', clip: (await editor.boundingBox()) ?? undefined });
      // Hidden and shown again: the webview's document is thrown away and rebuilt from its state.
      await runCommand(page, 'File: New Untitled Text File');
      await eventually(check, 'the gallery tab is hidden (its webview gone)', () => page.locator('iframe.webview.ready').count(), (c) => c === 0, { timeout: 15_000 });
      await runCommand(page, 'View: Open Previous Editor');
      await eventually(check, 'shown again, the gallery still says "3 selected"', () => frame.locator('#selected').innerText(), (t) => clean(t) === '3 selected');
      await eventually(check, 'and the same three cells are selected', () => frame.locator('.cell.selected .name').allInnerTexts(), (names) => names.join() === selected.join());
      await frame.locator('#register').click();
      const note = clean(await (await notification(page, 'images registered')).innerText());
      check(note.includes('3 images registered'), `registration summary says "${note}", expected 3 images registered`);
      await eventually(check, `the tree shows "New (${n - 3})" and "Registered (3)"`, () => treeRows(page), (r) => hasRow(r, `New (${n - 3})`) && hasRow(r, 'Registered (3)'));
      await eventually(check, `the gallery follows: "${n - 3} images"`, () => frame.locator('#count').innerText(), (t) => clean(t) === `${n - 3} images`);
      GALLERY.registered = 3;
      await clearNotifications(page);
      await runCommand(page, 'View: Close All Editors');
    },
  },
  {
    name: '3. Register New Images from the view title: summary notification, "0 new", Registered group',
    async run({ page, workspace, shot, check }) {
      const n = TOTAL.count;
      await clearNotifications(page);
      // The view's title bar button (database icon), as a person would click it.
      const button = page.locator(`${SIDEBAR} .composite.title .action-label[aria-label^="Register New Images"]`);
      await button.waitFor({ timeout: 15_000 });
      await button.click();
      const note = clean(await (await notification(page, 'images registered')).innerText());
      const rest = n - GALLERY.registered;
      check(note.includes(`${rest} images registered`), `registration summary says "${note}", expected ${rest} images registered`);
      await eventually(check, `the tree shows "New (0)" and "Registered (${n})"`, () => treeRows(page), (r) => hasRow(r, 'New (0)') && hasRow(r, `Registered (${n})`));
      await eventually(check, 'the status bar shows "0 new · scanned …"', () => statusText(page), (t) => /^0 new · scanned /.test(t ?? ''));
      await eventually(check, 'the activity bar badge is gone', () => activityBadge(page), (b) => b === '');
      await clearNotifications(page);

      // A registered image's hover has the registry row: hash and registration time.
      const top = subfolders(workspace)[0];
      const day = subfolders(join(workspace, top))[0];
      const png = imagesIn(join(workspace, top, day)).find((f) => f.endsWith('.png'));
      await expand(page, check, `Registered (${n})`);
      await expand(page, check, top);
      await expand(page, check, day);
      const hover = await hoverRow(page, check, png, (t) => t.includes('xxHash64'));
      check(/registered \d/.test(hover) && !hover.includes('not registered'), `hover of a registered image: "${hover}"`);
      await shot('registered-image-hover');
      await page.mouse.move(700, 650);
      await page.locator('.monaco-hover.workbench-hover').last().waitFor({ state: 'hidden', timeout: 10_000 }).catch(() => undefined);
      await shot('registered', { docs: 'status-bar-registered.png', clip: await leftColumn(page) });
      // Back to the groups alone, as the view title's Collapse All leaves them.
      await page.locator(`${SIDEBAR} .composite.title .action-label[aria-label^="Collapse All"]`).click();
      // The groups alone: New, Changed, Missing, Registered and (images are registered) Similar.
      await eventually(check, 'Collapse All folds the Registered group', () => treeRows(page), (r) => r.length === 5 && r.every((row) => row.level === 1) && hasRow(r, 'Similar'));
    },
  },
  {
    name: '4. New files on disk appear without any command: "New (20)" and "20 new" from the watcher',
    async run({ page, workspace, shot, check, log }) {
      const { makePng } = createRequire(import.meta.url)(join(repo, 'out/test/helpers/images.js'));
      const top = subfolders(workspace)[0];
      const day = subfolders(join(workspace, top))[0];
      const dir = join(workspace, top, day);
      const added = 20;
      WATCHED.folder = `${top}/${day}`;
      WATCHED.names = [];
      const started = Date.now();
      for (let i = 0; i < added; i++) {
        const name = `shot${String(i).padStart(2, '0')}.png`;
        writeFileSync(join(dir, name), makePng(96, 64, 1000 + i * 17));
        WATCHED.names.push(name);
      }
      await eventually(check, `the tree shows "New (${added})" without a command`, () => treeRows(page), (r) => hasRow(r, `New (${added})`), { timeout: 20_000 });
      log(`the tree showed New (${added}) ${Date.now() - started} ms after the files were written`);
      await eventually(check, `the status bar shows "${added} new"`, () => statusText(page), (t) => new RegExp(`^${added} new · `).test(t ?? ''), { timeout: 10_000 });
      await eventually(check, `the activity bar badge shows ${added}`, () => activityBadge(page), (b) => b === String(added));
      const rows = await treeRows(page);
      check(hasRow(rows, `Registered (${TOTAL.count})`), `registered images stay registered: ${JSON.stringify(labels(rows))}`);
      // Where they are: New → the folder → the new files, with thumbnails.
      await expand(page, check, `New (${added})`);
      await eventually(check, `"${top}" holds the ${added} new images`, () => treeRows(page), (r) => hasRow(r, top, String(added)));
      await expand(page, check, top);
      await expand(page, check, day);
      await eventually(check, `"${WATCHED.folder}" lists the new files`, () => treeRows(page), (r) => WATCHED.names.every((f) => hasRow(r, f)));
      // Thumbnails are made on demand: each row gets its icon when its thumbnail is ready.
      await eventually(check, 'every new row shows a thumbnail', () => treeRows(page), (r) =>
        r.filter((x) => WATCHED.names.includes(x.label)).every((x) => (x.icon ?? '').includes('url(')),
      );
      await page.mouse.move(700, 650);
      await shot('watcher-new-files', { docs: 'watcher.png', clip: await leftColumn(page) });
    },
  },
  {
    name: '4b. A duplicate group side by side: a copy of a registered image, registered, opened from the Duplicates group',
    async run({ page, workspace, shot, check }) {
      const dir = join(workspace, ...WATCHED.folder.split('/'));
      copyFileSync(join(dir, 'img0.png'), join(dir, 'img0-copy.png'));
      const fresh = WATCHED.names.length + 1;
      await eventually(check, `the tree shows "New (${fresh})"`, () => treeRows(page), (r) => hasRow(r, `New (${fresh})`), { timeout: 20_000 });
      await clearNotifications(page);
      await runCommand(page, 'Dataset Index: Register New Images');
      await notification(page, `${fresh} images registered`);
      await clearNotifications(page);
      await eventually(check, 'the tree shows "Duplicates (1)"', () => treeRows(page), (r) => hasRow(r, 'Duplicates (1)'));
      await expand(page, check, 'Duplicates (1)');
      const group = page.locator(`${SIDEBAR} .monaco-list-row`).filter({ has: page.locator('.label-description', { hasText: '2 copies' }) }).first();
      await openGalleryFrom(page, group);
      const frame = page.frameLocator('iframe.webview.ready').frameLocator('iframe');
      await eventually(check, 'the gallery shows the 2 copies', () => frame.locator('#count').innerText(), (t) => clean(t) === '2 images');
      await eventually(check, 'side by side: both names, large cells', () => frame.locator('.cell:not(.loading) .name').allInnerTexts(), (n) => n.length === 2 && n.includes('img0.png') && n.includes('img0-copy.png'));
      check(await frame.locator('body.side-by-side').count(), 'the gallery is in side-by-side mode');
      await page.mouse.move(5, 700);
      await shot('gallery-side-by-side', { docs: 'gallery-side-by-side.png', clip: (await page.locator('.part.editor').boundingBox()) ?? undefined });
      await runCommand(page, 'View: Close All Editors');
      await page.locator(`${SIDEBAR} .composite.title .action-label[aria-label^="Collapse All"]`).click();
    },
  },
  {
    name: '5. Clear Scan Cache: "cache cleared" in the status bar, the welcome content is back',
    async run({ page, shot, check }) {
      await clearNotifications(page);
      await runCommand(page, 'Dataset Index: Clear Scan Cache');
      await eventually(check, 'the status bar says "cache cleared"', () => statusText(page), (t) => t === 'cache cleared');
      const welcome = page.locator(`${SIDEBAR} .welcome-view`);
      await eventually(check, 'the welcome content is back', async () => ((await welcome.isVisible()) ? clean(await welcome.innerText()) : ''), (t) => t.includes('No images indexed yet'));
      const rows = await treeRows(page);
      check(rows.length === 0, `the tree is empty after clearing: ${JSON.stringify(labels(rows))}`);
      await eventually(check, 'the activity bar badge is gone', () => activityBadge(page), (b) => b === '');
      const note = clean(await (await notification(page, 'scan cache cleared')).innerText());
      check(note.includes('registry is kept'), `clear-cache notification: "${note}"`);
      await shot('cache-cleared');
      await clearNotifications(page);
      const bar = clean(await page.locator(STATUS_BAR).innerText());
      check(!bar.includes(' new'), `no "new" count is left in the status bar: "${bar}"`);
      check(await page.locator(STATUS_ITEM).count(), 'the status bar item is still shown');
    },
  },
];
