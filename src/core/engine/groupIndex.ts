/**
 * A group's paths (New, Registered, …) arranged as a folder tree with counts. Built once when the
 * group is first asked for, then kept current from each watcher batch's lists: the work of an update
 * is per folder touched (one pass over that folder's names), never a rebuild of the whole tree.
 */
export class GroupIndex {
  /** Folder (relative, '' = root) → image names directly in it (sorted when first asked for). */
  private readonly files = new Map<string, string[]>();
  private readonly sorted = new Set<string>();
  /** Folder → child folders that hold images of the group somewhere below, sorted. */
  private readonly children = new Map<string, string[]>();
  /** Folder → images of the group in its whole subtree. */
  private readonly totals = new Map<string, number>();
  private _size = 0;

  constructor(paths: Iterable<string> = []) {
    for (const p of paths) {
      const { dir, name } = splitPath(p);
      let list = this.files.get(dir);
      if (!list) this.files.set(dir, (list = []));
      list.push(name);
      this._size++;
    }
    const childSets = new Map<string, Set<string>>();
    for (const [dir, names] of this.files) {
      // Per folder, not per file: its count goes to each ancestor once.
      for (let d: string | null = dir; d !== null; d = parentOf(d)) this.totals.set(d, (this.totals.get(d) ?? 0) + names.length);
      // Link the chain up to the first folder already linked.
      for (let d = dir; d !== ''; ) {
        const parent = parentOf(d) as string;
        let set = childSets.get(parent);
        if (!set) childSets.set(parent, (set = new Set()));
        if (set.has(d)) break;
        set.add(d);
        d = parent;
      }
    }
    for (const [dir, set] of childSets) this.children.set(dir, [...set].sort(compareNames));
  }

  get size(): number {
    return this._size;
  }

  childFolders(dir: string): readonly string[] {
    return this.children.get(dir) ?? [];
  }

  /** Sorting a million names up front would cost seconds; a folder is sorted when it is opened. */
  filesIn(dir: string): readonly string[] {
    const names = this.files.get(dir);
    if (!names) return [];
    if (!this.sorted.has(dir)) {
      // Byte order first (native, fast): numbered names are then nearly in place, and the natural
      // sort after it is mostly one pass (a folder of 100k names: ~5× less than sorting from readdir order).
      names.sort();
      names.sort(compareNames);
      this.sorted.add(dir);
    }
    return names;
  }

  total(dir: string): number {
    return this.totals.get(dir) ?? 0;
  }

  /** One page of a folder's children: its sub-folders first (with counts), then its images, in name order. */
  page(dir: string, offset: number, limit: number): FolderPage {
    const folders = this.childFolders(dir);
    const files = this.filesIn(dir);
    const start = Math.max(0, offset);
    const end = start + Math.max(0, limit);
    const pageFolders = folders.slice(start, Math.min(end, folders.length)).map((d) => ({ dir: d, count: this.total(d) }));
    const fileStart = Math.max(0, start - folders.length);
    const fileEnd = Math.max(0, end - folders.length);
    return { dir, offset: start, folders: pageFolders, files: files.slice(fileStart, fileEnd), folderCount: folders.length, fileCount: files.length, total: this.total(dir) };
  }

  /** Every path of the group under a folder (for "Register this folder"). */
  pathsUnder(dir: string): string[] {
    const out: string[] = [];
    const stack = [dir];
    while (stack.length) {
      const d = stack.pop() as string;
      for (const name of this.filesIn(d)) out.push(d ? `${d}/${name}` : name);
      stack.push(...this.childFolders(d));
    }
    return out;
  }

