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
}

interface Waiter<T> {
  resolve(v: T): void;
  reject(err: unknown): void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

/**
 * On-demand work with a bound: at most `concurrency` jobs run, the newest request runs first (what
 * the user scrolled to last is what is visible), the same key is done once for every caller, a job
 * nobody waits for any more is dropped (or, running, told through its signal), and beyond
 * `maxPending` waiting jobs the oldest are dropped: long since scrolled away.
 */
export class WorkQueue<T> {
  private readonly tasks = new Map<string, Task<T>>();
  /** Waiting keys, newest last. */
  private readonly stack: string[] = [];
  private active = 0;
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
    let task = this.tasks.get(key);
    // Running, but given up by everyone before this caller came: it will end cancelled; start anew.
    if (task?.running && task.controller.signal.aborted) task = undefined;
    if (!task) {
      task = { key, run: job, controller: new AbortController(), waiters: new Set(), running: false };
      this.tasks.set(key, task);
      this.stack.push(key);
      this.trim();
    } else if (!task.running) {
      // Asked again: it is visible again, so it goes to the top.
      this.stack.splice(this.stack.lastIndexOf(key), 1);
      this.stack.push(key);
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

  private pump(): void {
    while (this.active < this.concurrency && this.stack.length) {
      const key = this.stack.pop()!;
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
