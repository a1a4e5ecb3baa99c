export { Thumbnailer, closeDecodeThread, type ThumbnailerOptions } from './thumbnailer';
export { ICON_SIZE, PREVIEW_SIZE, MAX_THUMB_SIZE, type ThumbnailResult, type ThumbnailFailure } from './types';
export { loadSharp, NO_SHARP_ENV } from './loadSharp';
