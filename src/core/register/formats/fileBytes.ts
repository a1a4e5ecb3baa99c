/** Positional reads of one open file, for the structure checks: the stream position is left alone. */
export type ReadAt = (buffer: Buffer, length: number, position: number) => Promise<number>;

const WINDOW = 64 * 1024;

/**
 * A file's bytes at any offset through one reusable window, so a walk over many small chunks or
 * segments costs one read per 64 KiB rather than one per chunk. Starts with the bytes the probe
 * already read from the start of the file.
 */
export class FileBytes {
  private window: Buffer;
  private windowPos = 0;
  private own: Buffer | null = null;

  /** `head`: the first bytes of the file, as read by the probe. */
  constructor(
    private readonly readAt: ReadAt,
    readonly size: number,
    readonly head: Buffer,
  ) {
    this.window = head;
  }

  /**
   * Up to `length` bytes at `position` (fewer at the end of the file). The result is only valid
   * until the next call: it is a view of the window.
   */
  async bytes(position: number, length: number): Promise<Buffer> {
    const end = Math.min(position + length, this.size);
    if (position >= end) return Buffer.alloc(0);
    if (position >= this.windowPos && end <= this.windowPos + this.window.length) {
      return this.window.subarray(position - this.windowPos, end - this.windowPos);
    }
    const want = Math.min(Math.max(end - position, WINDOW), this.size - position);
    if (!this.own || this.own.length < want) this.own = Buffer.allocUnsafe(Math.max(want, WINDOW));
    const n = await this.readAt(this.own, want, position);
    this.window = this.own.subarray(0, n);
    this.windowPos = position;
    return this.window.subarray(0, Math.min(n, end - position));
  }
}
