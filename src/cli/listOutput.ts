import { once } from 'node:events';
import * as path from 'node:path';
import type { ListedDetails, ListSink, ListStatus } from '../core/listDataset';

export type ListFormat = 'lines' | 'nul' | 'jsonl';

const numberOrNull = (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? 'null' : String(x));
const stringOrNull = (x: string | null | undefined): string => (x === null || x === undefined ? 'null' : JSON.stringify(x));

/**
 * One listed image as the pipeline reads it: the `--jsonl` object's fields are part of the CLI's
 * contract. Put together by hand: JSON.stringify of an object per line made `--jsonl` twice as slow
 * as plain lines at a million images; only the strings need escaping.
 */
export function jsonLine(root: string, rel: string, status: ListStatus, d: ListedDetails | undefined): string {
  return (
    `{"path":${JSON.stringify(rel)},"abs_path":${JSON.stringify(path.join(root, rel))},"status":"${status}",` +
    `"size":${numberOrNull(d?.size)},"mtime_ms":${numberOrNull(d?.mtimeMs)},"hash":${stringOrNull(d?.hash)},` +
    `"width":${numberOrNull(d?.width)},"height":${numberOrNull(d?.height)},"format":${stringOrNull(d?.format)}` +
    (d?.reason ? `,"reason":${JSON.stringify(d.reason)}` : '') +
    (d?.source ? `,"source":${JSON.stringify(d.source)}` : '') +
    '}'
  );
}

/** Up to this many bytes are gathered before one write: a write per line would cost more than the listing. */
const CHUNK = 1 << 16;

/**
 * Writes listed images to a stream in chunks and waits for it to drain, so a slow reader (a
 * pipeline consuming the list) holds the listing back instead of the process buffering it all.
 */
export class ListWriter implements ListSink {
  private parts: string[] = [];
  private size = 0;
  private readonly prefix: string;

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly root: string,
    private readonly format: ListFormat,
    relative: boolean,
  ) {
    this.prefix = relative ? '' : root.endsWith('/') ? root : `${root}/`;
  }

  image(rel: string, status: ListStatus, details?: ListedDetails): void {
    const text =
      this.format === 'jsonl' ? `${jsonLine(this.root, rel, status, details)}\n` : this.format === 'nul' ? `${this.prefix}${rel}\0` : `${this.prefix}${rel}\n`;
    this.parts.push(text);
    this.size += text.length;
  }

  /** A line of another shape (a duplicate group). */
  raw(text: string): void {
    this.parts.push(text);
    this.size += text.length;
  }

  async flush(final = false): Promise<void> {
    if (this.size === 0 || (!final && this.size < CHUNK)) return;
    const chunk = this.parts.join('');
    this.parts = [];
    this.size = 0;
    if (!this.out.write(chunk)) await once(this.out, 'drain');
  }
}
