/**
 * Hands statement records to the store in bursts. The SQLite ledger commits (and
 * fsyncs) once per group-commit batch on the event loop; with one row per statement
 * at thousands of statements a second, a commit every 2 ms would stall every
 * session. Collecting rows for `intervalMs` and adding them in one tick lets one
 * durable commit cover them all. Refusals are flushed at once: they are rare and
 * an operator looks for them first.
 */
import type { ActionRecord } from '../../core/types.js';
import type { Store } from '../../ledger/store.js';

export class StatementRecorder {
  private pending: ActionRecord[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Store,
    private readonly log: (line: string) => void,
    private readonly intervalMs = 25,
    private readonly maxPending = 200,
  ) {}

  record(a: ActionRecord): void {
    this.pending.push(a);
    if (a.outcome !== 'allowed' && a.outcome !== 'approved') this.flush();
    else if (this.pending.length >= this.maxPending) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.intervalMs);
  }

  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    for (const a of batch)
      this.store
        .recordAction(a)
        .catch((e) => this.log(`ledger: could not record statement ${a.requestId}: ${(e as Error).message}`));
  }
}
