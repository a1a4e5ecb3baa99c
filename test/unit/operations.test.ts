import * as assert from 'node:assert/strict';
import { fold, OperationQueue, type OperationRequest } from '../../src/extension/operations';

/** Operations that end when the test says (or when aborted), recording what ran. */
function harness() {
  const ran: { request: OperationRequest; signal: AbortSignal; finish(): void }[] = [];
  const queue = new OperationQueue<string>(
    (request, signal) =>
      new Promise<string>((resolve) => {
        const entry = { request, signal, finish: () => resolve(`done ${JSON.stringify(request)}`) };
        ran.push(entry);
        signal.addEventListener('abort', () => resolve('aborted'), { once: true });
      }),
    () => 'skipped',
    () => undefined,
  );
  return { queue, ran };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('operations: one running, the rest folded', () => {
  it('folds requests of the same sort; a register covers a plain index', () => {
    assert.deepEqual(fold({ kind: 'index' }, { kind: 'index', verify: true }), { kind: 'index', forceRescan: false, verify: true });
    assert.deepEqual(fold({ kind: 'register', only: { paths: ['a'] } }, { kind: 'register', only: { paths: ['b'] } }), {
      kind: 'register',
      only: { paths: ['a', 'b'], folders: [] },
    });
    assert.deepEqual(fold({ kind: 'register', only: { paths: ['a'] } }, { kind: 'register' }), { kind: 'register' });
    assert.deepEqual(fold({ kind: 'index' }, { kind: 'register' }), { kind: 'register' });
    assert.equal(fold({ kind: 'index', forceRescan: true }, { kind: 'register' }), null);
    assert.equal(fold({ kind: 'events' }, { kind: 'events' }), null);
  });

  it('runs one at a time; three requests while one runs wait as one', async () => {
    const { queue, ran } = harness();
    const first = queue.run({ kind: 'index' }, { background: true });
    const waiting = [queue.run({ kind: 'index' }, { background: false }), queue.run({ kind: 'index', verify: true }, { background: false }), queue.run({ kind: 'index' }, { background: false })];
    await tick();
    assert.equal(ran.length, 1);
    assert.equal(queue.pending, 1, 'folded into one');
    assert.deepEqual(queue.current, { request: { kind: 'index' }, background: true });
    ran[0].finish();
    assert.match(await first, /done/);
    await tick();
    assert.equal(ran.length, 2);
    assert.deepEqual(ran[1].request, { kind: 'index', forceRescan: false, verify: true });
    ran[1].finish();
    const results = await Promise.all(waiting);
    assert.ok(results.every((r) => r === results[0]), 'the callers share the one operation');
    await queue.idle();
    assert.equal(queue.current, null);
  });

  it('a caller\'s Cancel stops the running operation; a waiting one whose callers all cancelled never starts', async () => {
    const { queue, ran } = harness();
    const c1 = new AbortController();
    const running = queue.run({ kind: 'index' }, { background: false, signal: c1.signal });
    const c2 = new AbortController();
    const waiting = queue.run({ kind: 'register' }, { background: false, signal: c2.signal });
    await tick();
    c2.abort();
    assert.equal(await waiting, 'skipped');
    c1.abort();
    assert.equal(await running, 'aborted');
    assert.equal(ran.length, 1);
    assert.ok(ran[0].signal.aborted);
  });

  it('an operation with a caller that cannot cancel keeps going when another caller cancels', async () => {
    const { queue, ran } = harness();
    queue.run({ kind: 'index' }, { background: true }).catch(() => undefined);
    const c = new AbortController();
    const a = queue.run({ kind: 'index' }, { background: false, signal: c.signal });
    const b = queue.run({ kind: 'index' }, { background: false });
    c.abort();
    ran[0].finish();
    await tick();
    assert.equal(ran.length, 2, 'the folded operation still runs for the caller that did not cancel');
    ran[1].finish();
    assert.equal(await a, await b);
  });

  it('Cancel (all) reaches the running operation even with a user command waiting, and drops the waiting one', async () => {
    const { queue, ran } = harness();
    const bg = queue.run({ kind: 'index' }, { background: true });
    const user = queue.run({ kind: 'register' }, { background: false });
    await tick();
    queue.cancelAll();
    assert.equal(await user, 'skipped');
    assert.equal(await bg, 'aborted');
    assert.equal(ran.length, 1);
  });

  it('dispose aborts the running operation and skips the rest; later requests are skipped', async () => {
    const { queue, ran } = harness();
    const running = queue.run({ kind: 'index' }, { background: false });
    const waiting = queue.run({ kind: 'events' }, { background: true });
    queue.dispose();
    assert.equal(await running, 'aborted');
    assert.equal(await waiting, 'skipped');
    assert.equal(await queue.run({ kind: 'index' }, { background: false }), 'skipped');
    assert.equal(ran.length, 1);
  });
});
