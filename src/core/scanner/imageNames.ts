/**
 * Is a file name an image's, by its extension (case-insensitive)? One test for the worker
 * threads' listings, the main thread's filter and the watcher's events. Kept free of other
 * imports: the worker thread's bundle carries it.
 */
export function imageNameTest(extensions: Iterable<string>): (name: string) => boolean {
  const known = new Set([...extensions].map((e) => e.toLowerCase()));
  return (name) => {
    const dot = name.lastIndexOf('.');
    if (dot <= 0 || dot === name.length - 1) return false;
    const ext = name.slice(dot + 1);
    return known.has(ext) || known.has(ext.toLowerCase());
  };
}
