/**
 * One self-overwriting status line on a terminal, nothing when the stream is not a TTY (CI logs,
 * pipes). A bar needs a total, which a first scan does not know, so a counter line is all there is.
 */
export class ProgressLine {
  private shown = false;
  private last = 0;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    enabled: boolean,
    private readonly active = enabled && stream.isTTY === true,
  ) {}

  update(text: string): void {
    if (!this.active) return;
    const now = Date.now();
    if (now - this.last < 100) return;
    this.last = now;
    // A terminal that does not say its width (columns 0 or undefined) gets 80, not a 20-character stub.
    const columns = this.stream.columns > 0 ? this.stream.columns : 80;
    const width = Math.max(20, columns - 1);
    this.stream.write(`\r\x1b[K${text.slice(0, width)}`);
    this.shown = true;
  }

  log(line: string): void {
    this.clear();
    this.stream.write(line + '\n');
  }

  done(): void {
    this.clear();
  }

  private clear(): void {
    if (this.shown) this.stream.write('\r\x1b[K');
    this.shown = false;
  }
}
