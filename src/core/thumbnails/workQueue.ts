/** The error a cancelled or dropped request rejects with. */
export class CancelledError extends Error {
  constructor(message = 'cancelled') {
    super(message);
    this.name = 'CancelledError';
  }
}

interface Task<T> {
  key: string;
  run: (signal: AbortSignal) => Promise<T>;
  controller: AbortController;
  waiters: Set<Waiter<T>>;
  running: boolean;
  /** The burst of requests it was (last) asked in. */
  batch: number;
}

interface Waiter<T> {
  resolve(v: T): void;
  reject(err: unknown): void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

/**
 * On-demand work with a bound: at most `concurrency` jobs run; the newest burst of requests runs
 * first (what the user scrolled to or expanded last is what is visible), and within a burst — the
 * rows of one page, asked top to bottom in one turn of the event loop — in the order asked; the same
 * key is done once for every caller; a job nobody waits for any more is dropped (or, running, told
 * through its signal); beyond `maxPending` waiting jobs the oldest are dropped: long since scrolled away.
 */
export class WorkQueue<T> {
  private readonly tasks = new Map<string, Task<T>>();
  /** Waiting keys, newest last. */
  private readonly stack: string[] = [];
  private active = 0;
  private batch = 0;
  private batchOpen = false;
  /** How many jobs were started (for tests and the benchmark: de-duplication shows here). */
  started = 0;

  constructor(
    private readonly concurrency = 2,
    private readonly maxPending = 1000,
  ) {}

  get pending(): number {
    return this.stack.length;
  }

  run(key: string, job: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(new CancelledError());
    if (!this.batchOpen) {
      this.batch++;
      this.batchOpen = true;
      setImmediate(() => (this.batchOpen = false));
    }
    let task = this.tasks.get(key);
    // Running, but given up by everyone before this caller came: it will end cancelled; start anew.
    if (task?.running && task.controller.signal.aborted) task = undefined;
    if (!task) {
      task = { key, run: job, controller: new AbortController(), waiters: new Set(), running: false, batch: this.batch };
      this.tasks.set(key, task);
      this.stack.push(key);
      this.trim();
    } else if (!task.running && task.batch !== this.batch) {
      // Asked again: it is visible again, so it joins the newest burst.
      this.stack.splice(this.stack.lastIndexOf(key), 1);
      this.stack.push(key);
      task.batch = this.batch;
    }
    const t = task;
    const promise = new Promise<T>((resolve, reject) => {
      const w: Waiter<T> = { resolve, reject, signal };
      if (signal) {
        w.onAbort = () => this.leave(t, w);
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
      t.waiters.add(w);
    });
    this.pump();
    return promise;
  }

  /** A waiter gave up: it is told so at once; the job goes when nobody else waits for it. */
  private leave(task: Task<T>, w: Waiter<T>): void {
    if (!task.waiters.delete(w)) return;
    w.reject(new CancelledError());
    if (task.waiters.size) return;
    if (task.running) {
      task.controller.abort();
    } else {
      this.stack.splice(this.stack.lastIndexOf(task.key), 1);
      this.tasks.delete(task.key);
    }
  }

  private trim(): void {
    while (this.stack.length > this.maxPending) {
      const key = this.stack.shift()!;
      const task = this.tasks.get(key)!;
      this.tasks.delete(key);
      this.settle(task, (w) => w.reject(new CancelledError('dropped: too many thumbnails waiting')));
    }
  }

  private settle(task: Task<T>, how: (w: Waiter<T>) => void): void {
    for (const w of task.waiters) {
      if (w.onAbort) w.signal?.removeEventListener('abort', w.onAbort);
      how(w);
    }
    task.waiters.clear();
  }

  /** Index in `stack` of the first-asked key of the newest burst. */
  private next(): number {
    const newest = this.tasks.get(this.stack[this.stack.length - 1])!.batch;
    return this.stack.findIndex((k) => this.tasks.get(k)!.batch === newest);
  }

  private pump(): void {
    while (this.active < this.concurrency && this.stack.length) {
      const key = this.stack.splice(this.next(), 1)[0];
      const task = this.tasks.get(key)!;
      task.running = true;
      this.active++;
      this.started++;
      const done = (how: (w: Waiter<T>) => void): void => {
        this.active--;
        if (this.tasks.get(key) === task) this.tasks.delete(key);
        this.settle(task, how);
        this.pump();
      };
      new Promise<T>((resolve) => resolve(task.run(task.controller.signal))).then(
        (v) => done((w) => w.resolve(v)),
        (err: unknown) => done((w) => w.reject(err)),
      );
    }
  }
}
