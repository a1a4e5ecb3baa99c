/**
 * A group's paths (New, Registered, …) arranged as a folder tree with counts, built once when the
 * group is first expanded: each level then costs a map lookup, whatever the size of the dataset.
 */
export class GroupIndex {
  /** Folder (relative, '' = root) → image names directly in it (sorted when first asked for). */
  private readonly files = new Map<string, string[]>();
  private readonly sorted = new Set<string>();
  /** Folder → child folders that hold images of the group somewhere below, sorted. */
  private readonly children = new Map<string, string[]>();
  /** Folder → images of the group in its whole subtree. */
  private readonly totals = new Map<string, number>();
  readonly size: number;

  constructor(paths: Iterable<string>) {
    let size = 0;
    for (const p of paths) {
      const slash = p.lastIndexOf('/');
      const dir = slash < 0 ? '' : p.slice(0, slash);
      let list = this.files.get(dir);
      if (!list) this.files.set(dir, (list = []));
      list.push(slash < 0 ? p : p.slice(slash + 1));
      size++;
    }
    this.size = size;
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

  childFolders(dir: string): readonly string[] {
    return this.children.get(dir) ?? [];
  }

  /** Sorting a million names up front would cost seconds; a folder is sorted when it is opened. */
  filesIn(dir: string): readonly string[] {
    const names = this.files.get(dir);
    if (!names) return [];
    if (!this.sorted.has(dir)) {
      names.sort(compareNames);
      this.sorted.add(dir);
    }
    return names;
  }

  total(dir: string): number {
    return this.totals.get(dir) ?? 0;
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
}

function parentOf(dir: string): string | null {
  if (dir === '') return null;
  const slash = dir.lastIndexOf('/');
  return slash < 0 ? '' : dir.slice(0, slash);
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });
/** img2 before img10, as a person expects. */
function compareNames(a: string, b: string): number {
  return collator.compare(a, b);
}
