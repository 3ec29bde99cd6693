/**
 * This process's writes to PostgreSQL, one transaction at a time in call order, with
 * group commit for action rows (the asynchronous counterpart of ../group-commit.ts).
 *
 * Action rows gather in an open batch: an intent (a request waits on it before it is
 * forwarded) seals the batch on the next event-loop turn; outcomes and refusals wait
 * up to `delayMs` (or `maxBatch` rows) to share the commit. Any other write seals the
 * open batch first, so the chain keeps the order in which this process called.
 */
import type { NewEntry } from '../ledger-entries.js';

interface Batch {
  readonly items: NewEntry[];
  readonly waiters: { resolve: () => void; reject: (err: unknown) => void }[];
  timer?: NodeJS.Timeout;
  immediate?: NodeJS.Immediate;
}

export class WriteQueue {
  /** The tail of the queue: each write starts when the one before it settled. */
  private tail: Promise<void> = Promise.resolve();
  private batch: Batch | undefined;

  constructor(
    /** Writes one batch of action rows in one transaction. */
    private readonly writeBatch: (items: readonly NewEntry[]) => Promise<void>,
    private readonly opts: { readonly delayMs: number; readonly maxBatch: number },
  ) {}

  /** Queues an action row; resolves once its batch committed. `urgent`: an intent. */
  addAction(e: NewEntry, urgent: boolean): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.batch === undefined) this.batch = { items: [], waiters: [] };
      const b = this.batch;
      b.items.push(e);
      b.waiters.push({ resolve, reject });
      if (b.items.length >= this.opts.maxBatch) this.seal();
      else if (urgent) b.immediate ??= setImmediate(() => this.seal());
      else b.timer ??= setTimeout(() => this.seal(), this.opts.delayMs);
    });
  }

  /** Runs `op` after every write called before it (queued actions included). */
  run<R>(op: () => Promise<R>): Promise<R> {
    this.seal();
    return this.enqueue(op);
  }

  /** Resolves once every write called before it has settled. */
  async settled(): Promise<void> {
    this.seal();
    await this.tail;
  }

  /** Moves the open batch onto the queue, keeping its place in call order. */
  private seal(): void {
    const b = this.batch;
    if (b === undefined) return;
    this.batch = undefined;
    clearTimeout(b.timer);
    if (b.immediate !== undefined) clearImmediate(b.immediate);
    this.enqueue(() => this.writeBatch(b.items)).then(
      () => {
        for (const w of b.waiters) w.resolve();
      },
      (err: unknown) => {
        for (const w of b.waiters) w.reject(err);
      },
    );
  }

  private enqueue<R>(op: () => Promise<R>): Promise<R> {
    const run = this.tail.then(op);
    this.tail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }
}
