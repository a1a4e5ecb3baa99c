/**
 * The `format` values a registry row can hold: one name per image format, whatever the variant
 * (BigTIFF is `tiff`, a JPEG XL container and a bare codestream are both `jxl`). `jpg` is kept
 * rather than `jpeg` because registries written before this list already hold it. The README's
 * "Image checks and `format` values" table is this constant.
 */
export const IMAGE_FORMATS = {
  png: 'PNG (and APNG)',
  jpg: 'JPEG, baseline, progressive or lossless',
  gif: 'GIF 87a/89a',
  webp: 'WebP, lossy, lossless or extended',
  bmp: 'BMP: Windows v3–v5 and OS/2 v1 (12-byte header) and v2 (64-byte header)',
  tiff: 'TIFF and BigTIFF',
  heif: 'HEIF, including HEIC',
  avif: 'AVIF',
  jxl: 'JPEG XL, ISO-BMFF container or bare codestream',
  jp2: 'JPEG 2000, JP2 container or bare codestream',
  ico: 'Windows icon',
  cur: 'Windows cursor',
  icns: 'Apple icon',
  psd: 'Photoshop document',
  pnm: 'Netpbm (PBM, PGM, PPM, PAM)',
  tga: 'Truevision TGA',
  dds: 'DirectDraw surface',
  ktx: 'Khronos texture',
} as const;

export type ImageFormat = keyof typeof IMAGE_FORMATS;

export function isImageFormat(name: string): name is ImageFormat {
  return Object.prototype.hasOwnProperty.call(IMAGE_FORMATS, name);
}
