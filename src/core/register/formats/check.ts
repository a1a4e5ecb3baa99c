import type { FileBytes } from './fileBytes';

/**
 * What a format's structure check found: `error` says why a decoder would reject the file
 * (null: complete as far as the check sees); width and height, when given, replace what
 * image-size read from the header (formats whose size it reads wrong or needs more bytes for).
 */
export interface StructureResult {
  error: string | null;
  width?: number;
  height?: number;
}

/** One format's check: reads only what it needs (headers, box or chunk lengths, the end), never pixels. */
export type StructureCheck = (file: FileBytes) => Promise<StructureResult>;

export const fine: StructureResult = { error: null };
