import * as assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { ProgressLine } from '../../src/cli/progressLine';

/** A terminal stream as Node describes one: a writable with isTTY and columns. */
function terminal(columns: number | undefined): { stream: NodeJS.WriteStream; written: () => string } {
  const pass = new PassThrough();
  let text = '';
  pass.on('data', (d: Buffer) => (text += d.toString()));
  const stream = Object.assign(pass, { isTTY: true, columns }) as unknown as NodeJS.WriteStream;
  return { stream, written: () => text };
}

describe('progress line', () => {
  const line = 'registering: 120,000/1,000,000 · 8,100 files/s · 612.4 MB/s · ETA 2 min';

  it('a terminal that does not say its width gets the whole line up to 79 columns, not 20', async () => {
    for (const columns of [0, undefined]) {
      const t = terminal(columns);
      new ProgressLine(t.stream, true).update(line);
      await new Promise((r) => setImmediate(r));
      assert.ok(t.written().includes(line), `columns ${columns}: ${JSON.stringify(t.written())}`);
    }
  });

  it('a narrow terminal cuts the line to its width; a stream that is not a terminal gets nothing', async () => {
    const t = terminal(30);
    new ProgressLine(t.stream, true).update(line);
    await new Promise((r) => setImmediate(r));
    assert.ok(t.written().endsWith(line.slice(0, 29)));
    const pipe = terminal(80);
    Object.assign(pipe.stream, { isTTY: false });
    new ProgressLine(pipe.stream, true).update(line);
    await new Promise((r) => setImmediate(r));
    assert.equal(pipe.written(), '');
  });
});
