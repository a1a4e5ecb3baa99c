/** Tree icons: 16 CSS px drawn at up to 4× on high-DPI screens. */
export const ICON_SIZE = 64;
/** Tooltips and the gallery's cells. */
export const PREVIEW_SIZE = 256;
/** Thumbnails, not originals: anything larger is a preview, which is not this module's job. */
export const MAX_THUMB_SIZE = 512;

/** Which decoder reads a file, chosen from its first bytes (never from its name). */
export type DecodeRoute = 'sharp' | 'heif-wasm' | 'jxl-wasm';

export type ThumbnailFailure =
  /** No decoder here reads this format (BMP, SVG, an unknown file): show a codicon. */
  | 'unsupported'
  /** sharp did not load on this platform: every thumbnail is a codicon. */
  | 'no-sharp'
  /** A decoder read the file and failed: corrupt, truncated, too large. */
  | 'decode-error'
  /** The file is gone or cannot be read. */
  | 'unreadable'
  /** Nobody waits for it any more (scrolled away, cancelled). */
  | 'cancelled'
  /** Not a failure: the original's stamp is the one the caller said it knows, so nothing was looked up. */
  | 'unchanged';

/**
 * `stamp` is the original's content stamp as `dev:ino:size:mtimeNs` (`gone` when it could not be
 * stat'ed), set once the file was stat'ed: a caller that keeps it can ask again with `knownStamp`
 * and is told `unchanged` without a lookup — the check a redrawn row makes.
 */
export type ThumbnailResult =
  | { ok: true; file: string; width: number; height: number; bytes: number; cached: boolean; stamp?: string }
  | { ok: false; reason: ThumbnailFailure; message: string; stamp?: string };

/** Content stamp of an original: a change of any field is a different picture. */
export interface ContentStamp {
  dev: bigint;
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
}

/** The stamp of a file that could not be stat'ed (gone, no permission). */
export const GONE_STAMP = 'gone';

/** A content stamp as one string (what results carry and callers send back as `knownStamp`). */
export function stampKey(s: ContentStamp): string {
  return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}`;
}
