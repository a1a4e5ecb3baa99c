import * as fs from 'node:fs';

/**
 * O_NONBLOCK: opening a FIFO would otherwise wait for a writer forever, holding one of libuv's
 * threads (and, through it, the process's exit). On a regular file the flag changes nothing.
 */
export const READ_NONBLOCK = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0);

/** What a path that is not a regular file is, for a message or an unreadable row's reason. */
export function fileKind(st: fs.Stats): string {
  if (st.isFIFO()) return 'FIFO';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice()) return 'character device';
  if (st.isBlockDevice()) return 'block device';
  if (st.isDirectory()) return 'directory';
  return 'special file';
}

export class NotRegularFileError extends Error {
  constructor(
    readonly file: string,
    readonly kind: string,
  ) {
    super(`${file} is not a regular file (${kind})`);
  }
}

/**
 * Reads a whole regular file without ever blocking on what is not one: a FIFO, socket or device
 * given where a file was expected is refused at once instead of hanging the run.
 */
export async function readRegularFile(file: string): Promise<Buffer> {
  const handle = await fs.promises.open(file, READ_NONBLOCK);
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new NotRegularFileError(file, fileKind(st));
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}
