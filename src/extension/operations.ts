import type { RegisterSelection } from '../core/engine/protocol';

/**
 * What a dataset is asked to do. Requests of the same sort fold into one waiting operation, as the
 * git extension's throttled runs do: two Index requests are one scan, a Register covers an Index
 * (it scans first), two Registers register the union of their selections.
 */
export type OperationRequest =
  | { kind: 'index'; forceRescan?: boolean; verify?: boolean }
  | { kind: 'register'; only?: RegisterSelection }
  | { kind: 'clear'; alsoRegistry: boolean; teamRows?: number }
  | { kind: 'events' };

/** `null` when the two cannot be one operation (the later one then waits its own turn). */
export function fold(a: OperationRequest, b: OperationRequest): OperationRequest | null {
  if (a.kind === 'index' && b.kind === 'index') return { kind: 'index', forceRescan: !!(a.forceRescan || b.forceRescan), verify: !!(a.verify || b.verify) };
  if (a.kind === 'register' && b.kind === 'register') {
    if (!a.only || !b.only) return { kind: 'register' };
    return {
      kind: 'register',
      only: { paths: [...(a.only.paths ?? []), ...(b.only.paths ?? [])], folders: [...(a.only.folders ?? []), ...(b.only.folders ?? [])] },
    };
  }
  // A plain index is part of what a register does (scan, then diff).
  const plain = (r: OperationRequest): boolean => r.kind === 'index' && !r.forceRescan && !r.verify;
  if (a.kind === 'register' && plain(b)) return a;
  if (plain(a) && b.kind === 'register') return b;
  // A team dataset's delete carries the row count its user confirmed: it never folds.
  if (a.kind === 'clear' && b.kind === 'clear' && a.teamRows === undefined && b.teamRows === undefined) return { kind: 'clear', alsoRegistry: a.alsoRegistry || b.alsoRegistry };
  return null;
}

/** A caller of an operation: its own Cancel (signal), and whether it is a background refresh. */
export interface Caller {
  signal?: AbortSignal;
  background: boolean;
}

interface Operation<R> {
  request: OperationRequest;
  callers: Caller[];
  controller: AbortController;
  promise: Promise<R>;
  resolve(value: R): void;
  reject(err: unknown): void;
}

export interface OperationState {
  request: OperationRequest;
  background: boolean;
}

/**
 * One dataset's operations: one runs, the rest wait folded into as few as possible (normally one).
 * A running operation stops when every caller that can cancel it has (a Cancel button, the Cancel
 * command, or the dataset going away); a waiting one whose callers all cancelled never starts.
 */
export class OperationQueue<R> {
  private running: Operation<R> | null = null;
  private readonly waiting: Operation<R>[] = [];
  private disposed = false;

  constructor(
    private readonly execute: (request: OperationRequest, signal: AbortSignal) => Promise<R>,
    /** What a waiting operation that never started resolves to. */
    private readonly skipped: (request: OperationRequest) => R,
    private readonly onDidChangeState: () => void,
  ) {}

  /** The running operation, for the status bar and the busy context key ('events' batches are not shown). */
  get current(): OperationState | null {
    const op = this.running;
    if (!op || op.request.kind === 'events') return null;
    return { request: op.request, background: op.callers.every((c) => c.background) };
  }

  get pending(): number {
    return this.waiting.length;
  }

  run(request: OperationRequest, caller: Caller): Promise<R> {
    if (this.disposed) return Promise.resolve(this.skipped(request));
    const last = this.waiting[this.waiting.length - 1];
    const folded = last && fold(last.request, request);
    let op: Operation<R>;
    if (last && folded) {
      last.request = folded;
      op = last;
    } else {
      let resolve!: (value: R) => void;
      let reject!: (err: unknown) => void;
      const promise = new Promise<R>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      op = { request, callers: [], controller: new AbortController(), promise, resolve, reject };
      this.waiting.push(op);
    }
    op.callers.push(caller);
    caller.signal?.addEventListener('abort', () => this.callerCancelled(op), { once: true });
    if (caller.signal?.aborted) this.callerCancelled(op);
    this.pump();
    this.onDidChangeState();
    return op.promise;
  }

  private callerCancelled(op: Operation<R>): void {
    // Callers without a Cancel of their own (a test, another command) keep the operation going.
    if (!op.callers.every((c) => c.signal?.aborted)) return;
    if (op === this.running) op.controller.abort();
    else this.drop(op);
  }

  private drop(op: Operation<R>): void {
    const at = this.waiting.indexOf(op);
    if (at < 0) return;
    this.waiting.splice(at, 1);
    op.resolve(this.skipped(op.request));
    this.onDidChangeState();
  }

  /** The Cancel command: the running operation stops (whoever waits behind it), the waiting ones are dropped. */
  cancelAll(): void {
    for (const op of [...this.waiting]) if (op.request.kind !== 'events') this.drop(op);
    this.running?.controller.abort();
  }

  /** Resolves once nothing runs or waits. */
  async idle(): Promise<void> {
    while (this.running || this.waiting.length) {
      await (this.running ?? this.waiting[0]).promise.catch(() => undefined);
    }
  }

  private pump(): void {
    if (this.running || this.waiting.length === 0) return;
    const op = this.waiting.shift() as Operation<R>;
    this.running = op;
    this.onDidChangeState();
    const done = (): void => {
      this.running = null;
      this.onDidChangeState();
      this.pump();
    };
    this.execute(op.request, op.controller.signal).then(
      (value) => {
        op.resolve(value);
        done();
      },
      (err: unknown) => {
        op.reject(err);
        done();
      },
    );
  }

  /** The dataset went away: its running work is aborted, the waiting work never starts. */
  dispose(): void {
    this.disposed = true;
    for (const op of [...this.waiting]) this.drop(op);
    this.running?.controller.abort();
  }
}
