/**
 * The webhook outbox: ledger entries become deliveries (one per event and endpoint) in
 * the store, and deliveries are sent, signed by the Standard Webhooks scheme
 * (https://www.standardwebhooks.com/: `webhook-id`, `webhook-timestamp`,
 * `webhook-signature`), until the endpoint answers 2xx or the retry schedule runs out.
 *
 * At least once: a delivery is marked delivered only after a 2xx, so a crash between
 * sending and marking sends it again, with the same `webhook-id` for the receiver to
 * deduplicate on. The cursor and the deliveries it produced are written in one
 * transaction (Store.enqueueWebhookDeliveries), so a restart neither skips nor doubles.
 */
import { Webhook } from 'standardwebhooks';
import type { WebhookEvent } from '../../config/load-channels.js';
import type { Store, WebhookDelivery } from '../../ledger/store.js';
import { deliveryId, eventOf } from './events.js';

export interface WebhookTarget {
  readonly url: string;
  readonly events: readonly WebhookEvent[];
  /** Standard Webhooks secret (`whsec_` + base64). */
  readonly secret: string;
  /** Waits before each retry (Standard Webhooks' suggested schedule by default). */
  readonly retrySeconds: readonly number[];
}

/** https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md#deliverability-and-reliability */
export const DEFAULT_RETRY_SECONDS: readonly number[] = [5, 300, 1800, 7200, 18000, 36000, 36000];

export interface DispatcherOptions {
  readonly pollMs?: number;
  readonly timeoutMs?: number;
  readonly log: (line: string) => void;
  readonly now?: () => Date;
}

const SCAN_BATCH = 500;
const SEND_BATCH = 20;

export class WebhookDispatcher {
  private readonly signers = new Map<string, Webhook>();
  private readonly byUrl = new Map<string, WebhookTarget>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly abort = new AbortController();
  private readonly now: () => Date;

  constructor(
    private readonly store: Store,
    private readonly targets: readonly WebhookTarget[],
    private readonly opts: DispatcherOptions,
  ) {
    for (const t of targets) {
      this.signers.set(t.url, new Webhook(t.secret));
      this.byUrl.set(t.url, t);
    }
    this.now = opts.now ?? (() => new Date());
  }

  start(): void {
    if (this.targets.length === 0) return;
    this.timer = setInterval(() => this.poke(), this.opts.pollMs ?? 500);
    this.timer.unref();
    this.poke();
  }

  /** Runs one scan-and-send pass now unless one is running. */
  poke(): void {
    // No targets, nothing to deliver: no ledger scan, no cursor write (a durable commit)
    // on every approval event. The cursor starts "from now" once targets are configured.
    if (this.targets.length === 0 || this.running !== undefined) return;
    this.running = this.pass()
      .catch((err: unknown) => this.opts.log(`webhooks: ${(err as Error).message}`))
      .finally(() => {
        this.running = undefined;
      });
  }

  /** Stops; a delivery cut off mid-send stays pending and is sent after the next start. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.abort.abort();
    await this.running;
  }

  private async pass(): Promise<void> {
    await this.scan();
    const due = await this.store.webhookDeliveries({ due: this.now(), limit: SEND_BATCH });
    await Promise.all(due.map((d) => this.send(d)));
  }

  /** Turns ledger entries after the cursor into deliveries. */
  private async scan(): Promise<void> {
    const head = (await this.store.head()).seq;
    const cursor = await this.store.webhookCursor();
    // First run: events from now on, not the whole history.
    if (cursor === undefined) return this.store.enqueueWebhookDeliveries([], head);
    const last = Math.min(head, cursor + SCAN_BATCH);
    if (last <= cursor) return;
    const out: WebhookDelivery[] = [];
    for (let seq = cursor + 1; seq <= last; seq++) {
      const entry = await this.store.entryAt(seq);
      const event = entry === undefined ? undefined : eventOf(entry);
      if (event === undefined) continue;
      const payload = JSON.stringify(event);
      for (const t of this.targets) {
        if (!t.events.includes(event.type)) continue;
        out.push({
          id: deliveryId(seq, t.url),
          url: t.url,
          event: event.type,
          payload,
          createdAt: this.now(),
          status: 'pending',
          attempts: 0,
          nextAttemptAt: this.now(),
          lastStatus: undefined,
          lastError: undefined,
          deliveredAt: undefined,
        });
      }
    }
    await this.store.enqueueWebhookDeliveries(out, last);
  }

  private async send(d: WebhookDelivery): Promise<void> {
    const target = this.byUrl.get(d.url);
    const signer = this.signers.get(d.url);
    if (target === undefined || signer === undefined) {
      // The endpoint was removed from the config: give up on it, visibly.
      return this.store.recordWebhookAttempt(d.id, {
        at: this.now(),
        status: 'failed',
        httpStatus: undefined,
        error: 'endpoint no longer in the config',
      });
    }
    const sentAt = this.now();
    let httpStatus: number | undefined;
    let error: string | undefined;
    try {
      const res = await fetch(d.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'webhook-id': d.id,
          'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
          'webhook-signature': signer.sign(d.id, sentAt, d.payload),
          'user-agent': 'airlock-webhooks',
        },
        body: d.payload,
        redirect: 'manual',
        signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.opts.timeoutMs ?? 10_000)]),
      });
      httpStatus = res.status;
      await res.arrayBuffer().catch(() => undefined);
    } catch (err) {
      if (this.abort.signal.aborted) return; // stopping: stays pending, untouched
      error = (err as Error).message;
    }
    const at = this.now();
    if (httpStatus !== undefined && httpStatus >= 200 && httpStatus < 300) {
      return this.store.recordWebhookAttempt(d.id, { at, status: 'delivered', httpStatus, error: undefined });
    }
    const wait = target.retrySeconds[d.attempts];
    const why = error ?? `HTTP ${httpStatus}`;
    if (wait === undefined) {
      this.opts.log(
        `webhooks: giving up on ${d.id} (${d.event}) to ${d.url} after ${d.attempts + 1} attempts: ${why}`,
      );
      return this.store.recordWebhookAttempt(d.id, { at, status: 'failed', httpStatus, error });
    }
    await this.store.recordWebhookAttempt(d.id, {
      at,
      status: 'pending',
      httpStatus,
      error,
      nextAttemptAt: new Date(at.getTime() + wait * 1000),
    });
  }
}