  /**
   * Brings the index in line with a batch: `present` paths belong to the group, `absent` ones do
   * not (either may already be so: both are idempotent). Each touched folder's names are read once.
   * Returns the folders whose row changed (count or children: the touched folders and their
   * ancestors, '' for the group itself) and the folders that no longer hold any image of the group.
   */
  update(present: Iterable<string>, absent: Iterable<string>): GroupIndexChange {
    const byDir = new Map<string, { add: Set<string>; remove: Set<string> }>();
    const entry = (dir: string): { add: Set<string>; remove: Set<string> } => {
      let e = byDir.get(dir);
      if (!e) byDir.set(dir, (e = { add: new Set(), remove: new Set() }));
      return e;
    };
    for (const p of present) {
      const { dir, name } = splitPath(p);
      const e = entry(dir);
      e.add.add(name);
      e.remove.delete(name);
    }
    for (const p of absent) {
      const { dir, name } = splitPath(p);
      const e = entry(dir);
      e.remove.add(name);
      e.add.delete(name);
    }
    const changed = new Set<string>();
    const gone: string[] = [];
    for (const [dir, { add, remove }] of byDir) {
      const before = this.files.get(dir) ?? [];
      const have = new Set(before);
      const toAdd = [...add].filter((n) => !have.has(n));
      const removing = remove.size > 0 && before.some((n) => remove.has(n));
      if (toAdd.length === 0 && !removing) continue;
      let after = removing ? before.filter((n) => !remove.has(n)) : before;
      if (toAdd.length) after = this.sorted.has(dir) ? mergeSorted(after, toAdd.sort(compareNames)) : after === before ? [...before, ...toAdd] : after.concat(toAdd);
      const delta = after.length - before.length;
      if (after.length) this.files.set(dir, after);
      else {
        this.files.delete(dir);
        this.sorted.delete(dir);
      }
      this._size += delta;
      this.adjust(dir, delta, changed, gone);
    }
    return { changed: [...changed].filter((d) => this.totals.has(d) || d === ''), gone };
  }

  /** Adds `delta` to a folder's and its ancestors' totals, linking or unlinking folders that appear or empty. */
  private adjust(dir: string, delta: number, changed: Set<string>, gone: string[]): void {
    if (delta === 0) {
      changed.add(dir);
      return;
    }
    for (let d: string | null = dir; d !== null; d = parentOf(d)) {
      const was = this.totals.get(d) ?? 0;
      const now = was + delta;
      changed.add(d);
      if (d === '') {
        if (now > 0) this.totals.set(d, now);
        else this.totals.delete(d);
        continue;
      }
      const parent = parentOf(d) as string;
      if (now > 0) {
        this.totals.set(d, now);
        if (was === 0) insertSorted(this.children, parent, d);
      } else {
        this.totals.delete(d);
        this.children.delete(d);
        removeFrom(this.children, parent, d);
        gone.push(d);
      }
    }
  }
}

export interface FolderPage {
  dir: string;
  offset: number;
  /** Sub-folders on this page, with the group's images in each one's subtree. */
  folders: { dir: string; count: number }[];
  /** Image names (not paths) on this page. */
  files: string[];
  /** All the folder's sub-folders and images: the page is [offset, offset + limit) of folders then files. */
  folderCount: number;
  fileCount: number;
  /** Images of the group in the folder's whole subtree. */
  total: number;
}

export interface GroupIndexChange {
  /** Folders whose row changed (their count or their children); '' is the group's own row. */
  changed: string[];
  /** Folders that no longer hold any image of the group (their rows disappear). */
  gone: string[];
}

function splitPath(p: string): { dir: string; name: string } {
  const slash = p.lastIndexOf('/');
  return slash < 0 ? { dir: '', name: p } : { dir: p.slice(0, slash), name: p.slice(slash + 1) };
}

export function parentOf(dir: string): string | null {
  if (dir === '') return null;
  const slash = dir.lastIndexOf('/');
  return slash < 0 ? '' : dir.slice(0, slash);
}

function lowerBound(list: readonly string[], value: string): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareNames(list[mid], value) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function insertSorted(map: Map<string, string[]>, key: string, value: string): void {
  let list = map.get(key);
  if (!list) map.set(key, (list = []));
  const at = lowerBound(list, value);
  if (list[at] !== value) list.splice(at, 0, value);
}

