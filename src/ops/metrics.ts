/**
 * Prometheus metrics (prom-client) in Airlock's own registry, served by the API listener at
 * `/metrics`. Labels stay low-cardinality: front, service, operation, outcome, channel and
 * verdict; never an agent, approver, resource or id (those are in the log and the ledger).
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Seconds, from a cached-policy microsecond to a slow upstream. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Seconds a held request waits for its decision. */
const DECISION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 900, 1800, 3600, 4 * 3600, 24 * 3600];
const POLICY_BUCKETS = [0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.005, 0.01, 0.05];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];

export class Metrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'front' | 'service' | 'operation' | 'outcome'>;
  private readonly upstreamLatency: Histogram<'front' | 'service'>;
  private readonly upstreamErrors: Counter<'front' | 'service'>;
  private readonly decisions: Counter<'channel' | 'verdict'>;
  private readonly timeToDecision: Histogram<'state'>;
  private readonly grantUses: Counter<'front'>;
  private readonly grantsIssued: Counter;
  private readonly grantsRevoked: Counter;
  private readonly policyEval: Histogram;
  private readonly commitLatency: Histogram;
  private readonly commitBatch: Histogram;
  private readonly recordFailures: Counter<'kind'>;

  /** `pendingHolds`: read when scraped (the store's count of pending approvals). */
  constructor(opts: { pendingHolds?: () => Promise<number>; processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (opts.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'airlock_' });
    this.requests = new Counter({
      name: 'airlock_requests_total',
      help: 'Requests through a front, by how they ended',
      labelNames: ['front', 'service', 'operation', 'outcome'],
      registers,
    });
    this.upstreamLatency = new Histogram({
      name: 'airlock_upstream_latency_seconds',
      help: 'From receipt to the end of the upstream answer, for forwarded requests',
      labelNames: ['front', 'service'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.upstreamErrors = new Counter({
      name: 'airlock_upstream_errors_total',
      help: 'Forwarded requests that failed upstream (no answer, or a 5xx)',
      labelNames: ['front', 'service'],
      registers,
    });
    this.decisions = new Counter({
      name: 'airlock_decisions_total',
      help: 'Approver decisions recorded, by channel and verdict',
      labelNames: ['channel', 'verdict'],
      registers,
    });
    this.timeToDecision = new Histogram({
      name: 'airlock_time_to_decision_seconds',
      help: 'From a hold to the decision that settled it',
      labelNames: ['state'],
      buckets: DECISION_BUCKETS,
      registers,
    });
    this.grantUses = new Counter({
      name: 'airlock_grant_uses_total',
      help: 'Requests forwarded under a grant',
      labelNames: ['front'],
      registers,
    });
    this.grantsIssued = new Counter({
      name: 'airlock_grants_issued_total',
      help: 'Grants issued',
      registers,
    });
    this.grantsRevoked = new Counter({
      name: 'airlock_grants_revoked_total',
      help: 'Grants revoked',
      registers,
    });
    this.policyEval = new Histogram({
      name: 'airlock_policy_evaluation_seconds',
      help: 'Time to evaluate the policy for one request (memoized decisions included)',
      buckets: POLICY_BUCKETS,
      registers,
    });
    this.commitLatency = new Histogram({
      name: 'airlock_ledger_commit_seconds',
      help: 'Time to write one group-commit batch to the ledger',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.commitBatch = new Histogram({
      name: 'airlock_ledger_commit_batch_size',
      help: 'Ledger entries per group commit',
      buckets: BATCH_BUCKETS,
      registers,
    });
    this.recordFailures = new Counter({
      name: 'airlock_ledger_record_failures_total',
      help: 'Ledger writes that failed (intent: the request was refused)',
      labelNames: ['kind'],
      registers,
    });
    const pending = opts.pendingHolds;
    new Gauge({
      name: 'airlock_holds_pending',
      help: 'Approvals waiting for a decision',
      registers,
      async collect() {
        if (pending !== undefined) this.set(await pending().catch(() => Number.NaN));
      },
    });
  }

  request(r: {
    front: string;
    service: string;
    operation: string;
    outcome: string;
    grantId: string | undefined;
    forwarded: boolean;
    upstreamStatus: number | undefined;
    latencyMs: number;
  }): void {
    this.requests.inc({ front: r.front, service: r.service, operation: r.operation, outcome: r.outcome });
    if (!r.forwarded) return;
    if (r.grantId !== undefined) this.grantUses.inc({ front: r.front });
    this.upstreamLatency.observe({ front: r.front, service: r.service }, r.latencyMs / 1000);
    if (r.outcome === 'error' || (r.upstreamStatus ?? 0) >= 500)
      this.upstreamErrors.inc({ front: r.front, service: r.service });
  }

  decision(d: {
    channel: string;
    verdict: string;
    settled: 'approved' | 'denied' | 'pending';
    waitedMs: number;
    grant: boolean;
  }): void {
    this.decisions.inc({ channel: d.channel, verdict: d.verdict });
    if (d.settled !== 'pending') this.timeToDecision.observe({ state: d.settled }, d.waitedMs / 1000);
    if (d.grant) this.grantsIssued.inc();
  }

  grantRevoked(): void {
    this.grantsRevoked.inc();
  }

  policyEvaluated(ms: number): void {
    this.policyEval.observe(ms / 1000);
  }

  /** The group-commit hook (ledger/group-commit.ts `onCommit`). */
  ledgerCommit(batchSize: number, ms: number): void {
    this.commitBatch.observe(batchSize);
    this.commitLatency.observe(ms / 1000);
  }

  recordFailed(kind: 'intent' | 'outcome' | 'refusal'): void {
    this.recordFailures.inc({ kind });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
