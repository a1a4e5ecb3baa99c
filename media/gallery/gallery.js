// @ts-check
// The gallery's webview: a virtualised grid. Only the cells in view (and one row either side) exist
// in the DOM; items arrive from the extension host in blocks, thumbnails one by one. The message
// protocol is src/extension/gallery/protocol.ts.
(function () {
  // @ts-ignore acquireVsCodeApi is injected by VS Code
  const vscode = acquireVsCodeApi();

  const BLOCK = 60; // items per page request: a screenful or two, so the first cells come quickly
  const MAX_BLOCKS = 120; // blocks kept (LRU): ~7k items, whatever the group's size
  const MAX_THUMBS = 4000;
  const MAX_SPACER = 8_000_000; // px: browsers cap element heights (~33M px in Chromium)
  const CAPTION_H = 36;
  const GAP = 8;

  /** @type {any} */
  const saved = vscode.getState() || {};
  const state = {
    title: '',
    sideBySide: false,
    generation: -1,
    count: 0,
    /** @type {any} */ query: { sort: 'name', descending: false, filter: {} },
    zoom: saved.zoom || 160,
    /** index of the first visible item, restored after a hide/show */
    firstIndex: saved.firstIndex || 0,
    focus: saved.focus || 0,
    anchor: saved.focus || 0,
    selection: { all: !!(saved.selection && saved.selection.all), paths: new Set((saved.selection && saved.selection.paths) || []) },
    /** @type {Map<number, any[] | 'pending'>} */ blocks: new Map(),
    /** @type {Map<string, string>} */ thumbs: new Map(),
    formats: /** @type {{format: string, count: number}[]} */ ([]),
    folders: /** @type {string[]} */ ([]),
    busy: /** @type {string|null} */ (null),
    restored: false,
  };
  let pathsRequest = 0;
  /** @type {Map<number, (paths: string[]) => void>} */
  const pathsWaiting = new Map();

  const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));
  const viewport = $('viewport');
  const spacer = $('spacer');
  const cellsEl = $('cells');
  const toolbar = $('toolbar');
  const statusEl = $('status');

  // ---- toolbar -------------------------------------------------------------------------------
  toolbar.innerHTML = `
    <span id="title" class="title"></span>
    <span id="count" class="count"></span>
    <label>Sort <select id="sort" aria-label="Sort by">
      <option value="name">Name</option><option value="path">Folder</option><option value="size">Size</option>
      <option value="mtime">Modified</option><option value="dimensions">Dimensions</option></select></label>
    <button id="direction" class="icon" title="Reverse order" aria-label="Reverse order">↑</button>
    <label>Format <select id="format" aria-label="Format"><option value="">All</option></select></label>
    <label>Folder <input id="folder" list="folders" size="14" placeholder="all" aria-label="Folder"><datalist id="folders"></datalist></label>
    <label title="Size in KB">KB <input id="minKb" type="number" min="0" class="num" placeholder="min" aria-label="Minimum size in KB">–<input id="maxKb" type="number" min="0" class="num" placeholder="max" aria-label="Maximum size in KB"></label>
    <label title="Width in pixels">W <input id="minW" type="number" min="0" class="num" placeholder="min" aria-label="Minimum width">–<input id="maxW" type="number" min="0" class="num" placeholder="max" aria-label="Maximum width"></label>
    <label title="Height in pixels">H <input id="minH" type="number" min="0" class="num" placeholder="min" aria-label="Minimum height">–<input id="maxH" type="number" min="0" class="num" placeholder="max" aria-label="Maximum height"></label>
    <label>Zoom <input id="zoom" type="range" min="64" max="400" step="8" aria-label="Zoom"></label>
    <span class="spacer"></span>
    <span id="selected" class="count"></span>
    <button id="register" title="Register the selected images">Register</button>
    <button id="reveal" class="secondary" title="Reveal the first selected image in the Explorer">Reveal</button>
    <button id="copy" class="secondary" title="Copy the selected paths">Copy Paths</button>
    <button id="open" class="secondary" title="Open the selected images">Open</button>`;
  const el = {
    title: $('title'), count: $('count'), sort: /** @type {HTMLSelectElement} */ ($('sort')), direction: $('direction'),
    format: /** @type {HTMLSelectElement} */ ($('format')), folder: /** @type {HTMLInputElement} */ ($('folder')), folders: $('folders'),
    zoom: /** @type {HTMLInputElement} */ ($('zoom')), selected: $('selected'),
    minKb: /** @type {HTMLInputElement} */ ($('minKb')), maxKb: /** @type {HTMLInputElement} */ ($('maxKb')),
    minW: /** @type {HTMLInputElement} */ ($('minW')), maxW: /** @type {HTMLInputElement} */ ($('maxW')),
    minH: /** @type {HTMLInputElement} */ ($('minH')), maxH: /** @type {HTMLInputElement} */ ($('maxH')),
  };
  el.zoom.value = String(state.zoom);

  const num = (/** @type {HTMLInputElement} */ input, scale = 1) => (input.value === '' ? undefined : Number(input.value) * scale);
  function readQuery() {
    const filter = {
      formats: el.format.value ? [el.format.value] : undefined,
      folder: el.folder.value.replace(/\/+$/, '') || undefined,
      minBytes: num(el.minKb, 1024), maxBytes: num(el.maxKb, 1024),
      minWidth: num(el.minW), maxWidth: num(el.maxW), minHeight: num(el.minH), maxHeight: num(el.maxH),
    };
    return { sort: el.sort.value, descending: state.query.descending, filter };
  }
  function showQuery() {
    const q = state.query;
    const f = q.filter || {};
    el.sort.value = q.sort;
    el.direction.textContent = q.descending ? '↓' : '↑';
    el.format.value = (f.formats && f.formats[0]) || '';
    el.folder.value = f.folder || '';
    const put = (/** @type {HTMLInputElement} */ i, /** @type {number|undefined} */ v, scale = 1) => (i.value = v === undefined ? '' : String(Math.round(v / scale)));
    put(el.minKb, f.minBytes, 1024); put(el.maxKb, f.maxBytes, 1024);
    put(el.minW, f.minWidth); put(el.maxW, f.maxWidth); put(el.minH, f.minHeight); put(el.maxH, f.maxHeight);
  }
  function sendQuery() {
    state.query = readQuery();
    state.selection = { all: false, paths: new Set() };
    state.firstIndex = 0;
    state.focus = 0;
    viewport.scrollTop = 0;
    vscode.postMessage({ type: 'query', query: state.query });
    save();
  }
  for (const input of [el.sort, el.format]) input.addEventListener('change', sendQuery);
  for (const input of [el.folder, el.minKb, el.maxKb, el.minW, el.maxW, el.minH, el.maxH]) input.addEventListener('change', sendQuery);
  el.direction.addEventListener('click', () => {
    state.query.descending = !state.query.descending;
    el.direction.textContent = state.query.descending ? '↓' : '↑';
    sendQuery();
  });
  el.zoom.addEventListener('input', () => {
    const keep = firstVisibleIndex();
    state.zoom = Number(el.zoom.value);
    layout();
    scrollToIndex(keep, 'top');
    save();
  });
  for (const action of ['register', 'reveal', 'copy', 'open']) {
    $(action).addEventListener('click', () => act(action));
  }

  // ---- geometry ------------------------------------------------------------------------------
  let cols = 1;
  let cellW = state.zoom;
  let rowH = state.zoom + CAPTION_H + GAP;
  let scale = 1;
  function layout() {
    const width = viewport.clientWidth - GAP;
    cols = Math.max(1, Math.floor(width / (state.zoom + GAP)));
    cellW = Math.floor(width / cols) - GAP;
    rowH = cellW + CAPTION_H + GAP;
    const rows = Math.ceil(state.count / cols);
    const total = rows * rowH + GAP;
    const height = Math.min(total, MAX_SPACER);
    // Past the browser's height cap, one pixel of scrollbar stands for `scale` pixels of rows.
    scale = total > height ? (total - viewport.clientHeight) / Math.max(1, height - viewport.clientHeight) : 1;
    spacer.style.height = `${height}px`;
    render();
  }
  const virtualTop = () => viewport.scrollTop * scale;
  function firstVisibleIndex() {
    return Math.min(state.count - 1, Math.max(0, Math.floor(virtualTop() / rowH) * cols));
  }
  function scrollToIndex(/** @type {number} */ index, /** @type {'top'|'nearest'} */ how) {
    const row = Math.floor(index / cols);
    const top = row * rowH;
    const vt = virtualTop();
    let target = vt;
    if (how === 'top' || top < vt) target = top;
    else if (top + rowH > vt + viewport.clientHeight) target = top + rowH - viewport.clientHeight + GAP;
    if (target !== vt) viewport.scrollTop = target / scale;
    render();
  }

  // ---- rendering -----------------------------------------------------------------------------
  // A frame draws only the cells in view, from what is already here; it asks the host for nothing.
  // Pages and thumbnails are asked for once the scroll has settled (SETTLE_MS without a scroll
  // event), for the cells then in view only, and what left the view is cancelled (the 'view'
  // message carries the whole wanted set; the host aborts the rest). Cells are reused by index
  // (index mod the pool's size), so a cell still in view keeps its content and a frame writes only
  // what changed: a row scrolled in, a transform past the browser's height cap.
  /** @type {HTMLElement[]} */
  const pool = [];
  /** What each pool cell shows, so a frame writes only what changed; `fresh`: its item came while the scroll moved. @type {{ index: number, item: any, thumb: string | undefined, fresh: boolean, x: number, y: number, w: number, hidden: boolean, selected: boolean, focused: boolean }[]} */
  const views = [];
  function cellElement(/** @type {number} */ k) {
    let c = pool[k];
    if (!c) {
      c = document.createElement('div');
      c.className = 'cell loading';
      c.setAttribute('role', 'gridcell');
      c.innerHTML = '<div class="frame"><img alt="" draggable="false" style="display:none"><span class="ph"></span><span class="dot"></span></div><div class="name"></div><div class="caption"></div>';
      cellsEl.appendChild(c);
      pool[k] = c;
      views[k] = { index: -1, item: undefined, thumb: undefined, fresh: false, x: NaN, y: NaN, w: NaN, hidden: false, selected: false, focused: false };
    }
    return c;
  }
  function itemAt(/** @type {number} */ i) {
    const b = state.blocks.get(Math.floor(i / BLOCK));
    return Array.isArray(b) ? b[i % BLOCK] : undefined;
  }
  function isSelected(/** @type {string} */ p) {
    return state.selection.all ? !state.selection.paths.has(p) : state.selection.paths.has(p);
  }
  function selectedCount() {
    return state.selection.all ? state.count - state.selection.paths.size : state.selection.paths.size;
  }

  const SETTLE_MS = 120;
  let lastScrollAt = -Infinity;
  let settleTimer = 0;
  let frame = 0;
  function render() {
    if (frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      draw();
    });
  }
  /** Toolbar texts as last written: a frame rewrites them only when they change. */
  const shown = { count: '', selected: '', disabled: /** @type {boolean|null} */ (null), busy: /** @type {string|null|undefined} */ (undefined) };
  function draw() {
    // The only layout reads of a frame, before any write.
    const st = viewport.scrollTop;
    const h = viewport.clientHeight;
    const vt = st * scale;
    const moving = performance.now() - lastScrollAt < SETTLE_MS;
    const rows = Math.ceil(state.count / cols);
    const firstRow = Math.max(0, Math.floor(vt / rowH) - 1);
    const lastRow = Math.min(rows - 1, Math.floor((vt + h) / rowH) + 1);
    const first = firstRow * cols;
    const last = Math.min(state.count - 1, (lastRow + 1) * cols - 1);
    // Enough cells for the rows in view and one either side, whatever the scroll offset.
    const capacity = (Math.floor(h / rowH) + 4) * cols;
    for (let k = pool.length; k < capacity; k++) cellElement(k);
    for (let i = first; i <= last; i++) {
      const k = i % capacity;
      const c = pool[k];
      const v = views[k];
      if (v.hidden) {
        c.style.display = '';
        v.hidden = false;
      }
      const row = Math.floor(i / cols);
      const x = GAP + (i % cols) * (cellW + GAP);
      const y = st + (row * rowH - vt) + GAP;
      if (v.x !== x || v.y !== y) {
        c.style.transform = `translate(${x}px, ${y}px)`;
        v.x = x;
        v.y = y;
      }
      const frameEl = /** @type {HTMLElement} */ (c.firstChild);
      if (v.w !== cellW) {
        c.style.width = `${cellW}px`;
        c.style.height = `${cellW + CAPTION_H}px`;
        frameEl.style.height = `${cellW}px`;
        v.w = cellW;
      }
      if (v.index !== i) {
        c.dataset.index = String(i);
        v.index = i;
      }
      const focused = i === state.focus;
      if (v.focused !== focused) {
        c.classList.toggle('focused', focused);
        v.focused = focused;
      }
      const img = /** @type {HTMLImageElement} */ (frameEl.firstChild);
      const ph = /** @type {HTMLElement} */ (img.nextSibling);
      const item = itemAt(i);
      if (v.item !== item) {
        const dot = /** @type {HTMLElement} */ (ph.nextSibling);
        const name = /** @type {HTMLElement} */ (c.children[1]);
        const caption = /** @type {HTMLElement} */ (c.children[2]);
        if (item) {
          c.classList.remove('loading');
          c.dataset.path = item.path;
          c.title = item.path;
          name.textContent = item.name;
          caption.textContent = item.caption;
          dot.className = `dot ${item.status}`;
          ph.textContent = (item.name.split('.').pop() || '').toUpperCase();
        } else {
          c.classList.add('loading');
          c.dataset.path = '';
          c.title = '';
          name.textContent = '';
          caption.textContent = '';
          dot.className = 'dot';
          ph.textContent = '';
        }
        v.item = item;
        v.thumb = undefined;
        v.fresh = moving;
      }
      // While the scroll moves, a cell that shows something new keeps its placeholder: an image
      // load per cell per frame would cost the frame; the thumbnails come once it settles.
      if (!moving) v.fresh = false;
      const thumb = item && !v.fresh ? state.thumbs.get(item.path) || '' : '';
      if (v.thumb !== thumb) {
        if (thumb) {
          img.src = thumb;
          img.style.display = '';
          ph.style.display = 'none';
        } else {
          img.removeAttribute('src');
          img.style.display = 'none';
          ph.style.display = '';
        }
        v.thumb = thumb;
      }
      const selected = !!item && isSelected(item.path);
      if (v.selected !== selected) {
        c.classList.toggle('selected', selected);
        c.setAttribute('aria-selected', String(selected));
        v.selected = selected;
      }
    }
    for (let k = 0; k < pool.length; k++) {
      const v = views[k];
      if (v.hidden || (k < capacity && v.index >= first && v.index <= last && v.index % capacity === k)) continue;
      pool[k].style.display = 'none';
      v.hidden = true;
      v.index = -1;
    }
    if (moving) {
      // Asked again when the scroll has settled.
      if (!settleTimer) settleTimer = setTimeout(() => ((settleTimer = 0), render()), SETTLE_MS);
    } else {
      want(first, last);
    }
    const countText = `${state.count.toLocaleString()} images`;
    if (shown.count !== countText) el.count.textContent = shown.count = countText;
    const n = selectedCount();
    const selectedText = n ? `${n.toLocaleString()} selected` : '';
    if (shown.selected !== selectedText) el.selected.textContent = shown.selected = selectedText;
    if (shown.disabled !== (n === 0)) {
      shown.disabled = n === 0;
      for (const id of ['register', 'reveal', 'copy', 'open']) /** @type {HTMLButtonElement} */ ($(id)).disabled = n === 0;
    }
    if (shown.busy !== state.busy) {
      shown.busy = state.busy;
      statusEl.textContent = state.busy || '';
      statusEl.style.display = state.busy ? '' : 'none';
    }
    state.firstIndex = Math.min(state.count - 1, Math.max(0, Math.floor(vt / rowH) * cols));
    // The scroll position is saved once it settles (setState is a message to the host).
    if (!moving) saveSoon();
  }
  /** Thumbnails asked for and not come yet (cancelled by the host when they leave the view). */
  const thumbsPending = new Set();
  let lastWant = '';
  /**
   * The settled view's wants, as one message: the blocks to fetch (`pages`), the ones already on
   * their way and still wanted (`keepPages`), the same for thumbnails. Anything the host is doing
   * that is in neither list is cancelled there, so its queues hold only what is in view.
   */
  function want(/** @type {number} */ first, /** @type {number} */ last) {
    if (state.count === 0 || state.generation < 0) return;
    const from = Math.floor(first / BLOCK);
    const to = Math.floor(last / BLOCK);
    const pages = [];
    const keepPages = [];
    for (let b = from; b <= to && b * BLOCK < state.count; b++) {
      const have = state.blocks.get(b);
      if (have === 'pending') keepPages.push(b * BLOCK);
      else if (!have) {
        state.blocks.set(b, 'pending');
        pages.push(b * BLOCK);
      } else {
        // Touch: most recently used last.
        state.blocks.delete(b);
        state.blocks.set(b, have);
      }
    }
    for (const [b, have] of state.blocks) if (have === 'pending' && (b < from || b > to)) state.blocks.delete(b);
    while (state.blocks.size > MAX_BLOCKS) state.blocks.delete(/** @type {number} */ (state.blocks.keys().next().value));
    const thumbs = [];
    const keepThumbs = [];
    const inView = new Set();
    for (let i = first; i <= last; i++) {
      const item = itemAt(i);
      if (!item || item.status === 'missing' || state.thumbs.has(item.path)) continue;
      inView.add(item.path);
      if (thumbsPending.has(item.path)) keepThumbs.push(item.path);
      else thumbs.push(item.path);
    }
    for (const p of thumbsPending) if (!inView.has(p)) thumbsPending.delete(p);
    for (const p of thumbs) thumbsPending.add(p);
    const thumbSize = cellW <= 96 ? 64 : 256;
    const key = `${state.generation}|${keepPages.join()}|${keepThumbs.length}`;
    if (pages.length === 0 && thumbs.length === 0 && key === lastWant) return;
    lastWant = key;
    if (pages.length) document.body.dataset.pageRequests = String(Number(document.body.dataset.pageRequests || 0) + pages.length);
    vscode.postMessage({ type: 'view', generation: state.generation, limit: BLOCK, pages, keepPages, thumbs, keepThumbs, thumbSize });
  }

  // ---- selection and keys --------------------------------------------------------------------
  function setFocus(/** @type {number} */ i) {
    state.focus = Math.max(0, Math.min(state.count - 1, i));
    scrollToIndex(state.focus, 'nearest');
  }
  function toggle(/** @type {string} */ p) {
    if (state.selection.paths.has(p)) state.selection.paths.delete(p);
    else state.selection.paths.add(p);
  }
  /** Paths of [from, to] in the grid's order, from the host (the range may span blocks never loaded). */
  function pathsOf(/** @type {number} */ from, /** @type {number} */ to) {
    const id = ++pathsRequest;
    return new Promise((resolve) => {
      pathsWaiting.set(id, resolve);
      vscode.postMessage({ type: 'paths', id, generation: state.generation, offset: from, limit: to - from + 1 });
    });
  }
  async function selectRange(/** @type {number} */ a, /** @type {number} */ b, /** @type {boolean} */ add) {
    const from = Math.min(a, b);
    const to = Math.max(a, b);
    const paths = /** @type {string[]} */ (await pathsOf(from, to));
    if (!add) state.selection = { all: false, paths: new Set() };
    for (const p of paths) {
      if (state.selection.all) state.selection.paths.delete(p);
      else state.selection.paths.add(p);
    }
    render();
    save();
  }

  viewport.addEventListener('scroll', () => {
    lastScrollAt = performance.now();
    render();
  }, { passive: true });
  new ResizeObserver(() => {
    const keep = firstVisibleIndex();
    layout();
    if (state.count) scrollToIndex(keep, 'top');
  }).observe(viewport);

  cellsEl.addEventListener('mousedown', (e) => {
    const cell = /** @type {HTMLElement|null} */ (/** @type {HTMLElement} */ (e.target).closest('.cell'));
    if (!cell || !cell.dataset.index) return;
    viewport.focus();
    const i = Number(cell.dataset.index);
    const p = cell.dataset.path || '';
    if (e.shiftKey) {
      void selectRange(state.anchor, i, e.ctrlKey || e.metaKey);
    } else if (e.ctrlKey || e.metaKey) {
      if (p) toggle(p);
      state.anchor = i;
    } else {
      state.selection = { all: false, paths: new Set(p ? [p] : []) };
      state.anchor = i;
    }
    state.focus = i;
    render();
    save();
  });
  cellsEl.addEventListener('dblclick', (e) => {
    const cell = /** @type {HTMLElement|null} */ (/** @type {HTMLElement} */ (e.target).closest('.cell'));
    if (cell && cell.dataset.path) vscode.postMessage({ type: 'open', path: cell.dataset.path });
  });

  viewport.addEventListener('keydown', (e) => {
    if (!state.count) return;
    const perPage = Math.max(1, Math.floor(viewport.clientHeight / rowH)) * cols;
    const moves = /** @type {Record<string, number>} */ ({
      ArrowLeft: -1, ArrowRight: 1, ArrowUp: -cols, ArrowDown: cols, PageUp: -perPage, PageDown: perPage,
    });
    let target = -1;
    if (e.key in moves) target = state.focus + moves[e.key];
    else if (e.key === 'Home') target = 0;
    else if (e.key === 'End') target = state.count - 1;
    if (target >= 0 || e.key in moves) {
      e.preventDefault();
      setFocus(Math.max(0, Math.min(state.count - 1, target)));
      if (e.shiftKey) void selectRange(state.anchor, state.focus, false);
      else state.anchor = state.focus;
      save();
      return;
    }
    const item = itemAt(state.focus);
    if (e.key === ' ') {
      e.preventDefault();
      if (item) toggle(item.path);
      state.anchor = state.focus;
      render();
      save();
    } else if (e.key === 'Enter') {
      e.preventDefault();
      if (item) vscode.postMessage({ type: 'open', path: item.path });
    } else if (e.key.toLowerCase() === 'a' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      state.selection = { all: true, paths: new Set() };
      render();
      save();
    } else if (e.key === 'Escape') {
      state.selection = { all: false, paths: new Set() };
      render();
      save();
    }
  });

  function act(/** @type {string} */ action) {
    if (!selectedCount()) return;
    vscode.postMessage({
      type: 'action',
      action,
      generation: state.generation,
      selection: { all: state.selection.all, paths: [...state.selection.paths] },
    });
  }

  // ---- state ---------------------------------------------------------------------------------
  let saveTimer = 0;
  function saveSoon() {
    if (!saveTimer) saveTimer = setTimeout(() => ((saveTimer = 0), save()), 200);
  }
  function save() {
    // A selection of a few thousand paths is kept; a bigger one is kept as "all" or dropped.
    const paths = state.selection.paths.size <= 10_000 ? [...state.selection.paths] : [];
    vscode.setState({ zoom: state.zoom, firstIndex: state.firstIndex, focus: state.focus, selection: { all: state.selection.all, paths } });
  }

  // ---- messages from the host ----------------------------------------------------------------
  window.addEventListener('message', (event) => {
    const m = event.data;
    switch (m.type) {
      case 'init': {
        state.title = m.title;
        state.sideBySide = m.sideBySide;
        state.query = m.query;
        document.body.classList.toggle('side-by-side', m.sideBySide);
        el.title.textContent = m.title;
        el.zoom.value = String(state.zoom);
        showQuery();
        break;
      }
      case 'choices': {
        state.formats = m.formats;
        state.folders = m.folders;
        el.format.innerHTML = '<option value="">All</option>' + m.formats.map((/** @type {any} */ f) => `<option value="${f.format}">${f.format || '(none)'} (${f.count.toLocaleString()})</option>`).join('');
        el.folders.innerHTML = m.folders.slice(0, 2000).map((/** @type {string} */ f) => `<option value="${f.replace(/"/g, '&quot;')}">`).join('');
        // The format in the query has an option now (the other inputs are left as the user has them).
        el.format.value = (state.query.filter && state.query.filter.formats && state.query.filter.formats[0]) || '';
        break;
      }
      case 'count': {
        const first = state.generation < 0;
        state.generation = m.generation;
        state.count = m.count;
        state.blocks.clear();
        state.focus = Math.min(state.focus, Math.max(0, m.count - 1));
        // The selection is kept by path: after a watcher update, what is still there stays selected.
        if (first && state.sideBySide && !saved.zoom && m.count > 0) {
          // Side by side: the few images as large as the width allows, on one row.
          state.zoom = Math.max(160, Math.min(400, Math.floor((viewport.clientWidth - GAP) / m.count) - GAP));
          el.zoom.value = String(state.zoom);
        }
        layout();
        if (first && !state.restored) {
          state.restored = true;
          scrollToIndex(Math.min(state.firstIndex, Math.max(0, m.count - 1)), 'top');
        }
        render();
        break;
      }
      case 'busy':
        state.busy = m.message;
        render();
        break;
      case 'page':
        if (m.generation !== state.generation) return;
        state.blocks.set(Math.floor(m.offset / BLOCK), m.items);
        document.body.dataset.loaded = String(Number(document.body.dataset.loaded || 0) + 1);
        render();
        break;
      case 'thumb':
        // uri null: no thumbnail for this file (format, unreadable): the placeholder stays, not asked again.
        thumbsPending.delete(m.path);
        state.thumbs.set(m.path, m.uri || '');
        if (state.thumbs.size > MAX_THUMBS) state.thumbs.delete(/** @type {string} */ (state.thumbs.keys().next().value));
        render();
        break;
      case 'paths': {
        const resolve = pathsWaiting.get(m.id);
        pathsWaiting.delete(m.id);
        if (resolve && m.generation === state.generation) resolve(m.paths);
        break;
      }
      case 'error':
        state.busy = m.message;
        render();
        break;
    }
  });

  vscode.postMessage({ type: 'ready' });
})();
