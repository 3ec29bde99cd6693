/**
 * The one place a front's requests become ledger rows (in the spirit of Teleport's
 * per-protocol Audit): every front calls it, none writes to the store itself.
 *
 * The durability rule (docs/ARCHITECTURE.md, "Store"): a request that will reach a
 * resource is recorded *before* it is forwarded. `intent` resolves once the row is
 * durable and throws RecordUnavailable when it cannot be; the front then refuses the
 * request in its own protocol and sends nothing upstream. What the upstream answered
 * follows as an outcome row. A refusal never reaches a resource, so its single row is
 * written after the answer, like an outcome.
 *
 * Being the one path, it is also where the operator's view of requests comes from: each
 * request's log line and metrics (ops/observer.ts) are emitted here when it ends.
 */
import type { ActionRecord, ActionResult } from '../core/types.js';
import type { Store } from '../ledger/store.js';
import { Observer } from '../ops/observer.js';

/** The intent could not be made durable: the request must not be forwarded. */
export class RecordUnavailable extends Error {
  override readonly name = 'RecordUnavailable';
}

export class Recorder {
  /** Intents recorded whose outcome is not yet: requests in flight. */
  private readonly inFlight = new Map<string, ActionRecord>();
  private drained: (() => void) | undefined;

  constructor(
    private readonly store: Store,
    private readonly log: (line: string) => void,
    private readonly observer: Observer = new Observer(),
  ) {}

  /** Records a request about to be forwarded; resolves once durable. */
  async intent(a: ActionRecord): Promise<void> {
    // Every front calls this just before it forwards: the row's own forwarded time.
    const row: ActionRecord = { ...a, forwardedAt: a.forwardedAt ?? new Date() };
    try {
      await this.store.recordIntent(row);
    } catch (err) {
      this.observer.intentUnrecorded(a, err);
      throw new RecordUnavailable(
        'Airlock could not record this request durably, so it was not forwarded; retry once the gateway is healthy',
        { cause: err },
      );
    }
    this.inFlight.set(row.requestId, row);
  }

  /** Records what happened to a forwarded request. */
  outcome(r: ActionResult): void {
    const intent = this.inFlight.get(r.requestId);
    if (intent !== undefined) this.observer.request(intent, r);
    else this.log(`ledger: outcome of ${r.requestId} without an intent in this process`);
    this.store
      .recordOutcome(r)
      .catch((e) => this.observer.recordFailed('outcome', r.requestId, e))
      .finally(() => this.settle(r.requestId));
  }

  /** Records a request that was refused (never forwarded). */
  refused(a: ActionRecord): void {
    this.observer.request(a);
    this.store.recordAction(a).catch((e) => this.observer.recordFailed('refusal', a.requestId, e));
  }

  /** Requests forwarded and not yet answered. */
  get pending(): number {
    return this.inFlight.size;
  }

  /** Resolves when every forwarded request has its outcome recorded, or after `ms`. */
  async drain(ms: number): Promise<boolean> {
    if (this.inFlight.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const done = await Promise.race([
      new Promise<boolean>((resolve) => {
        this.drained = () => resolve(true);
      }),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), ms);
      }),
    ]);
    clearTimeout(timer);
    this.drained = undefined;
    return done;
  }

  private settle(requestId: string): void {
    this.inFlight.delete(requestId);
    if (this.inFlight.size === 0) this.drained?.();
  }
}
