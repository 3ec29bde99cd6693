/**
 * The periodic jobs of one Airlock process among several sharing a store (workers of
 * `serve --workers`, processes on one data_dir, replicas on PostgreSQL):
 *
 * - it holds the lease `process:ID` while it runs, so the store can tell its cancel keys
 *   from those of a process that is gone (kill -9) and sweep them;
 * - one process at a time (the `sweeper` lease) expires pending approvals past their TTL
 *   and sweeps stale coordination rows; the others learn of expiries by the store (the
 *   waiters poll it, PostgreSQL notifies), so Slack and webhooks hear of each expiry once;
 * - it takes the CancelRequests other processes marked for its Postgres sessions.
 *
 * A lease outlives a few missed ticks, so a slow tick does not hand the job over; a
 * process that stops renewing loses it after the TTL and another takes over.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Store } from '../ledger/store.js';

export interface CoordinatorHooks {
  /** Approvals this process moved to expired (wake local waiters, tell channels). */
  readonly expired: (ids: readonly string[]) => void;
  /** Postgres sessions of this process that another process was asked to cancel. */
  readonly cancelled: (pids: readonly number[]) => void;
  /** Whether this process holds any cancel keys (polls for forwarded cancels only then). */
  readonly holdsCancelKeys: () => boolean;
  readonly log: (line: string) => void;
}

const TICK_MS = 250;
const SWEEP_EVERY_MS = 1000;
const SWEEPER_TTL_MS = 5000;
const PROCESS_TTL_MS = 30_000;
const RENEW_PROCESS_EVERY_MS = 5000;
const COORDINATION_SWEEP_EVERY_MS = 60_000;

export class Coordinator {
  /** This process among those sharing the store: host, pid and a random part. */
  readonly id = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private lastSweep = 0;
  private lastRenew = Number.NEGATIVE_INFINITY;
  private lastCoordinationSweep = 0;

  constructor(
    private readonly store: Store,
    private readonly hooks: CoordinatorHooks,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Takes the process lease (so cancel keys published from here on are kept), then ticks. */
  async start(): Promise<void> {
    await this.renew();
    this.timer = setInterval(() => void this.tick(), TICK_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async tick(): Promise<void> {
    if (this.running) return; // a slow store: never pile ticks up
    this.running = true;
    try {
      const t = performance.now();
      if (t - this.lastRenew >= RENEW_PROCESS_EVERY_MS) await this.renew();
      if (this.hooks.holdsCancelKeys()) {
        const pids = await this.store.coordination.takeCancels(this.id);
        if (pids.length > 0) this.hooks.cancelled(pids);
      }
      if (t - this.lastSweep >= SWEEP_EVERY_MS) {
        this.lastSweep = t;
        await this.sweep(t);
      }
    } catch (err) {
      this.hooks.log(`coordination: ${(err as Error).message}`);
    } finally {
      this.running = false;
    }
  }

  private async renew(): Promise<void> {
    await this.store.coordination.tryLease(`process:${this.id}`, this.id, this.now(), PROCESS_TTL_MS);
    this.lastRenew = performance.now();
  }

  private async sweep(t: number): Promise<void> {
    if (!(await this.store.coordination.tryLease('sweeper', this.id, this.now(), SWEEPER_TTL_MS))) return;
    const ids = await this.store.expireApprovals(this.now());
    if (ids.length > 0) this.hooks.expired(ids);
    if (t - this.lastCoordinationSweep >= COORDINATION_SWEEP_EVERY_MS) {
      this.lastCoordinationSweep = t;
      await this.store.coordination.sweep(this.now());
    }
  }
}
