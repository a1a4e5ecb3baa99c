import type { ChangeList, ScanChanges } from '../types';

/** Counts every change, keeps the first `limit` paths: a first scan of 1M files must not build a 1M list. */
export class ChangeRecorder {
  readonly added: ChangeList = { count: 0, sample: [] };
  readonly removed: ChangeList = { count: 0, sample: [] };
  readonly modified: ChangeList = { count: 0, sample: [] };

  constructor(private readonly limit: number) {}

  add(list: ChangeList, dir: string, name: string): void {
    list.count++;
    if (list.sample.length < this.limit) list.sample.push(dir ? `${dir}/${name}` : name);
  }

  addMany(list: ChangeList, dir: string, names: readonly string[]): void {
    const room = this.limit - list.sample.length;
    for (let i = 0; i < names.length && i < room; i++) list.sample.push(dir ? `${dir}/${names[i]}` : names[i]);
    list.count += names.length;
  }

  result(): ScanChanges {
    return { added: this.added, removed: this.removed, modified: this.modified };
  }
}
