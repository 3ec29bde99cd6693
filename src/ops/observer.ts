/**
 * What the operator sees of each event: one log line and its metrics, from named fields
 * only. A request's payload, SQL text, reason and summary, a decision's comment, keys,
 * tokens and passwords never reach this file's output (test/integration/ops-log.test.ts
 * greps a full session's log for every secret it used).
 */
import type { ActionRecord, ActionResult, Approval, DecisionRecord, Grant } from '../core/types.js';
import { type Logger, silentLogger } from './log.js';
import type { Metrics } from './metrics.js';

export interface DecidedEvent {
  readonly approval: Approval;
  readonly decision: DecisionRecord;
  readonly grant: Grant | undefined;
  readonly state: 'approved' | 'denied' | 'pending';
}

export class Observer {
  private readonly requests: Logger;
  private readonly decisions: Logger;
  private readonly grants: Logger;
  private readonly startup: Logger;

  constructor(
    readonly logger: Logger = silentLogger(),
    readonly metrics: Metrics | undefined = undefined,
  ) {
    this.requests = logger.child({ event: 'request' });
    this.decisions = logger.child({ event: 'decision' });
    this.grants = logger.child({ event: 'grant' });
    this.startup = logger.child({ event: 'startup' });
  }

  /**
   * One line per request, when it ends: a refusal (`result` absent) or a forwarded request
   * with its outcome.
   */
  request(a: ActionRecord, result?: ActionResult): void {
    const outcome = result?.outcome ?? a.outcome;
    const upstreamStatus = result?.upstreamStatus ?? a.upstreamStatus;
    const latencyMs = result?.latencyMs ?? a.latencyMs;
    const error = result?.error ?? a.error;
    const grantId = result?.grantId ?? a.grantId;
    const approvalId = result?.approvalId ?? a.approvalId;
    const fields = {
      requestId: a.requestId,
      front: a.front,
      agent: a.agent,
      service: a.service,
      operation: a.operation,
      actions: [...new Set(a.scopes.map((s) => s.action))],
      resources: [...new Set(a.scopes.map((s) => s.resource))],
      outcome,
      reasons: a.policyReasons,
      approvalId,
      grantId,
      upstreamStatus,
      latencyMs: Math.round(latencyMs * 100) / 100,
      ...(a.front !== 'postgres' || a.postgres === undefined ? {} : { session: a.postgres.session }),
      ...(result?.postgres?.sqlstate === undefined ? {} : { sqlstate: result.postgres.sqlstate }),
      ...(error === undefined ? {} : { error }),
    };
    const msg = `${a.front} ${a.operation} by ${a.agent}: ${outcome}`;
    if (outcome === 'error') this.requests.error(fields, msg);
    else if (outcome === 'denied' || outcome === 'lapsed') this.requests.warn(fields, msg);
    else this.requests.info(fields, msg);
    this.metrics?.request({
      front: a.front,
      service: a.service,
      operation: a.operation,
      outcome,
      grantId,
      forwarded: result !== undefined,
      upstreamStatus,
      latencyMs,
    });
  }

  /** The intent of a request could not be made durable; the front refuses it. */
  intentUnrecorded(a: ActionRecord, err: unknown): void {
    this.requests.error(
      {
        requestId: a.requestId,
        front: a.front,
        agent: a.agent,
        service: a.service,
        operation: a.operation,
        outcome: 'error',
        error: `not recorded: ${(err as Error).message}`,
      },
      `${a.front} ${a.operation} by ${a.agent}: refused, its intent could not be recorded`,
    );
    this.metrics?.recordFailed('intent');
    this.metrics?.request({
      front: a.front,
      service: a.service,
      operation: a.operation,
      outcome: 'unrecorded',
      grantId: undefined,
      forwarded: false,
      upstreamStatus: undefined,
      latencyMs: a.latencyMs,
    });
  }

  recordFailed(kind: 'outcome' | 'refusal', requestId: string, err: unknown): void {
    this.requests.error(
      { requestId, error: (err as Error).message },
      `ledger: could not record the ${kind} of ${requestId}`,
    );
    this.metrics?.recordFailed(kind);
  }

  decided(e: DecidedEvent): void {
    const { approval, decision, grant, state } = e;
    const waitedMs = decision.decidedAt.getTime() - approval.createdAt.getTime();
    this.decisions.info(
      {
        approvalId: approval.id,
        requestId: approval.requestId,
        agent: approval.agent,
        operation: approval.operation,
        resources: [...new Set(approval.scopes.map((s) => s.resource))],
        approver: decision.approver,
        verdict: decision.verdict,
        channel: decision.channel,
        state,
        reviewSeconds: decision.reviewSeconds,
        waitedSeconds: Math.round(waitedMs / 100) / 10,
        grantId: grant?.id,
      },
      `${approval.id}: ${decision.verdict} by ${decision.approver} via ${decision.channel} (${state})`,
    );
    if (grant !== undefined) {
      this.grants.info(
        {
          change: 'issued',
          grantId: grant.id,
          approvalId: grant.approvalId,
          agent: grant.agent,
          expiresAt: grant.expiresAt.toISOString(),
          maxUses: grant.maxUses,
        },
        `grant ${grant.id} issued to ${grant.agent} until ${grant.expiresAt.toISOString()}`,
      );
    }
    this.metrics?.decision({
      channel: decision.channel,
      verdict: decision.verdict,
      settled: state,
      waitedMs,
      grant: grant !== undefined,
    });
  }

  grantRevoked(grantId: string, by: string): void {
    this.grants.info({ change: 'revoked', grantId, by }, `grant ${grantId} revoked by ${by}`);
    this.metrics?.grantRevoked();
  }

  /** A startup check that found a problem: what is wrong and the fix. */
  startupProblem(check: string, problem: string, fix: string): void {
    this.startup.warn({ check, fix }, `${problem}; fix: ${fix}`);
  }
}
