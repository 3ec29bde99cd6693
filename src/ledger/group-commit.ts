/**
 * Group commit: queue items and write them in one transaction, so a burst of
 * actions pays for one durable commit (~170 µs with synchronous=FULL) instead
 * of one each. Each `add` promise settles when its batch is written.
 *
 * Two deadlines: an item a request is waiting on (an intent, which must be durable
 * before the request is forwarded) is written on the next turn of the event loop, so
 * it waits for at most one commit, not the timer; other items wait for the timer so
 * that they share commits. A batch whose write fails for a passing reason (another
 * process holds the write lock) is retried off the event loop until `retryForMs` has
 * passed since its first try; then, or on any other failure, its promises reject.
 */

interface Pending<T> {
  readonly item: T;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

export interface GroupCommitOptions {
  readonly delayMs: number;
  readonly maxBatch: number;
  /** True for an error worth retrying (SQLITE_BUSY). Default: none is. */
  readonly retryable?: (err: unknown) => boolean;
  /** How long a batch keeps retrying a retryable error. Default 0. */
  readonly retryForMs?: number;
  /** Told of each batch written: its size and how long the write took (metrics). */
  readonly onCommit?: ((batchSize: number, ms: number) => void) | undefined;
  /**
   * When the write itself does not fsync (sqlite/wal-sync.ts): resolves once what was
   * written is on disk. A batch's promises settle with it. Default: the write is durable.
   */
  readonly durable?: (() => Promise<void>) | undefined;
}

const RETRY_STEP_MS = 10;

export class GroupCommit<T> {
  private queue: Pending<T>[] = [];
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  /** When the queue's oldest batch first failed with a retryable error. */
  private failingSince: number | undefined;

  constructor(
    /** Writes the whole batch atomically, or throws. */
    private readonly write: (items: readonly T[]) => void,
    private readonly opts: GroupCommitOptions,
  ) {}

  /** `urgent`: a request waits on this item; write it on the next event-loop turn. */
  add(item: T, urgent = false): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (this.failingSince !== undefined) return; // the retry timer is set
      if (this.queue.length >= this.opts.maxBatch) this.flush();
      else if (urgent) this.immediate ??= setImmediate(() => this.flush());
      else this.timer ??= setTimeout(() => this.flush(), this.opts.delayMs);
    });
  }

  /** Items waiting to be written. */
  get size(): number {
    return this.queue.length;
  }

  /**
   * Writes whatever is queued now. Synchronous, so a caller can order its own write after
   * it; returns false when the batch stays queued for a retry.
   */
  flush(): boolean {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    const batch = this.queue;
    if (batch.length === 0) return true;
    const started = performance.now();
    try {
      this.write(batch.map((p) => p.item));
    } catch (err) {
      const now = performance.now();
      const since = this.failingSince ?? now;
      if (this.opts.retryable?.(err) === true && now - since < (this.opts.retryForMs ?? 0)) {
        this.failingSince = since;
        this.timer = setTimeout(() => this.flush(), RETRY_STEP_MS);
        return false;
      }
      this.failingSince = undefined;
      this.queue = [];
      for (const p of batch) p.reject(err);
      return true;
    }
    this.opts.onCommit?.(batch.length, performance.now() - started);
    this.failingSince = undefined;
    this.queue = [];
    const durable = this.opts.durable?.();
    if (durable === undefined) for (const p of batch) p.resolve();
    else
      durable.then(
        () => {
          for (const p of batch) p.resolve();
        },
        (err: unknown) => {
          for (const p of batch) p.reject(err);
        },
      );
    return true;
  }
}
