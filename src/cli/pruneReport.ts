import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { PruneReport } from '../core';
import { num } from './format';

/** Flushes at about this many characters: a million paths never become one string. */
const CHUNK_CHARS = 64 * 1024;

/** Writes pieces in bounded chunks, waiting for 'drain' when the reader is slower. */
async function writeStreamed(out: Writable, pieces: Iterable<string>): Promise<void> {
  let buf = '';
  for (const piece of pieces) {
    buf += piece;
    if (buf.length >= CHUNK_CHARS) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  if (buf && !out.write(buf)) await once(out, 'drain');
}

function* jsonPieces(r: PruneReport): Generator<string> {
  yield `{"root":${JSON.stringify(r.root)},"removed":${r.paths.length},"dryRun":${r.dryRun},"cancelled":${r.cancelled},"paths":[`;
  for (let i = 0; i < r.paths.length; i++) yield (i ? ',' : '') + JSON.stringify(r.paths[i]);
  yield ']}\n';
}

function* textPieces(r: PruneReport): Generator<string> {
  const n = num(r.paths.length);
  if (r.cancelled) {
    yield `${r.root}: prune interrupted — nothing removed\n`;
    return;
  }
  const what = r.dryRun ? `would remove ${n} rows of files no longer on disk (dry run: nothing written)` : `removed ${n} rows of files no longer on disk`;
  yield `${r.root}: ${what}${r.paths.length ? ':' : ''}\n`;
  for (const p of r.paths) yield `  ${p}\n`;
}

/** The prune result: one JSON object per folder (`--json`) or a summary line and one path per line. */
export function writePruneReport(out: Writable, r: PruneReport, json: boolean): Promise<void> {
  return writeStreamed(out, json ? jsonPieces(r) : textPieces(r));
}
