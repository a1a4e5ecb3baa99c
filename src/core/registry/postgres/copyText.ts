import type { Readable, Writable } from 'node:stream';
import { once } from 'node:events';
import { StringDecoder } from 'node:string_decoder';

/**
 * PostgreSQL's COPY text format, both ways: one row a line, fields split by tabs, `\N` for null,
 * and backslash escapes for the characters that would break that (a file name may hold a tab or
 * a newline). Bulk transfer without a query per row: pg-copy-streams carries the bytes.
 */

const UNESCAPE: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' };

function unescapeField(s: string): string | null {
  if (s === '\\N') return null;
  if (s.indexOf('\\') < 0) return s;
  return s.replace(/\\([0-7]{1,3}|x[0-9a-fA-F]{1,2}|.)/g, (_, c: string) => {
    if (c in UNESCAPE) return UNESCAPE[c];
    if (c[0] === 'x') return String.fromCharCode(parseInt(c.slice(1), 16));
    if (/^[0-7]/.test(c)) return String.fromCharCode(parseInt(c, 8));
    return c;
  });
}

/**
 * Reads a `COPY … TO STDOUT` stream, handing each row's fields to `onRow` (the array is reused:
 * copy what you keep). Callbacks, not an async iterator: a million rows cost a million calls,
 * not a million promises.
 */
export async function readCopy(stream: Readable, onRow: (fields: (string | null)[]) => void): Promise<void> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  const fields: (string | null)[] = [];
  const line = (text: string): void => {
    fields.length = 0;
    let pos = 0;
    for (;;) {
      const tab = text.indexOf('\t', pos);
      if (tab < 0) {
        fields.push(unescapeField(text.slice(pos)));
        break;
      }
      fields.push(unescapeField(text.slice(pos, tab)));
      pos = tab + 1;
    }
    onRow(fields);
  };
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const text = rest + decoder.write(chunk);
    let pos = 0;
    for (;;) {
      const nl = text.indexOf('\n', pos);
      if (nl < 0) break;
      line(text.slice(pos, nl));
      pos = nl + 1;
    }
    rest = text.slice(pos);
  }
  rest += decoder.end();
  if (rest) line(rest);
}

function escapeField(v: string | number | bigint | null | undefined): string {
  if (v === null || v === undefined) return '\\N';
  const s = String(v);
  return /[\\\n\r\t]/.test(s) ? s.replace(/[\\\n\r\t]/g, (c) => (c === '\\' ? '\\\\' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\t')) : s;
}

/** One row as a COPY text line. */
export function copyLine(values: readonly (string | number | bigint | null | undefined)[]): string {
  return values.map(escapeField).join('\t') + '\n';
}

/**
 * Writes lines into a `COPY … FROM STDIN` stream in chunks, waiting for it to drain, then ends it
 * and waits for the server's answer.
 */
export async function writeCopy(stream: Writable, lines: Iterable<string> | AsyncIterable<string>): Promise<void> {
  const done = new Promise<void>((resolve, reject) => {
    stream.once('finish', resolve);
    stream.once('error', reject);
  });
  let buf = '';
  for await (const l of lines) {
    buf += l;
    if (buf.length >= 1 << 16) {
      const ok = stream.write(buf);
      buf = '';
      if (!ok) await Promise.race([once(stream, 'drain'), done]);
    }
  }
  if (buf) stream.write(buf);
  stream.end();
  await done;
}