function removeFrom(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key);
  if (!list) return;
  const at = list.indexOf(value);
  if (at >= 0) list.splice(at, 1);
  if (list.length === 0) map.delete(key);
}

/** Two sorted lists merged in one pass: a few names added to a sorted 100k-name folder cost no re-sort. */
function mergeSorted(a: readonly string[], b: readonly string[]): string[] {
  const out = new Array<string>(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) out[k++] = compareNames(a[i], b[j]) <= 0 ? a[i++] : b[j++];
  while (i < a.length) out[k++] = a[i++];
  while (j < b.length) out[k++] = b[j++];
  return out;
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });
/** img2 before img10, as a person expects (the collator's order, with a fast path for plain ASCII names). */
export function compareNames(a: string, b: string): number {
  return (ASCII_PLAIN ? compareAsciiNames(a, b) : null) ?? collator.compare(a, b);
}
/**
 * Whether the collator's language orders a–z as English does: some tailor them (Czech "ch" after
 * "h", Danish "aa" as "å", Lithuanian "y"), and then every name goes to the collator.
 */
const ASCII_PLAIN = /^(en|und)(-|$)/.test(collator.resolvedOptions().locale);

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isLetter = (c: number): boolean => (c | 32) >= 97 && (c | 32) <= 122;
/** Digit runs longer than this go to the collator (ICU splits very long numbers). */
const MAX_RUN = 30;

/**
 * The collator's answer for names whose first difference (at the primary level: case ignored,
 * digit runs as numbers with leading zeros ignored) is between letters, digits or the end of a
 * name; null when it is anything else (punctuation against another character, a non-ASCII
 * character), for the collator to decide. A collator call costs ~1 µs: sorting a folder of 100,000
 * numbered names with it alone takes seconds, with this a small fraction of that. The unit test
 * compares both on random names.
 */
export function compareAsciiNames(a: string, b: string): number | null {
  let i = 0;
  let j = 0;
  for (;;) {
    if (i === a.length || j === b.length) return i < a.length ? 1 : j < b.length ? -1 : 0;
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(j);
    if (ca >= 128 || cb >= 128 || ca < 32 || cb < 32) return null;
    const da = isDigit(ca);
    const db = isDigit(cb);
    if (da && db) {
      // Both at a number: compare the numbers (leading zeros ignored), then go on after them.
      let ea = i;
      while (ea < a.length && isDigit(a.charCodeAt(ea))) ea++;
      let eb = j;
      while (eb < b.length && isDigit(b.charCodeAt(eb))) eb++;
      if (ea - i > MAX_RUN || eb - j > MAX_RUN) return null;
      let za = i;
      while (za < ea - 1 && a.charCodeAt(za) === 48) za++;
      let zb = j;
      while (zb < eb - 1 && b.charCodeAt(zb) === 48) zb++;
      const la = ea - za;
      const lb = eb - zb;
      if (la !== lb) return la < lb ? -1 : 1;
      for (let k = 0; k < la; k++) {
        const x = a.charCodeAt(za + k);
        const y = b.charCodeAt(zb + k);
        if (x !== y) return x < y ? -1 : 1;
      }
      i = ea;
      j = eb;
      continue;
    }
    if (da || db) {
      // A digit against a letter: digits sort first. Against punctuation: the collator decides.
      const other = da ? cb : ca;
      if (!isLetter(other)) return null;
      return da ? -1 : 1;
    }
    const la = isLetter(ca) ? ca | 32 : ca;
    const lb = isLetter(cb) ? cb | 32 : cb;
    if (la === lb) {
      i++;
      j++;
      continue;
    }
    if (isLetter(ca) && isLetter(cb)) return la < lb ? -1 : 1;
    return null;
  }
}
