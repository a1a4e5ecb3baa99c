/**
 * Names what a file is when it is text rather than a raster image (an SVG or a web page saved
 * with an image's name), from its first bytes; null when it does not look like text.
 */
export function notRasterKind(head: Buffer): string | null {
  const sample = head.subarray(0, 4096);
  let start = 0;
  if (sample[0] === 0xef && sample[1] === 0xbb && sample[2] === 0xbf) start = 3;
  const text = sample.toString('latin1', start).replace(/^\s+/, '').toLowerCase();
  if (text.startsWith('<')) {
    if (/<svg[\s>]/.test(text)) return 'SVG';
    if (text.startsWith('<!doctype html') || /<html[\s>]/.test(text)) return 'HTML';
    if (text.startsWith('<?xml')) return 'XML';
  }
  return null;
}

/** Whether the first bytes read as text: no NUL and almost no control characters. */
export function looksLikeText(head: Buffer): boolean {
  const sample = head.subarray(0, 4096);
  if (sample.length === 0) return false;
  let control = 0;
  for (const b of sample) {
    if (b === 0) return false;
    if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d && b !== 0x0c) control++;
  }
  return control * 100 < sample.length;
}
